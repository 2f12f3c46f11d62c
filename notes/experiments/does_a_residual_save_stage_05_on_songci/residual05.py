"""On the Song ci, stage 05's feed-forward layer raises the val loss above stage 04's, at
every setting tried. Is it depth without a residual path? Stage 05 with one line changed,
`x = x + self.ffwd(x)` (the exercise of notes/songci.md), at --preset=songci and the seeds
of the Song ci reference (1337, 1, 2), beside stages 04 and 05 from notes/songci.jsonl,
each step taken seed by seed.

Run from the repository root:
    python notes/experiments/does_a_residual_save_stage_05_on_songci/residual05.py
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import compare  # noqa: E402
import plumbing  # noqa: E402

SEEDS = [1337, 1, 2]
LINE, RESIDUAL = "        x = self.ffwd(x)  # (B, T, C)\n", "        x = x + self.ffwd(x)  # (B, T, C)\n"


def main():
    print("$ python notes/experiments/does_a_residual_save_stage_05_on_songci/residual05.py")
    print(f"# machine: {plumbing.machine()}")
    with open(os.path.join(ROOT, "05_feedforward.py"), encoding="utf-8") as f:
        text = f.read()
    assert text.count(LINE) == 1
    losses = {"05 + residual": {}}
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "05_residual.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(text.replace(LINE, RESIDUAL))
        for seed in SEEDS:
            out = subprocess.run([sys.executable, script, "--preset=songci", f"--seed={seed}",
                                  f"--out_dir={folder}/out"], cwd=ROOT, capture_output=True,
                                 text=True, env={**os.environ, "PYTHONPATH": ROOT})
            final = re.search(r"final: val loss (\d\.\d{4}) \(whole split\), train loss "
                              r"(\d\.\d{4})", out.stdout)
            assert final, out.stdout + out.stderr
            losses["05 + residual"][seed] = float(final.group(1))
            print(f"05 + residual, seed {seed}: val loss {final.group(1)}, train loss "
                  f"{final.group(2)}")
    reference = compare.by_seed(compare.read_log(compare.SONGCI), "songci")
    losses = {"04": reference["04_multihead"], "05": reference["05_feedforward"], **losses}
    print("\nval loss over seeds 1337, 1, 2 (04 and 05: notes/songci.jsonl)")
    for name, by_seed in losses.items():
        values = [by_seed[s] for s in SEEDS]
        print(f"  {name:<14} {statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} (3)")
    print("steps, seed by seed: mean ± sd")
    for a, b in (("04", "05"), ("04", "05 + residual"), ("05", "05 + residual")):
        steps = [losses[b][s] - losses[a][s] for s in SEEDS]
        print(f"  {a} -> {b:<14} {statistics.mean(steps):+.4f} ± {statistics.stdev(steps):.4f}")


if __name__ == "__main__":
    main()
