import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import plumbing  # noqa: E402
from compare import load_stage  # noqa: E402,F401  (a fresh copy: one test's overrides never leak)

STAGES = sorted(p.stem for p in ROOT.glob("[0-9][0-9]_*.py"))
ATTENTION_STAGES = [s for s in STAGES if "03" <= s[:2] <= "10"]


def need_data(name):
    """The text of a data set, or a skip that says why it is missing (offline, say)."""
    try:
        return plumbing.load_text(name)[0]
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
