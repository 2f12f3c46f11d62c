"""The val loss of --preset=long's three seed runs (their logs beside this script), as the
mean ± sample standard deviation (runs). Run from the repository root:
python notes/experiments/how_stage_09s_recipe_was_chosen/seeds_long.py"""
import os
import re
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
print("$ python notes/experiments/how_stage_09s_recipe_was_chosen/seeds_long.py")
losses = []
for name in ("long_c6500cd3.txt", "long_c6500cd3_seed1.txt", "long_c6500cd3_seed2.txt"):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        text = f.read()
    loss = float(re.search(r"final: val loss (\d\.\d{4})", text).group(1))
    print(f"{name}: {text.splitlines()[0]} -> {loss:.4f}")
    losses.append(loss)
print(f"--preset=long (6500 steps, cooldown 0.3), one thread: {statistics.mean(losses):.4f} ± "
      f"{statistics.stdev(losses):.4f} ({len(losses)})")
