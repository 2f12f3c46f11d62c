"""What stage 09's evaluations cost beside its training steps, at its default size: one
training step, one progress estimate (eval_iters random batches of each split), one
whole-split evaluation of the val split (made when a model may be saved), and the final
one of a val-sized part of the training split. Random weights: the speed does not depend
on them. Behind `eval_interval` in stage 09 and note 09. Run from the repository root,
alone on the machine:
python notes/logs/measurements/eval_cost.py"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
import common  # noqa: E402
from _timing import median, train_step  # noqa: E402

stage09 = importlib.import_module("09_dropout_scaled")
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, val_data = common.train_val_split(torch.tensor(vocab.encode(text)))
torch.set_num_threads(stage09.threads)
torch.manual_seed(1337)
model = stage09.LanguageModel(len(vocab))
optimizer = torch.optim.AdamW(model.parameters(), lr=stage09.learning_rate,
                              weight_decay=stage09.weight_decay, fused=True)
print(f"# PyTorch {torch.__version__}, {stage09.threads} threads; median of 5 repeats; "
      f"random weights")


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def steps(n=20):
    for _ in range(n):
        train_step(stage09, model, optimizer, train_data)


def estimate():
    stage09.estimate_loss(model, {"train": train_data, "val": val_data}, "cpu")


def whole_val():
    common.evaluate(model, val_data, stage09.block_size, "cpu")


steps(5)  # warm-up
runs = {"20 training steps": [], "progress estimate": [], "whole val split": []}
for _ in range(5):
    runs["20 training steps"].append(timed(steps))
    runs["progress estimate"].append(timed(estimate))
    runs["whole val split"].append(timed(whole_val))
step, est, whole = (median(v) for v in runs.values())
print(f"training step ({stage09.batch_size} windows of {stage09.block_size}): "
      f"{1e3 * step / 20:.1f} ms")
print(f"progress estimate ({stage09.eval_iters} batches of each split): {est:.2f} s")
print(f"whole val split ({len(val_data):,} characters): {whole:.2f} s")
print(f"an evaluation with its whole-split check takes as long as {(est + whole) / (step / 20):.0f} "
      f"training steps")
for interval in (500, 1000):
    n_evals = len(range(0, stage09.max_iters, interval))
    spent = n_evals * est + (n_evals - 1) * whole  # every evaluation after step 0 may save
    print(f"eval_interval={interval}, {stage09.max_iters} steps: {n_evals} estimates and up to "
          f"{n_evals - 1} whole-split checks, {spent:.1f} s, against "
          f"{stage09.max_iters * step / 20:.0f} s of training steps")
