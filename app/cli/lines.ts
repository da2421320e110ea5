/** One input line as raw bytes (without the newline), numbered from 1; `tooLong` when it was cut. */
export interface RawLine {
  n: number;
  bytes: Buffer;
  tooLong: boolean;
}

/**
 * Splits a byte stream into lines without decoding it, so invalid UTF-8 can be reported per line (readline
 * would silently replace it). Memory stays bounded: a line longer than `maxBytes` keeps only its first
 * `maxBytes` and is marked tooLong.
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string>,
  maxBytes: number,
): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let n = 0;
  const take = (chunk: Buffer) => {
    if (size >= maxBytes) {
      if (chunk.length > 0) tooLong = true;
      return;
    }
    const room = maxBytes - size;
    if (chunk.length > room) tooLong = true;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    parts.push(kept);
    size += kept.length;
  };
  const emit = (): RawLine => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1); // CRLF files
    const line = { n: ++n, bytes, tooLong };
    parts = [];
    size = 0;
    tooLong = false;
    return line;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, i));
      yield emit();
      start = i + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (size > 0 || tooLong) yield emit(); // last line without a trailing newline
}
