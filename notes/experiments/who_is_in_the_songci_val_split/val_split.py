"""Who wrote the Song ci's validation split (the last 10% of the text, as every stage splits
it), and how much of it the training split prepares a model for: its poets, its tunes, and
how many of each the training split also has.

Run from the repository root: python notes/experiments/who_is_in_the_songci_val_split/val_split.py
"""

import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import common  # noqa: E402


def poems(text):
    """(tune, poet, body) of each poem: a header line 'tune poet', then its lines."""
    for block in text.strip("\n").split("\n\n"):
        header, _, body = block.partition("\n")
        tune, _, poet = header.partition(" ")
        yield tune, poet, body


print("$ python notes/experiments/who_is_in_the_songci_val_split/val_split.py")
text, _ = common.load_text("songci")
cut = int(0.9 * len(text))  # common.train_val_split cuts the ids here: one id per character
train, val = list(poems(text[:cut])), list(poems(text[cut:]))
print(f"{len(text):,} characters; the val split starts at character {cut:,}, inside a poem "
      f"by {train[-1][1]}")
print(f"poems: {len(train):,} in train (the last one cut), {len(val):,} in val (the first "
      f"one cut)")
for what, index in (("poets", 1), ("tunes", 0)):
    in_train = collections.Counter(p[index] for p in train)
    in_val = collections.Counter(p[index] for p in val)
    shared = sum(n for name, n in in_val.items() if name in in_train)
    print(f"\n{what}: {len(in_val):,} in val, {len(in_train):,} in train; "
          f"{sum(1 for name in in_val if name in in_train):,} of val's are in train too, and "
          f"they wrote {shared / len(val):.0%} of val's poems" if what == "poets" else
          f"\n{what}: {len(in_val):,} in val, {len(in_train):,} in train; "
          f"{sum(1 for name in in_val if name in in_train):,} of val's are in train too, "
          f"{shared / len(val):.0%} of val's poems are set to one of them")
    print(f"  most frequent in val: " + ", ".join(f"{name} {n}" for name, n in
                                                 in_val.most_common(12)))
    if what == "poets":
        print(f"  most frequent in train: " + ", ".join(f"{name} {n}" for name, n in
                                                       in_train.most_common(12)))
val_chars = set(text[cut:])
print(f"\ncharacters: {len(val_chars):,} distinct in val, "
      f"{len(val_chars - set(text[:cut])):,} of them never in train")
