"""common.py (vocabulary, split, batches, evaluation) and plumbing.py (data sets, settings,
device, files, results log, Ctrl-C)."""

import json
import math
import os
import signal
import stat
import sys
import urllib.error

import pytest
import torch
import torch.nn as nn

import common
import plumbing


def test_encode_decode_round_trip():
    vocab = common.Vocab("hello world, 春江花月夜")
    for s in ["hello", "world, hello", "春江", ""]:
        assert vocab.decode(vocab.encode(s)) == s
    assert vocab.encode("de") == [vocab.stoi["d"], vocab.stoi["e"]]
    assert len(vocab) == len(set("hello world, 春江花月夜"))


def test_unknown_characters_are_named():
    vocab = common.Vocab("abc")
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'x' \(U\+0078\), '往' \(U\+5F80\)"):
        vocab.encode("ab往x")


def test_split_is_90_10_in_order():
    ids = torch.arange(1000)
    train, val = common.train_val_split(ids)
    assert len(train) == 900 and len(val) == 100
    assert train[-1] == 899 and val[0] == 900


def test_batch_targets_are_inputs_shifted_by_one():
    torch.manual_seed(0)
    data = torch.arange(500)
    x, y = common.get_batch(data, block_size=8, batch_size=16, device="cpu")
    assert x.shape == y.shape == (16, 8)
    assert torch.equal(y[:, :-1], x[:, 1:])
    assert torch.equal(y[:, -1], x[:, -1] + 1)  # the text is 0..499, so the next id is +1


class FixedBigram(nn.Module):
    """A bigram model with given log-probabilities, to check evaluate by hand."""

    def __init__(self, logp):
        super().__init__()
        self.logp = logp

    def forward(self, idx, targets=None):
        return self.logp[idx], None


def test_evaluate_covers_every_window_exactly_once():
    torch.manual_seed(0)
    logp = torch.log_softmax(torch.randn(5, 5), dim=-1)
    data = torch.randint(5, (1003,))
    block_size = 8
    n = (len(data) - 1) // block_size  # 125 windows cover targets 1..1000
    expected = -sum(logp[data[i], data[i + 1]].item() for i in range(n * block_size)) / (n * block_size)
    got = common.evaluate(FixedBigram(logp), data, block_size, "cpu", batch_size=7)
    assert math.isclose(got, expected, rel_tol=1e-5)


def test_evaluation_batch_is_sized_by_the_memory_of_its_logits(monkeypatch):
    torch.manual_seed(0)
    vocab_size, block_size = 500, 8
    logp = torch.log_softmax(torch.randn(vocab_size, vocab_size), dim=-1)
    data = torch.randint(vocab_size, (20_001,))
    seen = []
    model = FixedBigram(logp)
    model.forward = lambda idx, targets=None: (seen.append(len(idx)) or logp[idx], None)
    everything = common.evaluate(model, data, block_size, "cpu", batch_size=2500)
    monkeypatch.setattr(common, "EVAL_MEMORY", 3 * 4 * block_size * vocab_size * 100)
    seen.clear()
    assert math.isclose(common.evaluate(model, data, block_size, "cpu"), everything, rel_tol=1e-6)
    assert seen[0] == 1 and max(seen[1:]) == 100 and sum(seen[1:]) == 2500  # probe, then 100s
    monkeypatch.setattr(common, "EVAL_MEMORY", 1)
    seen.clear()
    common.evaluate(model, data[:81], block_size, "cpu")
    assert seen == [1] * 11  # never less than one window
    monkeypatch.setattr(common, "EVAL_MEMORY", 2**40)
    seen.clear()
    common.evaluate(model, data, block_size, "cpu")
    assert max(seen) == common.EVAL_POSITIONS // block_size == 256  # and never more positions


# ---------------------------------------------------------------- overrides


def scope():
    return {"__doc__": "Stage XX: a test.", "batch_size": 32, "learning_rate": 1e-3,
            "data": "shakespeare", "flag": False, "_private": 1, "torch": torch}


