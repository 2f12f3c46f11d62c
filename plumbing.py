"""The plumbing of the ladder: everything a stage needs that is not the lesson.

Stages reach it as `plumbing.NAME` (`from common import plumbing`), so a learner can tell
it from the lesson at a glance. In the order a run meets it:

- settings: `configure` applies --name=value overrides and --preset, and checks every value
  against one table, CONSTRAINTS; `pick_device`, `pick_dtype`;
- data sets: downloaded on first use (or built from files copied by hand), checked by sha256;
- a training run: `Run` (Ctrl-C, progress lines, the results log) and `Checkpoint`
  (out_dir/ckpt.pt, replaced only by a better model);
- sampling: `load_checkpoint`, `prompts`, `stop_sample_on_ctrl_c`;
- files: `write_atomic`, so a crash never leaves half a file.
"""

import contextlib
import hashlib
import http.client
import io
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import torch
from torch.nn import functional as F

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
HEARTBEAT = 10  # seconds between progress lines while training runs between evaluations
BF16_GAIN = 1.25  # without CPU flags to read, auto takes bfloat16 if products run this much faster


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
        mode = os.stat(path).st_mode & 0o7777
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
    """Lay out Song ci poems, given the parsed JSON files in order (data/README.md)."""
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


def source_files(name):
    """Where the files of a data set built from several go when copied by hand:
    data/NAME/, each under the last part of its URL (data/songci/ci.song.0.json, ...)."""
    return [os.path.join(DATA_DIR, name, urllib.parse.unquote(url.rsplit("/", 1)[-1]))
            for url in DATASETS[name]["urls"]]


def download(name, path):
    """Build a data set from its sources, downloaded, or copied by hand into data/NAME/."""
    spec = DATASETS[name]
    copies = source_files(name) if len(spec["urls"]) > 1 else []
    by_hand = bool(copies) and all(os.path.exists(p) for p in copies)
    print(f"building {name} from {shown_path(os.path.dirname(copies[0]))} ..." if by_hand
          else f"downloading {name} to {shown_path(path)} ...", flush=True)
    try:
        raws = []
        for url, copy in zip(spec["urls"], copies if by_hand else spec["urls"]):
            if by_hand:
                with open(copy, "rb") as f:
                    raws.append(f.read())
            else:
                raws.append(fetch(url))
        raw = BUILDERS[spec["build"]](raws)
    except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
        if len(copies) > 1:
            where = (f"put the file at {path}, or the {len(copies)} files it is built from "
                     f"({os.path.basename(copies[0])} ... {os.path.basename(copies[-1])}, "
                     f"from {urllib.parse.unquote(spec['urls'][0].rsplit('/', 1)[0])}/) into "
                     f"{os.path.dirname(copies[0])}")
        else:
            where = f"put the file at {path} (source: {spec['urls'][0]})"
        sys.exit(f"error: could not {'build' if by_hand else 'download'} the {name} data set "
                 f"({e}).\nIf this machine is offline, {where}.")
    if sha256_of(raw) != spec["sha256"]:
        sys.exit(f"error: the {'built' if by_hand else 'downloaded'} {name} data has the wrong "
                 f"checksum; nothing was written.")
    write_atomic(path, raw)
    return raw


def read_text(data):
    """(text, source) for a data set name or a file path: source is {"data", "sha256"}."""
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
    console_prints(text)  # a stage prints what it learns from this text
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
TRAINING_ONLY = {"data", "tie_weights"}  # settings of training that CONSTRAINTS leaves free


