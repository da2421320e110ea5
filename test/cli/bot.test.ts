import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { deletePrefix, randomPrefix, REDIS_URL } from '../queue/fixtures.ts';
import { fakeToken } from '../emulators/discord/harness.ts';
import { DiscordEmulator, seedCommunity } from '../emulators/discord/index.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts `steward bot` as a child process and resolves once `ready` appears in its log (stderr). */
function startBot(env: NodeJS.ProcessEnv, ready: RegExp) {
  const inherited = { ...process.env };
  delete inherited.LOG_LEVEL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'bot'], {
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (ready.test(stderr)) resolve();
    });
    exited.then((code) => reject(new Error(`steward bot exited (${code}) before it was ready:\n${stderr}`)));
  });
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, started, exited, log: () => stderr };
}

describe('steward bot (process)', () => {
  it('GIVEN only DISCORD_TOKEN and REDIS_URL THEN just Discord connects, and SIGTERM stops it cleanly with exit 0', async () => {
    const token = fakeToken();
    const emulator = await new DiscordEmulator({ token }).start();
    seedCommunity(emulator);
    cleanups.push(() => emulator.stop());
    const prefix = randomPrefix('bot');
    cleanups.push(() => deletePrefix(REDIS_URL, prefix));

    const bot = startBot(
      { DISCORD_TOKEN: token, DISCORD_API_URL: emulator.apiUrl, REDIS_URL, STEWARD_PREFIX: prefix },
      /steward bot running/,
    );
    await bot.started;
    expect(bot.log()).not.toContain('slack');
    expect(bot.log()).not.toContain(token);

    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.log()).toContain('shutting down');
  });

  it('GIVEN a token Discord rejects THEN exit 1 with the reason, the token not printed', async () => {
    const emulator = await new DiscordEmulator({ token: fakeToken() }).start();
    cleanups.push(() => emulator.stop());
    const wrong = fakeToken();
    const bot = startBot({ DISCORD_TOKEN: wrong, DISCORD_API_URL: emulator.apiUrl, REDIS_URL }, /$^/);
    bot.started.catch(() => {});
    expect(await bot.exited).toBe(1);
    expect(bot.log()).toContain('could not start');
    expect(bot.log()).not.toContain(wrong);
  });
});
