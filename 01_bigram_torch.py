"""Stage 01: the bigram model as a trainable lookup table.

Row i of an embedding table holds the logits of the character that follows character i.
Instead of counting, we learn the table by gradient descent on the cross-entropy, with
AdamW. The learning rate is held, then cooled down to zero over the last fifth of the
run: the small final steps settle the weights that big ones kept shaking.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

import common
from common import plumbing  # settings, Ctrl-C, progress, logs: what is not the lesson

# hyperparameters
batch_size = 32  # independent sequences per training step
block_size = 8  # maximum context length of a prediction
max_iters = 3000
eval_interval = 300
learning_rate = 1e-2
cooldown = 0.2  # the learning rate decays linearly to zero over this last fraction of iters
eval_iters = 20  # batches per progress estimate; the final loss uses the whole split
preset = "default"  # default: the values above; songci: for the Song ci data, see PRESETS
device = "auto"  # auto, cpu, cuda or mps
threads = 1  # CPU threads; one is fastest for models this small
seed = 1337
data = "shakespeare"  # shakespeare, songci, or the path of a UTF-8 text file
out_dir = "out"
# ------------
PRESETS = {
    "default": {},
    "songci": dict(data="songci", batch_size=256, max_iters=600, learning_rate=0.1,
                   threads=2),
}


@torch.no_grad()
def estimate_loss(model, splits, device):
    """Average loss over eval_iters random batches of each split."""
    out = {}
    model.eval()
    for split, split_data in splits.items():
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            x, y = common.get_batch(split_data, block_size, batch_size, device)
            _, loss = model(x, y)
            losses[k] = loss.item()
        out[split] = losses.mean().item()
    model.train()
    return out


class LanguageModel(nn.Module):
    """Reads the logits of the next character straight from a table."""

    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)  # (B, T, vocab_size)
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
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, {len(vocab)} characters, training on {dev}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, fused=True)

    run = plumbing.Run(globals(), source, dev)  # Ctrl-C, progress lines, the results log
    for it in run.steps():  # range(max_iters), ended early by Ctrl-C
        if it % eval_interval == 0:
            losses = estimate_loss(model, {"train": train_data, "val": val_data}, dev)
            run.report(it, losses)
        for group in optimizer.param_groups:  # the learning rate: held, then cooled down
            group["lr"] = learning_rate * min(1.0, (1 - it / max_iters) / cooldown)
        xb, yb = common.get_batch(train_data, block_size, batch_size, dev)
        logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    val_loss = common.evaluate(model, val_data, block_size, dev)  # the whole split
    train_loss = common.evaluate(model, train_data[: len(val_data)], block_size, dev)  # val-sized
    result = run.finish(val_loss, train_loss, n_params)  # prints it, logs it

    model.eval()
    context = torch.zeros((1, 1), dtype=torch.long, device=dev)
    print(vocab.decode(model.generate(context, max_new_tokens=500)[0].tolist()))
    return model, result


if __name__ == "__main__":
    main()
