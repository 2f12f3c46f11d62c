#!/bin/bash
# One sitting, one after another: nanoGPT's CPU recipe and stage 09, on this machine.
# usage: sidebyside.sh OUTDIR "our quick args" "our default args" [more "tag|args" ...]
#        sidebyside.sh --nano OUTDIR ITERS   (nanoGPT alone; NANO_LR sets its learning rate,
#        NANO_ARGS adds to its command line, NANO_TAG names its log nanogpt_ITERS_TAG.txt)
# nanoGPT: a checkout of karpathy/nanoGPT in $NANOGPT (default /tmp/nanogpt), outside this
# repository, with its data/shakespeare_char/prepare.py run on the same tinyshakespeare.txt
# (it needs numpy besides this repository's requirements). Times with GNU /usr/bin/time.
# The one-line summary of each run goes to stdout: redirect it to OUTDIR/summary.txt.
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
NANOGPT=${NANOGPT:-/tmp/nanogpt}
LR=${NANO_LR:-3e-3}
NANO="python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20 --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --dropout=0.0 --learning_rate=$LR${NANO_ARGS:+ $NANO_ARGS}"
nano() {  # iters
  log=$out/nanogpt_$1.txt
  [ "$LR" = 3e-3 ] || log=$out/nanogpt_$1_lr$LR.txt
  [ -z "$NANO_TAG" ] || log=${log%.txt}_$NANO_TAG.txt
  rm -rf /tmp/sbs_nano$1
  (cd "$NANOGPT" && echo "\$ $NANO --max_iters=$1 --lr_decay_iters=$1" && /usr/bin/time -f "wall %e s" $NANO --max_iters=$1 --lr_decay_iters=$1 --out_dir=/tmp/sbs_nano$1 2>&1 | python -c "
import re, sys
for line in sys.stdin:
    m = re.match(r'iter (\d+):', line)
    if not (m and int(m.group(1)) % 250): print(line, end='')" && python "$ROOT/notes/logs/side_by_side/score_nano.py" /tmp/sbs_nano$1) > $log 2>&1
  echo "nanoGPT $1 lr $LR${NANO_TAG:+ $NANO_TAG}: $(grep -E '^wall' $log) $(grep whole-split $log)"
}
ours() {  # tag args...
  tag=$1; shift; rm -rf /tmp/sbs_$tag
  (cd "$ROOT" && echo "\$ python 09_dropout_scaled.py $*" && /usr/bin/time -f "wall %e s" python 09_dropout_scaled.py --out_dir=/tmp/sbs_$tag "$@") > $out/09_$tag.txt 2>&1
  echo "ours $tag $*: $(grep -E '^wall' $out/09_$tag.txt) $(grep final: $out/09_$tag.txt | cut -c1-60)"
}
[ "$1" = --nano ] && nano_only=1 && shift
out=$1; shift
mkdir -p $out
echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores, PyTorch $(python -c 'import torch; print(torch.__version__)'), $(date -u '+%F %H:%M') UTC, code at $(cd "$ROOT" && git log --oneline -1 | cut -c1-7), nanoGPT at $(cd "$NANOGPT" && git log --oneline -1 | cut -c1-8)"
if [ -n "$nano_only" ]; then nano $1; exit; fi
nano 2000
ours quick $1
nano 10000
ours default $2
shift 2
for spec in "$@"; do ours ${spec%%|*} ${spec#*|}; done
