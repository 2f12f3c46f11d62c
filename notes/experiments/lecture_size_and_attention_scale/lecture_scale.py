"""Sizes behind notes/lecture_differences.md: parameters of stage 09 at its default and at
--preset=lecture, and how much smaller the lecture's first scale, C ** -0.5, makes the
attention scores than hs ** -0.5 at each stage's widths.

Run from the repository root: python notes/experiments/lecture_size_and_attention_scale/lecture_scale.py
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))


def fresh(name):
    spec = importlib.util.spec_from_file_location(f"fresh_{name}", ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


for preset in ("cpu", "lecture"):
    m = fresh("09_dropout_scaled")
    for key, value in m.PRESETS[preset].items():
        setattr(m, key, value)
    model = m.LanguageModel(65)
    print(f"09 --preset={preset}: {sum(p.numel() for p in model.parameters()):,} parameters")

print("stage(s)                     C   hs   C**-0.5  hs**-0.5  ratio")
for label, C, nh in (("03", 32, 1), ("04-08", 32, 4), ("09 default", 128, 4),
                     ("09 --preset=lecture", 384, 6)):
    hs = C // nh
    print(f"{label:24s} {C:5d} {hs:4d}  {C ** -0.5:8.3f}  {hs ** -0.5:8.3f}  "
          f"{hs ** -0.5 / C ** -0.5:5.2f}")
