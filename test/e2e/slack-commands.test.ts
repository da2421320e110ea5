import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, createSlackHarness, type SlackHarness, USERS } from '../emulators/slack/harness.ts';

// `/steward` through the real Bolt receiver; answers go to the emulator's response_url endpoints.
describe('Slack /steward command', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await createSlackHarness({ withWorker: false, adminUsers: ['U0TRUSTED'] });
    h.emulator.workspace.addUser({ id: 'U0TRUSTED', name: 'trusty' });
  });
  afterAll(() => h?.cleanup());

  /** Sends the command and returns the HTTP answer plus what was posted to its response_url. */
  async function run(userId: string, text: string) {
    const started = performance.now();
    const sent = await h.sender.command({ userId, channelId: CHANNELS.general, text });
    const ackMs = performance.now() - started;
    const id = sent.responseUrl.split('/').at(-1);
    const answer = await h.emulator.waitFor(
      () => h.emulator.responses.find((r) => r.id === id),
      10_000,
      `the answer to "${text}"`,
    );
    return { status: sent.status, ackMs, body: answer.body };
  }

  it('GIVEN a member who is no admin WHEN they run config replies off THEN they are refused privately and nothing changes', async () => {
    const { status, ackMs, body } = await run(USERS.member, 'config replies off');
    expect(status).toBe(200);
    expect(ackMs).toBeLessThan(3_000);
    expect(body.response_type).toBe('ephemeral');
    expect(String(body.text)).toMatch(/Only workspace admins/);
    expect((await h.stack.store.getSettings('slack', h.teamId)).replyMode).toBe('mention');
  });

  it('GIVEN a workspace admin WHEN they run config replies off THEN the setting changes', async () => {
    const { body } = await run(USERS.admin, 'config replies off');
    expect(body.response_type).toBe('ephemeral');
    expect(String(body.text)).toMatch(/will not reply/);
    expect((await h.stack.store.getSettings('slack', h.teamId)).replyMode).toBe('off');
  });

  it('GIVEN a user on SLACK_ADMIN_USERS WHEN they add a topic THEN it is added', async () => {
    const { body } = await run('U0TRUSTED', 'topics add gardening Growing vegetables and flowers');
    expect(String(body.text)).toMatch(/Added topic `gardening`/);
    const settings = await h.stack.store.getSettings('slack', h.teamId);
    expect(settings.topics.map((t) => t.name)).toContain('gardening');
  });

  it('GIVEN an admin WHEN they name the moderation channel with Slack syntax THEN its id is stored', async () => {
    await run(USERS.admin, `config moderation-channel <#${CHANNELS.mods}|moderators>`);
    expect((await h.stack.store.getSettings('slack', h.teamId)).moderationChannelId).toBe(CHANNELS.mods);
  });

  it('GIVEN a malformed argument WHEN the command runs THEN the private answer says what to type instead', async () => {
    const { body } = await run(USERS.admin, 'config threshold offensive 7');
    expect(body.response_type).toBe('ephemeral');
    expect(String(body.text)).toMatch(/0\.\.1|between 0 and 1|0 and 1/);
  });

  it('GIVEN any member WHEN they ask for help THEN only member commands are listed', async () => {
    const { body } = await run(USERS.member, 'help');
    expect(String(body.text)).not.toMatch(/config replies/);
  });

  it('GIVEN the status command WHEN an admin runs it THEN queue counts come back', async () => {
    const { body } = await run(USERS.admin, 'status');
    expect(String(body.text)).toMatch(/inbound/);
  });
});
