"""README.zh-CN.md is the Chinese counterpart of README.md: the same sections, tables and
commands, and links that resolve."""

import re

from conftest import ROOT
from test_notes import FENCE, tables, without_comments
from test_notes_zh import NUMBER, prose, read

EN = ROOT / "README.md"
ZH = ROOT / "README.zh-CN.md"
LINK = re.compile(r"\]\(([^)\s]*)\)")


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


def test_relative_links_resolve():
    for readme in (EN, ZH):
        for target in LINK.findall(prose(read(readme))):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            path = target.split("#", 1)[0]
            if path:  # an anchor alone points into this page
                assert (ROOT / path).exists(), f"{readme.name} links to missing {target}"


def test_each_language_links_to_the_other():
    assert "[中文](README.zh-CN.md)" in read(EN).split("\n## ", 1)[0]
    assert "[English](README.md)" in read(ZH).split("\n## ", 1)[0]
