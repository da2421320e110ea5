import { flagIdOf } from '../../src/domain/decide.ts';
import type { InboundMessage } from '../../src/domain/message.ts';
import { mostlyLatin } from '../../src/domain/profile.ts';
import type { WorkspaceSettings } from '../../src/domain/settings.ts';
import type { Store } from '../../src/store/types.ts';
import type { RecommendAnswer, Recommender } from './service.ts';

// Note for the library owner (issue 10): src/worker/pipeline.ts calls this once per message, before the grounded
// reply; when it returns an answer, that answer is the reply (its items as the reply's sources).

/**
 * The pipeline's one call into recommendation, per message after its tags and alerts are queued: fold the
 * message into its author's profile (not flagged ones: an insult says nothing about interests), then, when the
 * message asks for a recommendation and Steward would reply to it, the answer's text (null otherwise).
 * `replying`: the message is addressed to Steward or its decision asks for a reply.
 */
export async function recommendStep(
  recommender: Recommender,
  message: InboundMessage,
  outcome: { embedding: Float32Array; flagged: boolean; replying: boolean; language?: string },
  settings: WorkspaceSettings,
): Promise<RecommendAnswer | null> {
  // The bundled moderation model reads English only; its flags on other scripts are noise (it flags most
  // Chinese text), so they do not stop a recommendation. Moderators still get the alert.
  if (outcome.flagged && mostlyLatin(message.text)) return null;
  await recommender.observe(message, outcome.embedding, settings);
  if (!mayRecommend(settings, outcome.replying)) return null;
  return recommender.answer(message, outcome.embedding, outcome.language);
}

/**
 * Whether a message may get a recommendation as its reply: addressed (or on a topic) as any reply; in `topics`
 * mode a plain "where should I go on holiday?" counts too. For the others recommendStep only updates the profile.
 */
export function mayRecommend(settings: WorkspaceSettings, replying: boolean): boolean {
  return settings.replyMode !== 'off' && (replying || settings.replyMode === 'topics');
}

/**
 * A member's reaction to a message (InboundMessage.reaction): the reacted message's embedding goes into the
 * reactor's profile, unless that message was flagged (reacting to an insult says nothing about interests) or the
 * reactor opted out (the store refuses the write). Returns whether the profile was updated.
 */
export async function reactionStep(
  recommender: Recommender,
  message: InboundMessage,
  deps: { embed: (texts: string[]) => Promise<Float32Array[]>; store: Pick<Store, 'getFlag'> },
  settings: WorkspaceSettings,
): Promise<boolean> {
  if (await deps.store.getFlag(flagIdOf(message))) return false;
  const [embedding] = await deps.embed([message.text]);
  return (await recommender.observe(message, embedding!, settings)) !== null;
}
