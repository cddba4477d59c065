"""Y'CbCr and RGB, converted where the tensors live (a GPU's video frames never pass through the CPU as RGB).

A decoded H.264 frame is 8-bit Y'CbCr 4:2:0: a full-size luma plane and two chroma planes of a quarter of its
size each, half the bytes of its RGB picture. PyAV lays such a frame (`yuv420p`) out as one (H * 3/2, W) uint8
array: the luma's H rows, then U's and V's samples in rows of W (`nv12`, what NVDEC decodes to, the same with U and
V alternating). `to_rgb` and `to_yuv420` turn a batch of such
arrays into RGB in [0, 1] and back on the tensors' device, instead of in FFmpeg's swscale on the CPU's cores,
which then stay free for decoding and encoding. The chroma is taken as centred between its four luma samples
(bilinear up, a 2x2 mean down); H.264's default siting is a quarter of a chroma sample to the left of that, a
difference of a few code values at sharp colour edges only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Kr, Kb of each matrix, by FFmpeg's AVCOL_SPC_* number (`frame.colorspace`)
BT601, BT709, BT2020 = (0.299, 0.114), (0.2126, 0.0722), (0.2627, 0.0593)
MATRICES = {1: BT709, 4: (0.30, 0.11), 5: BT601, 6: BT601, 7: (0.212, 0.087), 9: BT2020}
UNSTATED = (0, 2)  # AVCOL_SPC_RGB (an unset field) and AVCOL_SPC_UNSPECIFIED


def matrix_of(colorspace: int, height: int) -> tuple[float, float] | None:
    """The Kr, Kb of a decoded frame's matrix; where the stream does not say, BT.709 for an HD frame (720 lines or
    more) and BT.601 below, as players take them. None for one this module does not convert (BT.2020's
    constant-luminance form, ICtCp, ...)."""
    if colorspace in UNSTATED:
        return BT709 if height >= 720 else BT601
    return MATRICES.get(colorspace)


def to_rgb(
    planes: torch.Tensor, matrix: tuple[float, float] = BT709, full_range: bool = False, interleaved: bool = False
) -> torch.Tensor:
    """(N, H * 3/2, W) uint8 yuv420p arrays -> (N, 3, H, W) float RGB in [0, 1]. `full_range`: codes 0-255 (JPEG's,
    `yuvj420p`) rather than video's 16-235 for luma and 16-240 for chroma. `interleaved`: `nv12` arrays (what a
    GPU's decoder hands back), whose chroma rows alternate Cb and Cr samples instead of holding all Cb, then Cr."""
    n, rows, w = planes.shape
    h = rows * 2 // 3
    flat = planes.reshape(n, rows * w)
    y = flat[:, : h * w].reshape(n, 1, h, w).float()  # (N, 1, H, W)
    if interleaved:
        c = flat[:, h * w :].reshape(n, h // 2, w // 2, 2).permute(0, 3, 1, 2).float()  # (N, 2, H/2, W/2)
    else:
        c = flat[:, h * w :].reshape(n, 2, h // 2, w // 2).float()  # (N, 2, H/2, W/2): Cb, Cr
    if full_range:
        y, c = y / 255, (c - 128) / 255
    else:
        y, c = (y - 16) / 219, (c - 128) / 224
    cb, cr = F.interpolate(c, scale_factor=2, mode="bilinear", align_corners=False).unbind(1)
    return _from_ycbcr(y[:, 0], cb, cr, matrix).clamp(0, 1)


def to_yuv420(rgb: torch.Tensor, matrix: tuple[float, float] = BT709) -> torch.Tensor:
    """(N, 3, H, W) float RGB in [0, 1], H and W even -> (N, H * 3/2, W) uint8 yuv420p arrays (video range)."""
    n, _, h, w = rgb.shape
    if h % 2 or w % 2:
        raise ValueError(f"4:2:0 needs even sides, got {w}x{h}")
    y, cb, cr = _to_ycbcr(rgb.float(), matrix)
    c = F.avg_pool2d(torch.stack((cb, cr), 1), 2)  # (N, 2, H/2, W/2)
    luma = (16 + 219 * y).round().clamp(0, 255).to(torch.uint8).reshape(n, h * w)
    chroma = (128 + 224 * c).round().clamp(0, 255).to(torch.uint8).reshape(n, h * w // 2)
    return torch.cat((luma, chroma), 1).reshape(n, h * 3 // 2, w)


def keep_colours(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) RGB in [0, 1]: the luma of `stylized` with the chroma of `content` (Gatys et al. 2016), in
    BT.601's full-range Y'CbCr, as Pillow's YCbCr mode (photos and video frames alike: Stylizer)."""
    y, _, _ = _to_ycbcr(stylized, BT601)
    _, cb, cr = _to_ycbcr(content, BT601)
    return _from_ycbcr(y, cb, cr, BT601).clamp(0, 1)


def _to_ycbcr(rgb: torch.Tensor, matrix: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    kr, kb = matrix
    r, g, b = rgb.unbind(-3)
    y = kr * r + (1 - kr - kb) * g + kb * b
    return y, (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))


def _from_ycbcr(y: torch.Tensor, cb: torch.Tensor, cr: torch.Tensor, matrix: tuple[float, float]) -> torch.Tensor:
    kr, kb = matrix
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return torch.stack((r, g, b), -3)
