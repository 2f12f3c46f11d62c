"""README.zh-CN.md is the Chinese counterpart of README.md: the same figures, the same code
blocks, and links that resolve."""

import re

import sys

from conftest import ROOT
from test_notes import FENCE, tables, without_comments
from test_notes_zh import NUMBER, prose, read

EN = ROOT / "README.md"
ZH = ROOT / "README.zh-CN.md"
LINK = re.compile(r"\]\(([^)\s]*)\)")
# the Song ci table is generated (tools/readme_tables.py) into README.md and copied, with a
# Chinese header, into README.zh-CN.md: its rows and markers are left out of the comparison
SONGCI = {EN: "## Song ci", ZH: "## 宋词"}
sys.path.insert(0, str(ROOT / "tools"))
import readme_tables  # noqa: E402

TABLE_MARKERS = {readme_tables.SONGCI_START, readme_tables.SONGCI_END}


def without_table(text, heading):
    """text less the generated table lines (rows starting "| `0", the markers) of the
    section under heading (up to the next '## ' heading), if it has one."""
    match = re.search(rf"^{re.escape(heading)}[ \t]*$", text, re.M)
    if not match:
        return text
    following = re.search(r"^## ", text[match.end():], re.M)
    end = match.end() + following.start() if following else len(text)
    kept = [line for line in text[match.end():end].splitlines(keepends=True)
            if not line.startswith("| `0") and line.strip() not in TABLE_MARKERS]
    return text[: match.end()] + "".join(kept) + text[end:]


def numbers(path):
    text = without_table(prose(read(path)), SONGCI[path])
    return set(NUMBER.findall(text))


def test_without_table_handles_absence_and_the_last_section():
    text = (f"# T\n\n## A\n| `0a` | 1.5 |\n\n## Song ci\nb 2.5\n{readme_tables.SONGCI_START}\n"
            f"| `00.py` | 5.1765 |\n{readme_tables.SONGCI_END}\n\n## C\n| `0c` | 3.5 |\n")
    assert without_table(text, "## Song ci") == (
        "# T\n\n## A\n| `0a` | 1.5 |\n\n## Song ci\nb 2.5\n\n## C\n| `0c` | 3.5 |\n")
    assert without_table(text, "## Missing") == text
    assert without_table("## A\nx\n## Song ci\ny 1.0\n| `01` | 2.0 |\n", "## Song ci") == (
        "## A\nx\n## Song ci\ny 1.0\n")


def test_same_sections_tables_and_commands():
    """The two READMEs have as many sections, the same tables row for row, with the same
    figures, and the same commands (comments in them may be translated)."""
    en, zh = read(EN), read(ZH)
    assert len(re.findall(r"^## ", zh, re.M)) == len(re.findall(r"^## ", en, re.M))
    en_tables, zh_tables = tables(en), tables(zh)
    assert [len(t) for t in zh_tables] == [len(t) for t in en_tables]
    for en_table, zh_table in zip(en_tables, zh_tables):
        for en_row, zh_row in zip(en_table, zh_table):
            assert NUMBER.findall(zh_row) == NUMBER.findall(en_row), zh_row
    en_blocks, zh_blocks = FENCE.findall(en), FENCE.findall(zh)
    assert len(zh_blocks) == len(en_blocks)
    for (en_info, en_body), (zh_info, zh_body) in zip(en_blocks, zh_blocks):
        assert zh_info == en_info
        assert without_comments(zh_body.splitlines()) == without_comments(en_body.splitlines())


def songci_rows(path):
    """The figures of each row of the Song ci table (rows starting "| `0" in its section)."""
    text = read(path)
    start = re.search(rf"^{re.escape(SONGCI[path])}[ \t]*$", text, re.M).end()
    following = re.search(r"^## ", text[start:], re.M)
    section = text[start: start + following.start() if following else len(text)]
    return [NUMBER.findall(line) for line in section.splitlines() if line.startswith("| `0")]


def test_the_song_ci_table_is_copied_row_by_row():
    """README.zh-CN.md's Song ci table, copied by hand, has README.md's figures, row by row."""
    en = songci_rows(EN)
    assert len(en) >= 9 and all(en), "README.md's Song ci table rows"
    assert songci_rows(ZH) == en


def test_relative_links_resolve():
    for target in LINK.findall(prose(read(ZH))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path = target.split("#", 1)[0]
        if path:  # an anchor alone points into this page
            assert (ROOT / path).exists(), f"README.zh-CN.md links to missing {target}"


def test_each_language_links_to_the_other():
    assert "[中文](README.zh-CN.md)" in read(EN).split("\n## ", 1)[0]
    assert "[English](README.md)" in read(ZH).split("\n## ", 1)[0]
