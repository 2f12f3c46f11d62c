import json
import os
import signal
import subprocess
import sys

import pytest

import compare
import plumbing
from conftest import ROOT, STAGES, load_stage

sys.path.insert(0, str(ROOT / "tools"))
import readme_tables as tables  # noqa: E402

VAL = {"00_bigram_stats": 2.48, "01_bigram_torch": 2.49, "03_self_attention": 2.40}


def record(stage, val_loss, data="shakespeare", **settings):
    """A results record as a stage writes it, with its defaults unless told otherwise."""
    return {**plumbing.hyperparameters(vars(load_stage(stage))), **settings, "stage": stage,
            "data": data, "val_loss": val_loss, "train_loss": val_loss - 0.1, "params": 4225,
            "seconds": 12.5, "tokens_per_s": 51234.0, "iters": 5000,
            "curve": [[0, 4.3, 4.3], [500, 2.6, val_loss + 0.05]]}


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def reference(tmp_path, monkeypatch):
    path = write_log(tmp_path / "reference.jsonl", [record("03_self_attention", 2.3992)])
    monkeypatch.setattr(compare, "REFERENCE", str(path))
    monkeypatch.setattr(compare, "SEEDS", str(tmp_path / "no-seeds.jsonl"))
    monkeypatch.setattr(compare, "SONGCI", str(tmp_path / "no-songci.jsonl"))


def test_table_and_chart(tmp_path, reference, capsys):
    log = write_log(tmp_path / "results.jsonl", [
        record("00_bigram_stats", 2.48), record("01_bigram_torch", 2.60),
        record("03_self_attention", 2.50), record("01_bigram_torch", 2.49),  # latest wins
        record("03_self_attention", 2.40, max_iters=500),
        record("05_feedforward", 5.80, data="songci")])  # another data set: left out
    png = tmp_path / "chart.png"
    rows = compare.main([f"--log={log}", f"--png={png}"])
    assert [row["stage"] for row in rows] == ["00", "01", "03"]
    assert [row["val loss"] for row in rows] == ["2.4800", "2.4900", "2.4000"]
    assert [row["change"] for row in rows] == ["", "+0.0100", "-0.0900 (from 01)"]  # 02 not run
    assert [row["reference"] for row in rows] == ["–", "–", "2.3992"]
    assert [row["lecture"] for row in rows] == ["2.48–2.50", "2.48–2.50", "2.40"]
    assert [row["settings"] for row in rows] == ["defaults", "defaults", "--max_iters=500"]
    assert rows[0]["params"] == "4,225" and rows[0]["tokens/s"] == "51,234"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["stage", "concept", "val", "loss", "change", "reference",
                                  "vs", "reference", "lecture", "params", "time", "tokens/s",
                                  "settings"]
    assert printed[3].split()[:6] == ["03", "self-attention", "2.4000", "-0.0900", "(from", "01)"]
    assert printed[3].endswith("--max_iters=500")
    raw = png.read_bytes()
    assert raw.startswith(b"\x89PNG") and len(raw) < 200_000


def test_your_run_beside_the_band_of_the_reference_seeds(tmp_path, monkeypatch):
    """'Is my loss right?': inside two standard deviations of the reference seeds, or not."""
    ref = write_log(tmp_path / "reference.jsonl", [record("03_self_attention", 2.40)])
    seeds = write_log(tmp_path / "seeds.jsonl", [
        record("03_self_attention", loss, seed=seed) for seed, loss in
        ((1, 2.41), (2, 2.39), (3, 2.40), (4, 2.42))] + [
        record("03_self_attention", 2.2, max_iters=9000)])  # other settings: not in the band
    monkeypatch.setattr(compare, "REFERENCE", str(ref))
    monkeypatch.setattr(compare, "SEEDS", str(seeds))
    png = str(tmp_path / "c.png")
    for loss, settings, verdict in ((2.405, {}, "inside"), (2.405, {"seed": 7}, "inside"),
                                    (2.50, {}, "outside, +0.0960"),
                                    (2.30, {"max_iters": 100}, "other settings")):
        log = write_log(tmp_path / "results.jsonl", [record("03_self_attention", loss, **settings)])
        (row,) = compare.main([f"--log={log}", f"--png={png}"])
        assert row["reference"] == "2.4040 ± 0.0114 (5)"  # mean ± standard deviation (seeds)
        assert row["vs reference"] == verdict


def songci_record(stage, val_loss, **settings):
    """A record of a run at --preset=songci, with the preset's values."""
    preset = compare.presets(stage)["songci"]
    return record(stage, val_loss, **{**preset, "preset": "songci", **settings})


