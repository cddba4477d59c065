#!/usr/bin/env bash
# Everything GPU-specific in one run, for a machine lent for a few minutes (figures in benchmarks/README.md):
#   1. training-step levers at 256 px, batch 4 and 16 (scripts/benchmark_train.py)
#   2. a real training run (bf16 + compile, Lightning) for STEADY_S seconds: steps/s and val/* curves
#   3. the same run in fp32 eager for a shorter time: held-out losses compared at equal steps
#   4. the data loader with JPEG decode vs the pre-resized cache, at the fastest lever, batch 16
#   5. inference at 1920x1080 (scripts/benchmark_stylize.py) and the stylize CLI on the GPU
#
#   scripts/gpu_check.sh OUT_DIR RESIZED_PHOTOS RAW_PHOTOS STYLE_IMAGE CONTENT_PHOTO...
# RESIZED_PHOTOS: a training folder (e.g. a data.cache_dir copy); RAW_PHOTOS: original JPEGs for step 4.
set -u
out=$1 photos=$2 raw=$3 style=$4
shift 4
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
mkdir -p "$out"
log() { echo "=== $* ($(date +%T))"; }
train() {  # name, seconds, overrides...
    local name=$1 secs=$2
    shift 2
    timeout $((secs + 150)) $py -m fast_style.train data.root="$photos" style.image="$style" data.num_workers=8 \
        data.num_val=16 trainer.max_steps=40000 +trainer.max_time=$(printf "00:00:%02d:%02d" $((secs / 60)) $((secs % 60))) \
        trainer.val_check_interval=250 trainer.enable_progress_bar=false callbacks.images.every_n_steps=1000 \
        callbacks.checkpoint.every_n_train_steps=2000 hydra.run.dir="$out/$name" "$@" 2>&1 | grep -v Warning | tail -n 12
    $py scripts/run_summary.py "$out/$name" --csv "$out/$name/val.csv"
}

log "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import torch, pytorch_lightning as pl; print('torch', torch.__version__, 'lightning', pl.__version__)"

[ -z "${SKIP_BENCH:-}" ] && { log "1a. training levers, batch 4"
timeout 200 $py scripts/benchmark_train.py --batch 4 --steps 100 --warmup 8 \
    --levers plain content-cut bf16 channels-last fused compile cudagraphs; }

log "2. training run: bf16 + compile, ${STEADY_S:-150} s"
train bf16 "${STEADY_S:-150}" module.compile=true
log "stylize CLI on the GPU with that model"
$py -m fast_style.stylize -m "$out/bf16/style.pt" "$@" -o "$out/stylized" --device cuda 2>&1 | tail -n 3

log "3. training run: fp32 eager (the paper's precision), ${FP32_S:-70} s"
train fp32 "${FP32_S:-70}" trainer.precision=32-true

[ -z "${SKIP_BENCH:-}" ] && { log "1b. training levers, batch 16"
timeout 150 $py scripts/benchmark_train.py --batch 16 --steps 40 --warmup 8 --levers plain bf16 fused compile cudagraphs

log "4. data loader: JPEG decode vs pre-resized cache, batch 16"
timeout 90 $py scripts/benchmark_train.py --batch 16 --steps 40 --warmup 8 --levers compile --data "$raw" \
    --cache-dir /tmp/fast-style-cache --workers 12; }

log "5. inference at 1920x1080"
timeout 100 $py scripts/benchmark_stylize.py --device cuda --sizes 1920x1080 --min-time 1 --model "$out/bf16/style.pt" \
    --engines eager channels_last bf16 fp16 compile_bf16 cudagraphs_bf16 stylizer
log "done"
