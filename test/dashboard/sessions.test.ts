import { describe, expect, it } from 'vitest';
import { Sessions } from '../../dashboard/sessions.ts';
import { grantA } from './fixtures.ts';

describe('sessions and sign-in links', () => {
  it('GIVEN an expired link or session THEN it no longer works', () => {
    let now = 1_000_000;
    const sessions = new Sessions({ ttlMs: 1_000, linkTtlMs: 500, now: () => now });
    const stale = sessions.issueLink({ id: 'a', name: 'A' }, [grantA]);
    const fresh = sessions.issueLink({ id: 'a', name: 'A' }, [grantA]);
    const { cookie } = sessions.create({ id: 'b', name: 'B' }, [grantA], 'link');
    expect(sessions.get(cookie)).not.toBeNull();
    now += 600;
    expect(sessions.redeem(stale)).toBeNull();
    now -= 200;
    expect(sessions.redeem(fresh)).not.toBeNull();
    now += 1_000;
    expect(sessions.get(cookie)).toBeNull();
  });

  it('keeps only hashes: neither the cookie nor the link token is a key of what it stores', () => {
    const sessions = new Sessions();
    const token = sessions.issueLink({ id: 'a', name: 'A' }, [grantA]);
    const { cookie, session } = sessions.create({ id: 'b', name: 'B' }, [grantA], 'link');
    expect(session.id).not.toBe(cookie);
    expect(JSON.stringify(session)).not.toContain(cookie);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
