import type { LibraryItem } from '../../src/domain/library.ts';
import type { InboundMessage, Platform } from '../../src/domain/message.ts';
import {
  contentWords,
  foldMessage,
  halfLifeMs,
  type InterestProfile,
  mostlyLatin,
  type Recommendation,
} from '../../src/domain/profile.ts';
import type { WorkspaceSettings } from '../../src/domain/settings.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { sentences } from '../library/terms.ts';
import { Catalog } from './catalog.ts';
import { isRecommendationRequest } from './intent.ts';
import { explain, recommend } from './rank.ts';

/** Embeds texts with the signals model (InferenceEngine.embed): L2-normalised, in input order. */
export type Embed = (texts: string[]) => Promise<Float32Array[]>;

export interface RecommenderOptions {
  /** How long a workspace's catalog is used before the store's library version is checked again. */
  checkMs: number;
  /**
   * A member's stored recommendations (what `/steward recommend` shows) are recomputed at most this often, except
   * in libraries of up to `refreshAlwaysBelow` items, where that is cheap enough to do on every message.
   */
  refreshMs: number;
  refreshAlwaysBelow: number;
  /** Library items and channels kept per member. */
  items: number;
  channels: number;
  /** A chat answer needs a matched request word, or at least this score. */
  answerFloor: number;
  /** How often the retention limit is applied to a workspace this worker sees. */
  retentionSweepMs: number;
}

export const DefaultRecommenderOptions = Object.freeze({
  checkMs: 1_000,
  refreshMs: 60_000,
  refreshAlwaysBelow: 1_000,
  items: 3,
  channels: 2,
  answerFloor: 0.45,
  retentionSweepMs: 10 * 60_000,
}) satisfies Readonly<RecommenderOptions>;

type MemberStoreView = Pick<
  Store,
  'getProfile' | 'putProfile' | 'applyRetention' | 'listLibrary' | 'libraryVersion'
>;

interface CatalogEntry {
  catalog: Catalog;
  version: number;
  checkedAt: number;
  pending: Promise<Catalog> | null;
}

/** A recommendation answer to a chat request, with the items it drew on. */
export interface RecommendAnswer {
  text: string;
  recommendations: Recommendation[];
}

/**
 * The worker side of issue 11: folds each message into its author's profile (unless they opted out, which the
 * store enforces), keeps the member's current recommendations in the profile for `/steward recommend`, answers
 * chat requests for a recommendation from the library using the request and the profile, and applies the
 * workspace's retention limit.
 */
export class Recommender {
  readonly #store: MemberStoreView;
  readonly #embed: Embed;
  readonly #log: Logger | undefined;
  readonly #o: RecommenderOptions;
  readonly #catalogs = new Map<string, CatalogEntry>();
  /** Per member, the tail of their profile updates: one at a time, so none is lost to a concurrent one. */
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #swept = new Map<string, number>();
  /** Milliseconds spent per profile update (the store round trips included), for the benchmark and status. */
  readonly updateMs: number[] = [];

  constructor(
    deps: { store: MemberStoreView; embed: Embed; logger?: Logger },
    options: Partial<RecommenderOptions> = {},
  ) {
    this.#store = deps.store;
    this.#embed = deps.embed;
    this.#log = deps.logger;
    this.#o = { ...DefaultRecommenderOptions, ...options };
  }

