"""The spread over seeds of each stage 00-09, as the notes quote it: the reference run
(notes/results.jsonl, seed 1337) and the other seeds (notes/seeds.jsonl), at defaults,
through compare.seed_bands and compare.band_text. Then the steps the notes discuss: a
difference of two means is beyond the spread when it is larger than twice the larger of
the two standard deviations.

Run from the repository root: python notes/logs/seeds/bands.py > notes/logs/seeds/bands.txt
"""

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
import compare  # noqa: E402

STAGES = compare.LADDER  # 00-09
PAIRS = [(a, b) for a, b in zip(STAGES, STAGES[1:])] + [
    ("00_bigram_stats", "02_position"), ("04_multihead", "06_block"),
    ("03_self_attention", "06_block"), ("05_feedforward", "07_residual")]

records = compare.read_log(compare.REFERENCE) + compare.read_log(compare.SEEDS)
bands = compare.seed_bands(records, "shakespeare")
seeds = compare.by_seed(records, "shakespeare")

print("$ python notes/logs/seeds/bands.py")
print("# val loss over seeds at defaults, shakespeare: mean ± sample standard deviation (n)")
print(f"{'stage':<18} {'seeds':<22} {'band':<22} {'min':<7} max")
for stage in STAGES:
    losses = bands[stage]
    print(f"{stage:<18} {','.join(map(str, seeds[stage])):<22} "
          f"{compare.band_text(losses):<22} {min(losses):.4f}  {max(losses):.4f}")

print()
print("# steps: difference of the means, against twice the larger standard deviation")
print(f"{'from':<18} {'to':<18} {'difference':<11} {'2 x sd':<7} verdict")
for a, b in PAIRS:
    difference = statistics.mean(bands[b]) - statistics.mean(bands[a])
    limit = 2 * max(statistics.stdev(bands[a]), statistics.stdev(bands[b]))
    verdict = "beyond the spread" if abs(difference) > limit else "inside the spread"
    print(f"{a:<18} {b:<18} {difference:+.4f}     {limit:.4f}  {verdict}")
