import { z } from 'zod';

/** Platforms Steward speaks to; `local` is the terminal chat of the embedded mode. */
export const PlatformSchema = z.enum(['discord', 'slack', 'local']);
export type Platform = z.infer<typeof PlatformSchema>;

/** Longest text a message may carry (Slack allows 40,000 characters); longer ones are rejected, not cut. */
export const MAX_TEXT_LENGTH = 40_000;

const Id = z.string().min(1).max(200);

/**
 * Text no longer than `max`: when it is longer, its head and its tail with a marker between them. Adapters use it
 * where their own rendering (mention expansion) could grow a message past the cap: an oversized message is then
 * still moderated on what it starts and ends with, instead of failing unread.
 */
export function boundText(text: string, max: number = MAX_TEXT_LENGTH): string {
  if (text.length <= max) return text;
  const gap = ' … ';
  let head = Math.floor((max - gap.length) / 2);
  let tail = max - gap.length - head;
  // Do not cut an emoji (a surrogate pair) in half at either edge.
  if (isHighSurrogate(text.charCodeAt(head - 1))) head -= 1;
  if (isLowSurrogate(text.charCodeAt(text.length - tail))) tail -= 1;
  return `${text.slice(0, head)}${gap}${text.slice(text.length - tail)}`;
}

// Control characters other than tab and line breaks: text typed by people never holds them; binary data does.
const BINARY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Why a text typed into Steward directly (local chat, `analyze`) cannot be a message, or null when it can: too
 * long, control characters, or U+FFFD (invalid UTF-8 decoded by a stream) — binary data, not words.
 */
export function textProblem(text: string): string | null {
  if (text.length > MAX_TEXT_LENGTH) return `message is longer than ${MAX_TEXT_LENGTH} characters`;
  if (BINARY.test(text)) return 'line holds control characters (binary data?)';
  if (text.includes('\ufffd')) return 'line is not valid UTF-8 (binary data?)';
  return null;
}

// C0/C1 controls, bidirectional overrides, isolates and marks: they reorder or hide what a terminal shows.
const UNREADABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text safe to print to a terminal: controls and right-to-left overrides become U+FFFD, visibly. */
export function readableText(text: string): string {
  return text.replace(UNREADABLE, '\ufffd');
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** One earlier message of the reply chain, oldest first. */
export const ContextTurnSchema = z.object({
  authorId: Id,
  authorName: z.string().max(200).optional(),
  text: z.string().max(MAX_TEXT_LENGTH),
  fromBot: z.boolean(),
});
export type ContextTurn = z.infer<typeof ContextTurnSchema>;

export const AuthorSchema = z.object({
  id: Id,
  name: z.string().max(200),
  roles: z.array(Id).max(500).default([]),
  isBot: z.boolean().default(false),
});
export type Author = z.infer<typeof AuthorSchema>;

/** A platform message, normalised by an adapter; the payload of an inbound job. */
export const InboundMessageSchema = z.object({
  platform: PlatformSchema,
  workspaceId: Id,
  channelId: Id,
  threadId: Id.optional(),
  messageId: Id,
  author: AuthorSchema,
  text: z.string().max(MAX_TEXT_LENGTH),
  mentionsBot: z.boolean(),
  /** Milliseconds since the epoch, as the platform stamped the message. */
  timestamp: z.number().int().nonnegative(),
  context: z.array(ContextTurnSchema).max(20).default([]),
  /** Set by the adapter when the message is a direct message to the bot. */
  direct: z.boolean().default(false),
  /**
   * Set when the job is a member's reaction to a message rather than a message: `author` is who reacted, `text`
   * the reacted message's text and `messageId` its id; `authorId` is who wrote it. A reaction only feeds the
   * reactor's interest profile: no moderation, no tags, no reply.
   */
  reaction: z.object({ emoji: z.string().min(1).max(200), authorId: Id }).optional(),
});
export type InboundMessage = z.infer<typeof InboundMessageSchema>;
export type InboundMessageInput = z.input<typeof InboundMessageSchema>;

/** Where an action applies: one message on one platform. */
export interface MessageRef {
  platform: Platform;
  workspaceId: string;
  channelId: string;
  threadId?: string | undefined;
  messageId: string;
}

export function refOf(message: InboundMessage): MessageRef {
  return {
    platform: message.platform,
    workspaceId: message.workspaceId,
    channelId: message.channelId,
    threadId: message.threadId,
    messageId: message.messageId,
  };
}

/** Job id of an inbound message: a redelivered platform event maps to the same job. */
export function inboundJobId(ref: MessageRef): string {
  // Readable domain id; the BullMQ driver encodes it (queue/bullmq-ids.ts) because BullMQ rejects most ids with ":".
  return [ref.platform, ref.workspaceId, ref.channelId, ref.messageId].map(idPart).join(':');
}

/** The inbound job id of a message, or of one member's reaction to it (one job per member and emoji). */
export function inboundJobIdOf(message: InboundMessageInput): string {
  const base = inboundJobId(message);
  if (!message.reaction) return base;
  return `${base}:reaction:${idPart(message.author.id)}:${idPart(message.reaction.emoji)}`;
}

const idPart = (s: string) => s.replaceAll('%', '%25').replaceAll(':', '%3A');
