#!/usr/bin/env bash
# The recipe at a CPU budget: one short fast-style-train run per variant of the default recipe (loss weights,
# learning rate and schedule, per-layer Gram weights, batch size, stability training), one after another, each
# in OUT_DIR/<name>, then fast-style-eval over all of them on held-out photos (coverage, losses, the independent
# judge).
#
#   scripts/recipe_sweep.sh OUT_DIR PHOTOS VAL_PHOTOS PAINTING [OVERRIDE ...]
#
# PHOTOS: training photos; VAL_PHOTOS: held-out photos (never trained on; also what eval scores). OVERRIDEs
# apply to every run. Environment: STEPS (default 400), SIZE (crop px, default 128), VARIANTS (names, default
# all). A finished run (its style.pt exists) is not trained again. The temporal variants without "noise0" in
# their names give temporal.noise=0.01, the default when benchmarks/README.md measured them (it is 0 since).
set -eu
out=$1 photos=$2 val=$3 painting=$4
shift 4
py=${PYTHON:-python3}
steps=${STEPS:-400} size=${SIZE:-128}
mkdir -p "$out"

declare -A VARIANT=(
    [default]=""
    [style2]="loss.style_weight=2"
    [style10]="loss.style_weight=10"
    [tv0]="loss.tv_weight=0"
    [lr3e-3]="module.lr=3e-3"
    [lr3e-3_cosine]="module.lr=3e-3 module.lr_schedule=cosine"
    [deep_gram]="loss.style_layers={relu1_2:0.5,relu2_2:1.0,relu3_3:1.5,relu4_3:2.0}"
    [batch8]="data.batch_size=8"
    [temporal30]="temporal=shift temporal.weight=30 temporal.noise=0.01"
    [temporal100]="temporal=shift temporal.weight=100 temporal.noise=0.01"
    [temporal300]="temporal=shift temporal.weight=300 temporal.noise=0.01"
    [temporal1000]="temporal=shift temporal.weight=1000 temporal.noise=0.01"
    [temporal3000]="temporal=shift temporal.weight=3000 temporal.noise=0.01"
    [temporal1000_zoom2]="temporal=shift temporal.weight=1000 temporal.max_zoom=0.02 temporal.noise=0.01"
    [temporal1000_half]="temporal=shift temporal.weight=1000 temporal.share=0.5 temporal.noise=0.01"
    [temporal1000_quarter]="temporal=shift temporal.weight=1000 temporal.share=0.25 temporal.noise=0.01"
    [temporal1000_noise0]="temporal=shift temporal.weight=1000 temporal.noise=0"
    [temporal1000_noise0_quarter]="temporal=shift temporal.weight=1000 temporal.noise=0 temporal.share=0.25"
    [temporal1000_quarter_late]="temporal=shift temporal.weight=1000 temporal.noise=0 temporal.share=0.25 temporal.start=200"
    [temporal1000_late]="temporal=shift temporal.weight=1000 temporal.noise=0 temporal.start=200"
    [antialias]="model.antialias=true"
    [antialias_down]="model.antialias=down"
    [antialias_up]="model.antialias=up"
    [antialias_temporal1000]="model.antialias=true temporal=shift temporal.weight=1000 temporal.noise=0.01"
)
names=${VARIANTS:-default style2 style10 tv0 lr3e-3 lr3e-3_cosine deep_gram batch8 temporal30 temporal100 temporal300 temporal1000}
failed=()
for name in $names; do
    if [ -z "${VARIANT[$name]+set}" ]; then
        echo "unknown variant '$name': choose from ${!VARIANT[*]}" >&2
        exit 2
    fi
done
for name in $names; do
    dir=$out/$name
    [ -f "$dir/style.pt" ] && continue
    resume=()  # a variant stopped without its style model (killed) carries on from its last checkpoint
    [ -f "$dir/checkpoints/last.ckpt" ] && resume=(ckpt_path=last)
    start=$(date +%s)
    code=0
    # shellcheck disable=SC2086  # each variant is a list of overrides
    $py -m fast_style.cli.train style.image="$painting" data.root="$photos" data.val_root="$val" data.num_val=8 \
        data.image_size="$size" data.num_workers=1 trainer.max_steps="$steps" trainer.val_check_interval=200 \
        trainer.enable_progress_bar=false callbacks.images.every_n_steps=200 \
        callbacks.checkpoint.every_n_train_steps=200 hydra.run.dir="$dir" "${resume[@]}" ${VARIANT[$name]} "$@" \
        >>"$dir.log" 2>&1 || code=$?
    if [ "$code" != 0 ]; then  # said here, and the other variants go on (a failure had ended the sweep silently)
        echo "$name: exit code $code; see $dir.log; last: $(grep -v '^\s*$' "$dir.log" | tail -n 1)" >&2
        failed+=("$name")
        continue
    fi
    echo "$name: $(( $(date +%s) - start )) s"
done
models=()
for name in $names; do [ -f "$out/$name/style.pt" ] && models+=("$out/$name/style.pt"); done
if [ ${#models[@]} -gt 0 ]; then
    $py -m fast_style.cli.evaluate "${models[@]}" --photos "$val" --size 256 --rank-by coverage --out "$out/eval" \
        --sheet-rows 6 --force
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]} (their logs: $out/<name>.log)" >&2
    exit 1
fi
