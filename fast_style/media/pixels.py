"""Pictures as tensors and back: 8-bit and [0, 1] float pixels, Pillow images <-> (3, H, W) tensors."""

from __future__ import annotations

import torch
from PIL import Image


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 in 0..255, or float -> float32 in [0, 1] (float input is taken as already in [0, 1])."""
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float in [0, 1] (clamped), or uint8 -> uint8."""
    return x if x.dtype == torch.uint8 else x.clamp(0, 1).mul(255).round().to(torch.uint8)


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) uint8 (a view of one copy of its pixels, as torchvision's pil_to_tensor: importing
    torchvision for it took 1.9 s of a one-photo fast-style-stylize, counted in its "in 1.5 s" for a 48x40 photo)."""
    import numpy as np

    return torch.as_tensor(np.array(img, copy=True)).view(img.height, img.width, len(img.getbands())).permute(2, 0, 1)


def tensor_to_pil(x: torch.Tensor) -> Image.Image:
    """(3, H, W) uint8, or float in [0, 1] -> RGB PIL image. The channels go last where the tensor lives (on a GPU,
    with the conversion to 8 bits), so Pillow gets a contiguous array: from a strided one it copies pixel by pixel,
    11.5 ms of a 1080p video frame's 34 on an H200 (benchmarks/README.md)."""
    return Image.fromarray(to_uint8(x).permute(1, 2, 0).contiguous().cpu().numpy())
