import { z } from 'zod';

export const LIBRARY_KINDS = ['faq', 'resource', 'channel', 'event'] as const;
export const LibraryKindSchema = z.enum(LIBRARY_KINDS);
export type LibraryKind = z.infer<typeof LibraryKindSchema>;

/** Longest item text kept; retrieval and the reply model read far less, the rest is for people. */
export const MAX_ITEM_TEXT = 4_000;

/** One entry of a workspace's community library: a FAQ answer, a resource, a channel or an event. */
export const LibraryItemSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\p{L}\p{N}._:/-]+$/u, 'letters, digits and . _ : / - only'),
  title: z.string().trim().min(1).max(200),
  text: z.string().trim().min(1).max(MAX_ITEM_TEXT),
  url: z.string().url().max(500).optional(),
  topic: z.string().trim().min(1).max(50).optional(),
  kind: LibraryKindSchema.default('faq'),
});
export type LibraryItem = z.infer<typeof LibraryItemSchema>;

/** A library item cited by a reply (what `analyze --json --reply` prints under "sources"). */
export interface LibrarySource {
  id: string;
  title: string;
  url?: string;
  /** Hybrid relevance score of the item for the request, 0..1. */
  score?: number;
}

/** One retrieval hit: the item and how relevant it is (hybrid of lexical and embedding scores, 0..1). */
export interface LibraryHit {
  item: LibraryItem;
  score: number;
  /** The two parts of the score, for explanations and calibration. */
  lexical: number;
  semantic: number;
}

/** The source cited for a hit: id, title and url when the item has one. */
export function sourceOf(hit: LibraryHit): LibrarySource {
  const { id, title, url } = hit.item;
  return { id, title, ...(url !== undefined ? { url } : {}), score: Math.round(hit.score * 1000) / 1000 };
}

/** A stable id from a title, for items imported without one ("Code of conduct" → "code-of-conduct"). */
export function slugId(title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug === '' ? 'item' : slug;
}
