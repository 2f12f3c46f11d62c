"""Stage 09's training run and checkpoint; stage 10's KV cache, sampling and errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch.nn import functional as F

import common
from conftest import ROOT, load_stage

TINY = ["--block_size=16", "--n_embd=32", "--n_head=4", "--n_layer=2", "--batch_size=8"]


def tiny_model(vocab_size=11, seed=0):
    m = load_stage("10_kvcache_sample")
    common.configure(vars(m), TINY + ["--dropout=0.0"])
    torch.manual_seed(seed)
    return m, m.LanguageModel(vocab_size).eval()


# ---------------------------------------------------------------- stage 09


def test_stage_09_short_run_reaches_target(out_args, tmp_path):
    # 200 steps measured 2.3734 on a 2-core CPU; the target leaves a margin
    _, result = load_stage("09_dropout_scaled").main(
        ["--max_iters=200", "--eval_interval=100", "--device=cpu"] + out_args)
    print(f"stage 09, 200 steps: val loss {result['val_loss']:.4f}")
    assert result["val_loss"] < 2.40
    assert result["iters"] == 200
    record = json.loads((tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8"))
    assert record["stage"] == "09_dropout_scaled" and record["block_size"] == 128


def test_lecture_preset_and_overrides_on_top():
    m = load_stage("09_dropout_scaled")
    given = common.configure(vars(m), ["--max_iters=7", "--preset=lecture"])
    assert (m.n_embd, m.n_head, m.n_layer, m.block_size, m.batch_size) == (384, 6, 6, 256, 64)
    assert (m.dropout, m.learning_rate, m.max_iters) == (0.2, 3e-4, 7)
    assert given["n_embd"] == 384 and given["max_iters"] == 7
    with pytest.raises(SystemExit, match=r"--preset=gpu: expected one of cpu, lecture"):
        common.configure(vars(m), ["--preset=gpu"])


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory):
    """A tiny stage-09 model, trained for a few steps and checkpointed."""
    out = tmp_path_factory.mktemp("ckpt")
    load_stage("09_dropout_scaled").main(TINY + ["--max_iters=30", "--eval_interval=10",
                                                 "--eval_iters=2", f"--out_dir={out}"])
    return out


def test_checkpoint_round_trip(checkpoint_dir):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    assert checkpoint["iter"] == 30 and checkpoint["config"]["n_embd"] == 32
    assert checkpoint["data"]["data"] == "shakespeare"
    assert checkpoint["data"]["sha256"] == common.DATASETS["shakespeare"]["sha256"]
    assert len(checkpoint["chars"]) == 65 and checkpoint["val_loss"] < 4.0
    m = load_stage("09_dropout_scaled")
    common.configure(vars(m), TINY)
    model = m.LanguageModel(65)
    model.load_state_dict(checkpoint["model"])
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, checkpoint["model"][name])
    assert not [f for f in os.listdir(checkpoint_dir) if f.startswith(".tmp")]


def test_ctrl_c_stops_cleanly_and_keeps_the_checkpoint(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "09_dropout_scaled.py", *TINY, "--max_iters=100000",
           "--eval_interval=5", "--eval_iters=1", f"--out_dir={tmp_path}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # wait until training is under way and checkpointed
            if line.startswith("step 10:"):
                break
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "Ctrl-C: stopping after this step" in out and "final: val loss" in out
    record = json.loads((tmp_path / "results.jsonl").read_text(encoding="utf-8"))
    checkpoint = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert 10 <= record["iters"] < 100000 and checkpoint["iter"] == record["iters"]


# ---------------------------------------------------------------- stage 10: the cache


def test_cached_logits_equal_full_forward():
    m, model = tiny_model()
    idx = torch.randint(11, (2, m.block_size))
    cache = {}
    logits, _ = model(idx[:, :3], cache=cache)  # fill with a 3-character prompt
    steps = [logits[:, -1]]
    for t in range(3, m.block_size):
        logits, _ = model(idx[:, t : t + 1], cache=cache)
        steps.append(logits[:, -1])
    full, _ = model(idx)
    for t, step in enumerate(steps, start=2):
        assert torch.allclose(step, full[:, t], atol=1e-5), t  # tolerance: float32 round-off


@pytest.mark.parametrize("prompt_len", [1, 5, 16, 20])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_cached_and_uncached_ids_are_identical(prompt_len, temperature):
    m, model = tiny_model()
    prompt = torch.randint(11, (1, prompt_len))
    runs = []
    for use_cache in (True, False):
        torch.manual_seed(1)
        runs.append(model.generate(prompt, 3 * m.block_size, temperature, 0, use_cache))
    assert torch.equal(runs[0], runs[1])


def test_context_policy_beyond_block_size():
    """Past block_size the window jumps ahead by half; checked against a plain loop."""
    m, model = tiny_model()
    prompt = torch.randint(11, (1, 4))
    out = model.generate(prompt, 40, temperature=0)
    idx, start, windows = prompt, 0, []
    for _ in range(40):
        if idx.size(1) - start > m.block_size:
            start = idx.size(1) - m.block_size // 2
        windows.append(idx.size(1) - start)
        logits, _ = model(idx[:, start:])
        idx = torch.cat((idx, logits[:, -1].argmax(-1, keepdim=True)), dim=1)
    assert torch.equal(out, idx)
    assert max(windows) == m.block_size and min(windows[m.block_size:]) == m.block_size // 2


def test_top_k_1_is_greedy():
    m, model = tiny_model()
    prompt = torch.randint(11, (2, 3))
    greedy = model.generate(prompt, 20, temperature=0)
    torch.manual_seed(5)
    assert torch.equal(model.generate(prompt, 20, temperature=1.0, top_k=1), greedy)


def test_top_k_only_samples_the_likeliest():
    m, model = tiny_model()
    prompt = torch.randint(11, (64, 3))
    logits, _ = model(prompt)
    top3 = torch.topk(logits[:, -1], 3).indices
    torch.manual_seed(0)
    out = model.generate(prompt, 1, temperature=1.0, top_k=3)
    assert (out[:, -1:] == top3).any(dim=1).all()


# ---------------------------------------------------------------- stage 10: the front-end


def run10(checkpoint_dir, *args):
    return load_stage("10_kvcache_sample").main([f"--out_dir={checkpoint_dir}", *args])


def test_compare_reports_identical_ids(checkpoint_dir, capsys):
    result = run10(checkpoint_dir, "--compare=true", "--max_new_tokens=40", "--prompt=ROMEO:")
    assert result["identical"] is True
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:") and "identical ids: True" in out and "x faster" in out


def test_sampling_is_seeded(checkpoint_dir, capsys):
    texts = []
    for seed in (3, 3, 4):
        run10(checkpoint_dir, "--max_new_tokens=60", f"--seed={seed}", "--prompt=KING")
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1] != texts[2]
    assert texts[0].startswith("KING") and len(texts[0]) == len("KING") + 60 + 1


def test_interactive_reads_prompts_until_eof(checkpoint_dir):
    proc = subprocess.run(
        [sys.executable, "10_kvcache_sample.py", f"--out_dir={checkpoint_dir}",
         "--interactive=true", "--max_new_tokens=5", "--temperature=0"],
        cwd=ROOT, input="First\r\nBad é\nSecond\n", capture_output=True, text=True,
        encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("First") and any(line.startswith("Second") for line in lines)
    assert "error: the prompt has characters not in the vocabulary: 'é'" in proc.stderr


def test_no_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(SystemExit, match=r"no checkpoint at .*ckpt.pt. Train one first with\n"
                                         r"  python 09_dropout_scaled.py\n\(about 10 minutes"):
        run10(tmp_path)


def test_unknown_prompt_characters_are_named(checkpoint_dir):
    with pytest.raises(SystemExit, match=r"the prompt has characters not in the vocabulary: "
                                         r"'é' \(U\+00E9\), '春' \(U\+6625\)"):
        run10(checkpoint_dir, "--prompt=café 春")


def test_negative_temperature_is_refused(checkpoint_dir):
    with pytest.raises(SystemExit, match=r"--temperature and --top_k cannot be negative"):
        run10(checkpoint_dir, "--temperature=-1")


def test_contradicting_override_is_refused(checkpoint_dir):
    with pytest.raises(SystemExit, match=r"the checkpoint's model has n_embd=32, but n_embd=64"):
        run10(checkpoint_dir, "--n_embd=64")
    with pytest.raises(SystemExit, match=r"the checkpoint's model has block_size=16, but block_size=256"):
        run10(checkpoint_dir, "--preset=lecture")


def test_checkpoint_from_other_code_is_refused(checkpoint_dir, tmp_path):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    del checkpoint["model"]["ln_f.weight"]
    torch.save(checkpoint, tmp_path / "ckpt.pt")
    with pytest.raises(SystemExit, match=r"(?s)the checkpoint does not match this code's model:\n.*ln_f.weight"):
        run10(tmp_path)
    (tmp_path / "ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match=r"ckpt.pt is not a checkpoint this code can read"):
        run10(tmp_path)