def test_a_run_stopped_by_ctrl_c_is_marked_and_not_judged(tmp_path, monkeypatch):
    ref = write_log(tmp_path / "reference.jsonl", [record("07_residual", 2.04)])
    seeds = write_log(tmp_path / "seeds.jsonl", [
        record("07_residual", loss, seed=seed) for seed, loss in ((1, 2.045), (2, 2.043))])
    monkeypatch.setattr(compare, "REFERENCE", str(ref))
    monkeypatch.setattr(compare, "SEEDS", str(seeds))
    log = write_log(tmp_path / "results.jsonl", [
        record("03_self_attention", 2.40), {**record("07_residual", 2.27), "iters": 999}])
    rows = compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert rows[1]["vs reference"] == "stopped early (999 of 5000 steps)"
    assert rows[1]["change"] == "-0.1300 (from 03)"  # 04-06 not run: says where it is from


def test_a_preset_is_one_setting_and_song_ci_has_its_own_band(tmp_path, monkeypatch):
    """A run at --preset=songci shows that one setting, not the five it sets, and is held
    against the Song ci seeds of notes/songci.jsonl, not against a run at defaults."""
    assert compare.overrides(songci_record("03_self_attention", 5.3)) == ["--preset=songci"]
    assert compare.overrides(songci_record("03_self_attention", 5.3, max_iters=10)) == [
        "--preset=songci", "--max_iters=10"]
    songci = write_log(tmp_path / "songci.jsonl", [
        songci_record("03_self_attention", loss, seed=seed) for seed, loss in
        ((1337, 5.30), (1, 5.31), (2, 5.29))] + [
        record("03_self_attention", 5.9, data="songci")])  # no preset: not in the band
    monkeypatch.setattr(compare, "SONGCI", str(songci))
    png = str(tmp_path / "c.png")
    for run, verdict in ((songci_record("03_self_attention", 5.305, seed=9), "inside"),
                         (songci_record("03_self_attention", 5.40), "outside, +0.1000"),
                         (record("03_self_attention", 5.30, data="songci"), "other settings")):
        log = write_log(tmp_path / "results.jsonl", [run])
        (row,) = compare.main([f"--log={log}", "--data=songci", f"--png={png}"])
        assert row["reference"] == "5.3000 ± 0.0100 (3)"
        assert row["vs reference"] == verdict


def test_a_run_logged_before_a_setting_existed_is_read_at_the_value_it_used():
    older = record("09_dropout_scaled", 1.51)
    del older["weight_decay"]  # logged before stage 09 had the setting: AdamW's 0.01
    assert compare.overrides(older) == ["--weight_decay=0.01"]
    assert not compare.same_settings(older, "shakespeare")
    assert compare.overrides(record("09_dropout_scaled", 1.50)) == []
    assert compare.overrides(record("09_dropout_scaled", 1.50, weight_decay=0.01)) == [
        "--weight_decay=0.01"]
    earlier_stage = record("08_layernorm", 2.04)  # a stage without the setting is untouched
    assert "weight_decay" not in earlier_stage and compare.overrides(earlier_stage) == []


def test_every_stage_has_the_song_ci_preset_and_neighbours_share_its_line():
    for stage in STAGES[:10]:
        assert compare.presets(stage)["songci"]["data"] == "songci", stage
    lines = {stage: [line for line in (ROOT / f"{stage}.py").read_text(encoding="utf-8")
                     .splitlines() if line.startswith('    "songci": ')] for stage in STAGES[2:9]}
    assert len({tuple(found) for found in lines.values()}) == 1, lines  # 02-08: one line


def test_other_data_set(tmp_path, reference, capsys):
    log = write_log(tmp_path / "results.jsonl", [record("05_feedforward", 5.79, data="songci")])
    rows = compare.main([f"--log={log}", "--data=songci", f"--png={tmp_path / 'c.png'}"])
    assert [(row["stage"], row["val loss"], row["lecture"]) for row in rows] == [
        ("05", "5.7900", "–")]
    assert rows[0]["reference"] == "–"  # the reference run and the lecture: Shakespeare


@pytest.mark.parametrize("content, message", [
    (None, "error: no results log at"),
    ("", "holds no runs yet. Run a stage first"),
    ("not json\n[1, 2]\n", "holds no runs yet. Run a stage first"),
])
def test_missing_empty_or_broken_log(tmp_path, content, message):
    log = tmp_path / "results.jsonl"
    if content is not None:
        log.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert message in str(e.value)
    assert not (tmp_path / "c.png").exists()


def test_a_broken_line_is_skipped_with_a_warning(tmp_path, reference, capsys):
    good = json.dumps(record("00_bigram_stats", 2.48))
    log = tmp_path / "results.jsonl"
    log.write_bytes((good + "\n" + good[:40] + "\n42\n").encode("utf-8") + b"\xff\xfe garbage\n"
                    + (json.dumps(record("01_bigram_torch", 2.49)) + "\n").encode("utf-8"))
    rows = compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert [row["stage"] for row in rows] == ["00", "01"]
    err = capsys.readouterr().err
    assert f"warning: {log}, line 2 is not a JSON record (" in err
    assert f"warning: {log}, line 3 is not a JSON record (not an object); skipped" in err
    assert f"warning: {log}, line 4 is not a JSON record" in err


