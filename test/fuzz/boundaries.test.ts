import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseButtonId } from '../../adapters/discord/alert.ts';
import { buttonOf } from '../../adapters/slack/blocks.ts';
import { renderReply } from '../../adapters/slack/interactions.ts';
import { RequestGate } from '../../adapters/slack/receiver.ts';
import { escapeMrkdwn, plainText } from '../../adapters/slack/text.ts';
import { parseLine } from '../../app/cli/analyze-input.ts';
import { parseInboundJob, prepareInbound } from '../../queue/jobs.ts';
import { parseCommand } from '../../src/commands/parse.ts';
import { loadConfig } from '../../src/config.ts';
import { MAX_TEXT_LENGTH, readableText, textProblem } from '../../src/domain/message.ts';
import { authoriseModAction, isModAction } from '../../src/domain/moderation-actions.ts';
import { StewardError, UserError } from '../../src/errors.ts';
import { slackSignature } from '../emulators/slack/signed.ts';

// Issue 13: every input boundary under generated input. FUZZ_RUNS (default 10,000) cases per property; fixed seed
// per run printed by fast-check on failure, so a failure replays with `seed`/`path`.
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** Generous: CI machines are shared; the whole file takes ~20 s of CPU at 10,000 runs. */
const TIMEOUT_MS = 180_000;
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };

/** Strings that look like what hostile members type: Slack/Discord markup, controls, long runs, odd Unicode. */
const hostile = fc.oneof(
  fc.string({ maxLength: 200, unit: 'grapheme' }),
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc
    .array(
      fc.constantFrom(
        '<!channel>',
        '<!here>',
        '<@U0ADMIN>',
        '<@U1|x>',
        '<#C1|general>',
        '<https://evil.example|Click to verify>',
        '&lt;',
        '&amp;',
        '\u202e',
        '\u0085',
        '\u0000',
        '"',
        ':',
        ' ',
        '\n',
        '0x1',
        '1e0',
        '%',
        'topics',
        'add',
        'config',
        'threshold',
        'offensive',
        '0.5',
        '#mods',
        '@role',
        '😀',
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join('')),
);

describe('fuzz: analyze lines', () => {
  it(
    'GIVEN any bytes THEN parseLine never throws and answers text it can analyse or a clear error',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            hostile.map((s) => new TextEncoder().encode(s)),
            fc
              .record({ text: hostile, user: fc.string() })
              .map((o) => new TextEncoder().encode(JSON.stringify(o))),
          ),
          fc.constantFrom('auto', 'text', 'jsonl') as fc.Arbitrary<'auto' | 'text' | 'jsonl'>,
          (bytes, format) => {
            const parsed = parseLine({ n: 1, bytes: Buffer.from(bytes), tooLong: false }, format);
            if ('error' in parsed) {
              expect(parsed.error.length).toBeGreaterThan(3);
            } else {
              expect(parsed.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
              expect(textProblem(parsed.text)).toBeNull();
              expect(readableText(parsed.text)).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
            }
          },
        ),
        params,
      );
    },
    TIMEOUT_MS,
  );
});

