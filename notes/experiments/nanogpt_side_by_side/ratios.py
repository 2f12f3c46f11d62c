"""Each of our runs beside nanoGPT's run of about the same length (2,000 iterations for
--preset=quick, 10,000 for the others), from the summaries of sittings: the difference in
whole-split val loss and the ratio of wall times; then our bfloat16 runs' times over
float32's. nanoGPT's runs come from the first summary that has them.

    python notes/experiments/nanogpt_side_by_side/ratios.py SUMMARY [SUMMARY ...]
"""

import re
import sys

DTYPES = [("ours --preset=quick", "ours --preset=quick --dtype=float32"),
          ("ours", "ours --dtype=float32")]


def main(paths):
    runs, ours = {}, []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"(.+?)\s*: wall ([\d.]+) s .*?(?:whole-split val|val loss) "
                             r"(\d\.\d{4})", line)
                if m and m.group(1) not in runs:
                    runs[m.group(1)] = (float(m.group(2)), float(m.group(3)))
                    ours += [m.group(1)] if m.group(1).startswith("ours") else []
    print(f"$ python notes/experiments/nanogpt_side_by_side/ratios.py {' '.join(paths)}")
    print("| ours | val loss | wall time | nanoGPT | val loss | wall time | "
          "our loss minus its | our time over its |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for mine in ours:
        theirs = "nanoGPT 2000" if "--preset=quick" in mine else "nanoGPT 10000"
        if theirs in runs:
            (t1, l1), (t2, l2) = runs[mine], runs[theirs]
            print(f"| `{mine[5:] or 'defaults'}` | {l1:.4f} | {t1:.1f} s | {theirs[8:]} "
                  f"iterations | {l2:.4f} | {t2:.1f} s | {l1 - l2:+.4f} | {t1 / t2:.2f}x |")
    for bf16, fp32 in DTYPES:
        if bf16 in runs and fp32 in runs:
            print(f"{bf16}: bfloat16 takes {runs[bf16][0] / runs[fp32][0]:.2f}x float32's time")


if __name__ == "__main__":
    main(sys.argv[1:])
