"""Each run of ours in a sitting's summary.txt beside the nanoGPT run of about its budget:
how much lower its whole-split val loss is, and its wall time as a fraction of nanoGPT's.
Run from the repository root: python notes/logs/side_by_side/ratios.py FOLDER
(the folder of one sitting, e.g. notes/logs/side_by_side4)."""
import re
import sys
from pathlib import Path

folder = sys.argv[1]
summary = (Path(folder) / "summary.txt").read_text(encoding="utf-8")
runs = {}  # name: (wall seconds, val loss)
for line in summary.splitlines():
    wall = re.search(r"wall ([\d.]+) s", line)
    loss = re.search(r"(?:whole-split val|val loss) ([\d.]+)", line)
    if wall and loss:  # "nanoGPT 2000 lr 3e-3 bf16: ..." is nanoGPT 2000 bf16
        name = re.sub(r" lr \S+", "", line.split(":")[0])
        runs[name] = (float(wall.group(1)), float(loss.group(1)))
print(f"$ python notes/logs/side_by_side/ratios.py {folder}")
for name, (wall, loss) in runs.items():
    if name.startswith("ours"):
        budget = "nanoGPT 2000" if "quick" in name else "nanoGPT 10000"
        for base in [n for n in runs if n == budget or n.startswith(budget + " ")]:
            base_wall, base_loss = runs[base]
            print(f"{name:<38} vs {base}: {base_loss - loss:.3f} lower, "
                  f"{wall / base_wall:.2f}x its wall time ({wall:.1f} s vs {base_wall:.1f} s)")