def test_overrides_are_parsed_with_the_default_type():
    g = scope()
    plumbing.configure(g, ["--batch_size=8", "--learning_rate=3e-4", "--data=x.txt", "--flag=true"])
    assert (g["batch_size"], g["learning_rate"], g["data"], g["flag"]) == (8, 3e-4, "x.txt", True)
    assert plumbing.hyperparameters(g) == {"batch_size": 8, "learning_rate": 3e-4,
                                         "data": "x.txt", "flag": True}


def test_unknown_override_is_named(capsys):
    with pytest.raises(SystemExit, match=r"unknown option --batchsize; known: --batch_size"):
        plumbing.configure(scope(), ["--batchsize=8"])


def test_bad_value_says_what_was_expected():
    with pytest.raises(SystemExit, match=r"--batch_size=eight: expected int \(e.g. --batch_size=32\)"):
        plumbing.configure(scope(), ["--batch_size=eight"])
    with pytest.raises(SystemExit, match=r"--flag=maybe: expected bool"):
        plumbing.configure(scope(), ["--flag=maybe"])


def test_override_without_value_is_rejected_unless_a_flag():
    with pytest.raises(SystemExit, match=r"--batch_size: overrides take the form --name=value"):
        plumbing.configure(scope(), ["--batch_size"])
    g = scope()
    plumbing.configure(g, ["--flag"])
    assert g["flag"] is True


@pytest.mark.parametrize("override, message", [
    ("--eval_interval=0", "error: --eval_interval must be at least 1, got 0"),
    ("--batch_size=-2", "error: --batch_size must be at least 1, got -2"),
    ("--cooldown=0", "error: --cooldown must be in (0, 1], got 0.0 (1e-9 means no cooldown)"),
    ("--cooldown=1.5", "error: --cooldown must be in (0, 1], got 1.5"),
    ("--dropout=1", "error: --dropout must be in [0, 1), got 1.0"),
])
def test_settings_no_stage_can_run_with_are_refused(override, message):
    g = {**scope(), "eval_interval": 500, "cooldown": 0.2, "dropout": 0.0}
    with pytest.raises(SystemExit) as e:
        plumbing.configure(g, [override])
    assert str(e.value).startswith(message)


@pytest.mark.parametrize("setting, override, message", [
    ("smoothing", "--smoothing=-1", "error: --smoothing must be a number, at least 0, got -1.0"),
    ("max_iters", "--max_iters=-5", "error: --max_iters must be at least 0, got -5"),
    ("learning_rate", "--learning_rate=nan", "error: --learning_rate must be a positive number, got nan"),
    ("learning_rate", "--learning_rate=inf", "error: --learning_rate must be a positive number, got inf"),
    ("temperature", "--temperature=nan", "error: --temperature must be a number, at least 0, got nan "
                                         "(0 takes the likeliest)"),
    ("temperature", "--temperature=-1", "error: --temperature must be a number, at least 0, got -1.0"),
    ("top_k", "--top_k=-3", "error: --top_k must be at least 0, got -3 (0 means every character)"),
    ("max_new_tokens", "--max_new_tokens=0", "error: --max_new_tokens must be at least 1, got 0"),
    ("weight_decay", "--weight_decay=-0.1", "error: --weight_decay must be a number, at least 0, "
                                            "got -0.1 (0 means none)"),
    ("seed", "--seed=-1", "error: --seed must be in [0, 2**63), got -1"),
    ("device", "--device=gpu", "error: --device must be auto, cpu, cuda, cuda:N, mps or mps:N, got 'gpu'"),
    ("device", "--device=cuda:x", "error: --device must be auto, cpu, cuda, cuda:N, mps or mps:N"),
    ("dtype", "--dtype=float16", "error: --dtype must be auto, float32 or bfloat16, got 'float16'"),
    ("out_dir", "--out_dir=", "error: --out_dir must be a folder, not empty, got ''"),
    ("data", "--data= ", "error: --data must be a data set name or a file, not empty, got ' '"),
])
def test_the_table_of_constraints_refuses(setting, override, message):
    defaults = {"smoothing": 1.0, "max_iters": 10, "learning_rate": 1e-3, "temperature": 1.0,
                "top_k": 0, "max_new_tokens": 10, "seed": 1, "device": "auto", "dtype": "auto",
                "out_dir": "out", "weight_decay": 0.1, "data": "shakespeare"}
    g = {"__doc__": "", setting: defaults[setting]}
    with pytest.raises(SystemExit) as e:
        plumbing.configure(g, [override], trains=False)
    assert str(e.value).startswith(message)


