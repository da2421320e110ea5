"""Steward "reply" model: a small T5-style encoder-decoder in plain PyTorch (no HF transformers).

Architecture (T5 v1.0 flavour): shared token embedding (tied with the LM head, logits scaled by d_model**-0.5),
pre-norm RMSNorm blocks, multi-head attention without biases, bucketed relative position bias
(T5 buckets; one bias table for the encoder, one for the decoder, computed once and shared by all layers),
ReLU feed-forward, final RMSNorm on both stacks.

The relative-position buckets are precomputed into an int64 lookup table indexed by
(key_position - query_position + MAX_REL), so the exported ONNX graph does no float bucket maths and
matches PyTorch exactly. The decoder takes an explicit past length so that the bias uses the right
absolute positions when it runs with a KV cache (ONNX export, incremental decoding).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_REL = 512  # relative distances beyond +-MAX_REL are clamped (they all fall in the last bucket anyway)
NEG = -1e9


@dataclass
class ReplyConfig:
    vocab_size: int = 8000
    d_model: int = 256
    d_kv: int = 64
    d_ff: int = 1024
    num_heads: int = 4
    num_layers: int = 3
    num_decoder_layers: int = 3
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout: float = 0.0
    layer_norm_epsilon: float = 1e-6
    pad_id: int = 0
    eos_id: int = 1
    decoder_start_id: int = 0
    # The encoder adds a projection of the previous token's embedding to each position (the answer model): the
    # decoder then finds "the token after the one I just copied" in one cross-attention step, instead of waiting
    # for an induction circuit to form in the encoder (which a small model trained on 2 cores did not grow).
    prev_token: bool = False
    # Exact-match channel (as DrQA's exact-match feature): each passage token that also occurs in the question
    # (the tokens before the first separator) gets a learned vector added, the question's own tokens another. The
    # decoder then finds the sentence a question is about without learning word matching from scratch.
    match_feature: bool = False
    sep_id: int = 3

    def to_dict(self):
        return asdict(self)


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """T5's bucketing (same formula as transformers' T5Attention._relative_position_bucket)."""
    relative_buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    rp_large = max_exact + (
        torch.log(relative_position.float().clamp(min=1) / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    rp_large = torch.min(rp_large, torch.full_like(rp_large, num_buckets - 1))
    relative_buckets += torch.where(is_small, relative_position, rp_large)
    return relative_buckets


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class RelPosBias(nn.Module):
    def __init__(self, cfg: ReplyConfig, bidirectional: bool):
        super().__init__()
        self.emb = nn.Embedding(cfg.relative_attention_num_buckets, cfg.num_heads)
        rel = torch.arange(-MAX_REL, MAX_REL + 1)
        table = relative_position_bucket(rel, bidirectional, cfg.relative_attention_num_buckets,
                                         cfg.relative_attention_max_distance)
        self.register_buffer("table", table, persistent=False)

    def forward(self, q_len, k_len, past_len=None):
        """Bias [1, H, q_len, k_len] for queries at absolute positions past_len..past_len+q_len-1 and keys
        at 0..k_len-1. q_len/k_len/past_len may be 0-d tensors (traced as dynamic)."""
        q_pos = torch.arange(q_len, dtype=torch.long)
        if past_len is not None:
            q_pos = q_pos + past_len
        k_pos = torch.arange(k_len, dtype=torch.long)
        rel = (k_pos[None, :] - q_pos[:, None]).clamp(-MAX_REL, MAX_REL) + MAX_REL
        buckets = self.table[rel]  # [q, k]
        return self.emb(buckets).permute(2, 0, 1).unsqueeze(0)


class Attention(nn.Module):
    def __init__(self, cfg: ReplyConfig):
        super().__init__()
        self.h, self.dk = cfg.num_heads, cfg.d_kv
        inner = cfg.num_heads * cfg.d_kv
        self.q = nn.Linear(cfg.d_model, inner, bias=False)
        self.k = nn.Linear(cfg.d_model, inner, bias=False)
        self.v = nn.Linear(cfg.d_model, inner, bias=False)
        self.o = nn.Linear(inner, cfg.d_model, bias=False)
        self.drop = cfg.dropout

    def shape(self, x):  # [b, s, h*dk] -> [b, h, s, dk]
        b = x.shape[0]
        return x.view(b, -1, self.h, self.dk).transpose(1, 2)

    def project_kv(self, x):
        return self.shape(self.k(x)), self.shape(self.v(x))

    def attend(self, q_in, k, v, bias):
        """q_in [b, q, d]; k, v [b, h, kv, dk]; bias broadcastable to [b, h, q, kv] (position + mask)."""
        b = q_in.shape[0]
        q = self.shape(self.q(q_in))
        scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(self.dk)) + bias
        w = torch.softmax(scores, dim=-1)
        if self.drop > 0 and self.training:
            w = F.dropout(w, self.drop, True)
        out = torch.matmul(w, v).transpose(1, 2).reshape(b, -1, self.h * self.dk)
        return self.o(out)


class FF(nn.Module):
    def __init__(self, cfg: ReplyConfig):
        super().__init__()
        self.wi = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.drop = cfg.dropout

    def forward(self, x):
        h = F.relu(self.wi(x))
        if self.drop > 0 and self.training:
            h = F.dropout(h, self.drop, True)
        return self.wo(h)


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln2 = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.ff = FF(cfg)

    def forward(self, x, bias):
        h = self.ln1(x)
        k, v = self.attn.project_kv(h)
        x = x + self.attn.attend(h, k, v, bias)
        return x + self.ff(self.ln2(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.self_attn = Attention(cfg)
        self.ln2 = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.cross_attn = Attention(cfg)
        self.ln3 = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.ff = FF(cfg)

    def forward(self, x, self_bias, cross_bias, past_k=None, past_v=None, cross_k=None, cross_v=None):
        h = self.ln1(x)
        k, v = self.self_attn.project_kv(h)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        x = x + self.self_attn.attend(h, k, v, self_bias)
        x = x + self.cross_attn.attend(self.ln2(x), cross_k, cross_v, cross_bias)
        x = x + self.ff(self.ln3(x))
        return x, k, v


class ReplyModel(nn.Module):
    def __init__(self, cfg: ReplyConfig):
        super().__init__()
        self.cfg = cfg
        self.shared = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.enc_bias = RelPosBias(cfg, bidirectional=True)
        if cfg.prev_token:
            self.prev_proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        if cfg.match_feature:
            self.match_emb = nn.Parameter(torch.zeros(2, cfg.d_model))  # [passage token in question, question token]
        self.dec_bias = RelPosBias(cfg, bidirectional=False)
        self.enc_layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.num_layers)])
        self.enc_ln = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dec_layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.num_decoder_layers)])
        self.dec_ln = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.reset_parameters()

    def reset_parameters(self):
        d = self.cfg.d_model
        nn.init.normal_(self.shared.weight, std=1.0)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=m.in_features ** -0.5)
        # scale residual output projections down with depth (GPT-2 style) for stable pre-norm training
        n = self.cfg.num_layers + self.cfg.num_decoder_layers
        for layer in list(self.enc_layers) + list(self.dec_layers):
            for mod in layer.modules():
                if isinstance(mod, Attention):
                    mod.o.weight.data.mul_((2 * n) ** -0.5)
                elif isinstance(mod, FF):
                    mod.wo.weight.data.mul_((2 * n) ** -0.5)
        nn.init.normal_(self.enc_bias.emb.weight, std=0.1)
        nn.init.normal_(self.dec_bias.emb.weight, std=0.1)
        del d

    # ---------------------------------------------------------------- encoder
    def encode(self, input_ids, attention_mask):
        x = self.shared(input_ids)
        if self.cfg.prev_token:
            prev = F.pad(input_ids[:, :-1], (1, 0), value=self.cfg.pad_id)
            x = x + self.prev_proj(self.shared(prev))
        if self.cfg.match_feature:
            x = x + self.match_features(input_ids, attention_mask) @ self.match_emb
        s = input_ids.shape[1]
        mask = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * NEG  # [b,1,1,s]
        bias = self.enc_bias(s, s) + mask
        for layer in self.enc_layers:
            x = layer(x, bias)
        return self.enc_ln(x)

    def match_features(self, input_ids, attention_mask):
        """[b, s, 2] floats: (passage token that occurs in the question, question token)."""
        real = attention_mask > 0
        question = (torch.cumsum((input_ids == self.cfg.sep_id).to(torch.int64), dim=1) == 0) & real
        passage = real & ~question & (input_ids != self.cfg.sep_id)
        same = input_ids[:, :, None] == input_ids[:, None, :]  # [b, s (token), s (question token)]
        in_question = (same & question[:, None, :]).to(torch.float32).amax(dim=2) > 0
        return torch.stack([(in_question & passage).to(torch.float32), question.to(torch.float32)], dim=-1)

    # ---------------------------------------------------------------- decoder
    def cross_kv(self, enc_h):
        return [layer.cross_attn.project_kv(enc_h) for layer in self.dec_layers]

    def decode(self, dec_ids, enc_h, enc_mask, past=None, cross=None):
        """dec_ids [b, t]; past: list of (k, v) per layer ([b, h, p, dk]) or None; cross: list of (k, v) or None.
        Returns logits [b, t, V], new self (k, v) per layer, cross (k, v) per layer."""
        x = self.shared(dec_ids)
        t = dec_ids.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        k_len = past_len + t
        pos_bias = self.dec_bias(t, k_len, past_len if past is not None else None)  # [1,h,t,k]
        q_pos = torch.arange(t)[:, None] + past_len
        k_pos = torch.arange(k_len)[None, :]
        causal = (k_pos > q_pos).to(x.dtype) * NEG
        self_bias = pos_bias + causal[None, None]
        cross_bias = (1.0 - enc_mask.to(x.dtype))[:, None, None, :] * NEG
        if cross is None:
            cross = self.cross_kv(enc_h)
        presents = []
        for i, layer in enumerate(self.dec_layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = layer(x, self_bias, cross_bias, pk, pv, cross[i][0], cross[i][1])
            presents.append((k, v))
        x = self.dec_ln(x) * (self.cfg.d_model ** -0.5)
        logits = F.linear(x, self.shared.weight)
        return logits, presents, cross

    def forward(self, input_ids, attention_mask, dec_ids):
        enc_h = self.encode(input_ids, attention_mask)
        logits, _, _ = self.decode(dec_ids, enc_h, attention_mask)
        return logits

    # ---------------------------------------------------------------- generation (reference)
    @torch.no_grad()
    def greedy(self, input_ids, attention_mask, max_new_tokens=32, return_logits_steps=0):
        """Greedy decoding with the KV cache (batch supported; finished rows emit pad). Returns (ids list per row
        without the start token, first `return_logits_steps` step logits [steps, b, V])."""
        enc_h = self.encode(input_ids, attention_mask)
        b = input_ids.shape[0]
        cur = torch.full((b, 1), self.cfg.decoder_start_id, dtype=torch.long)
        past, cross = None, None
        out = [[] for _ in range(b)]
        done = torch.zeros(b, dtype=torch.bool)
        step_logits = []
        for step in range(max_new_tokens):
            logits, past, cross = self.decode(cur, enc_h, attention_mask, past, cross)
            lg = logits[:, -1, :]
            if step < return_logits_steps:
                step_logits.append(lg.clone())
            nxt = lg.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, self.cfg.pad_id), nxt)
            for i in range(b):
                if not done[i]:
                    out[i].append(int(nxt[i]))
            done = done | (nxt == self.cfg.eos_id)
            cur = nxt[:, None]
            if bool(done.all()):
                break
        return out, (torch.stack(step_logits) if step_logits else None)


def count_params(model):
    return sum(p.numel() for p in model.parameters())