def check_settings(scope, trains=True):
    """Stop with a message, not a traceback, on a setting no run can use."""
    settings = hyperparameters(scope)  # a shape still to come from a checkpoint is None
    for name, (test, what, *hint) in CONSTRAINTS.items():
        if name in settings and not test(settings[name]):
            value = settings[name]
            shown = repr(value) if isinstance(value, str) else value
            sys.exit(f"error: --{name} must be {what}, got {shown}"
                     + "".join(f" ({h})" for h in hint))
    if trains and {"n_head", "n_embd"} <= settings.keys() and scope["n_embd"] % scope["n_head"]:
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
    takes both from the checkpoint. Returns what was set. With argv None (the command
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
        if name not in known and not trains and (name in CONSTRAINTS or name in TRAINING_ONLY):
            sys.exit(f"error: --{name} is a setting of training; sampling takes the model, its "
                     f"shape and its data from the checkpoint (choose one with --preset or "
                     f"--out_dir)")
        if name and name not in known:
            sys.exit(f"error: unknown option --{name}; known: "
                     + " ".join(f"--{k}" for k in known))
        if not eq:
            sys.exit(f"error: {arg}: overrides take the form --name=value (see --help)")
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
    """'auto' picks CUDA, then Apple's MPS, then the CPU. The name was checked by configure
    (CONSTRAINTS); here only whether this machine has that device."""
    if device == "auto":
        return ("cuda" if torch.cuda.is_available()
                else "mps" if torch.backends.mps.is_available() else "cpu")
    kind, _, index = device.partition(":")
    count = (torch.cuda.device_count() if kind == "cuda"
             else int(torch.backends.mps.is_available()) if kind == "mps" else 1)
    if count == 0:
        what = "PyTorch sees no CUDA GPU" if kind == "cuda" else "Apple's MPS is not available"
        sys.exit(f"error: --device={device} but {what} here (try --device=auto)")
    if index and int(index) >= count:
        what = "CUDA GPU" if kind == "cuda" else "MPS device"
        sys.exit(f"error: --device={device} but this machine has {count} {what}"
                 f"{'s' if count > 1 else ''} ({kind}:0 to {kind}:{count - 1})")
    return device


@torch.no_grad()
def bf16_gain(rows, width, repeats=7):
    """How many times faster one matrix product of the model's shape (rows x width times
    width x 4*width, a feed-forward layer's) runs under bfloat16 autocast than in float32
    on this CPU: medians of interleaved runs, so a busy moment slows both alike."""
    local = torch.Generator().manual_seed(0)  # the training's random numbers stay untouched
    x = torch.rand(rows, width, generator=local)
    w = torch.rand(4 * width, width, generator=local)
    seconds = {False: [], True: []}
    for _ in range(repeats + 1):  # the first of each warms up
        for bf16 in (False, True):
            with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                start = time.perf_counter()
                F.linear(x, w)
                seconds[bf16].append(time.perf_counter() - start)
    return statistics.median(seconds[False][1:]) / statistics.median(seconds[True][1:])


def machine():
    """The CPU's model name and family, as lscpu prints them, for the first line of a
    measurement's log; where there is no lscpu, what Python knows of the processor."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return f"Model name: {platform.processor() or 'unknown'}"
    return ", ".join(" ".join(line.split()) for line in out.splitlines()
                     if line.startswith(("Model name", "CPU family")))


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU's feature flags as Linux lists them, or None where the OS does not."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):  # x86, ARM
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return None


BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86's two kinds, ARM's


def pick_dtype(dtype, device, rows, width):
    """The dtype of training's matrix products, and why (for the line a run starts with).
    'auto' gives GPUs float32; on a CPU, bfloat16 where the OS lists bfloat16 instructions
    (so the same machine always chooses the same), else where a product of the model's shape
    runs at least BF16_GAIN times faster in it, measured."""
    if dtype != "auto":
        return dtype, ""
    if device != "cpu":
        return "float32", " (auto: float32 on a GPU)"
    flags = cpu_flags()
    if flags is not None:
        found = sorted(flags & BF16_FLAGS)
        return (("bfloat16", f" (auto: the CPU lists {', '.join(found)})") if found else
                ("float32", " (auto: the CPU lists no bfloat16 instructions)"))
    gain = bf16_gain(rows, width)
    chosen, only = ("bfloat16", "") if gain >= BF16_GAIN else ("float32", "only ")
    return chosen, f" (auto: bfloat16 ran this model's products {only}{gain:.1f}x as fast here)"


# ---------------------------------------------------------------- a training run


def now(device="cpu"):
    """Seconds on a fine clock (time.time() ticks coarsely on Windows), read once the GPU
    has finished the work queued so far."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    elif device.startswith("mps"):
        torch.mps.synchronize()
    return time.perf_counter()


def interrupted_quietly(kind, value, traceback):
    """sys.excepthook: a Ctrl-C that nothing caught (a second one in training, one during
    the final evaluation) prints one line, not a traceback, and still exits with 130."""
    if issubclass(kind, KeyboardInterrupt):
        print("\nCtrl-C: stopped", file=sys.stderr, flush=True)
    else:
        sys.__excepthook__(kind, value, traceback)


class Run:
    """The bookkeeping of one training run, so that a stage's loop reads like the lecture's:

        run = plumbing.Run(globals(), source, dev)
        for it in run.steps():            # range(max_iters), ended early by Ctrl-C
            ...
            run.report(it, losses)        # a progress line; the curve for the log
        result = run.finish(val_loss, train_loss, n_params)

    finish() prints the final line and appends the run's record to out_dir/results.jsonl.
    """

    def __init__(self, scope, source, device, precision=None):
        self.scope, self.source, self.device, self.precision = scope, source, device, precision
        self.max_iters = scope.get("max_iters", 0)
        self.tokens_per_step = scope.get("batch_size", 0) * scope.get("block_size", 0)
        self.iters, self.curve, self.train_seconds = 0, None, None
        self.pressed, self.previous = False, None  # Ctrl-C, and what it did before steps()
        self.t0 = self.last_time = now(device)
        self.last_it = 0

    def steps(self):
        """0, 1, ... max_iters - 1. Ctrl-C ends training after the current step (a second
        one stops the program); a progress line comes every HEARTBEAT seconds."""
        if threading.current_thread() is threading.main_thread():  # signals: main thread only
            self.previous = signal.signal(signal.SIGINT, self.ctrl_c) or signal.SIG_DFL
        self.curve = []
        try:
            for it in range(self.max_iters):
                if self.pressed:
                    break
                yield it
                self.iters = it + 1
                if time.perf_counter() - self.last_time >= HEARTBEAT:
                    print(f"step {self.iters} of {self.max_iters}" + self.speed(self.iters),
                          flush=True)
        finally:  # however the loop is left
            self.train_seconds = now(self.device) - self.t0
            if self.previous is not None:
                signal.signal(signal.SIGINT, self.previous)

    def ctrl_c(self, signum, frame):
        self.pressed = True
        signal.signal(signal.SIGINT, self.previous)  # a second one does what Ctrl-C did before
        print("\nCtrl-C: stopping after this step (press again to abort)", flush=True)

    def speed(self, it):
        """' | tokens/s, seconds so far, ETA', from the steps since the last line."""
        t = time.perf_counter()
        steps, seconds = it - self.last_it, t - self.last_time
        self.last_it, self.last_time = it, t
        if steps <= 0 or seconds <= 0:
            return ""
        per_second = steps / seconds
        return (f" | {per_second * self.tokens_per_step:,.0f} tokens/s, {t - self.t0:.0f} s, "
                f"ETA {(self.max_iters - it) / per_second:.0f} s")

    def report(self, it, losses):
        """Print the estimated losses at step it; keep them for the results log."""
        self.curve.append((it, losses["train"], losses["val"]))
        print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
              + self.speed(it), flush=True)

    def finish(self, val_loss, train_loss, params, tokens=None):
        """Print the final line and log the run; returns its record. tokens: what a run
        without steps (stage 00's counting) read, for its speed."""
        seconds = now(self.device) - self.t0
        train_seconds = seconds if self.train_seconds is None else self.train_seconds
        tokens = self.iters * self.tokens_per_step if tokens is None else tokens
        tokens_per_s = tokens / max(train_seconds, 1e-9)
        print(f"final: val loss {val_loss:.4f} (whole split), train loss {train_loss:.4f} "
              f"| {seconds:.1f} s, {tokens_per_s:,.0f} tokens/s")
        result = {**hyperparameters(self.scope),
                  "stage": os.path.splitext(os.path.basename(self.scope["__file__"]))[0],
                  "val_loss": val_loss, "train_loss": train_loss, "iters": self.iters,
                  "seconds": seconds, "params": params, "tokens_per_s": tokens_per_s,
                  "device": self.device}
        if self.precision is not None:
            result["precision"] = self.precision
        result["data_sha256"] = self.source["sha256"]
        if self.curve is not None:
            result["curve"] = self.curve
        log_result(self.scope["out_dir"], result)
        return result


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


