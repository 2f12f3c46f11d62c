"""Compare runs of the ladder: a table, a chart of val loss by stage, training curves.

    python compare.py              # your latest run of each stage, from out/results.jsonl
    python compare.py --run        # first run 00-09 at their defaults, then 10 --compare
    python compare.py --run --data=songci   # the same on Song ci, at --preset=songci

Every stage appends a record to out/results.jsonl when it finishes. This tool takes the
latest record of each stage for one data set, prints it beside the reference run that
the README and the notes quote (notes/results.jsonl) and the lecture's number, and
draws out/compare.png. A record made with overrides says which in the last column.
"""

import argparse
import functools
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import common
import plumbing

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "notes", "results.jsonl")
SEEDS = os.path.join(HERE, "notes", "seeds.jsonl")  # the reference run with other seeds
SONGCI = os.path.join(HERE, "notes", "songci.jsonl")  # 00-08 at --preset=songci, several seeds
README = os.path.join(HERE, "README.md")

# stage, what it adds in a word or two, the lecture's val loss at the same settings
STAGES = [
    ("00_bigram_stats", "counting", "2.48–2.50"),
    ("01_bigram_torch", "lookup table", "2.48–2.50"),
    ("02_position", "positions", "–"),
    ("03_self_attention", "self-attention", "2.40"),
    ("04_multihead", "multi-head", "2.28"),
    ("05_feedforward", "feed-forward", "2.24"),
    ("06_block", "blocks", "–"),
    ("07_residual", "residuals", "2.08"),
    ("08_layernorm", "layernorm", "2.06"),
    ("09_dropout_scaled", "dropout, scale", "1.48 (on a GPU, at `--preset=lecture`)"),
]
NOT_SETTINGS = {"out_dir", "device", "threads"}  # where a run went, not what it trained
# settings added since runs were logged: what those runs used
ADDED_LATER = {"weight_decay": 0.01, "dtype": "float32"}
LADDER = [name for name, *_ in STAGES]
LADDER_COMMANDS = [[name + ".py"] for name in LADDER] + [["10_kvcache_sample.py", "--compare"]]
SONGCI_COMMANDS = [[name + ".py", "--preset=songci"] for name in LADDER] + [
    ["10_kvcache_sample.py", "--preset=songci", "--compare"]]  # 09, 10: out/songci


def read_log(path):
    """The records of a results log, oldest first. A line that is not a whole JSON record
    (a run that crashed mid-write) is skipped with a warning; a clear exit if no record
    is left."""
    if not os.path.exists(path):
        sys.exit(f"error: no results log at {path}. Run a stage first, e.g.\n"
                 f"  python 00_bigram_stats.py\n"
                 f"or the whole ladder with: python compare.py --run")
    records = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record, why = json.loads(line), "not an object"
            except json.JSONDecodeError as e:
                record, why = None, e.msg
            if isinstance(record, dict):
                records.append(record)
            else:
                print(f"warning: {path}, line {number} is not a JSON record ({why}); "
                      f"skipped", file=sys.stderr)
    if not records:
        sys.exit(f"error: {path} holds no runs yet. Run a stage first, e.g.\n"
                 f"  python 00_bigram_stats.py")
    return records


def latest(records, data):
    """The last record of each stage trained on data, keyed by stage."""
    found = {r["stage"]: r for r in records if r.get("data") == data and r.get("stage") in LADDER}
    if not found:
        have = sorted({str(r.get("data")) for r in records if r.get("stage") in LADDER})
        if not have:
            sys.exit("error: the log has no runs of the ladder's stages (00-09)")
        sys.exit(f"error: no runs on --data={data} in the log; it has runs on: "
                 + ", ".join(have))
    return found


