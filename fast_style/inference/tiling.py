"""Seamless tiled inference for images too large to stylize in one pass.

Instance normalization makes each tile's colours depend on that tile's own statistics, so naive tiling shows
seams and colour shifts. Here every tile is normalized with the statistics of the whole image:

1. statistics pass: the network runs once on the whole image, downscaled (its shape kept) to at most
   `stats_size` x `stats_size` pixels (exact when the image has no more), and a hook records each norm layer's
   per-channel mean and variance;
2. tile pass: overlapping tiles run with those fixed statistics. The network is then a pure convolution
   stack, so a tile with a margin wider than the receptive field (58 px for the paper's network)
   reproduces the whole-image result exactly in its interior; only interiors are kept.

Memory is bounded by the larger of a tile's pass and the statistics pass (at most `stats_size` x `stats_size`
pixels), plus the uint8 input and output images, whatever the image size. A picture of no more than
`stats_size`**2 pixels runs whole: its statistics pass is the whole pass, so tiles would save no memory.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from fast_style.inference_defaults import STATS_SIZE
from fast_style.media.pixels import to_uint8, to_unit
from fast_style.model.network import BlurPool

NormStats = list[tuple[torch.Tensor, torch.Tensor]]  # per norm layer: (mean (B, C), var (B, C))


def receptive_margin(net: nn.Module) -> int:
    """Pixels of context each output pixel depends on, on each side, rounded up to a multiple of 4."""
    margin, stride = 0, 1
    for m in net.modules():
        if isinstance(m, nn.Upsample):  # a pixel of the small image on each side (bilinear's neighbours; the
            margin += stride  # nearest one's floor, as the tile's grid may fall: kernel_outer=5 seamed by 9 levels)
            stride //= 2
        elif isinstance(m, BlurPool):  # (model.antialias=down) a 3x3 blur, then every second pixel
            margin += stride
            stride *= 2
        elif isinstance(m, nn.Conv2d):
            margin += (m.kernel_size[0] // 2) * stride
            stride *= m.stride[0]
    return 4 * -(-margin // 4)


def _norms(net: nn.Module) -> list[nn.InstanceNorm2d]:
    return [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]


@torch.no_grad()
def record_norm_stats(net: nn.Module, x: torch.Tensor, run=None) -> NormStats:
    """Run `net` on x (B, 3, H, W) (by `run(net, x)` if given) and return each instance norm's input statistics,
    in order."""
    stats: NormStats = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        t = inputs[0].float()
        stats.append((t.mean(dim=(2, 3)), t.var(dim=(2, 3), unbiased=False)))

    handles = [m.register_forward_pre_hook(hook) for m in _norms(net)]
    try:
        run(net, x) if run else net(x)
    finally:
        for h in handles:
            h.remove()
    return stats


# A channel whose variance is at most this is flat (a flat picture's are 0; a photo's smallest about 1e-2): the whole
# pass normalizes it to 0, its values all its mean, but a tile's values differ from the statistics pass's by
# rounding, which 1/sqrt(eps) (316) multiplied at each norm layer: a flat picture came out black (NaN) or white.
FLAT_VAR = 1e-10


@contextmanager
def fixed_norm_stats(net: nn.Module, stats: NormStats) -> Iterator[None]:
    """Within the block, each instance norm of `net` uses the given statistics instead of its input's."""
    norms = _norms(net)
    if len(norms) != len(stats):
        raise ValueError(f"{len(stats)} statistics for {len(norms)} norm layers")
    originals = []
    for m, (mean, var) in zip(norms, stats):
        # once per layer, not per tile: (B, C), folded with the affine part in fp32
        scale = torch.rsqrt(var.float() + m.eps).masked_fill(var.float() <= FLAT_VAR, 0.0)  # flat: its mean, as in
        shift = -mean.float() * scale  # one pass
        if m.affine:
            scale, shift = scale * m.weight.float(), shift * m.weight.float() + m.bias.float()

        def forward(x: torch.Tensor, scale: torch.Tensor = scale, shift: torch.Tensor = shift) -> torch.Tensor:
            return torch.addcmul(shift.to(x)[..., None, None], x, scale.to(x)[..., None, None])

        originals.append(m.forward)
        m.forward = forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        for m, original in zip(norms, originals):
            m.forward = original  # type: ignore[method-assign]


@torch.no_grad()
def stylize_tiled(
    net: nn.Module,
    image: torch.Tensor,
    tile: int = 512,
    stats_size: int = STATS_SIZE,
    margin: int | None = None,
    run=None,
    strength: float = 1.0,
    always_tile: bool = False,
) -> torch.Tensor:
    """image: (1, 3, H, W), uint8 or float in [0, 1], on any device -> the same dtype and shape, on the CPU.

    `tile` is the interior kept from each tile (a multiple of 4); each tile runs with `margin` extra pixels
    of context on every side. `run(net, x)` computes the network (e.g. under autocast); default `net(x)`.
    `strength` below 1 blends each tile with the photo (0: the photo). An image of no more than `stats_size`**2
    pixels runs whole, in one pass: its statistics pass would be that very pass, so tiles would save no memory and
    cost 2x to 4x the time for the same picture; `always_tile` tiles it even so (the tests of the tiles).
    """
    run = run or (lambda n, t: n(t))
    device = next(net.parameters()).device
    _, _, h, w = image.shape
    tile = max(4, tile - tile % 4)
    fits = h * w <= stats_size**2
    one = fits and (not always_tile or (h <= tile and w <= tile))  # the whole pass itself, its own statistics

    def as_float(t: torch.Tensor) -> torch.Tensor:
        return to_unit(t).to(device)

    if one:
        margin, fixed, tile = 0, contextlib.nullcontext(), max(h, w)
    else:
        margin = receptive_margin(net) if margin is None else 4 * -(-margin // 4)  # keep the stride-2 grid aligned
        # bounded by pixels, the shape kept: bounded by the longer side, a 28000x152 banner's statistics came from
        # an 8 px sliver, mostly padding (its tiles washed out)
        scale = min(1.0, stats_size / math.sqrt(h * w))
        if scale == 1.0:
            small = as_float(image)
        else:  # a uint8 picture on the CPU is scaled down as it is: a float copy of a huge photo is 4 bytes a value
            whole = image if image.dtype == torch.uint8 and image.device.type == "cpu" else to_unit(image)
            size = (max(8, round(h * scale)), max(8, round(w * scale)))
            small = as_float(F.interpolate(whole, size=size, mode="bilinear", antialias=True, align_corners=False))
        fixed = fixed_norm_stats(net, record_norm_stats(net, small, run))
        del small

    out = torch.empty(1, 3, h, w, dtype=image.dtype)
    with fixed:
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                # context window, aligned to 4 so the stride-2 grid matches the whole-image pass
                cy0, cx0 = max(0, y0 - margin), max(0, x0 - margin)
                cy1, cx1 = min(h, y1 + margin), min(w, x1 + margin)
                piece = run(net, as_float(image[:, :, cy0:cy1, cx0:cx1])).float().clamp(0, 1)
                piece = piece[:, :, y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]
                if strength != 1.0:  # blended here, a tile at a time: not as float copies of the whole picture
                    piece = torch.lerp(as_float(image[:, :, y0:y1, x0:x1]), piece, strength)
                piece = piece.cpu()
                out[:, :, y0:y1, x0:x1] = to_uint8(piece) if out.dtype == torch.uint8 else piece
    return out
