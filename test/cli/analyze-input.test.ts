import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../app/cli/analyze-input.ts';
import { type RawLine, readLines } from '../../app/cli/lines.ts';

async function lines(chunks: Array<Buffer | string>, max = 1000): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const line of readLines(Readable.from(chunks), max)) out.push(line);
  return out;
}

const raw = (text: string | Buffer, n = 1): RawLine => ({
  n,
  bytes: typeof text === 'string' ? Buffer.from(text) : text,
  tooLong: false,
});

describe('readLines', () => {
  it('GIVEN lines split across chunks THEN they are rejoined and numbered', async () => {
    const out = await lines(['hel', 'lo\nwor', 'ld\r\nlast']);
    expect(out.map((l) => [l.n, l.bytes.toString()])).toEqual([
      [1, 'hello'],
      [2, 'world'],
      [3, 'last'],
    ]);
  });

  it('GIVEN a trailing newline THEN no empty extra line', async () => {
    expect(await lines(['a\nb\n'])).toHaveLength(2);
  });

  it('GIVEN a line longer than the limit THEN it is cut, marked, and the next line is intact', async () => {
    const out = await lines([`${'x'.repeat(50)}\nok\n`], 10);
    expect(out[0]).toMatchObject({ n: 1, tooLong: true });
    expect(out[0]!.bytes.length).toBe(10);
    expect(out[1]).toMatchObject({ n: 2, tooLong: false });
  });
});

describe('parseLine', () => {
  it('GIVEN plain text THEN it is the message', () => {
    expect(parseLine(raw('hello there'))).toEqual({ n: 1, text: 'hello there' });
  });

  it('GIVEN a JSON object with text THEN the text field is the message', () => {
    expect(parseLine(raw('{"text":"hi","user":"x"}'))).toEqual({ n: 1, text: 'hi' });
  });

  it('GIVEN --format jsonl and bad JSON or JSON without text THEN an error for that line', () => {
    expect(parseLine(raw('{"text": "unclosed'), 'jsonl')).toMatchObject({
      error: expect.stringContaining('invalid JSON'),
    });
    expect(parseLine(raw('plain words'), 'jsonl')).toMatchObject({
      error: expect.stringContaining('not a JSON object'),
    });
    expect(parseLine(raw('{"body":"x"}'))).toMatchObject({ error: expect.stringContaining('"text"') });
  });

  it('GIVEN a plain chat line that starts with "{" THEN auto reads it as text, not as broken JSON', () => {
    const line = '{New Post} Yolanda Adams and Common singing at the show';
    expect(parseLine(raw(line))).toEqual({ n: 1, text: line });
    expect(parseLine(raw('{"text": "unclosed'))).toEqual({ n: 1, text: '{"text": "unclosed' });
  });

  it('GIVEN --format text THEN a JSON object line is analysed as the text it is', () => {
    expect(parseLine(raw('{"text":"hi"}'), 'text')).toEqual({ n: 1, text: '{"text":"hi"}' });
  });

  it('GIVEN invalid UTF-8 or control bytes THEN an error, not mojibake', () => {
    expect(parseLine(raw(Buffer.from([0x68, 0xff, 0xfe, 0x69])))).toMatchObject({
      error: expect.stringContaining('UTF-8'),
    });
    expect(parseLine(raw(Buffer.from('a\u0000b\u0001')))).toMatchObject({
      error: expect.stringContaining('control'),
    });
  });

  it('GIVEN an empty line THEN an error keeps the output aligned with the input', () => {
    expect(parseLine(raw('   '))).toMatchObject({ error: 'empty message' });
  });

  it('GIVEN a multi-line message inside JSON THEN it is accepted', () => {
    expect(parseLine(raw('{"text":"a\\nb\\tc"}'))).toEqual({ n: 1, text: 'a\nb\tc' });
  });
});
