"""Queries and keys at initialisation, and what the scale hs ** -0.5 does to the softmax.

For the first attention layer of stages 03, 04, 08 and 09 (its default and --preset=lecture),
built with manual_seed(1337) and fed one batch of 4 windows: the variance of the entries of
q and k, the spread of the scores q . k over the entries the mask keeps, with and without
the scale, and the largest weight of the last row (the position that sees every key),
averaged over windows and heads (max w). Then the same for q and k drawn with unit variance, as in
exercise 1 of note 03.

Run from the repository root: python notes/experiments/what_does_the_attention_scale_do/qk_scale.py
"""

import importlib
import sys
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402

torch.set_num_threads(1)
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))


def report(label, q, k):
    """q, k: (B, nh, T, hs)."""
    T, hs = q.size(-2), q.size(-1)
    keep = torch.tril(torch.ones(T, T, dtype=torch.bool))
    raw = q @ k.transpose(-2, -1)  # (B, nh, T, T)
    cells = [label, f"{hs:3d}", f"{q.var().item():6.3f}", f"{k.var().item():6.3f}"]
    for scale in (1.0, hs ** -0.5):
        scores = raw * scale
        wei = F.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
        cells += [f"{scores[..., keep].std().item():6.2f}",
                  f"{wei[..., -1, :].max(dim=-1).values.mean().item():6.2f}"]
    print("  ".join(cells), f"  (1/T = {1 / T:.3f})")


def first_layer(name, preset=None):
    m = importlib.import_module(name)
    if preset:
        for key, value in m.PRESETS[preset].items():
            setattr(m, key, value)
    torch.manual_seed(1337)
    model = m.LanguageModel(len(vocab))
    model.eval()
    seen = {}
    if name == "03_self_attention":
        heads = [model.sa]
    elif hasattr(model, "sa"):
        heads = list(model.sa.heads)
    elif hasattr(model.blocks[0].sa, "heads"):
        heads = list(model.blocks[0].sa.heads)
    else:
        heads = None  # stage 09: one Linear makes every head's q, k and v
        model.blocks[0].sa.qkv.register_forward_hook(
            lambda mod, inp, out: seen.setdefault("qkv", out))
    for i, h in enumerate(heads or []):
        h.query.register_forward_hook(lambda mod, inp, out, i=i: seen.setdefault(("q", i), out))
        h.key.register_forward_hook(lambda mod, inp, out, i=i: seen.setdefault(("k", i), out))
    x, _ = common.get_batch(train_data, m.block_size, 4, "cpu")
    with torch.no_grad():
        model(x)
    if heads is None:
        B, T, _ = seen["qkv"].shape
        nh = m.n_head
        q, k, _ = seen["qkv"].view(B, T, 3 * nh, -1).transpose(1, 2).chunk(3, dim=1)
    else:
        q = torch.stack([seen[("q", i)] for i in range(len(heads))], dim=1)
        k = torch.stack([seen[("k", i)] for i in range(len(heads))], dim=1)
    report(f"{name + (' --preset=' + preset if preset else ''):34s}", q, k)


print(f"{'first attention layer at init':34s}  {'hs':>3s}  {'var q':>6s}  {'var k':>6s}  "
      f"{'unscaled scores':>14s}  {'scaled by hs**-0.5':>18s}")
print(f"{'':34s}  {'':3s}  {'':6s}  {'':6s}  {'std':>6s}  {'max w':>6s}  {'std':>6s}  {'max w':>6s}")
for name in ("03_self_attention", "04_multihead", "08_layernorm", "09_dropout_scaled"):
    first_layer(name)
first_layer("09_dropout_scaled", preset="lecture")

print()
print("q and k drawn from a standard normal (unit variance), B = 4, T = 8, one head:")
torch.manual_seed(0)
for hs in (8, 32, 128):
    q, k = torch.randn(4, 1, 8, hs), torch.randn(4, 1, 8, hs)
    report(f"{'randn, hs = ' + str(hs):34s}", q, k)
