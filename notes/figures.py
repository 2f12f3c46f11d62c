"""Draw the pictures in the notes, from short runs of the stages and a results log.

    python notes/figures.py                          # all of them, into notes/figures/
    python notes/figures.py counts attention         # only some
    python notes/figures.py --log=out/results.jsonl  # curves from your own runs

    counts     00_counts.png     stage 00 at its defaults: the bigram count matrix
    position   02_position.png   stage 02 at its defaults: the learned position embeddings
    attention  03_attention.png  stage 03 at its defaults: its head on a line of text,
                                 softmax without and with the causal mask
    songci_attention  03_attention_songci.png  stage 03 at --preset=songci: its head on a
                                 line of Su Shi (a Chinese font is used if one is installed)
    qkv        03_qkv.png        one head of attention as a data flow with shapes (no training)
    heads      04_heads.png      stage 04 at its defaults: its four heads on that line
    residual   07_residual.png   the 05, 06 and 07 training curves in the log
    stream     07_stream.png     stages 06, 07 and 08 at their defaults: the residual stream's
                                 standard deviation after each block, untrained and trained
    dropout    09_dropout.png    the 09 runs with and without dropout in the log
    kvcache    10_kvcache.png    stage 10: time per character with and without the cache, at
                                 stage 09's size and the lecture's (random weights: the speed
                                 does not depend on them); prints tokens/s for both
    architecture  architecture.png  the model of stages 08-10 as a data flow with shapes
    ladder     ladder.png        val loss by stage and every training curve in the log
                                 (compare.py's chart, without a reference)

The stage scripts themselves draw nothing. The log defaults to notes/results.jsonl, the
reference run the notes quote.
"""

import argparse
import os
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import common  # noqa: E402
import plumbing  # noqa: E402
import compare  # noqa: E402

FIGURES = os.path.join(ROOT, "notes", "figures")
KV_STEPS = 3  # the KV-cache timing generates this many context lengths of characters
LINE = "My lord,"  # a line of the play, as long as the context of stages 02-08
SONGCI_LINE = "明月几时有，把酒问青天。"  # Su Shi, 水调歌头; fits --preset=songci's context
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC", "Heiti SC"]
DPI = 80


def train(stage_name, *overrides):
    """Run a fresh copy of a stage's main() at its defaults, quietly, its log in a
    temporary folder."""
    stage = compare.load_stage(stage_name)
    with tempfile.TemporaryDirectory() as out, open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            model, result = stage.main([f"--out_dir={out}", *overrides])
        finally:
            sys.stdout = stdout
    print(f"  {stage_name}: val loss {result['val_loss']:.4f}")
    return stage, model.eval()


def save(fig, name):
    path = os.path.join(FIGURES, name)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"  wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path) // 1024} KiB)")


def shown(chars):
    return [repr(c)[1:-1] if c in "\n\t" else (c if c != " " else "␣") for c in chars]


def draw_counts(log):
    stage, model = train("00_bigram_stats")
    chars = shown(common.Vocab(common.load_text(stage.data)[0]).chars)
    fig, ax = plt.subplots(figsize=(10.5, 9.5))
    image = ax.imshow(torch.log10(1 + model.counts).numpy(), cmap="Blues")
    ax.set_xticks(range(len(chars)), chars, fontsize=8)
    ax.set_yticks(range(len(chars)), chars, fontsize=8)
    ax.tick_params(axis="x", labeltop=True)  # the labels on both sides of a 65 x 65 grid
    ax.set(xlabel="next character", ylabel="current character",
           title="Stage 00: how often each character follows each other (train split)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="log10(1 + count)")
    save(fig, "00_counts.png")


def draw_position(log):
    stage, model = train("02_position")
    pos = model.position_embedding_table.weight.detach()  # (block_size, n_embd)
    unit = F.normalize(pos, dim=-1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2), width_ratios=[2.2, 1])
    image = left.imshow(pos.numpy(), cmap="RdBu_r", aspect="auto", vmin=-pos.abs().max(),
                        vmax=pos.abs().max())
    left.set(xlabel="channel (n_embd = 32)", ylabel="position",
             title="Stage 02: the learned position embeddings")
    fig.colorbar(image, ax=left)
    image = right.imshow((unit @ unit.T).numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    right.set(xlabel="position", ylabel="position", title="cosine similarity")
    fig.colorbar(image, ax=right)
    save(fig, "02_position.png")


def attention_of(model, head, idx):
    """A head's scaled scores and its weights without and with the causal mask."""
    seen = {}
    hook = head.register_forward_hook(lambda module, args, out: seen.update(x=args[0]))
    model(idx)
    hook.remove()
    q, k = head.query(seen["x"])[0], head.key(seen["x"])[0]  # (T, hs) each
    scores = q @ k.T * k.size(-1) ** -0.5  # (T, T)
    T = scores.size(0)
    masked = scores.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
    return F.softmax(scores, dim=-1).detach(), F.softmax(masked, dim=-1).detach()


def heatmap(ax, weights, chars, title):
    ax.imshow(weights.numpy(), cmap="Greens", vmin=0, vmax=1)
    ax.set_xticks(range(len(chars)), chars)
    ax.set_yticks(range(len(chars)), chars)
    ax.set(xlabel="key (attended to)", ylabel="query (attending)", title=title)
    for (i, j), w in zip(((i, j) for i in range(len(chars)) for j in range(len(chars))),
                         weights.flatten().tolist()):
        if w >= 0.005:
            ax.text(j, i, f"{w:.2f}".lstrip("0"), ha="center", va="center", fontsize=6)


def line_ids(stage):
    text = common.load_text(stage.data)[0]
    assert LINE in text
    return torch.tensor([common.Vocab(text).encode(LINE)])


def draw_attention(log):
    stage, model = train("03_self_attention")
    before, after = attention_of(model, model.sa, line_ids(stage))
    chars = shown(LINE)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.4))
    heatmap(left, before, chars, "softmax without the mask")
    heatmap(right, after, chars, "with the causal mask (the real weights)")
    fig.suptitle(f"Stage 03: the trained head reading {LINE!r}")
    save(fig, "03_attention.png")


