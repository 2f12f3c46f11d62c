"""Time stage 10's generate with and without the cache (random weights), medians of 3."""
import sys, time, importlib.util, torch
root = sys.argv[1]; sys.path.insert(0, root)
import common
def load():
    spec = importlib.util.spec_from_file_location("s10", root + "/10_kvcache_sample.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
torch.set_num_threads(1)
for preset, n in (("cpu", 500), ("lecture", 300)):
    m = load(); common.configure(vars(m), [f"--preset={preset}"], writes_out_dir=False) if "writes_out_dir" in common.configure.__code__.co_varnames else common.configure(vars(m), [f"--preset={preset}"])
    torch.manual_seed(0); model = m.LanguageModel(65).eval()
    res = {}
    for use_cache in (True, False):
        ts = []
        for _ in range(3):
            torch.manual_seed(1); t = time.perf_counter()
            out = model.generate(torch.zeros((1, 1), dtype=torch.long), n, 1.0, 0, use_cache)
            ts.append(time.perf_counter() - t)
        res[use_cache] = (sorted(ts)[1], out)
    print(f"{preset}: {n} chars, with cache {n / res[True][0]:,.0f} tokens/s, without {n / res[False][0]:,.0f}, "
          f"{res[False][0] / res[True][0]:.1f}x, identical {torch.equal(res[True][1], res[False][1])}", flush=True)