def test_a_run_whose_loss_was_nan(tmp_path, reference):
    log = tmp_path / "results.jsonl"
    plumbing.log_result(str(tmp_path), record("00_bigram_stats", 2.48))
    plumbing.log_result(str(tmp_path), record("01_bigram_torch", float("nan")))
    plumbing.log_result(str(tmp_path), record("03_self_attention", 2.40))
    rows = compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert [(row["val loss"], row["change"]) for row in rows] == [
        ("2.4800", ""), ("not finite", ""), ("2.4000", "")]


def test_a_log_of_other_scripts_only(tmp_path, reference):
    log = write_log(tmp_path / "results.jsonl", [{**record("00_bigram_stats", 1.0), "stage": "11_mine"}])
    with pytest.raises(SystemExit) as e:
        compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert str(e.value) == "error: the log has no runs of the ladder's stages (00-09)"


def test_records_of_other_scripts_are_left_out(tmp_path, reference):
    log = write_log(tmp_path / "results.jsonl", [
        record("00_bigram_stats", 2.48), {**record("00_bigram_stats", 1.0), "stage": "11_mine"}])
    rows = compare.main([f"--log={log}", f"--png={tmp_path / 'c.png'}"])
    assert [row["stage"] for row in rows] == ["00"]


def test_defaults_come_from_the_file_not_from_a_module_main_has_changed(out_args, shakespeare):
    stage = __import__("importlib").import_module("00_bigram_stats")
    stage.main(["--smoothing=0.5"] + out_args)  # changes the imported module's globals
    assert stage.smoothing == 0.5
    assert compare.overrides(record("00_bigram_stats", 2.48)) == []
    assert compare.overrides(record("00_bigram_stats", 2.48, smoothing=0.5)) == ["--smoothing=0.5"]


def test_run_ladder_stops_at_a_failing_stage(tmp_path):
    commands = [["00_bigram_stats.py", "--bogus=1"], ["01_bigram_torch.py"]]
    with pytest.raises(SystemExit) as e:
        compare.run_ladder(str(tmp_path), commands)
    log_path = tmp_path / "00_bigram_stats.txt"
    assert str(e.value) == (f"error: python 00_bigram_stats.py --bogus=1 failed; its output is "
                            f"in {log_path}")
    assert "error: unknown option --bogus" in log_path.read_text(encoding="utf-8")
    assert not (tmp_path / "01_bigram_torch.txt").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to a process")
def test_ctrl_c_during_the_ladder_loses_nothing(tmp_path, shakespeare):
    out = tmp_path / "out"
    stage = ["09_dropout_scaled.py", "--block_size=16", "--n_embd=32", "--n_head=4",
             "--n_layer=2", "--batch_size=8", "--max_iters=100000", "--eval_interval=5",
             "--eval_iters=1", f"--out_dir={out}"]
    code = (f"import compare; compare.run_ladder({str(tmp_path / 'logs')!r}, "
            f"[{stage!r}, ['10_kvcache_sample.py']])")
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in proc.stdout:  # wait until the stage is training and has checkpointed
            if line.startswith("step 10:"):
                break
        proc.send_signal(signal.SIGINT)  # to the ladder, as a terminal's Ctrl-C would
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "=== Ctrl-C: the ladder stopped after python " \
           "09_dropout_scaled.py" in err
    log = (tmp_path / "logs" / "09_dropout_scaled.txt").read_text(encoding="utf-8")
    assert "Ctrl-C: stopping after this step" in log and "final: val loss" in log
    assert "Ctrl-C: stopping after this step" in rest  # what the stage printed was passed on
    record_ = json.loads((out / "results.jsonl").read_text(encoding="utf-8"))
    assert 10 <= record_["iters"] < 100000 and (out / "ckpt.pt").exists()
    assert not (tmp_path / "logs" / "10_kvcache_sample.txt").exists()  # the ladder stopped


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM to a process on Windows")
def test_killing_the_ladder_ends_the_running_stage_too(tmp_path, shakespeare):
    stage = ["09_dropout_scaled.py", "--block_size=16", "--n_embd=32", "--n_head=4",
             "--n_layer=2", "--batch_size=8", "--max_iters=100000", "--eval_interval=5",
             "--eval_iters=1", f"--out_dir={tmp_path / 'out'}"]
    code = f"import compare; compare.run_ladder({str(tmp_path / 'logs')!r}, [{stage!r}])"
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in proc.stdout:  # wait until the stage is training
            if line.startswith("step 10:"):
                break
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    log_path = tmp_path / "logs" / "09_dropout_scaled.txt"
    assert err.strip() == (f"=== stopped by signal {int(signal.SIGTERM)} during python "
                           f"{' '.join(stage)}; its output is in {log_path}")
    assert proc.returncode == 1 and len(children) == 1
    with pytest.raises(ProcessLookupError):  # the stage is gone, not training on alone
        os.kill(int(children[0]), 0)


