"""Does the number of threads change a training run, or only its speed? Stage 09's model at
--preset=songci, seed 1337, trained 200 steps from the same start on the same batches, once
with one thread and once with two, in float32 and in bfloat16 (as --dtype picks). Prints the
training loss at a few steps and the largest difference between the two runs' weights.
Behind "Stage 09 on Song ci" in notes/songci.md. Run from the repository root:
python notes/experiments/bfloat16_and_threads_on_a_cpu/threads_path.py"""
import importlib
import sys

import torch

sys.path.insert(0, ".")
import common  # noqa: E402
import plumbing  # noqa: E402
from _timing import header, train_step  # noqa: E402

stage09 = importlib.import_module("09_dropout_scaled")
plumbing.configure(vars(stage09), ["--preset=songci"], trains=False)
header()
text, _ = common.load_text(stage09.data)
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
SHOWN = (1, 2, 10, 100, 200)


def run(threads, precision):
    """200 steps from seed 1337's start; returns the losses at SHOWN and the weights."""
    torch.set_num_threads(threads)
    torch.manual_seed(stage09.seed)
    model = stage09.LanguageModel(len(vocab))
    optimizer = torch.optim.AdamW(model.parameters(), lr=stage09.learning_rate,
                                  weight_decay=stage09.weight_decay, fused=True)
    losses = {}
    for step in range(1, SHOWN[-1] + 1):
        loss = train_step(stage09, model, optimizer, train_data, precision)
        if step in SHOWN:
            losses[step] = loss.item()
    return losses, torch.cat([p.detach().flatten() for p in model.parameters()])


print(f"# stage 09 at --preset=songci: {stage09.batch_size} windows of {stage09.block_size} a "
      f"step, learning rate {stage09.learning_rate}, seed {stage09.seed}")
for precision in ("float32", "bfloat16"):
    (one, w1), (two, w2) = run(1, precision), run(2, precision)
    for step in SHOWN:
        print(f"{precision:<9} step {step:>3}: training loss, 1 thread {one[step]:.6f}, "
              f"2 threads {two[step]:.6f}, difference {two[step] - one[step]:+.6f}")
    print(f"{precision:<9} after {SHOWN[-1]} steps: largest weight difference "
          f"{(w2 - w1).abs().max().item():.2f} (weights' largest size {w1.abs().max().item():.2f})")
