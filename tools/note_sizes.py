"""How much a learner has to read: README.md's lines and prose words, each stage note's prose
words, and the numbers per 100 words of each note's "The idea" (prose: code blocks and
tables not counted). The targets the notes are written to are printed beside.

    python tools/note_sizes.py
"""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"readme_lines": 200, "readme_words": 1500, "note": 2200, "note_03": 2800,
           "notes": 17000, "idea_density": 2.5}


def prose(text):
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return re.sub(r"\|[^\n]*\|", " ", text)


def words(text):
    return len(re.findall(r"[A-Za-z0-9][\w'’.,±%-]*", prose(text)))


def numbers(text):
    return len(re.findall(r"(?<![\w./-])\d[\d,]*(?:\.\d+)?", re.sub(r"```.*?```", " ", text,
                                                                   flags=re.S)))


def idea(text):
    match = re.search(r"^## The idea\s*\n(.*?)(?=^## )", text, re.S | re.M)
    return match.group(1) if match else ""


def main():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    print(f"README.md: {len(readme.splitlines())} lines (target <= {TARGETS['readme_lines']}), "
          f"{words(readme)} prose words (<= {TARGETS['readme_words']})")
    total = 0
    print(f"{'note':<24} {'words':>6} {'idea words':>10} {'numbers/100':>12}")
    for path in sorted(glob.glob(os.path.join(ROOT, "notes", "[0-9][0-9]_*.md"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        name = os.path.basename(path)
        n, part = words(text), idea(text)
        total += n
        density = 100 * numbers(part) / max(1, words(part))
        limit = TARGETS["note_03"] if name.startswith("03") else TARGETS["note"]
        flags = ("" if n <= limit else " words over") + (
            "" if density <= TARGETS["idea_density"] else " dense")
        print(f"{name:<24} {n:>6} {words(part):>10} {density:>12.1f}{flags}")
    print(f"all stage notes: {total} prose words (target <= {TARGETS['notes']})")


if __name__ == "__main__":
    main()
