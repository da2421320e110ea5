"""Background lines for the community library's lexical index (models/bundled/library/background.txt).

BM25's idf comes from the documents it indexes. A community library is often a handful of items, where every word
is "common" (a one-item library gives each of its words the lowest idf) and no request scores as relevant. The
library index therefore also holds these ordinary chat lines as never-returned documents: a word's weight says how
rare it is in chat, whatever the library's size.

Source: self_dialogue *train* split (BSD 3-Clause), the upstream filter (Reject / blocked workers), one line drawn per
conversation from a fixed seed; lines of 6-30 words, deduplicated. Run: /usr/bin/python3 models/training/library_background.py

It also writes background_zh.txt: 200 ordinary Chinese lines that stand for Chinese chat a library should not answer
(the Chinese null queries of LibraryIndex.cutoff): COLD *train* comments labelled safe (Apache-2.0), 6-40 characters,
drawn with a fixed seed, deduplicated. They are social-media comments, often on the topics COLD was collected on
(race, gender, region), not community chat: the nearest ordinary Chinese text here with a licence that allows it.
"""
import csv
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / 'shared' / 'datasets' / 'self_dialogue'
OUT = ROOT / 'models' / 'bundled' / 'library' / 'background.txt'
COUNT = 500
SEED = 20261203


def conversations():
    blocked = set((DATA / 'blocked_workers.txt').read_text().split())
    csv.field_size_limit(sys.maxsize)
    for path in sorted((DATA / 'train' / 'corpus').rglob('*.csv')):
        with path.open(newline='', encoding='utf-8') as f:
            for row in csv.DictReader(f):
                if row.get('Reject') or row.get('WorkerId') in blocked:
                    continue
                keys = sorted((k for k in row if k.startswith('Answer.sentence')), key=lambda k: int(k[15:]))
                lines = [' '.join(row[k].split()) for k in keys]
                lines = [l for l in lines if l and l != '{}']
                if lines:
                    yield lines


COLD = ROOT.parent / 'shared' / 'datasets' / 'cold_zh' / 'train.csv'
OUT_ZH = ROOT / 'models' / 'bundled' / 'library' / 'background_zh.txt'
COUNT_ZH = 200


def chinese_lines():
    with COLD.open(newline='', encoding='utf-8-sig') as f:
        rows = [r for r in csv.DictReader(f) if r['label'] == '0' and r['split'] == 'train']
    rng = random.Random(SEED)
    rng.shuffle(rows)
    seen, out = set(), []
    for r in rows:
        line = ' '.join(r['TEXT'].split())
        if not 6 <= len(line) <= 40 or line in seen:
            continue
        seen.add(line)
        out.append(line)
        if len(out) == COUNT_ZH:
            break
    OUT_ZH.write_text('\n'.join(out) + '\n', encoding='utf-8')
    print(f'{len(out)} Chinese lines from {len(rows)} safe COLD train comments -> {OUT_ZH.relative_to(ROOT)}')


def main():
    rng = random.Random(SEED)
    pool = list(conversations())
    rng.shuffle(pool)
    seen, out = set(), []
    for lines in pool:
        line = rng.choice(lines)
        words = re.findall(r"\w+", line)
        if not 6 <= len(words) <= 30 or line.lower() in seen:
            continue
        seen.add(line.lower())
        out.append(line)
        if len(out) == COUNT:
            break
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text('\n'.join(out) + '\n', encoding='utf-8')
    print(f'{len(out)} lines from {len(pool)} conversations -> {OUT.relative_to(ROOT)}')
    chinese_lines()


if __name__ == '__main__':
    main()
