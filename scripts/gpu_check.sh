#!/usr/bin/env bash
# Everything GPU-specific in one run, for a machine lent for a few minutes (figures in benchmarks/README.md).
# PARTS picks and orders what runs (default: all of them):
#   train      the real trainer (Lightning, bf16-mixed, module.compile=$COMPILE) at batch 4 for TRAIN_S seconds:
#              steps/s and val/* curves
#   levers4    training-step levers at 256 px, batch 4 (scripts/benchmark_train.py), the trainer row included
#   train16    the same real run at batch 16 for TRAIN16_S seconds
#   fp32       the real trainer in fp32 eager for FP32_S seconds: held-out losses compared at equal steps
#   levers16   the levers at batch 16
#   loader     the data loader with JPEG decode vs the pre-resized cache, at batch 16 (needs RAW_PHOTOS)
#   infer      inference at 1920x1080 (scripts/benchmark_stylize.py) and the stylize CLI with the trained model
#   zoo        zoo styles at the paper's budget (scripts/train_zoo.sh, resumable) in ZOO_DIR (default /tmp/zoo):
#              ZOO_STYLES (default wave) for ZOO_STEPS (default 40000) steps or ZOO_TIME of training in this call
#              (default 8 min; a hard stop ZOO_TIMEOUT_S after it, default ZOO_TIME + 60 s, at most 540, so that
#              the copy is done inside the device tool's 600 s a command), held-out photos ZOO_VAL (required: the
#              COCO split scripts/zoo_report.py holds out, never the training folder); each run's style.pt (or,
#              where it failed, its newest periodic one as NAME-stepN.pt), log and config.yaml copied flat to
#              OUT/zoo (a last.ckpt, about 20 MB, stays in ZOO_DIR: a later call resumes from it while the
#              machine is kept). Then, on this machine: scripts/build_zoo.py NAME OUT/zoo/NAME.pt --config
#              OUT/zoo/NAME.config.yaml (the GPU model into the zoo first), a CPU tail with
#              module.init_from=NAME (the zoo's name, not a file: its record is kept), build_zoo.py again, then
#              scripts/zoo_report.py --write-manifests
#   video      1080p video end to end and stage by stage (scripts/benchmark_video.py), x264 presets ultrafast and
#              medium, decoding in software and with NVDEC (VIDEO_FRAMES frames, the zoo's wave compiled, 8 frames
#              per call)
#
#   PARTS="train levers4" scripts/gpu_check.sh OUT_DIR RESIZED_PHOTOS RAW_PHOTOS STYLE_IMAGE [CONTENT_PHOTO...]
# RESIZED_PHOTOS: a training folder (e.g. a data.cache_dir copy); RAW_PHOTOS: original JPEGs for `loader`.
# It needs fast-style's dependencies importable there (torchdata, hydra-core, av, pi-heif beside torch) and the
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
    $py scripts/run_summary.py "$runs/$name" --csv "$out/$name.val.csv"
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
    zoo)
        zoo=${ZOO_DIR:-/tmp/zoo}
        if [ -z "${ZOO_VAL:-}" ] || [ "$(realpath "${ZOO_VAL:-}")" = "$(realpath "$photos")" ]; then
            echo "zoo: set ZOO_VAL to held-out photos (not the training folder $photos): part skipped"
            continue
        fi
        log "zoo: ${ZOO_STYLES:=wave}, ${ZOO_STEPS:=40000} steps, at most ${ZOO_TIME:=00:00:08:00} of training each"
        IFS=: read -r d h m s <<<"$ZOO_TIME"
        limit=$(( ((10#$d * 24 + 10#$h) * 60 + 10#$m) * 60 + 10#$s + 60 ))
        STYLES="$ZOO_STYLES" MAX_STEPS="$ZOO_STEPS" MAX_TIME="$ZOO_TIME" TIMEOUT_S=${ZOO_TIMEOUT_S:-$((limit < 540 ? limit : 540))} \
            WORKERS=${ZOO_WORKERS:-6} scripts/train_zoo.sh "$zoo" "$photos" "$ZOO_VAL" "$(dirname "$style")"
        mkdir -p "$out/zoo"
        for name in $ZOO_STYLES; do
            cp "$zoo/$name.log" "$out/zoo/" 2>/dev/null
            cp "$zoo/$name/.hydra/config.yaml" "$out/zoo/$name.config.yaml" 2>/dev/null
            if cp "$zoo/$name/style.pt" "$out/zoo/$name.pt" 2>/dev/null; then
                echo "$name: $out/zoo/$name.pt"
            elif newest=$(ls "$zoo/$name"/checkpoints/style-step=*.pt 2>/dev/null | sort | tail -n 1) && [ -n "$newest" ]; then
                step=${newest##*=}
                cp "$newest" "$out/zoo/$name-step${step%.pt}.pt"  # (no '=': the tool refuses it in names)
                echo "$name: no style.pt (see its log); its newest periodic model: $out/zoo/$name-step${step%.pt}.pt"
            else
                echo "$name: no style.pt"
            fi
        done ;;
    video)
        log "video at 1920x1080, x264 presets ultrafast and medium, software and NVDEC decoding"
        timeout 500 $py scripts/benchmark_video.py --style wave --size 1920x1080 --frames ${VIDEO_FRAMES:=240} \
            --device cuda --batch 8 --compile --preset ultrafast medium --decoders cpu nvdec ;;
    *) echo "unknown part $part" ;;
    esac
done
log "done"
