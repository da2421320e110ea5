import { z } from 'zod';
import { RuleSchema } from './rules.ts';

export const ReplyModeSchema = z.enum(['off', 'mention', 'topics']);
export const SentimentTagsSchema = z.enum(['off', 'strong', 'all']);
export const ModerationModeSchema = z.enum(['suggest', 'auto-hide']);

export const TopicSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(50)
    .regex(/^[\p{L}\p{N}_-]+$/u, 'letters, digits, - and _ only'),
  description: z.string().min(1).max(500),
});
export type Topic = z.infer<typeof TopicSchema>;

/** Per-workspace behaviour, written by admins' slash commands and read (cached) by workers. */
export const WorkspaceSettingsSchema = z.object({
  topics: z.array(TopicSchema).max(50).default([]),
  moderationChannelId: z.string().nullable().default(null),
  /** Per-label overrides of the model's default thresholds, 0..1. */
  thresholds: z.record(z.string(), z.number().min(0).max(1)).default({}),
  moderationMode: ModerationModeSchema.default('suggest'),
  replyMode: ReplyModeSchema.default('mention'),
  sentimentTags: SentimentTagsSchema.default('off'),
  exemptChannels: z.array(z.string()).default([]),
  exemptRoles: z.array(z.string()).default([]),
  /** The workspace's own moderation rules (phrases and patterns with a label), beside the built-in ones. */
  rules: z.array(RuleSchema).max(200).default([]),
  /** Built-in rules this workspace switched off, by id. */
  disabledRules: z.array(z.string()).default([]),
  /** Bumped on every change so caches can tell stale copies apart. */
  version: z.number().int().nonnegative().default(0),
});
export type WorkspaceSettings = z.infer<typeof WorkspaceSettingsSchema>;
export type ReplyMode = z.infer<typeof ReplyModeSchema>;
export type SentimentTags = z.infer<typeof SentimentTagsSchema>;
export type ModerationMode = z.infer<typeof ModerationModeSchema>;

export function defaultSettings(overrides: Partial<WorkspaceSettings> = {}): WorkspaceSettings {
  return WorkspaceSettingsSchema.parse(overrides);
}
