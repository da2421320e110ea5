"""Steward "reply" model: train / export / eval a small T5-style encoder-decoder from scratch on self_dialogue.

  /usr/bin/python3 models/training/reply.py train  [--data DIR] [--out DIR] [--resume] [--minutes 50] [--smoke]
  /usr/bin/python3 models/training/reply.py export [--out DIR] [--dest models/bundled/reply] [--smoke]
  /usr/bin/python3 models/training/reply.py eval   [--out DIR] [--dest models/bundled/reply] [--smoke]
  /usr/bin/python3 models/training/reply.py smoke  [--out DIR]      # train+export+node parity on a tiny slice (< 2 min)

Data: self_dialogue train split only (BSD-3); validation split for perplexity. Nothing else.
Example = encoder input: the last 1-3 lines before a line, joined with the `<sep>` token (id 3), + `</s>`;
target = that line + `</s>`. The tokenizer is the shared sentencepiece BPE (models/training/work/tokenizer).
Outputs: --out (default models/training/work/reply): ckpt.pt (resumable), model.pt (final), export/ (fp32+int8
ONNX for parity/eval); --dest gets the bundled folder (config.json, generation_config.json, tokenizer, onnx/).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
from reply_train import DEFAULT_DEST, DEFAULT_OUT, log, train  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train", "export", "eval", "smoke"])
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--out", default=None)
    ap.add_argument("--dest", default=None, help="bundled model folder to write (export)")
    ap.add_argument("--tokenizer", default=None)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--minutes", type=float, default=None,
                    help="training-time budget in minutes (default 50; sets the LR schedule; on --resume the checkpoint's"
                         " budget is kept unless given)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--d-ff", type=int, default=1024)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ckpt-every", type=float, default=3.0, help="minutes")
    ap.add_argument("--eval-every", type=float, default=10.0, help="minutes")
    ap.add_argument("--eval-pairs", type=int, default=3000, help="validation pairs for the ONNX perplexity")
    ap.add_argument("--no-node", action="store_true", help="skip the Node parity/eval steps")
    ap.add_argument("--init-from", default=None,
                    help="start from the weights of a bundled reply folder (its int8 ONNX, reply_warmstart.py)")
    ap.add_argument("--grounded-only", action="store_true",
                    help="with --grounded: the sentence-picking and copy drills only (no chat, no Topical-Chat turns)")
    ap.add_argument("--prev-token", action="store_true",
                    help="encoder adds the previous token's embedding at each position (reply_model.py; copying)")
    ap.add_argument("--match-feature", action="store_true",
                    help="encoder adds an exact-match vector to passage tokens found in the question (reply_model.py)")
    ap.add_argument("--answer", action="store_true",
                    help="export: write the answer model's config (as a --grounded-only run records by itself)")
    ap.add_argument("--grounded-items", type=int, default=6000,
                    help="with --grounded: made-up library items of self_dialogue train lines to drill on")
    ap.add_argument("--grounded", action="store_true",
                    help="also train passage-conditioned replies (reply_grounded.py); input length 128")
    args = ap.parse_args()
    args.minutes_given = args.minutes is not None
    if args.grounded:
        import reply_train

        reply_train.MAX_INPUT_LEN = 128
    if args.minutes is None:
        args.minutes = 50.0
    if args.cmd == "smoke":
        args.smoke = True
    if args.out is None:
        args.out = os.path.join(C.WORK, "reply_smoke") if args.smoke else DEFAULT_OUT
    if args.dest is None:
        args.dest = os.path.join(args.out, "bundle") if args.smoke else DEFAULT_DEST
    args.out = os.path.abspath(args.out)
    args.dest = os.path.abspath(args.dest)
    os.makedirs(args.out, exist_ok=True)
    args.init_state = None
    if args.init_from and args.cmd in ("train", "smoke") and not args.resume:
        import reply_warmstart

        args.init_state = reply_warmstart.load_state(args.init_from)
    if args.cmd == "train":
        if args.smoke and not args.resume and os.path.exists(os.path.join(args.out, "ckpt.pt")):
            os.remove(os.path.join(args.out, "ckpt.pt"))
        train(args)
    elif args.cmd == "export":
        import reply_export

        reply_export.export(args)
    elif args.cmd == "eval":
        import reply_eval

        reply_eval.run(args)
    elif args.cmd == "smoke":
        t0 = time.time()
        if os.path.exists(os.path.join(args.out, "ckpt.pt")):
            os.remove(os.path.join(args.out, "ckpt.pt"))
        train(args)
        import reply_export

        reply_export.export(args)
        log(f"smoke OK in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
