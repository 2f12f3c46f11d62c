"""Stage 09 with AdamW's weight decay set to the first argument, before stage 09 had
--weight_decay (it used AdamW's default, 0.01). Run from the repository root:
python notes/experiments/how_stage_09s_recipe_was_chosen/weight_decay.py 0.1 --max_iters=4200"""
import importlib
import sys
import time

import torch

sys.path.insert(0, ".")
weight_decay, args = float(sys.argv[1]), sys.argv[2:]
stage = importlib.import_module("09_dropout_scaled")
RealAdamW = torch.optim.AdamW
torch.optim.AdamW = lambda params, **kw: RealAdamW(params, **{**kw, "weight_decay": weight_decay})
t0 = time.perf_counter()
_, r = stage.main(args)
print(f"WD {weight_decay} {' '.join(args)} :: val {r['val_loss']:.4f} "
      f"train {r['train_loss']:.4f} :: {time.perf_counter() - t0:.1f} s")
