import { readFile } from 'node:fs/promises';
import { buildStore } from '../app.ts';
import type { Config } from '../../src/config.ts';
import { parseLibraryText } from '../../src/domain/library-import.ts';
import { PlatformSchema } from '../../src/domain/message.ts';
import { ConfigError } from '../../src/errors.ts';

export interface LibraryCliOptions {
  sub: 'import' | 'list' | 'remove';
  platform: string;
  workspaceId: string;
  /** import: a JSONL or Markdown file (- for stdin); remove: item ids. */
  args: string[];
  format: 'jsonl' | 'markdown' | 'auto';
}

interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `steward library import FILE | list | remove ID…` against the store of this configuration (files under
 * ./data locally, Redis with REDIS_URL), for the local workspace unless --platform/--workspace say otherwise.
 * Running workers pick the change up within seconds (their index checks the library's version).
 */
export async function runLibraryCli(config: Config, options: LibraryCliOptions, io: Io): Promise<number> {
  const parsedPlatform = PlatformSchema.safeParse(options.platform);
  if (!parsedPlatform.success) throw new ConfigError(`--platform must be discord, slack or local`);
  const platform = parsedPlatform.data;
  let text = '';
  if (options.sub === 'import') {
    const file = options.args[0];
    if (!file || options.args.length > 1)
      throw new ConfigError('steward library import reads one FILE (or -)');
    try {
      text = file === '-' ? await readAll(io.stdin) : await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  const store = buildStore(config);
  await store.start();
  try {
    switch (options.sub) {
      case 'import': {
        const format =
          options.format !== 'auto'
            ? options.format
            : /\.(md|markdown)$/i.test(options.args[0]!)
              ? 'markdown'
              : 'auto';
        const { items, errors } = parseLibraryText(text, format);
        for (const error of errors) io.stderr.write(`steward: skipped ${error}\n`);
        if (items.length === 0) {
          io.stderr.write('steward: no library items found\n');
          return 1;
        }
        const version = await store.putLibraryItems(platform, options.workspaceId, items);
        io.stdout.write(
          `${JSON.stringify({ imported: items.length, skipped: errors.length, platform, workspace: options.workspaceId, version })}\n`,
        );
        return 0;
      }
      case 'list': {
        for (const item of await store.listLibrary(platform, options.workspaceId))
          io.stdout.write(`${JSON.stringify(item)}\n`);
        return 0;
      }
      case 'remove': {
        const removed = await store.removeLibraryItems(platform, options.workspaceId, options.args);
        io.stdout.write(`${JSON.stringify({ removed })}\n`);
        return removed === options.args.length ? 0 : 1;
      }
    }
  } finally {
    await store.stop();
  }
}
