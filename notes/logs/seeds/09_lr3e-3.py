"""Stage 09's spread over seeds at learning rate 3e-3, its default before 4e-3: the reference
run of then (notes/results.jsonl, seed 1337) and seeds 1 and 2 (09_lr3e-3.jsonl beside this
file, outputs in 09_lr3e-3_seed*.txt). The seeds ran two at a time, one thread each, as did
those of 4e-3 (notes/seeds.jsonl), so the two can be compared seed by seed.

Run from the repository root: python notes/logs/seeds/09_lr3e-3.py"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
import compare  # noqa: E402

runs = [r for r in compare.read_log(compare.REFERENCE) + compare.read_log(
    str(HERE / "09_lr3e-3.jsonl")) if r["stage"] == "09_dropout_scaled" and
    r["learning_rate"] == 3e-3 and r["iters"] == 4200 and r.get("weight_decay") == 0.1]
print("$ python notes/logs/seeds/09_lr3e-3.py")
for r in runs:
    print(f"seed {r['seed']}: val loss {r['val_loss']:.4f}, overrides now: "
          f"{' '.join(compare.overrides(r))}")
print(f"09_dropout_scaled, learning rate 3e-3: {compare.band_text([r['val_loss'] for r in runs])}")
