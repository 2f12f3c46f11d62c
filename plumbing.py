"""The plumbing behind common.py: nothing here is about language models.

Getting the data sets (declared as data in DATASETS: where to download them, how to
build the text, the checksum), command-line overrides and the one table of what each
setting may be (CONSTRAINTS), device choice, a clock, the results log, progress lines,
Ctrl-C, and writing files so that a crash never leaves half of one. common.py imports
what the stages use from here, so every stage still imports only `common`.
"""

import hashlib
import http.client
import json
import math
import os
import signal
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
MIN_CHARS = 1000  # less text than this cannot fill a train and a val split

SONGCI_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
SONGCI_URL = ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/" + SONGCI_COMMIT
              + "/" + urllib.parse.quote("宋词") + "/ci.song.{}.json")
DATASETS = {  # --data=NAME: the file in data/, its checksum, where it comes from, how it is built
    "shakespeare": {
        "file": "tinyshakespeare.txt",
        "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        "urls": ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                 "tinyshakespeare/input.txt"],
        "build": "text",
    },
    "songci": {
        "file": "songci.txt",
        "sha256": "c999336b9abe01c82f0c6a5e8db2919aaeba157475e48e1612b6b71fdc02d436",
        "urls": [SONGCI_URL.format(n) for n in range(0, 22000, 1000)],
        "build": "chinese-poetry-json",
    },
}


# ---------------------------------------------------------------- files


def sha256_of(raw):
    return hashlib.sha256(raw).hexdigest()


def shown_path(path):
    """A path as the user would type it; absolute where no relative one exists (Windows drives)."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return os.path.abspath(path)


def write_atomic(path, raw):
    """Write bytes to path so that a crash never leaves a half-written file: write a
    temporary file beside it, flush it to disk, then rename it over path. The file keeps
    its mode (a new one gets the usual mode, as open() would give it)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---------------------------------------------------------------- data sets


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def build_songci(files):
    """Lay out Song ci poems, given the parsed JSON files in order (README.md, Song ci)."""
    poems = []
    for poems_in_file in files:
        for poem in poems_in_file:
            lines = [p.strip() for p in poem["paragraphs"] if p.strip()]
            if lines:
                poems.append("\n".join([f"{poem['rhythmic']} {poem['author']}"] + lines))
    return "\n\n".join(poems) + "\n"


BUILDERS = {  # how the downloaded files (bytes, in order) become the text (bytes)
    "text": b"".join,
    "chinese-poetry-json": lambda raws: build_songci(json.loads(r) for r in raws).encode("utf-8"),
}


def download(name, path):
    spec = DATASETS[name]
    print(f"downloading {name} to {shown_path(path)} ...", flush=True)
    try:
        raw = BUILDERS[spec["build"]]([fetch(url) for url in spec["urls"]])
    except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
        more = f" and {len(spec['urls']) - 1} more files" if len(spec["urls"]) > 1 else ""
        sys.exit(f"error: could not download the {name} data set ({e}).\n"
                 f"If this machine is offline, put the file at {path}\n"
                 f"(source: {spec['urls'][0]}{more}).")
    if sha256_of(raw) != spec["sha256"]:
        sys.exit(f"error: the downloaded {name} data has the wrong checksum; nothing was written.")
    write_atomic(path, raw)
    return raw


def load_text(data):
    """Return (text, info) for a data set name ('shakespeare', 'songci') or a file path.

    A stage prints what it learns from this text, so the console is checked here too
    (see console_prints)."""
    if data in DATASETS:
        spec = DATASETS[data]
        path = os.path.join(DATA_DIR, spec["file"])
        if os.path.exists(path):
            with open(path, "rb") as f:
                raw = f.read()
            if sha256_of(raw) != spec["sha256"]:
                sys.exit(f"error: {path} has the wrong checksum (sha256 {sha256_of(raw)}, "
                         f"expected {spec['sha256']}). Delete it to download it again.")
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
        text = raw.decode("utf-8-sig")  # a byte-order mark, if an editor wrote one, is not text
    except UnicodeDecodeError as e:
        sys.exit(f"error: {path} is not UTF-8 text (byte {e.start}: {e.reason}).")
    if len(text) < MIN_CHARS:
        sys.exit(f"error: {path} is too short: {len(text)} characters, need at least {MIN_CHARS}.")
    console_prints(text)
    return text, {"data": data, "sha256": sha256_of(raw)}


