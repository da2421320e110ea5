"""Evaluation of the reply model + model card (models/bundled/reply/README.md).

  /usr/bin/python3 models/training/reply.py eval [--out DIR] [--dest models/bundled/reply] [--eval-pairs 3000]

1. PyTorch (fp32) perplexity on the whole self_dialogue validation split (last 3 lines -> next line).
2. ONNX perplexity through @huggingface/transformers (Node, parity_reply.mjs --eval) on a seeded subset of the
   same pairs, for the fp32 export and the int8 files.
3. Sampled replies (the shipped generation_config.json, seeded) for 200 validation contexts, for fp32 and int8:
   distinct-1/2 (unique word uni/bigrams over all replies / total), mean length, 20 printed samples.
Writes DIR/eval.json and regenerates DEST/README.md with the figures.
"""
from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
import reply_train as R  # noqa: E402


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def distinct(replies, n):
    grams, total = set(), 0
    for r in replies:
        w = r.lower().split()
        for i in range(len(w) - n + 1):
            grams.add(tuple(w[i:i + n]))
            total += 1
    return len(grams) / max(total, 1)


def node_eval(folder, dtype, spec_path, out_path):
    cmd = ["node", os.path.join(HERE, "parity_reply.mjs"), folder, "--dtype", dtype, "--eval", spec_path, out_path]
    log("$", " ".join(cmd))
    subprocess.run(cmd, cwd=C.REPO, check=True)
    with open(out_path) as f:
        return json.load(f)


