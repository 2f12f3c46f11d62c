"""A tune (词牌) fixes how long each line of a ci is: 浣溪沙 is six lines of seven characters,
减字木兰花 alternates four and seven. Does stage 09, trained on the Song ci, write the lengths
of the tune its header names? For each of eight tunes whose poems nearly all share one pattern:
the pattern (the clauses between punctuation, counted in the training split), and stage 10's
samples from that header (20 each, from the checkpoint of 09 --preset=songci, the same seeds
under every header), scored by the share of the pattern's clauses whose length the sample
matches at the same place. Two baselines: the same samples scored with the other tunes'
patterns, and the other tunes' samples scored with this tune's pattern (what a model blind to
the header would reach).

Run from the repository root, after python 09_dropout_scaled.py --preset=songci:
    python notes/experiments/does_the_model_know_each_tunes_line_lengths/tune_lengths.py
"""

import collections
import os
import re
import statistics
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import common  # noqa: E402
import compare  # noqa: E402
from common import plumbing  # noqa: E402

TUNES = ["浣溪沙", "菩萨蛮", "鹧鸪天", "西江月", "蝶恋花", "减字木兰花", "点绛唇", "清平乐"]
SAMPLES, NEW_CHARACTERS = 20, 160
CLAUSE = re.compile(r"[，。、？！；：]")


def clause_lengths(body):
    return [len(c) for c in CLAUSE.split(body.replace("\n", "")) if c]


def patterns(text):
    """{tune: (its most common clause lengths, the share of its poems that have them)}."""
    seen = collections.defaultdict(collections.Counter)
    for block in text.strip("\n").split("\n\n"):
        header, _, body = block.partition("\n")
        seen[header.partition(" ")[0]][tuple(clause_lengths(body))] += 1
    return {tune: (list(seen[tune].most_common(1)[0][0]),
                   seen[tune].most_common(1)[0][1] / sum(seen[tune].values())) for tune in TUNES}


def match(lengths, pattern):
    """The share of the pattern's clauses whose length the sample has at the same place."""
    return sum(a == b for a, b in zip(lengths, pattern)) / len(pattern)


def main():
    print("$ python notes/experiments/does_the_model_know_each_tunes_line_lengths/tune_lengths.py")
    text, _ = common.load_text("songci")
    train, _ = text[: int(0.9 * len(text))], None
    pattern = patterns(train)
    stage = compare.load_stage("10_kvcache_sample")
    plumbing.configure(vars(stage), ["--preset=songci"], trains=False)
    model, chars = plumbing.load_checkpoint(vars(stage), stage.LanguageModel, {})
    saved = torch.load(os.path.join(stage.out_dir, "ckpt.pt"), map_location="cpu",
                       weights_only=False)
    print(f"# checkpoint: {stage.out_dir}/ckpt.pt, step {saved['iter']}, whole-split val loss "
          f"{saved['val_loss']:.4f}; PyTorch {torch.__version__}")
    vocab = common.Vocab(chars)
    model.eval()
    lengths, first = {}, {}
    for tune in TUNES:  # the same seeds under every header: only the tune's name differs
        lengths[tune] = []
        for seed in range(SAMPLES):
            torch.manual_seed(seed)
            idx = torch.tensor([vocab.encode(tune + " ")])
            out = vocab.decode(model.generate(idx, NEW_CHARACTERS)[0].tolist())
            header, _, rest = out.partition("\n")
            body = rest.split("\n\n")[0]
            lengths[tune].append(clause_lengths(body))
            first.setdefault(tune, f"{header} / {' '.join(body.splitlines()[:2])}")
    own, other_patterns, other_headers = [], [], []
    for tune in TUNES:
        others = [u for u in TUNES if u != tune]
        own.append(statistics.mean(match(s, pattern[tune][0]) for s in lengths[tune]))
        other_patterns.append(statistics.mean(match(s, pattern[u][0])
                                              for s in lengths[tune] for u in others))
        other_headers.append(statistics.mean(match(s, pattern[tune][0])
                                             for u in others for s in lengths[u]))
        shown = ",".join(map(str, pattern[tune][0]))
        print(f"{tune:<6} pattern {shown:<22} ({pattern[tune][1]:.0%} of its poems): its samples "
              f"match {own[-1]:.0%} of it; they match {other_patterns[-1]:.0%} of the other "
              f"tunes' patterns; the other tunes' samples match {other_headers[-1]:.0%} of it; "
              f"e.g. {first[tune]}")
    print(f"all eight: a tune's samples match {statistics.mean(own):.0%} of its pattern, "
          f"{statistics.mean(other_patterns):.0%} of another tune's; another tune's samples "
          f"match {statistics.mean(other_headers):.0%} of it ({SAMPLES} samples a tune, the "
          f"same seeds under each header, {NEW_CHARACTERS} new characters, temperature 1)")


if __name__ == "__main__":
    main()
