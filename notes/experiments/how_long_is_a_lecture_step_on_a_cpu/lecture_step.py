"""How long one training step of --preset=lecture (the lecture's 10.8M-parameter model,
64 windows of 256 characters) takes on this CPU, in float32 and in bfloat16, and what its
5000 steps would take: why the lecture preset is a GPU run.

Run from the repository root, alone on the machine:
    python notes/experiments/how_long_is_a_lecture_step_on_a_cpu/lecture_step.py
"""
import os
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import common  # noqa: E402
import compare  # noqa: E402
import plumbing  # noqa: E402

print("$ python notes/experiments/how_long_is_a_lecture_step_on_a_cpu/lecture_step.py")
print(f"# machine: {plumbing.machine()}, "
      f"PyTorch {torch.__version__}")
stage = compare.load_stage("09_dropout_scaled")
plumbing.configure(vars(stage), ["--preset=lecture"], trains=False)
torch.manual_seed(1337)
torch.set_num_threads(stage.threads)
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
model = stage.LanguageModel(len(vocab))
optimizer = torch.optim.AdamW(model.parameters(), lr=stage.learning_rate,
                              weight_decay=stage.weight_decay, fused=True)
print(f"# {sum(p.numel() for p in model.parameters()):,} parameters, {stage.batch_size} "
      f"windows of {stage.block_size} a step, dropout {stage.dropout}, {stage.threads} threads")
for precision in ("float32", "bfloat16"):
    times = []
    for step in range(7):  # the first two warm up: the first steps run slower
        xb, yb = common.get_batch(train_data, stage.block_size, stage.batch_size, "cpu")
        t0 = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16"):
            _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times[2:])
    tokens = stage.batch_size * stage.block_size
    print(f"{precision}: a step {step_s:.1f} s (median of 5 after 2 warm-up steps), "
          f"{tokens / step_s:,.0f} tokens/s; {stage.max_iters} steps would take "
          f"{stage.max_iters * step_s / 3600:.0f} hours, evaluations not counted")
