"""HDR video frames (PQ or HLG, BT.2020) tone-mapped to SDR BT.709, as the style networks and an SDR player
expect: decoded at 16 bits, the signal turned into light in nits (PQ: SMPTE ST 2084's EOTF; HLG: BT.2100's
inverse OETF and its OOTF for a 1000-nit display), BT.2020's primaries converted to BT.709's, HDR reference
white (203 nits, BT.2408) put at SDR white with highlights rolled off smoothly above it, and the result encoded
for a BT.1886 display (gamma 2.4).

The roll-off acts on each pixel's brightest channel and scales the three alike, so hues and saturation are kept;
up to `KNEE` of SDR white the light is unchanged, above it a smooth shoulder reaches white at the content's peak
(HLG: its 1000-nit display's; PQ: the stream's content light level or mastering peak, else 1000 nits): reference
white comes out at about 92% of SDR's signal (233-234 of 255), the highlights above it keep their gradations.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import torch
from PIL import Image

PQ, HLG = 16, 18  # FFmpeg's AVCOL_TRC_SMPTE2084 and AVCOL_TRC_ARIB_STD_B67 (a phone's HDR clips say HLG)
TRANSFERS = {PQ: "PQ", HLG: "HLG"}
BT2020 = 9  # AVCOL_PRI_BT2020
REFERENCE_WHITE = 203.0  # nits: HDR's diffuse white (BT.2408), shown as SDR white
PEAK = 1000.0  # nits: HLG's display for its OOTF (system gamma 1.2); PQ's peak where a stream does not say
KNEE = 0.6  # share of SDR white below which light passes unchanged

# BT.2020 RGB -> BT.709 RGB, linear light (BT.2087)
_BT2020_TO_709 = torch.tensor(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ]
)


def _pq_to_nits(signal: np.ndarray) -> np.ndarray:
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = signal ** (1 / m2)
    return 10000.0 * (np.maximum(p - c1, 0) / (c2 - c3 * p)) ** (1 / m1)


def _hlg_to_scene(signal: np.ndarray) -> np.ndarray:
    """HLG's inverse OETF: the signal (0..1) as scene light (0..1)."""
    a, b = 0.17883277, 1 - 4 * 0.17883277
    c = 0.5 - a * math.log(4 * a)
    return np.where(signal <= 0.5, signal**2 / 3, (np.exp((signal - c) / a) + b) / 12)


_TABLES: dict[int, np.ndarray] = {}


def _linear_table(transfer: int) -> np.ndarray:
    """Each 16-bit code value as linear light: nits for PQ, scene light (0..1) for HLG."""
    if transfer not in _TABLES:
        signal = np.arange(65536, dtype=np.float64) / 65535
        table = _pq_to_nits(signal) if transfer == PQ else _hlg_to_scene(signal)
        _TABLES[transfer] = table.astype(np.float32)
    return _TABLES[transfer]


def tone_map(rgb16: np.ndarray, transfer: int, primaries: int = BT2020, peak_nits: float = PEAK) -> np.ndarray:
    """(H, W, 3) uint16 R'G'B' with a PQ or HLG transfer -> (H, W, 3) uint8 BT.709 R'G'B' for SDR.
    `peak_nits`: the light shown as white (PQ: the content's peak, `content_peak`; HLG: its display's 1000)."""
    planes = np.ascontiguousarray(rgb16.transpose(2, 0, 1))  # (3, H, W)
    light = torch.from_numpy(np.take(_linear_table(transfer), planes))  # the transfer undone by table
    r, g, b = light.unbind(0)
    # per-pixel scale to SDR units (1 = SDR white); HLG's OOTF is such a scale: peak * luminance ** (1.2 - 1)
    if transfer == HLG:
        scale = (r * 0.2627).add_(g, alpha=0.6780).add_(b, alpha=0.0593).clamp_min_(1e-6).pow_(0.2)
        scale.mul_(PEAK / REFERENCE_WHITE)
    else:
        scale = torch.full_like(r, 1 / REFERENCE_WHITE)
    if primaries == BT2020:  # linear, so before the scale
        m = _BT2020_TO_709.tolist()
        light = torch.stack([(r * row[0]).add_(g, alpha=row[1]).add_(b, alpha=row[2]) for row in m])
    light.clamp_min_(0)
    peak = torch.maximum(torch.maximum(light[0], light[1]), light[2]).mul_(scale)  # brightest channel, SDR units
    # above the knee a rational shoulder (extended Reinhard): slope 1 at the knee, white at the peak, clipped beyond
    top = max(peak_nits, REFERENCE_WHITE) / REFERENCE_WHITE
    slope = (top - KNEE) / (1 - KNEE)
    u = (peak - KNEE).div_(top - KNEE)
    rolled = (u * slope).div_(u.mul(slope - 1).add_(1)).mul_(1 - KNEE).add_(KNEE)
    gain = torch.where(peak > KNEE, rolled.div_(peak.clamp_min(1e-6)), 1.0).mul_(scale)
    light.mul_(gain).clamp_(1e-12, 1).log_().mul_(1 / 2.4).exp_()  # BT.1886's inverse: light ** (1 / 2.4)
    return light.mul_(255).add_(0.5).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def content_peak(frame: Any) -> float:
    """The brightest light a PQ stream says it holds, in nits: its content light level (MaxCLL), else its
    mastering display's peak, else `PEAK`; FFmpeg attaches both to key frames (read it from the first)."""
    from av.sidedata.sidedata import Type

    found = {sd.type: bytes(sd) for sd in frame.side_data}
    if len(cll := found.get(Type.CONTENT_LIGHT_LEVEL, b"")) >= 8 and (max_cll := struct.unpack("<I", cll[:4])[0]):
        return float(min(max_cll, 10000))
    mastering = found.get(Type.MASTERING_DISPLAY_METADATA, b"")
    if len(mastering) >= 88 and struct.unpack("<i", mastering[84:88])[0]:  # has_luminance
        num, den = struct.unpack("<ii", mastering[72:80])  # max_luminance, a rational, after 9 others
        if num > 0 and den > 0:
            return float(min(num / den, 10000))
    return PEAK


def frame_to_sdr_image(frame: Any, peak_nits: float = PEAK) -> Image.Image:
    """A decoded PyAV frame whose transfer is PQ or HLG, as an SDR BT.709 RGB image (its matrix and range are
    read from the frame by swscale). `peak_nits`: for PQ, `content_peak` of the stream's first frame."""
    rgb16 = frame.to_ndarray(format="rgb48le")
    peak = peak_nits if frame.color_trc == PQ else PEAK
    return Image.fromarray(tone_map(rgb16, frame.color_trc, frame.color_primaries, peak))
