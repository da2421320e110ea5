import type { Action } from '../src/domain/action.ts';
import type { Platform } from '../src/domain/message.ts';

/** A platform connection: turns platform events into inbound jobs and performs outbound actions. */
export interface ChatAdapter {
  readonly platform: Platform;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Performs one action on the platform (called by the outbound consumer). */
  perform(action: Action): Promise<void>;
}
