/**
 * Realistic chat messages of mixed length: TweetEval sentiment validation tweets plus Self-dialogue validation
 * lines from ../shared/datasets when present, else the bundled bench/chat-lines.txt. The source is always reported.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom, shuffle } from './stats.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface Samples {
  texts: string[];
  /** Human-readable description of where the texts came from. */
  source: string;
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

function selfDialogueLines(root: string): string[] {
  const base = join(root, 'self_dialogue');
  const corpus = join(base, 'validation', 'corpus');
  if (!existsSync(corpus)) return [];
  const blockedFile = join(base, 'blocked_workers.txt');
  const blocked = new Set(
    existsSync(blockedFile)
      ? readFileSync(blockedFile, 'utf8')
          .split('\n')
          .map((s) => s.trim())
      : [],
  );
  const lines: string[] = [];
  for (const topic of readdirSync(corpus).sort()) {
    for (const file of readdirSync(join(corpus, topic)).sort()) {
      if (!file.endsWith('.csv')) continue;
      const [header, ...rows] = parseCsv(readFileSync(join(corpus, topic, file), 'utf8'));
      if (!header) continue;
      const cols = header
        .map((name, index) => ({ name, index }))
        .filter((c) => c.name.startsWith('Answer.sentence'))
        .sort((a, b) => Number(a.name.slice(15)) - Number(b.name.slice(15)));
      const reject = header.indexOf('Reject');
      const worker = header.indexOf('WorkerId');
      for (const row of rows) {
        if ((reject >= 0 && row[reject]?.trim()) || (worker >= 0 && blocked.has(row[worker] ?? ''))) continue;
        for (const c of cols) {
          const s = row[c.index]?.trim();
          if (s && s !== '{}') lines.push(s);
        }
      }
    }
  }
  return lines;
}

function tweetEvalLines(root: string): string[] {
  const file = join(root, 'tweeteval_sentiment', 'val_text.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `count` shuffled texts (seeded, so every run measures the same mix); half tweets, half dialogue lines. */
export function loadSamples(count: number, datasetsDir?: string): Samples {
  const random = seededRandom(5);
  const root = resolve(
    datasetsDir ?? process.env.STEWARD_DATASETS ?? join(HERE, '..', '..', 'shared', 'datasets'),
  );
  const tweets = tweetEvalLines(root);
  const dialogue = selfDialogueLines(root);
  if (tweets.length + dialogue.length >= count) {
    const half = Math.ceil(count / 2);
    const pickTweets = shuffle(tweets, random).slice(0, Math.min(half, tweets.length));
    const pickDialogue = shuffle(dialogue, random).slice(0, count - pickTweets.length);
    const texts = shuffle([...pickTweets, ...pickDialogue], random);
    return {
      texts,
      source: `datasets at ${root}: ${pickTweets.length} tweeteval_sentiment val tweets + ${pickDialogue.length} self_dialogue validation lines`,
    };
  }
  const bundled = readFileSync(join(HERE, 'chat-lines.txt'), 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
  const texts: string[] = [];
  while (texts.length < count) texts.push(...shuffle(bundled, random));
  return {
    texts: texts.slice(0, count),
    source: `bundled bench/chat-lines.txt (${bundled.length} lines; ${root} not found or too small)`,
  };
}

/** Length summary in characters, for the report. */
export function describeLengths(texts: string[]): string {
  const lengths = texts.map((t) => t.length).sort((a, b) => a - b);
  const at = (q: number) => lengths[Math.min(lengths.length - 1, Math.floor(q * lengths.length))];
  const mean = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
  return `chars: mean ${mean.toFixed(0)}, p10 ${at(0.1)}, p50 ${at(0.5)}, p90 ${at(0.9)}, max ${lengths.at(-1)}`;
}

/**
 * The conversations of a self_dialogue split (`root` = its dataset folder), lines in order, with the upstream
 * filtering rule (Reject, blocked workers, empty and `{}` lines; as models/training/common.py); `topics` limits the
 * topic folders read (all, sorted, by default). Conversations of one line are left out.
 */
export function selfDialogueConversations(
  root: string,
  split: string,
  topics?: readonly string[],
): Array<{ topic: string; lines: string[] }> {
  const blocked = new Set(
    readFileSync(join(root, 'blocked_workers.txt'), 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const corpus = join(root, split, 'corpus');
  const out: Array<{ topic: string; lines: string[] }> = [];
  for (const topic of topics ?? readdirSync(corpus).sort()) {
    for (const file of readdirSync(join(corpus, topic))
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const [header, ...rows] = parseCsv(readFileSync(join(corpus, topic, file), 'utf8'));
      const cols = header!
        .map((name, index) => ({ name, index }))
        .filter((c) => c.name.startsWith('Answer.sentence'))
        .sort((a, b) => Number(a.name.slice(15)) - Number(b.name.slice(15)));
      const reject = header!.indexOf('Reject');
      const worker = header!.indexOf('WorkerId');
      for (const row of rows) {
        if (row.length < header!.length) continue;
        if ((row[reject] ?? '').trim() !== '' || blocked.has(row[worker] ?? '')) continue;
        const lines = cols.map((c) => (row[c.index] ?? '').trim()).filter((l) => l !== '' && l !== '{}');
        if (lines.length > 1) out.push({ topic, lines });
      }
    }
  }
  return out;
}
