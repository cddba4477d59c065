"""The inference settings a user may choose, with their defaults: the compute precisions, when and how large
images are tiled, the video encoder's presets and the output folder. Free of torch, so the command-line parsers
name them (and `--help` answers) without loading it; `fast_style.devices`, `fast_style.inference.stylizer`,
`fast_style.media.video` and `fast_style.inference.plan` apply them."""

from __future__ import annotations

PRECISIONS = ("fp32", "bf16", "fp16")  # besides "auto": fast_style.devices.pick_precision
DEFAULT_MAX_PIXELS = 4096 * 4096 // 4  # larger images are tiled: about 2 GB of activations on the CPU
DEFAULT_TILE = 512
STATS_SIZE = 1536  # tiling's statistics pass: a picture of at most STATS_SIZE**2 pixels runs whole, tiles or not
RUNS_WHOLE_UP_TO = f"{STATS_SIZE**2 / 1e6:.1f} MP"  # (said in messages: 2.4 MP)
# x264's presets for video, fastest first: at 1080p, alone on 16 cores, ultrafast 101, veryfast 54, medium 42 frames/s
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_OUTPUT = "stylized"  # fast-style-stylize's output folder where -o is not given
