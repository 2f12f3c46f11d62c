"""What the timing scripts beside this file share (imported, not run): one training step
of a stage-09 model, as its training loop takes it, and the median of a few timings."""
import sys

import torch

import common
import plumbing


def header():
    """Print the command that runs the calling script and the machine it runs on."""
    print(f"$ python {sys.argv[0]}")
    print(f"# machine: {plumbing.machine()}, "
          f"{torch.get_num_threads()} threads by default")


def train_step(stage, model, optimizer, data, precision="float32"):
    """One step of stage's training loop on a random batch of data, its products in
    precision (float32 or bfloat16, as stage 09's --dtype picks); returns the loss."""
    xb, yb = common.get_batch(data, stage.block_size, stage.batch_size, "cpu")
    with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16"):
        _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def median(values):
    return sorted(values)[len(values) // 2]