def console_prints(text):
    """Switch stdout and stderr to UTF-8 if their encoding cannot print every character
    of text (a Windows console, or output sent to a file, often cannot print Chinese),
    and say so. A console that can print it is left as it is."""
    chars = "".join(set(text))
    for stream in (sys.stdout, sys.stderr):
        try:
            chars.encode(getattr(stream, "encoding", None) or "utf-8")
        except UnicodeEncodeError:
            if hasattr(stream, "reconfigure"):
                old = stream.encoding
                stream.reconfigure(encoding="utf-8")
                print(f"note: the console's encoding ({old}) cannot show every character "
                      f"of the data; printing UTF-8 instead", file=sys.stderr, flush=True)


def utf8_console():
    """Print and read UTF-8 whatever the console's default (Windows' is often not)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


# ---------------------------------------------------------------- settings


def hyperparameters(scope):
    """The plain int/float/str/bool globals of a stage script, in order."""
    return {k: v for k, v in scope.items()
            if not k.startswith("_") and type(v) in (int, float, str, bool)}


def at_least(low):
    return lambda v: v >= low, f"at least {low}"


def valid_device(name):
    kind, colon, index = name.partition(":")
    return name in ("auto", "cpu") or (kind in ("cuda", "mps") and (not colon or index.isdigit()))


# The one table of what each setting may be, for every script that has the setting:
# name -> (test, what the value must be[, a hint]). NaN fails every test.
CONSTRAINTS = {
    **{name: at_least(1) for name in ("batch_size", "block_size", "eval_interval", "eval_iters",
                                      "n_embd", "n_head", "n_layer", "threads",
                                      "max_new_tokens")},
    "max_iters": at_least(0),
    "top_k": (lambda v: v >= 0, "at least 0", "0 means every character"),
    "learning_rate": (lambda v: 0 < v < math.inf, "a positive number"),
    "cooldown": (lambda v: 0 < v <= 1, "in (0, 1]", "1e-9 means no cooldown"),
    "dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "weight_decay": (lambda v: 0 <= v < math.inf, "a number, at least 0", "0 means none"),
    "smoothing": (lambda v: 0 <= v < math.inf, "a number, at least 0"),
    "temperature": (lambda v: 0 <= v < math.inf, "a number, at least 0", "0 takes the likeliest"),
    "seed": (lambda v: 0 <= v < 2**63, "in [0, 2**63)"),
    "device": (valid_device, "auto, cpu, cuda, cuda:N, mps or mps:N"),
    "dtype": (lambda v: v in ("auto", "float32", "bfloat16"), "auto, float32 or bfloat16"),
    "data": (lambda v: v.strip() != "", "a data set name or a file, not empty"),
    "out_dir": (lambda v: v.strip() != "", "a folder, not empty"),
}


def check_settings(scope, trains=True):
    """Stop with a message, not a traceback, on a setting no run can use."""
    for name, (test, what, *hint) in CONSTRAINTS.items():
        if name in scope and not test(scope[name]):
            value = scope[name]
            shown = repr(value) if isinstance(value, str) else value
            sys.exit(f"error: --{name} must be {what}, got {shown}"
                     + "".join(f" ({h})" for h in hint))
    if trains and "n_head" in scope and "n_embd" in scope and scope["n_embd"] % scope["n_head"]:
        sys.exit(f"error: --n_embd={scope['n_embd']} is not divisible by "
                 f"--n_head={scope['n_head']}; each head gets n_embd // n_head channels")


def check_out_dir(path):
    """Stop at start-up, not after training, if the results can't be written to path."""
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".tmp-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        sys.exit(f"error: --out_dir={path}: cannot write there ({e.strerror or e}); "
                 f"choose another folder")


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