def test_every_setting_a_script_has_is_in_the_table_or_free():
    from conftest import STAGES, load_stage
    free = {"preset", "prompt", "interactive", "compare", "tie_weights"}  # any value can run
    for stage in STAGES:
        for name in plumbing.hyperparameters(vars(load_stage(stage))):
            assert name in plumbing.CONSTRAINTS or name in free, (stage, name)


def test_heads_must_divide_the_width():
    g = {"__doc__": "", "n_embd": 32, "n_head": 4}
    with pytest.raises(SystemExit) as e:
        plumbing.configure(g, ["--n_head=5"])
    assert str(e.value) == ("error: --n_embd=32 is not divisible by --n_head=5; "
                            "each head gets n_embd // n_head channels")


def test_an_unusable_out_dir_is_refused_at_start_up(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("I am a file")
    for out_dir in (a_file, a_file / "below"):
        with pytest.raises(SystemExit) as e:
            plumbing.configure({"__doc__": "", "out_dir": "out"}, [f"--out_dir={out_dir}"])
        assert str(e.value).startswith(f"error: --out_dir={out_dir}: cannot write there (")
        assert str(e.value).endswith("); choose another folder")
    g = {"__doc__": "", "out_dir": "out"}
    plumbing.configure(g, [f"--out_dir={tmp_path / 'new' / 'folder'}"])
    assert (tmp_path / "new" / "folder").is_dir() and not list((tmp_path / "new" / "folder").iterdir())


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="needs POSIX permissions, which root ignores")
def test_a_read_only_out_dir_is_refused_at_start_up(tmp_path):
    os.chmod(tmp_path, 0o555)
    try:
        with pytest.raises(SystemExit, match=r"cannot write there \(Permission denied\)"):
            plumbing.configure({"__doc__": "", "out_dir": "out"}, [f"--out_dir={tmp_path}"])
    finally:
        os.chmod(tmp_path, 0o755)


