import { once } from 'node:events';
import { SENTIMENT_EMOJI, scoreShown } from '../../src/domain/action.ts';
import type { Abstention } from '../../src/domain/analysis.ts';
import { ruleLabelsOf } from '../../src/domain/decide.ts';
import { MAX_TEXT_LENGTH, readableText } from '../../src/domain/message.ts';
import type { WorkspaceSettings } from '../../src/domain/settings.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import { analyzeBatch, type TextOutcome } from '../../worker/analyze.ts';
import { TopicIndex } from '../../worker/topics.ts';
import { type InputFormat, type ParsedLine, parseLine } from './analyze-input.ts';
import type { Platform } from '../../src/domain/message.ts';
import type { GroundedReplies } from '../../worker/library/replies.ts';
import { readLines } from './lines.ts';
import { Progress } from './progress.ts';

export interface AnalyzeOptions {
  input: AsyncIterable<Buffer | string>;
  output: NodeJS.WritableStream;
  engine: InferenceEngine;
  /** Thresholds, topics and reply mode to apply (the local workspace's, by default). */
  settings: WorkspaceSettings;
  json: boolean;
  /** Generate a reply for every message that warrants one, as if it addressed the bot. */
  reply: boolean;
  /** How lines are read (default auto). */
  format?: InputFormat;
  replyBatchSize: number;
  /** Lines per engine call; two chunks at most are in memory at once. */
  chunkSize?: number;
  /** A terminal to draw a progress bar on (stderr, only when it is a TTY). */
  progress?: NodeJS.WriteStream;
  /** Input size in bytes when known (a file), for a percentage. */
  totalBytes?: number;
  /** Stops reading at the next chunk (SIGINT, a closed stdout); what was read is still written. */
  signal?: AbortSignal;
  /** Replies answer from this workspace's library and cite it (issue 10). */
  grounded?: { replies: GroundedReplies; platform: Platform; workspaceId: string };
}

export interface AnalyzeSummary {
  lines: number;
  errors: number;
  flagged: number;
  /** Messages the moderation model did not review, per language it cannot read. */
  skipped: Record<string, number>;
}

// A JSONL line may write every character of a full-length text as a 6-byte \uXXXX escape; its text is measured
// after decoding (parseLine), so the raw line may be that long plus the other fields.
const MAX_LINE_BYTES = 6 * MAX_TEXT_LENGTH + 65_536;

/** Streams messages through the models in chunks and writes one result per input line, in input order. */
export async function runAnalyze(options: AnalyzeOptions): Promise<AnalyzeSummary> {
  const chunkSize = options.chunkSize ?? 256;
  const topicIndex = new TopicIndex(options.engine);
  const summary: AnalyzeSummary = { lines: 0, errors: 0, flagged: 0, skipped: {} };
  const progress = options.progress ? new Progress(options.progress, options.totalBytes) : null;
  let inflight: Promise<string[]> | null = null;
  let bytes = 0;

  const write = async (lines: string[]) => {
    if (lines.length === 0) return;
    // Respect backpressure: a slow reader of stdout must not make us buffer the whole result in memory.
    if (!options.output.write(`${lines.join('\n')}\n`)) await once(options.output, 'drain');
  };
  const process = (chunk: ParsedLine[]) => analyzeChunk(chunk, options, topicIndex, summary);

  let chunk: ParsedLine[] = [];
  for await (const raw of readLines(options.input, MAX_LINE_BYTES)) {
    bytes += raw.bytes.length + 1;
    chunk.push(parseLine(raw, options.format));
    if (chunk.length >= chunkSize) {
      if (options.signal?.aborted) break;
      // The engine (in its thread) works on this chunk while the loop reads and parses the next one.
      if (inflight) await write(await inflight);
      inflight = process(chunk);
      chunk = [];
      progress?.update(summary.lines, bytes);
    }
  }
  if (inflight) await write(await inflight);
  if (chunk.length > 0 && !options.signal?.aborted) await write(await process(chunk));
  progress?.done(summary.lines);
  return summary;
}

async function analyzeChunk(
  chunk: ParsedLine[],
  options: AnalyzeOptions,
  topicIndex: TopicIndex,
  summary: AnalyzeSummary,
): Promise<string[]> {
  const valid = chunk.filter((line): line is { n: number; text: string; parent?: string } => 'text' in line);
  const outcomes = new Map<number, TextOutcome | { error: string }>();
  try {
    const results = await analyse(valid, options, topicIndex);
    for (const [i, line] of valid.entries()) outcomes.set(line.n, results[i]!);
  } catch {
    // One text can break a whole batch; retry one by one so only that line reports the error.
    for (const line of valid) {
      try {
        outcomes.set(line.n, (await analyse([line], options, topicIndex))[0]!);
      } catch (error) {
        outcomes.set(line.n, { error: `analysis failed: ${(error as Error).message}` });
      }
    }
  }
  return chunk.map((line) => {
    summary.lines += 1;
    const outcome = 'error' in line ? line : outcomes.get(line.n)!;
    if ('error' in outcome) {
      summary.errors += 1;
      return options.json
        ? JSON.stringify({ line: line.n, error: outcome.error })
        : `#${line.n} ✗ ${outcome.error}`;
    }
    const { analysis } = outcome;
    if (analysis.moderation.flagged.length > 0) summary.flagged += 1;
    if (analysis.moderation.abstained)
      summary.skipped[analysis.language] = (summary.skipped[analysis.language] ?? 0) + 1;
    const result = toJson(line.n, outcome, options.reply);
    return options.json ? JSON.stringify(result) : toSummary(result);
  });
}

