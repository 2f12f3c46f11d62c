"""The Chinese notes (notes/zh-CN/) hold the same lessons as the English ones: the same
sections, exercises, tables, code (its comments may be Chinese) and output, and links
that resolve. Their prose is their own."""

import re

import pytest

from conftest import ROOT, STAGES
from test_notes import (FENCE, appears_in, blocks, reference, section, slug, tables,
                        without_comments)

NOTES = ROOT / "notes"
ZH = NOTES / "zh-CN"
HEADINGS = {"## The idea": "## 思路", "## The math, with shapes": "## 数学与张量形状",
            "## What changed": "## 改了什么", "## Measured results": "## 实测结果",
            "## Picture": "## 图", "## Pitfalls": "## 常见错误", "## Exercises": "## 练习"}
PAGES = [f"{stage}.md" for stage in STAGES] + ["README.md", "lecture_differences.md", "songci.md",
                                              "benchmarks.md"]
NUMBER = re.compile(r"(?<![\d.,])\d+\.\d+(?![\d])|(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d])")


def read(path):
    return path.read_text(encoding="utf-8")


def prose(text):
    return FENCE.sub("", text)


def test_every_english_page_has_its_chinese_page():
    english = sorted(p.name for p in NOTES.glob("*.md"))
    assert english == sorted(PAGES), "a new English note needs its Chinese note"
    assert sorted(p.name for p in ZH.glob("*.md")) == english


@pytest.mark.parametrize("page", PAGES)
def test_each_language_links_to_the_other(page):
    assert f"(zh-CN/{page})" in read(NOTES / page), f"{page} has no link to its Chinese page"
    assert f"(../{page})" in read(ZH / page), f"zh-CN/{page} has no link to its English page"


@pytest.mark.parametrize("stage", STAGES)
def test_same_sections_and_exercises(stage):
    en, zh = read(NOTES / f"{stage}.md"), read(ZH / f"{stage}.md")
    positions = [zh.find(heading + "\n") for heading in HEADINGS.values()]
    assert -1 not in positions and positions == sorted(positions), positions
    exercises = section(zh, "## 练习")
    en_numbers = re.findall(r"^### (\d)\. ", section(en, "## Exercises"), re.M)
    assert re.findall(r"^### (\d)\. ", exercises, re.M) == en_numbers
    assert exercises.count("<summary>提示</summary>") == len(en_numbers)
    assert exercises.count("<summary>参考答案</summary>") == len(en_numbers)
    assert exercises.count("<details>") == exercises.count("</details>") == 2 * len(en_numbers)


@pytest.mark.parametrize("page", PAGES)
def test_same_code_and_output_blocks(page):
    """Code, commands and printed output are quoted as in the English page (so they are
    verbatim from the scripts and logs, which the English tests check); only the comments in
    code may differ, to speak the page's language."""
    en, zh = blocks(read(NOTES / page)), blocks(read(ZH / page))
    assert len(zh) == len(en), f"{len(zh)} blocks, English has {len(en)}"
    for (en_info, en_lines), (zh_info, zh_lines) in zip(en, zh):
        assert zh_info == en_info
        if en_info.split()[:1] == ["text"]:  # printed output: exact
            assert zh_lines == en_lines, "\n".join(zh_lines)
        else:
            assert without_comments(zh_lines) == without_comments(en_lines), "\n".join(zh_lines)


@pytest.mark.parametrize("page", PAGES)
def test_same_tables(page):
    """The same tables, row for row, with the same figures in each row (the index's
    glossary of Chinese terms aside)."""
    zh_text = read(ZH / page)
    if "## 术语表\n" in zh_text:
        zh_text = zh_text.replace(section(zh_text, "## 术语表"), "")
    en, zh = tables(read(NOTES / page)), tables(zh_text)
    assert [len(t) for t in zh] == [len(t) for t in en], "tables and their rows"
    for en_table, zh_table in zip(en, zh):
        for en_row, zh_row in zip(en_table, zh_table):
            assert NUMBER.findall(zh_row) == NUMBER.findall(en_row), zh_row


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "10_kvcache_sample"])
def test_results_table_is_the_reference_run(stage):
    record = reference()[stage]
    results = section(read(ZH / f"{stage}.md"), "## 实测结果")
    row = [line for line in results.splitlines() if re.match(r"\| \d", line)][0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:5] == [f"{record['val_loss']:.4f}", f"{record['train_loss']:.4f}",
                         f"{record['params']:,}", f"{record['seconds']:.1f} s",
                         f"{record['tokens_per_s']:,.0f}"]


@pytest.mark.parametrize("stage", STAGES)
def test_quoted_code_is_verbatim(stage):
    """As the English page's: the code is the script's, whatever language its comments speak."""
    for info, lines in blocks(read(ZH / f"{stage}.md")):
        words = info.split()
        if words[:1] == ["python"] and len(words) == 2:
            source = without_comments(read(ROOT / words[1]).splitlines())
            assert appears_in(without_comments(lines), source), f"not verbatim in {words[1]}"


@pytest.mark.parametrize("page", PAGES)
def test_same_pictures_each_with_a_chinese_caption(page):
    """The pictures are shared; under each one the Chinese page has a caption, *图：...*."""
    picture = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
    en = picture.findall(read(NOTES / page))
    zh_text = read(ZH / page)
    assert picture.findall(zh_text) == ["../" + target for target in en]
    lines = zh_text.splitlines()
    for number, line in enumerate(lines):
        if picture.search(line):
            after = [rest for rest in lines[number + 1:] if rest.strip()][:1]
            assert after and after[0].startswith("*图："), f"no caption under {line}"


def test_links_and_headings_resolve():
    anchors = {path.resolve(): {slug(h) for h in re.findall(r"^#+ (.+)$", read(path), re.M)}
               for path in [*NOTES.glob("*.md"), *ZH.glob("*.md"), ROOT / "README.md",
                            ROOT / "README.zh-CN.md"]}
    for path in ZH.glob("*.md"):
        for target, anchor in re.findall(r"\]\(([^)#:]*)(?:#([^)]*))?\)", prose(read(path))):
            linked = (ZH / target).resolve() if target else path.resolve()
            assert linked.exists(), f"zh-CN/{path.name} links to missing {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors[linked], f"zh-CN/{path.name} links to {target}#{anchor}"


def test_the_index_has_a_glossary_with_the_agreed_terms():
    index = read(ZH / "README.md")
    glossary = section(index, "## 术语表")
    for term in ("字向量", "token 嵌入", "位置嵌入", "自注意力", "残差连接", "层归一化",
                 "验证集损失"):
        assert term in glossary, term
    for path in ZH.glob("*.md"):  # the glossary may warn against it; no page uses it
        text = read(path).replace(glossary, "") if path.name == "README.md" else read(path)
        assert "词向量" not in text, f"zh-CN/{path.name}: 字向量 or token 嵌入, not 词向量"
    for stage in STAGES:
        assert f"({stage}.md)" in index, stage