  /** The workspace's library as a catalog, rebuilt when the store's library version moved. */
  async catalog(platform: Platform, workspaceId: string, now = Date.now()): Promise<Catalog> {
    const key = `${platform}:${workspaceId}`;
    let entry = this.#catalogs.get(key);
    if (!entry) {
      entry = { catalog: new Catalog([], []), version: -1, checkedAt: 0, pending: null };
      this.#catalogs.set(key, entry);
    }
    if (entry.pending) return entry.pending;
    if (now - entry.checkedAt < this.#o.checkMs) return entry.catalog;
    const current = entry;
    current.pending = (async () => {
      const version = await this.#store.libraryVersion(platform, workspaceId);
      if (version !== current.version) {
        const items = await this.#store.listLibrary(platform, workspaceId);
        current.catalog = await this.#buildFrom(items, current.catalog);
        current.version = version;
      }
      current.checkedAt = Date.now();
      return current.catalog;
    })().finally(() => {
      current.pending = null;
    });
    return current.pending;
  }

  /** Re-embeds only new or changed items; unchanged ones keep their vectors. */
  async #buildFrom(items: LibraryItem[], previous: Catalog): Promise<Catalog> {
    const known = new Map<string, Float32Array>();
    for (let i = 0; i < previous.size; i++) {
      known.set(JSON.stringify(previous.items[i]), Float32Array.from(previous.vectors[i]!));
    }
    const missing = items.filter((item) => !known.has(JSON.stringify(item)));
    if (missing.length > 0) {
      const fresh = await Catalog.build(missing, this.#embed);
      for (let i = 0; i < missing.length; i++) {
        known.set(JSON.stringify(missing[i]), Float32Array.from(fresh.vectors[i]!));
      }
    }
    return new Catalog(
      items,
      items.map((item) => known.get(JSON.stringify(item))!),
    );
  }

  /**
   * Folds a message into its author's profile (a reaction job: the reacted message into the reactor's, with a
   * smaller weight). Returns the new profile, or null when nothing was stored (the member opted out, or the
   * message says nothing: no content words).
   */
  observe(
    message: InboundMessage,
    embedding: Float32Array,
    settings: WorkspaceSettings,
  ): Promise<InterestProfile | null> {
    const { platform, workspaceId } = message;
    const userId = message.author.id;
    const words = contentWords(message.text);
    if (words.length === 0 || message.author.isBot) return Promise.resolve(null);
    const key = `${platform}:${workspaceId}:${userId}`;
    const run = (this.#chains.get(key) ?? Promise.resolve()).then(async () => {
      const started = performance.now();
      const retention = settings.retentionDays ?? null;
      let current = await this.#store.getProfile(platform, workspaceId, userId);
      // A profile idle for longer than the retention limit starts again (the sweep may not have run yet).
      if (current && retention !== null && current.updatedAt < message.timestamp - retention * 86_400_000)
        current = null;
      const next = foldMessage(
        current,
        { platform, workspaceId, userId },
        embedding,
        words,
        message.timestamp,
        halfLifeMs(retention),
        message.reaction ? 'reaction' : 'message',
      );
      const catalog = await this.catalog(platform, workspaceId);
      const due =
        !next.recommendations ||
        catalog.size <= this.#o.refreshAlwaysBelow ||
        Date.now() - next.recommendations.at >= this.#o.refreshMs;
      if (due && catalog.size > 0) {
        next.recommendations = { at: Date.now(), items: this.forProfile(catalog, next) };
      }
      const stored = await this.#store.putProfile(next);
      this.#note(performance.now() - started);
      if (retention !== null) this.#sweep(platform, workspaceId, retention);
      return stored ? next : null;
    });
    const tail = run.catch(() => {});
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    return run;
  }

