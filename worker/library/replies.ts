import type { LibrarySource } from '../../src/domain/library.ts';
import type { Platform } from '../../src/domain/message.ts';
import type { ReplyRequest } from '../../src/engine.ts';
import {
  DefaultGroundingOptions,
  type FinishedReply,
  finishReply,
  type GroundingOptions,
  planReply,
  type ReplyPlan,
} from './answer.ts';
import type { Embed, LibraryIndexes } from './sync.ts';

/** One reply to write: the request, where it comes from, why, and the message's embedding when known. */
export interface ReplyJob {
  platform: Platform;
  workspaceId: string;
  request: ReplyRequest;
  reason: 'mention' | 'topic' | 'direct';
  embedding?: Float32Array;
}

/** A finished reply with the plan behind it (for explanations). */
export interface GroundedReply extends FinishedReply {
  kind: ReplyPlan['kind'];
  sources: LibrarySource[];
}

/** Generates replies (the engine's reply call with empty replies as null), in input order. */
export type Generate = (requests: ReplyRequest[]) => Promise<Array<string | null>>;

/**
 * Replies grounded in the workspace's library: retrieve (hybrid index, kept in sync with the store), plan
 * (answer from an item / say "I don't know" / chat), generate in one batch what needs generating, finish
 * (keep the model's answer only when the source supports it; cite the source).
 */
export class GroundedReplies {
  readonly #indexes: LibraryIndexes;
  readonly #embed: Embed;
  readonly #generate: Generate;
  readonly #options: GroundingOptions;

  constructor(
    indexes: LibraryIndexes,
    embed: Embed,
    generate: Generate,
    options: Partial<GroundingOptions> = {},
  ) {
    this.#indexes = indexes;
    this.#embed = embed;
    this.#generate = generate;
    this.#options = { ...DefaultGroundingOptions, ...options };
  }

  /** The plan for each job (retrieval only; nothing generated). */
  async plan(jobs: ReplyJob[]): Promise<ReplyPlan[]> {
    const missing = jobs.flatMap((job, i) => (job.embedding ? [] : [i]));
    const embedded = missing.length > 0 ? await this.#embed(missing.map((i) => jobs[i]!.request.text)) : [];
    const embeddings = jobs.map((job) => job.embedding);
    missing.forEach((i, k) => {
      embeddings[i] = embedded[k];
    });
    return Promise.all(
      jobs.map(async (job, i) => {
        const hits = await this.#indexes.search(
          job.platform,
          job.workspaceId,
          job.request.text,
          embeddings[i]!,
          3,
        );
        return planReply(job.request, hits, this.#options);
      }),
    );
  }

  async reply(jobs: ReplyJob[]): Promise<GroundedReply[]> {
    const plans = await this.plan(jobs);
    const wanted = plans.flatMap((plan, i) => (plan.kind === 'unknown' ? [] : [i]));
    const generated = wanted.length > 0 ? await this.#generate(wanted.map((i) => plans[i]!.request)) : [];
    const texts = new Array<string | null>(jobs.length).fill(null);
    wanted.forEach((i, k) => {
      texts[i] = generated[k] ?? null;
    });
    return plans.map((plan, i) => ({
      ...finishReply(plan, texts[i]!, jobs[i]!.reason, this.#options),
      kind: plan.kind,
    }));
  }
}
