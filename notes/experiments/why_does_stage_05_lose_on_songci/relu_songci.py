"""Why stage 05 does not beat stage 04 on Song ci: its ReLU, with no residual around it,
stands between attention and a 6,100-way output layer. Trains stage 05 at --preset=songci
as it is and with the ReLU taken out (nn.Identity in its place), and stage 05 on
Shakespeare at its defaults; for each trained model, how many of the 32 channels that
reach lm_head the ReLU leaves at zero.

Run from the repository root: python notes/experiments/why_does_stage_05_lose_on_songci/relu_songci.py
"""

import contextlib
import io
import sys
import tempfile
import types
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402
import compare  # noqa: E402


def train(args, relu=True):
    """Stage 05 trained with args, quietly; returns (module, model, result)."""
    m = compare.load_stage("05_feedforward")
    if not relu:  # the same model with the ReLU replaced by the identity
        m.nn = types.SimpleNamespace(**vars(torch.nn))
        m.nn.ReLU = torch.nn.Identity
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        model, result = m.main(args + [f"--out_dir={out}"])
    return m, model, result


@torch.no_grad()
def channels(m, model, data):
    """Over 64 val windows: the share of the 32 values reaching lm_head that are zero, and
    the channels that are zero at every position (dead)."""
    text, _ = common.load_text(data)
    vocab = common.Vocab(text)
    _, val = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))
    torch.manual_seed(0)
    x, _ = common.get_batch(val, m.block_size, 64, "cpu")
    seen = []
    model.ffwd.register_forward_hook(lambda module, inputs, output: seen.append(output))
    model.eval()
    model(x)
    out = seen[0].reshape(-1, seen[0].size(-1))  # (positions, 32)
    zero = (out == 0).float()
    return zero.mean().item(), int((zero.mean(0) == 1).sum())


print(f"{'run':<44} {'val loss':>8} {'zeros':>6} {'dead channels':>14}   settings")
for label, args, relu, data in (
        ("05 --preset=songci", ["--preset=songci"], True, "songci"),
        ("05 --preset=songci, ReLU taken out", ["--preset=songci"], False, "songci"),
        ("05 at defaults (shakespeare)", [], True, "shakespeare")):
    m, model, result = train(args, relu)
    zeros, dead = channels(m, model, data)
    print(f"{label:<44} {result['val_loss']:>8.4f} {zeros:>6.2f} {dead:>8} of {m.n_embd}"
          f"   context {m.block_size}, batch {m.batch_size}, lr {m.learning_rate}, "
          f"{result['params']:,} parameters", flush=True)
