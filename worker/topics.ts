import { LRUCache } from 'lru-cache';
import { dot } from '../src/domain/vector.ts';
import type { TopicMatch } from '../src/domain/analysis.ts';
import type { Topic } from '../src/domain/settings.ts';
import type { InferenceEngine } from '../src/engine.ts';

/** A workspace's topics with their embeddings, in settings order. */
export interface TopicVectors {
  names: string[];
  vectors: Float32Array[];
}

const EMPTY: TopicVectors = Object.freeze({ names: [], vectors: [] }) as TopicVectors;

/** The text embedded for a topic: the name carries as much meaning as the description. */
export function topicText(topic: Topic): string {
  return `${topic.name}: ${topic.description}`;
}

/**
 * Topic embeddings, cached by the topics' content (so a settings change re-embeds only when the topics changed,
 * and workspaces with the same topics share one entry). Bounded (lru-cache), least recently used evicted first;
 * content-keyed entries never go stale, so there is no TTL.
 */
export class TopicIndex {
  readonly #cache: LRUCache<string, TopicVectors, Topic[]>;

  constructor(engine: Pick<InferenceEngine, 'embed'>, maxEntries = 1_000) {
    this.#cache = new LRUCache<string, TopicVectors, Topic[]>({
      max: maxEntries,
      // Concurrent batches asking for the same topics share one embedding call; a failed one is not cached, so
      // the next batch tries again.
      fetchMethod: async (_key, _stale, { context: topics }) => ({
        names: topics.map((t) => t.name),
        vectors: await engine.embed(topics.map(topicText)),
      }),
    });
  }

  async vectorsFor(topics: Topic[]): Promise<TopicVectors> {
    if (topics.length === 0) return EMPTY;
    const key = JSON.stringify(topics.map((t) => [t.name, t.description]));
    const vectors = await this.#cache.fetch(key, { context: topics });
    // The fetch method either resolves to vectors or rejects (the rejection reaches the caller).
    if (vectors === undefined) throw new Error('topic embeddings were not computed');
    return vectors;
  }
}

/** Topics whose cosine similarity to the (L2-normalised) message embedding reaches the threshold, best first. */
export function matchTopics(embedding: Float32Array, topics: TopicVectors, threshold: number): TopicMatch[] {
  const matches: TopicMatch[] = [];
  topics.vectors.forEach((vector, i) => {
    const score = dot(embedding, vector);
    if (score >= threshold) matches.push({ topic: topics.names[i]!, score });
  });
  return matches.sort((a, b) => b.score - a.score);
}
