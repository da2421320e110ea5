"""Train Steward's shared sentencepiece BPE tokenizer and convert it to a Hugging Face tokenizer.json.

  /usr/bin/python3 models/training/tokenizer.py [--data DIR] [--out DIR] [--vocab 8000] [--tiny]

Outputs (default models/training/work/tokenizer/):
  tokenizer.model           sentencepiece model (what Python encodes with)
  tokenizer.json            HF fast-tokenizer file (what Node / @huggingface/transformers encodes with)
  tokenizer_config.json, special_tokens_map.json
  tokenizer_parity.json     ~500 texts + the sentencepiece ids, checked by
                            `node models/training/parity_signals.mjs --tokenizer <dir>`
  READY                     written last

Special ids (contract with the reply model, T5 conventions): <pad>=0, </s>=1 (eos), <unk>=2, <sep>=3, <mask>=4,
then 256 byte pieces <0x00>..<0xFF>, then the learned pieces. Encoding appends </s> (like T5).
No text preprocessing happens outside the tokenizer (case is kept; no NFKC).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

SPECIALS = ["<pad>", "</s>", "<unk>"]
USER_DEFINED = ["<sep>", "<mask>"]
PAD_ID, EOS_ID, UNK_ID, SEP_ID, MASK_ID = 0, 1, 2, 3, 4
_SPECIAL_IDS = {t: i for i, t in enumerate(SPECIALS + USER_DEFINED)}
_CJK = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in SPECIALS + USER_DEFINED) + ")")


# --------------------------------------------------------------------------------------------
# Python-side encoder (must agree with tokenizer.json as loaded by transformers.js)
# --------------------------------------------------------------------------------------------
class SpTokenizer:
    def __init__(self, model_file):
        import sentencepiece as spm

        self.sp = spm.SentencePieceProcessor(model_file=model_file)
        self.vocab_size = self.sp.get_piece_size()
        self.meta_id = self.sp.piece_to_id("\u2581")

    def encode(self, text: str, add_eos: bool = True):
        # Same as tokenizer.json in transformers.js: literal special tokens in the text are matched first,
        # every other (non-empty) section gets the "▁" prefix and is BPE-encoded on its own.
        ids = []
        for part in _SPECIAL_RE.split(text):
            if part == "":
                continue
            if part in _SPECIAL_IDS:
                ids.append(_SPECIAL_IDS[part])
            else:
                ids += self.sp.encode(part)
        return ids + [EOS_ID] if add_eos else ids

    def decode(self, ids):
        return self.sp.decode([i for i in ids if i > MASK_ID])


# --------------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------------

def build_corpus(data, tiny=False, seed=13, profile="shared"):
    rng = random.Random(seed)
    texts = []
    # tweets: SemEval pool minus the TweetEval sentiment validation tweets
    val_keys = set(C.match_key(t) for t in C.load_tweeteval(data, "sentiment", "val")[0])
    pool = [t for t, _ in C.load_semeval_pool(data) if C.match_key(t) not in val_keys]
    texts += [C.clean_tweet(t) for t in pool]
    for task in ["offensive", "hate", "irony", "emotion"]:
        try:
            texts += [C.clean_tweet(t) for t in C.load_tweeteval(data, task, "train")[0]]
        except FileNotFoundError:
            pass
    # dialogue (raw, cased) -- one line per turn
    convs = C.load_self_dialogue(data, "train", max_convs=2000 if tiny else None)
    lines = [l for c in convs for l in c]
    rng.shuffle(lines)
    texts += lines[: (20000 if tiny else 200000)]
    # clinc requests
    texts += [t for t, _ in C.load_clinc(data)["train"]]
    if profile == "signals":
        # signals-0.3 (en + zh): every COLD train comment and the TNEWS headlines outside our carved validation
        # slice, so that common CJK characters (and frequent words) get their own pieces instead of byte-fallback
        # triples. ChnSentiCorp (LUGE, non-commercial) is left out, so the tokenizer is clean of it.
        texts += [t for t, _ in C.load_cold(data, "train")]
        texts += [t for t, _ in C.load_tnews(data, "train")]
    else:
        # a little Chinese so CJK characters get pieces (everything else falls back to bytes)
        zh = [t for t, _ in C.load_cold(data, "train")]
        rng.shuffle(zh)
        texts += zh[: (1000 if tiny else 8000)]
        tn = [t for t, _ in C.load_tsv2(os.path.join(data, "tnews_zh", "train.tsv"))]
        rng.shuffle(tn)
        texts += tn[: (1000 if tiny else 8000)]
        cs = [t for t, _ in C.load_tsv2(os.path.join(data, "chnsenticorp_zh", "train.tsv"))]
        rng.shuffle(cs)
        texts += [t[:200] for t in cs[: (200 if tiny else 1500)]]
    texts = [t.replace("\n", " ").strip() for t in texts if t and t.strip()]
    if profile == "signals":
        # Spaces between CJK characters in the TRAINING corpus only: sentencepiece's BPE trainer is very slow on
        # long unsegmented Chinese lines, and a character per piece is what a small zh model wants anyway (as in
        # BERT-Chinese). Encoding is unchanged (raw text, same model in Python and tokenizer.json).
        texts = [" ".join(_CJK.sub(r" \1 ", t).split()) for t in texts]
    rng.shuffle(texts)
    if tiny:
        texts = texts[:30000]
    return texts


def parity_texts(data, seed=7):
    """~500 varied raw texts (validation splits + hand-written tricky cases)."""
    rng = random.Random(seed)
    tricky = [
        "", " ", "   ", "\t", "\n", " \n ", "a", "A", "I", "hello", " hello", "hello ", "  hello  world  ",
        "LOL 😂😂😂", "🇺🇸🇺🇸 USA USA", "I love it 😍🔥💯", "👍🏽 ok", "👨‍👩‍👧‍👦 family",
        "check this out https://example.com/a?b=c&d=e#frag", "http://t.co/AbCdEf12", "www.steward.dev",
        "@user thanks!", "@Microsoft why???", "@USER @USER Go home you're drunk!!! #MAGA URL",
        "#blessed #MondayMotivation", "soooooo goooood", "noooooooooooooooooooooooooo",
        "THIS IS ALL CAPS AND ANGRY!!!", "MiXeD CaSe TeXt", "你好世界", "我爱北京天安门。", "中文和English混合",
        "日本語のテキスト", "한국어 텍스트", "Привет, мир!", "مرحبا بالعالم", "Ελληνικά", "עברית",
        "naïve café résumé", "Zürich Straße", "ﬁ ligature", "ＦＵＬＬＷＩＤＴＨ", "tab\tseparated", "line\nbreak",
        "multiple\n\n\nnewlines", "$100 & 50% off!!", "1234567890", "3.14159", "2026-11-29 06:40",
        "<b>html</b>", "a\u200bzero width", "trailing space ", "   leading spaces", "emoji at end 🙂",
        "can't won't don't", "“smart quotes” ‘single’", "—em dash— and – en dash", "…", "¯\\_(ツ)_/¯",
        "\u00a0nbsp", "x" * 300, "ab" * 150, "😂" * 40, "e\u0301 combining", "𝔣𝔞𝔫𝔠𝔶 𝕥𝕖𝕩𝕥",
        "<pad> is special inside text", "a<sep>b", "x </s> y<unk>", "Discord <@123456789012345678> mention", "<:custom_emoji:12345>",
        "```code block```", "`inline`", "**bold** _italic_ ~~strike~~", "C:\\path\\to\\file", "key=value; k2=v2",
    ]
    out = list(tricky)
    pools = []
    try:
        pools.append(C.load_tweeteval(data, "sentiment", "val")[0])
        pools.append(C.load_tweeteval(data, "offensive", "val")[0])
        pools.append(C.load_tweeteval(data, "hate", "val")[0])
    except FileNotFoundError:
        pass
    try:
        pools.append([l for c in C.load_self_dialogue(data, "validation", max_convs=200) for l in c])
    except Exception:
        pass
    try:
        d = C.load_clinc(data)
        pools.append([t for t, _ in d["val"]] + [t for t, _ in d["oos_val"]])
    except Exception:
        pass
    try:
        pools.append([t for t, _ in C.load_cold(data, "dev")])
        pools.append([t for t, _ in C.load_tnews(data, "val")])
    except Exception:
        pass
    pools.append([t for t, _ in C.load_semeval_pool(data)][:5000])
    per = (500 - len(out)) // max(len(pools), 1) + 1
    for p in pools:
        out += rng.sample(p, min(per, len(p)))
    return out[:520]


# --------------------------------------------------------------------------------------------
# conversion sentencepiece -> tokenizer.json
# --------------------------------------------------------------------------------------------

def convert(model_file, out_dir, model_max_length=512):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model_file)
    n = sp.get_piece_size()
    vocab = {}
    normal = []
    for i in range(n):
        p = sp.id_to_piece(i)
        vocab[p] = i
        if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i) or p in USER_DEFINED):
            normal.append(p)
    assert [sp.id_to_piece(i) for i in range(5)] == SPECIALS + USER_DEFINED, [sp.id_to_piece(i) for i in range(6)]
    # merges, the way transformers' SentencePieceExtractor does it: every split of a piece into two vocab
    # pieces, ordered by the merged piece's rank (BPE scores are -rank), ties by the parts' ranks.
    merges = []
    for piece in normal:
        pid = vocab[piece]
        for k in range(1, len(piece)):
            l, r = piece[:k], piece[k:]
            if l in vocab and r in vocab and l not in USER_DEFINED and r not in USER_DEFINED:
                merges.append((pid, vocab[l], vocab[r], l, r))
    merges.sort()
    added = []
    for i, tok in enumerate(SPECIALS + USER_DEFINED):
        added.append({"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [EOS_ID], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab,
            "merges": [[l, r] for _, _, _, l, r in merges],
        },
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    added_dec = {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added}
    cfg = {
        "tokenizer_class": "T5Tokenizer",
        "model_max_length": model_max_length,
        "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
        "additional_special_tokens": USER_DEFINED,
        "add_bos_token": False, "add_eos_token": True,
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "padding_side": "right",
        "added_tokens_decoder": added_dec,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
    stm = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>", "additional_special_tokens": USER_DEFINED}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(stm, f, ensure_ascii=False, indent=2)
    return len(merges)


def train(data, out_dir, vocab_size=8000, tiny=False, seed=13, profile="shared", character_coverage=0.9995):
    import sentencepiece as spm

    os.makedirs(out_dir, exist_ok=True)
    ready = os.path.join(out_dir, "READY")
    if os.path.exists(ready):
        os.remove(ready)
    texts = build_corpus(data, tiny=tiny, seed=seed, profile=profile)
    print(f"tokenizer corpus: {len(texts)} lines", flush=True)
    tmpdir = tempfile.mkdtemp(prefix="steward_tok_")
    corpus = os.path.join(tmpdir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t + "\n")
    prefix = os.path.join(tmpdir, "sp")
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=vocab_size,
        character_coverage=character_coverage, byte_fallback=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
        split_digits=True, allow_whitespace_only_pieces=False,
        pad_id=PAD_ID, eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        user_defined_symbols=USER_DEFINED, max_sentence_length=4096,
        # sentencepiece 0.1.97 has no seed flag: with the corpus fully used (no sampling) training is deterministic
        input_sentence_size=0, shuffle_input_sentence=False,
        num_threads=2, minloglevel=2,
    )
    shutil.copy(prefix + ".model", os.path.join(out_dir, "tokenizer.model"))
    shutil.rmtree(tmpdir, ignore_errors=True)
    nm = convert(os.path.join(out_dir, "tokenizer.model"), out_dir)
    tok = SpTokenizer(os.path.join(out_dir, "tokenizer.model"))
    pt = parity_texts(data)
    C.atomic_write_json(os.path.join(out_dir, "tokenizer_parity.json"),
                        [{"text": t, "ids": tok.encode(t)} for t in pt])
    lens = [len(tok.encode(t, add_eos=False)) for t in texts[:5000]]
    print(f"vocab {tok.vocab_size}, merges {nm}, mean tokens/line {sum(lens) / len(lens):.1f}", flush=True)
    with open(ready, "w") as f:
        f.write("ok\n")
    print(f"tokenizer written to {out_dir}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--out", default=None, help="default work/tokenizer (shared) or work/tokenizer_signals")
    ap.add_argument("--vocab", type=int, default=None, help="default 8000 (shared), 16000 (signals), 2000 (--tiny)")
    ap.add_argument("--profile", choices=["shared", "signals"], default="shared",
                    help="shared: the reply model's 8k tokenizer; signals: 16k en+zh tokenizer of signals-0.3")
    ap.add_argument("--tiny", action="store_true", help="small corpus + 2000 vocab for CI smoke runs")
    ap.add_argument("--convert-only", action="store_true")
    a = ap.parse_args()
    sig = a.profile == "signals"
    a.out = a.out or (C.SIGNALS_TOKENIZER_DIR if sig else C.TOKENIZER_DIR)
    if a.convert_only:
        convert(os.path.join(a.out, "tokenizer.model"), a.out)
        tok = SpTokenizer(os.path.join(a.out, "tokenizer.model"))
        C.atomic_write_json(os.path.join(a.out, "tokenizer_parity.json"),
                            [{"text": t, "ids": tok.encode(t)} for t in parity_texts(a.data)])
        return
    vocab = a.vocab or (2000 if a.tiny else 16000 if sig else 8000)
    train(a.data, a.out, vocab_size=vocab, tiny=a.tiny, profile=a.profile,
          character_coverage=0.99995 if sig else 0.9995)


if __name__ == "__main__":
    main()
