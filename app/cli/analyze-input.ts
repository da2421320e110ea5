import { MAX_TEXT_LENGTH, textProblem } from '../../src/domain/message.ts';
import type { RawLine } from './lines.ts';

/** `parent`: the message this one replies to (JSONL "parent"), which moderation reads for context. */
export type ParsedLine = { n: number; text: string; parent?: string } | { n: number; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const INPUT_FORMATS = ['auto', 'text', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export const isInputFormat = (value: unknown): value is InputFormat =>
  INPUT_FORMATS.includes(value as InputFormat);

/**
 * One audit input line → the text to analyse, or the reason it cannot be. `text`: every line is a message.
 * `jsonl`: every line is a JSON object with a "text" field (a chat export). `auto` (the default): a line that
 * parses as a JSON object is JSONL, any other line — "{New Post} …" included — is plain text. A JSONL line may
 * carry "parent", the text of the message it replies to: a short echo of it ("same to you") is judged with it.
 */
export function parseLine(line: RawLine, format: InputFormat = 'auto'): ParsedLine {
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
  let parent: string | undefined;
  if (format !== 'text') {
    const parsed = jsonObject(decoded);
    if ('value' in parsed) {
      const fields = parsed.value as { text?: unknown; parent?: unknown };
      if (typeof fields.text !== 'string') return { n, error: 'JSON line has no "text" string field' };
      text = fields.text;
      if (fields.parent !== undefined && fields.parent !== null) {
        if (typeof fields.parent !== 'string') return { n, error: '"parent" must be a string' };
        const problem = textProblem(fields.parent);
        if (problem) return { n, error: `parent: ${problem}` };
        parent = fields.parent;
      }
    } else if (format === 'jsonl') return { n, error: parsed.error };
  }
  // Measured after decoding: a JSONL text written as \uXXXX escapes is as long as what it decodes to.
  const problem = textProblem(text);
  if (problem) return { n, error: problem };
  if (text.trim() === '') return { n, error: 'empty message' };
  return parent === undefined ? { n, text } : { n, text, parent };
}

/** The line as a JSON object, or why it is not one (only lines starting with "{" are tried). */
function jsonObject(line: string): { value: object } | { error: string } {
  if (!line.trimStart().startsWith('{')) return { error: 'not a JSON object (the line does not start with "{")' };
  try {
    const value: unknown = JSON.parse(line);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { value };
    return { error: 'not a JSON object' };
  } catch (error) {
    return { error: `invalid JSON: ${(error as Error).message}` };
  }
}
