import { describe, expect, it } from 'vitest';
import { flagsPerLabelPerDay, skippedByLanguage } from '../../dashboard/trends.ts';
import { flag } from './fixtures.ts';

describe('trends', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  it('GIVEN flags on two days THEN counts per label per UTC day, oldest first, older ones left out', () => {
    const flags = [
      flag({ createdAt: Date.parse('2026-11-20T01:00:00Z') }),
      flag({ createdAt: Date.parse('2026-11-19T23:59:00Z'), flagged: ['hate'] }),
      flag({ createdAt: Date.parse('2026-09-01T00:00:00Z') }),
    ];
    const { x, series } = flagsPerLabelPerDay(flags, now, 3);
    expect(x).toEqual([
      Date.parse('2026-11-18T00:00:00Z') / 1000,
      Date.parse('2026-11-19T00:00:00Z') / 1000,
      Date.parse('2026-11-20T00:00:00Z') / 1000,
    ]);
    expect(series).toEqual({ offensive: [0, 0, 1], insult: [0, 0, 1], hate: [0, 1, 0] });
  });

  it('GIVEN two workers THEN skipped messages are summed per language', () => {
    const worker = (skipped: Record<string, number>) => ({
      id: 'w',
      host: 'h',
      pid: 1,
      startedAt: 0,
      at: 0,
      device: 'cpu',
      models: [],
      processed: 0,
      skipped,
    });
    expect(skippedByLanguage([worker({ fr: 2 }), worker({ fr: 1, de: 4 })])).toEqual({ fr: 3, de: 4 });
  });
});
