"""The loss at step 0 of every training stage, against ln(vocab_size), and why it is where it is.

Each stage is built as its main() builds it (manual_seed(1337), then LanguageModel), and
its own estimate_loss runs first, as at step 0 of training, so the first column repeats the
"step 0:" line of the stage's log in notes/logs/. Random logits of standard deviation s
cost about ln(vocab_size) + s**2 / 2 on average (exp of a normal has mean exp(s**2 / 2)).
The last part re-initialises 07, 08 and 09 the way the lecture repository's gpt.py does
(normal weights of std 0.02, zero biases) and measures their step-0 loss again.

Run from the repository root: python notes/experiments/what_is_the_loss_at_step_0/step0_loss.py
"""

import importlib
import math
import sys
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402

torch.set_num_threads(1)
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, val_data = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
splits = {"train": train_data, "val": val_data}
STAGES = ["01_bigram_torch", "02_position", "03_self_attention", "04_multihead",
          "05_feedforward", "06_block", "07_residual", "08_layernorm", "09_dropout_scaled"]


def init_like_lecture(module):
    """gpt.py's _init_weights in karpathy/ng-video-lecture, written out here."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def step0(name, init=None):
    m = importlib.import_module(name)
    torch.manual_seed(m.seed)
    model = m.LanguageModel(len(vocab))
    if init is not None:
        model.apply(init)
    losses = m.estimate_loss(model, splits, "cpu")  # the "step 0:" line
    head_input = []
    if hasattr(model, "lm_head"):
        model.lm_head.register_forward_pre_hook(lambda mod, inp: head_input.append(inp[0]))
    x, _ = common.get_batch(train_data, m.block_size, m.batch_size, "cpu")
    model.eval()
    with torch.no_grad():
        logits, _ = model(x)
    s = logits.std().item()
    into = f"{head_input[0].std().item():5.2f}" if head_input else "    -"
    print(f"{name:18s} {losses['train']:.4f} {losses['val']:.4f}  {into}  {s:6.3f}"
          f"  {math.log(len(vocab)) + s * s / 2:6.2f}")


print(f"ln({len(vocab)}) = {math.log(len(vocab)):.4f}")
print(f"{'stage':18s} {'train':6s} {'val':6s}  {'std of':>5s}  {'std of':>6s}  {'ln 65 +':>6s}")
print(f"{'':18s} {'step 0':6s} {'step 0':6s}  {'x into':>5s}  {'logits':>6s}  {'std²/2':>6s}")
print(f"{'':18s} {'':6s} {'':6s}  {'lm_head':>5s}")
for name in STAGES:
    step0(name)
print()
print("the same, initialised as the lecture repository's gpt.py (std 0.02, zero biases):")
for name in STAGES[6:]:
    step0(name, init=init_like_lecture)
