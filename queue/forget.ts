import { inboundJobId, type MessageRef, type Platform } from '../src/domain/message.ts';
import type { InboundJobData } from './jobs.ts';

/** The member forget-me is for. */
export interface ForgetMember {
  platform: Platform;
  workspaceId: string;
  userId: string;
}

type Loose = Record<string, unknown> | null | undefined;

/**
 * Forget-me's rules for finished jobs, one set for both drivers. An inbound job is the member's when they wrote
 * the message; an outbound action is theirs when it acts on one of those messages (tag, reply, alert, hide) or
 * names them (an alert on their message, a timeout or warning of them). What replaces a job's data keeps only
 * the message reference, so the job id still recognises a redelivered event and the action's idempotency holds.
 * Feed every inbound job before the first outbound one: replies are matched through the messages seen.
 */
export class JobScrubber {
  readonly #member: ForgetMember;
  readonly #messages = new Set<string>();

  constructor(member: ForgetMember) {
    this.#member = member;
  }

  /** The scrubbed data for an inbound job of the member's, or null when it is someone else's (or done already). */
  inbound(data: unknown): InboundJobData | null {
    const job = data as Partial<InboundJobData> | null;
    const payload = job?.payload as Loose;
    if (!payload || payload.forgotten === true) return null;
    const { platform, workspaceId, userId } = this.#member;
    const author = payload.author as Loose;
    // A reaction job holds the reacted message's text: it is the reactor's and the message author's.
    const reaction = payload.reaction as Loose;
    const mine =
      payload.platform === platform &&
      payload.workspaceId === workspaceId &&
      (author?.id === userId || reaction?.authorId === userId);
    // A payload too large to store whole is kept as a preview of its JSON (queue/jobs.ts).
    const preview = payload.truncated === true && typeof payload.preview === 'string' ? payload.preview : '';
    const inPreview =
      preview.includes(JSON.stringify(userId)) && preview.includes(JSON.stringify(workspaceId));
    if (!mine && !inPreview) return null;
    const ref = refOf(payload);
    // Actions on the message are the member's when they wrote it, not when they only reacted to it.
    const wrote = reaction ? reaction.authorId === userId : mine;
    if (ref && wrote) this.#messages.add(inboundJobId(ref));
    return { payload: { ...ref, forgotten: true }, nonce: String(job?.nonce ?? '') };
  }

  /** The scrubbed data for an outbound action on the member's messages or naming them, or null. */
  outbound(data: unknown): Record<string, unknown> | null {
    const action = data as Loose;
    if (!action || action.forgotten === true) return null;
    const { platform, workspaceId, userId } = this.#member;
    const target = refOf(action.target as Loose);
    if (!target || target.platform !== platform || target.workspaceId !== workspaceId) return null;
    const author = action.author as Loose;
    const mine =
      this.#messages.has(inboundJobId(target)) ||
      (action.kind === 'alert' && author?.id === userId) ||
      ((action.kind === 'timeout' || action.kind === 'warn') && action.userId === userId);
    return mine ? { kind: action.kind, key: action.key, target, forgotten: true } : null;
  }
}

function refOf(value: Loose): MessageRef | null {
  if (!value) return null;
  const { platform, workspaceId, channelId, messageId, threadId } = value;
  if (typeof workspaceId !== 'string' || typeof channelId !== 'string' || typeof messageId !== 'string')
    return null;
  const ref: MessageRef = { platform: platform as Platform, workspaceId, channelId, messageId };
  if (typeof threadId === 'string') ref.threadId = threadId;
  return ref;
}
