"""What one sampling step of stage 10 costs, with and without the cache, at three model
widths (4 layers, 4 heads, context 128, random weights), and how many PyTorch operations a
cached step runs. If the cached step's time hardly grows with the width while the uncached
one does, the cached step's time is mostly the fixed cost of each operation, not arithmetic.
Run from the repository root, alone on the machine:
python notes/experiments/how_much_does_the_kv_cache_save/kv_step.py"""
import os
import sys
import time

import torch
from torch.profiler import profile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
import compare  # noqa: E402
import plumbing  # noqa: E402

print("$ python notes/experiments/how_much_does_the_kv_cache_save/kv_step.py")
print(f"# machine: {plumbing.machine()}")
stage = compare.load_stage("10_kvcache_sample")
vars(stage).update(block_size=128, n_head=4, n_layer=4, dropout=0.0, tie_weights=False)
torch.set_num_threads(stage.threads)
n = 3 * stage.block_size  # characters per timing, as in notes/figures.py kvcache
print(f"# PyTorch {torch.__version__}, {stage.threads} thread(s); {n} characters from an "
      f"empty context, median of 3; 65 characters of vocabulary")
print("width  parameters  cached ms/char  uncached ms/char  ratio  ops per char, cached")
for width in (32, 128, 384):
    stage.n_embd = width  # what a checkpoint of that width would set
    torch.manual_seed(1337)
    model = stage.LanguageModel(65).eval()
    start = torch.zeros((1, 1), dtype=torch.long)
    ms = {}
    for use_cache in (True, False):
        model.generate(start, 20, use_cache=use_cache)  # warm-up
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            model.generate(start, n, use_cache=use_cache)
            runs.append((time.perf_counter() - t0) / n * 1e3)
        ms[use_cache] = sorted(runs)[1]
    with profile() as prof:  # 64 characters: the cache filled once, then 63 cached steps
        model.generate(start, 64)
    top_level = [e for e in prof.events() if e.cpu_parent is None and e.name.startswith("aten::")]
    params = sum(p.numel() for p in model.parameters())
    print(f"{width:5d}  {params:10,}  {ms[True]:14.2f}  {ms[False]:16.2f}  "
          f"{ms[False] / ms[True]:4.1f}x  {len(top_level) / 64:20.0f}")
