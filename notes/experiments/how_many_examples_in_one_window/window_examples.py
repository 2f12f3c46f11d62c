"""One window of block_size characters holds block_size training examples, with contexts of
1, 2, ..., block_size characters: the first window of the train split, spelled out.

Run from the repository root: python notes/experiments/how_many_examples_in_one_window/window_examples.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402

text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
block_size = 8
x, y = train[:block_size], train[1: block_size + 1]
print("x =", x.tolist(), repr(vocab.decode(x.tolist())))
print("y =", y.tolist(), repr(vocab.decode(y.tolist())))
for t in range(block_size):
    context, target = x[: t + 1], y[t]
    print(f"t = {t}: context {vocab.decode(context.tolist())!r:12s} -> target "
          f"{vocab.decode([target.item()])!r}")
