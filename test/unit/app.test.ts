import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { App, platformsConfigured } from '../../app/app.ts';
import { inferenceThreads, loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';

const silent = createLogger({ level: 'silent' });

function part(name: string, log: string[], fail?: 'start' | 'stop') {
  return {
    start: async () => {
      if (fail === 'start') throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
      if (fail === 'stop') throw new Error(`${name} cannot stop`);
    },
  };
}

describe('App', () => {
  it('GIVEN parts THEN they start in order and stop in reverse order', async () => {
    const log: string[] = [];
    const app = new App(silent);
    app.add('store', part('store', log));
    app.add('queue', part('queue', log));
    app.add('adapter', part('adapter', log));
    await app.start();
    await app.stop();
    expect(log).toEqual([
      'start store',
      'start queue',
      'start adapter',
      'stop adapter',
      'stop queue',
      'stop store',
    ]);
  });

  it('GIVEN stop called twice THEN each part stops once', async () => {
    const log: string[] = [];
    const app = new App(silent);
    app.add('store', part('store', log));
    await app.start();
    expect(app.stop()).toBe(app.stop());
    await app.stop();
    expect(log.filter((l) => l.startsWith('stop'))).toEqual(['stop store']);
  });

  it('GIVEN a part that fails to start THEN stop closes only what started', async () => {
    const log: string[] = [];
    const app = new App(silent);
    app.add('store', part('store', log));
    app.add('models', part('models', log, 'start'));
    app.add('adapter', part('adapter', log));
    await expect(app.start()).rejects.toThrow('models cannot start');
    await app.stop();
    expect(log).toEqual(['start store', 'stop store']);
  });

  it('GIVEN a part that fails to stop THEN the others still stop and the failure is reported', async () => {
    const log: string[] = [];
    const app = new App(silent);
    app.add('store', part('store', log));
    app.add('queue', part('queue', log, 'stop'));
    await app.start();
    await expect(app.stop()).rejects.toThrow('queue');
    expect(log).toContain('stop store');
  });
});

describe('platformsConfigured', () => {
  const config = (env: Record<string, string>) => loadConfig({ env });

  it('GIVEN only DISCORD_TOKEN THEN just Discord', () => {
    expect(platformsConfigured(config({ DISCORD_TOKEN: 'x' }))).toEqual(['discord']);
  });

  it('GIVEN the Slack HTTP variables THEN just Slack', () => {
    expect(platformsConfigured(config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }))).toEqual([
      'slack',
    ]);
  });

  it('GIVEN both THEN both', () => {
    const both = config({ DISCORD_TOKEN: 'x', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    expect(platformsConfigured(both)).toEqual(['discord', 'slack']);
  });

  it('GIVEN Socket Mode without an app token THEN the error names SLACK_APP_TOKEN', () => {
    expect(() =>
      platformsConfigured(config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SOCKET_MODE: 'true' })),
    ).toThrow(/SLACK_APP_TOKEN/);
  });

  it('GIVEN nothing THEN a ConfigError that names the variables of both platforms', () => {
    expect(() => platformsConfigured(config({}))).toThrow(ConfigError);
    expect(() => platformsConfigured(config({}))).toThrow(/DISCORD_TOKEN[\s\S]*SLACK_BOT_TOKEN/);
  });
});

describe('inferenceThreads', () => {
  const cores = availableParallelism();
  it('GIVEN STEWARD_THREADS THEN every process uses it', () => {
    const { models } = loadConfig({ env: { STEWARD_THREADS: '3' } });
    expect(inferenceThreads(models, 'worker')).toBe(3);
    expect(inferenceThreads(models, 'engine')).toBe(3);
  });
  it('GIVEN no setting THEN a worker process leaves its event loop a core, other engines use them all', () => {
    const { models } = loadConfig({ env: {} });
    expect(models.threads).toBeUndefined();
    expect(inferenceThreads(models, 'worker')).toBe(Math.max(1, cores - 1));
    expect(inferenceThreads(models, 'engine')).toBe(cores);
  });
});
