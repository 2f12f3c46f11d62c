#!/bin/bash
# One sitting, one run after another on this machine: nanoGPT's CPU recipe and stage 09.
# usage: side_by_side.sh OUTDIR NAME "nanogpt ITERS [more nanoGPT args]" | "ours [stage-09 args]" ...
#   each further argument is one run: "nanogpt 2000", "ours --preset=quick", "ours --dtype=float32"
# nanoGPT: a checkout of karpathy/nanoGPT in $NANOGPT (default /tmp/nanogpt), outside this
# repository, with data/shakespeare_char/prepare.py run on the same tinyshakespeare.txt.
# Its CPU recipe from its README (4 layers, 128 wide, context 64, batch 12) at learning rate
# 3e-3 (better than its 1e-3 at 2000 iterations), keeping its final model
# (--always_save_checkpoint=True), which score_nano.py scores with our whole-split evaluation.
# Wall times by GNU time; one line per run goes to OUTDIR/summary.txt.
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
NANOGPT=${NANOGPT:-/tmp/nanogpt}
NANO="python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20 --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --dropout=0.0 --learning_rate=3e-3 --always_save_checkpoint=True"
out=$1; name=$2; shift 2
mkdir -p "$out"
summary=$out/summary.txt
echo "# $(lscpu | grep -E 'Model name' | sed 's/  */ /g'), $(lscpu | grep -E '^CPU family' | sed 's/  */ /g'), $(nproc) cores, PyTorch $(python -c 'import torch; print(torch.__version__)'), $(date -u '+%F %H:%M') UTC, code at $(cd "$ROOT" && git log --oneline -1 | cut -c1-7), nanoGPT at $(cd "$NANOGPT" && git log --oneline -1 | cut -c1-8)" >> "$summary"
for run in "$@"; do
  set -- $run; kind=$1; shift
  if [ "$kind" = nanogpt ]; then
    iters=$1; shift; log=$out/${name}_nanogpt_$iters.txt; tmp=/tmp/sbs_nano_$iters
    rm -rf $tmp
    (cd "$NANOGPT" && echo "\$ $NANO --max_iters=$iters --lr_decay_iters=$iters $*" && /usr/bin/time -f "wall %e s" $NANO --max_iters=$iters --lr_decay_iters=$iters --out_dir=$tmp "$@" 2>&1 | python -c "
import re, sys
for line in sys.stdin:
    m = re.match(r'iter (\d+):', line)
    if not (m and int(m.group(1)) % 250): print(line, end='')" && NANOGPT=$NANOGPT python "$HERE/score_nano.py" $tmp) > "$log" 2>&1
    echo "nanoGPT $iters $*: $(grep -E '^wall' "$log") $(grep whole-split "$log")" >> "$summary"
  else
    tag=$(echo "$*" | sed "s/--//g; s/=/_/g; s/ /_/g"); log=$out/${name}_ours${tag:+_$tag}.txt; tmp=/tmp/sbs_ours$tag
    rm -rf $tmp
    (cd "$ROOT" && echo "\$ python 09_dropout_scaled.py $*" && /usr/bin/time -f "wall %e s" python 09_dropout_scaled.py --out_dir=$tmp "$@") > "$log" 2>&1
    echo "ours $*: $(grep -E '^wall' "$log") $(grep final: "$log" | cut -c1-60)" >> "$summary"
  fi
  tail -1 "$summary"
done
