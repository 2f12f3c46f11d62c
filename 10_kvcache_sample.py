"""Stage 10: sampling with a key/value cache.

Generating one character at a time, the model of stage 09 recomputes the keys and values
of the whole context at every step, though only the newest position is new. Here each
attention layer keeps the keys and values its heads have computed (the KV cache), and each
step runs only the newest character through the model, attending to the cache. Two
controls shape the sampling: temperature and top-k.

The model is stage 09's, loaded from its checkpoint with its shape. Past block_size
characters the window jumps ahead by half (the cache is rebuilt from the last
block_size // 2 characters), with the cache or without, so both give the same characters:
--compare shows it, and times both.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

import common
from common import plumbing  # settings, Ctrl-C, progress, logs: what is not the lesson

# hyperparameters
prompt = ""  # the text to continue; empty starts a new line
max_new_tokens = 500
temperature = 1.0  # below 1 sharper, above 1 more random; 0 always takes the likeliest
top_k = 0  # sample among the k likeliest characters only; 0 means all of them
interactive = False  # read prompts from standard input until EOF
compare = False  # generate with and without the cache: speed, and are the ids the same?
preset = "cpu"  # the stage-09 preset that trained the model: cpu, quick, long, lecture, songci
device = "auto"  # auto, cpu, cuda or mps
threads = 1  # CPU threads; two are no faster for one character at a time
seed = 1337
out_dir = "out"  # where stage 09 wrote its checkpoint, ckpt.pt
# ------------
PRESETS = {  # stage 09's presets: the folder each one trains into
    "cpu": {},
    "quick": dict(out_dir="out/quick"),
    "long": dict(out_dir="out/long"),
    "lecture": dict(out_dir="out/lecture"),
    "songci": dict(out_dir="out/songci"),
}
block_size = n_embd = n_head = n_layer = dropout = tie_weights = None  # from the checkpoint


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


def sample(model, vocab, text, dev, use_cache=True):
    """text, continued with max_new_tokens characters."""
    torch.manual_seed(seed)
    start = vocab.encode(text) or [vocab.stoi.get("\n", 0)]  # empty: start a new line
    idx = torch.tensor([start], dtype=torch.long, device=dev)
    out = model.generate(idx, max_new_tokens, temperature, top_k, use_cache)
    return vocab.decode(out[0].tolist())


def compare_cache(model, vocab, text, dev):
    """Sample with the cache and without, three times each: how fast, and the same text?"""
    runs = {True: [], False: []}  # use_cache -> [(seconds, sample)]
    for _ in range(3):
        for use_cache in (True, False):
            t0 = plumbing.now(dev)
            out = sample(model, vocab, text, dev, use_cache)
            runs[use_cache].append((plumbing.now(dev) - t0, out))
    cached, plain = (sorted(runs[c])[1][0] for c in (True, False))  # the medians
    identical = len({out for c in runs for _, out in runs[c]}) == 1
    print(out)
    print(f"with cache: {max_new_tokens / cached:,.0f} tokens/s, without: "
          f"{max_new_tokens / plain:,.0f} tokens/s (median of 3), {plain / cached:.1f}x "
          f"faster; identical ids: {identical}")


def main(argv=None):
    given = plumbing.configure(globals(), argv, trains=False)
    torch.set_num_threads(threads)
    dev = plumbing.pick_device(device)
    model, chars = plumbing.load_checkpoint(globals(), LanguageModel, given)  # stage 09's
    vocab = common.Vocab(chars)
    model.to(dev).eval()

    for text in plumbing.prompts(prompt, interactive, vocab):  # --prompt, or each line typed
        with plumbing.stop_sample_on_ctrl_c(interactive):
            if compare:
                compare_cache(model, vocab, text, dev)
            else:
                print(sample(model, vocab, text, dev), flush=True)


if __name__ == "__main__":
    main()
