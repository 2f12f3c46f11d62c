"""The ladder diffs cleanly: each step changes what its idea needs, within a budget of
changed lines, and leaves every other function byte-identical to the stage before."""

import ast
import difflib
import re

import pytest

from conftest import ROOT, STAGES

PAIRS = list(zip(STAGES, STAGES[1:]))
BUDGET = {"09_dropout_scaled": 100, "10_kvcache_sample": 200}  # changed lines; 02-08: 35
# What each stage changes from the one before (functions, classes and their methods; a
# class's own entry is its line and docstring). Everything else must stay byte-identical.
CHANGES = {
    "01_bigram_torch": {"LanguageModel", "LanguageModel.__init__", "LanguageModel.forward",
                        "main", "+estimate_loss", "-LanguageModel.fit"},
    "02_position": {"LanguageModel", "LanguageModel.__init__", "LanguageModel.forward"},
    "03_self_attention": {"LanguageModel", "LanguageModel.__init__", "LanguageModel.forward",
                          "+Head", "+Head.__init__", "+Head.forward"},
    "04_multihead": {"LanguageModel", "LanguageModel.__init__", "+MultiHeadAttention",
                     "+MultiHeadAttention.__init__", "+MultiHeadAttention.forward"},
    "05_feedforward": {"LanguageModel", "LanguageModel.__init__", "LanguageModel.forward",
                       "+FeedForward", "+FeedForward.__init__", "+FeedForward.forward"},
    "06_block": {"LanguageModel", "LanguageModel.__init__", "LanguageModel.forward",
                 "+Block", "+Block.__init__", "+Block.forward"},
    "07_residual": {"Block.forward", "FeedForward.__init__", "MultiHeadAttention.__init__",
                    "MultiHeadAttention.forward"},
    "08_layernorm": {"Block.__init__", "Block.forward", "LanguageModel.__init__",
                     "LanguageModel.forward"},
    "09_dropout_scaled": {"FeedForward.__init__", "LanguageModel.__init__", "MultiHeadAttention",
                          "MultiHeadAttention.__init__", "MultiHeadAttention.forward", "main",
                          "-Head", "-Head.__init__", "-Head.forward"},
    "10_kvcache_sample": {"Block.forward", "LanguageModel.forward", "LanguageModel.generate",
                          "MultiHeadAttention.forward", "main", "+compare_cache", "+sample",
                          "-estimate_loss"},
}
# a time or a speed-up ("4x wider" is a shape, not a timing)
TIMING = re.compile(r"\d[\d.,]*\s*(ms|s|seconds|minutes|tokens/s)\b|\d+\.\d+x\b")


def source(stage):
    return (ROOT / f"{stage}.py").read_text(encoding="utf-8")


def code(stage):
    """The script's lines after its module docstring."""
    text = source(stage)
    return text.splitlines()[ast.parse(text).body[0].end_lineno:]


def parts(stage):
    """{name: source} of the script's functions, classes (their line and docstring) and
    methods (Class.method)."""
    text = source(stage)
    lines, found = text.splitlines(), {}

    def span(node):
        return "\n".join(lines[node.lineno - 1 - len(node.decorator_list): node.end_lineno])

    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = span(node)
        elif isinstance(node, ast.ClassDef):
            first = node.body[0]
            end = first.end_lineno if isinstance(first, ast.Expr) else node.lineno
            found[node.name] = "\n".join(lines[node.lineno - 1: end])
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[f"{node.name}.{item.name}"] = span(item)
    return found


@pytest.mark.parametrize("before, after", PAIRS)
def test_each_step_changes_only_what_its_idea_needs(before, after):
    old, new = parts(before), parts(after)
    changed = {name for name in old.keys() & new.keys() if old[name] != new[name]}
    changed |= {"+" + name for name in new.keys() - old.keys()}
    changed |= {"-" + name for name in old.keys() - new.keys()}
    assert changed == CHANGES[after]


@pytest.mark.parametrize("before, after", PAIRS[1:])
def test_each_step_stays_within_its_budget_of_changed_lines(before, after):
    diff = difflib.unified_diff(code(before), code(after), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) <= BUDGET.get(after, 35), f"diff -u {before}.py {after}.py"


@pytest.mark.parametrize("stage", STAGES)
def test_docstrings_state_the_idea_without_timings(stage):
    doc = ast.get_docstring(ast.parse(source(stage)))
    assert doc.startswith(f"Stage {stage[:2]}: ")
    assert len(doc.splitlines()) <= 12
    assert not TIMING.search(doc), TIMING.search(doc).group(0)
