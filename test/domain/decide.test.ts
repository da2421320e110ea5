import { describe, expect, it } from 'vitest';
import type { Signals } from '../../src/domain/analysis.ts';
import { analyse, decide, flagIdOf } from '../../src/domain/decide.ts';
import { InboundMessageSchema, type InboundMessageInput } from '../../src/domain/message.ts';
import { defaultSettings, type WorkspaceSettings } from '../../src/domain/settings.ts';

const DEFAULTS = {
  thresholds: { offensive: 0.7, hate: 0.6 },
  languages: { sentiment: ['en'], moderation: ['en'] },
};

function message(overrides: Partial<InboundMessageInput> = {}) {
  return InboundMessageSchema.parse({
    platform: 'discord',
    workspaceId: 'g1',
    channelId: 'c1',
    messageId: 'm1',
    author: { id: 'u1', name: 'alice', roles: ['r-member'] },
    text: 'hello there',
    mentionsBot: false,
    timestamp: 1_700_000_000_000,
    ...overrides,
  });
}

function signals(overrides: Partial<Signals> = {}): Signals {
  return {
    language: 'en',
    sentiment: { label: 'neutral', scores: { negative: 0.1, neutral: 0.8, positive: 0.1 } },
    moderation: { offensive: 0.05, hate: 0.01 },
    attributions: { offensive: ['hello'], hate: [] },
    embedding: new Float32Array([1, 0]),
    ...overrides,
  };
}

const toxic = signals({
  sentiment: { label: 'negative', scores: { negative: 0.9, neutral: 0.05, positive: 0.05 } },
  moderation: { offensive: 0.95, hate: 0.2 },
  attributions: { offensive: ['idiot'], hate: ['you'] },
});

function run(
  sig: Signals,
  settings: WorkspaceSettings,
  msg = message(),
  topics = [] as { topic: string; score: number }[],
) {
  return decide(msg, analyse(sig, settings, DEFAULTS, topics), settings);
}

describe('analyse', () => {
  it('GIVEN a score over the model default THEN the label is flagged with its words', () => {
    const analysis = analyse(toxic, defaultSettings(), DEFAULTS, []);
    expect(analysis.moderation.flagged).toEqual(['offensive']);
    expect(analysis.moderation.reasons).toEqual({ offensive: ['idiot'] });
  });

  it('GIVEN weighted words THEN the flagged labels keep their weights beside the reasons; unflagged labels none', () => {
    const weighted = {
      ...toxic,
      attributionWeights: {
        offensive: [{ word: 'idiot', weight: 1 }],
        hate: [{ word: 'you', weight: 1 }],
      },
    };
    const analysis = analyse(weighted, defaultSettings(), DEFAULTS, []);
    expect(analysis.moderation.reasons).toEqual({ offensive: ['idiot'] });
    expect(analysis.moderation.attributionWeights).toEqual({ offensive: [{ word: 'idiot', weight: 1 }] });
    expect(analyse(toxic, defaultSettings(), DEFAULTS, []).moderation).not.toHaveProperty(
      'attributionWeights',
    );
  });

  it('GIVEN a workspace threshold override THEN it wins over the model default', () => {
    const analysis = analyse(
      toxic,
      defaultSettings({ thresholds: { offensive: 0.99, hate: 0.1 } }),
      DEFAULTS,
      [],
    );
    expect(analysis.moderation.flagged).toEqual(['hate']);
  });
});

