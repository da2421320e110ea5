import { buildEngine, buildStore } from '../app.ts';
import type { Config } from '../../src/config.ts';
import type { LibraryItem } from '../../src/domain/library.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { readLibraryFile, recommendInput, runRecommend } from './recommend.ts';

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface RecommendFlags {
  json: boolean;
  each: boolean;
  limit: number;
  /** A JSONL library file; the local workspace's library when unset. */
  library?: string;
  file: string;
}

/** `steward recommend`: the signals model in a worker thread, the library from a file or the local store. */
export async function runRecommendCommand(
  config: Config,
  logger: Logger,
  io: Io,
  flags: RecommendFlags,
): Promise<number> {
  let library: LibraryItem[];
  if (flags.library !== undefined) library = await readLibraryFile(flags.library);
  else {
    const store = buildStore(config);
    await store.start();
    library = await store.listLibrary('local', 'local').finally(() => store.stop());
  }
  if (library.length === 0) {
    throw new ConfigError(
      'the library is empty: pass --library FILE (JSONL items, e.g. examples/travel-library.jsonl) or import one',
    );
  }
  const engine = buildEngine(config, logger);
  try {
    await engine.start();
  } catch (error) {
    io.stderr.write(`steward: could not load the models: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    await runRecommend({
      input: recommendInput(flags.file, io.stdin),
      output: io.stdout,
      engine,
      library,
      json: flags.json,
      each: flags.each,
      limit: flags.limit,
    });
    return 0;
  } finally {
    await engine.stop();
  }
}
