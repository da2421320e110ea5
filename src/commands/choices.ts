import { ModerationModeSchema, ReplyModeSchema, SentimentTagsSchema } from '../domain/settings.ts';

export const MODERATION_MODES = ModerationModeSchema.options;
export const REPLY_MODES = ReplyModeSchema.options;
export const SENTIMENT_TAG_MODES = SentimentTagsSchema.options;
