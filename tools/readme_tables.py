"""The maintainer's table writer: the ladder table of README.md and the Song ci table of
notes/songci.md, from the committed reference records (notes/results.jsonl,
notes/seeds.jsonl, notes/songci.jsonl). A learner never needs it; compare.py is the
learner's tool.

    python tools/readme_tables.py          # rewrite both tables
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import compare  # noqa: E402
import plumbing  # noqa: E402

TABLE_START = "<!-- ladder table: written by python tools/readme_tables.py -->"
TABLE_END = "<!-- end of ladder table -->"
SONGCI_START = "<!-- songci table: written by python tools/readme_tables.py -->"
SONGCI_END = "<!-- end of songci table -->"
SONGCI_NOTE = os.path.join(os.path.dirname(compare.README), "notes", "songci.md")
IDEAS = {  # what each stage adds, as the README's table says it
    "00_bigram_stats": "a bigram model by **counting**",
    "01_bigram_torch": "the same model as a **trainable lookup table**",
    "02_position": "**position embeddings**",
    "03_self_attention": "one head of **causal self-attention**",
    "04_multihead": "**multi-head** attention",
    "05_feedforward": "a per-position **feed-forward** layer",
    "06_block": "**blocks**, stacked 3 times (no residuals yet: no better)",
    "07_residual": "**residual connections**",
    "08_layernorm": "pre-norm **LayerNorm**",
    "09_dropout_scaled": "**dropout**, and the model **scaled up**",
}
KV_CACHE_ROW = "| `10_kvcache_sample.py` | sampling with a **key/value cache** | – | – | – |"


def readme_table(runs, bands=None):
    """The README's ladder table: each stage's val loss as the mean ± standard deviation over
    seeds where bands (compare.seed_bands) holds more than one, and the time of one run at
    its defaults (runs)."""
    bands = bands or {}
    lines = ["| script | what it adds | val loss: mean ± sd (seeds) | time | lecture |",
             "| --- | --- | --- | --- | --- |"]
    for name, _, lecture in compare.STAGES:
        if name not in runs:
            sys.exit(f"error: the log has no run of {name}; the README table needs one of "
                     f"every stage")
        if compare.overrides(runs[name]):
            sys.exit(f"error: the latest run of {name} used "
                     + " ".join(compare.overrides(runs[name])) + "; the README table needs "
                     "defaults")
        loss = (compare.band_text(bands[name]) if len(bands.get(name, [])) > 1
                else compare.loss_text(runs[name]["val_loss"]) + " (one seed)")
        lines.append(f"| `{name}.py` | {IDEAS[name]} | {loss} | "
                     f"{compare.fmt_seconds(runs[name]['seconds'])} | {lecture} |")
    return "\n".join(lines + [KV_CACHE_ROW])


def songci_table(records):
    """The Song ci ladder at --preset=songci: seed 1337's run, the mean ± standard deviation
    over seeds, and each step from the stage before taken seed by seed (the same seed gives
    every stage the same initial token table, which on Song ci moves every stage's loss
    together): the mean ± standard deviation of the differences, and whether the mean is
    beyond twice that spread."""
    losses_by = compare.by_seed(records, "songci")
    seconds = {r["stage"]: r["seconds"] for r in records if r.get("seed") == 1337
               and r.get("stage") in losses_by and compare.same_settings(r, "songci")}
    lines = ["| script | val loss (seed 1337) | over seeds: mean ± sd (seeds) | "
             "step, seed by seed: mean ± sd | beyond the spread? | time |",
             "| --- | --- | --- | --- | --- | --- |"]
    previous = None
    for name in compare.LADDER:
        losses = losses_by.get(name, {})
        if 1337 not in losses or len(losses) < 2:
            continue
        step = beyond = "–"
        if previous:
            steps = [losses[s] - losses_by[previous][s] for s in losses
                     if s in losses_by[previous]]
            if len(steps) > 1:
                mean, sd = statistics.mean(steps), statistics.stdev(steps)
                step = f"{mean:+.4f} ± {sd:.4f}"
                beyond = ("no" if abs(mean) <= 2 * sd else "yes, lower" if mean < 0
                          else "yes, higher")
        lines.append(f"| `{name}.py` | {compare.loss_text(losses[1337])} | "
                     f"{compare.band_text(list(losses.values()))} | {step} | {beyond} | "
                     f"{compare.fmt_seconds(seconds[name])} |")
        previous = name
    return "\n".join(lines)


def replace_between(text, start_marker, end_marker, table, path):
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        sys.exit(f"error: {path} has no '{start_marker}' ... '{end_marker}' markers")
    return text[: start + len(start_marker)] + "\n" + table + "\n" + text[end:]


def reference_tables():
    """(ladder table, Song ci table) from the committed reference records."""
    records = compare.read_log(compare.REFERENCE)
    bands = compare.seed_bands(records + compare.read_log(compare.SEEDS), "shakespeare")
    return (readme_table(compare.latest(records, "shakespeare"), bands),
            songci_table(compare.read_log(compare.SONGCI)))


def write_table(path, start_marker, end_marker, table):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = replace_between(text, start_marker, end_marker, table, path)
    plumbing.write_atomic(path, text.encode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", default=compare.README, help="the ladder table's file")
    parser.add_argument("--songci", default=SONGCI_NOTE, help="the Song ci table's file")
    args = parser.parse_args(argv)
    ladder, songci = reference_tables()
    write_table(args.readme, TABLE_START, TABLE_END, ladder)
    write_table(args.songci, SONGCI_START, SONGCI_END, songci)
    print(f"tables rewritten in {args.readme} and {args.songci}")


if __name__ == "__main__":
    main()
