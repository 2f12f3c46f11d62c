"""Stage 09's spread over seeds at a recipe it no longer uses by default: seeds 1 and 2 in
NAME.jsonl beside this file (their outputs in NAME_seed*.txt), and the reference run of
then (notes/results.jsonl, seed 1337), the last one made with the same settings.
The seeds ran two at a time, one thread each, as did those of today's defaults
(notes/seeds.jsonl), so the two can be compared seed by seed; the last lines do that.

Run from the repository root: python notes/logs/seeds/earlier.py NAME > notes/logs/seeds/NAME.txt
NAME: 09_earlier_recipe (5000 steps, weight decay 0.01), 09_lr3e-3 (learning rate 3e-3) or
09_float32 (today's recipe in float32, as before --dtype; today's default is bfloat16 on a CPU
built for it)."""
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
import compare  # noqa: E402


def settings(record):
    return [o for o in compare.overrides(record) if not o.startswith("--seed=")]


name = sys.argv[1] if len(sys.argv) == 2 else sys.exit(__doc__)
seeds = compare.read_log(str(HERE / f"{name}.jsonl"))
reference = [r for r in compare.read_log(compare.REFERENCE)
             if r["stage"] == seeds[0]["stage"] and settings(r) == settings(seeds[0])][-1:]
print(f"$ python notes/logs/seeds/earlier.py {name}")
runs = reference + seeds
for r in runs:
    print(f"seed {r['seed']}: val loss {r['val_loss']:.4f}, overrides now: "
          f"{' '.join(compare.overrides(r))}")
print(f"{runs[0]['stage']}, {name}: {compare.band_text([r['val_loss'] for r in runs])}")
today = compare.by_seed(compare.read_log(compare.REFERENCE) + compare.read_log(compare.SEEDS),
                        "shakespeare")[runs[0]["stage"]]
shared = [r for r in runs if r["seed"] in today]  # seeds run at both recipes
print("today's defaults, seed by seed (today's minus this recipe's):")
for r in shared:
    print(f"seed {r['seed']}: {today[r['seed']]:.4f} against {r['val_loss']:.4f}, "
          f"{today[r['seed']] - r['val_loss']:+.4f}")
now, then = (statistics.mean(losses) for losses in
             ([today[r["seed"]] for r in shared], [r["val_loss"] for r in shared]))
print(f"mean of the same seeds: {now:.4f} against {then:.4f}, {now - then:+.4f}")
