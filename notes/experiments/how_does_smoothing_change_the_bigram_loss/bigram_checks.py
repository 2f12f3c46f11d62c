"""The claims of note 00's exercises, measured: val loss against smoothing, and the
negative log-likelihood of two short strings under the counted model (smoothing 1).

Run from the repository root: python notes/experiments/how_does_smoothing_change_the_bigram_loss/bigram_checks.py
"""

import importlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402

stage = importlib.import_module("00_bigram_stats")
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train, val = common.train_val_split(torch.tensor(vocab.encode(text)))
print("smoothing  val loss (whole split)")
for s in [0.0, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0]:
    stage.smoothing = s
    model = stage.LanguageModel(len(vocab))
    model.fit(train)
    print(f"{s:9g}  {common.evaluate(model, val, stage.block_size, 'cpu'):.3f}")

stage.smoothing = 1.0
model = stage.LanguageModel(len(vocab))
model.fit(train)


def nll(s):
    ids = vocab.encode(s)
    pairs = list(zip(ids[:-1], ids[1:]))
    return -sum(model.log_probs[i, j].item() for i, j in pairs) / len(pairs)


for s in (" the ", " tqe "):
    print(f"nll({s!r}) = {nll(s):.2f}")
q, e = vocab.stoi["q"], vocab.stoi["e"]
print(f"q followed by e in the train split: {int(model.counts[q, e].item())} times; "
      f"q followed by u: {int(model.counts[q, vocab.stoi['u']].item())} of "
      f"{int(model.counts[q].sum().item())}; -log p(e | q) = {-model.log_probs[q, e].item():.2f}")
