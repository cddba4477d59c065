"""HDR video frames (PQ or HLG; BT.2020, P3 or BT.709 primaries) tone-mapped to SDR BT.709, as the style
networks and an SDR player expect: decoded at 16 bits, the signal turned into light in nits (PQ: SMPTE ST 2084's
EOTF; HLG: BT.2100's inverse OETF and its OOTF for a 1000-nit display), the primaries converted to BT.709's (a
matrix derived from their chromaticities), scaled so that HDR reference white (203 nits, BT.2408) is SDR's 1.0,
highlights rolled off, and encoded for a BT.1886 display (gamma 2.4), or with sRGB's curve for an HDR still
(fast_style.media.nclx).

The roll-off acts on each pixel's brightest channel and scales the three alike, so hues are kept (colours outside
BT.709's gamut are clipped per channel). Light up to `KNEE` of reference white (122 nits) passes unchanged; above
it a rational shoulder (slope 1 at the knee) reaches SDR white at the content's peak (HLG: its 1000-nit
display's; PQ: the stream's content light level or mastering peak, else 1000 nits). Reference white itself comes
out at 81-82% of SDR white's light (232-234 of 255 in the signal); everything brighter shares the code values
above it, rising with the light up to the peak.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

PQ, HLG = 16, 18  # FFmpeg's AVCOL_TRC_SMPTE2084 and AVCOL_TRC_ARIB_STD_B67 (a phone's HDR clips say HLG)
TRANSFERS = {PQ: "PQ", HLG: "HLG"}
BT709, BT2020, P3 = 1, 9, 12  # FFmpeg's AVCOL_PRI_* (12: SMPTE EG 432-1, Display P3's D65)
REFERENCE_WHITE = 203.0  # nits: HDR's diffuse white (BT.2408), scaled to SDR's 1.0
PEAK = 1000.0  # nits: HLG's display for its OOTF (system gamma 1.2); PQ's peak where a stream does not say
KNEE = 0.6  # share of reference white below which light passes unchanged
MIN_STATED_PEAK = 400.0  # nits: a stated PQ peak below this is taken for a mistake in the file

_CHROMATICITIES = {  # red, green, blue, white (D65) as CIE xy
    BT709: ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060), (0.3127, 0.3290)),
    BT2020: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), (0.3127, 0.3290)),
    P3: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.3127, 0.3290)),
}


def _rgb_to_xyz(primaries: int) -> np.ndarray:
    """Linear RGB -> CIE XYZ for a set of primaries (white maps to Y = 1)."""
    *rgb, white = _CHROMATICITIES[primaries]
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in rgb]).T  # (3, 3): a column per primary
    wx, wy = white
    scale = np.linalg.solve(xyz, [wx / wy, 1.0, (1 - wx - wy) / wy])
    return xyz * scale


@functools.cache
def to_bt709(primaries: int) -> tuple[tuple[float, ...], ...]:
    """The linear-light matrix from `primaries` to BT.709's."""
    return tuple(map(tuple, (np.linalg.inv(_rgb_to_xyz(BT709)) @ _rgb_to_xyz(primaries)).tolist()))


@functools.cache
def _luminance(primaries: int) -> tuple[float, ...]:
    """Y of each primary: the weights of luminance (HLG's OOTF takes them in the stream's own primaries)."""
    return tuple(_rgb_to_xyz(primaries)[1].tolist())


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


@functools.cache
def _linear_table(transfer: int) -> np.ndarray:
    """Each 16-bit code value as linear light: nits for PQ, scene light (0..1) for HLG."""
    signal = np.arange(65536, dtype=np.float64) / 65535
    return (_pq_to_nits(signal) if transfer == PQ else _hlg_to_scene(signal)).astype(np.float32)


