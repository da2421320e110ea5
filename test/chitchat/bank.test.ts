import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChitchatBank, ChitchatBankError } from '../../worker/chitchat/bank.ts';
import { BANK } from './fixtures.ts';

describe('the bundled chit-chat bank', () => {
  let bank: ChitchatBank;
  beforeAll(async () => {
    bank = await ChitchatBank.load(BANK);
  });

  it('GIVEN the bundled file THEN it says where its pairs are from and holds 100,000 of them', () => {
    expect(bank.source).toBe('self_dialogue');
    expect(bank.pairs.length).toBe(100_000);
  });

  it('GIVEN a line about a band THEN the retrieved replies answered lines about that band', () => {
    const hits = bank.search('do you like the beatles?', 20);
    expect(hits.length).toBe(20);
    const contexts = hits.map((h) => bank.pairs[h.index]!.context.toLowerCase());
    expect(contexts.filter((c) => c.includes('beatles')).length).toBeGreaterThanOrEqual(15);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[19]!.score);
  });

  it('GIVEN a line of function words only THEN short contexts with the same words are found', () => {
    const hits = bank.search('how are you?', 10);
    expect(hits.length).toBe(10);
    for (const h of hits) expect(bank.pairs[h.index]!.context.toLowerCase()).toMatch(/how|are|you/);
  });
});

describe('a bank that cannot be used', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steward-bank-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('GIVEN a missing file THEN the error names it and the setting to change', async () => {
    const error = await ChitchatBank.load(join(dir, 'nope.jsonl.gz')).catch((e) => e);
    expect(error).toBeInstanceOf(ChitchatBankError);
    expect(error.message).toMatch(/nope\.jsonl\.gz cannot be read \(ENOENT\).*STEWARD_CHITCHAT_BANK.*"off"/);
  });

  it('GIVEN a file that is not gzip THEN the error says so', async () => {
    await writeFile(join(dir, 'bad.jsonl.gz'), 'not gzip at all');
    await expect(ChitchatBank.load(join(dir, 'bad.jsonl.gz'))).rejects.toThrow(/not a valid gzip file/);
  });

  it('GIVEN a line without a reply THEN the error names the line', async () => {
    const text = '{"source":"x"}\n{"c":"hi there","r":"hello!"}\n{"c":"oops"}\n';
    await writeFile(join(dir, 'short.jsonl.gz'), gzipSync(text));
    await expect(ChitchatBank.load(join(dir, 'short.jsonl.gz'))).rejects.toThrow(
      /short\.jsonl\.gz, line 3: expected \{"c": "<context>", "r": "<reply>"\}/,
    );
  });

  it('GIVEN an empty bank THEN it is refused', () => {
    expect(() => ChitchatBank.fromJsonl('{"source":"x"}\n', 'empty')).toThrow(/holds no pairs/);
  });
});
