/**
 * `npx tsx bench/main-thread-costs.ts [--rounds N]` — µs and bytes allocated per message of the worker main thread's
 * own per-message steps on the bench's 2,000 sample lines, best of N rounds: deobfuscation, the built-in rules
 * (`RuleSet.match`), and a profile update (decode a stored profile, `foldMessage`, encode), each on its own. To compare
 * two versions of one step, run it at both commits in turn (e.g. `git stash` / `git checkout <commit> -- FILE`).
 * Bytes: the heap's growth over windows of 50 calls, the largest of 40 windows (a window in which a scavenge ran grows
 * less, so the largest is one without); what the young generation has to collect, or promote, per message. Under the
 * live update, the part of it that goes straight to the old generation (see oldSpace).
 * Last, "rules after a settings refresh": what the worker pays when a workspace's settings copy is replaced (every
 * `settingsTtlMs`) after a full collection, which at half load comes every few seconds: a RuleSet built for the new
 * copy and its first 30 messages, with the shared compiled expressions (`compiledRule`) and, side by side, with
 * expressions compiled afresh (`forgetCompiledRules` first: as each RuleSet did before 2026-12-05), median of N rounds.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deobfuscateWithWords } from '../src/domain/deobfuscate.ts';
import { contentWords, foldMessage, type InterestProfile } from '../src/domain/profile.ts';
import { BUILTIN_RULES, effectiveRules, forgetCompiledRules, RuleSet } from '../src/domain/rules.ts';
import { decodeProfile, encodeProfile } from '../src/store/members-redis.ts';
import { loadSamples } from './samples.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
process.chdir(join(import.meta.dirname, '..'));
const texts = loadSamples(2000).texts;
const rounds = Number(args.rounds);
const USERS = 97; // as the queue bench's authors
// The embedding's size as the bundled embed model gives it is 256; the profile's cost scales with it.
const embedding = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i) / 16);
const who = (u: number) => ({ platform: 'discord' as const, workspaceId: 'bench', userId: `u${u}` });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function best(name: string, calls: number, step: (i: number) => void): void {
  let fastest = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) step(i);
    fastest = Math.min(fastest, performance.now() - t0);
  }
  console.log(
    `${name.padEnd(34)} ${((fastest * 1000) / calls).toFixed(1).padStart(6)} µs, ${allocated(step)} bytes per message`,
  );
}

/** The growth of `used()` per call of `step`, over each of 40 windows of 50 calls. */
function perCall(step: (i: number) => void, used: () => number): number[] {
  const WINDOW = 50;
  const growth: number[] = [];
  for (let w = 0; w < 40; w++) {
    const before = used();
    for (let i = 0; i < WINDOW; i++) step(w * WINDOW + i);
    growth.push((used() - before) / WINDOW);
  }
  return growth;
}

/** Bytes allocated per call of `step` (see above): the largest window's, rounded to 10. */
function allocated(step: (i: number) => void): number {
  return Math.round(Math.max(...perCall(step, () => process.memoryUsage().heapUsed)) / 10) * 10;
}

/**
 * Bytes per call of `step` that go straight to the old generation (hidden classes, descriptor arrays: only a full
 * collection frees them): the old space's growth, the median window's (a window with a scavenge also counts what it
 * promoted, one with a full collection shrinks), rounded to 10.
 */
function oldSpace(step: (i: number) => void): number {
  const used = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
  return Math.round(median(perCall(step, used)) / 10) * 10;
}

const read = texts.map((t) => deobfuscateWithWords(t));
const rules = new RuleSet(BUILTIN_RULES);
const words = texts.map((t) => contentWords(t));
// Stored profiles with a history (40 terms each), as a busy workspace has them.
const stored: string[] = [];
let profiles: Array<InterestProfile | null> = Array.from({ length: USERS }, () => null);
for (let i = 0; i < 20 * USERS; i++) {
  const u = i % USERS;
  profiles[u] = foldMessage(profiles[u]!, who(u), embedding, words[i % texts.length]!, 1_000 * i);
}
for (const p of profiles) stored.push(encodeProfile(p!));
const decoded = stored.map(decodeProfile);
profiles = [];

best('deobfuscate', texts.length, (i) => deobfuscateWithWords(texts[i]!));
best(`rules.match (${BUILTIN_RULES.length} built-in rules)`, texts.length, (i) =>
  rules.match(read[i]!.text, read[i]!.revealed),
);
best('profile: decode', 20_000, (i) => decodeProfile(stored[i % USERS]!));
best('profile: foldMessage', 20_000, (i) =>
  foldMessage(decoded[i % USERS]!, who(i % USERS), embedding, words[i % texts.length]!, 1e9),
);
best('profile: encode', 20_000, (i) => encodeProfile(decoded[i % USERS]!));
// The three in turn, as the worker runs them: each call folds the next sample line into its author's stored profile,
// so the terms change from call to call as they do live (the steps above fold the same profiles again and again).
const live = [...stored];
let line = 0;
const update = (i: number) => {
  const u = i % USERS;
  const next = foldMessage(
    decodeProfile(live[u]!),
    who(u),
    embedding,
    words[line++ % texts.length]!,
    1e9 + i,
  );
  live[u] = encodeProfile(next);
};
best('profile: update (live terms)', 20_000, update);
console.log(
  `${'  of which straight to old space'.padEnd(34)} ${String(oldSpace(update)).padStart(6)} bytes per message`,
);

// A settings refresh after a full collection (which empties V8's own cache of compiled expressions).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const FIRST = 30;
function afterRefresh(name: string, build: () => (text: string) => void): void {
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    gc();
    const t0 = performance.now();
    const match = build();
    for (let i = 0; i < FIRST; i++) match(read[(r * FIRST + i) % texts.length]!.text);
    ms.push(performance.now() - t0);
  }
  console.log(
    `${name.padEnd(34)} ${median(ms).toFixed(2).padStart(6)} ms for the new RuleSet and its first ${FIRST} messages`,
  );
}
// As the store gives a refreshed copy: the built-in rules (constants) and the workspace's own (parsed afresh).
const refreshed = () => effectiveRules(JSON.parse(JSON.stringify({ rules: [], disabledRules: [] })));
afterRefresh('rules after a settings refresh', () => {
  const set = new RuleSet(refreshed());
  return (text) => set.match(text);
});
afterRefresh('  the same, expressions afresh', () => {
  forgetCompiledRules();
  const set = new RuleSet(refreshed());
  return (text) => set.match(text);
});
