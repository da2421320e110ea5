import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  alertEmbed,
  buttonId,
  jumpLink,
  parseButtonId,
  parseJumpLink,
} from '../../adapters/discord/alert.ts';
import { canonicalCommand, stewardCommand } from '../../adapters/discord/commands.ts';
import { scrub } from '../../adapters/discord/errors.ts';
import { discordInviteUrl } from '../../adapters/discord/invite.ts';
import { splitMessage } from '../../adapters/discord/split.ts';
import { alertAction } from '../support/actions.ts';

describe('discordInviteUrl', () => {
  it('GIVEN an application id THEN the URL asks for bot + applications.commands and exactly the needed permissions', () => {
    const url = new URL(discordInviteUrl('123456789012345678'));
    expect(url.origin + url.pathname).toBe('https://discord.com/oauth2/authorize');
    expect(url.searchParams.get('client_id')).toBe('123456789012345678');
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    const bits = BigInt(url.searchParams.get('permissions')!);
    const P = PermissionFlagsBits;
    const wanted = [
      P.ViewChannel,
      P.SendMessages,
      P.SendMessagesInThreads,
      P.ReadMessageHistory,
      P.AddReactions,
      P.ManageMessages,
      P.ModerateMembers,
      P.EmbedLinks,
      P.UseApplicationCommands,
    ];
    expect(bits).toBe(wanted.reduce((a, b) => a | b, 0n));
    expect(bits & P.Administrator).toBe(0n);
  });

  it('GIVEN something that is not a snowflake THEN it throws', () => {
    expect(() => discordInviteUrl('my-app')).toThrow(/snowflake/);
  });
});

describe('splitMessage', () => {
  it('GIVEN short text THEN one part', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
  });

  it('GIVEN long text THEN parts under the limit, split at spaces, nothing lost', () => {
    const text = Array.from({ length: 800 }, (_, i) => `w${i}`).join(' ');
    const parts = splitMessage(text, 2000);
    expect(parts.every((p) => p.length <= 2000)).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });

  it('GIVEN one unbroken word longer than the limit THEN it is cut, emoji intact', () => {
    const parts = splitMessage('😀'.repeat(30), 25);
    expect(parts.map((p) => [...p].length)).toEqual([25, 5]);
    expect(parts.join('')).toBe('😀'.repeat(30));
  });
});

describe('alert ids and links', () => {
  it('GIVEN a flag id THEN the button id round-trips and stays within 100 characters', () => {
    const flagId = `flag:discord:${'1'.repeat(19)}:${'2'.repeat(19)}:${'3'.repeat(19)}`;
    const id = buttonId('timeout', flagId);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parseButtonId(id)).toEqual({ action: 'timeout', flagId });
    expect(parseButtonId('other:delete:x')).toBeNull();
  });

  it('GIVEN a label a rule raised THEN the Scores field reads it as the rule, the model score beside it', () => {
    const embed = alertEmbed(
      alertAction({
        target: { platform: 'discord', workspaceId: '1', channelId: '2', messageId: '4' },
        scores: { offensive: 0.09, hate: 0.01 },
        flagged: ['offensive'],
        reasons: { offensive: ['rule “他妈的”'] },
        ruleLabels: ['offensive'],
      }),
    );
    expect(embed.fields?.find((f) => f.name === 'Scores')?.value).toBe(
      '**offensive: rule, model 0.09**\nhate: 0.01',
    );
  });

  it('GIVEN a message in a thread THEN the jump link points at the thread and parses back', () => {
    const link = jumpLink({
      platform: 'discord',
      workspaceId: '1',
      channelId: '2',
      threadId: '3',
      messageId: '4',
    });
    expect(link).toBe('https://discord.com/channels/1/3/4');
    expect(parseJumpLink(link)).toEqual({ channelId: '3', messageId: '4' });
  });
});

describe('/steward definition', () => {
  it('GIVEN the shared specs THEN topics and config are groups and status a subcommand, required options first', () => {
    const command = stewardCommand() as {
      options: Array<{ name: string; type: number; options?: unknown[] }>;
    };
    const names = command.options.map((o) => `${o.type}:${o.name}`);
    expect(names).toEqual(expect.arrayContaining(['2:topics', '2:config', '1:status']));
    const json = JSON.stringify(command);
    expect(json.length).toBeLessThan(8000);
  });

  it('GIVEN the live definition with Discord-added fields THEN it compares equal to ours', () => {
    const ours = stewardCommand();
    const live = JSON.parse(
      JSON.stringify({ ...ours, id: '1', version: '2', application_id: '3', nsfw: false }),
    );
    for (const group of live.options) for (const sub of group.options ?? []) delete sub.required;
    expect(canonicalCommand(live)).toBe(canonicalCommand(ours));
    live.options[0].description = 'changed';
    expect(canonicalCommand(live)).not.toBe(canonicalCommand(ours));
  });
});

describe('scrub', () => {
  it('GIVEN text with the bot token and an interaction token THEN both are redacted', () => {
    const token = 'MTIz.abcdef.secret-token-value';
    const text = `failed ${token} at /api/v10/webhooks/123/aW50ZXJhY3Rpb24.tok/messages/@original`;
    const out = scrub(text, token);
    expect(out).not.toContain(token);
    expect(out).not.toContain('aW50ZXJhY3Rpb24.tok');
    expect(out).toContain('/webhooks/123/[redacted]');
  });
});
