"""Stage 09 at --preset=songci: the val loss of each run at the preset's settings, and the
spread over the seeds that ran with one thread each (two at a time). Reads the final line of
each log beside this file and of the preset's own run (notes/logs/songci/09_dropout_scaled.txt,
two threads, alone). Run from the repository root:
python notes/logs/songci/tuning/seeds_09.py"""
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))
import compare  # noqa: E402


def val_loss(path):
    return float(re.search(r"final: val loss ([\d.]+)", path.read_text(encoding="utf-8"))[1])


one_thread = {1337: HERE / "09_bf16_7000_lr4e-3.txt", 1: HERE / "09_bf16_7000_lr4e-3_seed1.txt",
              2: HERE / "09_bf16_7000_lr4e-3_seed2.txt"}
print("$ python notes/logs/songci/tuning/seeds_09.py")
losses = []
for seed, path in one_thread.items():
    losses.append(val_loss(path))
    print(f"seed {seed}, one thread: val loss {losses[-1]:.4f} ({path.name})")
print(f"over seeds, one thread: {compare.band_text(losses)}")
preset = HERE.parent / "09_dropout_scaled.txt"
print(f"seed 1337, two threads (the preset's run, alone): val loss {val_loss(preset):.4f}")
