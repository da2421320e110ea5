export { ApiError, METHODS, SLACK_TEXT_LIMIT } from './methods.ts';
export {
  type Fault,
  type RecordedCall,
  type RecordedResponse,
  SlackEmulator,
  type SlackEmulatorOptions,
} from './server.ts';
export {
  type CommandInput,
  commandFields,
  eventEnvelope,
  type SendOptions,
  type SentResponse,
  SignedSender,
  type Signing,
  slackSignature,
} from './signed.ts';
export { type EmuChannel, type EmuMessage, type EmuUser, SlackWorkspace } from './state.ts';
export { type SocketAck, SocketModeEndpoint } from './socket.ts';
