"""The shared plumbing: data, vocabulary, split, batches, evaluation, overrides, log."""

import json
import math
import urllib.error

import pytest
import torch
import torch.nn as nn

import common


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


# ---------------------------------------------------------------- overrides


def scope():
    return {"__doc__": "Stage XX: a test.", "batch_size": 32, "learning_rate": 1e-3,
            "data": "shakespeare", "flag": False, "_private": 1, "torch": torch}


def test_overrides_are_parsed_with_the_default_type():
    g = scope()
    common.configure(g, ["--batch_size=8", "--learning_rate=3e-4", "--data=x.txt", "--flag=true"])
    assert (g["batch_size"], g["learning_rate"], g["data"], g["flag"]) == (8, 3e-4, "x.txt", True)
    assert common.hyperparameters(g) == {"batch_size": 8, "learning_rate": 3e-4,
                                         "data": "x.txt", "flag": True}


def test_unknown_override_is_named(capsys):
    with pytest.raises(SystemExit, match=r"unknown option --batchsize; known: --batch_size"):
        common.configure(scope(), ["--batchsize=8"])


def test_bad_value_says_what_was_expected():
    with pytest.raises(SystemExit, match=r"--batch_size=eight: expected int \(e.g. --batch_size=32\)"):
        common.configure(scope(), ["--batch_size=eight"])
    with pytest.raises(SystemExit, match=r"--flag=maybe: expected bool"):
        common.configure(scope(), ["--flag=maybe"])


def test_override_without_value_is_rejected_unless_a_flag():
    with pytest.raises(SystemExit, match=r"--batch_size: overrides take the form --name=value"):
        common.configure(scope(), ["--batch_size"])
    g = scope()
    common.configure(g, ["--flag"])
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
        common.configure(g, [override])
    assert str(e.value).startswith(message)


def test_settings_at_the_edges_are_accepted():
    g = {**scope(), "eval_interval": 500, "cooldown": 0.2, "dropout": 0.0}
    common.configure(g, ["--eval_interval=1", "--cooldown=1", "--dropout=0.99"])
    assert (g["eval_interval"], g["cooldown"], g["dropout"]) == (1, 1.0, 0.99)


def test_help_lists_every_hyperparameter(capsys):
    with pytest.raises(SystemExit) as e:
        common.configure(scope(), ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "Stage XX: a test." in out
    assert "--batch_size=32" in out and "--learning_rate=0.001" in out
    assert "_private" not in out and "torch" not in out


def test_device_choice():
    assert common.pick_device("cpu") == "cpu"
    assert common.pick_device("auto") in ("cpu", "cuda", "mps")
    with pytest.raises(SystemExit, match=r"--device=tpu: expected auto, cpu, cuda or mps"):
        common.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match=r"--device=cuda but PyTorch sees no CUDA GPU"):
            common.pick_device("cuda")


def test_results_log_appends_json_lines(tmp_path):
    common.log_result(tmp_path, {"stage": "a", "val_loss": 2.5})
    common.log_result(tmp_path, {"stage": "b", "text": "春江"})
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
    monkeypatch.setattr(common, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(common.DATASETS, "fake", {
        "file": "fake.txt", "sha256": common.sha256_of(raw), "url": "https://example.org/fake.txt"})
    calls = []

    def fetch(url):
        calls.append(url)
        return raw

    monkeypatch.setattr(common, "fetch", fetch)
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

    monkeypatch.setattr(common, "fetch", offline)
    with pytest.raises(SystemExit) as e:
        common.load_text("fake")
    msg = str(e.value)
    assert "could not download the fake data set" in msg
    assert f"put the file at {folder / 'fake.txt'}" in msg and "https://example.org/fake.txt" in msg
    assert list(folder.iterdir()) == []  # nothing half-written


def test_bad_download_checksum_writes_nothing(fake_dataset, monkeypatch):
    folder, _, _ = fake_dataset
    monkeypatch.setattr(common, "fetch", lambda url: b"tampered" * 200)
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
        common.write_atomic(str(target), "not bytes")  # fails inside the write
    assert list(tmp_path.iterdir()) == []
    common.write_atomic(str(target), b"ok")
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
    assert common.build_songci(files) == (
        "浣溪沙 晏殊\n一曲新词酒一杯。\n去年天气旧亭台。\n\n如梦令 李清照\n常记溪亭日暮。\n")


def test_songci_download_fetches_22_files_and_builds_the_corpus(tmp_path, monkeypatch):
    def fetch(url):
        n = int(url.rsplit(".", 2)[-2])  # .../ci.song.<n>.json
        poem = {"rhythmic": "词牌", "author": f"作者{n}", "paragraphs": ["春江" * 600]}
        return json.dumps([poem], ensure_ascii=False).encode("utf-8")

    urls = []
    monkeypatch.setattr(common, "fetch", lambda url: urls.append(url) or fetch(url))
    expected = common.build_songci([[json.loads(fetch(f"x.{n}.json"))[0]] for n in range(0, 22000, 1000)])
    monkeypatch.setattr(common, "DATA_DIR", str(tmp_path))
    monkeypatch.setitem(common.DATASETS, "songci", {
        **common.DATASETS["songci"], "sha256": common.sha256_of(expected.encode("utf-8"))})
    text, _ = common.load_text("songci")
    assert text == expected and (tmp_path / "songci.txt").read_text(encoding="utf-8") == expected
    assert len(urls) == 22 and urls[0].endswith("/%E5%AE%8B%E8%AF%8D/ci.song.0.json")
    assert urls[-1].endswith("ci.song.21000.json") and common.SONGCI_COMMIT in urls[0]
