"""The notes cannot drift from the code or from the reference run they quote."""

import difflib
import re
import textwrap

import pytest

import compare
from conftest import ROOT, STAGES

NOTES = ROOT / "notes"
HEADINGS = ["## The idea", "## The math, with shapes", "## What changed",
            "## Measured results", "## Picture", "## Pitfalls", "## Exercises"]
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.M | re.S)


def note(stage):
    return (NOTES / f"{stage}.md").read_text(encoding="utf-8")


def blocks(text):
    """(info string, body lines) of every fenced code block."""
    return [(info.strip(), body.splitlines()) for info, body in FENCE.findall(text)]


def section(text, heading):
    start = text.index(heading + "\n")
    following = text.find("\n## ", start + 1)
    return text[start: following if following >= 0 else len(text)]


def reference():
    return compare.latest(compare.read_log(compare.REFERENCE), "shakespeare")


def without_comments(lines):
    """Code lines less their comments (a '#' after the code, outside any string, or a whole
    comment line), trailing blanks stripped: what a translated code block must keep."""
    kept = []
    for line in lines:
        cut = len(line)
        for match in re.finditer(r"#", line):
            before = line[: match.start()]
            if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
                cut = match.start()
                break
        kept.append(line[:cut].rstrip())
    return kept


def tables(text):
    """The Markdown tables of a page (outside code blocks), each a list of its rows."""
    found, current = [], []
    for line in FENCE.sub("", text).splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found + ([current] if current else [])


def read_lines(name):
    return (ROOT / name).read_text(encoding="utf-8").splitlines()


def hunks(old, new):
    """The hunks of diff -u OLD NEW: {header: lines}."""
    found, header = {}, None
    for line in difflib.unified_diff(read_lines(old), read_lines(new), lineterm=""):
        if line.startswith("@@"):
            header = line
            found[header] = []
        elif header:
            found[header].append(line)
    return found


def diff_block_matches(old, new, lines):
    """Is a quoted diff block part of diff -u OLD NEW? The lines under a hunk header
    (@@ ... @@) are a stretch of that very hunk; lines under no header are each a line of
    the new file (+), the old (-), or both (context)."""
    actual, parts, header = hunks(old, new), {None: []}, None
    for line in lines:
        if line.startswith("@@"):
            header = line
            assert header in actual, f"diff -u {old} {new} has no hunk {header}"
            parts[header] = []
        else:
            parts[header].append(line)
    for header, quoted in parts.items():
        if header is not None:
            hunk = actual[header]
            assert any(hunk[i: i + len(quoted)] == quoted for i in range(len(hunk))), header
    old_lines, new_lines = set(read_lines(old)), set(read_lines(new))
    for line in parts[None]:
        sign, rest = line[:1], line[1:]
        assert sign in "+- ", line
        assert (sign != "+" or rest in new_lines) and (sign != "-" or rest in old_lines), line
        assert sign != " " or (rest in old_lines and rest in new_lines), line
    return True


def appears_in(lines, file_lines):
    """Do lines (dedented, '...' for skipped lines) occur in order in file_lines?"""
    position = 0
    for part in "\n".join(lines).split("\n...\n"):
        part = textwrap.dedent(part).splitlines()
        for start in range(position, len(file_lines) - len(part) + 1):
            window = textwrap.dedent("\n".join(file_lines[start: start + len(part)]))
            if window.splitlines() == part:
                position = start + len(part)
                break
        else:
            return False
    return True


def test_every_stage_has_a_note_listed_in_the_index():
    index = (NOTES / "README.md").read_text(encoding="utf-8")
    for stage in STAGES:
        assert (NOTES / f"{stage}.md").exists(), stage
        assert f"({stage}.md)" in index, stage


@pytest.mark.parametrize("stage", STAGES)
def test_note_has_every_section_in_order(stage):
    text = note(stage)
    positions = [text.find(heading + "\n") for heading in HEADINGS]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "RESULTS-PLACEHOLDER" not in text
    assert f"python {stage}.py" in text
    exercises = section(text, "## Exercises")
    count = len(re.findall(r"^### \d\. ", exercises, re.M))
    assert count >= 2, "two or three exercises"
    assert exercises.count("<summary>Hint</summary>") == count
    assert exercises.count("<summary>Worked answer</summary>") == count
    assert exercises.count("<details>") == exercises.count("</details>") == 2 * count


