"""Stage 09: dropout, and scaling the model up.

Dropout zeroes a random fraction of the attention weights, and of each branch's output
before it joins the residual stream, during training only: no unit can count on
another being there, which fights overfitting once the model is big enough to memorise.
Then the model grows: wider, deeper, a longer context.

--preset=lecture gives the lecture's model (10.8M parameters, dropout 0.2, learning rate
3e-4, batches of 64, 5000 steps), for a GPU. The default is a model a thirteenth of that
size for a few minutes on a CPU (README.md has measured times). Its learning rate is
4e-3 (the lecture's: 3e-4): a model this small takes big steps without diverging, and a
short run needs them (over 4200 steps 4e-3 ended lower than 3e-3 on each of three
seeds; notes/logs/tuning/). Its weight decay is 0.1, ten times AdamW's default: over five
minutes it ended lower in both pairs of runs tried (0.2 did worse than 0.1). Its batches
are 16 windows of 128 characters, 2,048 characters a step, 4200 steps. Dropout is off:
in a few minutes the model reads the text eight and a half times and dropout mostly
slows it down (the note has the measurements, made with the earlier recipe).
--preset=quick trains a good model in about a minute: context 64, 1400 steps, learning
rate 3e-3 (at one minute, weight decay 0.01, one seed each, 2e-3 and 4e-3 did worse).
--preset=songci trains on the Song ci into out/songci, with windows of 64 characters,
32 a step, 7000 steps, weight decay 0.2 (notes/songci.md).

Four things make the bigger model practical. The heads are computed together, as one
more batch dimension (one Linear makes every head's q, k and v): the same arithmetic
as stage 08 in fewer, larger operations. Two CPU threads. Mixed precision: on a CPU with
bfloat16 instructions (AVX512-BF16 or AMX) training runs its matrix products, forward and
backward, and the softmax and ReLU that read them, in bfloat16, a number with float32's
range and 8 bits of precision, which such a CPU multiplies several times faster (a step
here: 37.4 ms against 84.8); the residual stream, the weights, AdamW and every evaluation
stay float32 (--dtype=float32 turns it off; GPUs keep float32).
And a checkpoint, out_dir/ckpt.pt, written at an evaluation or at the end whenever the
model beats the one already there on the whole val split (so a short trial never replaces
a good model, and the untrained model is never written).
"""

import io
import os
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

