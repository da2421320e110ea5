/** Output of one input line, printed only when the line is finished and every earlier line has printed. */
interface Entry {
  id: string;
  lines: string[];
  analysed: boolean;
  /** Outbound action keys enqueued for this line and not yet performed. */
  pending: Set<string>;
  performed: Set<string>;
}

/**
 * Keeps the terminal's output in input order even though the worker batches lines and performs actions
 * concurrently: each line's output is buffered until its analysis and all of its actions are done.
 */
export class OrderedOutput {
  readonly #entries: Entry[] = [];
  readonly #byId = new Map<string, Entry>();
  readonly #write: (lines: string[]) => void;
  #idle: Array<() => void> = [];

  constructor(write: (lines: string[]) => void) {
    this.#write = write;
  }

  /** Opens a slot for a line; its output appears after every slot opened before it. */
  open(id: string, header: string[] = []): void {
    const entry: Entry = {
      id,
      lines: [...header],
      analysed: false,
      pending: new Set(),
      performed: new Set(),
    };
    this.#entries.push(entry);
    this.#byId.set(id, entry);
  }

  /** The worker enqueued an action for this line: wait for it before printing the line. */
  expect(id: string, key: string): void {
    const entry = this.#byId.get(id);
    if (entry && !entry.performed.has(key)) entry.pending.add(key);
  }

  /** An action was performed: its lines join the line's output. */
  performed(id: string, key: string, lines: string[]): void {
    const entry = this.#byId.get(id);
    if (!entry) {
      this.#write(lines); // not from a tracked line (e.g. a late retry): show it at once rather than lose it
      return;
    }
    entry.pending.delete(key);
    entry.performed.add(key);
    entry.lines.push(...lines);
    this.#flush();
  }

  /** The line needs nothing more than what was expected so far (analysis done, or a command answered). */
  finish(id: string, lines: string[] = []): void {
    const entry = this.#byId.get(id);
    if (!entry) return;
    entry.lines.push(...lines);
    entry.analysed = true;
    this.#flush();
  }

  /** Resolves when every opened line has printed. */
  idle(): Promise<void> {
    if (this.#entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush(): void {
    while (this.#entries.length > 0) {
      const head = this.#entries[0]!;
      if (!head.analysed || head.pending.size > 0) break;
      this.#entries.shift();
      this.#byId.delete(head.id);
      if (head.lines.length > 0) this.#write(head.lines);
    }
    if (this.#entries.length === 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }
}
