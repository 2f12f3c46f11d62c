"""The Song ci ladder table from notes/songci.jsonl (compare.songci_table, as README.md and
notes/songci.md quote it), each seed's val loss by stage, and a check behind comparing the
stages seed by seed: at one seed, stages 02-08 start from the same token table.

Run from the repository root: python notes/logs/songci/table.py
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402
import compare  # noqa: E402

print("$ python notes/logs/songci/table.py")
records = compare.read_log(compare.SONGCI)
print(compare.songci_table(records))

print("\nval loss by seed (whole split), --preset=songci")
runs = [r for r in records if compare.same_settings(r, "songci")]
seeds = sorted({r["seed"] for r in runs})
print(f"{'stage':<18} " + " ".join(f"{'seed ' + str(s):>10}" for s in seeds))
for name in compare.LADDER[:9]:
    losses = {r["seed"]: r["val_loss"] for r in runs if r["stage"] == name}
    print(f"{name:<18} " + " ".join(f"{losses[s]:>10.4f}" if s in losses else f"{'–':>10}"
                                    for s in seeds))

print("\nthe initial token table at seed 1337, stages 02-08 at --preset=songci, 6,100 characters")
tables = {}
for name in compare.LADDER[2:9]:
    stage = compare.load_stage(name)
    common.configure(vars(stage), ["--preset=songci"], trains=False)
    torch.manual_seed(stage.seed)
    tables[name] = stage.LanguageModel(6100).token_embedding_table.weight.detach()
first = tables[compare.LADDER[2]]
for name, table in tables.items():
    print(f"{name:<18} the same as 02's: {torch.equal(table, first)}")