def draw_songci_attention(log):
    """Stage 03's head, trained on the Song ci, reading a famous line: which earlier
    characters each character looks at."""
    from matplotlib import font_manager
    installed = {font.name for font in font_manager.fontManager.ttflist}
    fonts = [name for name in CJK_FONTS if name in installed]  # none: the characters show as boxes
    stage, model = train("03_self_attention", "--preset=songci")
    text = common.load_text(stage.data)[0]
    assert SONGCI_LINE in text and len(SONGCI_LINE) <= stage.block_size
    idx = torch.tensor([common.Vocab(text).encode(SONGCI_LINE)])
    _, weights = attention_of(model, model.sa, idx)
    with plt.rc_context({"font.sans-serif": fonts + plt.rcParams["font.sans-serif"]}):
        fig, ax = plt.subplots(figsize=(5.6, 5.2))
        heatmap(ax, weights, list(SONGCI_LINE), "")
        ax.set(xlabel="key (attended to)  被看的字", ylabel="query (attending)  在看的字")
        fig.suptitle(f"Stage 03 on the Song ci, reading {SONGCI_LINE}")
        save(fig, "03_attention_songci.png")


def draw_qkv(log):
    """One head of stage 03 as a data flow with shapes: boxes and arrows, nothing trained."""
    fig, ax = plt.subplots(figsize=(8, 8.6))
    ax.set(xlim=(0, 10), ylim=(0, 17.2))
    ax.axis("off")

    def box(x, y, w, h, text, colour="white"):
        ax.add_patch(matplotlib.patches.FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.2",
            facecolor=colour, edgecolor="grey"))
        ax.text(x, y, text, ha="center", va="center", fontsize=10)

    def arrow(start, end, bend=None):
        ax.annotate("", end, start, arrowprops=dict(
            arrowstyle="->", lw=1.2, shrinkA=0, shrinkB=0,
            connectionstyle=bend or "arc3"))

    box(5, 16, 4.6, 1.1, "x   (B, T, C)\neach position's vector, private to it", "#f2f2f2")
    columns = [(1.9, "query", "q", "what am I looking for?"),
               (5.0, "key", "k", "what do I contain?"),
               (8.1, "value", "v", "what do I pass on?")]
    for x, name, short, role in columns:
        arrow((5, 15.45), (x, 14.45))
        box(x, 13.9, 2.8, 1.1, f"{name}: Linear\nC → hs", "#dbe9f6")
        arrow((x, 13.35), (x, 12.35))
        box(x, 11.8, 2.8, 1.1, f"{short}   (B, T, hs)\n{role}")
    chain = [(9.6, 1.1, "q @ kᵀ   (B, T, T)\nevery query meets every key"),
             (7.9, 0.8, "scale:  × 1/√hs"),
             (6.2, 1.1, "mask:  future → −∞\n(only the lower triangle is kept)"),
             (4.5, 1.1, "softmax over each row\nwei   (B, T, T), rows sum to 1")]
    arrow((1.9, 11.25), (2.7, 10.15))
    arrow((5.0, 11.25), (4.2, 10.15))
    for (y0, h0, _), (y1, h1, _) in zip(chain, chain[1:]):
        arrow((3.45, y0 - h0 / 2), (3.45, y1 + h1 / 2))
    for y, h, text in chain:
        box(3.45, y, 3.8, h, text, "#fde2c8")
    size, (left, top) = 0.2, (0.3, 6.84)  # a 4 x 4 causal mask beside its box
    for row in range(4):
        for col in range(4):
            ax.add_patch(plt.Rectangle((left + col * size, top - (row + 1) * 0.32), size, 0.32,
                                       facecolor="#e6550d" if col <= row else "#d9d9d9",
                                       edgecolor="white"))
    box(6.0, 2.5, 3.0, 1.1, "out = wei @ v\nweighted average of the values", "#fde2c8")
    arrow((3.45, 3.95), (4.5, 2.5), "angle,angleA=90,angleB=0")
    arrow((8.1, 11.25), (7.5, 2.5), "angle,angleA=90,angleB=0")
    arrow((6.0, 1.95), (6.0, 1.2))
    box(6.0, 0.8, 3.0, 0.8, "out   (B, T, hs)")
    ax.set_title("One head of causal self-attention (stage 03), with shapes\n"
                 "B batch, T context, C = n_embd, hs head size", fontsize=11)
    save(fig, "03_qkv.png")


