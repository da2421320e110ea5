/** Redis for the BullMQ part of the bench: use the one on 127.0.0.1:6379, or start a throwaway one. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { schedPolicy } from './probe.ts';
import { sleep } from './stats.ts';

export interface BenchRedis {
  url: string;
  /** Random key prefix of this run; every key under it is deleted by cleanup(). */
  prefix: string;
  /** How Redis was found ("running" or "started redis-server") and the scheduling policy it runs under. */
  how: string;
  cleanup(): Promise<number>;
}

/** The Redis the bench uses: STEWARD_BENCH_REDIS, or 127.0.0.1:6379. */
export function benchRedisUrl(): string {
  return process.env.STEWARD_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
}

/** Redis's calls so far per command (`INFO commandstats`; every client of that Redis counts). */
export async function commandCalls(url = benchRedisUrl()): Promise<Map<string, number>> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('commandstats');
    return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  } finally {
    redis.disconnect();
  }
}

async function ping(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Redis's pid from INFO server, when that process is visible here (a loopback Redis of this host). */
async function localRedisPid(url: string): Promise<number | null> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (!Number.isInteger(pid)) return null;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server') ? pid : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/**
 * Puts every thread of Redis under `policy` (`chrt -a -p 0`, no privilege needed for SCHED_BATCH / SCHED_OTHER on a
 * Redis of the same user, or as root) until this process exits, then back to what it was. Throws when chrt refuses.
 */
function holdRedisPolicy(pid: number, policy: 'batch' | 'other'): void {
  const before = schedPolicy(pid);
  const flag = (p: string) => (p === 'batch' || p === 'SCHED_BATCH' ? '-b' : '-o');
  const set = (p: string) => spawnSync('chrt', [flag(p), '-a', '-p', '0', String(pid)], { encoding: 'utf8' });
  const result = set(policy);
  if (result.error || result.status !== 0) {
    throw new Error(
      `STEWARD_BENCH_REDIS_POLICY=${policy}: chrt could not change redis-server ${pid} (${result.error?.message ?? result.stderr.trim()})`,
    );
  }
  if (before === 'SCHED_OTHER' || before === 'SCHED_BATCH') process.once('exit', () => set(before));
}

/**
 * Finds or starts Redis; throws with a clear message when neither works. `STEWARD_BENCH_REDIS_POLICY=batch|other`
 * puts a local one under that scheduling policy for this run (restored at exit), to compare the two in interleaved
 * runs (bench/README.md: SCHED_BATCH, so that a command written to Redis does not take the writer's core).
 */
export async function ensureRedis(url = benchRedisUrl()): Promise<BenchRedis> {
  let how = 'running';
  if (!(await ping(url))) {
    const port = new URL(url).port || '6379';
    const started = spawnSync(
      'redis-server',
      ['--daemonize', 'yes', '--port', port, '--save', '', '--appendonly', 'no'],
      { encoding: 'utf8' },
    );
    if (started.error || started.status !== 0) {
      throw new Error(
        `no Redis answers at ${url} and redis-server could not be started (${started.error?.message ?? started.stderr}); ` +
          'install Redis or set STEWARD_BENCH_REDIS=redis://host:port, or run with --skip-queue',
      );
    }
    for (let i = 0; i < 50 && !(await ping(url)); i++) await sleep(100);
    if (!(await ping(url))) throw new Error(`started redis-server on port ${port} but it does not answer`);
    how = `started redis-server on port ${port} (no persistence; left running)`;
  }
  const wanted = process.env.STEWARD_BENCH_REDIS_POLICY;
  if (wanted !== undefined && wanted !== 'batch' && wanted !== 'other') {
    throw new Error(`STEWARD_BENCH_REDIS_POLICY must be batch or other, not ${JSON.stringify(wanted)}`);
  }
  const pid = await localRedisPid(url);
  if (wanted !== undefined) {
    if (pid === null)
      throw new Error(
        `STEWARD_BENCH_REDIS_POLICY=${wanted}: the Redis at ${url} is not a process of this host`,
      );
    holdRedisPolicy(pid, wanted);
  }
  const policy = pid === null ? null : schedPolicy(pid);
  how +=
    policy === null ? '; its scheduling policy is not visible from here' : `; scheduling policy ${policy}`;
  const prefix = `stewardbench${randomBytes(4).toString('hex')}`;
  return {
    url,
    prefix,
    how,
    async cleanup() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      let removed = 0;
      try {
        // Keys are `<prefix>:…`; SCAN (not KEYS) so a shared Redis is not blocked.
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) removed += await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
      return removed;
    },
  };
}
