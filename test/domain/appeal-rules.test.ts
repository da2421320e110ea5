import { describe, expect, it } from 'vitest';
import type { FlagRecord } from '../../src/domain/flag.ts';
import {
  appealableActions,
  appealDecisionChange,
  authoriseAppeal,
  authoriseAppealDecision,
  newAppeal,
  type ModCapability,
} from '../../src/domain/moderation-actions.ts';

type AppealFlag = Pick<FlagRecord, 'platform' | 'workspaceId' | 'authorId' | 'status' | 'history' | 'appeal'>;

function flag(over: Partial<AppealFlag> = {}): AppealFlag {
  return {
    platform: 'slack',
    workspaceId: 'T1',
    authorId: 'U1',
    status: 'actioned',
    history: [{ at: 1, actorId: 'M1', action: 'delete' }],
    ...over,
  };
}

const mod = (caps: ModCapability[] = ['manage_messages', 'moderate_members'], workspaceId = 'T1') => ({
  platform: 'slack' as const,
  workspaceId,
  capabilities: new Set(caps),
});

describe('authoriseAppeal: who may appeal what', () => {
  it('GIVEN the flagged member of the flag’s workspace WHEN something was done THEN they may appeal', () => {
    expect(authoriseAppeal(flag(), { platform: 'slack', userId: 'U1', workspaceId: 'T1' })).toEqual({
      ok: true,
    });
  });

  it('GIVEN another member WHEN they appeal someone else’s flag THEN refused like a missing flag', () => {
    const verdict = authoriseAppeal(flag(), { platform: 'slack', userId: 'U2', workspaceId: 'T1' });
    expect(verdict).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect(authoriseAppeal(null, { platform: 'slack', userId: 'U1' })).toMatchObject({
      ok: false,
      refusal: 'unknown_flag',
    });
    if (!verdict.ok)
      expect(verdict.message).toBe(
        (authoriseAppeal(null, { platform: 'slack', userId: 'U1' }) as { message: string }).message,
      );
  });

  it('GIVEN the same user id in another workspace or platform WHEN they appeal THEN refused', () => {
    expect(authoriseAppeal(flag(), { platform: 'slack', userId: 'U1', workspaceId: 'T2' })).toMatchObject({
      ok: false,
      refusal: 'not_yours',
    });
    expect(authoriseAppeal(flag(), { platform: 'discord', userId: 'U1' })).toMatchObject({
      ok: false,
      refusal: 'not_yours',
    });
  });

  it('GIVEN nothing was done, or the flag was dismissed, or auto-hide failed THEN there is nothing to appeal', () => {
    const me = { platform: 'slack' as const, userId: 'U1' };
    expect(authoriseAppeal(flag({ history: [], status: 'open' }), me)).toMatchObject({
      refusal: 'nothing_to_appeal',
    });
    expect(authoriseAppeal(flag({ status: 'dismissed' }), me)).toMatchObject({
      refusal: 'nothing_to_appeal',
    });
    const failedHide = [
      { at: 1, actorId: 'steward', action: 'auto-hide' },
      { at: 2, actorId: 'steward', action: 'auto-hide-failed' },
    ];
    expect(authoriseAppeal(flag({ status: 'open', history: failedHide }), me)).toMatchObject({
      refusal: 'nothing_to_appeal',
    });
    expect(appealableActions({ history: [{ at: 1, actorId: 'steward', action: 'auto-hide' }] })).toEqual([
      'auto-hide',
    ]);
  });

  it('GIVEN an appeal already filed WHEN the member appeals again THEN refused: one appeal per flag', () => {
    const appealed = flag({ appeal: newAppeal('U1', 'sorry', 5) });
    expect(authoriseAppeal(appealed, { platform: 'slack', userId: 'U1' })).toMatchObject({
      refusal: 'already_appealed',
    });
  });

  it('GIVEN a long note THEN it is trimmed and clipped to 1,000 characters', () => {
    expect(newAppeal('U1', `  ${'x'.repeat(5000)}  `, 1).note).toHaveLength(1000);
  });
});

describe('authoriseAppealDecision: who may uphold or reverse', () => {
  const pending = { platform: 'slack' as const, workspaceId: 'T1', appeal: newAppeal('U1', 'n', 1) };

  it('GIVEN a moderator of the workspace and a pending appeal THEN they may decide it', () => {
    expect(authoriseAppealDecision(pending, 'reverse', mod())).toEqual({ ok: true, status: 'reversed' });
    expect(authoriseAppealDecision(pending, 'uphold', mod(['manage_messages']))).toEqual({
      ok: true,
      status: 'upheld',
    });
  });

  it('GIVEN a moderator of another workspace THEN refused like a missing flag', () => {
    expect(authoriseAppealDecision(pending, 'reverse', mod(undefined, 'T2'))).toMatchObject({
      ok: false,
      refusal: 'other_workspace',
    });
  });

  it('GIVEN no capability, no appeal, or a decided one THEN refused', () => {
    expect(authoriseAppealDecision(pending, 'reverse', mod([]))).toMatchObject({ refusal: 'not_permitted' });
    expect(authoriseAppealDecision({ ...pending, appeal: undefined }, 'reverse', mod())).toMatchObject({
      refusal: 'no_pending_appeal',
    });
    const decided = { ...pending, appeal: { ...pending.appeal, status: 'upheld' as const } };
    expect(authoriseAppealDecision(decided, 'reverse', mod())).toMatchObject({
      refusal: 'no_pending_appeal',
    });
  });

  it('GIVEN a reversal THEN the change records who and when, dismisses the flag, and applies only while pending', () => {
    const change = appealDecisionChange(pending, 'reverse', { id: 'M1', name: 'mo' }, 42);
    expect(change).toMatchObject({
      status: 'dismissed',
      actorId: 'M1',
      action: 'appeal-reversed',
      expectAppeal: 'pending',
      appeal: { status: 'reversed', decidedById: 'M1', decidedByName: 'mo', decidedAt: 42, note: 'n' },
    });
    expect(appealDecisionChange(pending, 'uphold', { id: 'M1', name: 'mo' }, 42).status).toBe('actioned');
  });
});
