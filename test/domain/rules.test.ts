import { describe, expect, it } from 'vitest';
import { deobfuscate, foldLeet } from '../../src/domain/deobfuscate.ts';
import { BUILTIN_RULES, compileRule, effectiveRules, RuleSet } from '../../src/domain/rules.ts';

const builtins = new RuleSet(BUILTIN_RULES);
const labels = (text: string) => [...new Set(builtins.match(deobfuscate(text)).map((h) => h.label))];

describe('deobfuscate', () => {
  it('GIVEN leetspeak, masking, spacing, zero-width and look-alike letters THEN the hidden word comes back', () => {
    expect(deobfuscate('you 1d10t')).toBe('you idiot');
    expect(deobfuscate('f*ck off')).toBe('fuck off');
    expect(deobfuscate('s t u p i d')).toBe('stupid');
    expect(deobfuscate('s.t.u.p.i.d')).toBe('stupid');
    expect(deobfuscate('r3tard')).toBe('retard');
    expect(deobfuscate('st\u200bupid')).toBe('stupid');
    expect(deobfuscate('\u0456d\u0456ot')).toBe('idiot'); // Cyrillic і
  });

  it('GIVEN ordinary text with digits, single letters and stars THEN it reaches the model unchanged', () => {
    for (const text of [
      'I have 2 cats and an mp3',
      'plan a b c',
      'the 4k h264 stream',
      'rated 5* hotel',
      'wow!!!',
    ]) {
      expect(deobfuscate(text)).toBe(text);
    }
  });

  it('GIVEN a mask that fits several words THEN it is left alone rather than guessed', () => {
    expect(deobfuscate('d***')).toBe('d***'); // dick? dumb?
    expect(deobfuscate('m***n')).toBe('moron'); // one word fits: read
  });

  it('GIVEN digits inside words THEN foldLeet reads them as letters (for rules only)', () => {
    expect(foldLeet('i will f1nd wh3re u l1ve')).toBe('i will find where u live');
    expect(foldLeet('meet at 10 pm')).toBe('meet at 10 pm');
  });
});

describe('built-in rules', () => {
  it('GIVEN threats THEN the threat label', () => {
    for (const text of [
      'I will find where you live and hurt you',
      "I'll stab you next time I see you",
      "i'm gonna kill you",
      'watch your back',
      'ur dead',
    ])
      expect(labels(text), text).toContain('threat');
  });

  it('GIVEN self-harm incitement, plain or obfuscated THEN the self_harm label', () => {
    for (const text of [
      'just kill yourself',
      'go jump off a bridge',
      'kys',
      'k y s',
      'K.Y.S',
      'nobody would miss you',
    ])
      expect(labels(text), text).toContain('self_harm');
  });

  it('GIVEN benign look-alikes THEN no rule matches', () => {
    for (const text of [
      'kill the process and restart it',
      'this boss is killing me',
      'we destroyed them in ranked',
      'I could kill for a pizza',
      'you are dead to me',
      'die hard is a great movie',
      'that joke killed me',
      'the battery died',
    ])
      expect(labels(text), text).toEqual([]);
  });
});

describe('rule lists', () => {
  it('GIVEN a workspace that switched a built-in off and added its own THEN both apply', () => {
    const rules = effectiveRules({
      disabledRules: ['builtin:self-harm-kys'],
      rules: [{ id: 'r1', label: 'threat', kind: 'phrase', value: 'meet me outside' }],
    });
    const set = new RuleSet(rules);
    expect(set.match('kys')).toEqual([]);
    expect(set.match('Meet  me OUTSIDE after school')).toEqual([
      { id: 'r1', label: 'threat', match: 'Meet  me OUTSIDE' },
    ]);
    expect(set.match('meet me outsides')).toEqual([]);
  });

  it('GIVEN a pattern with nested repetition or invalid syntax THEN it is refused with the reason', () => {
    expect(() => compileRule({ kind: 'pattern', value: '(a+)+b' })).toThrow(/nested repetition/);
    expect(() => compileRule({ kind: 'pattern', value: '(unclosed' })).toThrow(
      /not a valid regular expression/,
    );
  });
});
