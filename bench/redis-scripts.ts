/**
 * What Redis spends per command, BullMQ's Lua scripts named by the queue they touch: the slow log with a threshold of
 * 0 records every command with its duration. Around a run:
 *
 *   npx tsx bench/redis-scripts.ts start            log every command (the settings it replaces are kept to restore)
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/queue-latency.ts --rate 350 --flood 1 --poisson 6
 *   npx tsx bench/redis-scripts.ts report [--last 4] [--messages N]
 *
 * `report` restores the slow-log settings, then sums the entries of the last `--last` seconds by command (a script by
 * its sha and the keys it names: add / fetch / finish of the inbound or an outbound queue) and prints calls, total and
 * mean µs, and µs per message when `--messages` says how many messages that window carried. The slow log is
 * server-wide: on a shared Redis it counts other clients too. REDIS_URL picks the server (default 127.0.0.1:6379).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { last: { type: 'string', default: '4' }, messages: { type: 'string' } },
});
const SAVED = join(tmpdir(), 'steward-redis-scripts.json');
const SETTINGS = ['slowlog-log-slower-than', 'slowlog-max-len'] as const;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
try {
  if (positionals[0] === 'start') await start();
  else if (positionals[0] === 'report') await report(Number(args.last), args.messages);
  else throw new Error('usage: npx tsx bench/redis-scripts.ts start | report [--last S] [--messages N]');
} finally {
  redis.disconnect();
}

async function start(): Promise<void> {
  const saved: Record<string, string> = {};
  for (const name of SETTINGS) saved[name] = ((await redis.config('GET', name)) as string[])[1]!;
  writeFileSync(SAVED, JSON.stringify(saved));
  await redis.config('SET', 'slowlog-log-slower-than', '0');
  await redis.config('SET', 'slowlog-max-len', '500000');
  await redis.slowlog('RESET');
  console.log(`every command is logged now (was ${JSON.stringify(saved)}); run the load, then "report"`);
}

type Entry = [id: number, at: number, micros: number, args: string[]];

async function report(lastS: number, messages: string | undefined): Promise<void> {
  const log = (await redis.slowlog('GET', 500000)) as Entry[];
  const saved = JSON.parse(readFileSync(SAVED, 'utf8')) as Record<string, string>;
  for (const name of SETTINGS) await redis.config('SET', name, saved[name]!);
  await redis.slowlog('RESET');
  rmSync(SAVED, { force: true });
  const end = log.reduce((m, e) => Math.max(m, e[1]), 0);
  const sums = new Map<string, { calls: number; micros: number }>();
  let total = 0;
  for (const [, at, micros, command] of log) {
    if (at < end - lastS) continue;
    const name = nameOf(command);
    const sum = sums.get(name) ?? { calls: 0, micros: 0 };
    sum.calls += 1;
    sum.micros += micros;
    sums.set(name, sum);
    total += micros;
  }
  const perMessage = messages === undefined ? null : Number(messages);
  console.log(
    `last ${lastS} s: ${total} µs in all${perMessage ? `, ${(total / perMessage).toFixed(0)} µs per message` : ''}`,
  );
  for (const [name, s] of [...sums].sort((a, b) => b[1].micros - a[1].micros).slice(0, 20)) {
    const each = perMessage ? `  ${(s.micros / perMessage).toFixed(1).padStart(7)} µs/msg` : '';
    console.log(
      `${String(s.calls).padStart(7)} calls ${String(s.micros).padStart(9)} µs ${(s.micros / s.calls).toFixed(1).padStart(7)} µs each${each}  ${name}`,
    );
  }
}

/** A command's name; a script's sha with the role its first keys give it (BullMQ names its keys by queue). */
function nameOf(command: string[]): string {
  const verb = String(command[0]).toLowerCase();
  if (verb !== 'evalsha' && verb !== 'eval') return verb;
  const keys = command.slice(3, 6).map((k) => String(k).split(':').slice(-2).join(':'));
  const script =
    verb === 'eval' ? String(command[1]).replace(/\s+/g, ' ').slice(0, 24) : String(command[1]).slice(0, 8);
  return `${verb} ${script} [${keys.join(' ')}]`;
}
