/**
 * The chit-chat bank's thread: reads the bank, then answers shortlist requests from it (thread.ts starts it with
 * spawnThread). The bank and its index live in this thread's heap only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChitchatBank } from './bank.ts';
import { BankShortlister, type ShortlistOptions } from './shortlist.ts';
import type { BankThreadData, FromBankThread, ToBankThread } from './thread.ts';

const port = parentPort;
if (!port) throw new Error('bank-thread.ts must run inside a worker thread');
const data = workerData as BankThreadData;

const send = (message: FromBankThread) => port.postMessage(message);

let shortlister: BankShortlister;
try {
  const bank = await ChitchatBank.load(data.path);
  shortlister = new BankShortlister(bank, data.options as Partial<ShortlistOptions>);
  // The first shortlist builds the bank's word-pair counts: pay for that now, not on a member's first message.
  shortlister.shortlistNow('hello there, how are you?', []);
  send({ kind: 'ready', source: bank.source, pairs: bank.pairs.length });
} catch (error) {
  send({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

port.on('message', (request: ToBankThread) => {
  try {
    send({ kind: 'result', id: request.id, value: shortlister.shortlistNow(request.text, request.recent) });
  } catch (error) {
    send({ kind: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
});