@pytest.mark.parametrize("stage", STAGES)
def test_quoted_code_is_verbatim(stage):
    checked = 0
    for info, lines in blocks(note(stage)):
        words = info.split()
        if words[:1] == ["python"] and len(words) == 2:
            source = (ROOT / words[1]).read_text(encoding="utf-8").splitlines()
            assert appears_in(lines, source), f"not verbatim in {words[1]}:\n" + "\n".join(lines)
            checked += 1
        elif words[:1] == ["diff"] and len(words) == 3:
            assert diff_block_matches(*words[1:], lines)
            checked += 1
    assert checked >= 1, "quote some code with ```python FILE or ```diff OLD NEW"


@pytest.mark.parametrize("stage", STAGES)
def test_diff_command_names_the_neighbours(stage):
    number = STAGES.index(stage)
    if number:
        assert f"diff -u {STAGES[number - 1]}.py {stage}.py" in section(note(stage),
                                                                        "## What changed")


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "10_kvcache_sample"])
def test_results_table_is_the_reference_run(stage):
    """The first table row under Measured results holds the reference run's figures."""
    record = reference()[stage]
    results = section(note(stage), "## Measured results")
    row = [line for line in results.splitlines() if re.match(r"\| \d", line)][0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:4] == [f"{record['val_loss']:.4f}", f"{record['train_loss']:.4f}",
                         f"{record['params']:,}", f"{record['seconds']:.1f} s"]
    assert cells[4] == f"{record['tokens_per_s']:,.0f}"


@pytest.mark.parametrize("stage", [s for s in STAGES if s[:2] <= "09"])
def test_results_quote_the_spread_over_seeds(stage):
    """Measured results of notes 00-09 quote the stage's mean ± sd over seeds, as the
    reference run and notes/seeds.jsonl give it, and so does notes/logs/seeds/bands.txt."""
    records = compare.read_log(compare.REFERENCE) + compare.read_log(compare.SEEDS)
    band = compare.band_text(compare.seed_bands(records, "shakespeare")[stage])
    assert band in section(note(stage), "## Measured results"), f"quote {band}"
    bands_log = (NOTES / "logs" / "seeds" / "bands.txt").read_text(encoding="utf-8")
    assert band in bands_log, f"{band} not in bands.txt: python notes/logs/seeds/bands.py"


@pytest.mark.parametrize("stage", STAGES)
def test_quoted_output_comes_from_the_reference_logs(stage):
    """Sample text and output lines under Measured results are in that run's output."""
    log = (NOTES / "logs" / f"{stage}.txt").read_text(encoding="utf-8")
    quoted = [lines for info, lines in blocks(section(note(stage), "## Measured results"))
              if info == "text"]
    assert quoted
    for lines in quoted:
        assert "\n".join(lines) in log


def test_pictures_exist_and_are_small():
    linked = set()
    for path in NOTES.glob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8")):
            linked.add(target)
            assert (NOTES / target).exists(), f"{path.name}: {target}"
            assert (NOTES / target).stat().st_size < 150_000, target
    assert {f"figures/{p.name}" for p in (NOTES / "figures").glob("*.png")} <= linked


def test_links_between_files_resolve():
    for path in NOTES.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            assert (NOTES / target).exists(), f"{path.name} links to missing {target}"


# a loss (2.3992), a time or a speed (162.0 s, 0.39 ms, 53,905 tokens/s), a ratio (5.7x)
MEASURED = re.compile(r"(?<![\d.,])(\d\.\d{4})(?!\d)|(?<![\d.,\w-])(\d[\d,]*(?:\.\d+)?) ?"
                      r"(?:ms|s|tokens/s)\b|(?<![\d.,])(\d+\.\d+)x\b")
PAGES_WITH_FIGURES = [*NOTES.glob("*.md"), *(NOTES / "zh-CN").glob("*.md"), ROOT / "README.md",
                      ROOT / "README.zh-CN.md", *(NOTES / "experiments").glob("*/README.md")]


def measured_corpus():
    """Every committed log, and the reference records as the tables print them."""
    texts = [p.read_text(encoding="utf-8") for folder in ("logs", "experiments")
             for p in (NOTES / folder).glob("**/*.txt")]
    for path in (compare.REFERENCE, compare.SEEDS, compare.SONGCI):
        for r in compare.read_log(path):
            texts.append(f" {r['val_loss']:.4f} {r['train_loss']:.4f} {r['seconds']:.1f} s "
                         f"{compare.fmt_seconds(r['seconds'])} {r['tokens_per_s']:,.0f} tokens/s")
    return "\n".join(texts)


