"""Why stage 09 trains in bfloat16 on a CPU built for it (--dtype=auto). First the matrix
products a default-size step makes (2,048 positions of 128 channels times the weights of
q/k/v, the feed-forward layer and the output layer), in float32 and in bfloat16, as
GFLOP/s; then whole training steps at the sizes stage 09 trains (defaults, --preset=quick,
--preset=songci), float32 and bfloat16 interleaved. Random weights: the speed does not
depend on them. Run from the repository root, alone on the machine:
python notes/logs/measurements/bf16_step.py"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
import common  # noqa: E402
from compare import load_stage  # noqa: E402  (a fresh copy of a stage, its settings as written)
from _timing import median, train_step  # noqa: E402

stage09 = importlib.import_module("09_dropout_scaled")
torch.set_num_threads(stage09.threads)
has = {name: getattr(torch.cpu, f"_is_{name}_supported", lambda: False)()
       for name in ("avx512_bf16", "amx_tile")}
print(f"# PyTorch {torch.__version__}, {stage09.threads} threads; random weights; "
      f"the median of 5 repeats (a step's: of 3 such medians, the precisions interleaved); "
      f"CPU instructions: {has}; --dtype=auto picks "
      f"{common.pick_dtype('auto', 'cpu')} here")


def timed(f, n):
    f()  # warm-up
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - t0) / n)
    return median(times)


print("matrix products (2048, 128) @ (128, N), as in a forward pass: GFLOP/s")
for n, what in [(384, "q, k, v"), (512, "feed-forward in"), (65, "output layer, Shakespeare"),
                (6100, "output layer, Song ci")]:
    a, b = torch.randn(2048, 128), torch.randn(128, n)
    speeds = {}
    for dtype in (torch.float32, torch.bfloat16):
        x, w = a.to(dtype), b.to(dtype)
        speeds[dtype] = 2 * 2048 * 128 * n / timed(lambda: x @ w, 50) / 1e9
    f32, b16 = speeds[torch.float32], speeds[torch.bfloat16]
    print(f"  N={n:<5} {what:<26} float32 {f32:6.1f}, bfloat16 {b16:6.1f} ({b16 / f32:.1f}x)")

print("training steps: ms a step")
for preset in ("cpu", "quick", "songci"):
    stage = load_stage("09_dropout_scaled")
    common.configure(vars(stage), [f"--preset={preset}"], trains=False)
    text, _ = common.load_text(stage.data)
    vocab = common.Vocab(text)
    train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text)))
    torch.manual_seed(1337)
    model = stage.LanguageModel(len(vocab))
    optimizer = torch.optim.AdamW(model.parameters(), lr=stage.learning_rate,
                                  weight_decay=stage.weight_decay, fused=True)
    ms = {}
    for _ in range(3):  # interleaved: float32, bfloat16, float32, ...
        for precision in ("float32", "bfloat16"):
            ms.setdefault(precision, []).append(1e3 * timed(
                lambda: train_step(stage, model, optimizer, train_data, precision), 4))
    f32, b16 = (median(ms[p]) for p in ("float32", "bfloat16"))
    print(f"  --preset={preset:<6} ({stage.batch_size} windows of {stage.block_size}, "
          f"{len(vocab):,} characters): float32 {f32:.1f}, bfloat16 {b16:.1f} ({f32 / b16:.1f}x)")
