"""Passage-conditioned examples for the reply model (`reply.py train --grounded`).

The encoder input is the conversation turns, then `<sep>`, then `source: <title>. <passage>`; the target is a
reply that draws on the passage. Two sources, both from ../shared/datasets:

- topical_chat (valid_freq, valid_rare; test_freq is held out for evaluation): every turn whose crowd worker
  marked a reading-set section (FS1..FS3) as its knowledge source; the passage is that entity's Wikipedia lead
  from the worker's own reading set; input = the previous turn; target = the turn.
- copy drills from the same Wikipedia leads: "what is <entity>?" / "tell me about <entity>" with the lead as
  the source, target = the lead's first sentence. They teach the decoder to copy names and facts from the
  source through cross-attention instead of making them up.
- sentence-picking drills (`pick_drills`): a question naming a word that only one sentence of the source holds
  ("anything about <word>?", "what about the <word>", ...), target = that sentence. Sources: the same Wikipedia
  leads, and short made-up "library items" of 2-4 self_dialogue train lines from different conversations (chat
  register, the length of a community FAQ entry). They teach the answer to come from the sentence the question
  is about, which is what a library answer and its cross-attention need (bench/attention-validity.ts).
"""
from __future__ import annotations

import json
import os
import random
import re

SOURCE_PREFIX = "source: "
TOPICAL_SPLITS = ("valid_freq", "valid_rare")
HELD_OUT_SPLIT = "test_freq"
QUESTIONS = ("what is {e}?", "tell me about {e}", "what do you know about {e}?", "do you know {e}?",
             "anything about {e}?", "who or what is {e}?")


def source_text(title: str, passage: str) -> str:
    """Runtime contract (models/runtime/reply.ts): the source turn is `source: <title>. <passage>`."""
    title = " ".join(title.split()).rstrip(".")
    return f"{SOURCE_PREFIX}{title}. {' '.join(passage.split())}"


def first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return (m.group(1) if m else text.strip())[:300]


def _wiki(data):
    with open(os.path.join(data, "topical_chat", "wiki", "wiki.json"), encoding="utf-8") as f:
        w = json.load(f)
    # wiki.json maps text -> id per section kind; invert to id -> text
    out = {}
    for kind, table in w.items():
        out[kind] = {v: k for k, v in table.items()}
    return out


def topical_pairs(data, splits=TOPICAL_SPLITS):
    """(previous turn, title, passage, reply) for knowledge-grounded turns."""
    wiki = _wiki(data)
    pairs = []
    for split in splits:
        with open(os.path.join(data, "topical_chat", "conversations", f"{split}.json"), encoding="utf-8") as f:
            convs = json.load(f)
        with open(os.path.join(data, "topical_chat", "reading_sets", "pre-build", f"{split}.json"),
                  encoding="utf-8") as f:
            reading = json.load(f)
        for cid, conv in convs.items():
            rs = reading.get(cid, {})
            turns = conv["content"]
            for t in range(1, len(turns)):
                turn = turns[t]
                sources = [s for s in turn.get("knowledge_source", []) if re.fullmatch(r"FS\d", s)]
                if not sources:
                    continue
                section = rs.get(turn["agent"], {}).get(sources[0])
                if not section:
                    continue
                passage = None
                for kind in ("shortened_wiki_lead_section", "summarized_wiki_lead_section"):
                    if kind in section:
                        passage = wiki.get(kind, {}).get(section[kind])
                        break
                if passage:
                    pairs.append((turns[t - 1]["message"], section["entity"], passage, turn["message"]))
    return pairs


def copy_drills(pairs, rng, per_entity=len(QUESTIONS)):
    seen = {}
    for _, entity, passage, _ in pairs:
        seen.setdefault(entity, passage)
    out = []
    for entity, passage in sorted(seen.items()):
        for q in rng.sample(QUESTIONS, per_entity):
            out.append((q.format(e=entity), entity, passage, first_sentence(passage)))
    return out


PICK_QUESTIONS = ("anything about {w}?", "what about the {w}?", "tell me about {w}", "what does it say about {w}?",
                  "{w}?", "any info on {w}?", "what's the deal with {w}?", "do you know anything about {w}")
_STOP = frozenset("""a an the and or but if then than that this these those there here what which who whom whose
when where why how is are was were be been being have has had do does did not no yes of in on at to for from by
with about as into over after before under again further once all any both each few more most other some such
only own same so too very can will just should now also its it's his her their our your my they them he she we
you i me him us it one two many much well like really know think would could""".split())


