import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { DefaultSlackTuning } from '../../adapters/slack/options.ts';
import { SlackOutbound } from '../../adapters/slack/outbound.ts';
import { SlackEmulator } from '../emulators/slack/index.ts';
import { testLogger } from '../queue/fixtures.ts';
import { flag, type Harness, signIn, startDashboard } from './fixtures.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('Warn from the dashboard on Slack', () => {
  it('queues a warning the Slack adapter delivers as a DM to the author (emulator); Timeout is refused on Slack', async () => {
    const slack = await new SlackEmulator({ botToken: 'xoxb-bot' }).start();
    stops.push(() => slack.stop());
    slack.workspace.addUser({ id: 'U0AUTHOR', name: 'author' });
    const h: Harness = await startDashboard();
    stops.push(() => h.close());
    const web = new webApi.WebClient('xoxb-bot', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const outbound = new SlackOutbound({
      web,
      deleter: web,
      haveUserToken: false,
      store: h.store,
      tuning: DefaultSlackTuning,
      log: testLogger(),
      secrets: ['xoxb-bot'],
    } as ConstructorParameters<typeof SlackOutbound>[0]);
    const consumer = await h.queue.consumeOutbound('slack', (a) => outbound.perform(a), { concurrency: 1 });
    stops.push(() => consumer.close());

    const f = flag({
      platform: 'slack',
      workspaceId: slack.workspace.team.id,
      channelId: 'C0GENERAL',
      authorId: 'U0AUTHOR',
    });
    await h.store.recordFlag(f);
    const grant = {
      platform: 'slack' as const,
      workspaceId: slack.workspace.team.id,
      name: 't',
      isAdmin: true,
    };
    const c = await signIn(h, [grant]);
    const path = `/api/flags/${encodeURIComponent(f.id)}/actions`;
    expect((await c.post(path, { action: 'timeout' })).status).toBe(400);
    expect((await c.post(path, { action: 'warn' })).status).toBe(200);
    const dm = await slack.waitFor(
      () => slack.okCalls('chat.postMessage').find((call) => call.params.channel === 'U0AUTHOR'),
      10_000,
      'the DM',
    );
    expect(String(dm.params.text)).toContain('community guidelines');
    expect((await h.store.getFlag(f.id))?.history.at(-1)).toMatchObject({ action: 'warn', actorId: 'mod-1' });
  });
});
