"""Are two CPU threads faster than one? Stage 09's training step at its default size, and
stage 10's sampling with the cache, one character at a time (random weights: the speed
does not depend on them). Behind the comments on `threads` in stages 09 and 10.
Run from the repository root, alone on the machine:
python notes/experiments/bfloat16_and_threads_on_a_cpu/threads.py"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
import common  # noqa: E402
from _timing import header, median, train_step  # noqa: E402

stage09 = importlib.import_module("09_dropout_scaled")
stage10 = importlib.import_module("10_kvcache_sample")
# stage 10 takes its model's shape from a checkpoint: here, stage 09's defaults
vars(stage10).update({name: getattr(stage09, name) for name in (
    "n_embd", "n_head", "n_layer", "block_size", "dropout", "tie_weights")})
header()
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
print(f"# PyTorch {torch.__version__}; median of 3 repeats; random weights")


def seconds_per_step(model, optimizer, n):
    t0 = time.perf_counter()
    for _ in range(n):
        train_step(stage09, model, optimizer, train_data)
    return (time.perf_counter() - t0) / n


def tokens_per_second(model, n):
    t0 = time.perf_counter()
    model.generate(torch.zeros((1, 1), dtype=torch.long), n)
    return n / (time.perf_counter() - t0)


for threads in (1, 2):
    torch.set_num_threads(threads)
    torch.manual_seed(1337)
    model = stage09.LanguageModel(len(vocab))
    optimizer = torch.optim.AdamW(model.parameters(), lr=stage09.learning_rate,
                                  weight_decay=stage09.weight_decay, fused=True)
    seconds_per_step(model, optimizer, 5)  # warm-up
    ms = 1e3 * median([seconds_per_step(model, optimizer, 20) for _ in range(3)])
    print(f"stage 09 training step ({stage09.batch_size} windows of {stage09.block_size}), "
          f"{threads} thread(s): {ms:.1f} ms")
for threads in (1, 2):
    torch.set_num_threads(threads)
    torch.manual_seed(1337)
    model = stage10.LanguageModel(len(vocab)).eval()
    tokens_per_second(model, 20)  # warm-up
    rate = median([tokens_per_second(model, 3 * stage10.block_size) for _ in range(3)])
    print(f"stage 10 sampling {3 * stage10.block_size} characters with the cache, "
          f"{threads} thread(s): {rate:,.0f} tokens/s")