describe('analyse: allow rules', () => {
  const allow = { id: 'r1', label: 'allow', match: '在群里骂人会怎么样' };
  const question = signals({
    moderation: { offensive: 0.95, hate: 0.2 },
    attributions: { offensive: ['骂人'], hate: [] },
  });
  it('GIVEN an allow rule matched the words behind a label THEN it is not raised, the scores stay and the rule is named', () => {
    const analysis = analyse(question, defaultSettings(), DEFAULTS, [], [allow]);
    expect(analysis.moderation.flagged).toEqual([]);
    expect(analysis.moderation.scores).toEqual(question.moderation);
    expect(analysis.moderation.allowedBy).toEqual(['r1']);
    expect(run(question, defaultSettings({ moderationChannelId: 'mod' })).flag).toBe(true);
    expect(decide(message(), analysis, defaultSettings({ moderationChannelId: 'mod' })).flag).toBe(false);
  });

  it('GIVEN an allowed wording and an insult beside it THEN the insult still raises its label (no bypass)', () => {
    // "在群里骂人会怎么样？ idiot": the allow rule vouches for its own words, not for "idiot".
    const analysis = analyse(toxic, defaultSettings(), DEFAULTS, [], [allow]);
    expect(analysis.moderation.flagged).toEqual(['offensive']);
    expect(analysis.moderation.reasons).toEqual({ offensive: ['idiot'] });
    expect(analysis.moderation.allowedBy).toEqual(['r1']);
  });

  it('GIVEN attribution weights THEN only the words that drove the label (≥ half the strongest) must be inside the allowed wording', () => {
    const sick = { id: 'builtin:allow-sick-praise', label: 'allow', match: 'this game is sick' };
    /** An offensive score driven by these words, with these attribution weights. */
    const offensiveBy = (score: number, words: Array<[string, number]>) =>
      signals({
        moderation: { offensive: score, hate: 0.01 },
        attributions: { offensive: words.map(([word]) => word) },
        attributionWeights: { offensive: words.map(([word, weight]) => ({ word, weight })) },
      });
    const praise = offensiveBy(0.84, [
      ['sick', 1],
      ['honestly', 0.2],
    ]);
    expect(analyse(praise, defaultSettings(), DEFAULTS, [], [sick]).moderation.flagged).toEqual([]);
    const insult = offensiveBy(0.99, [
      ['idiot', 1],
      ['sick', 0.7],
    ]);
    expect(analyse(insult, defaultSettings(), DEFAULTS, [], [sick]).moderation.flagged).toEqual([
      'offensive',
    ]);
    // Whole words: a Latin word ("sic") is not found inside a longer one ("sick").
    const longer = signals({ moderation: { offensive: 0.9, hate: 0 }, attributions: { offensive: ['sic'] } });
    expect(analyse(longer, defaultSettings(), DEFAULTS, [], [sick]).moderation.flagged).toEqual([
      'offensive',
    ]);
  });

  it('GIVEN an allow rule and a threat rule both matched THEN the threat is still flagged, allow is no label', () => {
    const threat = { id: 'builtin:threat-where-you-live', label: 'threat', match: 'find where you live' };
    const analysis = analyse(question, defaultSettings(), DEFAULTS, [], [allow, threat]);
    expect(analysis.moderation.flagged).toEqual(['threat']);
    expect(analysis.moderation.reasons).toEqual({ threat: ['rule “find where you live”'] });
  });
});

describe('analyse: languages the models cannot read', () => {
  it('GIVEN a toxic-scoring message in a language moderation does not support THEN no flag, no scores, abstained', () => {
    const analysis = analyse({ ...toxic, language: 'zh' }, defaultSettings(), DEFAULTS, []);
    expect(analysis.language).toBe('zh');
    expect(analysis.moderation).toEqual({ scores: {}, flagged: [], reasons: {}, abstained: 'language' });
    expect(analysis.sentiment).toBeNull();
    expect(analysis.sentimentAbstained).toBe('language');
  });

  it('GIVEN sentiment reads the language but moderation does not THEN the tag stays and moderation abstains', () => {
    const languages = { sentiment: ['en', 'zh'], moderation: ['en'] };
    const settings = defaultSettings({ sentimentTags: 'all' });
    const analysis = analyse({ ...toxic, language: 'zh' }, settings, { ...DEFAULTS, languages }, []);
    expect(analysis.sentiment?.label).toBe('negative');
    expect(analysis.moderation.abstained).toBe('language');
    const decision = decide(message(), analysis, settings);
    expect(decision.flag).toBe(false);
    expect(decision.actions.map((a) => a.kind)).toEqual(['react']);
  });

  it('GIVEN thresholds calibrated for the message language THEN they replace the defaults for it only', () => {
    const byLanguage = { ...DEFAULTS, languages: { sentiment: ['en', 'zh'], moderation: ['en', 'zh'] } };
    const withZh = { ...byLanguage, thresholdsByLanguage: { zh: { offensive: 0.99, hate: 0.1 } } };
    expect(analyse({ ...toxic, language: 'zh' }, defaultSettings(), withZh, []).moderation.flagged).toEqual([
      'hate',
    ]);
    expect(analyse(toxic, defaultSettings(), withZh, []).moderation.flagged).toEqual(['offensive']);
  });

  it('GIVEN an abstained sentiment WHEN tags are on for all THEN no reaction is posted', () => {
    const settings = defaultSettings({ sentimentTags: 'all' });
    const decision = run({ ...toxic, language: 'ja' }, settings);
    expect(decision.actions).toEqual([]);
  });
});