def a_run(tmp_path, max_iters=10, **settings):
    """A plumbing.Run for a scope like a stage's."""
    scope = {"__file__": "/x/07_test.py", "max_iters": max_iters, "batch_size": 4,
             "block_size": 8, "out_dir": str(tmp_path), **settings}
    return plumbing.Run(scope, {"data": "shakespeare", "sha256": "abc"}, "cpu")


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to a process")
def test_ctrl_c_ends_the_loop_and_is_restored_however_it_is_left(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    run = a_run(tmp_path)
    with pytest.raises(RuntimeError):
        for it in run.steps():
            assert signal.getsignal(signal.SIGINT) != before
            raise RuntimeError("training failed")
    assert signal.getsignal(signal.SIGINT) is before and run.iters == 0
    run = a_run(tmp_path)
    for it in run.steps():
        if it == 3:
            signal.raise_signal(signal.SIGINT)  # the first Ctrl-C only ends the loop
            assert run.pressed and signal.getsignal(signal.SIGINT) is before  # a second stops
    assert it == 3 and run.iters == 4  # the step under way was finished
    assert signal.getsignal(signal.SIGINT) is before


def test_a_run_logs_its_record(tmp_path, capsys):
    run = a_run(tmp_path, max_iters=5, seed=3)
    for it in run.steps():
        if it % 2 == 0:
            run.report(it, {"train": 3.0 - it / 10, "val": 3.1 - it / 10})
    result = run.finish(2.5, 2.4, 1234)
    record = json.loads((tmp_path / "results.jsonl").read_text(encoding="utf-8"))
    assert record == json.loads(json.dumps({**result, "time": record["time"]}))
    assert (result["stage"], result["iters"], result["params"], result["seed"]) == (
        "07_test", 5, 1234, 3)
    assert record["curve"] == [[0, 3.0, 3.1], [2, 2.8, 2.9], [4, 2.6, 2.7]]
    assert result["data_sha256"] == "abc" and "precision" not in result
    out = capsys.readouterr().out
    assert "step 2: train loss 2.8000, val loss 2.9000 | " in out
    assert "final: val loss 2.5000 (whole split), train loss 2.4000 | " in out


def test_progress_comes_at_a_steady_rhythm_with_an_eta_from_recent_speed(tmp_path, monkeypatch,
                                                                           capsys):
    clock = [100.0]
    monkeypatch.setattr(plumbing.time, "perf_counter", lambda: clock[0])
    run = a_run(tmp_path, max_iters=100)  # 4 x 8 = 32 tokens a step
    for it in run.steps():
        if it == 0:
            run.report(it, {"train": 4.0, "val": 4.0})
        clock[0] += 1.0 if it < 20 else 2.0  # a step takes 1 s, then 2 s: the machine got busy
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "step 0: train loss 4.0000, val loss 4.0000"  # no speed yet
    assert lines[1] == "step 10 of 100 | 32 tokens/s, 10 s, ETA 90 s"
    assert lines[2] == "step 20 of 100 | 32 tokens/s, 20 s, ETA 80 s"
    assert lines[3] == "step 25 of 100 | 16 tokens/s, 30 s, ETA 150 s"  # recent speed, not 25/30
    assert len(lines) == 3 + (100 - 20) // 5  # one every 10 s, whatever eval_interval is


def test_an_uncaught_ctrl_c_in_a_script_ends_in_one_line():
    code = ("import sys; sys.argv = ['stage.py', '--batch_size=4']; import plumbing; "
            "scope = {'__doc__': '', 'batch_size': 32}; plumbing.configure(scope); "
            "print(scope['batch_size']); raise KeyboardInterrupt  # as during the final evaluation")
    run = subprocess_run(code)
    assert run.stdout.split() == [b"4"] and run.stderr.strip() == b"Ctrl-C: stopped"  # one line
    assert run.returncode != 0 and (sys.platform == "win32" or run.returncode == -signal.SIGINT)
    run = subprocess_run(code.replace("KeyboardInterrupt", "KeyError(7)"))
    assert b"Traceback" in run.stderr and b"KeyError: 7" in run.stderr  # bugs still show where


def test_settings_at_the_edges_are_accepted():
    g = {**scope(), "eval_interval": 500, "cooldown": 0.2, "dropout": 0.0}
    plumbing.configure(g, ["--eval_interval=1", "--cooldown=1", "--dropout=0.99"])
    assert (g["eval_interval"], g["cooldown"], g["dropout"]) == (1, 1.0, 0.99)


def test_help_lists_every_hyperparameter(capsys):
    with pytest.raises(SystemExit) as e:
        plumbing.configure(scope(), ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "Stage XX: a test." in out
    assert "--batch_size=32" in out and "--learning_rate=0.001" in out
    assert "_private" not in out and "torch" not in out


def test_dtype_choice(monkeypatch, tmp_path):
    read_flags = plumbing.cpu_flags
    for name in ("float32", "bfloat16"):  # asked for: given as asked, on any device
        assert plumbing.pick_dtype(name, "cpu", 64, 32) == plumbing.pick_dtype(name, "cuda", 64, 32)
        assert plumbing.pick_dtype(name, "cpu", 64, 32) == (name, "")
    for flags, expected in [({"avx2", "avx512_bf16"}, "bfloat16"), ({"amx_bf16"}, "bfloat16"),
                            ({"fp", "asimd", "bf16"}, "bfloat16"), ({"avx2", "fma"}, "float32")]:
        monkeypatch.setattr(plumbing, "cpu_flags", lambda: flags)  # what Linux lists: decides
        assert plumbing.pick_dtype("auto", "cpu", 2048, 128)[0] == expected
        for device in ("cuda", "cuda:0", "mps"):  # GPUs keep float32 unless asked
            assert plumbing.pick_dtype("auto", device, 2048, 128)[0] == "float32"
    monkeypatch.setattr(plumbing, "cpu_flags", lambda: None)  # no list (macOS, Windows): measure
    for gain, expected in [(2.3, "bfloat16"), (1.25, "bfloat16"), (1.1, "float32"),
                           (0.4, "float32")]:
        monkeypatch.setattr(plumbing, "bf16_gain", lambda rows, width: gain)
        chosen, why = plumbing.pick_dtype("auto", "cpu", 2048, 128)
        assert chosen == expected and f"{gain:.1f}x as fast here)" in why
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512_bf16\n\n", encoding="utf-8")
    assert read_flags(str(cpuinfo)) == {"fpu", "sse", "avx512_bf16"}
    assert read_flags(str(tmp_path / "none")) is None


def test_the_dtype_measurement_leaves_the_random_numbers_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    gain = plumbing.bf16_gain(64, 16, repeats=1)
    assert gain > 0 and torch.equal(torch.rand(3), expected)


def test_device_choice(monkeypatch):
    assert plumbing.pick_device("cpu") == "cpu"  # a name no run can use: configure refuses it
    available = {"cuda": False, "mps": False}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available["cuda"])
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1 if available["cuda"] else 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: available["mps"])
    assert plumbing.pick_device("auto") == "cpu"
    for name in ("cuda", "cuda:0"):
        with pytest.raises(SystemExit, match=rf"--device={name} but PyTorch sees no CUDA GPU"):
            plumbing.pick_device(name)
    for name in ("mps", "mps:0"):  # mps:0 used to skip the check
        with pytest.raises(SystemExit, match=rf"--device={name} but Apple's MPS is not available"):
            plumbing.pick_device(name)
    available["mps"] = True
    assert plumbing.pick_device("auto") == "mps" and plumbing.pick_device("mps:0") == "mps:0"
    with pytest.raises(SystemExit, match=r"--device=mps:1 but this machine has 1 MPS device "
                                         r"\(mps:0 to mps:0\)"):
        plumbing.pick_device("mps:1")
    available["cuda"] = True
    assert plumbing.pick_device("auto") == "cuda" and plumbing.pick_device("cuda:0") == "cuda:0"
    with pytest.raises(SystemExit, match=r"--device=cuda:7 but this machine has 1 CUDA GPU "
                                         r"\(cuda:0 to cuda:0\)"):
        plumbing.pick_device("cuda:7")


