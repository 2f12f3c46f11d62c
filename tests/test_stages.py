"""Every stage learns, and its attention is what it claims to be."""

import json
import math

import pytest
import torch
from torch.nn import functional as F

import common
import plumbing
from conftest import ATTENTION_STAGES, STAGES, load_stage, stage_with_a_model

# A short run of each stage's real main() must reach its target val loss (whole split).
# Each target is the loss these overrides measured on a 2-core CPU (AMD EPYC, PyTorch 2.13,
# beside it) plus a margin of about 0.02 for other machines; from 03 on every target is
# below the counting model's 2.48, so the model must be using context.
SHORT_RUNS = {
    "00_bigram_stats": ([], 2.49),  # 2.4819
    "01_bigram_torch": (["--max_iters=600"], 2.61),  # 2.5826
    "02_position": (["--max_iters=1500", "--eval_interval=500"], 2.59),  # 2.5645
    "03_self_attention": (["--max_iters=3000", "--eval_interval=500"], 2.45),  # 2.4276
    "04_multihead": (["--max_iters=1500", "--eval_interval=500"], 2.47),  # 2.4482
    "05_feedforward": (["--max_iters=1500", "--eval_interval=500"], 2.44),  # 2.4182
    "06_block": (["--max_iters=3000", "--eval_interval=500"], 2.47),  # 2.4458
    "07_residual": (["--max_iters=1000", "--eval_interval=500"], 2.26),  # 2.2382
    "08_layernorm": (["--max_iters=1000", "--eval_interval=500"], 2.26),  # 2.2371
}
LOG_KEYS = ["stage", "val_loss", "train_loss", "iters", "seconds", "params", "tokens_per_s",
            "device", "seed", "data", "block_size"]


def test_every_training_stage_has_a_short_run():
    assert [s for s in STAGES if s < "09"] == list(SHORT_RUNS)


@pytest.mark.parametrize("name", list(SHORT_RUNS))
def test_short_run_reaches_target(name, out_args, tmp_path, shakespeare):
    overrides, target = SHORT_RUNS[name]
    _, result = load_stage(name).main(overrides + ["--device=cpu"] + out_args)
    print(f"{name}: val loss {result['val_loss']:.4f} (target {target})")
    assert result["val_loss"] < target
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[-1])
    assert len(lines) == 1 and all(key in record for key in LOG_KEYS)
    assert record["stage"] == name and record["val_loss"] == result["val_loss"]
    assert record["device"] == "cpu" and record["data"] == "shakespeare"
    if name != "00_bigram_stats":  # the training curve: both estimates at every evaluation
        steps = [step for step, _, _ in record["curve"]]
        assert steps == list(range(0, record["iters"], record["eval_interval"]))
        assert all(0 < loss < 10 for _, train, val in record["curve"] for loss in (train, val))


def test_same_seed_same_losses(out_args, shakespeare):
    runs = [load_stage("04_multihead").main(["--max_iters=100", "--device=cpu"] + out_args)[1]
            for _ in range(2)]
    assert runs[0]["val_loss"] == runs[1]["val_loss"]
    assert runs[0]["train_loss"] == runs[1]["train_loss"]


def test_own_text_file(tmp_path, out_args):
    path = tmp_path / "abc.txt"
    path.write_text("abcd\n" * 2000, encoding="utf-8")
    _, result = load_stage("03_self_attention").main(
        [f"--data={path}", "--max_iters=300", "--eval_interval=100", "--device=cpu"] + out_args)
    assert result["data"] == str(path)
    assert result["val_loss"] < 0.1 * math.log(5)  # the pattern is trivial to predict


@pytest.mark.parametrize("name", ATTENTION_STAGES)
def test_future_tokens_do_not_change_earlier_logits(name):
    m = stage_with_a_model(name)
    torch.manual_seed(0)
    model = m.LanguageModel(20).eval()
    idx = torch.randint(20, (2, m.block_size))
    changed = idx.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % 20
    before, _ = model(idx)
    after, _ = model(changed)
    assert torch.allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not torch.allclose(before[:, 5:], after[:, 5:])  # the change is visible later


LOOPED = [s for s in ATTENTION_STAGES if s < "09"]  # a Head module per head
BATCHED = [s for s in ATTENTION_STAGES if s >= "09"]  # heads as a batch dimension


