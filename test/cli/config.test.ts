import { describe, expect, it } from 'vitest';
import { main } from '../../app/cli/main.ts';
import { memoryIo } from './io.ts';

describe('steward config --print', () => {
  it('GIVEN tokens and secrets in the environment THEN none of them appears in the output', async () => {
    const secrets = {
      DISCORD_TOKEN: 'MTIzNDU2Nzg5.discord-secret-token-value',
      SLACK_BOT_TOKEN: 'xoxb-slack-secret-bot-token',
      SLACK_SIGNING_SECRET: 'slack-signing-secret-value',
      SLACK_APP_TOKEN: 'xapp-slack-secret-app-token',
      REDIS_URL: 'redis://:redis-password-value@127.0.0.1:6379',
    };
    const io = memoryIo({ ...secrets, STEWARD_BATCH_SIZE: '32' });
    expect(await main(['config', '--print'], io)).toBe(0);
    const printed = io.out();
    for (const secret of Object.values(secrets)) expect(printed).not.toContain(secret);
    expect(printed).not.toContain('redis-password-value');
    const config = JSON.parse(printed);
    expect(config.discord.token).toBe('[redacted]');
    expect(config.worker.batchSize).toBe(32);
  });

  it('GIVEN a bad value THEN exit code 2 and a message naming the variable and the expected form', async () => {
    const io = memoryIo({ STEWARD_BATCH_SIZE: 'lots' });
    expect(await main(['config', '--print'], io)).toBe(2);
    expect(io.err()).toContain('STEWARD_BATCH_SIZE');
    expect(io.out()).toBe('');
  });

  it('GIVEN an unknown command or flag THEN exit code 2 with the usage', async () => {
    const io = memoryIo({});
    expect(await main(['dance'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "dance"');
    const flagIo = memoryIo({});
    expect(await main(['worker', '--turbo'], flagIo)).toBe(2);
    expect(flagIo.err()).toContain('Usage: steward');
  });

  it('GIVEN help THEN every command is listed', async () => {
    const io = memoryIo({});
    expect(await main(['help'], io)).toBe(0);
    for (const command of ['local', 'bot', 'worker', 'analyze', 'config --print', 'invite-url']) {
      expect(io.out()).toContain(command);
    }
  });
});

describe('steward bot / worker without their variables', () => {
  it('GIVEN no platform variables THEN bot exits 2 naming what to set', async () => {
    const io = memoryIo({});
    expect(await main(['bot'], io)).toBe(2);
    expect(io.err()).toContain('DISCORD_TOKEN');
    expect(io.err()).toContain('SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
  });

  it('GIVEN Slack half configured THEN bot names the missing variable', async () => {
    const io = memoryIo({ SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(await main(['bot'], io)).toBe(2);
    expect(io.err()).toContain('SLACK_SIGNING_SECRET is missing');
  });

  it('GIVEN no REDIS_URL THEN worker exits 2 naming it', async () => {
    const io = memoryIo({});
    expect(await main(['worker'], io)).toBe(2);
    expect(io.err()).toContain('REDIS_URL');
  });

  it('GIVEN --device with a bad value THEN exit 2 naming models.device', async () => {
    const io = memoryIo({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(await main(['worker', '--device', 'tpu'], io)).toBe(2);
    expect(io.err()).toContain('models.device');
  });

  it('GIVEN invite-url without an application id THEN exit 2 naming DISCORD_APPLICATION_ID', async () => {
    const io = memoryIo({});
    expect(await main(['invite-url'], io)).toBe(2);
    expect(io.err()).toContain('DISCORD_APPLICATION_ID');
    const ok = memoryIo({ DISCORD_APPLICATION_ID: '123456789012345678' });
    expect(await main(['invite-url'], ok)).toBe(0);
    expect(ok.out()).toContain('client_id=123456789012345678');
  });
});