def test_results_log_appends_json_lines(tmp_path):
    plumbing.log_result(tmp_path, {"stage": "a", "val_loss": 2.5})
    plumbing.log_result(tmp_path, {"stage": "b", "text": "春江"})
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["stage"] for r in records] == ["a", "b"]
    assert records[1]["text"] == "春江" and "time" in records[0]


# ---------------------------------------------------------------- data files


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    """A tiny registered data set whose 'download' is served from memory."""
    text = "".join(chr(97 + i % 26) for i in range(2000)) + "\n"
    raw = text.encode("utf-8")
    monkeypatch.setattr(plumbing, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(plumbing.DATASETS, "fake", {
        "file": "fake.txt", "sha256": plumbing.sha256_of(raw),
        "urls": ["https://example.org/fake.txt"], "build": "text"})
    calls = []

    def fetch(url):
        calls.append(url)
        return raw

    monkeypatch.setattr(plumbing, "fetch", fetch)
    return tmp_path, text, calls


def test_download_once_then_read_from_disk(fake_dataset):
    folder, text, calls = fake_dataset
    assert common.load_text("fake")[0] == text
    assert (folder / "fake.txt").read_text(encoding="utf-8") == text
    assert common.load_text("fake")[0] == text
    assert calls == ["https://example.org/fake.txt"]  # the second load did not download


def test_offline_says_where_to_put_the_file(fake_dataset, monkeypatch):
    folder, _, _ = fake_dataset

    def offline(url):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(plumbing, "fetch", offline)
    with pytest.raises(SystemExit) as e:
        common.load_text("fake")
    msg = str(e.value)
    assert "could not download the fake data set" in msg
    assert f"put the file at {folder / 'fake.txt'}" in msg and "https://example.org/fake.txt" in msg
    assert list(folder.iterdir()) == []  # nothing half-written


def test_bad_download_checksum_writes_nothing(fake_dataset, monkeypatch):
    folder, _, _ = fake_dataset
    monkeypatch.setattr(plumbing, "fetch", lambda url: b"tampered" * 200)
    with pytest.raises(SystemExit, match=r"downloaded fake data has the wrong checksum; nothing was written"):
        common.load_text("fake")
    assert list(folder.iterdir()) == []


def test_bad_checksum_on_disk_is_reported(fake_dataset):
    folder, text, _ = fake_dataset
    (folder / "fake.txt").write_text(text + "extra", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"fake.txt has the wrong checksum .* Delete it to download it again"):
        common.load_text("fake")


def test_write_atomic_leaves_no_half_file(tmp_path):
    target = tmp_path / "file.txt"
    with pytest.raises(TypeError):
        plumbing.write_atomic(str(target), "not bytes")  # fails inside the write
    assert list(tmp_path.iterdir()) == []
    plumbing.write_atomic(str(target), b"ok")
    assert target.read_bytes() == b"ok"


def test_split_shorter_than_the_context_is_refused():
    with pytest.raises(SystemExit, match=r"a split of 8 characters cannot fill a window of "
                                         r"block_size=8; use a longer text or a smaller --block_size"):
        common.get_batch(torch.arange(8), block_size=8, batch_size=2, device="cpu")
    with pytest.raises(SystemExit, match=r"a split of 5 characters cannot fill"):
        common.evaluate(FixedBigram(torch.zeros(5, 5)), torch.arange(5), 8, "cpu")


def test_own_text_file(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("To be, or not to be.\n" * 100, encoding="utf-8")
    text, info = common.load_text(str(path))
    assert text.startswith("To be") and info["data"] == str(path)


def test_missing_short_and_non_utf8_files(tmp_path):
    with pytest.raises(SystemExit, match=r"--data=.*nope.txt: no such file, and not a data set name"):
        common.load_text(str(tmp_path / "nope.txt"))
    short = tmp_path / "short.txt"
    short.write_text("too short", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"short.txt is too short: 9 characters, need at least 1000"):
        common.load_text(str(short))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café ".encode("latin-1") * 300)
    with pytest.raises(SystemExit, match=r"latin1.txt is not UTF-8 text \(byte 3"):
        common.load_text(str(latin1))


def test_songci_layout():
    files = [
        [{"rhythmic": "浣溪沙", "author": "晏殊", "paragraphs": [" 一曲新词酒一杯。 ", "", "去年天气旧亭台。"]},
         {"rhythmic": "空", "author": "无名", "paragraphs": ["", "  "]}],
        [],
        [{"rhythmic": "如梦令", "author": "李清照", "paragraphs": ["常记溪亭日暮。"]}],
    ]
    assert plumbing.build_songci(files) == (
        "浣溪沙 晏殊\n一曲新词酒一杯。\n去年天气旧亭台。\n\n如梦令 李清照\n常记溪亭日暮。\n")


def test_songci_download_fetches_22_files_and_builds_the_corpus(tmp_path, monkeypatch):
    def fetch(url):
        n = int(url.rsplit(".", 2)[-2])  # .../ci.song.<n>.json
        poem = {"rhythmic": "词牌", "author": f"作者{n}", "paragraphs": ["春江" * 600]}
        return json.dumps([poem], ensure_ascii=False).encode("utf-8")

    urls = []
    monkeypatch.setattr(plumbing, "fetch", lambda url: urls.append(url) or fetch(url))
    expected = plumbing.build_songci([[json.loads(fetch(f"x.{n}.json"))[0]]
                                      for n in range(0, 22000, 1000)])
    monkeypatch.setattr(plumbing, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(plumbing.DATASETS, "songci", {
        **plumbing.DATASETS["songci"], "sha256": plumbing.sha256_of(expected.encode("utf-8"))})
    text, _ = common.load_text("songci")
    assert text == expected and (tmp_path / "songci.txt").read_text(encoding="utf-8") == expected
    assert len(urls) == 22 and urls[0].endswith("/%E5%AE%8B%E8%AF%8D/ci.song.0.json")
    assert urls[-1].endswith("ci.song.21000.json") and plumbing.SONGCI_COMMIT in urls[0]


def test_offline_message_names_the_files_a_corpus_is_built_from(tmp_path, monkeypatch):
    monkeypatch.setattr(plumbing, "DATA_DIR", str(tmp_path))
    monkeypatch.setattr(plumbing, "fetch", lambda url: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(SystemExit) as e:
        common.load_text("songci")
    assert str(e.value) == (
        f"error: could not download the songci data set (offline).\nIf this machine is offline, "
        f"put the file at {tmp_path / 'songci.txt'}, or the 22 files it is built from "
        f"(ci.song.0.json ... ci.song.21000.json, from https://raw.githubusercontent.com/"
        f"chinese-poetry/chinese-poetry/{plumbing.SONGCI_COMMIT}/宋词/) into {tmp_path / 'songci'}.")
    assert list(tmp_path.iterdir()) == []


def test_a_corpus_is_built_from_files_copied_by_hand(tmp_path, monkeypatch, capsys):
    poems = [[{"rhythmic": "词牌", "author": f"作者{n}", "paragraphs": ["春江" * 600]}]
             for n in range(22)]
    expected = plumbing.build_songci(poems).encode("utf-8")
    monkeypatch.setattr(plumbing, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(plumbing.DATASETS, "songci", {
        **plumbing.DATASETS["songci"], "sha256": plumbing.sha256_of(expected)})
    monkeypatch.setattr(plumbing, "fetch", lambda url: pytest.fail("no download"))
    (tmp_path / "songci").mkdir()
    for n, poem in zip(range(0, 22000, 1000), poems):
        (tmp_path / "songci" / f"ci.song.{n}.json").write_text(json.dumps(poem), encoding="utf-8")
    text, _ = common.load_text("songci")
    assert (tmp_path / "songci.txt").read_bytes() == expected == text.encode("utf-8")
    assert "building songci from " in capsys.readouterr().out


def test_download_message_on_another_drive(monkeypatch, capsys, fake_dataset):
    def relpath(path, start=None):
        raise ValueError("path is on mount 'D:', start on mount 'C:'")  # what Windows raises

    monkeypatch.setattr(os.path, "relpath", relpath)
    folder, text, _ = fake_dataset
    assert common.load_text("fake")[0] == text
    assert f"downloading fake to {folder / 'fake.txt'} ..." in capsys.readouterr().out


def test_byte_order_mark_is_not_a_character(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"abc\n" * 400)  # what Notepad writes as "UTF-8"
    text, _ = common.load_text(str(path))
    assert text.startswith("abc") and "\ufeff" not in common.Vocab(text).chars


def test_console_that_cannot_print_the_data_is_switched_to_utf8_and_says_so(tmp_path):
    path = tmp_path / "poems.txt"
    path.write_text("春江花月夜\n" * 300, encoding="utf-8")
    code = f"import common; text, _ = common.load_text({str(path)!r}); print(text[:5])"
    for encoding, switched in (("ascii", True), ("utf-8", False)):
        proc = subprocess_run(code, PYTHONIOENCODING=encoding)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.decode("utf-8").strip() == "春江花月夜"
        note = b"note: the console's encoding (ascii) cannot show every character"
        assert (note in proc.stderr) is switched


def subprocess_run(code, **env):
    import subprocess
    from conftest import ROOT
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          env={**os.environ, **env}, timeout=60)


# ---------------------------------------------------------------- files and the results log


def test_write_atomic_keeps_the_usual_mode_and_syncs(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.txt"
        plumbing.write_atomic(str(new), b"new")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # as open() makes it, not 0600
        kept = tmp_path / "kept.txt"
        kept.write_bytes(b"old")
        os.chmod(kept, 0o640)
        plumbing.write_atomic(str(kept), b"replaced")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_bytes() == b"replaced"
    finally:
        os.umask(umask)
    assert len(synced) == 2  # flushed to disk before each rename


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next_record(tmp_path):
    plumbing.log_result(tmp_path, {"stage": "a"})
    with open(tmp_path / "results.jsonl", "a", encoding="utf-8") as f:
        f.write('{"stage": "02_posi')  # a run killed mid-write
    plumbing.log_result(tmp_path, {"stage": "b", "text": "春江"})
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"stage": "02_posi' and json.loads(lines[2])["stage"] == "b"


def test_results_log_never_writes_nan(tmp_path):
    plumbing.log_result(tmp_path, {"stage": "a", "val_loss": float("nan"),
                                 "curve": [[0, 4.2, float("inf")], [10, float("-inf"), 3.0]]})
    line = (tmp_path / "results.jsonl").read_text(encoding="utf-8")
    assert "NaN" not in line and "Infinity" not in line
    record = json.loads(line)
    assert record["val_loss"] is None and record["curve"] == [[0, 4.2, None], [10, None, 3.0]]
