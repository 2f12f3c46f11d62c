"""Stage 09 at --preset=songci: the val loss of each run at the preset's settings, and the
spread over the seeds, with one thread each and with two (the preset's), two runs at a time
but for the preset's own run (notes/logs/songci/09_dropout_scaled.txt, alone). Reads the
final line of each log. Run from the repository root:
python notes/experiments/how_much_do_seeds_and_threads_move_songci_09/seeds_09.py"""
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the repository root
sys.path.insert(0, str(ROOT))
import compare  # noqa: E402


def val_loss(path):
    return float(re.search(r"final: val loss ([\d.]+)", path.read_text(encoding="utf-8"))[1])


SCREENS = ROOT / "notes" / "experiments" / "which_songci_settings_for_stage_09"
one_thread = {1337: SCREENS / "09_bf16_7000_lr4e-3.txt", 1: HERE / "09_bf16_7000_lr4e-3_seed1.txt",
              2: HERE / "09_bf16_7000_lr4e-3_seed2.txt"}
two_threads = {1337: ROOT / "notes" / "logs" / "songci" / "09_dropout_scaled.txt",  # the preset's run, alone
               1: HERE / "09_bf16_7000_lr4e-3_seed1_2threads.txt",
               2: HERE / "09_bf16_7000_lr4e-3_seed2_2threads.txt"}
print("$ python notes/experiments/how_much_do_seeds_and_threads_move_songci_09/seeds_09.py")
for threads, logs in (("one thread", one_thread), ("two threads", two_threads)):
    losses = []
    for seed, path in logs.items():
        losses.append(val_loss(path))
        print(f"seed {seed}, {threads}: val loss {losses[-1]:.4f} ({path.relative_to(ROOT)})")
    print(f"over seeds, {threads}: {compare.band_text(losses)}")
