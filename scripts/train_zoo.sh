#!/usr/bin/env bash
# Train the model zoo's styles side by side on one GPU: one fast-style-train run per painting, each in its own
# folder OUT_DIR/<name> with its log OUT_DIR/<name>.log. At batch 4 one run leaves most of a large GPU idle,
# so the runs share it. Rerunning the same command resumes every run from its last checkpoint (raise
# MAX_TIME, which counts the time already trained).
#
#   scripts/train_zoo.sh OUT_DIR PHOTOS VAL_PHOTOS STYLES_DIR [OVERRIDE ...]
#
# PHOTOS: training photos; VAL_PHOTOS: held-out photos for val/* (never trained on); STYLES_DIR holds
# <name>.jpg for each name in STYLES. OVERRIDEs apply to every run (e.g. temporal=none). The zoo trains for
# stable video (temporal=shift, fast_style/training/consistency.py): 0.42x to 0.59x the flicker at a CPU budget.
# The rate falls down a cosine to MAX_STEPS (module.lr_schedule=cosine): under the constant rate the H200's
# the_scream run diverged at step 7,700 of 8 (benchmarks/README.md), and a decayed rate ends every run settled.
# Environment: STYLES (default: the six public-domain paintings), MAX_STEPS (default 7000: what six runs side by
# side reach in about 6 minutes on an H200, 21 steps/s each; the paper's 40000 needs about 30; one run alone did 64
# steps/s with temporal=shift, 27,096 steps in 8 min 18 s, so 40000 take about 11 min), MAX_TIME
# (DD:HH:MM:SS of training per run in this call, default 00:00:08:00: on a resume it is added to the time the run
# trained before, which Lightning's limit counts), WORKERS (loader processes per run, default 2), TIMEOUT_S (a
# hard stop per run: SIGTERM, which still writes a checkpoint and the style model). VAL_PHOTOS must not be PHOTOS.
set -u
out=$1 photos=$2 val=$3 styles=$4
shift 4
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
if [ "$(realpath "$val")" = "$(realpath "$photos")" ]; then
    echo "VAL_PHOTOS is the training folder: give held-out photos (val/* would score photos trained on)" >&2
    exit 2
fi
mkdir -p "$out"
# the precision written into each run's config (its `${best_precision:}` would be resolved again where the config
# is read, e.g. by scripts/build_zoo.py on a machine without native bf16)
precision=$($py -c "from fast_style.devices import native_bf16; print('bf16-mixed' if native_bf16() else '32-true')")

limit_after() {  # a run's checkpoint, this call's DD:HH:MM:SS -> Lightning's max_time: what it trained, and that
    $py - "$@" <<'END'
import sys

import torch

ckpt = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
done = next((v["time_elapsed"]["train"] for k, v in ckpt.get("callbacks", {}).items() if k.startswith("Timer")), 0)
d, h, m, s = (int(x) for x in sys.argv[2].split(":"))
total = int(done) + ((d * 24 + h) * 60 + m) * 60 + s
print(f"{total // 86400:02d}:{total // 3600 % 24:02d}:{total // 60 % 60:02d}:{total % 60:02d}")
END
}

run() {  # name, painting, overrides...
    local name=$1 image=$2
    shift 2
    local dir=$out/$name resume=() limit=${MAX_TIME:-00:00:08:00}
    if [ -f "$dir/checkpoints/last.ckpt" ]; then  # (the same limit again had trained nothing, exit code 0)
        resume=(ckpt_path=last)
        limit=$(limit_after "$dir/checkpoints/last.ckpt" "$limit")
    fi
    ${TIMEOUT_S:+timeout -s TERM -k 30 "$TIMEOUT_S"} $py -m fast_style.cli.train style.image="$image" data.root="$photos" data.val_root="$val" data.num_val=16 \
        data.num_workers="${WORKERS:-2}" trainer.max_steps="${MAX_STEPS:-7000}" \
        +trainer.max_time="$limit" trainer.precision="$precision" module.lr_schedule=cosine trainer.val_check_interval=500 \
        trainer.enable_progress_bar=false callbacks.images.every_n_steps=1000 \
        callbacks.checkpoint.every_n_train_steps=1000 temporal=shift hydra.run.dir="$dir" "${resume[@]}" "$@" \
        >>"$dir.log" 2>&1
    echo "$name: exit code $? ($(date +%T)); $(grep -c . "$dir.log") log lines, last: $(tail -n 1 "$dir.log")"
}

for name in ${STYLES:-starry_night wave the_scream composition_vii udnie shipwreck}; do
    run "$name" "$styles/$name.jpg" "$@" &
done
wait
