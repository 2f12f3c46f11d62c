"""Stage 10: sampling with a key/value cache.

Generating one character at a time, the model of stage 09 recomputes the keys and
values of the whole context at every step, though only the newest position is new.
Here each attention layer keeps the keys and values its heads have computed (the KV
cache), and each step runs only the newest character through the model, attending to
the cache.
Same model classes as stage 09, so it loads stage 09's checkpoint (out_dir/ckpt.pt).

Context policy: up to block_size characters the cache holds the whole context. When it
is full, the context window jumps ahead by half: the cache is rebuilt from the last
block_size // 2 characters (one forward pass over them) and fills up again. Generation
without the cache follows the same policy, recomputing the window at every step, so
the two compute the same logits (up to float round-off) and pick the same characters;
--compare shows it and times both. The training settings above are kept so this file
diffs cleanly against stage 09; the model's shape comes from the checkpoint.
"""

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
prompt = ""  # the text to continue; empty starts a new line
max_new_tokens = 500
temperature = 1.0  # below 1 sharper, above 1 more random; 0 always takes the likeliest
top_k = 0  # sample among the k likeliest characters only; 0 means all of them
interactive = False  # read prompts from standard input until EOF
compare = False  # generate with and without the cache: speed, and are the ids the same?
device = "auto"  # auto, cpu, cuda or mps
dtype = "auto"  # of training's products: auto (bfloat16 on a CPU built for it), float32, bfloat16
threads = 1  # CPU threads; two are no faster for one character at a time
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


class MultiHeadAttention(nn.Module):
    """Causal self-attention with every head at once: the heads are a batch dimension."""

    def __init__(self, num_heads, head_size):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(n_embd, 3 * num_heads * head_size, bias=False)  # all q, k, v
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, cache=None):
        B, T, C = x.shape
        qkv = self.qkv(x).view(B, T, 3 * self.num_heads, -1).transpose(1, 2)  # (B, 3*nh, T, hs)
        q, k, v = qkv.chunk(3, dim=1)  # each (B, nh, T, hs)
        P = 0  # positions before these T whose keys and values are cached
        if cache is not None:  # write k, v after them, in room made once for a whole window
            P = cache.get("length", 0)
            if self not in cache:
                cache[self] = k.new_empty(2, B, self.num_heads, block_size, k.size(-1))
            kv = cache[self]  # (2, B, nh, block_size, hs): keys, then values
            kv[0, :, :, P : P + T], kv[1, :, :, P : P + T] = k, v
            k, v = kv[:, :, :, : P + T]  # each (B, nh, P+T, hs)
        # affinities, scaled by 1/sqrt(hs) so the softmax stays soft at initialisation
        wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5  # (B, nh, T, P+T)
        if T > 1:  # one new query may see every key: then there is nothing to mask
            wei = wei.masked_fill(self.tril[P : P + T, : P + T] == 0, float("-inf"))  # no peeking
        wei = F.softmax(wei, dim=-1)  # (B, nh, T, P+T)
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

    def forward(self, x, cache=None):
        x = x + self.sa(self.ln1(x), cache)
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

    def forward(self, idx, targets=None, cache=None):
        B, T = idx.shape
        P = 0 if cache is None else cache.get("length", 0)  # positions already in the cache
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(P, P + T, device=idx.device))
        x = tok_emb + pos_emb  # (B, T, C)
        for block in self.blocks:
            x = block(x, cache)  # (B, T, C)
        if cache is not None:
            cache["length"] = P + T
        x = self.ln_f(x)  # (B, T, C)
        logits = self.lm_head(x)  # (B, T, vocab_size)
        if targets is None:
            loss = None
        else:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    @torch.inference_mode()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=0, use_cache=True):
        start = max(0, idx.size(1) - block_size)  # where the context window begins
        cache = {}
        for _ in range(max_new_tokens):
            if idx.size(1) - start > block_size:  # the window is full: jump ahead by half
                start = idx.size(1) - block_size // 2
                cache = {}
            if not use_cache:
                logits, _ = self(idx[:, start:])  # the whole window, every step
            elif not cache:
                logits, _ = self(idx[:, start:], cache=cache)  # fill the cache
            else:
                logits, _ = self(idx[:, -1:], cache=cache)  # only the newest character
            logits = logits[:, -1, :]  # (B, vocab_size): only the last position predicts
            if temperature == 0:
                idx_next = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature
                if top_k:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
        return idx


def load_checkpoint(path, given):
    """Load stage 09's checkpoint; take the model's shape from it."""
    from_preset = PRESETS.get(given.get("preset"), {})
    if not os.path.exists(path):
        how = "".join(f" --{name}={given[name]}" for name in ("preset", "data", "out_dir")
                      if name in given and given[name] != from_preset.get(name))
        sys.exit(f"error: no checkpoint at {path}. Train one first with\n"
                 f"  python 09_dropout_scaled.py{how}\n(README.md says how long it takes).")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        sys.exit(f"error: {path} is not a checkpoint this code can read ({e!r})")
    needed = ["model", "chars", "iter", "val_loss", "data/data", "config/block_size",
              "config/n_embd", "config/n_head", "config/n_layer"]
    missing = [key for key in needed if not has(checkpoint, key.split("/"))]
    if missing:
        sys.exit(f"error: {path} is not a checkpoint of stage 09: it has no "
                 + ", ".join(missing))
    for name in ("block_size", "n_embd", "n_head", "n_layer", "tie_weights"):
        trained = checkpoint["config"].get(name, False)  # older checkpoints: not tied
        if name in given and given[name] != trained:
            why = f" (by --preset={given['preset']})" if name in from_preset else ""
            sys.exit(f"error: the checkpoint's model has {name}={trained}, "
                     f"but {name}={given[name]} was asked for{why}")
        globals()[name] = trained
    if block_size < 2:
        sys.exit(f"error: the checkpoint's model has block_size={block_size}; sampling past "
                 f"the context needs at least 2")
    return checkpoint


