import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import compare  # noqa: E402
import plumbing  # noqa: E402

STAGES = sorted(p.stem for p in ROOT.glob("[0-9][0-9]_*.py"))
ATTENTION_STAGES = [s for s in STAGES if "03" <= s[:2] <= "10"]


def load_stage(name):
    """A fresh copy of a stage's module, so one test's overrides never leak into another."""
    return compare.load_stage(name)


def stage_with_a_model(name):
    """load_stage, for a test that builds the model: stage 10, which takes its model's shape
    from a checkpoint, gets stage 09's default shape."""
    stage = load_stage(name)
    if getattr(stage, "block_size", 0) is None:
        nine = load_stage("09_dropout_scaled")
        for setting in plumbing.SHAPE + ("dropout", "tie_weights"):
            setattr(stage, setting, getattr(nine, setting))
    return stage


def need_data(name):
    """The text of a data set, or a skip that says why it is missing (offline, say)."""
    try:
        return plumbing.read_text(name)[0]
    except SystemExit as e:
        pytest.skip(f"the {name} data set is not in data/ and could not be downloaded "
                    f"(copy it there to run this test): {e}")


@pytest.fixture(scope="session")
def shakespeare():
    return need_data("shakespeare")


@pytest.fixture(scope="session")
def songci():
    return need_data("songci")


@pytest.fixture
def out_args(tmp_path):
    """Arguments that keep a test run's results log out of the real out/."""
    return [f"--out_dir={tmp_path / 'out'}"]