# ---------------------------------------------------------------- checkpoints


class Checkpoint:
    """out_dir/ckpt.pt: weights, settings, vocabulary and data source of the best model
    trained into out_dir. offer() replaces it only with a model that beats it on the whole
    val split, never with an untrained one, and atomically, so Ctrl-C or a crash mid-write
    leaves the previous one whole. One of other data, or not written by this code, stops
    the run before it starts."""

    def __init__(self, scope, vocab, source):
        self.path = os.path.join(scope["out_dir"], "ckpt.pt")
        self.config, self.source = hyperparameters(scope), source
        self.chars = "".join(vocab.chars)
        self.best = self.kept_val_loss()

    def kept_val_loss(self):
        if not os.path.exists(self.path):
            return float("inf")
        try:
            kept = torch.load(self.path, map_location="cpu", weights_only=True)
            best, kept_data = float(kept["val_loss"]), kept["data"]
            if not {"model", "chars", "config"} <= kept.keys() or "sha256" not in kept_data:
                raise KeyError("model, chars, config or data['sha256']")
        except Exception as e:
            sys.exit(f"error: {self.path} is not a checkpoint of this code ({e!r}); move it "
                     f"away, or train into another folder with --out_dir=")
        if kept_data["sha256"] != self.source["sha256"]:
            data = self.source["data"]
            other = os.path.join(os.path.dirname(self.path),
                                 os.path.splitext(os.path.basename(data))[0])
            sys.exit(f"error: {self.path} holds a model of other data ({kept_data['data']}), "
                     f"whose val loss says nothing about this run's; keep it and train into "
                     f"another folder, e.g. --out_dir={other}")
        print(f"{self.path} holds a model with val loss {best:.4f}: only a better one replaces it")
        return best

    def offer(self, model, val_loss, step, final=False):
        """Write model if it has trained and its whole-split val_loss beats the kept one.
        At the end (final) say whether it was written or the kept one stays."""
        if step and val_loss < self.best:
            checkpoint = {"model": model.state_dict(), "config": self.config,
                          "chars": self.chars, "data": self.source, "iter": step,
                          "val_loss": val_loss}
            buffer = io.BytesIO()
            torch.save(checkpoint, buffer)
            try:
                write_atomic(self.path, buffer.getvalue())
            except OSError as e:  # on Windows, while another program has the file open
                print(f"warning: could not write {self.path} ({e.strerror or e}); is another "
                      f"program holding it open? Training goes on if it was under way",
                      flush=True)
                return
            self.best = val_loss
            print(f"checkpoint: wrote {self.path} (step {step}, val loss {val_loss:.4f})",
                  flush=True)
        elif final and step:
            print(f"checkpoint: kept {self.path}, whose val loss {self.best:.4f} this model "
                  f"does not beat")


