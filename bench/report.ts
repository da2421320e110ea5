/** Targets of issue #5 and the end-of-run summary. */
import { cpus, loadavg } from 'node:os';
import { round } from './stats.ts';

export interface Target {
  key: string;
  /** ≥ for throughput-like figures, ≤ for latency-like ones. */
  op: '>=' | '<=';
  goal: number;
  unit: string;
}

export const TARGETS: Target[] = [
  { key: 'analyze_msgs_per_s', op: '>=', goal: 1000, unit: 'msg/s' },
  { key: 'speedup_vs_naive', op: '>=', goal: 3, unit: '×' },
  { key: 'roofline_fraction', op: '>=', goal: 0.7, unit: '' },
  { key: 'p99_ms', op: '<=', goal: 50, unit: 'ms' },
  { key: 'reply_p50_ms', op: '<=', goal: 150, unit: 'ms' },
  { key: 'adapter_loop_lag_p99_ms', op: '<=', goal: 20, unit: 'ms' },
];

export interface TargetResult {
  goal: string;
  value: number | null;
  met: boolean | null;
  /** value ÷ goal for ≥ targets, goal ÷ value for ≤ targets: 1 or more means met. */
  ratio: number | null;
}

export function checkTargets(figures: Record<string, unknown>): Record<string, TargetResult> {
  const out: Record<string, TargetResult> = {};
  for (const t of TARGETS) {
    const raw = figures[t.key];
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    const met = value === null ? null : t.op === '>=' ? value >= t.goal : value <= t.goal;
    const ratio = value === null || value === 0 ? null : t.op === '>=' ? value / t.goal : t.goal / value;
    out[t.key] = {
      goal: `${t.op} ${t.goal}${t.unit ? ` ${t.unit}` : ''}`,
      value,
      met,
      ratio: ratio === null ? null : round(ratio, 3),
    };
  }
  return out;
}

export function targetLines(results: Record<string, TargetResult>): string[] {
  return Object.entries(results).map(([key, r]) => {
    const status = r.met === null ? 'not measured' : r.met ? 'met' : `MISSED (${describeMiss(r)})`;
    return `  ${key.padEnd(26)} ${String(r.value === null ? '-' : round(r.value, 3)).padStart(10)}  target ${r.goal.padEnd(14)} ${status}`;
  });
}

function describeMiss(r: TargetResult): string {
  if (r.ratio === null) return 'no value';
  return r.goal.startsWith('>=')
    ? `${round(r.ratio * 100, 0)} % of target`
    : `${round(1 / r.ratio, 2)}× over`;
}

/** Machine facts for the JSON line; load average shows how contended the run was. */
export function machine(): Record<string, unknown> {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: round(loadavg()[0] ?? 0, 2),
  };
}

/** JSON-safe copy: non-finite numbers become null, floats rounded. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? round(value, 3) : null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object' && !(value instanceof Float32Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}
