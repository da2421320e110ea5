import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('worker settings from the environment', () => {
  it('GIVEN STEWARD_BACKGROUND_DEFER_MS THEN worker.backgroundDeferMs; unset THEN the worker keeps its own default', () => {
    expect(loadConfig({ env: { STEWARD_BACKGROUND_DEFER_MS: '25' } }).worker.backgroundDeferMs).toBe(25);
    expect(loadConfig({ env: {} }).worker.backgroundDeferMs).toBeUndefined();
  });

  it('GIVEN a negative or fractional STEWARD_BACKGROUND_DEFER_MS THEN a ConfigError naming it', () => {
    for (const value of ['-1', '2.5', 'soon']) {
      expect(() => loadConfig({ env: { STEWARD_BACKGROUND_DEFER_MS: value } })).toThrow(
        /STEWARD_BACKGROUND_DEFER_MS/,
      );
    }
  });
});