def draw_heads(log):
    stage, model = train("04_multihead")
    chars = shown(LINE)
    fig, axes = plt.subplots(1, len(model.sa.heads), figsize=(13, 3.8))
    for number, (ax, head) in enumerate(zip(axes, model.sa.heads)):
        heatmap(ax, attention_of(model, head, line_ids(stage))[1], chars, f"head {number}")
    fig.suptitle(f"Stage 04: four trained heads reading {LINE!r}, each attending differently")
    save(fig, "04_heads.png")


def stream_stds(model, idx):
    """The standard deviation of the residual stream: after the embeddings, then after
    each block (what the next block, or lm_head, receives)."""
    seen = []
    hooks = [model.blocks.register_forward_pre_hook(lambda m, args: seen.append(args[0]))]
    hooks += [b.register_forward_hook(lambda m, args, out: seen.append(out))
              for b in model.blocks]
    with torch.no_grad():
        model(idx)
    for hook in hooks:
        hook.remove()
    return [x.std().item() for x in seen]


def draw_stream(log):
    """06, 07, 08: the residual stream's size through the blocks, untrained and trained."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, colour in (("06_block", "tab:red"), ("07_residual", "tab:green"),
                         ("08_layernorm", "tab:blue")):
        stage = compare.load_stage(name)
        torch.manual_seed(stage.seed)
        untrained = stage.LanguageModel(65).eval()
        text = common.load_text(stage.data)[0]
        _, val = common.train_val_split(torch.tensor(common.Vocab(text).encode(text)))
        idx = val[: 64 * stage.block_size].view(64, stage.block_size)  # 64 windows of val
        trained = train(name)[1]
        layers = range(stage.n_layer + 1)
        for model, style, when in ((untrained, "o--", "at initialisation"),
                                   (trained, "o-", "trained")):
            stds = stream_stds(model, idx)
            ax.plot(layers, stds, style, color=colour, label=f"{name[:2]} {when}")
            print(f"  {name} {when}: std " + " -> ".join(f"{v:.3f}" for v in stds))
    ax.set_yscale("log")
    ax.set_xticks(list(layers), ["embeddings"] + [f"after block {i}" for i in layers[1:]])
    ax.set(ylabel="standard deviation of x (64 val windows)",
           title="x through the blocks: untrained, 06 shrinks it; 07 and 08 carry it")
    ax.legend(fontsize=8, ncol=3)
    save(fig, "07_stream.png")


def draw_architecture(log):
    """The model of stages 08-10 as a data flow with shapes, and where each part came in."""
    fig, ax = plt.subplots(figsize=(8.5, 10))
    ax.set(xlim=(0, 10), ylim=(0, 20))
    ax.axis("off")
    boxes = [  # (y, text, the stage that brings it, colour)
        (19.0, "idx: character ids  (B, T)", "", "white"),
        (17.5, "token embedding  vocab_size → C      +      position embedding  T → C",
         "01, 02", "#dbe9f6"),
        (16.0, "x: the residual stream  (B, T, C)", "", "white"),
        (14.5, "LayerNorm", "08", "#f2f2f2"),
        (13.0, "causal self-attention, nh heads side by side\n"
               "q, k, v: (B, nh, T, hs), hs = C / nh;  softmax(q kᵀ / √hs, masked) v", "03, 04",
         "#fde2c8"),
        (11.5, "projection  C → C,   then  x = x + (…)", "07", "#fde2c8"),
        (10.0, "LayerNorm", "08", "#f2f2f2"),
        (8.5, "feed-forward  C → 4C → ReLU → C,   then  x = x + (…)", "05, 07", "#d9f0d3"),
        (6.5, "final LayerNorm", "08", "#f2f2f2"),
        (5.0, "lm_head  C → vocab_size", "01, 02", "#dbe9f6"),
        (3.5, "logits  (B, T, vocab_size)", "", "white"),
        (2.0, "softmax → next-character probabilities;  cross-entropy with the targets", "01",
         "white"),
    ]
    for y, text, stage, colour in boxes:
        ax.text(5, y, text, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4", facecolor=colour, edgecolor="grey"))
        if stage:
            ax.text(9.9, y, f"stage {stage}", ha="right", va="center", fontsize=8, color="grey")
    for (y0, *_), (y1, *_) in zip(boxes, boxes[1:]):
        ax.annotate("", (5, y1 + 0.55), (5, y0 - 0.55), arrowprops=dict(arrowstyle="->"))
    ax.add_patch(plt.Rectangle((0.3, 7.6), 8.4, 7.6, fill=False, linestyle="--", color="grey"))
    ax.text(0.45, 14.95, "Block × n_layer (06)", fontsize=9, color="grey")
    ax.annotate("", (0.9, 11.5), (0.9, 16.0), arrowprops=dict(arrowstyle="->", color="tab:red",
                connectionstyle="arc3,rad=0.3"))
    ax.annotate("", (0.9, 8.5), (0.9, 11.3), arrowprops=dict(arrowstyle="->", color="tab:red",
                connectionstyle="arc3,rad=0.3"))
    ax.text(0.35, 9.9, "residual\n(07)", fontsize=8, color="tab:red", ha="left")
    ax.set_title("The model of stages 08-10: the data flow, with shapes\n"
                 "(B batch, T context, C = n_embd, nh heads of size hs; "
                 "stage 09 adds dropout after the softmax and each branch)", fontsize=10)
    save(fig, "architecture.png")


def runs_in(log, keep):
    """The latest Shakespeare record of each ladder stage in the log that keep() accepts."""
    records = [r for r in compare.read_log(log) if r.get("data") == "shakespeare"
               and r.get("stage") in compare.LADDER and keep(r)]
    return {r["stage"]: r for r in records}


def draw_curves(ax, record, label, color):
    steps, train_loss, val_loss = zip(*record["curve"])
    ax.plot(steps, val_loss, color=color, label=f"{label}: val")
    ax.plot(steps, train_loss, color=color, linestyle=":", label=f"{label}: train")
    ax.plot(record["iters"], record["val_loss"], "o", color=color, markersize=4)


def draw_residual(log):
    runs = runs_in(log, lambda r: not compare.overrides(r))
    missing = [s for s in ("05_feedforward", "06_block", "07_residual") if s not in runs]
    if missing:
        return print(f"  skipped: {log} has no default run of " + ", ".join(missing))
    fig, ax = plt.subplots(figsize=(7, 4))
    for stage, color in (("05_feedforward", "tab:blue"), ("06_block", "tab:red"),
                         ("07_residual", "tab:green")):
        draw_curves(ax, runs[stage], stage, color)
    ax.set(xlabel="step", ylabel="loss", ylim=(1.9, 3.0),
           title="Stacking blocks hurts (06) until residuals carry the signal (07)")
    ax.legend(fontsize=8)
    save(fig, "07_residual.png")


def draw_dropout(log):
    def full_length(r):
        return r["stage"] == "09_dropout_scaled" and r["iters"] == 5000

    runs = {r["dropout"]: r for r in compare.read_log(log)
            if r.get("data") == "shakespeare" and full_length(r)}
    if 0.0 not in runs or len(runs) < 2:
        return print(f"  skipped: {log} needs 5000-step runs of 09 with --dropout=0 and, "
                     f"e.g., --dropout=0.2")
    fig, ax = plt.subplots(figsize=(7, 4))
    for (rate, record), color in zip(sorted(runs.items()), ("tab:red", "tab:blue", "tab:green")):
        draw_curves(ax, record, f"dropout {rate}", color)
        gap = record["val_loss"] - record["train_loss"]
        ax.annotate(f"gap {gap:.2f}", (record["iters"], record["val_loss"]), fontsize=8,
                    xytext=(-50, 8), textcoords="offset points", color=color)
    ax.set(xlabel="step", ylabel="loss", ylim=(1.0, 2.6),
           title="Stage 09: train and val loss, with and without dropout")
    ax.legend(fontsize=8)
    save(fig, "09_dropout.png")


def step_times(model, n, use_cache, repeats=3):
    """Milliseconds each generated character took (median of repeats), in order."""
    runs = []
    for _ in range(repeats):
        stamps = [time.perf_counter()]
        hook = model.register_forward_hook(lambda *_: stamps.append(time.perf_counter()))
        torch.manual_seed(1)
        model.generate(torch.zeros((1, 1), dtype=torch.long), n, 1.0, 0, use_cache)
        hook.remove()
        runs.append([1000 * (b - a) for a, b in zip(stamps, stamps[1:])])
    return [sorted(step)[len(step) // 2] for step in zip(*runs)]


def draw_kvcache(log):
    """Time per generated character, with and without the cache, at two model sizes."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, preset in zip(axes, ("cpu", "lecture")):
        nine = compare.load_stage("09_dropout_scaled")  # the model stage 09 trains at preset
        plumbing.configure(vars(nine), [f"--preset={preset}"], trains=False)
        stage = compare.load_stage("10_kvcache_sample")
        for name in plumbing.SHAPE + ("dropout", "tie_weights"):
            setattr(stage, name, getattr(nine, name))
        torch.manual_seed(stage.seed)
        torch.set_num_threads(stage.threads)
        model = stage.LanguageModel(65).eval()  # random weights: speed does not depend on them
        n = int(KV_STEPS * stage.block_size)
        ms = {c: step_times(model, n, c) for c in (True, False)}
        positions = range(2, n + 2)  # the text's length once the character is added
        ax.plot(positions, ms[False], color="tab:red", linewidth=0.8, label="without the cache")
        ax.plot(positions, ms[True], color="tab:blue", linewidth=0.8, label="with the KV cache")
        ax.set_yscale("log")
        params = sum(p.numel() for p in model.parameters())
        ax.set(xlabel="position of the generated character", ylabel="ms per character",
               title=f"{'stage 09 default' if preset == 'cpu' else '--preset=lecture'}: "
                     f"{params / 1e6:.1f}M parameters, context {stage.block_size}")
        ax.legend(fontsize=8)
        cached, plain = sum(ms[True]), sum(ms[False])
        print(f"  {preset}: {n} characters, with cache {1000 * n / cached:,.0f} tokens/s, "
              f"without {1000 * n / plain:,.0f} tokens/s, {plain / cached:.1f}x "
              f"({torch.get_num_threads()} thread, medians of 3 per character)")
    fig.suptitle("Stage 10: the cache fills, the window jumps ahead by half, the cache refills")
    save(fig, "10_kvcache.png")