def run(args):
    import torch
    from reply_export import load_model

    torch.set_num_threads(max(1, args.threads))
    model, cfg, meta = load_model(args.out)
    tok = R.load_tokenizer(R.tokenizer_dir(args))
    val_convs = R.load_split(args, tok, "validation", max_convs=60 if args.smoke else None)
    val_ex = R.make_examples(val_convs, random.Random(1), fixed_k=R.MAX_CONTEXT_TURNS)
    t0 = time.time()
    vl, ntok = R.evaluate_loss(model, val_ex)
    log(f"PyTorch fp32 validation: loss {vl:.4f} ppl {math.exp(vl):.2f} over {ntok} tokens ({time.time() - t0:.0f}s)")
    res = {"torch_fp32": {"ppl": math.exp(vl), "nll_per_token": vl, "tokens": ntok, "pairs": len(val_ex)}}

    # seeded subsets for ONNX ppl and sampling
    rng = random.Random(7)
    n_pairs = min(len(val_ex), 200 if args.smoke else args.eval_pairs)
    sub = rng.sample(val_ex, n_pairs)
    sub_loss, sub_tok = R.evaluate_loss(model, sub)
    res["torch_fp32_subset"] = {"ppl": math.exp(sub_loss), "tokens": sub_tok, "pairs": n_pairs}
    # sampling contexts: raw text, the way the runtime builds them
    raw = C.load_self_dialogue(args.data, "validation", max_convs=60 if args.smoke else None)
    ctxs = []
    for c in raw:
        if len(c) < 2:
            continue
        t = rng.randint(1, len(c) - 1)
        ctxs.append((c[max(0, t - R.MAX_CONTEXT_TURNS):t], c[t]))
    ctxs = rng.sample(ctxs, min(len(ctxs), 40 if args.smoke else 200))
    spec = {"seed": 1234, "pairs": [{"input_ids": s, "target_ids": t} for s, t in sub],
            "samples": [R.join_context(turns) for turns, _ in ctxs]}
    spec_path = os.path.join(args.out, "eval_spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    exp = os.path.join(args.out, "export")
    for name, folder, dtype in (("onnx_fp32", exp, "fp32"), ("onnx_int8", exp, "q8")):
        if not os.path.exists(os.path.join(folder, "onnx", "encoder_model.onnx")):
            continue
        r = node_eval(folder, dtype, spec_path, os.path.join(args.out, f"eval_{name}.json"))
        reps = r["replies"]
        res[name] = {"ppl_subset": r["ppl"], "tokens": r["tokens"], "pairs": n_pairs,
                     "distinct_1": distinct(reps, 1), "distinct_2": distinct(reps, 2),
                     "mean_words": sum(len(x.split()) for x in reps) / max(1, len(reps)),
                     "empty_replies": sum(1 for x in reps if not x.strip()),
                     "ms_per_reply_batch8": r["sampling_ms_per_reply_batch8"],
                     "samples": [{"context": turns, "reply": rep, "human": gold}
                                 for (turns, gold), rep in list(zip(ctxs, reps))[:20]]}
        log(f"{name}: ppl(subset) {r['ppl']:.2f}  distinct-1 {res[name]['distinct_1']:.3f} "
            f"distinct-2 {res[name]['distinct_2']:.3f}  mean words {res[name]['mean_words']:.1f}")
    # the human replies of the same contexts, as a reference for distinct-n
    gold = [g for _, g in ctxs]
    res["human_reference"] = {"distinct_1": distinct(gold, 1), "distinct_2": distinct(gold, 2),
                              "mean_words": sum(len(x.split()) for x in gold) / max(1, len(gold))}
    # parity summaries (latency etc.)
    for name, folder, dtype in (("parity_fp32", exp, "fp32"), ("parity_int8", exp, "q8")):
        pj = os.path.join(args.out, f"{name}.json")
        cmd = ["node", os.path.join(HERE, "parity_reply.mjs"), folder, "--dtype", dtype, "--json", pj]
        p = subprocess.run(cmd, cwd=C.REPO, capture_output=True, text=True)
        if os.path.exists(pj):
            with open(pj) as f:
                d = json.load(f)
            d.pop("cases", None)
            res[name] = d
    res["train"] = meta
    res["n_params"] = f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M"
    res["config"] = cfg.to_dict()
    with open(os.path.join(exp, "export_meta.json")) as f:
        res["export"] = json.load(f)
    res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    C.atomic_write_json(os.path.join(args.out, "eval.json"), res)
    if os.path.isdir(args.dest):
        write_card(args, res)
    log("eval written to", os.path.join(args.out, "eval.json"))
    return res


def _fmt(x, d=2):
    return "n/a" if x is None else f"{x:.{d}f}"


def write_card(args, res):
    cfg = res["config"]
    tr = res.get("train", {})
    ex = res.get("export", {})
    fp32_bundled = ex.get("fp32_bundled", False)
    files = []
    for root, _, fs in os.walk(args.dest):
        for f in sorted(fs):
            p = os.path.join(root, f)
            files.append((os.path.relpath(p, args.dest), os.path.getsize(p)))
    files.sort()
    total = sum(s for _, s in files)
    q = res.get("onnx_int8", {})
    f = res.get("onnx_fp32", {})
    pi = res.get("parity_int8", {})
    pf = res.get("parity_fp32", {})
    hr = res.get("human_reference", {})
    lines = []
    A = lines.append
    A("# Steward reply model (`models/bundled/reply`)")
    A("")
    A("A small T5-style encoder-decoder that writes a short chat reply to the last 1-3 messages of a "
      "conversation. Trained **from scratch** by `models/training/reply.py`; runs under "
      "`@huggingface/transformers` 4.3.1 (`AutoModelForSeq2SeqLM`, `pipeline('text2text-generation')`) with "
      "onnxruntime-node, offline.")
    A("")
    A("## Data seen")
    A("")
    A(f"- **self_dialogue** train split only (`../shared/datasets/self_dialogue/train`, 52 CSV files, "
      f"{tr.get('train_conversations', 'n/a')} conversations after the upstream Reject/blocked-worker filter). "
      "Licence: **BSD 3-Clause** (Fainberg et al. 2018, *Talking to myself: self-dialogues as data for "
      "conversational agents*, arXiv:1809.06641; https://github.com/jfainberg/self_dialogue_corpus). "
      "Commercial use allowed with attribution.")
    A("- Validation split (5 whole MTurk batches) used only for the figures below; the upstream test files are not present and were never used.")
    A("- **Not** trained on dailydialog (non-commercial licence) or any other dataset. The tokenizer is Steward's shared "
      "sentencepiece BPE (8000 pieces, byte fallback, cased), trained by `models/training/tokenizer.py` on the "
      "permissively licensed text listed in its own card.")
    A(f"- Training: {tr.get('steps', 'n/a')} steps of batch {tr.get('batch', 64)} "
      f"(~{_fmt(tr.get('epochs_seen'), 2)} epochs of line->next-line pairs, 1-3 context lines sampled per example), "
      f"AdamW lr {tr.get('lr', 'n/a')}, cosine schedule, seed {tr.get('seed', 'n/a')}, "
      f"{_fmt((tr.get('seconds') or 0) / 60, 0)} min on 1 CPU thread.")
    A("")
    A("## Architecture")
    A("")
    A(f"T5 v1.0-style encoder-decoder: d_model {cfg['d_model']}, {cfg['num_layers']} encoder + "
      f"{cfg['num_decoder_layers']} decoder layers, {cfg['num_heads']} heads x d_kv {cfg['d_kv']}, ReLU FFN "
      f"{cfg['d_ff']}, pre-norm RMSNorm, bucketed relative position bias ({cfg['relative_attention_num_buckets']} "
      f"buckets, max distance {cfg['relative_attention_max_distance']}), tied input/output embeddings "
      f"(vocab {cfg['vocab_size']}), {res.get('n_params', '7.56M')} parameters. Attention uses 1/sqrt(d_kv) "
      "scaling, so the numerics are *not* those of HF `T5ForConditionalGeneration` in Python: only the ONNX files "
      "are meant to be run (there are no PyTorch weights in this folder).")
    A("")
    A("ONNX (Optimum's T5 names): `onnx/encoder_model*.onnx` (`input_ids`, `attention_mask` -> `last_hidden_state`) and "
      "`onnx/decoder_model_merged*.onnx` (`encoder_attention_mask`, `input_ids`, `encoder_hidden_states`, "
      "`past_key_values.{i}.decoder|encoder.key|value`, `use_cache_branch` -> `logits`, `present.*`), KV cache "
      "shapes `[batch, heads, seq, d_kv]`. The merged decoder has one `If` on `use_cache_branch`: on the first "
      "step it computes the cross-attention K/V from `encoder_hidden_states`, later it reuses the cached ones; "
      "self-attention concatenates the past with the new K/V and the relative position bias uses absolute "
      "positions past_len..past_len+t-1.")
    A("")
    A("**Cross-attention outputs (since 0.1.1).** The merged decoder also outputs `cross_attentions.{layer}`: each "
      "decoder layer's cross-attention weights after the softmax, `[batch, heads, decoder_len, encoder_len]`, the "
      "names @huggingface/transformers collects with `generate({ output_attentions: true, return_dict_in_generate: "
      "true })`. `reply_attention.py` (run by `reply.py export`, or `npm run train -- attention` on an existing "
      "folder) passes each layer's cross-attention Softmax output to a graph output; no weight or node changes, "
      "and `parity_attention.mjs` checks ids and logits are identical before and after. Steward uses them to "
      "explain library answers (`steward analyze --json --reply` -> `\"attention\"`) when the model reads passages "
      "(`steward.source_prefix`).")
    A("")
    if fp32_bundled:
        A("Both fp32 (`*.onnx`) and dynamic int8 (`*_quantized.onnx`, MatMulInteger + int8 embedding rows) files are "
          "bundled; fp32 is the default dtype, pass `dtype: 'q8'` for int8.")
    else:
        A("**Only the int8 files are bundled** (`*_quantized.onnx`, dynamic int8: MatMulInteger + int8 embedding rows): "
          f"the fp32 pair is {ex.get('fp32_bytes', 0) / 1e6:.1f} MB (the tied 8000x256 embedding is stored in both "
          "files, twice in the decoder) and does not fit the 30 MB folder budget next to int8. `config.json` sets "
          "`\"transformers.js_config\": {\"dtype\": \"q8\"}` so the default load picks them. The fp32 export is "
          "rebuilt by `reply.py export` into `models/training/work/reply/export/` (used for the strict parity check).")
    A("")
    A("## Input contract")
    A("")
    A(f"- Take the last **1-{R.MAX_CONTEXT_TURNS}** messages, oldest first. Clean each: collapse all whitespace "
      "(including newlines) to single spaces, trim; keep case and punctuation.")
    A(f"- Join them with the separator **`{R.SEP_TEXT}`** (token id {R.SEP_ID}) with **no spaces around it**: "
      "`turns.join('<sep>')`. The tokenizer appends `</s>` itself.")
    A(f"- Keep the tokenized input <= {R.MAX_INPUT_LEN} tokens by dropping the oldest messages first "
      "(training did the same; a single longer message kept its last tokens).")
    A("- The reply is the generated ids after the decoder start token (0) up to the first `</s>` (1); decode with "
      "`skip_special_tokens: true`. In a batch, rows that finished keep generating until every row has ended "
      "(transformers.js 4.3.1 does not pad finished rows), so always cut each row at its first `</s>`.")
    A("- Values are in `config.json` -> `steward` (`context_separator`, `max_context_turns`, `max_input_length`).")
    A("")
    A("## Use (Node)")
    A("")
    A("```js")
    A("import { AutoTokenizer, AutoModelForSeq2SeqLM, env, random } from '@huggingface/transformers';")
    A("env.allowRemoteModels = false;")
    A("const dir = '/abs/path/models/bundled/reply';")
    A("const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });")
    A("const model = await AutoModelForSeq2SeqLM.from_pretrained(dir, { local_files_only: true"
      + ("" if fp32_bundled else " /* dtype 'q8' from config.json */") + " });")
    A("const texts = contexts.map((turns) => turns.slice(-3).map((t) => t.split(/\\s+/).filter(Boolean).join(' ')).join('<sep>'));")
    A("random.seed(42);                      // optional: reproducible sampling (global MT19937)")
    A("const seq = await model.generate({ ...tokenizer(texts, { padding: true }), max_new_tokens: 32 });")
    A("// generation_config.json supplies do_sample/temperature/top_k/repetition_penalty/no_repeat_ngram_size;")
    A("// override per call, e.g. { do_sample: false } for greedy.")
    A("const replies = seq.tolist().map((row) => { const i = row.indexOf(1n, 1); return tokenizer.decode(i < 0 ? row : row.slice(0, i), { skip_special_tokens: true }); });")
    A("```")
    A("")
    A("`generation_config.json`: `do_sample: true, temperature 0.8, top_k 40, top_p 0.9, repetition_penalty 1.2, "
      "no_repeat_ngram_size 3, max_new_tokens 32, min_new_tokens 2`. Note: transformers.js 4.3.1 **ignores "
      "`top_p`** (its TopPLogitsWarper is a stub and the sampler only applies `top_k`); `top_p` is kept for Python "
      "tools. Nucleus sampling in Node needs a custom `logits_processor`.")
    A("")
    A("## Metrics")
    A("")
    A(f"Measured {res.get('date')} with `/usr/bin/python3 models/training/reply.py eval` (`npm run eval`). "
      "Perplexity is per target token (the line + `</s>`), context = the 3 previous lines.")
    A("")
    A("| variant | validation ppl | distinct-1 | distinct-2 | mean words | ms/reply (batch 8, sampled) |")
    A("|---|---|---|---|---|---|")
    A(f"| PyTorch fp32 (all {res['torch_fp32']['pairs']} validation pairs) | {_fmt(res['torch_fp32']['ppl'])} | | | | |")
    A(f"| PyTorch fp32 (seeded subset of {res['torch_fp32_subset']['pairs']} pairs) | {_fmt(res['torch_fp32_subset']['ppl'])} | | | | |")
    if f:
        A(f"| ONNX fp32 in Node (same subset) | {_fmt(f.get('ppl_subset'))} | {_fmt(f.get('distinct_1'), 3)} | "
          f"{_fmt(f.get('distinct_2'), 3)} | {_fmt(f.get('mean_words'), 1)} | {_fmt(f.get('ms_per_reply_batch8'), 0)} |")
    if q:
        A(f"| **ONNX int8 in Node (bundled)** (same subset) | {_fmt(q.get('ppl_subset'))} | {_fmt(q.get('distinct_1'), 3)} | "
          f"{_fmt(q.get('distinct_2'), 3)} | {_fmt(q.get('mean_words'), 1)} | {_fmt(q.get('ms_per_reply_batch8'), 0)} |")
    A(f"| human replies of the same 200 contexts | | {_fmt(hr.get('distinct_1'), 3)} | {_fmt(hr.get('distinct_2'), 3)} | "
      f"{_fmt(hr.get('mean_words'), 1)} | |")
    A("")
    A("distinct-n = unique word n-grams / all word n-grams over 200 sampled replies (lower-cased, whitespace split); "
      "sampling uses the shipped generation_config with `random.seed(1234)`.")
    A("")
    A("Parity with PyTorch (`node models/training/parity_reply.mjs <dir> --dtype fp32|q8`, 8 contexts of parity.json):")
    A("")
    A("| | greedy ids equal | first-step top-1 agreement | max abs logit diff | batched == one-by-one | greedy 20 tokens, batch 1 (median ms) |")
    A("|---|---|---|---|---|---|")
    for nm, p in (("fp32 (work/reply/export)", pf), ("int8 (bundled)", pi)):
        if p:
            A(f"| {nm} | {p.get('greedy_equal')} | {_fmt(p.get('first_step_top1_agreement'), 2)} | "
              f"{_fmt(p.get('logits_max_abs_diff'), 5)} | {p.get('batched_equals_single')} | "
              f"{_fmt(p.get('latency_ms_20_tokens_b1_median'), 0)} |")
    A("")
    A("The latency columns were measured on the shared 2-core training machine while other jobs were running; "
      "treat them as upper bounds. int8 rows can differ between a padded batch and one-by-one generation "
      "(DynamicQuantizeLinear uses one activation scale per tensor, i.e. per batch); fp32 is batch-invariant.")
    A("")
    A("## Files")
    A("")
    A("| file | bytes |")
    A("|---|---|")
    for name, size in files:
        A(f"| `{name}` | {size:,} |")
    A(f"| **total** | **{total:,}** ({total / 1e6:.1f} MB) |")
    A("")
    A("`parity.json` holds the PyTorch reference (8 contexts: input ids, greedy ids, first-step logits) used by "
      "`parity_reply.mjs` and `test/models/reply-generate.test.ts`. README.md is not counted above when it is rewritten.")
    A("")
    samples = q.get("samples") or f.get("samples") or []
    if samples:
        A("### 20 sampled replies (int8, shipped generation settings; validation contexts, never trained on)")
        A("")
        A("| context (oldest -> newest) | model reply | what the human wrote |")
        A("|---|---|---|")
        esc = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        for s in samples:
            A(f"| {esc(' / '.join(s['context']))} | {esc(s['reply'])} | {esc(s['human'])} |")
        A("")
    A("## Reproduce")
    A("")
    A("```sh")
    A("/usr/bin/python3 models/training/tokenizer.py            # shared tokenizer (signals engineer's script)")
    A(f"/usr/bin/python3 models/training/reply.py train --minutes {_fmt(tr.get('budget_minutes'), 0)}   # or: npm run train -- reply --minutes N  (resumable: --resume)")
    A("/usr/bin/python3 models/training/reply.py export         # ONNX fp32+int8 -> work/reply/export, bundle -> models/bundled/reply, Node parity")
    A("/usr/bin/python3 models/training/reply.py eval           # figures above + this README")
    A("node models/training/parity_reply.mjs models/bundled/reply --dtype q8")
    A("nice -n 5 npx vitest run test/models/reply-generate.test.ts")
    A("```")
    A("")
    A("Defaults of `reply.py train` are this build's settings (lr 2e-3, warmup 150 steps, batch 64, seed 1234, 1 thread). "
      "The LR schedule runs on *training time* (the `--minutes` budget, checkpointed every 3 min), not on a step count, "
      "because the shared machine's speed varied 3-7x with the other jobs; the same command therefore reaches more or "
      "fewer steps on another machine. This build was started with `--minutes 55` and extended twice with "
      "`--resume --minutes 65` / `--resume --minutes 85` (an explicit `--minutes` on `--resume` resets the budget).")
    A("")
    A("`reply.py smoke --out DIR` runs a tiny end-to-end version (30 steps of a 0.7M model, export, Node parity) in "
      "1-2.5 minutes depending on machine load.")
    A("")
    A("## Intended use")
    A("")
    A("Light, optional small talk from a self-hosted community bot (e.g. a friendly reply when the bot is mentioned "
      "in casual chat about movies, music, sports). It is a tiny model trained for about 1.5 hours on one CPU thread on one small "
      "corpus: treat its output as playful filler, not information.")
    A("")
    A("## Known failure modes")
    A("")
    A("- **Topic bias**: the corpus is entertainment/sports chit-chat (movies, music, NFL, hockey, Star Wars, Harry "
      "Potter...). Off-topic inputs (support questions, code, moderation disputes) get on-topic-sounding but "
      "irrelevant replies.")
    A("- **Facts are made up**: names, dates, scores, plot details are frequently wrong or invented.")
    A("- **Generic / repetitive replies** (\"I love that movie!\", \"Yeah, me too.\"), especially greedy; the shipped "
      "sampling settings trade this for occasional incoherence.")
    A("- **English only**; other languages, heavy slang, emoji-only or very long messages degrade badly "
      "(inputs are capped at 64 tokens).")
    A("- One MTurk worker wrote both sides of each conversation, so the model mirrors the previous speaker's style "
      "and sometimes continues the *same* speaker's thought instead of answering.")
    A("- No safety training: it can agree with or echo offensive input. Run the moderation model on both the incoming "
      "message and the generated reply before posting, and never reply to flagged messages.")
    A("")
    lines_out = "\n".join(lines) + "\n"
    with open(os.path.join(args.dest, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(lines_out)
    log("model card written:", os.path.join(args.dest, "README.md"), f"(folder {total / 1e6:.1f} MB)")
