"""Does a refactor move a number? Run the same stages at one git revision and print what
they computed: losses, the training curve, a hash of the trained weights, the sample.

    python notes/experiments/same_numbers/same_numbers.py REV > REV.txt
    diff BEFORE.txt AFTER.txt      # no output: the same numbers, bit for bit

Each revision runs from its own `git worktree`, with this checkout's data/ linked in, on
this machine, one stage after another.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
RUNS = [  # stage, overrides (out_dir is added); 10 samples from the 09 run before it
    ("01_bigram_torch", []),
    ("03_self_attention", []),
    ("08_layernorm", []),
    ("09_dropout_scaled", ["--max_iters=300"]),
    ("10_kvcache_sample", ["--prompt=ROMEO:", "--max_new_tokens=300", "--temperature=0.8",
                           "--top_k=20"]),
    ("10_kvcache_sample", ["--max_new_tokens=300", "--temperature=0"]),
    ("10_kvcache_sample", ["--max_new_tokens=200", "--compare"]),
]
DRIVER = r"""
import contextlib, hashlib, importlib, io, json, sys
import torch
stage, argv = sys.argv[1], sys.argv[2:]
out = io.StringIO()
with contextlib.redirect_stdout(out):
    returned = importlib.import_module(stage).main(argv)
printed = out.getvalue()
report = {"stage": stage, "argv": [a for a in argv if not a.startswith("--out_dir=")]}
if isinstance(returned, tuple):  # a training stage: (model, result)
    model, result = returned
    weights = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        weights.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    report.update(val_loss=repr(result["val_loss"]), train_loss=repr(result["train_loss"]),
                  iters=result["iters"], curve=result["curve"], weights=weights.hexdigest()[:16],
                  sample=printed[-502:])  # the context and its 500 new characters
else:  # stage 10: what it printed, less the speed line of --compare
    report["sample"] = "".join(line for line in printed.splitlines(keepends=True)
                               if not line.startswith("with cache:"))
print(json.dumps(report, ensure_ascii=False))
"""


def main(rev):
    commit = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tree, out = os.path.join(tmp, "tree"), os.path.join(tmp, "out")
        subprocess.run(["git", "worktree", "add", "--detach", tree, commit], cwd=ROOT,
                       capture_output=True, check=True)
        try:
            for name in os.listdir(os.path.join(ROOT, "data")):
                if name.endswith(".txt"):
                    target = os.path.join(tree, "data", name)
                    if not os.path.exists(target):
                        os.symlink(os.path.join(ROOT, "data", name), target)
            print(f"# revision {rev} ({commit[:12]})", flush=True)
            for stage, overrides in RUNS:
                run = subprocess.run([sys.executable, "-c", DRIVER, stage, f"--out_dir={out}",
                                      *overrides], cwd=tree, capture_output=True, text=True,
                                     encoding="utf-8")
                if run.returncode:
                    sys.exit(f"{stage} {' '.join(overrides)} failed:\n{run.stderr}")
                print(run.stdout.strip(), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT,
                           capture_output=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
