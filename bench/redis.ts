/** Redis for the BullMQ part of the bench: use the one on 127.0.0.1:6379, or start a throwaway one. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sleep } from './stats.ts';

export interface BenchRedis {
  url: string;
  /** Random key prefix of this run; every key under it is deleted by cleanup(). */
  prefix: string;
  /** How Redis was found: "running" or "started redis-server". */
  how: string;
  cleanup(): Promise<number>;
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

/** Finds or starts Redis; throws with a clear message when neither works. */
export async function ensureRedis(
  url = process.env.STEWARD_BENCH_REDIS ?? 'redis://127.0.0.1:6379',
): Promise<BenchRedis> {
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
