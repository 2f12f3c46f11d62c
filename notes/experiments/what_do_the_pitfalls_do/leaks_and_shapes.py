"""What the pitfalls of notes 03, 04, 05 and 07 actually do, measured.

1. Stage 03 without the causal mask (exercise 2 of note 03), and with the future's weights
   zeroed after the softmax instead of masked before it, beside stage 03 as it is, each
   trained 1000 steps; the val loss at each position of the window; the sample.
2. Stage 05 with a feed-forward flattened to (B, T*C): future characters change earlier
   logits, training runs, and generate fails at its first step.
3. Stage 04 built with n_head=3 in code (the scripts refuse --n_head=3 before they start).
4. Stage 07 with x += self.sa(x) in place of x = x + self.sa(x).

Short runs only: 1000 steps instead of 5000 (a few seconds each on one CPU thread).
Run from the repository root: python notes/experiments/what_do_the_pitfalls_do/leaks_and_shapes.py
"""

import importlib.util
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn as nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
import common  # noqa: E402

text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
_, val_data = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
out_dir = str(Path(tempfile.gettempdir()) / "notes_measurements")  # not out/results.jsonl
SHORT = ["--max_iters=1000", "--device=cpu", f"--out_dir={out_dir}"]


def fresh(name):
    """A fresh copy of a stage's module, so one experiment's changes never leak into the next."""
    spec = importlib.util.spec_from_file_location(f"fresh_{name}", ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loss_by_position(model, block_size):
    """Val loss at each position of the window, over every non-overlapping window."""
    n = (len(val_data) - 1) // block_size
    x = val_data[: n * block_size].view(n, block_size)
    y = val_data[1: n * block_size + 1].view(n, block_size)
    model.eval()
    with torch.no_grad():
        logits, _ = model(x)
    loss = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")  # (n, T)
    return " ".join(f"{v:.2f}" for v in loss.mean(0).tolist())


def unmasked_forward(self, x):  # Head.forward of stage 03 without the masked_fill line
    B, T, C = x.shape
    k = self.key(x)
    q = self.query(x)
    wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5
    wei = F.softmax(wei, dim=-1)
    v = self.value(x)
    return wei @ v


def zeroed_after_forward(self, x):  # the future's weights zeroed after the softmax instead
    B, T, C = x.shape
    k = self.key(x)
    q = self.query(x)
    wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5
    wei = F.softmax(wei, dim=-1) * self.tril[:T, :T]
    v = self.value(x)
    return wei @ v


print("=== 1. stage 03 with the mask, without it, and zeroed after the softmax: 1000 steps each ===")
for label, patch in (("with the mask (as the script is)", None),
                     ("without the mask", unmasked_forward),
                     ("future weights zeroed after the softmax", zeroed_after_forward)):
    m = fresh("03_self_attention")
    if patch:
        m.Head.forward = patch
    print(f"--- {label}: main({SHORT})")
    model, _ = m.main(SHORT)
    print(f"val loss at positions 0..7: {loss_by_position(model, m.block_size)}")

print()
print("=== 2. stage 05 with the feed-forward flattened to (B, T*C) ===")
m = fresh("05_feedforward")


class FlatFeedForward(nn.Module):
    """The pitfall: one Linear over the whole window, so every position sees every other."""

    def __init__(self, n_embd):
        super().__init__()
        width = m.block_size * n_embd
        self.net = nn.Sequential(nn.Linear(width, width), nn.ReLU())

    def forward(self, x):
        B, T, C = x.shape
        return self.net(x.view(B, T * C)).view(B, T, C)


torch.manual_seed(0)
idx = torch.randint(len(vocab), (1, m.block_size))
changed = idx.clone()
changed[0, -1] = (changed[0, -1] + 1) % len(vocab)  # change the last character only
for label, cls in (("per-position FeedForward", m.FeedForward), ("flattened", FlatFeedForward)):
    m.FeedForward = cls
    torch.manual_seed(1337)
    model = m.LanguageModel(len(vocab))
    with torch.no_grad():
        moved = (model(idx)[0] - model(changed)[0])[0, :-1].abs().max().item()
    print(f"{label}: largest change of the logits at positions 0..6 when character 7 "
          f"changes: {moved:.2e}")
m.FeedForward = FlatFeedForward
print(f"--- flattened: main({SHORT})")
try:
    m.main(SHORT)
except RuntimeError as e:
    print(f"generate failed: RuntimeError: {e}")

print()
print("=== 3. stage 04 built in code with n_head = 3 (n_embd = 32) ===")
m = fresh("04_multihead")
m.n_head = 3
model = m.LanguageModel(len(vocab))
try:
    model(torch.zeros((1, m.block_size), dtype=torch.long))
except RuntimeError as e:
    print(f"forward failed: RuntimeError: {e}")

print()
print("=== 4. stage 07 with x += self.sa(x) ===")
m = fresh("07_residual")


def in_place_forward(self, x):
    x += self.sa(x)
    x += self.ffwd(x)
    return x


m.Block.forward = in_place_forward
model = m.LanguageModel(len(vocab))
x = torch.zeros((2, m.block_size), dtype=torch.long)
try:
    _, loss = model(x, x)
    loss.backward()
    print("no error")
except RuntimeError as e:
    print(f"backward failed: RuntimeError: {str(e).splitlines()[0][:160]} ...")
