"""Passage-conditioned examples for the reply model (`reply.py train --grounded`).

The encoder input is the conversation turns, then `<sep>`, then `source: <title>. <passage>`; the target is a
reply that draws on the passage. Two sources, both from ../shared/datasets:

- topical_chat (valid_freq, valid_rare; test_freq is held out for evaluation): every turn whose crowd worker
  marked a reading-set section (FS1..FS3) as its knowledge source; the passage is that entity's Wikipedia lead
  from the worker's own reading set; input = the previous turn; target = the turn.
- copy drills from the same Wikipedia leads: "what is <entity>?" / "tell me about <entity>" with the lead as
  the source, target = the lead's first sentence. They teach the decoder to copy names and facts from the
  source through cross-attention instead of making them up.
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


def build(data, tok, build_input_ids, clean_turn, eos_id, max_target_len, rng=None, splits=TOPICAL_SPLITS):
    """Tokenised (src, tgt) pairs: the turn, then the source as the last turn (build_input_ids keeps the end
    when too long, so the passage is cut from its end instead: it is cut to fit before joining)."""
    rng = rng or random.Random(7)
    pairs = topical_pairs(data, splits)
    examples = pairs + copy_drills(pairs, rng)
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
