"""Score a nanoGPT checkpoint with the tutorial's whole-split evaluation (val split, non-overlapping windows)."""
import os, sys, torch
sys.path.insert(0, os.environ.get("NANOGPT", "/tmp/nanogpt"))  # nanoGPT's model.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from model import GPT, GPTConfig
import common
ckpt = torch.load(sys.argv[1] + "/ckpt.pt", map_location="cpu", weights_only=False)
model = GPT(GPTConfig(**ckpt["model_args"]))
sd = {k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()}
model.load_state_dict(sd); model.eval()
class Full(torch.nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, idx, targets=None):
        return self.m(idx, torch.zeros_like(idx))[0], None
text, _ = common.load_text("shakespeare"); vocab = common.Vocab(text)
_, val = common.train_val_split(torch.tensor(vocab.encode(text)))
bs = ckpt["model_args"]["block_size"]
print(f"nanoGPT {sys.argv[1]}: iter {ckpt['iter_num']}, its estimate {float(ckpt['best_val_loss']):.4f}, "
      f"whole-split val {common.evaluate(Full(model), val, bs, 'cpu'):.4f}")
