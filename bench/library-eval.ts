/**
 * `npm run eval:library [-- --examples 10 --json-only --table]` — issue 10's library-question figures.
 *
 * clinc150 as a community FAQ: one library item per intent (title = the intent's name, text = its first
 * `--examples` *train* requests, the ways members ask it). The hybrid weight and the "I don't know" threshold are
 * calibrated on train requests that are not in any item plus oos_train; the figures are on the validation split
 * (3,000 in-scope requests, 100 out-of-scope) that neither the items nor the calibration saw:
 * - in-scope: the right item is the cited (top) source;
 * - out-of-scope: Steward says it does not know (no source cited).
 * The whole reply plan runs (retrieval → planReply), with the library's sentence encoder (models.embed;
 * `STEWARD_MODEL_EMBED=off` for the signals model's embeddings, as before it existed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalEngine } from '../models/runtime/local-engine.ts';
import { loadConfig } from '../src/config.ts';
import type { LibraryItem } from '../src/domain/library.ts';
import { createLogger } from '../src/logger.ts';
import { DefaultGroundingOptions, planReply, thresholdFor } from '../worker/library/answer.ts';
import {
  bundledBackground,
  DefaultHybridOptions,
  LibraryIndex,
  NULL_LINES,
  passagesOf,
} from '../worker/library/index.ts';

const { values: args } = parseArgs({
  options: {
    examples: { type: 'string', default: '16' },
    data: {
      type: 'string',
      default: process.env.STEWARD_DATASETS ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets'),
    },
    'json-only': { type: 'boolean', default: false },
    /** Print the calibration figures of every weight and quantile tried. */
    table: { type: 'boolean', default: false },
  },
});
const say = (line: string) => {
  if (!args['json-only']) console.log(line);
};

type Pair = [string, string];
const clinc = JSON.parse(
  readFileSync(join(args.data!, 'clinc150', 'data_full.train_val.json'), 'utf8'),
) as Record<string, Pair[]>;
const perItem = Number(args.examples);

const byIntent = new Map<string, string[]>();
for (const [text, intent] of clinc.train!) {
  const list = byIntent.get(intent) ?? [];
  list.push(text);
  byIntent.set(intent, list);
}
const items: LibraryItem[] = [...byIntent].map(([intent, texts]) => ({
  id: intent,
  title: intent.replaceAll('_', ' '),
  text: texts.slice(0, perItem).join('? ') + '?',
  kind: 'faq',
}));
// Calibration requests: train requests not used in any item (5 per intent) + out-of-scope train requests.
const calibration: Pair[] = [...byIntent].flatMap(([intent, texts]) =>
  texts.slice(perItem, perItem + 5).map((t): Pair => [t, intent]),
);
const calibrationOos = clinc.oos_train!;
const validation = clinc.val!;
const validationOos = clinc.oos_val!;

