"""What every stage shares and no stage changes.

Reading the text (downloaded on first use and checked), the character vocabulary,
the 90/10 train/val split, batching, the whole-split evaluation, command-line
overrides, device choice and the results log. Nothing about the model lives here.
"""

import hashlib
import http.client
import json
import os
import signal
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import torch
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")

SONGCI_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
DATASETS = {
    "shakespeare": {
        "file": "tinyshakespeare.txt",
        "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        "url": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    },
    "songci": {
        "file": "songci.txt",
        "sha256": "c999336b9abe01c82f0c6a5e8db2919aaeba157475e48e1612b6b71fdc02d436",
        "url": "https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/"
        + SONGCI_COMMIT + "/" + urllib.parse.quote("宋词") + "/ci.song.{}.json",
    },
}
MIN_CHARS = 1000  # less text than this cannot fill a train and a val split


# ---------------------------------------------------------------- data


def sha256_of(raw):
    return hashlib.sha256(raw).hexdigest()


def write_atomic(path, raw):
    """Write bytes to path so that a failure never leaves a half-written file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def build_songci(files):
    """Lay out Song ci poems, given the parsed JSON files in order (see data/README)."""
    poems = []
    for poems_in_file in files:
        for poem in poems_in_file:
            lines = [p.strip() for p in poem["paragraphs"] if p.strip()]
            if lines:
                poems.append("\n".join([f"{poem['rhythmic']} {poem['author']}"] + lines))
    return "\n\n".join(poems) + "\n"


def download(name, path):
    spec = DATASETS[name]
    print(f"downloading {name} to {os.path.relpath(path)} ...", flush=True)
    try:
        if name == "songci":
            urls = [spec["url"].format(n) for n in range(0, 22000, 1000)]
            raw = build_songci(json.loads(fetch(u)) for u in urls).encode("utf-8")
        else:
            raw = fetch(spec["url"])
    except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
        sys.exit(
            f"error: could not download the {name} data set ({e}).\n"
            f"If this machine is offline, put the file at {path}\n"
            f"(source: {spec['url'].format(0) if name == 'songci' else spec['url']})."
        )
    if sha256_of(raw) != spec["sha256"]:
        sys.exit(f"error: the downloaded {name} data has the wrong checksum; nothing was written.")
    write_atomic(path, raw)
    return raw


def load_text(data):
    """Return (text, info) for a data set name ('shakespeare', 'songci') or a file path."""
    if data in DATASETS:
        spec = DATASETS[data]
        path = os.path.join(DATA_DIR, spec["file"])
        if os.path.exists(path):
            with open(path, "rb") as f:
                raw = f.read()
            if sha256_of(raw) != spec["sha256"]:
                sys.exit(
                    f"error: {path} has the wrong checksum (sha256 {sha256_of(raw)}, "
                    f"expected {spec['sha256']}). Delete it to download it again."
                )
        else:
            raw = download(data, path)
    else:
        path = data
        if not os.path.isfile(path):
            sys.exit(f"error: --data={data}: no such file, and not a data set name "
                     f"({', '.join(DATASETS)}).")
        with open(path, "rb") as f:
            raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit(f"error: {path} is not UTF-8 text (byte {e.start}: {e.reason}).")
    if len(text) < MIN_CHARS:
        sys.exit(f"error: {path} is too short: {len(text)} characters, need at least {MIN_CHARS}.")
    return text, {"data": data, "sha256": sha256_of(raw)}


class Vocab:
    """The characters of a text, each mapped to an integer id."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, s):
        unknown = sorted(set(s) - self.stoi.keys())
        if unknown:
            names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in unknown)
            raise ValueError(f"characters not in the vocabulary: {names}")
        return [self.stoi[ch] for ch in s]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def train_val_split(ids):
    """The first 90% of the text trains, the last 10% validates."""
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:]


def get_batch(data, block_size, batch_size, device):
    """batch_size random windows x and the same windows shifted by one, y."""
    check_length(data, block_size)
    ix = torch.randint(len(data) - block_size, (batch_size, 1))
    x = data[ix + torch.arange(block_size)]  # (batch_size, block_size)
    y = data[ix + torch.arange(1, block_size + 1)]
    return x.to(device), y.to(device)


def check_length(data, block_size):
    if len(data) <= block_size:
        sys.exit(f"error: a split of {len(data)} characters cannot fill a window of "
                 f"block_size={block_size}; use a longer text or a smaller --block_size")