def has(tree, keys):
    """Does tree[keys[0]][keys[1]]... exist?"""
    return not keys or isinstance(tree, dict) and keys[0] in tree and has(tree[keys[0]], keys[1:])


SHAPE = ("block_size", "n_embd", "n_head", "n_layer")  # what a checkpoint's model is built from


def load_checkpoint(scope, model_class, given):
    """Stage 09's checkpoint in out_dir: set the model's shape in scope (a stage's globals)
    from it, build model_class with its weights. Returns (model, its characters); on
    anything that is not such a checkpoint, a message and exit. given: what configure
    returned, for the command that would make a missing checkpoint."""
    path = os.path.join(scope["out_dir"], "ckpt.pt")
    if not os.path.exists(path):
        from_preset = scope.get("PRESETS", {}).get(given.get("preset"), {})
        how = "".join(f" --{name}={given[name]}" for name in ("preset", "out_dir")
                      if name in given and given[name] != from_preset.get(name))
        sys.exit(f"error: no checkpoint at {path}. Train one first with\n"
                 f"  python 09_dropout_scaled.py{how}\n"
                 + ("" if how else "or, in about a minute (a rougher model),\n"
                    "  python 09_dropout_scaled.py --preset=quick\n"
                    "  python 10_kvcache_sample.py --preset=quick\n")
                 + "(README.md says how long each takes).")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        sys.exit(f"error: {path} is not a checkpoint this code can read ({e!r})")
    needed = ["model", "chars", "iter", "val_loss", "data/data"] + [f"config/{s}" for s in SHAPE]
    missing = [key for key in needed if not has(checkpoint, key.split("/"))]
    if missing:
        sys.exit(f"error: {path} is not a checkpoint of stage 09: it has no " + ", ".join(missing))
    config = checkpoint["config"]
    scope.update({name: config[name] for name in SHAPE}, dropout=config.get("dropout", 0.0),
                 tie_weights=config.get("tie_weights", False))  # older checkpoints: not tied
    if config["block_size"] < 2:
        sys.exit(f"error: the checkpoint's model has block_size={config['block_size']}; "
                 f"sampling past the context needs at least 2")
    chars = checkpoint["chars"]
    model = model_class(len(chars))
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as e:
        sys.exit(f"error: the checkpoint does not match this code's model:\n{e}")
    console_prints(chars)  # samples are made of these characters
    print(f"checkpoint: {path}, step {checkpoint['iter']}, val loss "
          f"{checkpoint['val_loss']:.4f}, data {checkpoint['data']['data']}", file=sys.stderr)
    return model, chars


