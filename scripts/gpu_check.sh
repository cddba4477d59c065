#!/usr/bin/env bash
# Everything GPU-specific in one run, for a machine lent for a few minutes (figures in benchmarks/README.md); the
# zoo's training runs through scripts/gpu_zoo.sh instead.
# PARTS picks and orders what runs (default: all but video, whose wheels pack_device.py packs apart):
#   train      the real trainer (Lightning, bf16-mixed, module.compile=$COMPILE) at batch 4 for TRAIN_S seconds:
#              steps/s and val/* curves
#   levers4    training-step levers at 256 px, batch 4 (scripts/benchmark_train.py), the trainer row included
#   train16    the same real run at batch 16 for TRAIN16_S seconds
#   fp32       the real trainer in fp32 eager for FP32_S seconds: held-out losses compared at equal steps
#   levers16   the levers at batch 16
#   loader     the data loader with JPEG decode vs the pre-resized cache, at batch 16 (needs RAW_PHOTOS)
#   infer      inference at 1920x1080 (scripts/benchmark_stylize.py) and the stylize CLI with the trained model
#   video      1080p video end to end and stage by stage (scripts/benchmark_video.py), x264 presets ultrafast and
#              medium, decoding in software and with NVDEC (VIDEO_FRAMES frames, the zoo's wave compiled, 8 frames
#              per call)
#
#   PARTS="train levers4" scripts/gpu_check.sh OUT_DIR RESIZED_PHOTOS RAW_PHOTOS STYLE_IMAGE [CONTENT_PHOTO...]
# RESIZED_PHOTOS: a training folder (e.g. a data.cache_dir copy); RAW_PHOTOS: original JPEGs for `loader`.
# It needs fast-style's dependencies importable there (torchdata, hydra-core, av, pi-heif beside torch): for the
# video part, `scripts/pack_device.py --video` packs them into .dev (carried), and on the machine
# `python3 -m pip install -q --no-index --no-deps --target /tmp/site .dev/whl/*.whl;
# export PYTHONPATH=/tmp/site:$PWD/.dev/site` makes them importable. The other parts also need the
# caffe VGG16 in the weights cache (`fast-style-weights`, 59 MB; FAST_STYLE_CACHE names another folder).
set -u
out=$1 photos=$2 raw=$3 style=$4
shift 4
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
# scripts/*.py run as files put scripts/ first on the import path, not the checkout: fast_style from here
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$out"
exec > >(tee -a "$out/gpu_check.log") 2>&1  # all of it comes back (the tool returns the output's last 12,000 chars)
runs=${RUNS_DIR:-/tmp/gpu_runs}  # whole run folders stay here: OUT gets the few files that matter (8 come back)
log() { echo "=== $* ($(date +%T))"; }
train() {  # name, seconds, overrides...
    local name=$1 secs=$2
    shift 2
    timeout $((secs + 150)) $py -m fast_style.cli.train data.root="$photos" style.image="$style" data.num_workers=8 \
        data.num_val=16 trainer.max_steps=40000 +trainer.max_time=$(printf "00:00:%02d:%02d" $((secs / 60)) $((secs % 60))) \
        trainer.val_check_interval=250 trainer.enable_progress_bar=false callbacks.images.every_n_steps=1000 \
        callbacks.checkpoint.every_n_train_steps=2000 hydra.run.dir="$runs/$name" "$@" 2>&1 | grep -v Warning | tail -n 12
    $py scripts/run_summary.py "$runs/$name" --csv "$out/$name.val.csv" --force  # (this run's: a rerun's replaces it)
}

log "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import torch, pytorch_lightning as pl; print('torch', torch.__version__, 'lightning', pl.__version__)"
model=""
for part in ${PARTS:-train levers4 train16 fp32 levers16 loader infer}; do
    case $part in
    train)
        log "real trainer: bf16 + module.compile=${COMPILE:=reduce-overhead}, batch 4, ${TRAIN_S:=150} s"
        train bf16 "$TRAIN_S" module.compile="$COMPILE"
        model="$runs/bf16/style.pt" ;;
    levers4)
        log "training levers, batch 4"
        timeout 300 $py scripts/benchmark_train.py --batch 4 --steps 200 --warmup 8 \
            --levers ${LEVERS4:-plain content-cut bf16 channels-last fused compile cudagraphs trainer} ;;
    train16)
        log "real trainer: bf16 + module.compile=${COMPILE:=reduce-overhead}, batch 16, ${TRAIN16_S:=90} s"
        train bf16-batch16 "$TRAIN16_S" module.compile="$COMPILE" data.batch_size=16 ;;
    fp32)
        log "real trainer: fp32 eager (the paper's precision), ${FP32_S:=70} s"
        train fp32 "$FP32_S" trainer.precision=32-true ;;
    levers16)
        log "training levers, batch 16"
        timeout 200 $py scripts/benchmark_train.py --batch 16 --steps 40 --warmup 8 \
            --levers plain bf16 fused compile cudagraphs trainer ;;
    loader)
        log "data loader: JPEG decode vs pre-resized cache, batch 16"
        timeout 90 $py scripts/benchmark_train.py --batch 16 --steps 40 --warmup 8 --levers compile --data "$raw" \
            --cache-dir /tmp/fast-style-cache --workers 12 ;;
    infer)
        log "inference at 1920x1080"
        timeout 100 $py scripts/benchmark_stylize.py --device cuda --sizes 1920x1080 --min-time 1 \
            ${model:+--model "$model"} --engines ${ENGINES:-eager channels_last bf16 fp16 compile_bf16 cudagraphs_bf16 stylizer}
        if [ -n "$model" ] && [ $# -gt 0 ]; then
            log "stylize CLI on the GPU with the trained model"
            $py -m fast_style.cli.stylize -m "$model" "$@" -o "$out/stylized" --device cuda 2>&1 | tail -n 3
        fi ;;
    video)
        log "video at 1920x1080, x264 presets ultrafast and medium, software and NVDEC decoding"
        timeout 500 $py scripts/benchmark_video.py --style wave --size 1920x1080 --frames ${VIDEO_FRAMES:=240} \
            --device cuda --batch 8 --compile --preset ultrafast medium --decoders cpu nvdec ;;
    *) echo "unknown part $part" ;;
    esac
done
log "done"