def load_stage(name):
    """A fresh copy of a stage's module: its settings as the file sets them, whatever an
    earlier main() in this process changed in the imported one."""
    path = os.path.join(HERE, name + ".py")
    spec = importlib.util.spec_from_file_location(f"fresh_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def defaults(stage):
    return plumbing.hyperparameters(vars(load_stage(stage)))


@functools.lru_cache(maxsize=None)
def presets(stage):
    return getattr(load_stage(stage), "PRESETS", {})


def overrides(record):
    """The settings of a ladder stage's record that differ from its defaults, as --name=value.
    A run with --preset=NAME is compared with the defaults that preset gives."""
    base = {**defaults(record["stage"]), **presets(record["stage"]).get(record.get("preset"), {})}
    made = {name: value for name, value in ADDED_LATER.items() if name in base} | record
    found = [f"--{name}={made[name]}" for name, value in base.items()
             if name not in NOT_SETTINGS and name in made and made[name] != value]
    return sorted(found, key=lambda o: not o.startswith("--preset="))  # the preset first


def band_preset(stage, data):
    """The preset whose runs make a stage's reference band on data: songci's on Song ci."""
    return "songci" if data == "songci" and "songci" in presets(stage) else defaults(stage).get(
        "preset")


def same_settings(record, data):
    """Was the run made at the settings of the reference band, whatever its seed?"""
    preset = band_preset(record["stage"], data)
    made_at = record.get("preset", defaults(record["stage"]).get("preset"))  # older: none
    return made_at == preset and all(
        o.startswith(("--seed=", f"--preset={preset}")) for o in overrides(record))


def loss_text(loss):
    return "not finite" if loss is None else f"{loss:.4f}"  # the log writes NaN, inf as null


def by_seed(records, data):
    """{stage: {seed: val loss}} of the ladder's runs on data at its defaults (at
    --preset=songci on Song ci); a seed run twice counts once, the later run."""
    found = {}
    for r in records:
        if (r.get("data") == data and r.get("stage") in LADDER and r.get("val_loss") is not None
                and same_settings(r, data)):
            found.setdefault(r["stage"], {})[r["seed"]] = r["val_loss"]
    return found


def seed_bands(records, data):
    """The val losses of each ladder stage's runs at its defaults (at --preset=songci on Song
    ci), one per seed, by stage."""
    return {stage: list(losses.values()) for stage, losses in by_seed(records, data).items()}


def band_text(losses):
    """'mean ± standard deviation (seeds)', or the one loss there is."""
    if len(losses) < 2:
        return loss_text(losses[0])
    return f"{statistics.mean(losses):.4f} ± {statistics.stdev(losses):.4f} ({len(losses)})"


def stopped_early(record):
    """Did Ctrl-C end the run's training before max_iters?"""
    return "max_iters" in record and record.get("iters", record["max_iters"]) < record["max_iters"]


def verdict(record, losses):
    """Is a run's val loss where the reference seeds say a run at its settings lands?"""
    if stopped_early(record):
        return f"stopped early ({record['iters']} of {record['max_iters']} steps)"
    if not same_settings(record, record["data"]):
        return "other settings"
    if record["val_loss"] is None or len(losses) < 2:
        return "–"
    mean, spread = statistics.mean(losses), max(2 * statistics.stdev(losses), 0.001)
    if abs(record["val_loss"] - mean) <= spread:
        return "inside"  # within two standard deviations of the seeds' mean
    return f"outside, {record['val_loss'] - mean:+.4f}"


def fmt_seconds(seconds):
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def table(runs, reference, bands=None):
    """Rows of the comparison, one per stage in the ladder that has a run. bands holds the
    reference run's val losses over seeds, by stage (seed_bands)."""
    bands = bands or {}
    rows, previous, previous_name = [], None, None
    for name, concept, lecture in STAGES:
        if name not in runs:
            continue
        r = runs[name]
        if r["data"] != "shakespeare":
            lecture = "–"  # the lecture trained on Tiny Shakespeare only
        ref = reference.get(name)
        change = ""
        if previous is not None and r["val_loss"] is not None:
            change = f"{r['val_loss'] - previous:+.4f}"
            if previous_name != LADDER[LADDER.index(name) - 1]:  # a stage between was not run
                change += f" (from {previous_name[:2]})"
        rows.append({
            "stage": name[:2], "concept": concept, "val loss": loss_text(r["val_loss"]),
            "change": change,
            "reference": (band_text(bands[name]) if name in bands
                          else loss_text(ref["val_loss"]) if ref else "–"),
            "vs reference": verdict(r, bands.get(name, [])),
            "lecture": lecture.split(" ")[0], "params": f"{r['params']:,}",
            "time": fmt_seconds(r["seconds"]), "tokens/s": f"{r['tokens_per_s']:,.0f}",
            "settings": " ".join(overrides(r)) or "defaults"})
        previous, previous_name = r["val_loss"], name
    return rows


def print_table(rows):
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


def plot(runs, reference, path, label="your run", bands=None):
    """Val loss by stage (yours, the reference seeds' mean ± standard deviation, the
    lecture's) and the val-loss curves, in one PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = bands or {}
    names = [name for name, *_ in STAGES if name in runs]
    colours = {name: plt.get_cmap("tab10")(i) for i, name in enumerate(LADDER)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=80)
    xs = range(len(names))
    left.plot(xs, [runs[n]["val_loss"] if runs[n]["val_loss"] is not None else float("nan")
                   for n in names], "o-", color="tab:blue", label=label)
    spread = [(x, statistics.mean(bands[n]), statistics.stdev(bands[n]))
              for x, n in zip(xs, names) if len(bands.get(n, [])) > 1]
    if spread:
        x, mean, sd = zip(*spread)
        seeds = max(len(b) for b in bands.values())
        left.errorbar(x, mean, yerr=sd, fmt="s", color="black", markersize=4, capsize=4,
                      label=f"reference: mean ± sd over up to {seeds} seeds")
    ref = [(x, reference[n]["val_loss"]) for x, n in zip(xs, names)
           if n in reference and reference[n]["val_loss"] is not None
           and len(bands.get(n, [])) < 2]  # one seed: a cross, not a bar
    if ref:
        left.plot(*zip(*ref), "kx", markersize=8, label="reference run")
    lectures = {name: lec for name, _, lec in STAGES}
    lecture = [(x, float(lectures[n].split(" ")[0].split("–")[0]), n) for x, n in zip(xs, names)
               if lectures[n][0].isdigit() and runs[n]["data"] == "shakespeare"]
    same = [(x, y) for x, y, n in lecture if n != "09_dropout_scaled"]
    if same:
        left.plot(*zip(*same), "D", color="tab:red", markersize=5, label="lecture, same settings")
    for x, y, n in lecture:
        if n == "09_dropout_scaled":  # not the same model: the lecture's preset, on a GPU
            left.plot(x, y, "D", color="tab:red", markerfacecolor="none", markersize=7,
                      label="lecture's 1.48: its 10.8M-parameter model, on a GPU")
    left.set_xticks(list(xs), [n[:2] for n in names])
    left.set(xlabel="stage", ylabel="val loss (whole split)", title="Val loss by stage")
    left.legend(loc="lower left", fontsize=9)
    for name in names:
        if runs[name].get("curve"):
            steps, _, val = zip(*runs[name]["curve"])
            right.plot(steps, val, label=name[:2], linewidth=1.5, color=colours[name])
    right.set(xlabel="step", ylabel="val loss (estimate)", title="Training curves")
    right.legend(fontsize=9, ncol=3, title="stage")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_ladder(log_dir, commands=LADDER_COMMANDS):
    """Run every stage at its defaults, saving each one's output in log_dir.

    Ctrl-C goes to the stage that is running, once: during training, the stage stops after
    the current step and still evaluates, logs and checkpoints (later, during its final
    evaluation, it stops at once and its periodic checkpoint stays). The ladder then stops,
    exit 130. A kill (SIGTERM), or a closed terminal (SIGHUP), ends the stage too."""
    os.makedirs(log_dir, exist_ok=True)
    t0 = time.time()
    for command in commands:
        print(f"=== python {' '.join(command)}", flush=True)
        log_path = os.path.join(log_dir, command[0][:-3] + ".txt")
        with open(log_path, "w", encoding="utf-8") as log:
            # On POSIX the stage runs in a session of its own, so the terminal's Ctrl-C
            # reaches only this process, which passes it on; on Windows the console
            # sends Ctrl-C to both, so there is nothing to pass on.
            process = subprocess.Popen([sys.executable, "-u", *command], cwd=HERE, text=True,
                                       encoding="utf-8", errors="replace",
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=os.name == "posix")
            interrupted = []

            def pass_on(signum, frame):
                interrupted.append(signum)
                if os.name == "posix":
                    process.send_signal(signal.SIGINT)

            def end_both(signum, frame):  # kill, or the terminal closed: the stage goes too
                process.terminate()
                process.wait()
                sys.exit(f"=== stopped by signal {signum} during python {' '.join(command)}; "
                         f"its output is in {log_path}")

            handlers = {signal.SIGINT: pass_on}
            for name in ("SIGTERM", "SIGHUP"):  # SIGHUP does not exist on Windows
                if hasattr(signal, name):
                    handlers[getattr(signal, name)] = end_both
            previous = {number: signal.signal(number, handler)
                        for number, handler in handlers.items()}
            try:
                for line in process.stdout:  # keep reading: the stage is still finishing
                    print(line, end="", flush=True)
                    log.write(line)
                code = process.wait()
            finally:
                for number, handler in previous.items():
                    signal.signal(number, handler)
        if interrupted:
            print(f"=== Ctrl-C: the ladder stopped after python {' '.join(command)}; "
                  f"its output is in {log_path}", file=sys.stderr, flush=True)
            sys.exit(130)
        if code != 0:
            sys.exit(f"error: python {' '.join(command)} failed; its output is in {log_path}")
    print(f"=== the ladder took {time.time() - t0:.0f} s; outputs in {log_dir}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", default=os.path.join("out", "results.jsonl"),
                        help="results log to read (default: out/results.jsonl)")
    parser.add_argument("--data", default="shakespeare", help="data set to compare")
    parser.add_argument("--png", default=os.path.join("out", "compare.png"),
                        help="chart to write (default: out/compare.png)")
    parser.add_argument("--run", action="store_true",
                        help="first run 00-09 at defaults (at --preset=songci with --data=songci) "
                             "and 10 --compare (each one's output in out/logs or out/logs/songci)")
    args = parser.parse_args(argv)
    plumbing.utf8_console()  # the table has dashes; a --data file name may not be ASCII
    if args.run and args.data not in ("shakespeare", "songci"):
        sys.exit(f"error: --run runs the ladder on shakespeare or songci; for --data={args.data} "
                 f"run each stage with --data={args.data}")
    if args.run:
        if args.data == "shakespeare":
            run_ladder(os.path.join(HERE, "out", "logs"))
        else:
            run_ladder(os.path.join(HERE, "out", "logs", "songci"), SONGCI_COMMANDS)
    runs = latest(read_log(args.log), args.data)
    reference, bands = {}, {}
    if os.path.exists(REFERENCE) and args.data == "shakespeare":
        records = read_log(REFERENCE) + (read_log(SEEDS) if os.path.exists(SEEDS) else [])
        reference, bands = latest(read_log(REFERENCE), args.data), seed_bands(records, args.data)
    elif os.path.exists(SONGCI) and args.data == "songci":
        records = read_log(SONGCI)
        reference = latest([r for r in records if r.get("seed") == 1337], args.data)
        bands = seed_bands(records, args.data)
    rows = table(runs, reference, bands)
    print_table(rows)
    plot(runs, reference, args.png, bands=bands)
    print(f"chart: {args.png}")
    return rows


if __name__ == "__main__":
    main()
