export { type Community, joinCommunity, seedCommunity } from './community.ts';
export { click, type SayInput, type SlashInput, say, slash } from './events.ts';
export type { FaultRule } from './faults.ts';
export type { InteractionRecord } from './interactions.ts';
export { DiscordEmulator, type DiscordEmulatorOptions, type RecordedRequest } from './server.ts';
export type { EmuUser, RawMessage } from './state.ts';
