"""The header lines ("tune poet") in stage 10's Song ci samples (notes/logs/songci/10_samples.txt),
looked up in the corpus: how many poems start with that very line, and how many header lines
have that tune (and each part of a tune joined with ・), and that poet. Run from the repository
root:
python notes/experiments/are_the_songci_sample_headers_real/sample_headers.py"""
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, ".")
import common  # noqa: E402

text, _ = common.load_text("songci")
headers = Counter(line for line in text.split("\n") if " " in line and not line.endswith(("，", "。")))
tunes = Counter(line.split(" ")[0] for line in headers.elements())
poets = Counter(line.split(" ")[-1] for line in headers.elements())
samples = (Path(__file__).resolve().parents[3] / "notes" / "logs" / "songci" / "10_samples.txt").read_text(
    encoding="utf-8")
print("$ python notes/experiments/are_the_songci_sample_headers_real/sample_headers.py")
print(f"# {sum(headers.values()):,} header lines in the corpus")
for line in samples.split("\n"):
    if " " in line and not line.startswith(("$", "checkpoint")) and line.count(" ") == 1:
        tune, poet = line.split(" ")
        print(f"{line}: {headers[line]} poems start with this line; tune {tune} heads "
              f"{tunes[tune]}, poet {poet} {poets[poet]}")
        if "・" in tune:  # the corpus joins a tune's two names so: 木兰花・玉楼春
            print("  " + ", ".join(f"{part} heads {tunes[part]}" for part in tune.split("・")))
