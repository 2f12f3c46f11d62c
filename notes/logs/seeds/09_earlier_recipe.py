"""Stage 09's spread over seeds with its earlier recipe (5000 steps, AdamW's default weight
decay 0.01): the reference run of then (notes/results.jsonl, seed 1337) and seeds 1 and 2
(09_earlier_recipe.jsonl beside this file, outputs in 09_earlier_recipe_seed*.txt).

Run from the repository root: python notes/logs/seeds/09_earlier_recipe.py"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
import compare  # noqa: E402

earlier = [r for r in compare.read_log(compare.REFERENCE) + compare.read_log(
    str(HERE / "09_earlier_recipe.jsonl")) if r["stage"] == "09_dropout_scaled" and
    r["iters"] == 5000 and r["dropout"] == 0.0]
print("$ python notes/logs/seeds/09_earlier_recipe.py")
for r in earlier:
    print(f"seed {r['seed']}: val loss {r['val_loss']:.4f}, overrides now: "
          f"{' '.join(compare.overrides(r))}")
print(f"09_dropout_scaled, earlier recipe: {compare.band_text([r['val_loss'] for r in earlier])}")
