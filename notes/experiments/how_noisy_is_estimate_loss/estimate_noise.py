"""How noisy is estimate_loss? Stage 05 trained for 1000 steps (a short run, not the
reference model), then its val loss estimated 30 times with 20 random batches (the
progress lines here) and 30 times with 200 (the lecture's eval_iters), against the
whole-split val loss, which has no sampling noise.

Run from the repository root: python notes/experiments/how_noisy_is_estimate_loss/estimate_noise.py
"""

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
import common  # noqa: E402

spec = importlib.util.spec_from_file_location("fresh_05", ROOT / "05_feedforward.py")
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
out_dir = str(Path(tempfile.gettempdir()) / "notes_measurements")
model, result = m.main(["--max_iters=1000", "--device=cpu", f"--out_dir={out_dir}"])

text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
_, val_data = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
print()
print(f"whole-split val loss: {result['val_loss']:.3f}")
for eval_iters in (20, 200):
    m.eval_iters = eval_iters
    estimates = [m.estimate_loss(model, {"val": val_data}, "cpu")["val"] for _ in range(30)]
    print(f"eval_iters = {eval_iters:3d}: 30 estimates, mean {statistics.mean(estimates):.3f}, "
          f"standard deviation {statistics.stdev(estimates):.3f}, "
          f"range {min(estimates):.3f} to {max(estimates):.3f}")
