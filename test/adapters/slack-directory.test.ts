import type { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { SlackDirectory } from '../../adapters/slack/directory.ts';
import { sleep, testLogger } from '../queue/fixtures.ts';

/** A Web API client that answers users.info and counts the calls (only the method the directory uses). */
function webClient() {
  const calls: string[] = [];
  const web = {
    users: {
      info: async ({ user }: { user: string }) => {
        calls.push(user);
        return {
          ok: true,
          user: { id: user, name: `name-${user}`, profile: { display_name: `Dn ${user}` } },
        };
      },
    },
  } as unknown as webApi.WebClient;
  return { web, calls };
}

const BOT = { teamId: 'T1', userId: 'UBOT', botId: 'BBOT' };

describe('SlackDirectory user cache', () => {
  it('GIVEN a looked-up user WHEN asked again within the cache time THEN users.info is not called again; after it, it is', async () => {
    const { web, calls } = webClient();
    const directory = new SlackDirectory(web, BOT, 100, testLogger());
    expect(await directory.nameOf('U1')).toBe('Dn U1');
    expect(await directory.nameOf('U1')).toBe('Dn U1');
    expect(calls).toEqual(['U1']);
    await sleep(150);
    expect(directory.cachedName('U1')).toBe('Dn U1'); // an expired name still renders a mention
    await directory.nameOf('U1');
    expect(calls).toEqual(['U1', 'U1']);
    expect(directory.cachedName('U2')).toBeUndefined();
  });
});
