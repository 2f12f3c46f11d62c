"""Stage 07 brings three changes at once: residual connections, projections back into the
residual stream, and a feed-forward layer 4x wider inside. Which of them helps how much?
Two variants, made from the scripts by text substitution (as note 07's exercise 2 makes
them), at three seeds each, beside stages 06 and 07 at the same seeds:

- residuals only: 06_block.py with `x = x + self.sa(x)` and `x = x + self.ffwd(x)`;
- residuals and projections: 07_residual.py with its feed-forward 1x wide.

Run from the repository root: python notes/experiments/which_part_of_stage_07_helps/unbundle.py
(two runs at a time, one thread each: the losses do not depend on it, the times do).
"""

import concurrent.futures
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import plumbing  # noqa: E402

SEEDS = [1337, 1, 2]
VARIANTS = {  # name: (script it starts from, [(text, replacement)])
    "06 (no residuals)": ("06_block.py", []),
    "residuals only": ("06_block.py", [("        x = self.sa(x)\n        x = self.ffwd(x)\n",
                                        "        x = x + self.sa(x)\n        x = x + self.ffwd(x)\n")]),
    "residuals, projections": ("07_residual.py", [("4 * n_embd", "n_embd")]),
    "07 (and 4x wide)": ("07_residual.py", []),
}


def run(name, seed, folder):
    script, edits = VARIANTS[name]
    with open(os.path.join(ROOT, script), encoding="utf-8") as f:
        text = f.read()
    for old, new in edits:
        assert old in text, (name, old)
        text = text.replace(old, new)
    path = os.path.join(folder, f"{re.sub(r'[^a-z0-9]+', '_', name)}_{seed}.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    out = subprocess.run([sys.executable, path, f"--seed={seed}", "--threads=1",
                          f"--out_dir={folder}/out"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT})
    final = re.search(r"final: val loss (\d\.\d{4}) \(whole split\), train loss (\d\.\d{4})",
                      out.stdout)
    assert final, out.stdout + out.stderr
    params = re.search(r"^([\d,]+) parameters", out.stdout, re.M).group(1)
    return name, seed, float(final.group(1)), float(final.group(2)), params


def main():
    print("$ python notes/experiments/which_part_of_stage_07_helps/unbundle.py")
    print(f"# machine: {plumbing.machine()}")
    with tempfile.TemporaryDirectory() as folder, \
            concurrent.futures.ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(run, name, seed, folder) for name in VARIANTS for seed in SEEDS]
        results = [job.result() for job in jobs]
    val = {}
    for name, seed, val_loss, train_loss, params in results:
        val.setdefault(name, {})[seed] = val_loss
        print(f"{name:<24} seed {seed:<5} val loss {val_loss:.4f}, train loss {train_loss:.4f} "
              f"({params} parameters)")
    print("\nmean ± sd over the three seeds, and each step seed by seed (the variant minus the one "
          "before it)")
    names = list(VARIANTS)
    for i, name in enumerate(names):
        losses = [val[name][s] for s in SEEDS]
        line = f"{name:<24} {statistics.mean(losses):.4f} ± {statistics.stdev(losses):.4f} (3)"
        if i:
            steps = [val[name][s] - val[names[i - 1]][s] for s in SEEDS]
            line += (f"   step from '{names[i - 1]}': {statistics.mean(steps):+.4f} ± "
                     f"{statistics.stdev(steps):.4f}")
        print(line)


if __name__ == "__main__":
    main()
