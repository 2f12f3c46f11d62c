"""What the timing scripts beside this file share (imported, not run): one training step
of a stage-09 model, as its training loop takes it, and the median of a few timings."""
import common


def train_step(stage, model, optimizer, data):
    """One step of stage's training loop on a random batch of data; returns the loss."""
    xb, yb = common.get_batch(data, stage.block_size, stage.batch_size, "cpu")
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def median(values):
    return sorted(values)[len(values) // 2]
