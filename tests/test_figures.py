"""The pictures of the notes: from a results log, and (briefly trained) from the stages."""

import sys

import pytest

from conftest import ROOT
from test_compare import record, write_log

sys.path.insert(0, str(ROOT / "notes"))
import common  # noqa: E402
import figures  # noqa: E402


@pytest.fixture
def drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "FIGURES", str(tmp_path))
    return tmp_path


def test_curves_from_a_log(drawn, tmp_path, capsys):
    log = write_log(tmp_path / "results.jsonl", [
        record("05_feedforward", 2.24), record("06_block", 2.35), record("07_residual", 2.04),
        record("09_dropout_scaled", 1.51), record("09_dropout_scaled", 1.55, dropout=0.2)])
    figures.main(["residual", "dropout", "ladder", f"--log={log}"])
    for name in ("07_residual.png", "09_dropout.png", "ladder.png"):
        raw = (drawn / name).read_bytes()
        assert raw.startswith(b"\x89PNG") and len(raw) < 150_000, name
    assert "skipped" not in capsys.readouterr().out


def test_missing_runs_are_skipped_with_the_reason(drawn, tmp_path, capsys):
    log = write_log(tmp_path / "results.jsonl", [record("05_feedforward", 2.24),
                                                 record("09_dropout_scaled", 1.51)])
    figures.main(["residual", "dropout", f"--log={log}"])
    out = capsys.readouterr().out
    assert "skipped: " + str(log) + " has no default run of 06_block, 07_residual" in out
    assert "needs 5000-step runs of 09 with --dropout=0 and, e.g., --dropout=0.2" in out
    assert not list(drawn.glob("*.png"))


def test_unknown_picture_name(capsys):
    with pytest.raises(SystemExit):
        figures.main(["colours"])
    assert "no picture named colours; choose from counts" in capsys.readouterr().err


def test_reference_log_has_what_the_pictures_need():
    records = figures.compare.read_log(figures.compare.REFERENCE)
    stages = {r["stage"] for r in records}
    assert {"05_feedforward", "06_block", "07_residual"} <= stages
    assert {r["dropout"] for r in records if r["stage"] == "09_dropout_scaled"} >= {0.0, 0.2}


def test_every_picture_is_drawn(drawn, tmp_path, monkeypatch, capsys, shakespeare):
    """A smoke test of every picture, with each stage trained for a few steps only."""
    real_train = figures.train

    def quick(stage_name, *overrides):
        few = [] if stage_name.startswith("00") else ["--max_iters=20", "--eval_interval=10"]
        return real_train(stage_name, *overrides, *few)

    monkeypatch.setattr(figures, "train", quick)
    monkeypatch.setattr(figures, "KV_STEPS", 0.2)  # a fifth of a context, at both sizes
    real_evaluate = common.evaluate  # the final whole-split evaluations: a few windows will do
    monkeypatch.setattr(common, "evaluate", lambda model, data, *args, **kwargs: real_evaluate(
        model, data[:4096], *args, **kwargs))
    log = write_log(tmp_path / "results.jsonl", [
        record("05_feedforward", 2.24), record("06_block", 2.35), record("07_residual", 2.04),
        record("09_dropout_scaled", 1.51), record("09_dropout_scaled", 1.55, dropout=0.2)])
    figures.main([f"--log={log}"])
    assert "skipped" not in capsys.readouterr().out
    pngs = sorted(p.name for p in drawn.glob("*.png"))
    assert pngs == sorted(["00_counts.png", "02_position.png", "03_attention.png", "03_qkv.png",
                           "03_attention_songci.png", "04_heads.png", "architecture.png",
                           "07_residual.png", "07_stream.png", "09_dropout.png", "10_kvcache.png",
                           "ladder.png"])
    for name in pngs:
        raw = (drawn / name).read_bytes()
        assert raw.startswith(b"\x89PNG") and len(raw) < 150_000, name


def test_records_of_other_scripts_do_not_stop_the_pictures(drawn, tmp_path, capsys):
    mine = {**record("07_residual", 1.9), "stage": "11_my_experiment"}
    log = write_log(tmp_path / "results.jsonl", [
        record("05_feedforward", 2.24), record("06_block", 2.35), record("07_residual", 2.04),
        mine])
    figures.main(["residual", "ladder", f"--log={log}"])
    assert (drawn / "07_residual.png").exists() and (drawn / "ladder.png").exists()
