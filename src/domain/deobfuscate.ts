/**
 * Undoes the usual ways people hide a word from a filter — leetspeak ("1d10t"), masking ("f*ck"), spaced or
 * dotted letters ("s t u p i d", "k.y.s"), zero-width characters and look-alike letters from other scripts
 * ("іdіot" with Cyrillic і) — before the model and the rules see the text.
 *
 * Only words that turn into a known offensive word are rewritten (LEXICON): "mp3", "4k", "h264", "k.o." and
 * "a b c" stay as they are, so ordinary text reaches the model unchanged. The lexicon is short and English;
 * it is the list the obfuscation tests use, not a filter of its own (the model and the rules still decide).
 */
export function deobfuscate(input: string): string {
  return reveal(input, () => {});
}

/** A lexicon word that a message wrote so as to dodge a filter ("r3tard", "f*ck", "s t u p i d"). */
export interface RevealedWord {
  /** As the message wrote it. */
  written: string;
  /** The lexicon word it hides. */
  word: string;
}

/**
 * The offensive words that deobfuscate had to uncover. Writing one that way is a choice to get past a filter,
 * so the rule layer treats it as evidence of its own (the built-in rule `builtin:obfuscated-word`).
 */
export function revealedWords(input: string): RevealedWord[] {
  return deobfuscateWithWords(input).revealed;
}

/** deobfuscate and revealedWords in one pass (the worker needs both for every message). */
export function deobfuscateWithWords(input: string): { text: string; revealed: RevealedWord[] } {
  const revealed: RevealedWord[] = [];
  const text = reveal(input, (written, word) => revealed.push({ written, word }));
  return { text, revealed };
}

function reveal(input: string, onReveal: (written: string, word: string) => void): string {
  let text = input.normalize('NFKC').replace(INVISIBLE, '');
  text = text.replace(SPACED_LETTERS, (run) => {
    const joined = run.replace(/[\s._\-·•*]+/g, '');
    if (!LEXICON.has(joined.toLowerCase())) return run;
    onReveal(run, joined.toLowerCase());
    return joined;
  });
  return text.replace(WORDISH, (word) => {
    const plain = unmask(unleet(unconfuse(word.toLowerCase())));
    if (plain === null || plain === word.toLowerCase() || !LEXICON.has(plain)) return word;
    onReveal(word, plain);
    return plain;
  });
}

/** Zero-width and other invisible format characters (soft hyphen, joiners, BOM, bidi controls). */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
/** Three or more single letters separated by spaces, dots, dashes or asterisks: "s t u p i d", "k.y.s". */
const SPACED_LETTERS = /(?<![\p{L}\p{N}])\p{L}(?:[\s._\-·•*]{1,2}\p{L}){2,}(?![\p{L}\p{N}])/gu;
/** A word as obfuscators write it: letters, digits and the symbols used in place of letters. */
const WORDISH = /[\p{L}\p{N}@$*!|]+/gu;

const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
};

/** Latin look-alikes from Cyrillic and Greek, the homoglyphs used to dodge word filters. */
const CONFUSABLE: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ѕ: 's',
  α: 'a',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ν: 'v',
};

function unconfuse(word: string): string {
  let out = '';
  for (const ch of word) out += CONFUSABLE[ch] ?? ch;
  return out;
}

/** Every word that mixes letters and look-alike digits or symbols, with them read as letters ("f1nd" → "find"). */
export function foldLeet(text: string): string {
  return text.replace(WORDISH, (word) => (/\p{L}/u.test(word) ? unleet(word.toLowerCase()) : word));
}

/**
 * Spaces and filler symbols between Han characters taken out ("杀 了 你", "傻*逼", "白-痴" → "杀了你", "傻逼", "白痴"), for
 * rules only: Chinese is written without spaces, so a gap inside a run of characters hides a word from a filter.
 * Sentence punctuation (，。、！) stays: "我真傻，逼着自己…" is two clauses, not an insult.
 */
export function joinHan(text: string): string {
  return text.replace(HAN_GAP, '');
}

const HAN_GAP = /(?<=\p{Script=Han})[\s.*·•_\-~|/\\+]+(?=\p{Script=Han})/gu;

function unleet(word: string): string {
  if (!/[a-z]/.test(word)) return word; // numbers stay numbers
  let out = '';
  for (const ch of word) out += LEET[ch] ?? ch;
  // A trailing "!" is punctuation more often than an "i".
  return word.endsWith('!') ? out.replace(/i+$/, '') : out;
}

/** "f*ck" → "fuck" when exactly one lexicon word fits the visible letters; null when several do. */
function unmask(word: string): string | null {
  if (!word.includes('*')) return word;
  const core = word.replace(/^\*+|\*+$/g, '');
  if (!/^[a-z][a-z*]*[a-z]$/.test(core) || !core.includes('*')) return word;
  const re = new RegExp(`^${core.replace(/\*+/g, (stars) => `[a-z]{${stars.length}}`)}$`);
  const fits = MASKABLE.filter((w) => re.test(w));
  return fits.length === 1 ? fits[0]! : null;
}

/** Offensive words that obfuscation hides most often (English). */
const WORDS = [
  'asshole',
  'bastard',
  'bitch',
  'bullshit',
  'cunt',
  'dick',
  'dickhead',
  'dumb',
  'dumbass',
  'fag',
  'faggot',
  'fuck',
  'fucker',
  'fucking',
  'idiot',
  'idiots',
  'imbecile',
  'kys',
  'loser',
  'moron',
  'motherfucker',
  'nigga',
  'nigger',
  'piss',
  'pussy',
  'retard',
  'retarded',
  'shit',
  'shitty',
  'slut',
  'stupid',
  'twat',
  'whore',
  'wanker',
];
const LEXICON: ReadonlySet<string> = new Set(WORDS);
const MASKABLE = WORDS;
