import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STAGES = sorted(p.stem for p in ROOT.glob("[0-9][0-9]_*.py"))
ATTENTION_STAGES = [s for s in STAGES if "03" <= s[:2] <= "10"]


def load_stage(name):
    """A fresh copy of a stage module, so overrides applied by one test never leak."""
    spec = importlib.util.spec_from_file_location(f"stage_{name}", ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def out_args(tmp_path):
    """Arguments that keep a test run's results log out of the real out/."""
    return [f"--out_dir={tmp_path / 'out'}"]