@pytest.mark.parametrize("name", LOOPED)
@pytest.mark.parametrize("T", [1, 5, None])
def test_head_equals_pytorch_attention(name, T):
    m = load_stage(name)
    T = T or m.block_size
    torch.manual_seed(0)
    head = m.Head(8).eval()
    x = torch.randn(3, T, m.n_embd)
    expected = F.scaled_dot_product_attention(
        head.query(x), head.key(x), head.value(x), is_causal=True)
    assert torch.allclose(head(x), expected, atol=1e-6)


@pytest.mark.parametrize("name", [s for s in LOOPED if s >= "04"])
def test_multihead_is_heads_concatenated(name):
    m = load_stage(name)
    torch.manual_seed(0)
    mha = m.MultiHeadAttention(m.n_head, m.n_embd // m.n_head).eval()
    x = torch.randn(2, m.block_size, m.n_embd)
    heads = [F.scaled_dot_product_attention(h.query(x), h.key(x), h.value(x), is_causal=True)
             for h in mha.heads]
    expected = torch.cat(heads, dim=-1)
    if hasattr(mha, "proj"):
        expected = mha.proj(expected)
    assert torch.allclose(mha(x), expected, atol=1e-6)


@pytest.mark.parametrize("name", BATCHED)
@pytest.mark.parametrize("T", [1, 5, 16])
def test_batched_heads_equal_pytorch_attention(name, T):
    m = stage_with_a_model(name)
    m.block_size, m.n_embd, m.n_head = 16, 32, 4
    torch.manual_seed(0)
    mha = m.MultiHeadAttention(m.n_head, m.n_embd // m.n_head).eval()
    x = torch.randn(3, T, m.n_embd)
    q, k, v = mha.qkv(x).split(m.n_embd, dim=-1)  # each (B, T, C): the heads side by side
    heads = [F.scaled_dot_product_attention(q[..., i:i + 8], k[..., i:i + 8], v[..., i:i + 8],
                                            is_causal=True) for i in range(0, m.n_embd, 8)]
    expected = mha.proj(torch.cat(heads, dim=-1))
    assert torch.allclose(mha(x), expected, atol=1e-6)


def test_counts_are_what_the_trained_table_converges_to(shakespeare):
    text = shakespeare
    vocab = common.Vocab(text)
    train, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
    counting = load_stage("00_bigram_stats")
    counting.smoothing = 0.0  # the maximum-likelihood table, which gradient descent approaches
    counter = counting.LanguageModel(len(vocab))
    counter.fit(train)
    every_char = torch.arange(len(vocab)).view(1, -1)
    counted = F.softmax(counter(every_char)[0][0], dim=-1)

    table = load_stage("01_bigram_torch")
    torch.manual_seed(0)
    model = table.LanguageModel(len(vocab))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(300):  # full-batch cross-entropy over all train pairs, weighted by count
        logits, _ = model(every_char)
        loss = -(counter.counts * F.log_softmax(logits[0], dim=-1)).sum() / counter.counts.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    learned = F.softmax(model(every_char)[0][0], dim=-1).detach()
    frequent = counter.counts.sum(1) > 1000
    assert frequent.sum() > 30
    assert (learned[frequent] - counted[frequent]).abs().max() < 0.01


@pytest.mark.parametrize("name", [s for s in STAGES if s != "10_kvcache_sample"])
def test_generate_reads_the_last_block_size_characters(name):
    """generate feeds the model the last block_size characters and samples the next one
    from the last position's logits (stage 10's window policy has tests of its own)."""
    m = stage_with_a_model(name)
    model = m.LanguageModel(11).eval()
    seen = []

    def forward(idx, targets=None):  # a model whose next character depends on every one
        seen.append(idx.clone())
        logits = torch.full((*idx.shape, 11), -1e9)
        logits[:, -1].scatter_(1, (idx.sum(dim=1, keepdim=True) * 7 + 3) % 11, 0.0)
        return logits, None

    model.forward = forward
    start = torch.tensor([[1], [2]])
    out = model.generate(start, max_new_tokens=2 * m.block_size + 3)
    assert out.shape == (2, 1 + 2 * m.block_size + 3) and torch.equal(out[:, :1], start)
    for t in range(1, out.size(1)):
        window = out[:, max(0, t - m.block_size):t]
        assert torch.equal(seen[t - 1], window), t  # the model saw exactly this window
        assert torch.equal(out[:, t], (window.sum(dim=1) * 7 + 3) % 11), t


@pytest.mark.parametrize("name", [s for s in STAGES if "04" <= s < "10"])  # 10: the checkpoint
def test_heads_that_do_not_divide_the_width_are_refused(name):
    with pytest.raises(SystemExit) as e:
        load_stage(name).main(["--n_embd=30", "--n_head=4"])
    assert str(e.value) == ("error: --n_embd=30 is not divisible by --n_head=4; "
                            "each head gets n_embd // n_head channels")


def test_a_clock_that_did_not_move_divides_nothing_by_zero(out_args, monkeypatch, shakespeare):
    monkeypatch.setattr(plumbing.time, "perf_counter", lambda: 42.0)  # Windows' coarse tick
    _, result = load_stage("00_bigram_stats").main(out_args)
    assert result["seconds"] == 0 and math.isfinite(result["tokens_per_s"])


# ---------------------------------------------------------------- each stage's idea, at work


@pytest.mark.parametrize("name", [s for s in STAGES if s >= "01"])
def test_every_layer_takes_part_in_the_forward_pass(name):
    """A layer the model builds but never calls (a step of the idea left out) fails here."""
    m = stage_with_a_model(name)
    torch.manual_seed(0)
    model = m.LanguageModel(20).eval()
    layers = {module for module in model.modules() if list(module.parameters(recurse=False))}
    called = set()
    hooks = [layer.register_forward_hook(lambda module, *_: called.add(module)) for layer in layers]
    model(torch.randint(20, (2, min(m.block_size, 8))))
    for hook in hooks:
        hook.remove()
    assert layers == called, [type(layer).__name__ for layer in layers - called]


@pytest.mark.parametrize("name", [s for s in STAGES if s >= "02"])
def test_the_same_character_at_two_positions_gets_other_logits(name):
    m = stage_with_a_model(name)
    torch.manual_seed(0)
    model = m.LanguageModel(20).eval()
    logits, _ = model(torch.full((1, min(m.block_size, 8)), 3))
    assert not torch.allclose(logits[0, 1], logits[0, 2])  # only its position tells them apart


@pytest.mark.parametrize("name", [s for s in STAGES if s >= "06"])
def test_the_model_stacks_n_layer_blocks(name):
    m = stage_with_a_model(name)
    sizes = []
    for n_layer in (1, 2, 3):
        m.n_layer = n_layer
        model = m.LanguageModel(20)
        assert len(model.blocks) == n_layer
        sizes.append(sum(p.numel() for p in model.parameters()))
    block = sum(p.numel() for p in model.blocks[0].parameters())
    assert sizes[1] - sizes[0] == sizes[2] - sizes[1] == block > 0


@pytest.mark.parametrize("name", [s for s in STAGES if s >= "07"])
def test_a_block_whose_branches_add_nothing_passes_its_input_on(name):
    """Residual connections: x + f(x) is x when f adds nothing."""
    m = stage_with_a_model(name)
    torch.manual_seed(0)
    block = m.LanguageModel(20).blocks[0].eval()
    last = [module for module in block.ffwd.modules() if isinstance(module, torch.nn.Linear)][-1]
    with torch.no_grad():
        for layer in (block.sa.proj, last):  # the branches' projections back into the stream
            layer.weight.zero_()
            layer.bias.zero_()
    x = torch.randn(2, 5, m.n_embd)
    assert torch.equal(block(x), x)


@pytest.mark.parametrize("name", [s for s in STAGES if s >= "08"])
def test_attention_and_feed_forward_read_normalised_vectors(name):
    """Pre-norm: what each branch reads has zero mean and unit variance at every position
    (LayerNorm's scale and shift start at 1 and 0)."""
    m = stage_with_a_model(name)
    torch.manual_seed(0)
    model = m.LanguageModel(20).eval()
    read = []
    for block in model.blocks:
        for branch in (block.sa, block.ffwd):
            branch.register_forward_hook(lambda module, inputs, output: read.append(inputs[0]))
    model(torch.randint(20, (2, 8)))
    assert len(read) == 2 * m.n_layer
    for x in read:
        assert torch.allclose(x.mean(-1), torch.zeros(()), atol=1e-5)
        assert torch.allclose(x.var(-1, unbiased=False), torch.ones(()), atol=1e-3)