describe('decide', () => {
  const modded = defaultSettings({ moderationChannelId: 'mods' });

  it('GIVEN a toxic message WHEN a moderation channel is set THEN one alert goes there with the reasons', () => {
    const { actions, reply } = run(toxic, modded);
    const alert = actions.find((a) => a.kind === 'alert');
    expect(alert).toMatchObject({ moderationChannelId: 'mods', flagged: ['offensive'], autoHidden: false });
    expect(alert?.kind === 'alert' && alert.reasons.offensive).toEqual(['idiot']);
    expect(actions.some((a) => a.kind === 'hide')).toBe(false);
    expect(reply).toBeNull();
  });

  it('GIVEN a rule raised a label the model scored low THEN the alert names it as rule-raised; a model-only alert names none', () => {
    const insult = { id: 'builtin:insult-zh', label: 'offensive', match: '他妈的' };
    const allow = { id: 'r1', label: 'allow', match: 'hello' };
    const analysis = analyse(signals(), modded, DEFAULTS, [], [allow, insult]);
    const alert = decide(message(), analysis, modded).actions.find((a) => a.kind === 'alert');
    expect(alert).toMatchObject({
      flagged: ['offensive'],
      ruleLabels: ['offensive'],
      scores: { offensive: 0.05 },
    });
    const modelOnly = run(toxic, modded).actions.find((a) => a.kind === 'alert');
    expect(modelOnly && 'ruleLabels' in modelOnly).toBe(false);
  });

  it('GIVEN auto-hide mode THEN the alert is accompanied by a hide with the same flag id', () => {
    const { actions } = run(
      toxic,
      defaultSettings({ moderationChannelId: 'mods', moderationMode: 'auto-hide' }),
    );
    const hide = actions.find((a) => a.kind === 'hide');
    expect(hide?.kind === 'hide' && hide.flagId).toBe(flagIdOf(message()));
  });

  it('GIVEN a toxic message WHEN the channel is exempt THEN no alert and nothing logged', () => {
    const decision = run(toxic, defaultSettings({ moderationChannelId: 'mods', exemptChannels: ['c1'] }));
    expect(decision.actions).toEqual([]);
    expect(decision.flag).toBe(false);
  });

  it('GIVEN a toxic message WHEN no moderation channel is set THEN no alert but the flag is logged', () => {
    const decision = run(toxic, defaultSettings());
    expect(decision.actions.some((a) => a.kind === 'alert')).toBe(false);
    expect(decision.flag).toBe(true);
  });

  it('GIVEN a toxic message WHEN the author has an exempt role THEN no alert', () => {
    const { actions } = run(
      toxic,
      defaultSettings({ moderationChannelId: 'mods', exemptRoles: ['r-member'] }),
    );
    expect(actions).toEqual([]);
  });

  it('GIVEN a mention WHEN replies are on THEN a reply is asked for', () => {
    expect(run(signals(), modded, message({ mentionsBot: true })).reply).toEqual({ reason: 'mention' });
  });

  it('GIVEN a mention WHEN replies are off THEN no reply', () => {
    expect(
      run(signals(), defaultSettings({ replyMode: 'off' }), message({ mentionsBot: true })).reply,
    ).toBeNull();
  });

  it('GIVEN a topic match WHEN reply mode is mention THEN no reply, and WHEN topics THEN a topic reply', () => {
    const topics = [{ topic: 'movies', score: 0.8 }];
    expect(run(signals(), defaultSettings({ replyMode: 'mention' }), message(), topics).reply).toBeNull();
    expect(run(signals(), defaultSettings({ replyMode: 'topics' }), message(), topics).reply).toEqual({
      reason: 'topic',
      topic: 'movies',
    });
  });

  it('GIVEN sentiment tags strong THEN only confident non-neutral messages get a reaction', () => {
    const strong = defaultSettings({ sentimentTags: 'strong' });
    expect(run(signals(), strong).actions).toEqual([]);
    const happy = signals({
      sentiment: { label: 'positive', scores: { negative: 0.02, neutral: 0.08, positive: 0.9 } },
    });
    expect(run(happy, strong).actions.map((a) => a.kind)).toEqual(['react']);
  });

  it('GIVEN the same message twice THEN the action keys are identical (idempotent delivery)', () => {
    const all = defaultSettings({ sentimentTags: 'all', moderationChannelId: 'mods' });
    expect(run(toxic, all).actions.map((a) => a.key)).toEqual(run(toxic, all).actions.map((a) => a.key));
  });
});
