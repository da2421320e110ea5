import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

describe('npm run bench -- --quick', () => {
  it('GIVEN the bundled models and Redis WHEN the quick bench runs THEN it ends with one JSON line of every figure', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--json-only'],
      {
        cwd: ROOT,
        // The bench first compiles its child processes (tsc, incremental; 6–9 s cold on 2 idle cores).
        timeout: 150_000,
        maxBuffer: 16 * 2 ** 20,
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const figures = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const key of [
      'analyze_msgs_per_s',
      'naive_msgs_per_s',
      'speedup_vs_naive',
      'roofline_fraction',
      'p50_ms',
      'p99_ms',
      'reply_p50_ms',
      'reply_ms_per_token',
      'reply_b8_ms_per_token',
      'worker_rss_mb',
      'adapter_loop_lag_p99_ms',
      'live_capacity_msgs_per_s',
      'machine_cpu_busy_at_50pct',
    ]) {
      expect(typeof figures[key], key).toBe('number');
      expect(figures[key] as number, key).toBeGreaterThan(0);
    }
    expect(figures.sample_source).toEqual(expect.any(String));
    expect(figures.targets).toEqual(expect.any(Object));
  }, 240_000);
});