  /** The items and channels for a profile alone (what `/steward recommend` shows). */
  forProfile(catalog: Catalog, profile: InterestProfile): Recommendation[] {
    const kinds = [...new Set(catalog.items.map((i) => i.kind))];
    const input = { profile };
    return [
      ...recommend(catalog, input, { limit: this.#o.items, kinds: kinds.filter((k) => k !== 'channel') }),
      ...recommend(catalog, input, { limit: this.#o.channels, kinds: ['channel'] }),
    ];
  }

  /**
   * Answers a chat request for a recommendation ("where should I go on holiday?") from the library, using the
   * request and the member's profile; null when the message is not such a request or nothing fits.
   */
  async answer(message: InboundMessage, embedding: Float32Array, language?: string): Promise<RecommendAnswer | null> {
    if (!isRecommendationRequest(message.text)) return null;
    const catalog = await this.catalog(message.platform, message.workspaceId);
    if (catalog.size === 0) return null;
    const profile = await this.#store.getProfile(message.platform, message.workspaceId, message.author.id);
    const input = {
      profile,
      request: requestOf(message.text, embedding),
    };
    // A place, a resource or an event is the answer; the best channel is mentioned beside it.
    const kinds = [...new Set(catalog.items.map((i) => i.kind))].filter((k) => k !== 'channel');
    const recommendations = recommend(catalog, input, kinds.length > 0 ? { kinds } : {});
    const best = recommendations[0];
    if (!best || (best.matched.request.length === 0 && best.score < this.#o.answerFloor)) return null;
    const item = catalog.items.find((i) => i.id === best.id)!;
    const channel =
      kinds.length > 0 ? recommend(catalog, input, { kinds: ['channel'], limit: 1 })[0] : undefined;
    const useful = channel && channel.score >= best.score / 2 ? channel : undefined;
    return {
      text: answerText(item, recommendations, useful, language),
      recommendations: useful ? [...recommendations, useful] : recommendations,
    };
  }

  #note(ms: number): void {
    if (this.updateMs.length >= 10_000) this.updateMs.shift();
    this.updateMs.push(ms);
  }

  #sweep(platform: Platform, workspaceId: string, retentionDays: number): void {
    const key = `${platform}:${workspaceId}`;
    const now = Date.now();
    if (now - (this.#swept.get(key) ?? 0) < this.#o.retentionSweepMs) return;
    this.#swept.set(key, now);
    this.#store.applyRetention(platform, workspaceId, now - retentionDays * 86_400_000).then(
      (result) => this.#log?.debug({ platform, workspaceId, ...result }, 'retention applied'),
      (error: unknown) => this.#log?.warn({ err: error, platform, workspaceId }, 'retention sweep failed'),
    );
  }
}

/**
 * A request as the ranking reads it. The bundled signals model reads Chinese for moderation and sentiment, but its
 * embedding head learned topics from English requests only (clinc150), so the embedding of a mostly non-Latin
 * request is left out and its words carry it: Chinese character pairs meet the Chinese keywords that admins write
 * into library items.
 */
export function requestOf(text: string, embedding: ArrayLike<number> | null) {
  return { words: contentWords(text), embedding: embedding && mostlyLatin(text) ? embedding : null };
}

/**
 * "How about *Thailand*? Beaches, … (why: you asked about scenery, food.) Also: Japan, Italy." — in Chinese for a
 * request in Chinese: "推荐你看看 *泰国*：… （理由：你问到了风景、美食。）另外还有：日本、意大利。"
 */
export function answerText(
  item: LibraryItem,
  recommendations: Recommendation[],
  channel?: Recommendation,
  language?: string,
): string {
  // The first sentence, without the admin's keyword list (it is for matching, not for reading).
  const body = item.text.split(/\s*(?:关键词|keywords)\s*[:：]/iu)[0]!.trim();
  const first = sentences(body)[0] ?? body;
  const link = item.url ? ` ${item.url}` : '';
  const others = recommendations.slice(1).map((r) => r.title);
  if (language === 'zh') {
    const why = explain(recommendations[0]!.matched, 'zh');
    const also = others.length > 0 ? `另外还有：${others.join('、')}。` : '';
    const see = channel ? `可以在 ${channel.title} 里聊聊。` : '';
    return `推荐你看看 *${item.title}*：${first}${link}（理由：${why}。）${also}${see}`;
  }
  const also = others.length > 0 ? ` Also: ${others.join(', ')}.` : '';
  const see = channel ? ` Talk about it in ${channel.title}.` : '';
  return `How about *${item.title}*? ${first}${link} (why: ${recommendations[0]!.why}.)${also}${see}`;
}
