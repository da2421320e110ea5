import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordOAuth, SlackOidc } from '../../dashboard/oauth.ts';
import { DiscordEmulator } from '../emulators/discord/index.ts';
import { SlackEmulator } from '../emulators/slack/index.ts';
import { type Harness, startDashboard } from './fixtures.ts';

let discord: DiscordEmulator;
let slack: SlackEmulator;
let h: Harness;

beforeEach(async () => {
  discord = await new DiscordEmulator({ token: 'bot-token', clientSecret: 'discord-secret' }).start();
  slack = await new SlackEmulator({
    botToken: 'xoxb-bot',
    clientId: 'slack-client',
    clientSecret: 'slack-secret',
  }).start();
  h = await startDashboard({
    providers: [
      new DiscordOAuth({
        clientId: discord.applicationId,
        clientSecret: 'discord-secret',
        apiUrl: discord.apiUrl,
      }),
      new SlackOidc({
        clientId: 'slack-client',
        clientSecret: 'slack-secret',
        apiUrl: slack.apiUrl,
        botToken: 'xoxb-bot',
        adminUsers: ['U0LISTED'],
      }),
    ],
  });
  discord.oauth.addUser({
    id: '111',
    username: 'ada',
    guilds: [
      { id: 'g-owner', name: 'Owned', owner: true, permissions: '0' },
      { id: 'g-manage', name: 'Managed', owner: false, permissions: String(1 << 5) },
      { id: 'g-admin', name: 'Admin', owner: false, permissions: String(1 << 3) },
      { id: 'g-member', name: 'Member', owner: false, permissions: String((1 << 11) | (1 << 13)) },
    ],
  });
  discord.oauth.addUser({
    id: '222',
    username: 'bob',
    guilds: [{ id: 'g-member', name: 'Member', owner: false, permissions: '2048' }],
  });
  slack.workspace.addUser({ id: 'U0ADMIN', name: 'alice', isAdmin: true });
  slack.workspace.addUser({ id: 'U0MEMBER', name: 'mike' });
  slack.workspace.addUser({ id: 'U0LISTED', name: 'lisa' });
});
afterEach(async () => {
  await h.close();
  await discord.stop();
  await slack.stop();
});

/** What a browser does: start, follow the provider's consent redirect, land on the callback with its cookie. */
async function flow(provider: 'discord' | 'slack') {
  const start = await fetch(`${h.base}/auth/${provider}`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const oauthCookie = (start.headers.get('set-cookie') ?? '').split(';')[0]!;
  const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const callback = consent.headers.get('location')!;
  const land = () => fetch(callback, { redirect: 'manual', headers: { cookie: oauthCookie } });
  return { callback, oauthCookie, land };
}

const sessionOf = async (res: Response) => {
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const session = await fetch(`${h.base}/api/session`, { headers: { cookie } });
  return {
    cookie,
    status: session.status,
    body: (await session.json()) as { workspaces: Array<{ workspaceId: string }> },
  };
};

describe('Sign in with Discord (OAuth2 identify guilds, against the emulator)', () => {
  it('grants exactly the guilds where the member has Manage Server, Administrator or ownership', async () => {
    discord.oauth.signedIn = '111';
    const { land, callback } = await flow('discord');
    expect(new URL(callback).pathname).toBe('/auth/discord/callback');
    const res = await land();
    expect(res.status).toBe(303);
    const { cookie, body } = await sessionOf(res);
    expect(body.workspaces.map((w) => w.workspaceId).sort()).toEqual(['g-admin', 'g-manage', 'g-owner']);
    const refused = await fetch(`${h.base}/api/flags?platform=discord&workspace=g-member`, {
      headers: { cookie },
    });
    expect(refused.status).toBe(403);
    // The authorize request asked for exactly identify + guilds.
    expect(discord.oauth.users.size).toBe(2);
  });

  it('a member without Manage Server anywhere gets no session', async () => {
    discord.oauth.signedIn = '222';
    const res = await (await flow('discord')).land();
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('steward_session=');
  });

  it('refuses a replayed callback, a callback in another browser, forged or missing state, and a denied consent', async () => {
    discord.oauth.signedIn = '111';
    const first = await flow('discord');
    expect((await first.land()).status).toBe(303);
    expect((await first.land()).status).toBe(400); // replay: state used up

    const other = await flow('discord');
    expect((await fetch(other.callback, { redirect: 'manual' })).status).toBe(400); // no cookie: another browser
    expect((await other.land()).status).toBe(303); // the browser that started it still can finish

    const forged = new URL(other.callback);
    forged.searchParams.set('state', 'forged');
    const res = await fetch(forged, { redirect: 'manual', headers: { cookie: 'steward_oauth=forged' } });
    expect(res.status).toBe(400);
    const noState = new URL(other.callback);
    noState.searchParams.delete('state');
    expect(
      (await fetch(noState, { redirect: 'manual', headers: { cookie: other.oauthCookie } })).status,
    ).toBe(400);

    discord.oauth.signedIn = null;
    const denied = await flow('discord');
    expect(new URL(denied.callback).searchParams.get('error')).toBe('access_denied');
    expect((await denied.land()).status).toBe(400);
  });

  it('refuses a code the provider will not exchange (wrong client secret)', async () => {
    await h.close();
    h = await startDashboard({
      providers: [
        new DiscordOAuth({ clientId: discord.applicationId, clientSecret: 'wrong', apiUrl: discord.apiUrl }),
      ],
    });
    discord.oauth.signedIn = '111';
    const res = await (await flow('discord')).land();
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('wrong');
  });
});

describe('Sign in with Slack (OpenID Connect, against the emulator)', () => {
  it('a workspace admin gets their workspace; a listed admin too; a member gets no session', async () => {
    slack.oidc.signedIn = 'U0ADMIN';
    const admin = await (await flow('slack')).land();
    expect(admin.status).toBe(303);
    expect((await sessionOf(admin)).body.workspaces.map((w) => w.workspaceId)).toEqual([
      slack.workspace.team.id,
    ]);

    slack.oidc.signedIn = 'U0LISTED';
    expect((await (await flow('slack')).land()).status).toBe(303);

    slack.oidc.signedIn = 'U0MEMBER';
    expect((await (await flow('slack')).land()).status).toBe(403);
  });

  it('refuses an ID token minted for another sign-in (nonce) and a replayed code', async () => {
    slack.oidc.signedIn = 'U0ADMIN';
    const a = await flow('slack');
    const b = await flow('slack');
    // A's code with B's state and cookie: the code is valid, but its ID token carries A's nonce.
    const swapped = new URL(b.callback);
    swapped.searchParams.set('code', new URL(a.callback).searchParams.get('code')!);
    const res = await fetch(swapped, { redirect: 'manual', headers: { cookie: b.oauthCookie } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('does not match this sign-in');
    // A's own callback now fails too: its code was spent.
    expect((await a.land()).status).toBe(400);
  });
});