import common

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
preset = "cpu"  # cpu: the values above; quick: about a minute; lecture, songci: PRESETS
device = "auto"  # auto, cpu, cuda or mps
dtype = "auto"  # of training's products: auto (bfloat16 on a CPU built for it), float32, bfloat16
threads = 2  # CPU threads; two are faster from this size on
seed = 1337
data = "shakespeare"  # shakespeare, songci, or the path of a UTF-8 text file
out_dir = "out"
# ------------
PRESETS = {
    "cpu": {},
    "quick": dict(block_size=64, max_iters=1400, learning_rate=3e-3),
    "lecture": dict(batch_size=64, block_size=256, max_iters=5000, learning_rate=3e-4,
                    weight_decay=0.01, eval_iters=200, n_embd=384, n_head=6, n_layer=6,
                    dropout=0.2),
    "songci": dict(data="songci", batch_size=32, block_size=64, max_iters=7000,
                   eval_interval=2400, weight_decay=0.2, out_dir=os.path.join("out", "songci")),
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


def kept_val_loss(info):
    """The val loss of the checkpoint already in out_dir, or infinity if there is none.
    One trained on other data, or not by this code, stops the run before it starts."""
    path = os.path.join(out_dir, "ckpt.pt")
    if not os.path.exists(path):
        return float("inf")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        kept, kept_data = float(checkpoint["val_loss"]), checkpoint["data"]
        if not {"model", "chars", "config"} <= checkpoint.keys() or "sha256" not in kept_data:
            raise KeyError("model, chars, config or data['sha256']")
    except Exception as e:
        sys.exit(f"error: {path} is not a checkpoint of this code ({e!r}); move it away, "
                 f"or train into another folder with --out_dir=")
    if kept_data["sha256"] != info["sha256"]:
        other = os.path.join(out_dir, os.path.splitext(os.path.basename(data))[0])
        sys.exit(f"error: {path} holds a model of other data ({kept_data['data']}), whose "
                 f"val loss says nothing about this run's; keep it and train into another "
                 f"folder, e.g. --out_dir={other}")
    print(f"{path} holds a model with val loss {kept:.4f}: only a better one replaces it")
    return kept


def save_checkpoint(model, vocab, info, it, val_loss, best):
    """Write weights, hyperparameters, vocabulary and data source to out_dir/ckpt.pt if
    the model has trained and its val_loss beats best; return the val loss kept there.
    Atomically, so a crash or Ctrl-C mid-write leaves the previous checkpoint whole."""
    if it == 0 or not val_loss < best:  # untrained, or no better than what is kept
        return best
    checkpoint = {"model": model.state_dict(), "config": common.hyperparameters(globals()),
                  "chars": "".join(vocab.chars), "data": info, "iter": it, "val_loss": val_loss}
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    path = os.path.join(out_dir, "ckpt.pt")
    try:
        common.write_atomic(path, buffer.getvalue())
    except OSError as e:  # on Windows, while another program has the file open
        print(f"warning: could not write {path} ({e.strerror or e}); is another program "
              f"holding it open? Training goes on if it was under way", flush=True)
        return best
    return val_loss


def main(argv=None):
    common.configure(globals(), argv)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    dev = common.pick_device(device)
    precision = common.pick_dtype(dtype, dev)  # training's; evaluation is always float32

    text, info = common.load_text(data)
    vocab = common.Vocab(text)
    ids = torch.tensor(vocab.encode(text), dtype=torch.long)
    train_data, val_data = common.train_val_split(ids)

    model = LanguageModel(len(vocab)).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params:,} parameters, {len(vocab)} characters, training on {dev} in {precision}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate,
                                  weight_decay=weight_decay, fused=True)

    best = kept_val_loss(info)  # only a model better than the one in out_dir replaces it
    t0 = common.now(dev)
    curve = []  # (step, train loss, val loss) at every evaluation, for the results log
    iters = 0  # steps taken: max_iters, or fewer if Ctrl-C ended training early
    with common.CtrlC() as ctrl_c:  # Ctrl-C ends training after the current step
        for it in range(max_iters):
            if ctrl_c.pressed:
                break
            if it % eval_interval == 0:
                losses = estimate_loss(model, {"train": train_data, "val": val_data}, dev)
                curve.append((it, losses["train"], losses["val"]))
                print(f"step {it}: train loss {losses['train']:.4f}, "
                      f"val loss {losses['val']:.4f}"
                      + common.progress(it, max_iters, t0, batch_size * block_size))
                if it and losses["val"] < best:  # worth saving? decide on the whole split
                    val_now = common.evaluate(model, val_data, block_size, dev)
                    best = save_checkpoint(model, vocab, info, it, val_now, best)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate * min(1.0, (1 - it / max_iters) / cooldown)
            xb, yb = common.get_batch(train_data, block_size, batch_size, dev)
            with torch.autocast(dev.partition(":")[0], torch.bfloat16,
                                enabled=precision == "bfloat16"):  # mixed precision
                logits, loss = model(xb, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            iters = it + 1
    train_seconds = common.now(dev) - t0

    val_loss = common.evaluate(model, val_data, block_size, dev)
    train_loss = common.evaluate(model, train_data[: len(val_data)], block_size, dev)  # val-sized
    seconds = common.now(dev) - t0
    tokens_per_s = iters * batch_size * block_size / max(train_seconds, 1e-9)
    print(f"final: val loss {val_loss:.4f} (whole split), train loss {train_loss:.4f} "
          f"| {seconds:.1f} s, {tokens_per_s:,.0f} tokens/s")
    result = {**common.hyperparameters(globals()), "stage": os.path.basename(__file__)[:-3],
              "val_loss": val_loss, "train_loss": train_loss, "iters": iters,
              "seconds": seconds, "params": n_params, "tokens_per_s": tokens_per_s,
              "device": dev, "precision": precision, "data_sha256": info["sha256"], "curve": curve}
    common.log_result(out_dir, result)
    if save_checkpoint(model, vocab, info, iters, val_loss, best) == val_loss:
        print(f"checkpoint: wrote {os.path.join(out_dir, 'ckpt.pt')} (step {iters})")
    elif iters and not val_loss < best:
        print(f"checkpoint: kept {os.path.join(out_dir, 'ckpt.pt')}, whose val loss "
              f"{best:.4f} this model does not beat")

    model.eval()
    context = torch.zeros((1, 1), dtype=torch.long, device=dev)
    print(vocab.decode(model.generate(context, max_new_tokens=500)[0].tolist()))
    return model, result


if __name__ == "__main__":
    main()
