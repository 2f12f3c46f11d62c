"""Stage 09's training run and checkpoint; stage 10's KV cache, sampling and errors."""

import io
import json
import os
import signal
import subprocess
import sys

import pytest
import torch

import common
import plumbing
from conftest import ROOT, load_stage

TINY = ["--block_size=16", "--n_embd=32", "--n_head=4", "--n_layer=2", "--batch_size=8"]


def tiny_model(vocab_size=11, seed=0):
    m = load_stage("10_kvcache_sample")
    vars(m).update(block_size=16, n_embd=32, n_head=4, n_layer=2, dropout=0.0, tie_weights=False)
    torch.manual_seed(seed)
    return m, m.LanguageModel(vocab_size).eval()


# ---------------------------------------------------------------- stage 09


def test_stage_09_short_run_reaches_target(shakespeare, out_args, tmp_path):
    # 200 steps, one progress estimate (at step 0), measured 2.3663 in float32, 2.3680 in
    # bfloat16 on a 2-core CPU; the target leaves a margin
    _, result = load_stage("09_dropout_scaled").main(
        ["--max_iters=200", "--eval_interval=200", "--device=cpu"] + out_args)
    print(f"stage 09, 200 steps: val loss {result['val_loss']:.4f}")
    assert result["val_loss"] < 2.40
    assert result["iters"] == 200
    record = json.loads((tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8"))
    assert record["stage"] == "09_dropout_scaled" and record["block_size"] == 128


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_training_multiplies_in_its_dtype_and_evaluation_in_float32(tmp_path, shakespeare,
                                                                     dtype):
    seen = set()  # (training?, dtype of a Linear's output)

    def record(module, inputs, output):
        if isinstance(module, torch.nn.Linear):
            seen.add((module.training, output.dtype))

    handle = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        _, result = train09(tmp_path, "--max_iters=3", "--eval_interval=100", "--device=cpu",
                            f"--dtype={dtype}")
    finally:
        handle.remove()
    assert seen == {(True, getattr(torch, dtype)), (False, torch.float32)}
    assert result["precision"] == dtype and result["dtype"] == dtype


def test_lecture_preset_and_overrides_on_top():
    m = load_stage("09_dropout_scaled")
    given = plumbing.configure(vars(m), ["--max_iters=7", "--preset=lecture"])
    assert (m.n_embd, m.n_head, m.n_layer, m.block_size, m.batch_size) == (384, 6, 6, 256, 64)
    assert (m.dropout, m.learning_rate, m.max_iters) == (0.2, 3e-4, 7)
    assert given["n_embd"] == 384 and given["max_iters"] == 7
    with pytest.raises(SystemExit, match=r"--preset=gpu: expected one of cpu, quick, long, lecture, songci"):
        plumbing.configure(vars(m), ["--preset=gpu"])
    m = load_stage("09_dropout_scaled")
    plumbing.configure(vars(m), ["--preset=quick"])
    assert (m.block_size, m.max_iters, m.batch_size, m.n_embd) == (64, 1400, 16, 128)
    nine = load_stage("09_dropout_scaled")
    folders = {name: preset.get("out_dir", nine.out_dir) for name, preset in nine.PRESETS.items()}
    ten = load_stage("10_kvcache_sample")  # --preset=NAME samples from where 09 trained it
    assert {name: preset.get("out_dir", ten.out_dir) for name, preset in ten.PRESETS.items()} \
        == folders and len(set(folders.values())) == len(folders)


def train09(out_dir, *args, **kwargs):
    """A tiny stage-09 run into out_dir; returns (module, result)."""
    m = load_stage("09_dropout_scaled")
    _, result = m.main(TINY + ["--eval_iters=2", f"--out_dir={out_dir}", *args])
    return m, result


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, shakespeare):
    """A tiny stage-09 model, trained for a few steps and checkpointed at the end (its one
    evaluation is at step 0, and the untrained model is never written)."""
    out = tmp_path_factory.mktemp("ckpt")
    train09(out, "--max_iters=30", "--eval_interval=100")
    return out


def test_checkpoint_round_trip(checkpoint_dir, shakespeare):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    assert checkpoint["iter"] == 30 and checkpoint["config"]["n_embd"] == 32
    assert checkpoint["data"]["data"] == "shakespeare"
    assert checkpoint["data"]["sha256"] == plumbing.DATASETS["shakespeare"]["sha256"]
    assert len(checkpoint["chars"]) == 65 and checkpoint["val_loss"] < 4.0
    m = load_stage("09_dropout_scaled")
    plumbing.configure(vars(m), TINY)
    model = m.LanguageModel(65)
    model.load_state_dict(checkpoint["model"])
    vocab = common.Vocab(checkpoint["chars"])
    _, val = common.train_val_split(torch.tensor(vocab.encode(shakespeare)))
    # the restored model scores exactly what the trained one scored when it was saved
    assert abs(common.evaluate(model, val, m.block_size, "cpu") - checkpoint["val_loss"]) < 1e-6
    assert not [f for f in os.listdir(checkpoint_dir) if f.startswith(".tmp")]


def test_only_a_better_model_replaces_the_checkpoint(tmp_path, shakespeare, capsys):
    train09(tmp_path, "--max_iters=40", "--eval_interval=20")
    first = (tmp_path / "ckpt.pt").read_bytes()
    kept = torch.load(tmp_path / "ckpt.pt", weights_only=True)["val_loss"]
    capsys.readouterr()
    _, result = train09(tmp_path, "--max_iters=3")  # a quick trial: worse
    out = capsys.readouterr().out
    assert f"ckpt.pt holds a model with val loss {kept:.4f}: only a better one replaces it" in out
    assert f"checkpoint: kept {tmp_path / 'ckpt.pt'}, whose val loss {kept:.4f} this model " \
           f"does not beat" in out
    assert result["val_loss"] > kept and (tmp_path / "ckpt.pt").read_bytes() == first
    _, result = train09(tmp_path, "--max_iters=150", "--eval_interval=1000")  # better
    assert f"checkpoint: wrote {tmp_path / 'ckpt.pt'} (step 150, val loss " in capsys.readouterr().out
    replaced = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert replaced["iter"] == 150 and replaced["val_loss"] == result["val_loss"] < kept


def test_tied_weights_are_one_table_and_stage_10_rebuilds_them(tmp_path, shakespeare, capsys):
    m, result = train09(tmp_path, "--max_iters=30", "--eval_interval=100", "--tie_weights")
    model = m.LanguageModel(65)
    assert model.lm_head.weight is model.token_embedding_table.weight
    untied = load_stage("09_dropout_scaled")
    plumbing.configure(vars(untied), TINY)
    assert result["params"] == sum(p.numel() for p in untied.LanguageModel(65).parameters()) - 65 * 32
    checkpoint = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert checkpoint["config"]["tie_weights"] is True
    ten = load_stage("10_kvcache_sample")
    ten.main([f"--out_dir={tmp_path}", "--compare=true", "--max_new_tokens=20"])
    assert "identical ids: True" in capsys.readouterr().out
    assert ten.tie_weights is True  # from the checkpoint
    restored = ten.LanguageModel(65)
    restored.load_state_dict(checkpoint["model"])
    assert restored.lm_head.weight is restored.token_embedding_table.weight
    _, val = common.train_val_split(torch.tensor(common.Vocab(shakespeare).encode(shakespeare)))
    assert abs(common.evaluate(restored, val, ten.block_size, "cpu") - checkpoint["val_loss"]) < 1e-6


def test_the_untrained_model_is_never_written(tmp_path, shakespeare):
    train09(tmp_path, "--max_iters=0")
    assert (tmp_path / "results.jsonl").exists() and not (tmp_path / "ckpt.pt").exists()


def test_periodic_checkpoints_hold_the_model_at_that_step(tmp_path, shakespeare, monkeypatch):
    written = []
    real = plumbing.write_atomic
    monkeypatch.setattr(plumbing, "write_atomic", lambda path, raw: written.append(raw) or
                        real(path, raw))
    m, result = train09(tmp_path, "--max_iters=60", "--eval_interval=20")
    saved = [torch.load(io.BytesIO(raw), weights_only=True) for raw in written]
    periodic = [c for c in saved if c["iter"] < 60]
    assert periodic and all(c["iter"] in (20, 40) for c in periodic)  # never step 0
    _, val = common.train_val_split(torch.tensor(common.Vocab(shakespeare).encode(shakespeare)))
    for c in saved:  # each one's val loss is its model's whole-split loss, not an estimate
        model = m.LanguageModel(65)
        model.load_state_dict(c["model"])
        assert abs(common.evaluate(model, val, m.block_size, "cpu") - c["val_loss"]) < 1e-6
    losses = [c["val_loss"] for c in saved]
    assert losses == sorted(losses, reverse=True)  # each one beat the one before
    for c in saved:
        assert c["config"] == {**plumbing.hyperparameters(vars(m)), "max_iters": 60}
        assert c["chars"] == "".join(common.Vocab(shakespeare).chars)
        assert c["data"] == {"data": "shakespeare", "sha256": result["data_sha256"]}
        assert set(c["model"]) == set(m.LanguageModel(65).state_dict())


def test_a_checkpoint_of_other_data_or_code_is_never_overwritten(tmp_path, shakespeare):
    own = tmp_path / "mine.txt"
    own.write_text("abcd\n" * 2000, encoding="utf-8")
    train09(tmp_path, "--max_iters=10", "--eval_interval=100")
    before = (tmp_path / "ckpt.pt").read_bytes()
    with pytest.raises(SystemExit) as e:
        train09(tmp_path, f"--data={own}", "--max_iters=10")
    assert str(e.value) == (
        f"error: {tmp_path / 'ckpt.pt'} holds a model of other data (shakespeare), whose val "
        f"loss says nothing about this run's; keep it and train into another folder, e.g. "
        f"--out_dir={tmp_path / 'mine'}")
    assert (tmp_path / "ckpt.pt").read_bytes() == before
    (tmp_path / "ckpt.pt").write_bytes(b"someone else's file")
    with pytest.raises(SystemExit, match=r"ckpt.pt is not a checkpoint of this code \(.*\); "
                                         r"move it away, or train into another folder"):
        train09(tmp_path, "--max_iters=10")
    assert (tmp_path / "ckpt.pt").read_bytes() == b"someone else's file"


def test_a_checkpoint_that_cannot_be_written_does_not_stop_training(tmp_path, shakespeare,
                                                                    monkeypatch, capsys):
    def held_open(path, raw):  # what Windows raises while another program has the file open
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(plumbing, "write_atomic", held_open)
    _, result = train09(tmp_path, "--max_iters=30", "--eval_interval=10")
    out = capsys.readouterr().out
    assert f"warning: could not write {tmp_path / 'ckpt.pt'} (Permission denied); is another " \
           f"program holding it open? Training goes on if it was under way" in out
    assert "checkpoint: kept" not in out and "checkpoint: wrote" not in out
    assert result["iters"] == 30 and "final: val loss" in out
    assert json.loads((tmp_path / "results.jsonl").read_text(encoding="utf-8"))["iters"] == 30


@pytest.mark.parametrize("stage", [f"0{n}" for n in range(1, 10)])
def test_learning_rate_is_held_then_cooled_to_zero(stage, tmp_path, shakespeare, monkeypatch):
    from conftest import STAGES
    name = next(s for s in STAGES if s.startswith(stage))
    lrs, decays = [], set()
    step = torch.optim.AdamW.step
    monkeypatch.setattr(torch.optim.AdamW, "step",
                        lambda self, *a, **k: lrs.append(self.param_groups[0]["lr"]) or
                        decays.add(self.param_groups[0]["weight_decay"]) or step(self, *a, **k))
    tiny = TINY if stage == "09" else []
    load_stage(name).main(tiny + ["--max_iters=10", "--eval_interval=10", "--eval_iters=1",
                                  "--learning_rate=0.01", f"--out_dir={tmp_path}"])
    assert len(lrs) == 10
    assert lrs[0] == 0.01 and lrs[:9] == pytest.approx([0.01] * 9)  # held for 80% (cooldown 0.2)
    assert lrs[9] == pytest.approx(0.005)  # then linearly down: half-way at the last step
    assert decays == {0.1 if stage == "09" else 0.01}  # stage 09's weight decay; AdamW's before


def test_dropout_acts_in_training_only():
    m = load_stage("09_dropout_scaled")
    plumbing.configure(vars(m), TINY + ["--dropout=0.5"])
    torch.manual_seed(0)
    model = m.LanguageModel(11)
    idx = torch.randint(11, (2, 16))
    model.train()
    assert not torch.equal(model(idx)[0], model(idx)[0])  # a different mask every time
    x = torch.randn(2, 16, 32)
    for branch in (model.blocks[0].sa, model.blocks[0].ffwd):  # in attention and after the MLP
        assert not torch.equal(branch(x), branch(x))
    model.eval()
    assert torch.equal(model(idx)[0], model(idx)[0])
    data = torch.randint(11, (500,))
    model.train()
    torch.manual_seed(1)
    losses = m.estimate_loss(model, {"val": data}, "cpu")
    assert model.training  # estimate_loss evaluates in eval mode, then puts training back
    torch.manual_seed(1)
    model.eval()
    assert m.estimate_loss(model, {"val": data}, "cpu") == losses


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to a process")
def test_ctrl_c_stops_cleanly_and_keeps_the_checkpoint(tmp_path, shakespeare):
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
    assert 10 <= record["iters"] < 100000 and checkpoint["iter"] in (5, 10, record["iters"])
    assert checkpoint["val_loss"] < 4.2  # trained, not the untrained model


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


def test_with_the_cache_each_step_runs_only_the_newest_character():
    m, model = tiny_model()
    lengths = {True: [], False: []}
    real = model.forward
    for use_cache in (True, False):
        model.forward = lambda idx, *a, **k: lengths[use_cache].append(idx.size(1)) or real(
            idx, *a, **k)
        model.generate(torch.randint(11, (1, 5)), 2 * m.block_size, temperature=0,
                       use_cache=use_cache)
    refills = [i for i, n in enumerate(lengths[True]) if n > 1]  # the prompt, then each jump
    assert refills == [0, 12, 21, 30]  # 5 + 12 = 17 > 16: the window jumps, then every 8 more
    assert lengths[True].count(1) == 2 * m.block_size - len(refills)
    assert min(lengths[False][1:]) > 1  # without the cache, the whole window every step


def test_temperature_divides_the_logits(monkeypatch):
    m, model = tiny_model()
    prompt = torch.randint(11, (3, 4))
    logits = model(prompt)[0][:, -1]
    seen = []
    real = torch.multinomial
    monkeypatch.setattr(torch, "multinomial", lambda probs, **k: seen.append(probs) or real(
        probs, **k))
    for temperature in (0.5, 2.0):
        model.generate(prompt, 1, temperature=temperature)
        assert torch.allclose(seen[-1], torch.softmax(logits / temperature, dim=-1), atol=1e-6)


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
    run10(checkpoint_dir, "--compare=true", "--max_new_tokens=40", "--prompt=ROMEO:")
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
        cwd=ROOT, input="First\r\nBad é\nSecond\n".encode("utf-8") + b"\xff\nThird\n",
        capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    assert lines[0].startswith("First") and any(line.startswith("Second") for line in lines)
    assert any(line.startswith("Third") for line in lines)  # after a line that is not UTF-8
    err = proc.stderr.decode("utf-8")
    assert err.splitlines()[1].startswith("Type a prompt and press Enter; an empty line starts "
                                          "from a newline. Ctrl-D ends.")  # after the checkpoint
    assert err.count("> ") == 5  # a cue before each prompt read (4), and before the end
    assert "error: the prompt has characters not in the vocabulary: 'é'" in err
    assert "error: input line 4 is not UTF-8 text (byte 0: invalid start byte); skipped" in err


def test_no_checkpoint_says_how_to_make_one(tmp_path, monkeypatch):
    with pytest.raises(SystemExit) as e:
        run10(tmp_path, "--preset=songci")
    assert str(e.value) == (
        f"error: no checkpoint at {tmp_path / 'ckpt.pt'}. Train one first with\n"
        f"  python 09_dropout_scaled.py --preset=songci --out_dir={tmp_path}\n"
        f"(README.md says how long each takes).")
    monkeypatch.chdir(tmp_path)  # out/ holds nothing: a quick model is offered beside
    with pytest.raises(SystemExit) as e:
        load_stage("10_kvcache_sample").main([])
    assert str(e.value) == (
        f"error: no checkpoint at {os.path.join('out', 'ckpt.pt')}. Train one first with\n"
        f"  python 09_dropout_scaled.py\n"
        f"or, in about a minute (a rougher model),\n"
        f"  python 09_dropout_scaled.py --preset=quick\n"
        f"  python 10_kvcache_sample.py --preset=quick\n"
        f"(README.md says how long each takes).")


def test_unknown_prompt_characters_are_named(checkpoint_dir):
    with pytest.raises(SystemExit, match=r"the prompt has characters not in the vocabulary: "
                                         r"'é' \(U\+00E9\), '春' \(U\+6625\)"):
        run10(checkpoint_dir, "--prompt=café 春")


@pytest.mark.parametrize("override, message", [
    ("--temperature=-1", r"--temperature must be a number, at least 0, got -1.0"),
    ("--temperature=nan", r"--temperature must be a number, at least 0, got nan"),
    ("--top_k=-1", r"--top_k must be at least 0, got -1"),
    ("--n_embd=64", r"^error: --n_embd is a setting of training; sampling takes the model, its "
                    r"shape and its data from the checkpoint \(choose one with --preset or "
                    r"--out_dir\)$"),
    ("--n_head=3", r"^error: --n_head is a setting of training"),
    ("--max_iters=9", r"^error: --max_iters is a setting of training"),
    ("--dropout=0.1", r"^error: --dropout is a setting of training"),
    ("--dtype=bfloat16", r"^error: --dtype is a setting of training"),
    ("--data=songci", r"^error: --data is a setting of training"),
    ("--tie_weights", r"^error: --tie_weights is a setting of training"),
    ("--prompt_len=3", r"^error: unknown option --prompt_len; known: --prompt --max_new_tokens"),
])
def test_settings_sampling_cannot_use_are_refused(checkpoint_dir, override, message):
    with pytest.raises(SystemExit, match=message):
        run10(checkpoint_dir, override)


def test_checkpoint_from_other_code_is_refused(checkpoint_dir, tmp_path):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    del checkpoint["model"]["ln_f.weight"]
    torch.save(checkpoint, tmp_path / "ckpt.pt")
    with pytest.raises(SystemExit, match=r"(?s)the checkpoint does not match this code's model:\n.*ln_f.weight"):
        run10(tmp_path)
    (tmp_path / "ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match=r"ckpt.pt is not a checkpoint this code can read"):
        run10(tmp_path)


def test_a_partial_or_foreign_checkpoint_is_named(checkpoint_dir, tmp_path):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    del checkpoint["val_loss"], checkpoint["config"]["n_head"]
    torch.save(checkpoint, tmp_path / "ckpt.pt")
    with pytest.raises(SystemExit) as e:
        run10(tmp_path)
    assert str(e.value) == (f"error: {tmp_path / 'ckpt.pt'} is not a checkpoint of stage 09: "
                            f"it has no val_loss, config/n_head")
    torch.save({"state_dict": checkpoint["model"], "epoch": 3}, tmp_path / "ckpt.pt")  # elsewhere's
    with pytest.raises(SystemExit, match=r"it has no model, chars, iter, val_loss, data/data, "
                                         r"config/block_size, config/n_embd"):
        run10(tmp_path)
    torch.save(torch.zeros(3), tmp_path / "ckpt.pt")
    with pytest.raises(SystemExit, match=r"is not a checkpoint of stage 09: it has no model"):
        run10(tmp_path)


def test_an_empty_prompt_says_where_it_starts(checkpoint_dir, capsys):
    run10(checkpoint_dir, "--max_new_tokens=5")
    captured = capsys.readouterr()
    assert "an empty prompt starts from '\\n', a newline" in captured.err
    assert captured.out.startswith("\n") and len(captured.out) == 1 + 5 + 1


def test_interactive_goes_on_after_a_bad_line_or_ctrl_c(checkpoint_dir, monkeypatch, capsys):
    m = load_stage("10_kvcache_sample")
    real = m.sample

    def sample(model, vocab, text, dev, use_cache=True):
        if text == "Stop":
            raise KeyboardInterrupt  # Ctrl-C while this prompt is being continued
        return real(model, vocab, text, dev, use_cache)

    monkeypatch.setattr(m, "sample", sample)
    stdin = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfFirst\nBad \xff byte\nStop\nLast\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    m.main([f"--out_dir={checkpoint_dir}", "--interactive", "--max_new_tokens=3",
            "--temperature=0"])
    captured = capsys.readouterr()
    assert [line[:4] for line in captured.out.splitlines() if line[:1] in ("F", "L")] == [
        "Firs", "Last"]
    assert captured.out.count("\n\n") >= 2  # a blank line after each answer
    assert "error: input line 2 is not UTF-8 text (byte 4: invalid start byte); skipped" in captured.err
    assert "Ctrl-C: sample stopped" in captured.err
    m = load_stage("10_kvcache_sample")
    monkeypatch.setattr(m, "sample", sample)
    with pytest.raises(SystemExit) as e:  # without --interactive, Ctrl-C ends the program
        m.main([f"--out_dir={checkpoint_dir}", "--prompt=Stop"])
    assert e.value.code == 130


def test_a_checkpoint_with_a_context_of_one_is_refused(checkpoint_dir, tmp_path):
    checkpoint = torch.load(checkpoint_dir / "ckpt.pt", weights_only=True)
    checkpoint["config"]["block_size"] = 1
    torch.save(checkpoint, tmp_path / "ckpt.pt")
    with pytest.raises(SystemExit, match=r"the checkpoint's model has block_size=1; sampling "
                                         r"past the context needs at least 2"):
        run10(tmp_path)
