import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { buildEngine, buildStore } from '../app.ts';
import type { Config } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { InputFormat } from './analyze-input.ts';
import { GroundedReplies } from '../../worker/library/replies.ts';
import { LibraryIndexes } from '../../worker/library/sync.ts';
import type { InferenceEngine } from '../../src/engine.ts';
import type { Store } from '../../src/store/types.ts';
import { generateReplies } from '../../worker/analyze.ts';
import { runAnalyze } from './analyze.ts';
import { type ChitchatReplies, chatRepliesOf, loadChitchat } from '../../worker/chitchat/replies.ts';
import { onShutdownSignal } from './shutdown.ts';

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface AnalyzeFlags {
  json: boolean;
  reply: boolean;
  /** How to read lines: JSONL objects, plain text, or auto (a line that is a JSON object is JSONL). */
  format: InputFormat;
  /** A path, or "-" for stdin. */
  file: string;
}

/** `steward analyze`: the models in a worker thread, the local workspace's thresholds and topics, stdout results. */
export async function runAnalyzeCommand(
  config: Config,
  logger: Logger,
  io: Io,
  flags: AnalyzeFlags,
): Promise<number> {
  let totalBytes: number | undefined;
  if (flags.file !== '-') {
    try {
      totalBytes = (await stat(flags.file)).size;
    } catch (error) {
      throw new ConfigError(`cannot read ${flags.file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }

  // Thresholds and topics an admin set in local mode apply to the audit too.
  const store = buildStore(config);
  await store.start();
  const stored = await store.getSettings('local', 'local').catch(async (error) => {
    await store.stop();
    throw error;
  });
  // Under --reply the store stays open: replies answer from the local workspace's library and cite it.
  if (!flags.reply) await store.stop();
  // Replies cost the most: only with --reply, and then for every message that warrants one.
  const settings = { ...stored, replyMode: flags.reply ? ('mention' as const) : ('off' as const) };

  const engine = buildEngine(config, logger);
  // The bank is read before the models load: a wrong STEWARD_CHITCHAT_BANK fails at once.
  let chitchat: ChitchatReplies | null = null;
  if (flags.reply) {
    try {
      chitchat = await loadChitchat(config.chitchat.bank, (requests, candidates) =>
        engine.scoreReplies(requests, candidates),
      );
    } catch (error) {
      await store.stop();
      io.stderr.write(`steward: could not load the chit-chat bank: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const abort = new AbortController();
  const release = onShutdownSignal(async () => abort.abort(), logger);
  // A closed pipe (`| head`) ends the run quietly instead of crashing on EPIPE.
  let pipeClosed = false;
  io.stdout.on('error', () => {
    pipeClosed = true;
    abort.abort();
  });
  try {
    await engine.start();
  } catch (error) {
    release();
    if (flags.reply) await store.stop();
    io.stderr.write(`steward: could not load the models: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    const input = flags.file === '-' ? io.stdin : createReadStream(flags.file);
    const summary = await runAnalyze({
      input,
      output: io.stdout,
      engine,
      settings,
      json: flags.json,
      reply: flags.reply,
      format: flags.format,
      replyBatchSize: config.worker.replyBatchSize,
      chunkSize: 256,
      signal: abort.signal,
      ...(io.stderr.isTTY ? { progress: io.stderr } : {}),
      ...(totalBytes !== undefined ? { totalBytes } : {}),
      ...(flags.reply ? { grounded: localLibraryReplies(store, engine, chitchat) } : {}),
    });
    if (io.stderr.isTTY) {
      const skipped = Object.entries(summary.skipped)
        .map(([language, n]) => `${language} ${n}`)
        .join(', ');
      io.stderr.write(
        `${summary.lines} lines, ${summary.flagged} flagged, ${summary.errors} unreadable` +
          `${skipped ? `, not reviewed (language not supported): ${skipped}` : ''}\n`,
      );
    }
    return abort.signal.aborted && !pipeClosed ? 130 : 0;
  } catch (error) {
    // The reader went away (`| head`): what it wanted was written; stop quietly as Unix tools do.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE' || pipeClosed) return 0;
    throw error;
  } finally {
    release();
    await engine.stop();
    if (flags.reply) await store.stop();
  }
}

function localLibraryReplies(store: Store, engine: InferenceEngine, chitchat: ChitchatReplies | null) {
  // Library search has its own space (models.embed); recommendations stay in the signals space.
  const embed = (texts: string[]) => engine.embedSearch(texts);
  // An audit explains its library answers (cross-attention over the source); the worker's platform replies do not.
  const replies = new GroundedReplies(
    new LibraryIndexes(store, embed),
    embed,
    (requests) => generateReplies(engine, requests),
    {},
    () => (chitchat ? chatRepliesOf(chitchat) : null),
    (items) => engine.attend(items),
  );
  return { replies, platform: 'local' as const, workspaceId: 'local' };
}
