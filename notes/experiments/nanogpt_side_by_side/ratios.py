"""Each of our runs beside nanoGPT's run of about the same length, from a sitting's summary:
the difference in whole-split val loss and the ratio of wall times; then our bfloat16 runs'
times over float32's.

    python notes/experiments/nanogpt_side_by_side/ratios.py notes/experiments/nanogpt_side_by_side/summary.txt
"""

import re
import sys

PAIRS = [  # (our run, nanoGPT's run it is set beside)
    ("ours --preset=quick", "nanoGPT 2000"),
    ("ours --preset=quick --dtype=float32", "nanoGPT 2000"),
    ("ours", "nanoGPT 10000"),
    ("ours --dtype=float32", "nanoGPT 10000"),
    ("ours --preset=long", "nanoGPT 10000"),
]
DTYPES = [("ours --preset=quick", "ours --preset=quick --dtype=float32"),
          ("ours", "ours --dtype=float32")]


def main(path):
    runs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(.+?)\s*: wall ([\d.]+) s .*?(?:whole-split val|val loss) (\d\.\d{4})",
                         line)
            if m:
                runs[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    print(f"$ python notes/experiments/nanogpt_side_by_side/ratios.py {path}")
    print("| ours | val loss | wall time | nanoGPT | val loss | wall time | "
          "our loss minus its | our time over its |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for ours, theirs in PAIRS:
        if ours in runs and theirs in runs:
            (t1, l1), (t2, l2) = runs[ours], runs[theirs]
            print(f"| `{ours[5:] or 'defaults'}` | {l1:.4f} | {t1:.1f} s | {theirs[8:]} "
                  f"iterations | {l2:.4f} | {t2:.1f} s | {l1 - l2:+.4f} | {t1 / t2:.2f}x |")
    for bf16, fp32 in DTYPES:
        if bf16 in runs and fp32 in runs:
            print(f"{bf16}: bfloat16 takes {runs[bf16][0] / runs[fp32][0]:.2f}x float32's time")


if __name__ == "__main__":
    main(sys.argv[1])