def test_no_runs_on_that_data_set(tmp_path):
    log = write_log(tmp_path / "results.jsonl", [record("00_bigram_stats", 2.48)])
    with pytest.raises(SystemExit) as e:
        compare.main([f"--log={log}", "--data=songci"])
    assert str(e.value) == "error: no runs on --data=songci in the log; it has runs on: shakespeare"


def full_ladder(**settings):
    return [record(name, 2.5 - i / 10, **(settings if i == 4 else {}))
            for i, (name, *_) in enumerate(compare.STAGES)]


def test_readme_table_rewritten_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{tables.TABLE_START}\nold table\n{tables.TABLE_END}\n\nEnd.\n",
                      encoding="utf-8")
    runs = compare.latest(full_ladder(), "shakespeare")
    bands = {"03_self_attention": [2.41, 2.39, 2.40]}
    tables.write_table(str(readme), tables.TABLE_START, tables.TABLE_END,
                       tables.readme_table(runs, bands))
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\n{tables.TABLE_START}\n| script |")
    assert text.endswith(f"{tables.KV_CACHE_ROW}\n{tables.TABLE_END}\n\nEnd.\n")
    assert "old table" not in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 11
    assert rows[3] == ("| `03_self_attention.py` | one head of **causal self-attention** | "
                       "2.4000 ± 0.0100 (3) | 12 s | 2.40 |")
    assert rows[4].startswith("| `04_multihead.py` | **multi-head** attention | 2.1000 (one seed) |")


def test_readme_needs_every_stage_at_defaults():
    with pytest.raises(SystemExit) as e:
        tables.readme_table(compare.latest(full_ladder()[:-1], "shakespeare"))
    assert "the log has no run of 09_dropout_scaled" in str(e.value)
    with pytest.raises(SystemExit) as e:
        tables.readme_table(compare.latest(full_ladder(n_embd=64), "shakespeare"))
    assert "the latest run of 04_multihead used --n_embd=64" in str(e.value)


def test_readme_tables_come_from_the_reference_records():
    """README.md's ladder table and notes/songci.md's Song ci table are the committed
    reference records', as tools/readme_tables.py writes them."""
    for table, path, start, end in zip(
            tables.reference_tables(), [compare.README, tables.SONGCI_NOTE],
            [tables.TABLE_START, tables.SONGCI_START], [tables.TABLE_END, tables.SONGCI_END]):
        text = open(path, encoding="utf-8").read()
        assert text[text.index(start) + len(start): text.index(end)].strip() == table


def test_stage_scripts_draw_nothing():
    for stage in STAGES:
        assert "matplotlib" not in (ROOT / f"{stage}.py").read_text(encoding="utf-8"), stage


def test_the_reference_seeds_are_kept_and_at_defaults():
    """At least five seeds of 01-08 (the reference run's and those in notes/seeds.jsonl),
    each at defaults, each with its output in notes/logs/seeds/."""
    seeds = compare.read_log(compare.SEEDS)
    records = compare.read_log(compare.REFERENCE) + seeds
    bands = compare.seed_bands(records, "shakespeare")
    for name in compare.LADDER[1:9]:
        used = sorted(r["seed"] for r in records if r["stage"] == name and
                      all(o.startswith("--seed=") for o in compare.overrides(r)))
        assert len(used) >= 5 and len(set(used)) == len(used), (name, used)
        assert len(bands[name]) == len(used)
    for r in seeds:
        log = ROOT / "notes" / "logs" / "seeds" / f"{r['stage']}_seed{r['seed']}.txt"
        assert f"final: val loss {r['val_loss']:.4f} (whole split)" in log.read_text(encoding="utf-8")


def test_the_song_ci_ladder_runs_every_stage_at_its_preset(tmp_path):
    assert [c[0] for c in compare.SONGCI_COMMANDS] == [c[0] for c in compare.LADDER_COMMANDS]
    assert all("--preset=songci" in c for c in compare.SONGCI_COMMANDS)
    with pytest.raises(SystemExit) as e:
        compare.main(["--run", "--data=my_poems.txt", f"--png={tmp_path / 'c.png'}"])
    assert str(e.value) == ("error: --run runs the ladder on shakespeare or songci; for "
                            "--data=my_poems.txt run each stage with --data=my_poems.txt")