# ---------------------------------------------------------------- sampling


def stdin_lines():
    """Standard input line by line; a line that is not UTF-8 is reported and skipped."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            print(f"error: input line {number} is not UTF-8 text (byte {e.start}: "
                  f"{e.reason}); skipped", file=sys.stderr, flush=True)


def prompts(prompt, interactive, vocab):
    """The prompts to continue: --prompt, or with --interactive each line typed until EOF.
    A prompt with characters the vocabulary lacks is named: the program stops, or, typed
    in, that line is skipped. An empty prompt says where it starts."""
    newline = vocab.decode([vocab.stoi.get("\n", 0)])
    start = ("a newline" if newline == "\n"
             else "the vocabulary's first character (it has no newline)")
    if interactive:
        eof = "Ctrl-Z then Enter" if os.name == "nt" else "Ctrl-D"
        print(f"Type a prompt and press Enter; an empty line starts from {start}. "
              f"{eof} ends.", file=sys.stderr, flush=True)
    lines = stdin_lines() if interactive else iter([prompt])
    try:
        while True:
            if interactive:
                print("> ", end="", file=sys.stderr, flush=True)
            text = next(lines, None)
            if text is None:
                return
            try:
                vocab.encode(text)
            except ValueError as e:
                if not interactive:
                    sys.exit(f"error: the prompt has {e}")
                print(f"error: the prompt has {e}", file=sys.stderr, flush=True)
                continue
            if not text:
                print(f"an empty prompt starts from {newline!r}, {start}", file=sys.stderr,
                      flush=True)
            yield text
            if interactive:
                print(flush=True)  # a blank line between one answer and the next prompt
    except KeyboardInterrupt:  # while waiting for the next line
        print("\nCtrl-C: stopped", file=sys.stderr)
        sys.exit(130)


@contextlib.contextmanager
def stop_sample_on_ctrl_c(interactive):
    """Ctrl-C stops the sample being written: with --interactive the next prompt is still
    answered; without, the program ends (exit status 130)."""
    try:
        yield
    except KeyboardInterrupt:
        print("\nCtrl-C: sample stopped", file=sys.stderr, flush=True)
        if not interactive:
            sys.exit(130)
