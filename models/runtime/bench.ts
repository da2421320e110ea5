/**
 * Throughput of the bundled models, in-process (pure model time, no thread hop).
 *   STEWARD_THREADS=2 npx tsx models/runtime/bench.ts [rounds]
 * Prints signals msgs/s at batch 64 for fp32 and q8, and reply ms per generated token.
 */
import { AutoTokenizer } from '@huggingface/transformers';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import type { ReplyRequest } from '../../src/engine.ts';
import { createLocalEngine } from './local-engine.ts';

const rounds = Number(process.argv[2] ?? 5);
const config = loadConfig();
const logger = pino({ level: 'warn' });
const PHRASES = [
  'thanks everyone, this server is great',
  'you are an idiot and nobody likes you',
  'when is the next community call? I missed the last one',
  'the new release broke my setup again, anyone else seeing errors when the bot starts?',
  'lol 😂',
  '我爱这个社区',
  'Does anyone have a good tutorial for writing slash commands? I tried the docs but got lost halfway through.',
];
const texts = Array.from({ length: 64 }, (_, i) => `${PHRASES[i % PHRASES.length]} ${i}`);

for (const dtype of ['fp32', 'q8'] as const) {
  const engine = createLocalEngine({ ...config, models: { ...config.models, dtype } }, logger, {
    reply: false,
  });
  await engine.start();
  await engine.signals(texts); // warm-up: first runs allocate arenas
  const started = performance.now();
  for (let r = 0; r < rounds; r++) await engine.signals(texts);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `signals ${dtype} threads=${config.models.threads}: ${((rounds * texts.length) / seconds).toFixed(0)} msgs/s (batch 64)`,
  );
  await engine.stop();
}

const engine = createLocalEngine(config, logger);
await engine.start();
const requests: ReplyRequest[] = Array.from({ length: config.worker.replyBatchSize }, (_, i) => ({
  text: PHRASES[i % PHRASES.length]!,
  context: [],
}));
const reply = engine.info().find((m) => m.role === 'reply')!;
const tokenizer = await AutoTokenizer.from_pretrained(reply.source, { local_files_only: true });
await engine.reply(requests);
let tokens = 0;
const started = performance.now();
for (let r = 0; r < rounds; r++) {
  for (const text of await engine.reply(requests)) tokens += tokenizer.encode(text).length; // + </s>, as generated
}
const ms = performance.now() - started;
console.log(
  `reply ${reply.dtype} batch ${requests.length}, max ${config.worker.maxReplyTokens} new tokens: ` +
    `${(ms / tokens).toFixed(2)} ms/token (batch throughput), ${(ms / rounds).toFixed(0)} ms per batch`,
);
await engine.stop();
