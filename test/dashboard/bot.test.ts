import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createBotApp } from '../../app/app.ts';
import { loadConfig } from '../../src/config.ts';
import { seedCommunity } from '../emulators/discord/community.ts';
import { fakeToken } from '../emulators/discord/harness.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import { deletePrefix, REDIS_URL, randomPrefix, testLogger } from '../queue/fixtures.ts';

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('steward bot with STEWARD_DASHBOARD_PORT', () => {
  it('serves the dashboard and steward_ metrics beside the adapters, and prints the sign-in link', async () => {
    const token = fakeToken();
    const emulator = await new DiscordEmulator({ token }).start();
    stops.push(() => emulator.stop());
    const community = seedCommunity(emulator);
    const prefix = randomPrefix('dashboard-bot');
    stops.push(() => deletePrefix(REDIS_URL, prefix));
    const config = loadConfig({
      env: {
        REDIS_URL,
        STEWARD_PREFIX: prefix,
        DISCORD_TOKEN: token,
        DISCORD_API_URL: emulator.apiUrl,
        STEWARD_DASHBOARD_PORT: '0',
        STEWARD_DASHBOARD_WORKSPACES: `discord:${community.guildId}`,
      },
    });
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c) => {
      printed += c;
    });
    const app = await createBotApp(config, testLogger(), out);
    await app.start();
    stops.push(() => app.stop());

    const url = /Steward dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1];
    const link = /Sign in \(one-time link\): (\S+)/.exec(printed)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toMatch(/^steward_queue_jobs\{queue="outbound-discord",state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^steward_process_resident_memory_bytes /m);

    const signIn = await fetch(link!, { redirect: 'manual' });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = (await (await fetch(`${url}api/session`, { headers: { cookie } })).json()) as {
      workspaces: Array<{ workspaceId: string }>;
    };
    expect(session.workspaces.map((w) => w.workspaceId)).toEqual([community.guildId]);
  });
});

describe('dashboard configuration', () => {
  it('redacts the OAuth client secrets in config --print and refuses a malformed workspace list', async () => {
    const { redactConfig } = await import('../../src/config.ts');
    const config = loadConfig({
      env: { DISCORD_CLIENT_SECRET: 'discord-secret-value', SLACK_CLIENT_SECRET: 'slack-secret-value' },
    });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('discord-secret-value');
    expect(printed).not.toContain('slack-secret-value');
    expect(() => loadConfig({ env: { STEWARD_DASHBOARD_WORKSPACES: 'guild-1' } })).toThrow(
      /dashboard\.workspaces.*platform:workspace-id/,
    );
    expect(loadConfig({ env: {} }).dashboard).toMatchObject({
      host: '127.0.0.1',
      workspaces: ['local:local'],
    });
  });
});
