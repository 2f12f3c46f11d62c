"""How close does a stage-09 training step come to this CPU's speed at matrix products?

For one training step at a preset (forward, backward, AdamW), in float32 and in bfloat16:
the FLOPs it does (counted by torch.utils.flop_counter), the time it takes (median of
interleaved repeats), the FLOP/s that makes, and the FLOP/s this CPU reaches on the very
same products (each matrix product of the step, recorded with its shapes, strides and
dtypes, timed alone). Utilisation is the step's FLOP/s over the products' own. Then where
the step's time goes, by kind of operation (torch.profiler, self time).

Run from the repository root, alone on the machine:
    python notes/experiments/step_utilization/step_utilization.py [PRESET[,--name=value...] ...]
"""

import collections
import os
import statistics
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import common  # noqa: E402
import compare  # noqa: E402
import plumbing  # noqa: E402

PRODUCTS = {torch.ops.aten.mm.default, torch.ops.aten.bmm.default, torch.ops.aten.addmm.default}
KINDS = [  # (kind, substrings of aten op names), the first that matches
    ("matrix products", ("mm", "linear", "matmul")),
    ("casts between dtypes", ("_to_copy", "to_dtype")),
    ("softmax", ("softmax",)),
    ("layer norm", ("layer_norm",)),
    ("AdamW", ("adam", "_foreach")),
    ("cross-entropy", ("log_softmax", "nll_loss", "cross_entropy")),
    ("embeddings", ("embedding",)),
    ("masking", ("masked_fill", "where")),
    ("elementwise (ReLU, adds, scales, dropout)", ("relu", "threshold", "add", "mul", "div",
                                                  "dropout", "fill", "zero")),
    ("moving data (copies, views, indexing)", ("copy_", "view", "transpose", "reshape", "clone",
                                                   "contiguous", "index", "cat", "split",
                                                   "chunk", "unsafe", "expand", "permute",
                                                   "empty", "sum", "arange", "randint",
                                                   "as_strided", "slice", "select")),
]


class Products(TorchDispatchMode):
    """Records each matrix product (op, args) that runs inside it."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in PRODUCTS:
            self.seen.append((func, [(a.shape, a.stride(), a.dtype) if torch.is_tensor(a) else a
                                     for a in args]))
        return func(*args, **(kwargs or {}))


def setup(spec):
    """spec: a preset, then any overrides, e.g. "cpu" or "cpu,--n_embd=256"."""
    preset, *overrides = spec.split(",")
    stage = compare.load_stage("09_dropout_scaled")
    plumbing.configure(vars(stage), [f"--preset={preset}", *overrides], trains=False)
    torch.set_num_threads(stage.threads)
    text, _ = common.load_text(stage.data)
    vocab = common.Vocab(text)
    data, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
    torch.manual_seed(1337)
    model = stage.LanguageModel(len(vocab))
    optimizer = torch.optim.AdamW(model.parameters(), lr=stage.learning_rate,
                                  weight_decay=stage.weight_decay, fused=True)
    batch = common.get_batch(data, stage.block_size, stage.batch_size, "cpu")
    return stage, model, optimizer, batch


def step(model, optimizer, batch, precision):
    with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16"):
        _, loss = model(*batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def seconds(f, repeats=7, inner=3):
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            f()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def product_alone(func, args):
    """Seconds for one recorded product, alone, on random inputs of its shapes and strides."""
    inputs = [torch.empty_strided(a[0], a[1], dtype=a[2]).uniform_(-1, 1)
              if isinstance(a, tuple) else a for a in args]
    return seconds(lambda: func(*inputs), repeats=5, inner=5)


def flops_of(func, args):
    shapes = [a[0] for a in args if isinstance(a, tuple)]
    if func is torch.ops.aten.addmm.default:
        shapes = shapes[1:]  # addmm(bias, a, b)
    (m, k), n = shapes[0][-2:], shapes[1][-1]
    batch = shapes[0][0] if len(shapes[0]) == 3 else 1
    return 2 * batch * m * k * n


def kind_of(name):
    name = name.lower()
    for kind, parts in KINDS:
        if any(part in name for part in parts):
            return kind
    return "other"


def main(presets):
    print(f"$ python notes/experiments/step_utilization/step_utilization.py {' '.join(presets)}")
    print(f"# machine: {plumbing.machine()}, "
          f"PyTorch {torch.__version__}")
    for preset in presets:
        stage, model, optimizer, batch = setup(preset)
        with FlopCounterMode(display=False) as counter:
            step(model, optimizer, batch, "float32")
        flops = counter.get_total_flops()
        print(f"\n--preset={preset.replace(',', ' ')}: {stage.batch_size} windows of "
              f"{stage.block_size}, n_embd {stage.n_embd}, {stage.n_layer} layers, "
              f"{stage.threads} threads; "
              f"{flops / 1e9:.2f} GFLOP a training step (forward and backward)")
        times = {"float32": [], "bfloat16": []}
        for _ in range(3):  # interleaved, so a busy moment slows both alike
            for precision in times:
                times[precision].append(seconds(lambda: step(model, optimizer, batch, precision)))
        for precision in times:
            recorder = Products()
            with recorder:
                step(model, optimizer, batch, precision)
            alone = sum(product_alone(func, args) for func, args in recorder.seen)
            product_flops = sum(flops_of(func, args) for func, args in recorder.seen)
            step_s = statistics.median(times[precision])
            achieved, peak = flops / step_s, product_flops / alone
            print(f"  {precision:<8}: a step {1e3 * step_s:6.1f} ms, {achieved / 1e9:5.1f} "
                  f"GFLOP/s; its {len(recorder.seen)} products alone {1e3 * alone:5.1f} ms, "
                  f"{peak / 1e9:5.1f} GFLOP/s; utilisation {achieved / peak:.0%}")
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(5):
                    step(model, optimizer, batch, precision)
            by_kind = collections.Counter()
            for event in prof.key_averages():
                if event.key.startswith("aten::"):
                    by_kind[kind_of(event.key)] += event.self_cpu_time_total
            total = sum(by_kind.values())
            print("    where the time goes (self time of aten ops): " + ", ".join(
                f"{kind} {share / total:.0%}" for kind, share in by_kind.most_common() if
                share / total >= 0.01))


if __name__ == "__main__":
    main(sys.argv[1:] or ["cpu", "quick"])
