import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/** Writes `content` so that readers see either the old file or the new one, never half of either. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Serialises writes of one file and coalesces bursts: a write requested while another is queued joins it,
 * and the content is rendered when the write starts, so it includes every change made before then.
 */
export class CoalescingWriter {
  #tail: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;

  constructor(
    private readonly path: string,
    private readonly render: () => string,
  ) {}

  write(): Promise<void> {
    if (this.#queued) return this.#queued;
    const run = this.#tail.then(() => {
      this.#queued = null;
      return writeFileAtomic(this.path, this.render());
    });
    this.#queued = run;
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Resolves when every requested write has finished. */
  async flush(): Promise<void> {
    await this.#tail;
  }
}

/** Appends lines to a file one write at a time, so concurrent appends never interleave. */
export class SerialAppender {
  #tail: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  append(line: string): Promise<void> {
    const run = this.#tail.then(async () => {
      const handle = await open(this.path, 'a');
      try {
        await handle.appendFile(`${line}\n`, 'utf8');
      } finally {
        await handle.close();
      }
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Rewrites the whole file atomically, in turn with the appends (forget-me: no old line may survive). */
  replace(render: () => string): Promise<void> {
    const run = this.#tail.then(() => writeFileAtomic(this.path, render()));
    this.#tail = run.catch(() => {});
    return run;
  }

  async flush(): Promise<void> {
    await this.#tail;
  }
}
