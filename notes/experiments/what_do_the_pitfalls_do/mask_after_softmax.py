"""Zeroing the future *after* the softmax leaks it: the surviving weights still depend on it."""

import torch
from torch.nn import functional as F

scores = torch.tensor([[0.9, -0.3, 1.2],
                       [0.4, 0.1, -0.5],
                       [-0.2, 0.6, 0.3]])  # (T, T): note 03's worked example
tril = torch.tril(torch.ones(3, 3))
for future in (-0.5, 3.0):  # query 1's score for key 2, a character it must not see
    s = scores.clone()
    s[1, 2] = future
    mask_first = F.softmax(s.masked_fill(tril == 0, float("-inf")), dim=-1)  # (T, T)
    zero_after = F.softmax(s, dim=-1) * tril  # (T, T)
    print(f"query 1, future score {future:+.1f}")
    print("  mask, then softmax:", [round(w, 3) for w in mask_first[1].tolist()])
    print("  softmax, then zero:", [round(w, 3) for w in zero_after[1].tolist()],
          f"sum {zero_after[1].sum().item():.3f}")