async function main(): Promise<void> {
  process.chdir(join(import.meta.dirname, '..'));
  const config = loadConfig({ overrides: { 'models.threads': 1 } });
  const engine = new LocalEngine(config, createLogger({ level: 'warn' }), { reply: false });
  await engine.start();
  const embedModel = engine.info().find((m) => m.role === 'embed');
  const searchedWith = embedModel ? `${embedModel.version} (${embedModel.dtype})` : 'signals embeddings';
  say(`library search embeddings: ${searchedWith}`);
  const embedAll = async (texts: string[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += 64)
      out.push(...(await engine.embedSearch(texts.slice(i, i + 64))));
    return out;
  };
  const t0 = performance.now();
  const passages = items.map(passagesOf);
  const flat = await embedAll(passages.flat());
  let offset = 0;
  const itemVectors = passages.map((list) => {
    const out = flat.slice(offset, offset + list.length);
    offset += list.length;
    return out;
  });
  const queries = [...calibration, ...calibrationOos, ...validation, ...validationOos];
  const queryVectors = await embedAll(queries.map(([t]) => t));
  // The null queries every worker's index searches (LibraryIndexes does the same).
  const nullLines = bundledBackground().slice(0, NULL_LINES);
  const nullVectors = await embedAll([...nullLines]);
  say(
    `embedded ${items.length} items (${flat.length} passages) and ${queries.length} requests in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  await engine.stop();
  const vectors = new Map(items.map((item, i) => [item.id, itemVectors[i]!]));
  const vectorOf = new Map(queries.map((pair, i) => [pair, queryVectors[i]!]));
  const searches = new Map<string, ReturnType<LibraryIndex['search']>>();
  const indexes = new Map<number, LibraryIndex>();
  const indexFor = (weight: number) => {
    let index = indexes.get(weight);
    if (!index) {
      index = new LibraryIndex({ questionWeight: weight });
      index.replaceAll(items, vectors);
      index.useNullQueries(nullLines, nullVectors);
      indexes.set(weight, index);
    }
    return index;
  };
  const hitsFor = (weight: number, pair: Pair) => {
    const key = `${weight}\u0000${pair[0]}\u0000${pair[1]}`;
    let hits = searches.get(key);
    if (!hits) {
      hits = indexFor(weight).search(pair[0], vectorOf.get(pair)!, 3);
      searches.set(key, hits);
    }
    return hits;
  };

  const evaluate = (weight: number, quantile: number, inScope: Pair[], oos: Pair[]) => {
    const options = thresholdFor(indexFor(weight), { ...DefaultGroundingOptions, quantile });
    let right = 0;
    let topRight = 0;
    for (const pair of inScope) {
      const hits = hitsFor(weight, pair);
      if (hits[0]?.item.id === pair[1]) topRight += 1;
      const plan = planReply({ text: pair[0], context: [] }, hits, options);
      if (plan.kind === 'library' && plan.sources[0]?.id === pair[1]) right += 1;
    }
    let unknown = 0;
    let chat = 0;
    for (const pair of oos) {
      const plan = planReply({ text: pair[0], context: [] }, hitsFor(weight, pair), options);
      if (plan.kind === 'unknown') unknown += 1;
      if (plan.kind === 'chat') chat += 1;
    }
    return {
      threshold_in_effect: Math.round(options.threshold * 1000) / 1000,
      in_scope_cited_right: right / inScope.length,
      in_scope_top1: topRight / inScope.length,
      oos_unknown: unknown / oos.length,
      oos_chat: chat / oos.length,
    };
  };

  // Every passage of a clinc item is a question, so the weight that matters is questionWeight (HybridOptions).
  // Calibrate on the calibration requests: that weight and the quantile of the null queries' scores (the library's own
  // "irrelevant" score, LibraryIndex.cutoff) that best balance the two rates; the floor stays the shipped one.
  let best = { weight: 0.5, quantile: 0.9, score: -1 };
  for (const weight of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
    for (const quantile of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99]) {
      const r = evaluate(weight, quantile, calibration, calibrationOos);
      const score = Math.min(r.in_scope_cited_right / 0.85, r.oos_unknown / 0.8);
      if (args.table)
        say(
          `  calibration question weight ${weight} quantile ${quantile}: threshold ${r.threshold_in_effect}, right ${(100 * r.in_scope_cited_right).toFixed(1)}, unknown ${(100 * r.oos_unknown).toFixed(1)}`,
        );
      if (score > best.score) best = { weight, quantile, score };
    }
  }
  const calibrated = evaluate(best.weight, best.quantile, calibration, calibrationOos);
  const result = evaluate(best.weight, best.quantile, validation, validationOos);
  const shipped = evaluate(
    DefaultHybridOptions.questionWeight,
    DefaultGroundingOptions.quantile,
    validation,
    validationOos,
  );
  const shippedCalibration = evaluate(
    DefaultHybridOptions.questionWeight,
    DefaultGroundingOptions.quantile,
    calibration,
    calibrationOos,
  );
  const floor = DefaultGroundingOptions.threshold;
  say(
    `calibrated on train (not in items) + oos_train: question weight ${best.weight}, quantile ${best.quantile} of the null scores (floor ${floor})`,
  );
  say(`  calibration: ${JSON.stringify(calibrated)}`);
  say(
    `validation (3000 in-scope, 100 out-of-scope): right item cited ${(100 * result.in_scope_cited_right).toFixed(1)} % (target ≥ 85), ` +
      `out-of-scope "I don't know" ${(100 * result.oos_unknown).toFixed(1)} % (target ≥ 80)`,
  );
  say(
    `  with the shipped defaults (question weight ${DefaultHybridOptions.questionWeight}, quantile ${DefaultGroundingOptions.quantile}, floor ${floor}): calibration ${JSON.stringify(shippedCalibration)}`,
  );
  say(`    validation ${JSON.stringify(shipped)}`);
  console.log(
    JSON.stringify({
      eval: 'library-clinc150',
      embeddings: searchedWith,
      items: items.length,
      examples_per_item: perItem,
      calibrated: { question_weight: best.weight, quantile: best.quantile, floor },
      calibration: calibrated,
      validation: result,
      calibration_shipped_defaults: shippedCalibration,
      validation_shipped_defaults: shipped,
    }),
  );
}

await main();
