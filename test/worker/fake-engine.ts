import type { SentimentLabel, Signals } from '../../src/domain/analysis.ts';
import type {
  AttendedWord,
  AttentionRequest,
  InferenceEngine,
  ModelInfo,
  ReplyRequest,
  ReplyScore,
} from '../../src/engine.ts';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import { detectLanguage, loadLanguageDetector } from '../../models/runtime/language.ts';

const DIM = 64;

/** Bag-of-words hashed into DIM dimensions, L2-normalised: texts sharing words are similar. */
export function hashEmbed(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
    v[(h >>> 0) % DIM]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/**
 * Test-only engine with obvious rules (positive/negative words, "idiot" is an insult), so pipeline tests can
 * state expectations. Counts calls and can be told to fail; the real engine is covered by integration tests.
 */
export class FakeEngine implements InferenceEngine {
  calls = { signals: [] as number[], embed: 0, reply: [] as number[] };
  failSignals = 0;
  /** Milliseconds each signals() call takes, to make batches overlap. */
  delayMs = 0;
  /** Milliseconds each reply() call takes. */
  replyDelayMs = 0;
  /** A batch containing this word fails as the runtime fails on bad input: unrecoverable. */
  poisonWord: string | null = null;

  async start(): Promise<void> {
    await loadLanguageDetector();
  }
  async stop(): Promise<void> {}

  async signals(texts: string[]): Promise<Signals[]> {
    this.calls.signals.push(texts.length);
    // Tests may skip start(): the detector is loaded here too (once).
    await loadLanguageDetector();
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failSignals > 0) {
      this.failSignals -= 1;
      throw new Error('fake model failure');
    }
    if (this.poisonWord !== null && texts.some((t) => t.includes(this.poisonWord!))) {
      throw new StewardError(ErrorCode.ModelRun, 'cannot tokenise input', { unrecoverable: true });
    }
    return texts.map((text) => {
      const t = text.toLowerCase();
      const label: SentimentLabel = /love|great|thanks/.test(t)
        ? 'positive'
        : /hate|awful/.test(t)
          ? 'negative'
          : 'neutral';
      const scores = { negative: 0.05, neutral: 0.05, positive: 0.05, [label]: 0.9 };
      const insult = t.includes('idiot') ? 0.95 : 0.02;
      return {
        language: detectLanguage(text),
        sentiment: { label, scores },
        moderation: { insult, threat: t.includes('kill') ? 0.9 : 0.01 },
        attributions: { insult: insult > 0.5 ? ['idiot'] : [], threat: [] },
        embedding: hashEmbed(text),
      };
    });
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls.embed += 1;
    return texts.map(hashEmbed);
  }

  /** The same hashed vectors: with the fake, library search shares the signals space. */
  async embedSearch(texts: string[]): Promise<Float32Array[]> {
    return this.embed(texts);
  }

  async reply(requests: ReplyRequest[]): Promise<string[]> {
    this.calls.reply.push(requests.length);
    if (this.replyDelayMs > 0) await new Promise((r) => setTimeout(r, this.replyDelayMs));
    return requests.map((r) => `re: ${r.text.slice(0, 40)}${r.topic ? ` [${r.topic}]` : ''}`);
  }

  /** Shared words score higher: enough for tests that only need a ranking. */
  async scoreReplies(requests: ReplyRequest[], candidates: string[]): Promise<ReplyScore[]> {
    return candidates.map((c, i) => {
      const asked = new Set(requests[i]!.text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
      const words = c.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
      const shared = words.filter((w) => asked.has(w)).length;
      return { logProb: shared - words.length - 1, tokens: words.length + 1 };
    });
  }

  /** The fake reply model reads no sources, as the bundled one does not: no attention. */
  async attend(items: AttentionRequest[]): Promise<Array<AttendedWord[] | null>> {
    return items.map(() => null);
  }

  defaults() {
    return {
      thresholds: { insult: 0.5, threat: 0.5 },
      topicThreshold: 0.5,
      labels: ['insult', 'threat'],
      languages: { sentiment: ['en'], moderation: ['en'] },
    };
  }

  info(): ModelInfo[] {
    return [{ role: 'signals', source: 'fake', version: '0', dtype: 'fp32', device: 'cpu' }];
  }
}