def draw_ladder(log):
    records = compare.read_log(log)
    reference = os.path.exists(compare.REFERENCE) and os.path.samefile(log, compare.REFERENCE)
    if os.path.exists(compare.SEEDS) and reference:
        records += compare.read_log(compare.SEEDS)  # the reference run's other seeds
    runs = compare.latest(compare.read_log(log), "shakespeare")
    label = "reference run (seed 1337)" if reference else "the log's run"
    compare.plot(runs, {}, os.path.join(FIGURES, "ladder.png"), label=label,
                 bands=compare.seed_bands(records, "shakespeare"))
    print(f"  wrote notes/figures/ladder.png, from {os.path.relpath(log, ROOT)}")


DRAW = {"counts": draw_counts, "position": draw_position, "attention": draw_attention,
        "songci_attention": draw_songci_attention, "qkv": draw_qkv, "heads": draw_heads,
        "residual": draw_residual, "dropout": draw_dropout, "kvcache": draw_kvcache,
        "ladder": draw_ladder, "stream": draw_stream, "architecture": draw_architecture}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="which pictures: " + ", ".join(DRAW)
                        + " (default: all)")
    parser.add_argument("--log", default=compare.REFERENCE,
                        help="results log with the training curves (default: %(default)s)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in DRAW]
    if unknown:
        parser.error("no picture named " + ", ".join(unknown) + "; choose from " + ", ".join(DRAW))
    os.makedirs(FIGURES, exist_ok=True)
    for name in args.names or DRAW:
        print(name)
        DRAW[name](args.log)


if __name__ == "__main__":
    main()
