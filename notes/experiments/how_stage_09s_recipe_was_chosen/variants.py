import sys, importlib, functools, torch, torch.nn as nn, time
sys.path.insert(0, ".")  # run from the repository root
variant = sys.argv[1]; args = sys.argv[2:]
m = importlib.import_module("09_dropout_scaled")
RealAdamW = torch.optim.AdamW
def AdamW(params, **kw):
    if "b2" in variant: kw["betas"] = (0.9, 0.99)
    if "wd" in variant: kw["weight_decay"] = 0.1
    if "nd1" in variant:  # as nanoGPT: no weight decay on biases and LayerNorm (1-D tensors)
        params = list(params)
        params = [{"params": [p for p in params if p.dim() >= 2]},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return RealAdamW(params, **kw)
torch.optim.AdamW = AdamW
if "init" in variant:
    real_init = m.LanguageModel.__init__
    def init(self, vocab_size):
        real_init(self, vocab_size)
        for name, p in self.named_parameters():
            if p.dim() == 2: nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"): nn.init.zeros_(p)
            if name.endswith("proj.weight") or name.endswith("net.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / (2 * m.n_layer) ** 0.5)
    m.LanguageModel.__init__ = init
if "clip" in variant:
    real_step = RealAdamW.step
    def step(self, *a, **k):
        torch.nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], 1.0)
        return real_step(self, *a, **k)
    RealAdamW.step = step
t = time.perf_counter()
_, r = m.main(args)
print(f"VARIANT {variant} {' '.join(args)} :: val {r['val_loss']:.4f} train {r['train_loss']:.4f} :: {time.perf_counter()-t:.1f} s {r['tokens_per_s']:,.0f} tok/s")