def printed_numbers(corpus):
    """Each number in corpus, as it would be written rounded to 0 to 4 decimals."""
    found = set()
    for token in re.findall(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\d.,])\d+(?:\.\d+)?",
                            corpus):
        value, decimals = float(token.replace(",", "")), len(token.partition(".")[2])
        for d in range(decimals + 1):
            found |= {f"{value:.{d}f}", f"{value:,.{d}f}"}
    return found


def test_every_figure_in_the_notes_and_readmes_was_measured():
    """A loss, time, speed or ratio in a note, an experiment's README or either README is in
    a committed log or reference record: a figure nobody's run printed cannot be quoted."""
    printed = printed_numbers(measured_corpus())
    missing = []
    for path in PAGES_WITH_FIGURES:
        for groups in MEASURED.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
            number = next(g for g in groups if g)
            if number not in printed:
                missing.append(f"{path.relative_to(ROOT)}: {number}")
    assert missing == [], "in no log"


def slug(heading):
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_lecture_differences_page_is_in_the_index():
    page = NOTES / "lecture_differences.md"
    assert page.exists()
    assert "(lecture_differences.md)" in (NOTES / "README.md").read_text(encoding="utf-8")
    assert "(README.md)" in page.read_text(encoding="utf-8"), "a link back to the index"


def test_links_to_headings_resolve():
    """A link like 03_self_attention.md#pitfalls, or #pitfalls, names a heading that exists."""
    anchors = {path.name: {slug(h) for h in re.findall(r"^#+ (.+)$", path.read_text(
        encoding="utf-8"), re.M)} for path in NOTES.glob("*.md")}
    for path in NOTES.glob("*.md"):
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        for target, anchor in re.findall(r"\]\(([^)#:]*)#([^)]+)\)", text):
            name = target or path.name
            if name.endswith(".md") and "/" not in name:
                assert anchor in anchors[name], f"{path.name} links to {name}#{anchor}"


EXPERIMENTS = NOTES / "experiments"
LINK = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")


def experiment_folders():
    return sorted(p for p in EXPERIMENTS.iterdir() if p.is_dir() and p.name != "__pycache__")


def test_every_experiment_has_a_question_a_command_and_an_answer():
    """Each folder of notes/experiments has a README.md with its Question, Command and
    Answer that names every script beside it (not the _-prefixed helpers they import), and
    each script's log, where it has one, starts with the command that made it."""
    folders = experiment_folders()
    assert folders
    for folder in folders:
        readme = folder / "README.md"
        assert readme.exists(), f"{folder.name} has no README.md"
        text = readme.read_text(encoding="utf-8")
        for part in ("Question", "Command", "Answer"):
            assert part in text, f"{folder.name}/README.md has no {part}"
        for script in folder.glob("*.py"):
            if script.name.startswith("_"):
                continue
            assert script.name in text, f"{folder.name}/README.md does not name {script.name}"
            log = script.with_suffix(".txt")
            if log.exists():
                first = log.read_text(encoding="utf-8").splitlines()[0]
                assert first.startswith("$ ") and (
                    f"python notes/experiments/{folder.name}/{script.name}" in first), log


def test_experiment_links_resolve_and_the_index_lists_every_experiment():
    index = (EXPERIMENTS / "README.md").read_text(encoding="utf-8")
    for target in LINK.findall(index):
        assert (EXPERIMENTS / target).exists(), f"experiments/README.md links to missing {target}"
    for folder in experiment_folders():
        assert f"({folder.name}/)" in index, f"{folder.name} is not in experiments/README.md"
        for target in LINK.findall((folder / "README.md").read_text(encoding="utf-8")):
            assert (folder / target).exists(), f"{folder.name}/README.md links to missing {target}"


def test_the_index_says_truly_which_pages_cite_each_experiment():
    """A page the experiments index names as citing an experiment links to it."""
    index = (EXPERIMENTS / "README.md").read_text(encoding="utf-8")
    for folder, cited in re.findall(r"^\|.*\| \[`([^`]+)/`\]\([^)]+\) \| (.*) \|$", index, re.M):
        for target in re.findall(r"\]\(([^)]+)\)", cited):
            page = (EXPERIMENTS / target).resolve()
            assert folder in page.read_text(encoding="utf-8"), f"{target} does not cite {folder}"
