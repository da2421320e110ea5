import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkspaceSettingsSchema } from '../domain/settings.ts';
import { ErrorCode, StewardError } from '../errors.ts';
import { CoalescingWriter, SerialAppender, writeFileAtomic } from './atomic.ts';
import { FileLibrary } from './library.ts';
import { MemoryStore, type MemoryStoreOptions, type StorePart } from './memory.ts';
import type { FlagRecord } from './types.ts';

export interface FileStoreOptions extends MemoryStoreOptions {
  /** Folder of settings.json, flags.jsonl, deliveries.json, profiles.json and sentiment.json (created when missing). */
  dir: string;
}

/**
 * The local-mode store: state in memory, persisted under `dir` so it survives a restart. One process owns
 * the folder (local mode runs one process); settings and deliveries are rewritten atomically (temp + rename),
 * flag changes are appended to a log and compacted at start.
 */
export class FileStore extends MemoryStore {
  readonly dir: string;
  readonly #settingsFile: CoalescingWriter;
  readonly #deliveriesFile: CoalescingWriter;
  readonly #flagLog: SerialAppender;
  readonly #profilesFile: CoalescingWriter;
  readonly #sentimentFile: CoalescingWriter;

  constructor(options: FileStoreOptions) {
    super(options, 'FileStore', new FileLibrary(options.dir));
    this.dir = options.dir;
    this.#settingsFile = new CoalescingWriter(join(this.dir, 'settings.json'), () =>
      JSON.stringify(Object.fromEntries(this.settings), null, 2),
    );
    this.#deliveriesFile = new CoalescingWriter(join(this.dir, 'deliveries.json'), () =>
      JSON.stringify(
        Object.fromEntries(
          this.deliveries.entries().map(([key, value, expiresAt]) => [key, { ...value, expiresAt }]),
        ),
      ),
    );
    this.#flagLog = new SerialAppender(join(this.dir, 'flags.jsonl'));
    this.#profilesFile = new CoalescingWriter(join(this.dir, 'profiles.json'), () =>
      this.members.serialise(),
    );
    this.#sentimentFile = new CoalescingWriter(join(this.dir, 'sentiment.json'), () =>
      this.sentiment.serialise(),
    );
  }

  override async start(): Promise<void> {
    this.lifecycle.begin();
    try {
      await mkdir(this.dir, { recursive: true });
      await this.#loadSettings();
      await this.#loadDeliveries();
      await this.#loadFlags();
      const profiles = await this.#read('profiles.json');
      if (profiles !== null) this.members.restore(profiles);
      const sentiment = await this.#read('sentiment.json');
      if (sentiment !== null) this.sentiment.restore(sentiment);
    } catch (error) {
      throw new StewardError(
        ErrorCode.Store,
        `could not load the store in ${this.dir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  override stop(): Promise<void> {
    return this.lifecycle.end(() => this.flush());
  }

  /** Resolves once every write requested so far is on disk (profile updates are not awaited one by one). */
  async flush(): Promise<void> {
    await Promise.all([
      this.#settingsFile.flush(),
      this.#deliveriesFile.flush(),
      this.#flagLog.flush(),
      this.#profilesFile.flush(),
      this.#sentimentFile.flush(),
    ]);
  }

  protected override async persist(part: StorePart, flag?: FlagRecord): Promise<void> {
    if (part === 'settings') await this.#settingsFile.write();
    else if (part === 'deliveries') await this.#deliveriesFile.write();
    else if (part === 'profiles') await this.#profilesFile.write();
    else if (part === 'sentiment') await this.#sentimentFile.write();
    else if (part === 'flag-log') await this.#flagLog.replace(() => this.#compactedFlags());
    else if (flag) await this.#flagLog.append(JSON.stringify(flag));
  }

  async #read(name: string): Promise<string | null> {
    try {
      return await readFile(join(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async #loadSettings(): Promise<void> {
    const text = await this.#read('settings.json');
    if (text === null) return;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed))
      this.settings.set(key, WorkspaceSettingsSchema.parse(value));
  }

  async #loadDeliveries(): Promise<void> {
    const text = await this.#read('deliveries.json');
    if (text === null) return;
    const parsed = JSON.parse(text) as Record<
      string,
      { state: string; result: string | null; expiresAt: number }
    >;
    for (const [key, entry] of Object.entries(parsed)) {
      if (entry.state === 'done')
        this.deliveries.restore(key, { state: 'done', result: entry.result }, entry.expiresAt);
    }
  }

  async #loadFlags(): Promise<void> {
    const text = await this.#read('flags.jsonl');
    if (text === null) return;
    let lines = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines += 1;
      try {
        const flag = JSON.parse(line) as FlagRecord;
        this.flags.set(flag.id, flag); // later lines are later versions of the same flag
      } catch {
        // A torn last line from a crash mid-append: the previous version of that flag stands.
      }
    }
    // Compact when most lines are superseded versions, so the log does not grow without bound.
    if (lines > 2 * this.flags.size + 100)
      await writeFileAtomic(join(this.dir, 'flags.jsonl'), this.#compactedFlags());
  }

  /** The flag log with one line per flag, its latest version. */
  #compactedFlags(): string {
    const compacted = [...this.flags.values()].map((f) => JSON.stringify(f)).join('\n');
    return compacted === '' ? '' : `${compacted}\n`;
  }
}
