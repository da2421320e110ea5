import { MAX_TEXT_LENGTH } from '../../src/domain/message.ts';
import type { RawLine } from './lines.ts';

export type ParsedLine = { n: number; text: string } | { n: number; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
// Control characters other than tab: text typed by people never holds them; binary data does.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * One audit input line → the text to analyse, or the reason it cannot be. Plain text lines are messages; a
 * line starting with "{" is a JSON object with a "text" field (a chat export in JSONL).
 */
export function parseLine(line: RawLine): ParsedLine {
  const { n } = line;
  if (line.tooLong) return { n, error: `line is longer than the limit of ${MAX_TEXT_LENGTH} characters` };
  let decoded: string;
  try {
    decoded = utf8.decode(line.bytes);
  } catch {
    return { n, error: 'line is not valid UTF-8 (binary data?)' };
  }
  if (decoded.charCodeAt(0) === 0xfeff) decoded = decoded.slice(1); // a BOM on the first line
  let text = decoded;
  if (decoded.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(decoded);
    } catch (error) {
      return { n, error: `invalid JSON: ${(error as Error).message}` };
    }
    const field = (value as { text?: unknown } | null)?.text;
    if (typeof field !== 'string') return { n, error: 'JSON line has no "text" string field' };
    text = field;
  }
  if (CONTROL.test(text)) return { n, error: 'line holds control characters (binary data?)' };
  if (text.trim() === '') return { n, error: 'empty message' };
  if (text.length > MAX_TEXT_LENGTH)
    return { n, error: `message is longer than ${MAX_TEXT_LENGTH} characters` };
  return { n, text };
}
