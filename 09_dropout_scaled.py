"""Stage 09: dropout, and scaling the model up.

Dropout zeroes a random fraction of the attention weights, and of each branch's output
before it joins the residual stream, during training only: no unit can count on another
being there, so training is like averaging many thinned networks, and overfits less.
Then the model grows: wider, deeper, a longer context, more steps, and weight decay.
Three things keep the bigger model fast on a CPU: all heads computed together as one
more batch dimension (the same arithmetic as stage 08), bfloat16 products where this CPU
runs them faster (--dtype), and two threads. A checkpoint, out_dir/ckpt.pt, keeps the
best model trained so far. --preset: quick (about a minute), long (more steps), lecture
(the lecture's model, for a GPU), songci (the Song ci); dropout is off on the CPU (see the note).
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

import common
from common import plumbing  # settings, Ctrl-C, progress, logs: what is not the lesson

# hyperparameters
batch_size = 16  # independent sequences per training step
block_size = 128  # maximum context length of a prediction
max_iters = 4200
eval_interval = 500
learning_rate = 4e-3
cooldown = 0.2  # the learning rate decays linearly to zero over this last fraction of iters
weight_decay = 0.1  # AdamW shrinks every weight by lr * weight_decay of itself each step
eval_iters = 20  # batches per progress estimate; the final loss uses the whole split
n_embd = 128  # width of every character's vector
n_head = 4  # attention heads, each of size n_embd // n_head
n_layer = 4  # blocks stacked one on another
dropout = 0.0  # fraction of activations zeroed in training (0.2 in the lecture preset)
tie_weights = False  # the output layer reuses the token table (notes/songci.md)
preset = "cpu"  # cpu: the values above; quick: about a minute; long, lecture, songci: PRESETS
device = "auto"  # auto, cpu, cuda or mps
dtype = "auto"  # of training's products: auto (bfloat16 where it is faster here), float32, bfloat16
threads = 2  # CPU threads; two are faster from this size on
seed = 1337
data = "shakespeare"  # shakespeare, songci, or the path of a UTF-8 text file
out_dir = "out"
# ------------
PRESETS = {
    "cpu": {},
    "quick": dict(block_size=64, max_iters=1400, learning_rate=3e-3, out_dir="out/quick"),
    "long": dict(max_iters=6500, cooldown=0.3, out_dir="out/long"),
    "lecture": dict(batch_size=64, block_size=256, max_iters=5000, learning_rate=3e-4,
                    weight_decay=0.01, eval_iters=200, n_embd=384, n_head=6, n_layer=6,
                    dropout=0.2, out_dir="out/lecture"),
    "songci": dict(data="songci", batch_size=32, block_size=64, max_iters=7000,
                   eval_interval=2400, weight_decay=0.2, out_dir="out/songci"),
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


class MultiHeadAttention(nn.Module):
    """Causal self-attention with every head at once: the heads are a batch dimension."""

    def __init__(self, num_heads, head_size):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(n_embd, 3 * num_heads * head_size, bias=False)  # all q, k, v
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        qkv = self.qkv(x).view(B, T, 3 * self.num_heads, -1).transpose(1, 2)  # (B, 3*nh, T, hs)
        q, k, v = qkv.chunk(3, dim=1)  # each (B, nh, T, hs)
        # affinities, scaled by 1/sqrt(hs) so the softmax stays soft at initialisation
        wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5  # (B, nh, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no peeking ahead
        wei = F.softmax(wei, dim=-1)  # (B, nh, T, T)
        wei = self.dropout(wei)
        out = wei @ v  # (B, nh, T, hs)
        out = out.transpose(1, 2).reshape(B, T, -1)  # (B, T, nh * hs): heads concatenated
        out = self.dropout(self.proj(out))  # (B, T, C): back into the residual stream
        return out


class FeedForward(nn.Module):
    """A small MLP applied to every position on its own."""

    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),  # back into the residual stream
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """A Transformer block: communication (attention), then computation (feed-forward)."""

    def __init__(self, n_embd, n_head):
        super().__init__()
        head_size = n_embd // n_head
        self.sa = MultiHeadAttention(n_head, head_size)
        self.ffwd = FeedForward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


class LanguageModel(nn.Module):
    """Embeddings, n_layer blocks, then next-character logits."""

    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)  # final LayerNorm
        self.lm_head = nn.Linear(n_embd, vocab_size)
        if tie_weights:  # one (vocab_size, n_embd) table for characters in and out
            self.lm_head.weight = self.token_embedding_table.weight
            for table in (self.token_embedding_table, self.position_embedding_table):
                nn.init.normal_(table.weight, std=n_embd ** -0.5)  # logits of variance 1

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T, device=idx.device))  # (T, C)
        x = tok_emb + pos_emb  # (B, T, C)
        x = self.blocks(x)  # (B, T, C)
        x = self.ln_f(x)  # (B, T, C)
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
    precision, why = plumbing.pick_dtype(dtype, dev, batch_size * block_size, n_embd)

    text, source = common.load_text(data)
    vocab = common.Vocab(text)
    ids = torch.tensor(vocab.encode(text), dtype=torch.long)
    train_data, val_data = common.train_val_split(ids)

    model = LanguageModel(len(vocab)).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, {len(vocab)} characters, training on {dev} in {precision}"
          + why)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate,
                                  weight_decay=weight_decay, fused=True)

    checkpoint = plumbing.Checkpoint(globals(), vocab, source)  # only a better model replaces it
    run = plumbing.Run(globals(), source, dev, precision)  # Ctrl-C, progress, the results log
    for it in run.steps():  # range(max_iters), ended early by Ctrl-C
        if it % eval_interval == 0:
            losses = estimate_loss(model, {"train": train_data, "val": val_data}, dev)
            run.report(it, losses)
            if it and losses["val"] < checkpoint.best:  # promising: score the whole split
                checkpoint.offer(model, common.evaluate(model, val_data, block_size, dev), it)
        for group in optimizer.param_groups:  # the learning rate: held, then cooled down
            group["lr"] = learning_rate * min(1.0, (1 - it / max_iters) / cooldown)
        xb, yb = common.get_batch(train_data, block_size, batch_size, dev)
        with torch.autocast(dev.partition(":")[0], torch.bfloat16,
                            enabled=precision == "bfloat16"):  # mixed precision
            logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    val_loss = common.evaluate(model, val_data, block_size, dev)  # the whole split
    train_loss = common.evaluate(model, train_data[: len(val_data)], block_size, dev)  # val-sized
    result = run.finish(val_loss, train_loss, n_params)  # prints it, logs it
    checkpoint.offer(model, val_loss, run.iters, final=True)

    model.eval()
    context = torch.zeros((1, 1), dtype=torch.long, device=dev)
    print(vocab.decode(model.generate(context, max_new_tokens=500)[0].tolist()))
    return model, result


if __name__ == "__main__":
    main()
