import { describe, expect, it } from 'vitest';
import { createSlackAdapter, slackConfigProblems, slackRequested } from '../../adapters/slack/index.ts';
import type { QueueDriver } from '../../queue/types.ts';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';

const config = (env: Record<string, string>) => loadConfig({ env });
const deps = { queue: {} as QueueDriver, store: {} as Store, logger: createLogger({ level: 'silent' }) };

describe('Slack configuration', () => {
  it('GIVEN only SLACK_BOT_TOKEN WHEN checked THEN SLACK_SIGNING_SECRET is named as missing', () => {
    const problems = slackConfigProblems(config({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SLACK_SIGNING_SECRET is missing/);
  });

  it('GIVEN only SLACK_SIGNING_SECRET WHEN checked THEN SLACK_BOT_TOKEN is named as missing', () => {
    const problems = slackConfigProblems(config({ SLACK_SIGNING_SECRET: 'shh-0123456789' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SLACK_BOT_TOKEN is missing/);
  });

  it('GIVEN Socket Mode without an app token WHEN checked THEN SLACK_APP_TOKEN is named, not the signing secret', () => {
    const problems = slackConfigProblems(config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SOCKET_MODE: 'true' }));
    expect(problems).toEqual([expect.stringMatching(/^SLACK_APP_TOKEN is missing/)]);
  });

  it('GIVEN a user token as the bot token WHEN checked THEN the prefix is explained', () => {
    const problems = slackConfigProblems(config({ SLACK_BOT_TOKEN: 'xoxp-1', SLACK_SIGNING_SECRET: 's' }));
    expect(problems).toEqual([
      expect.stringMatching(/SLACK_BOT_TOKEN must be a bot token starting with xoxb-/),
    ]);
  });

  it('GIVEN a complete HTTP or Socket Mode setup WHEN checked THEN there is no problem', () => {
    expect(slackConfigProblems(config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }))).toEqual([]);
    expect(
      slackConfigProblems(
        config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_SOCKET_MODE: '1' }),
      ),
    ).toEqual([]);
  });

  it('GIVEN no Slack variable WHEN asked THEN Slack is not requested', () => {
    expect(slackRequested(config({}))).toBe(false);
    expect(slackRequested(config({ SLACK_SIGNING_SECRET: 's' }))).toBe(true);
  });

  it('GIVEN half a configuration WHEN the factory runs THEN a ConfigError names the variable and hides the secret', () => {
    const secret = 'xoxb-very-secret-token-value';
    let error: unknown;
    try {
      createSlackAdapter({ config: config({ SLACK_BOT_TOKEN: secret }), ...deps });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/SLACK_SIGNING_SECRET is missing/);
    expect((error as Error).message).not.toContain(secret);
  });

  it('GIVEN a full configuration WHEN the factory runs THEN nothing connects before start()', () => {
    const adapter = createSlackAdapter({
      config: config({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }),
      ...deps,
    });
    expect(adapter.platform).toBe('slack');
    expect(adapter.port).toBeNull();
    return expect(adapter.perform({} as never)).rejects.toThrow(/not started/);
  });
});
