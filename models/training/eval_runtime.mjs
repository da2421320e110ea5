// `npm run eval` rows measured through Steward's own runtime (what a message meets in production), not the bare
// model: language identification, and threats / self-harm incitement / obfuscated insults with the rule layer
// and deobfuscation in front of the model.
//
//   node models/training/eval_runtime.mjs [--data DIR]
//
// Sets: language — self_dialogue validation lines and tweeteval_sentiment val (en), cold_zh dev, tnews_zh and
// chnsenticorp_zh samples (zh), fixtures/language_mixed.json (short lines in 14 languages, written for this).
// Safety — fixtures/safety_eval.jsonl: threats, self-harm incitement, obfuscated insults and benign look-alikes,
// written for evaluation only (never used for training). The built-in rules were developed against a separate set,
// fixtures/safety_dev.jsonl; the same person wrote both sets and the rules (and had seen the first five lines of
// this one), so it is a check of coverage, not an independent benchmark. fixtures/safety_eval_zh.jsonl is its Chinese
// counterpart (threats, incitement, insults, obfuscated, look-alikes), committed before any rule was run on it; the
// Chinese rules were then developed on other lines of safety_dev.jsonl. fixtures/safety_eval_zh2.jsonl is a second,
// larger Chinese set (threats, incitement, look-alikes) written by a helper who had not read the rules, committed
// before the Chinese safety channel (models/training/safety_zh.py) was trained; neither zh set is ever trained on.
// fixtures/chat_zh_short.jsonl (short everyday lines: "你好", "我等你") and fixtures/insult_eval_zh.jsonl (personal
// insults) are blind checks written by helpers apart from the lines the channel learned; fixtures/insult_eval_zh2.jsonl
// (personal insults and look-alikes) was written and committed before the channel learned its round-9 insults;
// fixtures/safety_eval_zh3.jsonl (look-alikes that use the words of death and harm in everyday senses, threats,
// incitement) before it learned round 11, the same category. `--model DIR` runs it with
// that signals model. Then the rule layer alone: the Chinese insults rule on COLD (how often what it matches is labelled
// offensive), TNEWS and ChnSentiCorp, and every built-in rule on DailyDialog and TNEWS (how often rules fire on
// ordinary text).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const args = process.argv.slice(2);
const data = args.includes('--data') ? args[args.indexOf('--data') + 1] : path.resolve(REPO, '..', 'shared', 'datasets');
const model = args.includes('--model') ? path.resolve(args[args.indexOf('--model') + 1]) : null;
const { detectLanguage, loadLanguageDetector } = await import('../runtime/language.ts');
await loadLanguageDetector();

const pct = (x) => `${(100 * x).toFixed(1)}`;
const row = (set, metric, value) => console.log(`${set.padEnd(44)} ${metric.padEnd(36)} ${value}`);

/** The tab-separated fields of each non-empty line (TNEWS, ChnSentiCorp: no header line). */
const tsvRows = (file) =>
  fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.split('\t'));
/** TNEWS headlines and ChnSentiCorp (review, label) rows, read once for every section below. */
const tnewsTitles = tsvRows(path.join(data, 'tnews_zh', 'train.tsv')).map((c) => c[0]);
const reviewRows = tsvRows(path.join(data, 'chnsenticorp_zh', 'train.tsv'));
/** Our carved validation band of a dataset without one (common.py carve_band < CARVE_VAL): never trained on. */
const carvedVal = (text) => Number.parseInt(crypto.createHash('md5').update(text).digest('hex').slice(0, 8), 16) % 100 < 10;

function csvRows(file) {
  // Minimal CSV reader for the quoted exports used here (fields may hold commas and doubled quotes).
  const text = fs.readFileSync(file, 'utf8').replace(/^\ufeff/, '');
  const rows = [];
  let field = '';
  let rowf = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') rowf.push(field), (field = '');
    else if (c === '\n') rowf.push(field), rows.push(rowf), (rowf = []), (field = '');
    else if (c !== '\r') field += c;
  }
  if (field || rowf.length) rowf.push(field), rows.push(rowf);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

