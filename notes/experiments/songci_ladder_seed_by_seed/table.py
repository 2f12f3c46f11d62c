"""The Song ci ladder table from notes/songci.jsonl (as tools/readme_tables.py writes it,
and README.md and notes/songci.md quote it), each seed's val loss by stage, a check behind comparing the
stages seed by seed (at one seed, stages 02-08 start from the same token table), and how
much of a 32-wide model the 6,100-row tables are.

Run from the repository root: python notes/experiments/songci_ladder_seed_by_seed/table.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402
import plumbing  # noqa: E402
import compare  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
import readme_tables  # noqa: E402

print("$ python notes/experiments/songci_ladder_seed_by_seed/table.py")
records = compare.read_log(compare.SONGCI)
print(readme_tables.songci_table(records))

print("\nval loss by seed (whole split), --preset=songci")
losses = compare.by_seed(records, "songci")
seeds = sorted({seed for stage in losses.values() for seed in stage})
print(f"{'stage':<18} " + " ".join(f"{'seed ' + str(s):>10}" for s in seeds))
for name in compare.LADDER[:9]:
    print(f"{name:<18} " + " ".join(f"{losses[name][s]:>10.4f}" if s in losses[name]
                                    else f"{'–':>10}" for s in seeds))

print("\nthe initial token table at seed 1337, stages 02-08 at --preset=songci, 6,100 characters")
tables = {}
for name in compare.LADDER[2:9]:
    stage = compare.load_stage(name)
    plumbing.configure(vars(stage), ["--preset=songci"], trains=False)
    torch.manual_seed(stage.seed)
    tables[name] = stage.LanguageModel(6100).token_embedding_table.weight.detach()
first = tables[compare.LADDER[2]]
for name, table in tables.items():
    print(f"{name:<18} the same as 02's: {torch.equal(table, first)}")

print("\nwhere the parameters are, at --preset=songci")
for name in (compare.LADDER[2], compare.LADDER[8]):
    stage = compare.load_stage(name)
    plumbing.configure(vars(stage), ["--preset=songci"], trains=False)
    model = stage.LanguageModel(6100)
    total = sum(p.numel() for p in model.parameters())
    tables = sum(p.numel() for m in (model.token_embedding_table, model.lm_head)
                 for p in m.parameters())
    print(f"{name:<18} {total:,} parameters, {tables:,} of them in the token table and lm_head")
text, _ = common.load_text("songci")
train, _ = common.train_val_split(torch.zeros(len(text)))
stage = compare.load_stage(compare.LADDER[2])
plumbing.configure(vars(stage), ["--preset=songci"], trains=False)
read = stage.max_iters * stage.batch_size * stage.block_size
print(f"stages 02-08 read {read:,} positions in training, {read / len(train):.2f} of the "
      f"{len(train):,} characters of the training split")
