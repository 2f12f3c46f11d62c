"""Score the model in a nanoGPT out_dir with this repository's whole-split evaluation (every
non-overlapping window of the val split, as our stages score themselves).

    NANOGPT=/path/to/nanoGPT python notes/experiments/nanogpt_side_by_side/score_nano.py OUT_DIR
"""
import os
import sys

import torch

sys.path.insert(0, os.environ.get("NANOGPT", "/tmp/nanogpt"))  # nanoGPT's model.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from model import GPT, GPTConfig  # noqa: E402

import common  # noqa: E402

ckpt = torch.load(os.path.join(sys.argv[1], "ckpt.pt"), map_location="cpu", weights_only=False)
model = GPT(GPTConfig(**ckpt["model_args"]))
model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()})
model.eval()


class Logits(torch.nn.Module):
    """nanoGPT's model as our evaluation calls a model: logits at every position."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, idx, targets=None):
        return self.gpt(idx, torch.zeros_like(idx))[0], None  # with targets: every position


text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
_, val = common.train_val_split(torch.tensor(vocab.encode(text)))
block_size = ckpt["model_args"]["block_size"]
print(f"nanoGPT {sys.argv[1]}: iter {ckpt['iter_num']} (its final model), whole-split val "
      f"{common.evaluate(Logits(model), val, block_size, 'cpu'):.4f}")