def configure(scope, argv=None, trains=True):
    """Apply --name=value overrides to a stage's hyperparameter globals.

    --preset=NAME, where the stage has PRESETS, applies that block of values first;
    any other override given with it wins over the preset. Every setting is then
    checked against CONSTRAINTS. A script that trains (trains=True) also has its model's
    shape checked and out_dir checked for writing; a script that samples from a checkpoint
    leaves both to the checkpoint. Returns what was set. With argv None (the command
    line), an uncaught Ctrl-C also ends in one line instead of a traceback.
    """
    if argv is None:  # run from the command line: Ctrl-C anywhere ends in a message
        sys.excepthook = interrupted_quietly
        argv = sys.argv[1:]
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
    check_settings(scope, trains)
    if trains and "out_dir" in scope:
        check_out_dir(scope["out_dir"])
    return given


def pick_device(device):
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()):
        sys.exit(f"error: --device={device}: expected auto, cpu, cuda, cuda:N or mps")
    if kind == "cuda" and not torch.cuda.is_available():
        sys.exit(f"error: --device={device} but PyTorch sees no CUDA GPU here "
                 f"(try --device=auto)")
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        sys.exit(f"error: --device={device} but this machine has {count} CUDA GPU"
                 f"{'s' if count > 1 else ''} (cuda:0 to cuda:{count - 1})")
    if kind == "mps" and not torch.backends.mps.is_available():
        sys.exit(f"error: --device={device} but Apple's MPS is not available here "
                 f"(try --device=auto)")
    if kind == "mps" and index and int(index) > 0:
        sys.exit(f"error: --device={device}: Apple's MPS has one device, mps:0")
    return device


def pick_dtype(dtype, device):
    """The precision of training's matrix products. 'auto' picks bfloat16 only on a CPU
    with bfloat16 instructions (AVX512-BF16 or AMX), where they run several times faster
    (notes/logs/measurements/bf16_step.txt), and float32 everywhere else, GPUs included."""
    if dtype != "auto":
        return dtype
    has = [getattr(torch.cpu, name, lambda: False)  # private PyTorch helpers: may go away
           for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return "bfloat16" if device == "cpu" and any(f() for f in has) else "float32"


# ---------------------------------------------------------------- while it runs


def now(device="cpu"):
    """Seconds on a fine clock (time.time() ticks coarsely on Windows), read once the GPU
    has finished the work queued so far."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    elif device.startswith("mps"):
        torch.mps.synchronize()
    return time.perf_counter()


def progress(it, max_iters, t0, tokens_per_iter):
    """The speed, elapsed time and ETA part of a progress line, for a run started at t0
    (a time from now())."""
    seconds = now() - t0
    if it == 0 or seconds <= 0:
        return ""
    eta = seconds / it * (max_iters - it)
    return f" | {it * tokens_per_iter / seconds:,.0f} tokens/s, {seconds:.0f} s, ETA {eta:.0f} s"


def json_safe(value):
    """value with every NaN or infinity replaced by None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def log_result(out_dir, record):
    """Append one JSON line describing a finished run to out_dir/results.jsonl."""
    os.makedirs(out_dir, exist_ok=True)
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
    line = json.dumps(json_safe(record), ensure_ascii=False, allow_nan=False) + "\n"
    with open(os.path.join(out_dir, "results.jsonl"), "a+b") as f:
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # a run crashed mid-line: start a line of our own
                line = "\n" + line
        f.write(line.encode("utf-8"))  # one write of one line: two runs at once don't mix


def interrupted_quietly(kind, value, traceback):
    """sys.excepthook: a Ctrl-C that nothing caught (a second one in training, one during
    the final evaluation) prints one line, not a traceback, and still exits with 130."""
    if issubclass(kind, KeyboardInterrupt):
        print("\nCtrl-C: stopped", file=sys.stderr, flush=True)
    else:
        sys.__excepthook__(kind, value, traceback)


class CtrlC:
    """Inside `with CtrlC() as ctrl_c:`, Ctrl-C sets ctrl_c.pressed instead of stopping the
    program, and a second Ctrl-C stops it. Leaving the block, however it is left, puts
    back what Ctrl-C did before."""

    def __init__(self):
        self.pressed = False
        self.previous = None  # what Ctrl-C did before; None while nothing is installed

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signals: main thread only
            self.previous = signal.signal(signal.SIGINT, self.handler) or signal.SIG_DFL
        return self

    def handler(self, signum, frame):
        self.pressed = True
        signal.signal(signal.SIGINT, self.previous)
        print("\nCtrl-C: stopping after this step (press again to abort)", flush=True)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
