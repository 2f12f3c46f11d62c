"""Stage 00: a bigram model by counting.

How often does each character follow each other character? Count every pair in the
train split, add a little smoothing so no pair is impossible, and normalise each row
into the probabilities of the next character. No gradient descent: the counts are the
best a bigram model can do, and every later stage is measured against their val loss.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

import common
from common import plumbing  # settings, Ctrl-C, progress, logs: what is not the lesson

# hyperparameters
block_size = 8  # maximum context length of a prediction
smoothing = 1.0  # added to every count, so unseen pairs keep some probability
preset = "default"  # default: the values above; songci: for the Song ci data, see PRESETS
device = "auto"  # auto, cpu, cuda or mps
threads = 1  # CPU threads; one is fastest for models this small
seed = 1337
data = "shakespeare"  # shakespeare, songci, or the path of a UTF-8 text file
out_dir = "out"
# ------------
PRESETS = {
    "default": {},
    "songci": dict(data="songci", smoothing=0.03),
}


class LanguageModel(nn.Module):
    """Reads the log-probabilities of the next character from a table of counts."""

    def __init__(self, vocab_size):
        super().__init__()
        self.register_buffer("counts", torch.zeros(vocab_size, vocab_size))
        self.register_buffer("log_probs", torch.zeros(vocab_size, vocab_size))  # uniform

    def fit(self, data):
        """Count every pair (current, next) in data; normalise each row to probabilities."""
        pairs = torch.ones(len(data) - 1, device=self.counts.device)
        self.counts.index_put_((data[:-1], data[1:]), pairs, accumulate=True)
        probs = (self.counts + smoothing) / (self.counts + smoothing).sum(1, keepdim=True)
        self.log_probs = probs.log()

    def forward(self, idx, targets=None):
        logits = self.log_probs[idx]  # (B, T, vocab_size): log-probabilities are logits too
        if targets is None:
            loss = None
        else:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -block_size:]  # the model never sees more than block_size
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :]  # (B, vocab_size): only the last position predicts
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
        return idx


def main(argv=None):
    plumbing.configure(globals(), argv)  # --name=value overrides, each checked
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    dev = plumbing.pick_device(device)

    text, source = common.load_text(data)
    vocab = common.Vocab(text)
    ids = torch.tensor(vocab.encode(text), dtype=torch.long)
    train_data, val_data = common.train_val_split(ids)

    model = LanguageModel(len(vocab)).to(dev)
    n_params = model.counts.numel()
    print(f"{n_params:,} counts, {len(vocab)} characters, counting on {dev}")

    run = plumbing.Run(globals(), source, dev)  # the clock, the results log
    model.fit(train_data.to(dev))

    val_loss = common.evaluate(model, val_data, block_size, dev)  # the whole split
    train_loss = common.evaluate(model, train_data[: len(val_data)], block_size, dev)  # val-sized
    result = run.finish(val_loss, train_loss, n_params, tokens=len(train_data))

    model.eval()
    context = torch.zeros((1, 1), dtype=torch.long, device=dev)
    print(vocab.decode(model.generate(context, max_new_tokens=500)[0].tolist()))
    return model, result


if __name__ == "__main__":
    main()
