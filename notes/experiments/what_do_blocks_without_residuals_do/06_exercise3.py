"""Exercise 3 of note 06, its worked answer's code as the note gives it.

Run from the repository root: python notes/experiments/what_do_blocks_without_residuals_do/06_exercise3.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

import importlib  # noqa: E402
import torch  # noqa: E402
import common  # noqa: E402

text, _ = common.load_text("shakespeare")
vocab = common.Vocab(text)
data = torch.tensor(vocab.encode(text), dtype=torch.long)
for name in ("06_block", "07_residual"):
    m = importlib.import_module(name)
    torch.manual_seed(1337)
    model = m.LanguageModel(len(vocab))
    x, y = common.get_batch(data, m.block_size, m.batch_size, "cpu")
    _, loss = model(x, y)
    loss.backward()
    emb = model.token_embedding_table.weight.grad.norm().item()
    blocks = [torch.cat([p.grad.flatten() for p in b.parameters()]).norm().item()
              for b in model.blocks]
    print(name, f"embeddings {emb:.2e}", "blocks", [f"{g:.2e}" for g in blocks])