describe('fuzz: slash-command arguments', () => {
  it(
    'GIVEN any command text THEN a command or a UserError that says what to type, never another error',
    () => {
      const prefixes = fc.constantFrom(
        '',
        'topics add ',
        'topics remove ',
        'config threshold offensive ',
        'config threshold ',
        'config moderation-channel ',
        'config exempt ',
        'config mode ',
        'config replies ',
        'flags ',
      );
      fc.assert(
        fc.property(prefixes, hostile, (prefix, rest) => {
          try {
            const command = parseCommand(`${prefix}${rest}`);
            expect(typeof command.kind).toBe('string');
            if (command.kind === 'config.threshold' && command.value !== null) {
              expect(command.value).toBeGreaterThanOrEqual(0);
              expect(command.value).toBeLessThanOrEqual(1);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(UserError);
            expect((error as Error).message.length).toBeGreaterThan(3);
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'GIVEN any reply text THEN the Slack rendering never carries live markup but channel links',
    () => {
      fc.assert(
        fc.property(hostile, fc.option(hostile), (text, title) => {
          const out = renderReply({ ok: true, text, ephemeral: true, ...(title ? { title } : {}) });
          expect(out.replace(/<#[CG][A-Z0-9]{1,30}>/g, '')).not.toMatch(/[<>]/);
          expect(out.length).toBeLessThanOrEqual(3_900);
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});

describe('fuzz: button ids', () => {
  it(
    'GIVEN any custom id / action id THEN parsed to a known action or refused; another workspace never authorised',
    () => {
      const id = fc.oneof(
        hostile,
        fc.tuple(fc.constantFrom('steward', 'x'), fc.string(), hostile).map((p) => p.join(':')),
      );
      const actor = fc.record({
        platform: fc.constantFrom('discord', 'slack', 'local') as fc.Arbitrary<'discord' | 'slack' | 'local'>,
        workspaceId: fc.string({ minLength: 1, maxLength: 20 }),
      });
      fc.assert(
        fc.property(id, actor, actor, (customId, flagOwner, clicker) => {
          const parsed = parseButtonId(customId);
          if (parsed) {
            expect(isModAction(parsed.action)).toBe(true);
            expect(parsed.flagId.length).toBeGreaterThan(0);
          }
          const slack = buttonOf(customId);
          if (slack) expect(['dismiss', 'delete', 'warn']).toContain(slack);
          const verdict = authoriseModAction(flagOwner, parsed?.action ?? 'dismiss', {
            ...clicker,
            capabilities: new Set(['manage_messages', 'moderate_members']),
          });
          const same =
            flagOwner.platform === clicker.platform && flagOwner.workspaceId === clicker.workspaceId;
          if (!same) expect(verdict.ok).toBe(false);
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});

describe('fuzz: Slack and Discord event payloads', () => {
  const secret = 'fuzz-signing-secret';
  const gate = new RequestGate({ signingSecret: secret });

  it(
    'GIVEN any signed or unsigned body and headers THEN the request gate answers a verdict, never throws',
    () => {
      const now = Math.floor(Date.now() / 1000);
      fc.assert(
        fc.property(
          fc.oneof(
            hostile,
            fc.json(),
            fc.constantFrom('null', '[]', '1', '"x"', 'payload=null', 'payload=%7B%7D', 'ssl_check=1'),
          ),
          fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', ''),
          fc.constantFrom('signed', 'forged', 'future', 'garbage'),
          fc.integer(),
          (body, type, signing, n) => {
            const ts = signing === 'future' ? now + 400 : signing === 'garbage' ? n : now;
            const headers = {
              'content-type': type,
              'x-slack-request-timestamp': signing === 'garbage' ? `${n}x` : String(ts),
              'x-slack-signature': slackSignature(signing === 'forged' ? 'other' : secret, ts, `${body}${n}`),
            };
            const verdict = gate.check(headers, Buffer.from(`${body}${n}`));
            if (signing !== 'signed') expect(verdict.ok && !/ssl_check=1/.test(`${body}${n}`)).toBe(false);
            if (!verdict.ok) expect([200, 400, 401]).toContain(verdict.status);
          },
        ),
        params,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'GIVEN any Slack message text THEN normalised text fits the cap and the queue accepts the message',
    () => {
      const slackText = fc.oneof(
        hostile,
        fc
          .array(fc.constantFrom('<@U0AAAAAAA>', 'idiot ', '<!here>', '&amp;'), { maxLength: 3_000 })
          .map((p) => p.join('')),
      );
      fc.assert(
        fc.property(slackText, fc.string({ maxLength: 200 }), (text, name) => {
          const out = plainText(text, 'UBOT', () => name);
          expect(out.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          expect(escapeMrkdwn(out)).not.toMatch(/[<>]/);
        }),
        { ...params, numRuns: Math.max(1, Math.floor(RUNS / 5)) },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'GIVEN any inbound payload (what Discord and Slack adapters enqueue) THEN a job id, and a message or a coded error',
    () => {
      const payload = fc.oneof(
        fc.anything({ maxDepth: 2, maxKeys: 4 }),
        fc.record(
          {
            platform: fc.constantFrom('discord', 'slack', 'local', 'teams'),
            workspaceId: fc.string({ maxLength: 30 }),
            channelId: fc.string({ maxLength: 30 }),
            messageId: fc.string({ maxLength: 30 }),
            author: fc.record({ id: fc.string({ maxLength: 10 }), name: hostile }, { requiredKeys: [] }),
            text: hostile,
            mentionsBot: fc.boolean(),
            timestamp: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)),
          },
          { requiredKeys: [] },
        ),
      );
      fc.assert(
        fc.property(payload, (p) => {
          const prepared = prepareInbound(p);
          expect(prepared.jobId.length).toBeGreaterThan(0);
          try {
            const message = parseInboundJob(prepared.data);
            expect(prepared.invalidReason).toBeNull();
            expect(message.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          } catch (error) {
            expect(error).toBeInstanceOf(StewardError);
            expect((error as StewardError).code).toMatch(/^steward\./);
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});

describe('fuzz: config values', () => {
  it(
    'GIVEN any value for any variable THEN a config or a ConfigError naming the variable, never another error',
    () => {
      const keys = fc.constantFrom(
        'LOG_LEVEL',
        'STEWARD_PREFIX',
        'STEWARD_DEVICE',
        'STEWARD_THREADS',
        'STEWARD_BATCH_SIZE',
        'STEWARD_CONCURRENCY',
        'STEWARD_LOCK_DURATION_MS',
        'STEWARD_BACKGROUND_DEFER_MS',
        'SLACK_PORT',
        'SLACK_SOCKET_MODE',
        'SLACK_ADMIN_USERS',
        'STEWARD_ALLOW_REMOTE_MODELS',
        'STEWARD_MODEL_DTYPE',
        'REDIS_URL',
      );
      const value = fc.oneof(
        hostile,
        fc.integer().map(String),
        fc.double().map(String),
        fc.constantFrom('', 'true', 'yes', '0', '-1'),
      );
      fc.assert(
        fc.property(keys, value, (key, v) => {
          try {
            loadConfig({ env: { [key]: v } });
          } catch (error) {
            expect((error as Error).name).toMatch(/steward\.config/);
            expect((error as Error).message).toContain(key);
            expect((error as Error).message.length).toBeLessThan(2_000);
          }
        }),
        params,
      );
    },
    TIMEOUT_MS,
  );
});
