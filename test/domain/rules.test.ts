import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deobfuscate, foldLeet, joinHan, revealedWords } from '../../src/domain/deobfuscate.ts';
import {
  ALLOW_LABEL,
  BUILTIN_RULES,
  compiledRule,
  compileRule,
  effectiveRules,
  forgetCompiledRules,
  type Rule,
  RuleSet,
} from '../../src/domain/rules.ts';

const builtins = new RuleSet(BUILTIN_RULES);
/** What one built-in rule matched in a message. */
const matchedBy = (id: string, text: string) =>
  builtins
    .match(deobfuscate(text))
    .filter((h) => h.id === id)
    .map((h) => h.match);

/** The labels the rules raise (allow rules vouch for wordings; they raise nothing). */
const labels = (text: string) =>
  [...new Set(builtins.match(deobfuscate(text)).map((h) => h.label))].filter((l) => l !== ALLOW_LABEL);

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

  it('GIVEN gaps inside a run of Han characters THEN joinHan closes them (for rules only); clause breaks stay', () => {
    expect(joinHan('杀 了 你')).toBe('杀了你');
    expect(joinHan('傻*逼 and 白 . 痴')).toBe('傻逼 and 白痴');
    expect(joinHan('我真傻，逼着自己')).toBe('我真傻，逼着自己');
    expect(joinHan('中文 English 中文')).toBe('中文 English 中文');
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
      '我叫几个兄弟去收拾你',
      '再让我看见你，我就打断你的狗腿',
      '别让我在街上碰到你 不然你就完了',
      '我知道你家在哪 等着',
      '你给我记住 这事没完',
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
      "I'll shoot you a message later",
      "I'll beat you at chess tonight",
      "please don't kill yourself, we love you",
      "I'm not gonna hurt you",
      "I'll never hurt you, I promise",
      '笑死我了',
      '我要杀掉这个进程',
      '我不想去死',
      '我打你电话没人接',
      '我来收拾你的烂摊子',
      '我不会杀了你',
      '那些弄不死你的，最终会使你强大',
      '股票赶紧跳楼价抛售',
      '我快累死了',
      '你应该死心了',
      '这该死的天气',
      '你完了没？',
      '我知道你家在哪，我们周末来玩',
      '别让我看到你哭',
      '这种事睁一只眼闭一只眼吧',
      '我带着刀去切西瓜',
      '我顺着网线过去给你点个赞',
      '我准备好刀叉等你吃饭',
      '切菜的时候小心割到自己',
      '这件衣服让你好看多了',
      '我们走着去吧',
      '投胎是个技术活',
      '碎尸案告破，嫌疑人落网',
    ])
      expect(labels(text), text).toEqual([]);
  });

  it('GIVEN plain Chinese abuse THEN offensive; harmless senses of the same words, praise and names THEN nothing', () => {
    const insult = (text: string) => matchedBy('builtin:insult-zh', text);
    expect(insult('你真是个白痴')).toEqual(['白痴']);
    expect(insult('你他妈的滚出去')).toEqual(['他妈的']);
    expect(insult('你就是个傻逼')).toEqual(['傻逼']);
    expect(insult('你这个垃圾')).toEqual(['你这个垃圾']);
    expect(insult('你们这些废物')).toEqual(['你们这些废物']);
    expect(insult('你是不是有病')).toEqual(['你是不是有病']);
    expect(labels('傻B')).toContain('offensive');
    // Written to dodge a filter: gaps inside a run of Han characters, pinyin initials.
    expect(insult('你就是个傻 逼')).toEqual(['傻逼']);
    expect(insult('白-痴')).toEqual(['白痴']);
    expect(insult('你他*妈*的')).toEqual(['他妈的']);
    expect(insult('nmsl')).toEqual(['nmsl']);
    expect(insult('你个sb')).toEqual(['你个sb']);
    expect(labels('杀 了 你')).toContain('threat');
    for (const text of [
      '我真傻，逼着自己去做', // a comma is a clause break, not a gap
      'sb told me the game was moved',
      'the SB game starts at 8',
      '畜生、また負けた', // Japanese: "damn it, lost again"
      '垃圾分类从我做起',
      '你好，垃圾桶在哪里',
      '废物利用小妙招',
      '这操作太牛逼了',
      '卧槽这也行',
      '智障儿童的教育问题',
      '等水滚开了再下面',
      '你考虑过我和你妈的感受吗',
      '你滚动一下页面',
      '这游戏真垃圾',
      '你的方案是垃圾',
      '沙比提古埃及文明',
      '尼玛次仁是我的同学',
    ])
      expect(insult(text), text).toEqual([]);
  });

  it('GIVEN everyday Chinese words built from alarming characters THEN the built-in allow rule vouches for them, and for nothing beside them', () => {
    const allowed = (text: string) => matchedBy('builtin:allow-zh-harmless', text);
    expect(allowed('杀毒软件更新了')).toEqual(['杀毒软件']);
    expect(allowed('我要打死这只蚊子')).toEqual(['打死这只蚊子']);
    expect(allowed('笑死我了')).toEqual(['笑死我了']);
    expect(allowed('你这个小傻瓜')).toEqual(['小傻瓜']);
    expect(allowed('我要打死你')).toEqual([]);
    expect(allowed('你这个傻瓜')).toEqual([]);
    // Other rules still apply beside an allowed wording.
    expect(labels('杀毒软件都救不了你这个傻逼')).toContain('offensive');
  });

  it("GIVEN the rules' development lines (fixtures/safety_dev.jsonl rounds 1–4, never the reported ones) THEN threats and self-harm are caught and benign look-alikes pass", () => {
    const items = readFileSync(
      join(import.meta.dirname, '..', '..', 'models', 'training', 'fixtures', 'safety_dev.jsonl'),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; text: string; round?: number })
      // Later rounds were written for the Chinese safety channel (models/training/safety_zh.py), not the rules.
      .filter((item) => (item.round ?? 1) < 5);
    const share = (kind: string, hit: (found: string[]) => boolean) => {
      const some = items.filter((item) => item.kind === kind);
      return some.filter((item) => hit(labels(item.text))).length / some.length;
    };
    expect(share('threat', (found) => found.includes('threat'))).toBeGreaterThanOrEqual(0.95);
    expect(share('self_harm', (found) => found.includes('self_harm'))).toBeGreaterThanOrEqual(0.95);
    expect(share('benign', (found) => found.length > 0)).toBeLessThanOrEqual(0.05);
  });
});

