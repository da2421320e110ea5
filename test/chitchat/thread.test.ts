import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, StewardError } from '../../src/errors.ts';
import { captureLogger } from '../../models/runtime/testing.ts';
import { ChitchatBank, ChitchatBankError } from '../../worker/chitchat/bank.ts';
import { BankShortlister } from '../../worker/chitchat/shortlist.ts';
import { ThreadShortlister } from '../../worker/chitchat/thread.ts';
import { BANK } from './fixtures.ts';

const LINES = [
  'do you like the beatles?',
  'how are you?',
  'I just watched Toy Story again, such a great movie',
  'zzqx',
];

describe('the chit-chat shortlist read in a thread of its own', () => {
  let local: BankShortlister;
  let threaded: ThreadShortlister;
  const threads: Worker[] = [];
  const { logger, records } = captureLogger();

  beforeAll(async () => {
    [local, threaded] = await Promise.all([
      ChitchatBank.load(BANK).then((bank) => new BankShortlister(bank)),
      ThreadShortlister.start(BANK, {}, logger, (worker) => threads.push(worker)),
    ]);
  });
  afterAll(() => threaded?.close());

  it('GIVEN the same lines and channel memory THEN the thread shortlists exactly what the bank in this thread does', async () => {
    expect(threaded.source).toBe('self_dialogue');
    for (const text of LINES) {
      const recent = text === LINES[0] ? [(await local.shortlist(text, [])).candidates[0]!.reply] : [];
      const [mine, theirs] = await Promise.all([
        local.shortlist(text, recent),
        threaded.shortlist(text, recent),
      ]);
      expect(theirs).toEqual(mine);
    }
    // A heard reply is not offered again.
    const first = (await threaded.shortlist(LINES[0]!, [])).candidates[0]!.reply;
    const again = await threaded.shortlist(LINES[0]!, [first]);
    expect(again.candidates.map((c) => c.reply)).not.toContain(first);
  });

  it('GIVEN the thread dies mid-call THEN the call fails retryably, it is logged, and the next call is answered by a new thread', async () => {
    const before = threads.length;
    // Twenty calls in flight (a few ms each in the thread): the thread goes before it has answered them all.
    const calls = Array.from({ length: 20 }, (_, i) => threaded.shortlist(`${LINES[2]!} ${i}`, []));
    void threads.at(-1)!.terminate();
    const settled = await Promise.allSettled(calls);
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(failed.length).toBeGreaterThan(0);
    for (const error of failed) {
      expect(error).toBeInstanceOf(StewardError);
      expect((error as StewardError).code).toBe(ErrorCode.ModelRun);
      expect((error as StewardError).unrecoverable).toBe(false);
    }
    const next = await threaded.shortlist(LINES[2]!, []);
    expect(next.candidates.length).toBeGreaterThan(0);
    expect(threads.length).toBe(before + 1);
    expect(records.some((r) => String(r.msg).includes('chit-chat bank thread died'))).toBe(true);
  });

  it('GIVEN it is closed THEN calls fail with a clear error instead of hanging', async () => {
    const other = await ThreadShortlister.start(BANK);
    await other.close();
    await expect(other.shortlist('hello', [])).rejects.toThrow(/closed/);
  });
});

describe('a bank the thread cannot use', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steward-bank-thread-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('GIVEN a missing or malformed bank THEN start fails with a ChitchatBankError naming the file and the line', async () => {
    const missing = join(dir, 'nope.jsonl.gz');
    await expect(ThreadShortlister.start(missing)).rejects.toThrow(ChitchatBankError);
    await expect(ThreadShortlister.start(missing)).rejects.toThrow(/nope\.jsonl\.gz.*STEWARD_CHITCHAT_BANK/);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"c": "hi", "r": "hello"}\nnot json\n');
    await expect(ThreadShortlister.start(bad)).rejects.toThrow(/bad\.jsonl, line 2: not JSON/);
  });
});
