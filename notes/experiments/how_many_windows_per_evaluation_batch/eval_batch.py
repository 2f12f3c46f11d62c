"""How long one whole-split evaluation of stage 09's default model takes, by how many
windows go through the model at once (common.evaluate's batch_size). Run from the
repository root, alone on the machine: python notes/experiments/how_many_windows_per_evaluation_batch/eval_batch.py"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
import common  # noqa: E402

stage = importlib.import_module("09_dropout_scaled")
torch.manual_seed(1337)
torch.set_num_threads(stage.threads)
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
_, val_data = common.train_val_split(torch.tensor(vocab.encode(text)))
model = stage.LanguageModel(len(vocab))  # untrained: the cost is the same
print(f"# {stage.threads} threads, "
      f"PyTorch {torch.__version__}; {len(val_data):,} val characters, windows of "
      f"{stage.block_size}; median of 3")
for batch_size in (8, 16, 32, 64, 128, 256, 512):
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        loss = common.evaluate(model, val_data, stage.block_size, "cpu", batch_size)
        times.append(time.perf_counter() - t0)
    print(f"{batch_size:4d} windows ({batch_size * stage.block_size:6,} positions) a batch: "
          f"{sorted(times)[1]:.2f} s, loss {loss:.4f}")