@torch.no_grad()
def evaluate(model, data, block_size, device, batch_size=512):
    """Mean cross-entropy over every non-overlapping window of a whole split."""
    check_length(data, block_size)
    was_training = model.training
    model.eval()
    n = (len(data) - 1) // block_size
    x_all = data[: n * block_size].view(n, block_size)
    y_all = data[1 : n * block_size + 1].view(n, block_size)
    total = 0.0
    for i in range(0, n, batch_size):
        x, y = x_all[i : i + batch_size].to(device), y_all[i : i + batch_size].to(device)
        logits, _ = model(x)
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train(was_training)
    return total / (n * block_size)


# ---------------------------------------------------------------- running a stage


def hyperparameters(scope):
    """The plain int/float/str/bool globals of a stage script, in order."""
    return {k: v for k, v in scope.items()
            if not k.startswith("_") and type(v) in (int, float, str, bool)}


def parse_value(name, text, default):
    kind = type(default)
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        return kind(text)
    except ValueError:
        sys.exit(f"error: --{name}={text}: expected {kind.__name__} (e.g. --{name}={default})")


POSITIVE = ("batch_size", "block_size", "eval_interval", "eval_iters", "n_embd", "n_head",
            "n_layer", "threads")  # where a stage has one of these, 0 or less cannot work


def check_ranges(scope):
    """Stop with a message, not a traceback, on a setting no stage can run with."""
    for name in POSITIVE:
        if name in scope and scope[name] < 1:
            sys.exit(f"error: --{name} must be at least 1, got {scope[name]}")
    if "cooldown" in scope and not 0 < scope["cooldown"] <= 1:
        sys.exit(f"error: --cooldown must be in (0, 1], got {scope['cooldown']} "
                 f"(1e-9 means no cooldown)")
    if "dropout" in scope and not 0 <= scope["dropout"] < 1:
        sys.exit(f"error: --dropout must be in [0, 1), got {scope['dropout']}")


def utf8_console():
    """Print and read UTF-8 whatever the console's default (Windows' is often not)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def configure(scope, argv=None):
    """Apply --name=value overrides to a stage's hyperparameter globals.

    --preset=NAME, where the stage has PRESETS, applies that block of values first;
    any other override given with it wins over the preset. Returns what was set.
    """
    utf8_console()
    argv = sys.argv[1:] if argv is None else argv
    known = hyperparameters(scope)
    presets = scope.get("PRESETS", {})
    given = {}
    for arg in sorted(argv, key=lambda a: not a.startswith("--preset=")):  # preset first
        if arg in ("-h", "--help"):
            print((scope.get("__doc__") or "").strip() + "\n\noverrides (--name=value):")
            for k, v in known.items():
                print(f"  --{k}={v}")
            sys.exit(0)
        name, eq, text = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if not eq and type(known.get(name)) is bool:  # a bare --flag means --flag=true
            eq, text = "=", "true"
        if not eq:
            sys.exit(f"error: {arg}: overrides take the form --name=value (see --help)")
        if name not in known:
            sys.exit(f"error: unknown option --{name}; known: "
                     + " ".join(f"--{k}" for k in known))
        given[name] = scope[name] = parse_value(name, text, known[name])
        if name == "preset":
            if text not in presets:
                sys.exit(f"error: --preset={text}: expected one of {', '.join(presets)}")
            scope.update(presets[text])
            given.update(presets[text])
    check_ranges(scope)
    return given


def pick_device(device):
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("error: --device=cuda but PyTorch sees no CUDA GPU here (try --device=auto)")
    if device == "mps" and not torch.backends.mps.is_available():
        sys.exit("error: --device=mps but Apple's MPS is not available here (try --device=auto)")
    if device.split(":")[0] not in ("cpu", "cuda", "mps"):
        sys.exit(f"error: --device={device}: expected auto, cpu, cuda or mps")
    return device


def log_result(out_dir, record):
    """Append one JSON line describing a finished run to out_dir/results.jsonl."""
    os.makedirs(out_dir, exist_ok=True)
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
    with open(os.path.join(out_dir, "results.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


def progress(it, max_iters, seconds, tokens_per_iter):
    """The speed, elapsed time and ETA part of a progress line."""
    if it == 0:
        return ""
    eta = seconds / it * (max_iters - it)
    return f" | {it * tokens_per_iter / seconds:,.0f} tokens/s, {seconds:.0f} s, ETA {eta:.0f} s"


class CtrlC:
    """While installed, Ctrl-C sets .pressed instead of killing; pressing it again kills."""

    def __init__(self):
        self.pressed = False
        self.previous = signal.signal(signal.SIGINT, self.handler)

    def handler(self, signum, frame):
        self.pressed = True
        signal.signal(signal.SIGINT, self.previous)
        print("\nCtrl-C: stopping after this step (press again to abort)", flush=True)

    def restore(self):
        signal.signal(signal.SIGINT, self.previous)