function languageSets() {
  const en = [];
  const sd = path.join(data, 'self_dialogue', 'validation', 'corpus');
  for (const topic of fs.readdirSync(sd).sort())
    for (const f of fs.readdirSync(path.join(sd, topic)).filter((x) => x.endsWith('.csv')))
      for (const r of csvRows(path.join(sd, topic, f)))
        for (const [k, v] of Object.entries(r)) if (k.startsWith('Answer.sentence') && v.trim()) en.push(v.trim());
  const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim());
  return {
    'self_dialogue val lines (en)': ['en', en.slice(0, 3000)],
    'tweeteval_sentiment val (en)': ['en', lines(path.join(data, 'tweeteval_sentiment', 'val_text.txt'))],
    'cold_zh dev (zh)': ['zh', csvRows(path.join(data, 'cold_zh', 'dev.csv')).map((r) => r.TEXT)],
    'tnews_zh titles, first 2000 (zh)': ['zh', tnewsTitles.slice(0, 2000)],
    'chnsenticorp_zh, first 1000 (zh)': ['zh', reviewRows.slice(1, 1001).map((c) => c[0])],
  };
}

console.log('\n== language identification (models/runtime/language.ts) ==');
for (const [name, [want, texts]] of Object.entries(languageSets())) {
  const right = texts.filter((t) => detectLanguage(t) === want).length;
  row(name, `accuracy (n=${texts.length})`, pct(right / texts.length));
}
const mixed = JSON.parse(fs.readFileSync(path.join(HERE, 'fixtures', 'language_mixed.json'), 'utf8'));
let right = 0;
let n = 0;
let enOrZhWrong = 0;
for (const [lang, texts] of Object.entries(mixed))
  for (const t of texts) {
    n++;
    const got = detectLanguage(t);
    if (got === lang) right++;
    else if (lang === 'en' || lang === 'zh' || got === 'en' || got === 'zh') enOrZhWrong++;
  }
row('fixtures/language_mixed.json (14 languages)', `accuracy (n=${n})`, pct(right / n));
row('', 'lines read as the wrong one of en/zh', String(enOrZhWrong));

