import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/parse.ts';
import { UserError } from '../../src/errors.ts';

function hintOf(input: string): string {
  try {
    parseCommand(input);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return `${(error as UserError).message} ${(error as UserError).hint}`;
  }
  throw new Error(`expected "${input}" to be refused`);
}

describe('parseCommand (text form)', () => {
  it('GIVEN topics add WHEN the description has several words THEN the rest of the line is the description', () => {
    expect(parseCommand('topics add movies  films, cinema and what to watch')).toEqual({
      kind: 'topics.add',
      name: 'movies',
      description: 'films, cinema and what to watch',
    });
  });

  it('GIVEN a leading /steward or / THEN it is ignored', () => {
    expect(parseCommand('/steward topics list')).toEqual({ kind: 'topics.list' });
    expect(parseCommand('/config show')).toEqual({ kind: 'config.show' });
    expect(parseCommand('/status')).toEqual({ kind: 'status' });
  });

  it('GIVEN nothing THEN it is help', () => {
    expect(parseCommand('')).toEqual({ kind: 'help' });
    expect(parseCommand('help')).toEqual({ kind: 'help' });
  });

  it('GIVEN config threshold with a label and a number THEN both are parsed', () => {
    expect(parseCommand('config threshold Offensive 0.75')).toEqual({
      kind: 'config.threshold',
      label: 'offensive',
      value: 0.75,
    });
    expect(parseCommand('config threshold threat 40%')).toMatchObject({ value: 0.4 });
    expect(parseCommand('config threshold threat default')).toMatchObject({ value: null });
  });

  it('GIVEN a threshold outside 0..1 THEN the hint shows the command to type', () => {
    expect(hintOf('config threshold offensive 1.5')).toContain('config threshold <label> <0..1|default>');
    expect(hintOf('config threshold offensive abc')).toContain('e.g. `config threshold offensive 0.7`');
  });

  it('GIVEN the modes THEN each accepts only its choices', () => {
    expect(parseCommand('config mode auto-hide')).toEqual({ kind: 'config.mode', mode: 'auto-hide' });
    expect(parseCommand('config replies TOPICS')).toEqual({ kind: 'config.replies', mode: 'topics' });
    expect(parseCommand('config sentiment-tags strong')).toEqual({
      kind: 'config.sentiment-tags',
      value: 'strong',
    });
    expect(hintOf('config replies sometimes')).toContain('config replies off|mention|topics');
  });

  it('GIVEN a moderation channel as a Discord, Slack or typed mention THEN the id is kept', () => {
    expect(parseCommand('config moderation-channel <#1234567890>')).toMatchObject({
      channelId: '1234567890',
    });
    expect(parseCommand('config moderation-channel <#C0123ABC|mods>')).toMatchObject({
      channelId: 'C0123ABC',
    });
    expect(parseCommand('config moderation-channel #moderators')).toMatchObject({ channelId: 'moderators' });
    expect(parseCommand('config moderation-channel off')).toMatchObject({ channelId: null });
  });

  it('GIVEN a role where a channel belongs THEN the hint says to type a channel', () => {
    expect(hintOf('config moderation-channel <@&42>')).toContain('is a role, not a channel');
  });

  it('GIVEN exempt with a channel or a role mention THEN the target type follows the mention', () => {
    expect(parseCommand('config exempt <#99>')).toEqual({
      kind: 'config.exempt',
      target: { type: 'channel', id: '99' },
    });
    expect(parseCommand('config exempt <@&77>')).toEqual({
      kind: 'config.exempt',
      target: { type: 'role', id: '77' },
    });
    expect(parseCommand('config unexempt <!subteam^S0ABC|@mods>')).toEqual({
      kind: 'config.unexempt',
      target: { type: 'role', id: 'S0ABC' },
    });
    expect(parseCommand('config exempt @helpers')).toMatchObject({ target: { type: 'role', id: 'helpers' } });
  });

  it('GIVEN exempt with a bare number or a member THEN it is refused with the form to use', () => {
    expect(hintOf('config exempt 12345')).toContain('config exempt <#channel|@role>');
    expect(hintOf('config exempt <@12345>')).toContain('is a member');
  });

  it('GIVEN flags with or without a filter THEN open is the default', () => {
    expect(parseCommand('flags')).toEqual({ kind: 'flags', status: 'open' });
    expect(parseCommand('flags all')).toEqual({ kind: 'flags', status: 'all' });
  });

  it('GIVEN an unknown command or subcommand THEN the hint lists what exists', () => {
    expect(hintOf('dance')).toContain('Type `help`');
    expect(hintOf('topics rename a b')).toContain('`topics add <name> <description>`');
    expect(hintOf('config')).toContain('`config show`');
  });

  it('GIVEN a missing argument or extra words THEN the usage is the hint', () => {
    expect(hintOf('topics add movies')).toContain('Missing <description>');
    expect(hintOf('topics remove')).toContain('`topics remove <name>`');
    expect(hintOf('status now')).toContain('takes no more words');
  });

  it('GIVEN a topic name with spaces or symbols THEN it is refused', () => {
    expect(hintOf('topics remove movies!')).toContain('not a valid topic name');
  });
});

describe('parseCommand (structured form)', () => {
  it('GIVEN Discord group/sub/options THEN the same Command as the text form', () => {
    expect(
      parseCommand({ group: 'topics', sub: 'add', options: { name: 'movies', description: 'films' } }),
    ).toEqual(parseCommand('topics add movies films'));
    expect(
      parseCommand({ group: 'config', sub: 'threshold', options: { label: 'threat', value: 0.3 } }),
    ).toEqual(parseCommand('config threshold threat 0.3'));
    expect(parseCommand({ group: null, sub: 'status' })).toEqual({ kind: 'status' });
  });

  it('GIVEN exempt with a channel or a role option THEN the option decides the target type', () => {
    expect(parseCommand({ group: 'config', sub: 'exempt', options: { channel: '123' } })).toMatchObject({
      target: { type: 'channel', id: '123' },
    });
    expect(
      parseCommand({ group: 'config', sub: 'exempt', options: { role: '456', channel: null } }),
    ).toMatchObject({
      target: { type: 'role', id: '456' },
    });
  });

  it('GIVEN a missing required option THEN a UserError', () => {
    expect(() => parseCommand({ group: 'config', sub: 'mode', options: {} })).toThrow(UserError);
  });
});
