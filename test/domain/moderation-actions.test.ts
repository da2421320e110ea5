import { describe, expect, it } from 'vitest';
import {
  authoriseModAction,
  capabilityFor,
  isModAction,
  type ModAction,
  type ModActor,
  type ModCapability,
  PLATFORM_ACTIONS,
  settles,
  statusAfter,
} from '../../src/domain/moderation-actions.ts';
import type { Platform } from '../../src/domain/message.ts';

const FLAG = { platform: 'discord', workspaceId: 'g1' } as const;

function actor(
  overrides: Partial<Omit<ModActor, 'capabilities'>> = {},
  caps: ModCapability[] = ['manage_messages', 'moderate_members'],
): ModActor {
  return { platform: 'discord', workspaceId: 'g1', capabilities: new Set(caps), ...overrides };
}

describe('authoriseModAction', () => {
  it('GIVEN a moderator of the flag’s workspace WHEN they delete THEN allowed, and the flag becomes actioned', () => {
    expect(authoriseModAction(FLAG, 'delete', actor())).toEqual({ ok: true, status: 'actioned' });
    expect(authoriseModAction(FLAG, 'dismiss', actor())).toEqual({ ok: true, status: 'dismissed' });
  });

  it('GIVEN a flag of another workspace WHEN a moderator of their own acts on it THEN refused, answered like a missing flag', () => {
    const other = authoriseModAction({ platform: 'discord', workspaceId: 'g2' }, 'delete', actor());
    const missing = authoriseModAction(null, 'delete', actor());
    expect(other).toMatchObject({ ok: false, refusal: 'other_workspace' });
    expect(missing).toMatchObject({ ok: false, refusal: 'unknown_flag' });
    // The clicker learns nothing about whether the id names another community's flag.
    expect(!other.ok && !missing.ok && other.message === missing.message).toBe(true);
  });

  it('GIVEN a flag of the same workspace id on another platform WHEN acted on THEN refused as another workspace’s', () => {
    const verdict = authoriseModAction({ platform: 'slack', workspaceId: 'g1' }, 'dismiss', actor());
    expect(verdict).toMatchObject({ ok: false, refusal: 'other_workspace' });
  });

  it('GIVEN an unknown flag WHEN any action is taken THEN refused as unknown', () => {
    expect(authoriseModAction(null, 'dismiss', actor())).toMatchObject({
      ok: false,
      refusal: 'unknown_flag',
    });
  });

  it('GIVEN an action the platform does not offer WHEN taken THEN refused as unsupported', () => {
    const slackFlag = { platform: 'slack', workspaceId: 'T1' } as const;
    const slackActor = actor({ platform: 'slack', workspaceId: 'T1' });
    expect(authoriseModAction(slackFlag, 'timeout', slackActor)).toMatchObject({
      ok: false,
      refusal: 'unsupported_action',
    });
    expect(authoriseModAction(FLAG, 'warn', actor())).toMatchObject({
      ok: false,
      refusal: 'unsupported_action',
    });
    const localFlag = { platform: 'local', workspaceId: 'local' } as const;
    expect(
      authoriseModAction(localFlag, 'delete', actor({ platform: 'local', workspaceId: 'local' })),
    ).toMatchObject({
      ok: false,
      refusal: 'unsupported_action',
    });
  });

  it('GIVEN an actor without the capability an action needs WHEN they take it THEN refused as not permitted', () => {
    const messagesOnly = actor({}, ['manage_messages']);
    expect(authoriseModAction(FLAG, 'timeout', messagesOnly)).toMatchObject({
      ok: false,
      refusal: 'not_permitted',
    });
    expect(authoriseModAction(FLAG, 'delete', messagesOnly)).toEqual({ ok: true, status: 'actioned' });
    const membersOnly = actor({}, ['moderate_members']);
    expect(authoriseModAction(FLAG, 'dismiss', membersOnly)).toMatchObject({
      ok: false,
      refusal: 'not_permitted',
    });
    expect(authoriseModAction(FLAG, 'delete', actor({}, []))).toMatchObject({
      ok: false,
      refusal: 'not_permitted',
    });
  });

  it('GIVEN every platform WHEN each of its actions is taken by a fully capable actor THEN allowed with the rule’s status', () => {
    for (const platform of Object.keys(PLATFORM_ACTIONS) as Platform[]) {
      for (const action of PLATFORM_ACTIONS[platform]) {
        const verdict = authoriseModAction(
          { platform, workspaceId: 'w' },
          action,
          actor({ platform, workspaceId: 'w' }),
        );
        expect(verdict).toEqual({ ok: true, status: statusAfter(action) });
      }
    }
  });
});

describe('moderator-action rules', () => {
  it('GIVEN each action THEN the status it sets, what it needs and whether it settles the flag', () => {
    const actions: ModAction[] = ['dismiss', 'delete', 'timeout', 'warn'];
    expect(actions.map((a) => [statusAfter(a), capabilityFor(a), settles(a)])).toEqual([
      ['dismissed', 'manage_messages', true],
      ['actioned', 'manage_messages', true],
      ['actioned', 'moderate_members', false],
      ['actioned', 'moderate_members', false],
    ]);
  });

  it('GIVEN a button id part THEN only the known actions are actions (no prototype keys)', () => {
    expect(['dismiss', 'delete', 'timeout', 'warn'].every(isModAction)).toBe(true);
    expect(isModAction('ban')).toBe(false);
    expect(isModAction('toString')).toBe(false);
    expect(isModAction('__proto__')).toBe(false);
  });
});
