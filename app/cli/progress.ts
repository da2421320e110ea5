/** A one-line progress bar redrawn in place on a terminal (never on a pipe: stdout stays clean JSON). */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #total: number | undefined;
  readonly #started = Date.now();
  #lastDraw = 0;

  constructor(stream: NodeJS.WriteStream, totalBytes?: number) {
    this.#stream = stream;
    this.#total = totalBytes && totalBytes > 0 ? totalBytes : undefined;
  }

  update(lines: number, bytes: number): void {
    const now = Date.now();
    if (now - this.#lastDraw < 200) return;
    this.#lastDraw = now;
    const rate = Math.round(lines / Math.max(0.001, (now - this.#started) / 1000));
    let bar = '';
    if (this.#total) {
      const fraction = Math.min(1, bytes / this.#total);
      const width = 30;
      const filled = Math.round(fraction * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(fraction * 100)}% `;
    }
    this.#stream.write(`\r${bar}${lines.toLocaleString('en')} lines, ${rate}/s\u001b[K`);
  }

  done(lines: number): void {
    const seconds = (Date.now() - this.#started) / 1000;
    this.#stream.write(`\r${lines.toLocaleString('en')} lines in ${seconds.toFixed(1)} s\u001b[K\n`);
  }
}