describe('the obfuscated-word rule', () => {
  const hitsOf = (set: RuleSet, text: string) => set.match(deobfuscate(text), revealedWords(text));

  it('GIVEN an offensive word written to dodge a filter THEN offensive, with the word as written and as read', () => {
    for (const text of ['what a r3tard', 'you absolute m0ron', 'sh!t for brains', 's t u p i d', 'іdіot']) {
      const hits = hitsOf(builtins, text).filter((h) => h.id === 'builtin:obfuscated-word');
      expect(
        hits.map((h) => h.label),
        text,
      ).toEqual(['offensive']);
      expect(hits[0]!.why, text).toMatch(/written to dodge a filter/);
    }
    expect(revealedWords('what a r3tard')).toEqual([{ written: 'r3tard', word: 'retard' }]);
  });

  it('GIVEN the same words written plainly, or digits that hide no such word THEN the rule stays silent', () => {
    for (const text of ['what a retard', 'my mp3 player', 'gg 4k 60fps', 'k.o. in round 3', 'a b c', 'k.y.s'])
      expect(
        hitsOf(builtins, text).filter((h) => h.id === 'builtin:obfuscated-word'),
        text,
      ).toEqual([]);
  });

  it('GIVEN a workspace that switched it off THEN it does not apply', () => {
    const set = new RuleSet(effectiveRules({ rules: [], disabledRules: ['builtin:obfuscated-word'] }));
    expect(hitsOf(set, 'what a r3tard')).toEqual([]);
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

  it('GIVEN a Chinese phrase THEN it matches inside a line (no spaces between words), an English one only whole', () => {
    const set = new RuleSet([
      { id: 'r1', label: 'allow', kind: 'phrase', value: '骂人会怎么样' },
      { id: 'r2', label: 'threat', kind: 'phrase', value: 'meet me outside' },
      { id: 'r3', label: 'offensive', kind: 'phrase', value: 'noob 垃圾' },
    ]);
    expect(set.match('在群里骂人会怎么样？')).toEqual([{ id: 'r1', label: 'allow', match: '骂人会怎么样' }]);
    expect(set.match('骂人')).toEqual([]);
    expect(set.match('xmeet me outside')).toEqual([]);
    expect(set.match('你这个noob 垃圾东西')).toEqual([]); // starts with a Latin word: "你这个noob" is one run
    expect(set.match('你这个 noob 垃圾东西')).toEqual([{ id: 'r3', label: 'offensive', match: 'noob 垃圾' }]);
  });

  it('GIVEN "sick" as praise THEN the built-in allow rule matches it; as an insult or a complaint it does not', () => {
    const set = new RuleSet(effectiveRules({ rules: [], disabledRules: [] }));
    const allowed = (text: string) =>
      set
        .match(text)
        .filter((h) => h.id === 'builtin:allow-sick-praise')
        .map((h) => h.match);
    expect(allowed('this game is sick')).toEqual(['this game is sick']);
    expect(allowed('wow that clip was so sick lol')).toEqual(['that clip was so sick']);
    expect(allowed("that's sick bro")).toEqual(["that's sick"]);
    expect(allowed('the new map looks sick')).toEqual(['the new map looks sick']);
    expect(allowed('sick play!')).toEqual(['sick play']);
    for (const insult of [
      'you are sick',
      'you sick bastard',
      "i'm sick of you",
      'this is sick in the head',
      'he is a sick man',
      'your mom is sick',
      'that is sick and tired',
    ])
      expect(allowed(insult), insult).toEqual([]);
  });

  it('GIVEN a pattern with nested repetition or invalid syntax THEN it is refused with the reason', () => {
    expect(() => compileRule({ kind: 'pattern', value: '(a+)+b' })).toThrow(/nested repetition/);
    expect(() => compileRule({ kind: 'pattern', value: '(unclosed' })).toThrow(
      /not a valid regular expression/,
    );
  });
});

describe('compiled rules', () => {
  // A worker builds a RuleSet for every refreshed copy of a workspace's settings (every 2 s); when each compiled its
  // own expressions, V8 compiled all 38 built-ins again after every full collection: 20-23 ms on the worker's main
  // thread every 2 s at half load, in the path of the messages waiting there (bench/main-thread-costs.ts).
  it('GIVEN a refreshed copy of the same rules (new objects, new strings) THEN its RuleSet uses the expressions already compiled', () => {
    const refreshed = (): Rule[] =>
      JSON.parse(JSON.stringify(effectiveRules({ rules: [], disabledRules: [] })));
    const [first, second] = [refreshed(), refreshed()];
    expect(first[0]).not.toBe(second[0]);
    const [a, b] = [new RuleSet(first).expressions, new RuleSet(second).expressions];
    expect(a).toHaveLength(BUILTIN_RULES.filter((r) => r.kind !== 'obfuscated').length);
    for (const [i, re] of a.entries()) expect(b[i], re.source.slice(0, 40)).toBe(re);
  });

  it('GIVEN one text as a phrase and as a pattern THEN each kind has its own expression', () => {
    const phrase = compiledRule({ kind: 'phrase', value: 'a.b' });
    const pattern = compiledRule({ kind: 'pattern', value: 'a.b' });
    expect(phrase).not.toBe(pattern);
    expect(phrase.test('axb')).toBe(false);
    expect(pattern.test('axb')).toBe(true);
  });

  it('GIVEN an invalid pattern THEN every build refuses it (nothing is kept for it)', () => {
    for (let i = 0; i < 2; i++)
      expect(() => compiledRule({ kind: 'pattern', value: '(a+)+b' })).toThrow(/nested repetition/);
  });

  it('GIVEN RuleSets sharing expressions, used in turn THEN each matches as one of its own would', () => {
    const texts = ['I will find you', 'you are an idiot', 'i will find you.', 'nice weather', 'kys'];
    const expected = texts.map((t) => builtins.match(deobfuscate(t)));
    forgetCompiledRules();
    const first = new RuleSet(BUILTIN_RULES); // compiles them
    const second = new RuleSet(effectiveRules({ rules: [], disabledRules: [] })); // shares them
    for (let round = 0; round < 3; round++)
      for (const [i, text] of texts.entries()) {
        expect(first.match(deobfuscate(text)), text).toEqual(expected[i]);
        expect(second.match(deobfuscate(text)), text).toEqual(expected[i]);
      }
  });
});