console.log('\n== threats, self-harm, obfuscation (rules + deobfuscation + model, through steward analyze) ==');
// bin/steward.js runs dist/: bring it up to date with the sources first (incremental, quick when nothing changed).
const built = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
  cwd: REPO,
  stdio: 'inherit',
});
if (built.status !== 0) throw new Error('npm run build failed');
// What each kind must raise: a label of its own, or any label (insults and obfuscated ones); benign: none.
const WANT = { threat: ['threat'], self_harm: ['self_harm'], insult: null, obfuscated: null, benign: null };
/** One `steward analyze --json` result per text (a line it cannot read gives an `error` field, no moderation). */
function analyze(texts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-eval-'));
  const ran = spawnSync(process.execPath, ['bin/steward.js', 'analyze', '--json', '--format', 'text', '-'], {
    cwd: REPO,
    input: `${texts.map((t) => t.replace(/\s+/gu, ' ')).join('\n')}\n`,
    env: { ...process.env, STEWARD_DATA_DIR: dir, LOG_LEVEL: 'warn', ...(model ? { STEWARD_MODEL_SIGNALS: model } : {}) },
    maxBuffer: 256 * 1024 * 1024,
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (ran.status !== 0) throw new Error(`steward analyze failed: ${ran.stderr}`);
  return ran.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
}
for (const file of ['safety_eval.jsonl', 'safety_eval_zh.jsonl', 'safety_eval_zh2.jsonl', 'chat_zh_short.jsonl', 'insult_eval_zh.jsonl', 'insult_eval_zh2.jsonl', 'safety_eval_zh3.jsonl']) {
  const items = fs.readFileSync(path.join(HERE, 'fixtures', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const results = analyze(items.map((i) => i.text));
  const byKind = {};
  items.forEach((item, i) => {
    const labels = results[i].moderation?.flaggedLabels ?? [];
    const want = WANT[item.kind];
    const hit = want ? want.some((l) => labels.includes(l)) : labels.length > 0;
    (byKind[item.kind] ??= []).push(hit);
  });
  for (const [kind, hits] of Object.entries(byKind)) {
    const share = hits.filter(Boolean).length / hits.length;
    const metric = kind === 'benign' ? 'flagged (any label)' : WANT[kind] ? `recall (${kind} label)` : 'recall (any label)';
    row(`fixtures/${file} ${kind}`, `${metric} (n=${hits.length})`, pct(share));
  }
}

// Languages the models do not read (issue 14: ordinary chat in them flagged ≤ 1 %): the lines of
// fixtures/language_mixed.json in neither English nor Chinese (everyday chat in 12 languages), through the runtime:
// flagged by anything (a rule still applies), and the share the moderation model abstained on.
{
  const others = Object.entries(mixed).filter(([lang]) => lang !== 'en' && lang !== 'zh').flatMap(([, texts]) => texts);
  const res = analyze(others);
  row('fixtures/language_mixed.json, not en or zh', `flagged (any label) (n=${others.length})`, pct(res.filter((r) => (r.moderation?.flaggedLabels ?? []).length > 0).length / others.length));
  row('', 'moderation abstained', pct(res.filter((r) => r.moderation?.abstained === 'language').length / others.length));
}

// Chinese moderation as a member meets it: the transformer's `offensive` (capped by the safety channel), the rules and
// the channel's labels, at the default thresholds. COLD dev: macro-F1 of "flagged (any label)" against COLD's label;
// ordinary text (TNEWS carved validation headlines, ChnSentiCorp positive reviews): share flagged.
console.log('\n== Chinese moderation through the runtime (steward analyze, default thresholds, any label) ==');
{
  const cold = csvRows(path.join(data, 'cold_zh', 'dev.csv'));
  const flagged = analyze(cold.map((r) => r.TEXT)).map((r) => (r.moderation?.flaggedLabels ?? []).length > 0);
  const truth = cold.map((r) => r.label === '1');
  const f1 = (positive) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    flagged.forEach((f, i) => {
      const p = f === positive;
      const t = truth[i] === positive;
      if (p && t) tp += 1;
      else if (p) fp += 1;
      else if (t) fn += 1;
    });
    return { f1: (2 * tp) / Math.max(1, 2 * tp + fp + fn), precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn) };
  };
  const off = f1(true);
  row(`cold_zh dev`, `macro-F1 (n=${cold.length})`, pct((off.f1 + f1(false).f1) / 2));
  row('', 'precision / recall of a flag', `${pct(off.precision)} / ${pct(off.recall)}`);
  const tnewsVal = tnewsTitles.filter(carvedVal);
  const positive = reviewRows.filter((c) => c[1] === 'positive').map((c) => c[0]);
  for (const [name, texts] of [
    ['tnews_zh carved validation headlines', tnewsVal],
    ['chnsenticorp_zh positive reviews, all', positive],
  ]) {
    const hits = analyze(texts).filter((r) => (r.moderation?.flaggedLabels ?? []).length > 0).length;
    row(name, `flagged (n=${texts.length})`, pct(hits / texts.length));
  }
}

// Chinese sentiment as a member meets it (the graph's head, or the Chinese sentiment channel where the model folder has
// one): ChnSentiCorp's carved validation band (never trained on; negative vs positive), fixtures/sentiment_eval_zh.jsonl
// (group-chat lines labelled negative / neutral / positive, written by a helper apart from the channel's training lines
// and committed before it was trained): macro-recall; and what `sentimentTags strong` (a tag only at a score ≥ 0.8)
// would show under ordinary lines: fixtures/chat_zh_short.jsonl and the carved TNEWS validation headlines.
console.log('\n== Chinese sentiment through the runtime (steward analyze) ==');
{
  const reviews = reviewRows.filter((c) => carvedVal(c[0]));
  const got = analyze(reviews.map((c) => c[0]));
  const twoWay = got.filter((r, i) => {
    const s = r.sentiment?.scores;
    return s && (s.positive > s.negative ? 'positive' : 'negative') === reviews[i][1];
  }).length;
  row('chnsenticorp_zh carved validation reviews', `accuracy, negative vs positive (n=${reviews.length})`, pct(twoWay / reviews.length));
  row('', 'tagged neutral', pct(got.filter((r) => r.sentiment?.label === 'neutral').length / reviews.length));
  const evalFile = path.join(HERE, 'fixtures', 'sentiment_eval_zh.jsonl');
  if (fs.existsSync(evalFile)) {
    const items = fs.readFileSync(evalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const labels = analyze(items.map((i) => i.text)).map((r) => r.sentiment?.label);
    const recall = ['negative', 'neutral', 'positive'].map((k) => {
      const of = items.map((item, i) => [item.kind, labels[i]]).filter(([kind]) => kind === k);
      return of.filter(([kind, label]) => kind === label).length / Math.max(1, of.length);
    });
    row('fixtures/sentiment_eval_zh.jsonl (blind chat)', `macro-recall (n=${items.length})`, pct(recall.reduce((a, b) => a + b, 0) / 3));
    row('', 'recall negative / neutral / positive', recall.map(pct).join(' / '));
  }
  const strong = (r, label) => r.sentiment?.label === label && r.sentiment.scores[label] >= 0.8;
  const chat = fs.readFileSync(path.join(HERE, 'fixtures', 'chat_zh_short.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text);
  const tnews = tnewsTitles.filter(carvedVal).slice(0, 2000);
  for (const [name, texts] of [
    ['fixtures/chat_zh_short.jsonl (everyday lines)', chat],
    ['tnews_zh carved validation headlines, 2000', tnews],
  ]) {
    const res = analyze(texts);
    const share = (f) => pct(res.filter(f).length / texts.length);
    row(name, `tagged negative / positive (n=${texts.length})`, `${share((r) => r.sentiment?.label === 'negative')} / ${share((r) => r.sentiment?.label === 'positive')}`);
    row('', 'strong negative / positive (score ≥ 0.8)', `${share((r) => strong(r, 'negative'))} / ${share((r) => strong(r, 'positive'))}`);
  }
}

// The Chinese insults rule alone, on data nobody here wrote: how often what it matches is labelled offensive
// (COLD labels group-directed offence, so profanity about nobody in particular counts as non-offensive there),
// and how much ordinary text it matches. The lexicon was written before these sets were searched with it.
console.log('\n== Chinese insults (the rule builtin:insult-zh alone, src/domain/insults-zh.ts) ==');
const { BUILTIN_RULES, RuleSet } = await import('../../src/domain/rules.ts');
const insultZh = new RuleSet(BUILTIN_RULES.filter((r) => r.id === 'builtin:insult-zh'));
const matches = (text) => insultZh.match(text).length > 0;
for (const split of ['dev', 'train']) {
  const rows = csvRows(path.join(data, 'cold_zh', `${split}.csv`));
  const hits = rows.filter((r) => matches(r.TEXT));
  const offensive = hits.filter((r) => r.label === '1').length;
  row(`cold_zh ${split}`, `matched (n=${rows.length})`, String(hits.length));
  row('', 'of those, labelled offensive', pct(offensive / Math.max(1, hits.length)));
}
const share = (texts, hit) => {
  const hits = texts.filter(hit).length;
  return `${hits} (${((100 * hits) / texts.length).toFixed(2)} %)`;
};
for (const [name, texts] of [
  ['tnews_zh titles, all', tnewsTitles],
  ['chnsenticorp_zh reviews, all', reviewRows.map((c) => c[0])],
])
  row(name, `matched (n=${texts.length})`, share(texts, matches));

// Every built-in rule that raises a label (allow rules left out), on ordinary text: the README's "rules fire on"
// figure. Rules see the deobfuscated text, as in the runtime.
console.log('\n== the built-in rules on ordinary text (all but allow rules) ==');
const { deobfuscateWithWords } = await import('../../src/domain/deobfuscate.ts');
const raising = new RuleSet(BUILTIN_RULES.filter((r) => r.label !== 'allow'));
const fires = (text) => {
  const { text: read, revealed } = deobfuscateWithWords(text);
  return raising.match(read, revealed).length > 0;
};
const dialogueLines = ['train', 'validation'].flatMap((split) =>
  fs
    .readFileSync(path.join(data, 'dailydialog', `dialogues_${split}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => JSON.parse(l).turns.map((t) => t.utterance)),
);
for (const [name, texts] of [
  ['dailydialog lines, train + validation (en)', dialogueLines],
  ['tnews_zh titles, all (zh)', tnewsTitles],
])
  row(name, `a rule fired (n=${texts.length})`, share(texts, fires));

// The rules alone on the Chinese lines they were developed on (fixtures/safety_dev.jsonl): how far the phrase lists
// reach on wordings they were written for, against the eval set's rows above for wordings they were not.
console.log('\n== the built-in rules on their Chinese development lines (fixtures/safety_dev.jsonl, rounds 1–4) ==');
const devZh = fs
  .readFileSync(path.join(HERE, 'fixtures', 'safety_dev.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  // Rounds 1–4 were the rules' development lines; later ones were written to train the Chinese safety channel.
  .filter((item) => /\p{Script=Han}/u.test(item.text) && (item.round ?? 1) < 5);
const ruleLabels = (text) => {
  const { text: read, revealed } = deobfuscateWithWords(text);
  return raising.match(read, revealed).map((h) => h.label);
};
for (const kind of ['threat', 'self_harm', 'insult', 'benign']) {
  const some = devZh.filter((item) => item.kind === kind);
  const hit = (item) => (WANT[kind] ? ruleLabels(item.text).some((l) => WANT[kind].includes(l)) : ruleLabels(item.text).length > 0);
  row(`safety_dev.jsonl (zh) ${kind}`, `${kind === 'benign' ? 'a rule fired' : 'caught'} (n=${some.length})`, share(some, hit));
}
