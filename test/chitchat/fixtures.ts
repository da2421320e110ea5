import path from 'node:path';

/** The bundled bank (models/bundled/chitchat), built by models/training/chitchat_bank.py. */
export const BANK = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  'models',
  'bundled',
  'chitchat',
  'bank.jsonl.gz',
);
