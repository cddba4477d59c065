"""Memory of keeping a photo's colours (--preserve-color) on a 24 MP picture: Pillow's YCbCr merge (before
a7f6123), keep_colours on the whole picture in float, and the Stylizer's way (in bands of rows into uint8). Each
mode in its own process: `for m in pillow whole bands; do python scripts/benchmark_colours.py $m; done`; prints the
growth of the process's peak memory."""

import resource
import sys

import torch
from PIL import Image

from fast_style.cli import ToolParser, run_tool
from fast_style.inference.stylizer import Stylizer
from fast_style.media.pixels import pil_to_tensor, tensor_to_pil, to_unit
from fast_style.media.yuv import keep_colours


def main() -> None:
    sys.exit(run_tool(measure))


def measure() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    # (any other word ran the bands case, no word was an IndexError)
    p.add_argument("mode", choices=["pillow", "whole", "bands"], help="the way measured (one a process)")
    mode = p.parse_args().mode
    y = torch.randint(0, 256, (3, 4000, 6000), dtype=torch.uint8)  # a 24 MP stylized picture, as the Stylizer has it
    rgb = Image.new("RGB", (6000, 4000), (200, 40, 40))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "pillow":  # Pillow's YCbCr merge of the two 8-bit pictures (images.preserve_color before a7f6123)
        luma, _, _ = tensor_to_pil(y).convert("YCbCr").split()
        _, cb, cr = rgb.convert("YCbCr").split()
        Image.merge("YCbCr", (luma, cb, cr)).convert("RGB")
    elif mode == "whole":  # keep_colours on the whole picture in float (a7f6123)
        tensor_to_pil(keep_colours(to_unit(y), to_unit(pil_to_tensor(rgb))))
    else:  # in bands of 256 rows into uint8 (a1438cd)
        Stylizer._finished(y, rgb, None, True)
    print(f"{mode}: {(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