def tone_map(
    rgb16: np.ndarray, transfer: int, primaries: int = BT2020, peak_nits: float = PEAK, srgb: bool = False
) -> np.ndarray:
    """(H, W, 3) uint16 R'G'B' with a PQ or HLG transfer -> (H, W, 3) uint8 BT.709 R'G'B' for SDR.
    `primaries`: FFmpeg's code (unspecified taken as BT.2020, as HDR means); `peak_nits`: PQ's light shown as
    white (`content_peak`); HLG's is its display's, 1000 nits. `srgb`: encoded with sRGB's curve (a still
    image's) instead of BT.1886's gamma 2.4 (video's)."""
    primaries = primaries if primaries in _CHROMATICITIES else BT2020
    planes = np.ascontiguousarray(rgb16.transpose(2, 0, 1))  # (3, H, W)
    light = torch.from_numpy(np.take(_linear_table(transfer), planes))  # the transfer undone by table
    r, g, b = light.unbind(0)
    # scale to SDR units (1 = reference white); HLG's OOTF is a per-pixel one: peak * luminance ** (1.2 - 1)
    scale: torch.Tensor | float = 1 / REFERENCE_WHITE
    if transfer == HLG:
        wr, wg, wb = _luminance(primaries)
        scale = (r * wr).add_(g, alpha=wg).add_(b, alpha=wb).clamp_min_(1e-6).pow_(0.2).mul_(PEAK / REFERENCE_WHITE)
        peak_nits = PEAK
    if primaries != BT709:  # linear, so before the per-pixel scale
        light = torch.stack([(r * m[0]).add_(g, alpha=m[1]).add_(b, alpha=m[2]) for m in to_bt709(primaries)])
    light.clamp_min_(0)
    peak = torch.maximum(torch.maximum(light[0], light[1]), light[2]).mul_(scale)  # brightest channel, SDR units
    # above the knee a rational shoulder (extended Reinhard): slope 1 at the knee, white at the peak, clipped beyond
    top = max(peak_nits, REFERENCE_WHITE) / REFERENCE_WHITE
    slope = (top - KNEE) / (1 - KNEE)
    u = (peak - KNEE).clamp_min_(0).div_(top - KNEE)
    rolled = (u * slope).div_(u.mul(slope - 1).add_(1)).mul_(1 - KNEE).add_(KNEE)
    gain = torch.where(peak > KNEE, rolled.div_(peak.clamp_min(1e-6)), 1.0).mul_(scale)
    light.mul_(gain).clamp_(1e-12, 1)
    if srgb:
        return encode_srgb(light).permute(1, 2, 0).contiguous().numpy()
    light.log_().mul_(1 / 2.4).exp_()  # BT.1886's inverse: light ** (1 / 2.4)
    return light.mul_(255).add_(0.5).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


_ENCODE_STEPS = 65535  # linear light quantised to 16 bits, then sRGB's curve taken from a table


@functools.cache
def _srgb_table() -> torch.Tensor:
    light = np.arange(_ENCODE_STEPS + 1, dtype=np.float64) / _ENCODE_STEPS
    srgb = np.where(light <= 0.0031308, light * 12.92, 1.055 * light ** (1 / 2.4) - 0.055)
    return torch.from_numpy((srgb * 255 + 0.5).astype(np.uint8))


def encode_srgb(light: torch.Tensor) -> torch.Tensor:
    """Linear light (0..1; clipped) -> uint8 code values in sRGB's curve, the same shape; `light` is changed."""
    return _srgb_table()[light.clamp_(0, 1).mul_(_ENCODE_STEPS).round_().int()]


def content_peak(frame: Any) -> float:
    """The brightest light a PQ stream says it holds, in nits: its content light level (MaxCLL), else its
    mastering display's peak, else `PEAK` (also for a stated peak under `MIN_STATED_PEAK`, taken for a mistake).
    Read from a decoded frame's side data (the first frame: stylize_video maps every frame with its answer)."""
    from av.sidedata.sidedata import Type

    # asked for by type: iterating the side data gave the entries in PyAV 18.1.0 and their types in 18.1.1
    wanted = (Type.CONTENT_LIGHT_LEVEL, Type.MASTERING_DISPLAY_METADATA)
    found = {kind: bytes(sd) for kind in wanted if (sd := frame.side_data.get(kind)) is not None}
    stated = []
    if len(cll := found.get(Type.CONTENT_LIGHT_LEVEL, b"")) >= 8:
        stated.append(struct.unpack("<I", cll[:4])[0])  # AVContentLightMetadata.MaxCLL
    mastering = found.get(Type.MASTERING_DISPLAY_METADATA, b"")
    if len(mastering) >= 88 and struct.unpack("<i", mastering[84:88])[0]:  # has_luminance
        num, den = struct.unpack("<ii", mastering[72:80])  # max_luminance, a rational, after 9 others
        stated.append(num / den if den > 0 else 0)
    return stated_peak(stated)


def stated_peak(stated: Iterable[float]) -> float:
    """The peak to map PQ light to white, in nits, from what a file states, most trusted first (content light
    level, then mastering display): the first of at least `MIN_STATED_PEAK` (capped at PQ's 10,000), else
    `PEAK`."""
    return next((float(min(nits, 10000)) for nits in stated if nits >= MIN_STATED_PEAK), PEAK)


def frame_to_sdr(frame: Any, peak_nits: float = PEAK, colours: dict | None = None) -> np.ndarray:
    """A decoded PyAV frame whose transfer is PQ or HLG, as (H, W, 3) uint8 SDR BT.709 RGB (its matrix and range are
    read from the frame by swscale; `colours`: to_ndarray's arguments where the frame does not state them).
    `peak_nits`: for PQ, `content_peak` of the stream's first frame."""
    rgb16 = frame.to_ndarray(format="rgb48le", **(colours or {}))
    return tone_map(rgb16, frame.color_trc, frame.color_primaries, peak_nits)
