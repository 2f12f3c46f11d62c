"""Exercise 1 of note 03, its worked answer's code as the note gives it.

Run from the repository root: python notes/experiments/what_does_the_attention_scale_do/03_exercise1.py
"""

import torch
from torch.nn import functional as F

torch.manual_seed(0)
B, T, hs = 4, 8, 32
q, k = torch.randn(B, T, hs), torch.randn(B, T, hs)
tril = torch.tril(torch.ones(T, T))
for name, scale in (("unscaled", 1.0), ("scaled", hs**-0.5)):
    scores = q @ k.transpose(-2, -1) * scale  # (B, T, T)
    wei = F.softmax(scores.masked_fill(tril == 0, float("-inf")), dim=-1)
    top = wei[:, -1].max(dim=-1).values  # (B,)
    print(f"{name}: variance {scores.var():.1f}, largest weight in the last row",
          [round(w, 2) for w in top.tolist()])
