import type { Signals } from '../../src/domain/analysis.ts';
import type {
  AttendedWord,
  AttentionRequest,
  InferenceEngine,
  ModelInfo,
  ReplyRequest,
  ReplyScore,
} from '../../src/engine.ts';
import { ErrorCode, StewardError } from '../../src/errors.ts';

/**
 * A real engine (the bundled ONNX models) with call counters and injectable faults: the pipeline tests watch
 * what our code does around a real model (batch sizes, retries, the poison path, slow replies) while every
 * score, label and reply comes from the model itself.
 */
export class InstrumentedEngine implements InferenceEngine {
  calls = { signals: [] as number[], embed: 0, embedSearch: 0, reply: [] as number[] };
  /** The next N signals() calls fail (retryable). */
  failSignals = 0;
  /** Extra milliseconds each signals() call takes, to make batches overlap. */
  delayMs = 0;
  /** Extra milliseconds each reply() call takes. */
  replyDelayMs = 0;
  /** A batch containing this word fails as the runtime fails on bad input: unrecoverable. */
  poisonWord: string | null = null;

  constructor(private readonly inner: InferenceEngine) {}

  /** The models are shared by the tests of a file: started and stopped by the file, not by each worker. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async signals(texts: string[]): Promise<Signals[]> {
    this.calls.signals.push(texts.length);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failSignals > 0) {
      this.failSignals -= 1;
      throw new Error('injected model failure');
    }
    if (this.poisonWord !== null && texts.some((t) => t.includes(this.poisonWord!))) {
      throw new StewardError(ErrorCode.ModelRun, 'cannot tokenise input', { unrecoverable: true });
    }
    return this.inner.signals(texts);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls.embed += 1;
    return this.inner.embed(texts);
  }

  async embedSearch(texts: string[]): Promise<Float32Array[]> {
    this.calls.embedSearch += 1;
    return this.inner.embedSearch(texts);
  }

  async reply(requests: ReplyRequest[]): Promise<string[]> {
    this.calls.reply.push(requests.length);
    if (this.replyDelayMs > 0) await new Promise((r) => setTimeout(r, this.replyDelayMs));
    return this.inner.reply(requests);
  }

  scoreReplies(requests: ReplyRequest[], candidates: string[]): Promise<ReplyScore[]> {
    return this.inner.scoreReplies(requests, candidates);
  }

  attend(items: AttentionRequest[]): Promise<Array<AttendedWord[] | null>> {
    return this.inner.attend(items);
  }

  defaults() {
    return this.inner.defaults();
  }

  info(): ModelInfo[] {
    return this.inner.info();
  }
}