def sentences(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(x.strip()) > 0]


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]{3,}|\d[\d:.,]*\w*", text)]


def pick_drills(items, rng, per_sentence=2, max_words=35, passage_words=70):
    """(question, title, passage, sentence) where the question names a word found in that sentence only. The
    passage is cut to its first sentences within `passage_words` words, so it fits the 128-token input whole."""
    out = []
    for title, passage in items:
        sents, total = [], 0
        for x in sentences(passage):
            total += len(x.split())
            if total > passage_words and sents:
                break
            sents.append(x)
        passage = " ".join(sents)
        if len(sents) < 2:
            continue
        cased = {w.lower(): w for x in sents for w in re.findall(r"[A-Za-z][A-Za-z'-]{3,}|\d[\d:.,]*\w*", x)}
        bags = [set(_words(x)) - _STOP for x in sents]
        skip = set(_words(title))
        for k, sent in enumerate(sents):
            if len(sent.split()) > max_words:
                continue
            others = set().union(*(b for j, b in enumerate(bags) if j != k))
            keys = sorted(bags[k] - others - skip)
            if not keys:
                continue
            for _ in range(per_sentence):
                q = rng.choice(PICK_QUESTIONS).format(w=cased.get(k := rng.choice(keys), k))
                out.append((q, title, passage, sent))
    return out


def chat_items(data, rng, n, lines_per_item=(2, 4)):
    """Made-up library items: 2-4 self_dialogue train lines from different conversations, titled by a word."""
    import common as C

    pool = [line for conv in C.load_self_dialogue(data, "train") for line in conv
            if 5 <= len(line.split()) <= 30 and "{" not in line]
    items = []
    for _ in range(n):
        lines = rng.sample(pool, rng.randint(*lines_per_item))
        lines = [x if x.rstrip()[-1:] in ".!?" else x.rstrip() + "." for x in lines]
        words = [w for w in _words(" ".join(lines)) if w not in _STOP]
        items.append(((rng.choice(words) if words else "note").capitalize(), " ".join(lines)))
    return items


COPY_QUESTIONS = ("what does it say?", "what's the {t} one?", "tell me about {t}", "anything on {t}?", "{t}?",
                  "what do we have on {t}?")


def copy_line_drills(items, rng):
    """(question, title, line, line): a one-sentence item asked about by its title, answered with the sentence
    itself. The plainest copy through cross-attention, which the sentence-picking drills build on."""
    out = []
    for title, passage in items:
        line = sentences(passage)[0]
        if 4 <= len(line.split()) <= 35:
            out.append((rng.choice(COPY_QUESTIONS).format(t=title.lower()), title, line, line))
    return out


def build(data, tok, build_input_ids, clean_turn, eos_id, max_target_len, rng=None, splits=TOPICAL_SPLITS,
          chat_item_count=6000, drills_only=False):
    """Tokenised (src, tgt) pairs: the turn, then the source as the last turn (build_input_ids keeps the end
    when too long, so the passage is cut from its end instead: it is cut to fit before joining)."""
    rng = rng or random.Random(7)
    pairs = topical_pairs(data, splits)
    leads = sorted({(entity, passage) for _, entity, passage, _ in pairs})
    examples = (([] if drills_only else pairs) + copy_drills(pairs, rng) + pick_drills(leads, rng, per_sentence=3)
                + pick_drills(chat_items(data, rng, chat_item_count), rng, per_sentence=1))
    if drills_only:  # many fresh made-up items, so the drills are learnt as copying, not remembered
        examples += copy_line_drills(chat_items(data, rng, chat_item_count // 2, lines_per_item=(1, 1)), rng)
    out = []
    for turn, title, passage, reply in examples:
        q = tok.encode(clean_turn(turn), add_eos=False)[-40:]
        s = tok.encode(source_text(title, passage), add_eos=False)
        tgt = tok.encode(clean_turn(reply), add_eos=False)
        if not tgt:
            continue
        src = build_input_ids([q, s[: max(8, MAX_GROUNDED_INPUT - len(q) - 2)]], max_len=MAX_GROUNDED_INPUT)
        out.append((src, (tgt + [eos_id])[:max_target_len]))
    return out


MAX_GROUNDED_INPUT = 128
