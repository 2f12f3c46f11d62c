"""Which operations of a stage-09 training step run in bfloat16 under torch.autocast, as
stage 09 takes the step with --dtype=bfloat16: every PyTorch operation of one forward and
backward pass (a batch of 2 windows of 16, random weights), by the dtype of what it returns.
Behind "Why bfloat16" in note 09. Run from the repository root:
python notes/experiments/bfloat16_and_threads_on_a_cpu/bf16_ops.py"""
import importlib
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode  # sees every operation PyTorch runs

sys.path.insert(0, ".")
from _timing import header  # noqa: E402

stage09 = importlib.import_module("09_dropout_scaled")
header()
torch.manual_seed(1337)
model = stage09.LanguageModel(65)
x, y = torch.randint(65, (2, 16)), torch.randint(65, (2, 16))
returns = {}  # operation name -> dtypes of the tensors it returned


class Record(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = out if isinstance(out, (tuple, list)) else [out]
        returns.setdefault(func.overloadpacket.__name__, set()).update(
            str(t.dtype).removeprefix("torch.") for t in tensors if isinstance(t, torch.Tensor))
        return out


with Record():
    with torch.autocast("cpu", torch.bfloat16):
        _, loss = model(x, y)
    loss.backward()
print(f"# PyTorch {torch.__version__}; operations of one forward and backward pass, by what "
      f"they return (views, copies and casts left out)")
plumbing = ("view", "_unsafe_view", "t", "transpose", "expand", "split", "slice", "clone",
            "detach", "_to_copy", "arange", "ones_like", "eq")
for dtype in ("bfloat16", "float32"):
    names = [n for n, d in returns.items() if d == {dtype} and n not in plumbing]
    print(f"only {dtype}: {', '.join(names)}")
mixed = [f"{n} {sorted(d)}" for n, d in returns.items() if len(d) > 1 and n not in plumbing]
print(f"both: {', '.join(mixed)}")
