"""Stage 05: a feed-forward layer.

Attention gathers information from other positions but does little with it: the
logits were a linear function of a weighted average. A small per-position MLP
(Linear + ReLU) after attention gives each position time to "think" about what it
gathered.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

import common
from common import plumbing  # settings, Ctrl-C, progress, logs: what is not the lesson

# hyperparameters
batch_size = 32  # independent sequences per training step
block_size = 8  # maximum context length of a prediction
max_iters = 5000
eval_interval = 500
learning_rate = 1e-3
cooldown = 0.2  # the learning rate decays linearly to zero over this last fraction of iters
eval_iters = 20  # batches per progress estimate; the final loss uses the whole split
n_embd = 32  # width of every character's vector
n_head = 4  # attention heads, each of size n_embd // n_head
preset = "default"  # default: the values above; songci: for the Song ci data, see PRESETS
device = "auto"  # auto, cpu, cuda or mps
threads = 1  # CPU threads; one is fastest for models this small
seed = 1337
data = "shakespeare"  # shakespeare, songci, or the path of a UTF-8 text file
out_dir = "out"
# ------------
PRESETS = {
    "default": {},
    "songci": dict(data="songci", batch_size=16, block_size=16, learning_rate=1e-2, threads=2),
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


class Head(nn.Module):
    """One head of causal self-attention."""

    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        # affinities, scaled by 1/sqrt(hs) so the softmax stays soft at initialisation
        wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5  # (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no peeking ahead
        wei = F.softmax(wei, dim=-1)  # (B, T, T)
        v = self.value(x)  # (B, T, hs)
        out = wei @ v  # (B, T, hs)
        return out


class MultiHeadAttention(nn.Module):
    """Several heads of self-attention side by side, their outputs concatenated."""

    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)  # (B, T, num_heads * hs)
        return out


class FeedForward(nn.Module):
    """A small MLP applied to every position on its own."""

    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, n_embd),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.net(x)


class LanguageModel(nn.Module):
    """Embeddings, multi-head attention, feed-forward, then next-character logits."""

    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.sa = MultiHeadAttention(n_head, n_embd // n_head)
        self.ffwd = FeedForward(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T, device=idx.device))  # (T, C)
        x = tok_emb + pos_emb  # (B, T, C)
        x = self.sa(x)  # (B, T, C)
        x = self.ffwd(x)  # (B, T, C)
        logits = self.lm_head(x)  # (B, T, vocab_size)
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
