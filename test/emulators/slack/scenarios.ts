import { expect } from 'vitest';
import type { FlagRecord } from '../../../src/store/types.ts';
import { CHANNELS, pickText, type SlackHarness, USERS } from './harness.ts';
import type { RecordedCall } from './server.ts';

/** Texts one of which any reasonable moderation model flags; which one is decided by scoring them. */
export const TOXIC_CANDIDATES = [
  'you are an idiot and nobody here wants you around',
  'shut up you stupid worthless loser',
  'what a pathetic moron, go away and never come back',
  'I hate you and I hope you get hurt',
];

/** Posts a message the loaded engine flags (thresholds lowered for this workspace if needed) and waits for its alert. */
export async function postFlagged(
  h: SlackHarness,
): Promise<{ ts: string; alert: RecordedCall; flag: FlagRecord }> {
  const pick = await pickText(h.stack.engine!, TOXIC_CANDIDATES, 'flagged');
  await h.stack.store.updateSettings('slack', h.teamId, (s) => ({ ...s, thresholds: pick.thresholds }));
  await new Promise((r) => setTimeout(r, 300)); // the worker's settings cache lives 200 ms
  const { message, event } = h.sender.say({ channel: CHANNELS.general, user: USERS.member, text: pick.text });
  expect((await h.sender.event(event)).status).toBe(200);
  const alert = await h.emulator.waitFor(
    () =>
      h.emulator
        .okCalls('chat.postMessage')
        .find((c) => c.params.channel === CHANNELS.mods && c.params.blocks),
    60_000,
    'a moderator alert',
  );
  const flags = await h.stack.store.listFlags('slack', h.teamId);
  const flag = flags.find((f) => f.messageId === message.ts)!;
  expect(flag).toBeDefined();
  return { ts: message.ts, alert, flag };
}

/** The blocks of a recorded call (form bodies carry them as a JSON string). */
export function blocksOf(call: RecordedCall): Array<Record<string, unknown>> {
  const raw = call.params.blocks;
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<Record<string, unknown>>;
}