def has(tree, keys):
    """Does tree[keys[0]][keys[1]]... exist?"""
    return not keys or isinstance(tree, dict) and keys[0] in tree and has(tree[keys[0]], keys[1:])


def check_given(given, checkpoint):
    """The checkpoint, not the command line, decides what was trained: say so."""
    trained_on = checkpoint["data"]["data"]
    if "data" in given and given["data"] != trained_on:
        other = os.path.join(out_dir, os.path.splitext(os.path.basename(given["data"]))[0])
        sys.exit(f"error: --data={given['data']}, but the checkpoint in {out_dir} was trained "
                 f"on {trained_on}, and the checkpoint decides. For a model of "
                 f"{given['data']}:\n  python 09_dropout_scaled.py --data={given['data']} "
                 f"--out_dir={other}\n  python 10_kvcache_sample.py --out_dir={other}")
    from_preset = PRESETS.get(given.get("preset"), {})
    for name in ("batch_size", "max_iters", "eval_interval", "learning_rate", "cooldown",
                 "weight_decay", "eval_iters", "dropout", "dtype"):
        if name in given and name not in from_preset:
            print(f"note: --{name} is a training setting; sampling ignores it (the "
                  f"checkpoint decides the model)", file=sys.stderr)


def sample(model, vocab, text, dev, use_cache=True):
    """Continue text with max_new_tokens characters; returns (text, ids, seconds)."""
    torch.manual_seed(seed)
    start = vocab.encode(text) or [vocab.stoi.get("\n", 0)]  # empty: start a new line
    idx = torch.tensor([start], dtype=torch.long, device=dev)
    t0 = common.now(dev)
    out = model.generate(idx, max_new_tokens, temperature, top_k, use_cache)[0].tolist()
    return vocab.decode(out), out, common.now(dev) - t0


def stdin_lines():
    """Standard input line by line; a line that is not UTF-8 is reported and skipped."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            print(f"error: input line {number} is not UTF-8 text (byte {e.start}: "
                  f"{e.reason}); skipped", file=sys.stderr, flush=True)


def main(argv=None):
    given = common.configure(globals(), argv, trains=False)
    torch.set_num_threads(threads)
    dev = common.pick_device(device)
    checkpoint = load_checkpoint(os.path.join(out_dir, "ckpt.pt"), given)
    check_given(given, checkpoint)
    vocab = common.Vocab(checkpoint["chars"])
    model = LanguageModel(len(vocab))
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as e:
        sys.exit(f"error: the checkpoint does not match this code's model:\n{e}")
    model.to(dev).eval()
    try:
        vocab.encode(prompt)
    except ValueError as e:
        sys.exit(f"error: the prompt has {e}")
    common.console_prints(checkpoint["chars"])
    print(f"checkpoint: iter {checkpoint['iter']}, val loss {checkpoint['val_loss']:.4f}, "
          f"data {checkpoint['data']['data']}", file=sys.stderr)
    if not prompt or interactive:
        first = vocab.decode([vocab.stoi.get("\n", 0)])
        print(f"an empty prompt starts from {first!r}, "
              + ("a newline" if first == "\n" else "the vocabulary's first character "
                 "(it has no newline)"), file=sys.stderr)

    if compare:
        runs = {True: [], False: []}  # use_cache -> [(seconds, ids)], three runs each
        try:
            for _ in range(3):
                for use_cache in (True, False):
                    text, ids, seconds = sample(model, vocab, prompt, dev, use_cache)
                    runs[use_cache].append((seconds, ids))
        except KeyboardInterrupt:
            print("\nCtrl-C: comparison stopped", file=sys.stderr)
            sys.exit(130)
        cached_s, plain_s = (sorted(runs[c])[1][0] for c in (True, False))  # the medians
        identical = all(ids == runs[True][0][1] for c in (True, False) for _, ids in runs[c])
        print(text)
        print(f"with cache: {max_new_tokens / cached_s:,.0f} tokens/s, "
              f"without: {max_new_tokens / plain_s:,.0f} tokens/s (median of 3), "
              f"{plain_s / cached_s:.1f}x faster; identical ids: {identical}")
        return {"cached_s": cached_s, "plain_s": plain_s, "identical": identical}
    prompts = stdin_lines() if interactive else [prompt]
    try:
        for text in prompts:
            try:
                print(sample(model, vocab, text, dev)[0], flush=True)
            except ValueError as e:  # in interactive mode a bad line is reported, then skipped
                print(f"error: the prompt has {e}", file=sys.stderr, flush=True)
            except KeyboardInterrupt:  # stop this sample; the next prompt is still answered
                print("\nCtrl-C: sample stopped", file=sys.stderr, flush=True)
                if not interactive:
                    sys.exit(130)
    except KeyboardInterrupt:  # while waiting for the next line
        print("\nCtrl-C: stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
