"""The inference settings a user may choose, with their defaults: the compute precisions and when and how
large images are tiled. Free of torch, so the command-line parsers name them (and `--help` answers) without
loading it; `fast_style.devices` and `fast_style.stylizer` apply them."""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "fp16")  # besides "auto": fast_style.devices.pick_precision
DEFAULT_MAX_PIXELS = 4096 * 4096 // 4  # larger images are tiled: about 2 GB of activations on the CPU
DEFAULT_TILE = 512
