"""Facts notes/songci.md states about the Song ci: how rare its characters are in the
training split, how long its lines are, and whether two threads pay off for stage 02 on
Song ci and on Shakespeare (1000 steps, otherwise the stage's defaults).

Run from the repository root: python notes/experiments/songci_characters_lines_and_threads/corpus_facts.py
"""

import contextlib
import io
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402
import compare  # noqa: E402

print("$ python notes/experiments/songci_characters_lines_and_threads/corpus_facts.py")
text, _ = common.load_text("songci")
vocab = common.Vocab(text)
train, _ = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
counts = Counter(train.tolist())
seen = [counts.get(i, 0) for i in range(len(vocab))]
print(f"training split: {len(train):,} characters, {len(vocab):,} in the vocabulary")
for n in (0, 3, 10, 100):
    print(f"  characters read at most {n} times in it: {sum(c <= n for c in seen):,}")
lines = [line for line in text.split("\n") if line and " " not in line]  # text lines only
print(f"lines of text (not the tune-and-poet lines): median length "
      f"{statistics.median(len(line) for line in lines):.0f} characters, "
      f"{sum(len(line) < 16 for line in lines) / len(lines):.2f} of them shorter than 16")

print("\nstage 02, 1000 steps, tokens/s by threads (training only)")
for data in ("songci", "shakespeare"):
    for threads in (1, 2):
        stage = compare.load_stage("02_position")
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
            _, result = stage.main([f"--data={data}", "--max_iters=1000", "--eval_interval=1000",
                                    f"--threads={threads}", f"--out_dir={out}"])
        print(f"  {data:<12} threads={threads}: {result['tokens_per_s']:,.0f} tokens/s")