function analyse(
  lines: Array<{ text: string; parent?: string }>,
  options: AnalyzeOptions,
  topicIndex: TopicIndex,
): Promise<TextOutcome[]> {
  if (lines.length === 0) return Promise.resolve([]);
  return analyzeBatch(options.engine, lines.map((l) => l.text), options.settings, {
    parents: lines.map((l) => l.parent),
    reply: options.reply,
    replyBatchSize: options.replyBatchSize,
    topicIndex,
    ...(options.grounded ? { grounded: options.grounded } : {}),
  });
}

/** The documented output object of `steward analyze --json`. */
export interface AnalyzeResult {
  line: number;
  text: string;
  /** ISO 639-1 code, or "und". */
  language: string;
  /** Null when the sentiment model cannot read the language (then `sentimentAbstained` says so). */
  sentiment: { label: string; scores: Record<string, number> } | null;
  sentimentAbstained?: Abstention;
  moderation: {
    flagged: boolean;
    /** Model scores per label; empty when it abstained. */
    labels: Record<string, number>;
    /** The labels at or over the threshold in effect, and those a rule raised. */
    flaggedLabels: string[];
    /** Of flaggedLabels, those a rule raised, whatever the model scored (their `labels` score is the model's). */
    ruleLabels?: string[];
    reasons: string[];
    /** Set when the moderation model did not judge the message ("language": it cannot read it). */
    abstained?: Abstention;
    /** Allow rules that matched: the model's labels were not raised (`rules add allow …`). */
    allowedBy?: string[];
  };
  topics: Array<{ name: string; score: number }>;
  reply?: string;
  /** Under --reply: the library items the reply answered from (empty when it did not use the library). */
  sources?: Array<{ id: string; title: string; url?: string }>;
  /** Under --reply, for library answers: the source words the reply drew on (for highlighting). */
  evidence?: string[];
  /** Under --reply, for small talk answered from the chit-chat bank: where from, how many candidates. */
  chat?: { source: string; candidates: number; reranked: number; matched?: string };
  /**
   * Under --reply, for library answers when the reply model reads sources: the passage's words weighted by the
   * model's cross-attention while reading the answer (shares of 1, strongest first, at most 12).
   */
  attention?: Array<{ word: string; weight: number }>;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const roundAll = (scores: Record<string, number>) =>
  Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, round(v)]));

export function toJson(n: number, outcome: TextOutcome, withReply: boolean): AnalyzeResult {
  const { language, sentiment, sentimentAbstained, moderation, topics } = outcome.analysis;
  const reasons = [...new Set(moderation.flagged.flatMap((label) => moderation.reasons[label] ?? []))];
  const ruleLabels = ruleLabelsOf(moderation);
  const result: AnalyzeResult = {
    line: n,
    text: outcome.text,
    language,
    sentiment: sentiment ? { label: sentiment.label, scores: roundAll(sentiment.scores) } : null,
    ...(sentimentAbstained ? { sentimentAbstained } : {}),
    moderation: {
      flagged: moderation.flagged.length > 0,
      labels: roundAll(moderation.scores),
      flaggedLabels: moderation.flagged,
      ...(ruleLabels.length > 0 ? { ruleLabels } : {}),
      reasons,
      ...(moderation.abstained ? { abstained: moderation.abstained } : {}),
      ...(moderation.allowedBy ? { allowedBy: moderation.allowedBy } : {}),
    },
    topics: topics.map((t) => ({ name: t.topic, score: round(t.score) })),
  };
  if (withReply && outcome.reply !== null) result.reply = outcome.reply;
  if (withReply && outcome.sources)
    result.sources = outcome.sources.map(({ id, title, url }) => ({ id, title, ...(url ? { url } : {}) }));
  if (withReply && outcome.evidence) result.evidence = outcome.evidence;
  if (withReply && outcome.chat) result.chat = outcome.chat;
  if (withReply && outcome.attention) result.attention = outcome.attention;
  return result;
}

/** The readable one-line form; members' words pass through readableText (no controls, no RTL overrides). */
export function toSummary(r: AnalyzeResult): string {
  const parts: string[] = [];
  if (r.sentiment) {
    const label = r.sentiment.label as keyof typeof SENTIMENT_EMOJI;
    parts.push(`#${r.line} ${SENTIMENT_EMOJI[label] ?? ''} ${label} ${(r.sentiment.scores[label] ?? 0).toFixed(2)}`);
  } else parts.push(`#${r.line} [${r.language}] no sentiment (language not supported)`);
  if (r.moderation.abstained) parts.push(`not reviewed (${r.language})`);
  if (r.moderation.flagged) {
    const top = r.moderation.flaggedLabels[0] ?? '';
    const why = r.moderation.reasons.length > 0 ? ` (${r.moderation.reasons.slice(0, 5).join(', ')})` : '';
    parts.push(`⚠ ${top} ${scoreShown(r.moderation.labels[top], r.moderation.ruleLabels?.includes(top))}${readableText(why)}`);
  }
  if (r.topics.length > 0) parts.push(`topics: ${readableText(r.topics.map((t) => t.name).join(', '))}`);
  const text = r.text.replace(/\s+/g, ' ');
  parts.push(`"${readableText(text.length > 80 ? `${text.slice(0, 79)}…` : text)}"`);
  return r.reply === undefined
    ? parts.join(' | ')
    : `${parts.join(' | ')}\n    ↳ ${readableText(r.reply.replace(/\s+/g, ' '))}`;
}
