"""What every stage shares and no stage changes: the text as character ids, the
train/val split, random batches, and the whole-split evaluation.

Nothing about the model lives here, and nothing that is not the lesson: settings, data
downloads, Ctrl-C, progress lines, the results log and checkpoints are plumbing.py, which a
stage reaches as `plumbing.NAME` (after `from common import plumbing`).
"""

import sys

import torch
from torch.nn import functional as F

import plumbing  # noqa: F401  (the stages' `from common import plumbing`)


def load_text(data):
    """(text, source) of a data set ('shakespeare', 'songci': downloaded on first use and
    checked by sha256) or of a UTF-8 text file; source is {"data": ..., "sha256": ...}."""
    return plumbing.read_text(data)


class Vocab:
    """The characters of a text, each mapped to an integer id."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, s):
        unknown = sorted(set(s) - self.stoi.keys())
        if unknown:
            names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in unknown)
            raise ValueError(f"characters not in the vocabulary: {names}")
        return [self.stoi[ch] for ch in s]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def train_val_split(ids):
    """The first 90% of the text trains, the last 10% validates."""
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:]


def get_batch(data, block_size, batch_size, device):
    """batch_size random windows x and the same windows shifted by one, y."""
    check_length(data, block_size)
    ix = torch.randint(len(data) - block_size, (batch_size, 1))
    x = data[ix + torch.arange(block_size)]  # (batch_size, block_size)
    y = data[ix + torch.arange(1, block_size + 1)]
    return x.to(device), y.to(device)


def check_length(data, block_size):
    if len(data) <= block_size:
        sys.exit(f"error: a split of {len(data)} characters cannot fill a window of "
                 f"block_size={block_size}; use a longer text or a smaller --block_size")


EVAL_MEMORY = 2**28  # bytes one evaluation batch may spend on logits: 3 float32 copies of them
EVAL_POSITIONS = 2048  # positions one evaluation batch holds at most: bigger ones run slower


@torch.no_grad()
def evaluate(model, data, block_size, device, batch_size=None):
    """Mean cross-entropy over every non-overlapping window of a whole split.

    The windows go through the model batch_size at a time: by default EVAL_POSITIONS
    positions (256 windows of 8, 16 of 128), fewer if their logits would not fit in
    EVAL_MEMORY, so a large vocabulary takes smaller batches."""
    check_length(data, block_size)
    was_training = model.training
    model.eval()
    n = (len(data) - 1) // block_size
    x_all = data[: n * block_size].view(n, block_size)
    y_all = data[1 : n * block_size + 1].view(n, block_size)
    if batch_size is None:
        vocab_size = model(x_all[:1].to(device))[0].size(-1)  # one window, to see the logits
        positions = min(EVAL_POSITIONS, EVAL_MEMORY // (3 * 4 * vocab_size))
        batch_size = max(1, positions // block_size)
    total = 0.0
    for i in range(0, n, batch_size):
        x, y = x_all[i : i + batch_size].to(device), y_all[i : i + batch_size].to(device)
        logits, _ = model(x)
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train(was_training)
    return total / (n * block_size)
