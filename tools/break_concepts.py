"""Does every idea of the ladder have a test that fails when the idea is broken?

For each one-line break below, copy the repository (the files git tracks, data/ linked in)
into a scratch folder, make the break there, and run the tests that guard that idea. A
break that leaves them green is an idea no test guards: the run says so and exits 1.

    python tools/break_concepts.py             # every break (a few minutes)
    python tools/break_concepts.py 08 10       # only the breaks of stages 08 and 10
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT, STAGES_T = "tests/test_gpt.py", "tests/test_stages.py"

# (file, the line as it is, the line broken, the idea it removes, tests that should fail)
BREAKS = [
    ("00_bigram_stats.py",
     "self.counts.index_put_((data[:-1], data[1:]), pairs, accumulate=True)", "pass",
     "counting the pairs", [f"{STAGES_T}::test_counts_are_what_the_trained_table_converges_to"]),
    ("00_bigram_stats.py",
     "probs = (self.counts + smoothing) / (self.counts + smoothing).sum(1, keepdim=True)",
     "probs = self.counts / self.counts.sum(1, keepdim=True)", "smoothing",
     [f"{STAGES_T}::test_short_run_reaches_target[00_bigram_stats]"]),
    ("01_bigram_torch.py", "        optimizer.step()", "        pass",
     "learning the table",
     [f"{STAGES_T}::test_short_run_reaches_target[01_bigram_torch]"]),
    ("01_bigram_torch.py",
     'group["lr"] = learning_rate * min(1.0, (1 - it / max_iters) / cooldown)',
     'group["lr"] = learning_rate', "the learning-rate cooldown",
     [f"{GPT}::test_learning_rate_is_held_then_cooled_to_zero[01]"]),
    ("02_position.py", "x = tok_emb + pos_emb  # (B, T, C)", "x = tok_emb  # (B, T, C)",
     "position embeddings",
     [f"{STAGES_T}::test_the_same_character_at_two_positions_gets_other_logits[02_position]"]),
    ("03_self_attention.py", "x = self.sa(x)  # (B, T, C)", "x = x  # (B, T, C)",
     "self-attention",
     [f"{STAGES_T}::test_every_layer_takes_part_in_the_forward_pass[03_self_attention]"]),
    ("03_self_attention.py",
     'wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # no peeking ahead',
     "wei = wei  # no peeking ahead", "the causal mask",
     [f"{STAGES_T}::test_future_tokens_do_not_change_earlier_logits[03_self_attention]"]),
    ("03_self_attention.py", "wei = q @ k.transpose(-2, -1) * k.size(-1) ** -0.5  # (B, T, T)",
     "wei = q @ k.transpose(-2, -1)  # (B, T, T)", "the 1/sqrt(hs) scale",
     [f"{STAGES_T}::test_head_equals_pytorch_attention[5-03_self_attention]"]),
    ("04_multihead.py", "out = torch.cat([h(x) for h in self.heads], dim=-1)",
     "out = torch.cat([self.heads[0](x) for h in self.heads], dim=-1)", "several heads",
     [f"{STAGES_T}::test_multihead_is_heads_concatenated[04_multihead]"]),
    ("05_feedforward.py", "x = self.ffwd(x)  # (B, T, C)", "x = x  # (B, T, C)",
     "the feed-forward layer",
     [f"{STAGES_T}::test_every_layer_takes_part_in_the_forward_pass[05_feedforward]"]),
    ("06_block.py", "self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(n_layer)])",
     "self.blocks = nn.Sequential(*[Block(n_embd, n_head) for _ in range(1)])",
     "stacking n_layer blocks",
     [f"{STAGES_T}::test_the_model_stacks_n_layer_blocks[06_block]"]),
    ("07_residual.py", "x = x + self.sa(x)", "x = self.sa(x)", "residual connections",
     [f"{STAGES_T}::test_a_block_whose_branches_add_nothing_passes_its_input_on[07_residual]"]),
    ("08_layernorm.py", "x = x + self.sa(self.ln1(x))", "x = x + self.sa(x)", "pre-norm LayerNorm",
     [f"{STAGES_T}::test_attention_and_feed_forward_read_normalised_vectors[08_layernorm]"]),
    ("09_dropout_scaled.py", "self.dropout = nn.Dropout(dropout)", "self.dropout = nn.Dropout(0.0)",
     "dropout in attention", [f"{GPT}::test_dropout_acts_in_training_only"]),
    ("09_dropout_scaled.py", "q, k, v = qkv.chunk(3, dim=1)  # each (B, nh, T, hs)",
     "k, q, v = qkv.chunk(3, dim=1)  # each (B, nh, T, hs)", "heads as a batch dimension",
     [f"{STAGES_T}::test_batched_heads_equal_pytorch_attention[5-09_dropout_scaled]"]),
    ("09_dropout_scaled.py", "weight_decay=weight_decay, fused=True)", "fused=True)",
     "weight decay", [f"{GPT}::test_learning_rate_is_held_then_cooled_to_zero[09]"]),
    ("09_dropout_scaled.py", 'enabled=precision == "bfloat16"):  # mixed precision',
     "enabled=False):  # mixed precision", "bfloat16 mixed precision",
     [f"{GPT}::test_training_multiplies_in_its_dtype_and_evaluation_in_float32[bfloat16]"]),
    ("09_dropout_scaled.py", "    checkpoint.offer(model, val_loss, run.iters, final=True)",
     "    pass", "the final checkpoint",
     [f"{GPT}::test_only_a_better_model_replaces_the_checkpoint"]),
    ("10_kvcache_sample.py",
     "logits, _ = self(idx[:, -1:], cache=cache)  # only the newest character",
     "logits, _ = self(idx[:, start:])  # only the newest character", "using the KV cache",
     [f"{GPT}::test_with_the_cache_each_step_runs_only_the_newest_character"]),
    ("10_kvcache_sample.py", "kv[0, :, :, P : P + T], kv[1, :, :, P : P + T] = k, v",
     "kv[0, :, :, P : P + T], kv[1, :, :, P : P + T] = v, k", "caching keys and values",
     [f"{GPT}::test_cached_logits_equal_full_forward"]),
    ("10_kvcache_sample.py", "start = idx.size(1) - block_size // 2",
     "start = idx.size(1) - block_size", "the window's jump by half",
     [f"{GPT}::test_context_policy_beyond_block_size"]),
    ("10_kvcache_sample.py", "logits = logits / temperature", "logits = logits",
     "temperature", [f"{GPT}::test_temperature_divides_the_logits"]),
    ("10_kvcache_sample.py", "logits = logits.masked_fill(logits < kth, float(\"-inf\"))",
     "logits = logits", "top-k", [f"{GPT}::test_top_k_only_samples_the_likeliest"]),
    ("10_kvcache_sample.py", "idx_next = logits.argmax(dim=-1, keepdim=True)  # (B, 1)",
     "idx_next = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)  # (B, 1)",
     "temperature 0 takes the likeliest", [f"{GPT}::test_context_policy_beyond_block_size"]),
]


def scratch_copy(folder):
    """The files git tracks, and data/'s text files linked in."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        os.makedirs(os.path.join(folder, os.path.dirname(name)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), os.path.join(folder, name))
    for name in os.listdir(os.path.join(ROOT, "data")):
        if name.endswith(".txt"):
            os.symlink(os.path.join(ROOT, "data", name), os.path.join(folder, "data", name))


def main(only):
    uncaught = 0
    for path, line, broken, idea, tests in BREAKS:
        if only and path[:2] not in only:
            continue
        with tempfile.TemporaryDirectory() as folder:
            scratch_copy(folder)
            target = os.path.join(folder, path)
            with open(target, encoding="utf-8") as f:
                text = f.read()
            if text.count(line) != 1:
                sys.exit(f"error: {path} has {text.count(line)} copies of {line!r}; update BREAKS")
            with open(target, "w", encoding="utf-8") as f:
                f.write(text.replace(line, broken))
            start = time.time()
            run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p",
                                  "no:cacheprovider", *tests], cwd=folder, capture_output=True,
                                 text=True)
        verdict = {0: "NOT CAUGHT", 1: "caught"}.get(run.returncode, f"error {run.returncode}")
        uncaught += verdict != "caught"
        print(f"{path[:2]} {idea:<34} {verdict:<10} ({time.time() - start:.0f} s) "
              f"{' '.join(t.split('::')[-1] for t in tests)}", flush=True)
    print("every break was caught" if not uncaught else f"{uncaught} not caught (or errors)")
    return 1 if uncaught else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
