#!/usr/bin/env bash
# On a lent GPU machine: train zoo styles side by side (scripts/train_zoo.sh) from what scripts/pack_device.py
# packed into DEV (default .dev, carried with the checkout), then copy back, flat into OUT, each run's style.pt
# (or its newest periodic model), its config and a text of its log's end and held-out curve: three files a style,
# so two styles and this script's log stay within the device tool's 8 files.
#
#   OUT=$OUT STYLES="udnie shipwreck" STEPS=18000 TIME=00:00:08:00 scripts/gpu_zoo.sh
#
# STEPS is each run's whole cosine: pick what fits TIME so that the rate ends decayed (on an H100 with
# temporal=shift: 81 steps/s for one run alone, 44 each for two side by side; benchmarks/README.md). Rerunning it
# on the same warm machine resumes each run (train_zoo.sh). Then here: scripts/build_zoo.py NAME OUT/NAME.pt
# --config OUT/NAME.config.yaml --budget "...", and scripts/zoo_report.py --styles NAME --write-manifests.
# Locally (CPU, a smoke test): SKIP_PIP=1 PYTHON=.venv/bin/python OUT=/tmp/o STEPS=3 STYLES=wave scripts/gpu_zoo.sh
set -u
out=${OUT:?set OUT to the folder that comes back}
dev=${DEV:-.dev}
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
if [ -z "${SKIP_PIP:-}" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$dev"/whl/*.whl || exit 1
fi
export PYTHONPATH="/tmp/site:$PWD/$dev/site:$PWD"
export FAST_STYLE_CACHE=${CACHE:-/tmp/fast-style-cache}
mkdir -p "$out" "$FAST_STYLE_CACHE" && cp "$dev/vgg16-fp16.pth" "$FAST_STYLE_CACHE/vgg16-caffe-features.pth" || exit 1
exec > >(tee -a "$out/gpu_zoo.log") 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
$py -c "import torch, pytorch_lightning as pl; print('torch', torch.__version__, 'lightning', pl.__version__)"
zoo=${ZOO_DIR:-/tmp/zoo}
echo "=== ${STYLES:=udnie shipwreck}: ${STEPS:=18000} steps, at most ${TIME:=00:00:08:00} ($(date +%T))"
(while sleep 60; do  # GPU load and each run's newest periodic models, once a minute
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
    for n in $STYLES; do echo "$n: $(ls "$zoo/$n/checkpoints" 2>/dev/null | sort -V | tail -n 2 | tr '\n' ' ')"; done
done) &
monitor=$!
STYLES="$STYLES" MAX_STEPS=$STEPS MAX_TIME=$TIME TIMEOUT_S=${TIMEOUT_S:-540} WORKERS=${WORKERS:-6} PYTHON=$py \
    scripts/train_zoo.sh "$zoo" "$dev/train" "$dev/heldout" "$dev/styles"
pkill -P $monitor 2>/dev/null; kill $monitor 2>/dev/null  # (its sleep too, which held the log's pipe open)
echo "=== copy ($(date +%T))"
for n in $STYLES; do
    cp "$zoo/$n/.hydra/config.yaml" "$out/$n.config.yaml"
    { tail -n 40 "$zoo/$n.log"; $py scripts/run_summary.py "$zoo/$n" --csv "/tmp/$n.val.csv" --force && cat "/tmp/$n.val.csv"; } \
        >"$out/$n.txt" 2>&1
    if cp "$zoo/$n/style.pt" "$out/$n.pt" 2>/dev/null; then
        echo "$n: $out/$n.pt"
    elif newest=$(ls "$zoo/$n"/checkpoints/style-step=*.pt 2>/dev/null | sort -V | tail -n 1) && [ -n "$newest" ]; then
        cp "$newest" "$out/$n.pt" && echo "$n: no style.pt (see $n.txt); its newest periodic model $newest"
    else
        echo "$n: no model (see $n.txt)"
    fi
done
echo "=== done ($(date +%T))"
