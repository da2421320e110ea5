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
 * and workspaces with the same topics share one entry). Bounded, oldest entry evicted first.
 */
export class TopicIndex {
  readonly #engine: Pick<InferenceEngine, 'embed'>;
  readonly #cache = new Map<string, Promise<TopicVectors>>();
  readonly #maxEntries: number;

  constructor(engine: Pick<InferenceEngine, 'embed'>, maxEntries = 1_000) {
    this.#engine = engine;
    this.#maxEntries = maxEntries;
  }

  vectorsFor(topics: Topic[]): Promise<TopicVectors> {
    if (topics.length === 0) return Promise.resolve(EMPTY);
    const key = JSON.stringify(topics.map((t) => [t.name, t.description]));
    let entry = this.#cache.get(key);
    if (!entry) {
      entry = this.#engine.embed(topics.map(topicText)).then((vectors) => ({
        names: topics.map((t) => t.name),
        vectors,
      }));
      // A failed embedding is not cached; the next batch tries again.
      entry.catch(() => this.#cache.delete(key));
      this.#cache.set(key, entry);
      if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return entry;
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
