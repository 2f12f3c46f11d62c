"""Stage 06 at initialisation: how the activations shrink through the three blocks, what
that leaves of the logits, and how much gradient reaches the token embedding (against 07).

Run from the repository root: python notes/experiments/what_do_blocks_without_residuals_do/block_init.py
"""

import importlib
import sys
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
import common  # noqa: E402

torch.set_num_threads(1)  # as the stages do; one is fastest for models this small
text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
train_data, _ = common.train_val_split(torch.tensor(vocab.encode(text), dtype=torch.long))


def fresh(name, seed):
    """A new model of stage name, built after manual_seed(seed), and one train batch."""
    m = importlib.import_module(name)
    torch.manual_seed(seed)
    model = m.LanguageModel(len(vocab))
    x, y = common.get_batch(train_data, m.block_size, m.batch_size, "cpu")
    return model, x, y


def activations_06():
    model, x, y = fresh("06_block", 1337)
    seen = {}  # where -> output, in the order the forward pass meets them

    def keep(where):
        return lambda module, inputs, output: seen.setdefault(where, []).append(output.detach())

    model.blocks[0].register_forward_pre_hook(
        lambda module, inputs: seen.setdefault("x0 = tok_emb + pos_emb", []).append(inputs[0]))
    for i, block in enumerate(model.blocks, 1):
        for h in block.sa.heads:
            h.value.register_forward_hook(keep(f"block {i}: values v (all heads)"))
        block.sa.register_forward_hook(keep(f"block {i}: attention output"))
        block.ffwd.net[0].register_forward_hook(keep(f"block {i}: Linear"))
        block.ffwd.net[1].register_forward_hook(keep(f"block {i}: ReLU = block output"))
    with torch.no_grad():
        logits, loss = model(x, y)
    print("stage 06 at initialisation, seed 1337, one batch of", tuple(x.shape))
    print(f"  {'':38s} {'std':>6s}  {'std across positions':>20s}")

    def show(where, t):  # across positions: t minus its mean over the B*T positions, per channel
        spread = (t - t.mean(dim=(0, 1), keepdim=True)).std().item()
        print(f"  {where:38s} {t.std().item():6.3f}  {spread:20.3f}")

    for where, outputs in seen.items():
        show(where, torch.cat(outputs, dim=-1))  # the heads' values side by side
    bias = model.lm_head.bias.detach()
    show("logits", logits)
    show("logits - lm_head.bias (what x3 adds)", logits - bias)
    print(f"  lm_head.bias                           {bias.std().item():6.3f}")
    bias_only = F.cross_entropy(bias.expand(y.numel(), -1), y.view(-1))
    print(f"  loss on this batch {loss.item():.3f}; with the logits replaced by the bias "
          f"alone {bias_only.item():.3f}; ln 65 = {torch.log(torch.tensor(65.0)).item():.3f}")


def gradients(name, seed):
    model, x, y = fresh(name, seed)
    _, loss = model(x, y)
    loss.backward()
    emb = model.token_embedding_table.weight.grad.norm().item()
    blocks = [torch.cat([p.grad.flatten() for p in b.parameters()]).norm().item()
              for b in model.blocks]
    return emb, blocks


activations_06()
print()
print("gradient norms after one backward pass (same seed: same batch for both stages)")
for seed in (1337, 1, 2, 3, 4):
    e6, b6 = gradients("06_block", seed)
    e7, b7 = gradients("07_residual", seed)
    print(f"  seed {seed:4d}: token embedding 06 {e6:.2e}, 07 {e7:.2e}, 07/06 = {e7 / e6:5.0f}x"
          f" | blocks 1-3: 06 {' '.join(f'{g:.1e}' for g in b6)},"
          f" 07 {' '.join(f'{g:.1e}' for g in b7)}")
