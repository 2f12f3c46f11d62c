"""How long one training step of --preset=lecture (10.8M parameters, 64 windows of 256)
takes on this CPU, and what 5000 of them would take: why the lecture preset is a GPU run.
Run from the repository root, alone on the machine:
python notes/logs/measurements/lecture_step.py"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
import common  # noqa: E402
from _timing import median, train_step  # noqa: E402

stage = importlib.import_module("09_dropout_scaled")
common.configure(vars(stage), ["--preset=lecture"])
torch.manual_seed(1337)
torch.set_num_threads(stage.threads)
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
model = stage.LanguageModel(len(vocab))
optimizer = torch.optim.AdamW(model.parameters(), lr=stage.learning_rate,
                              weight_decay=stage.weight_decay, fused=True)
n_params = sum(p.numel() for p in model.parameters())
print(f"# PyTorch {torch.__version__}, {stage.threads} threads; {n_params:,} parameters, "
      f"{stage.batch_size} windows of {stage.block_size} a step, dropout {stage.dropout}")
times = []
for step in range(8):  # the first three are a warm-up: the first steps run slower
    t0 = time.perf_counter()
    loss = train_step(stage, model, optimizer, train_data)
    times.append(time.perf_counter() - t0)
    print(f"step {step}: {times[-1]:.1f} s, loss {loss.item():.4f}")
step_s = median(times[3:])  # of the five after the warm-up
tokens = stage.batch_size * stage.block_size
print(f"median step: {step_s:.1f} s, {tokens / step_s:,.0f} tokens/s; {stage.max_iters} "
      f"steps: {stage.max_iters * step_s / 3600:.0f} hours, evaluations not counted")
