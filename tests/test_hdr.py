"""HDR frames to SDR: the transfer functions' known points, the roll-off, hues kept."""

import struct
from types import SimpleNamespace

import numpy as np
import pytest

from fast_style.media.hdr import HLG, PQ, content_peak, tone_map


def pq_code(nits: float) -> int:
    """SMPTE ST 2084's inverse EOTF, written independently of the module's table, as a 16-bit code."""
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000) ** m1
    return round(((c1 + c2 * y) / (1 + c3 * y)) ** m2 * 65535)


def grey(code: int, transfer: int) -> int:
    return int(tone_map(np.full((1, 1, 3), code, np.uint16), transfer)[0, 0, 0])


def test_reference_white_becomes_near_sdr_white_on_both_transfers() -> None:
    assert grey(pq_code(203), PQ) == grey(round(0.75 * 65535), HLG) == 234  # BT.2408: 203 nits, HLG's 75%
    assert grey(0, PQ) == grey(0, HLG) == 0


def test_dark_and_mid_tones_pass_unchanged_and_highlights_roll_off_without_clipping() -> None:
    for nits in (1, 20, 100):  # under the knee (0.6 of 203 nits): the light itself, encoded for gamma 2.4
        assert abs(grey(pq_code(nits), PQ) - (nits / 203) ** (1 / 2.4) * 255) <= 1
    bright = [grey(pq_code(nits), PQ) for nits in (150, 203, 400, 600, 1000)]
    assert bright == sorted(bright) and len(set(bright)) == len(bright)  # still rising: highlights keep detail
    assert bright[-1] == 255 and bright[-2] < 254 and grey(pq_code(10000), PQ) == 255  # white at 1000 nits
    # a peak under reference white is taken as reference white (a shoulder of negative slope otherwise)
    ramp = np.array([[[pq_code(n)] * 3 for n in (20, 203, 1000)]], np.uint16)
    assert np.array_equal(tone_map(ramp, PQ, peak_nits=100), tone_map(ramp, PQ, peak_nits=203))


def test_hue_is_kept_when_highlights_are_compressed() -> None:
    bt709 = np.array([[[pq_code(1000), pq_code(300), pq_code(50)]]], np.uint16)  # a bright orange
    mapped = tone_map(bt709, PQ, primaries=1, peak_nits=4000).astype(float)[0, 0]  # BT.709: no gamut step
    linear = (mapped / 255) ** 2.4
    assert mapped[0] < 255 and abs(linear[1] / linear[0] - 0.3) < 0.02 and abs(linear[2] / linear[0] - 0.05) < 0.01


# BT.2087's published matrix, BT.709 -> BT.2020 (linear light): independent of the module's derivation
BT709_TO_2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]])
MID_TONES = np.array([[90, 40, 10], [10, 80, 30], [20, 30, 100], [60, 60, 60]], float)  # nits, BT.709, under the knee


def sdr(nits_bt709: np.ndarray) -> np.ndarray:
    """What SDR shows for BT.709 light under the knee: reference white (203 nits) as 1.0, gamma 2.4."""
    return (nits_bt709 / 203) ** (1 / 2.4) * 255


def test_bt2020_colours_come_out_as_the_same_light_in_bt709() -> None:
    codes = np.array([[[pq_code(v) for v in BT709_TO_2020 @ colour] for colour in MID_TONES]], np.uint16)
    got = tone_map(codes, PQ).astype(float)[0]
    assert np.abs(got - sdr(MID_TONES)).max() <= 2
    assert np.abs(got - tone_map(codes, PQ, primaries=1)[0]).max() > 20  # the conversion is not a no-op
    for unstated in (2, 0, 99):  # FFmpeg's "unspecified", an unset field, one this module does not know: BT.2020's
        assert np.array_equal(tone_map(codes, PQ, primaries=unstated), tone_map(codes, PQ))


def test_hlg_colours_go_through_its_ootf_with_bt2020_luminance() -> None:
    a, b, c = 0.17883277, 0.28466892, 0.55991073  # BT.2100's HLG constants
    scene = np.array([[0.05, 0.03, 0.004], [0.025, 0.06, 0.02], [0.02, 0.02, 0.09], [0.1, 0.03, 0.015]])  # BT.2020
    signal = np.where(scene <= 1 / 12, np.sqrt(3 * scene), a * np.log(np.maximum(12 * scene - b, 1e-9)) + c)
    luminance = scene @ np.array([0.2627, 0.6780, 0.0593])
    display = 1000 * luminance[:, None] ** 0.2 * scene  # nits, BT.2020 (the OOTF at 1000 nits)
    want = sdr(display @ np.linalg.inv(BT709_TO_2020).T)
    assert display.max() < 0.6 * 203 and want.min() > 5  # under the knee, and no channel out of gamut
    got = tone_map(np.round(signal * 65535).astype(np.uint16)[None], HLG).astype(float)[0]
    assert np.abs(got - want).max() < 0.75  # rounding only (BT.709's luminance weights: 1.08 off on the red)


class SideData:
    def __init__(self, kind: str, payload: bytes) -> None:
        from av.sidedata.sidedata import Type

        self.type, self.payload = getattr(Type, kind), payload

    def __bytes__(self) -> bytes:
        return self.payload


def light_level(max_cll: int) -> SideData:
    return SideData("CONTENT_LIGHT_LEVEL", struct.pack("<II", max_cll, 400))


def mastering(max_nits: int) -> SideData:  # AVMasteringDisplayMetadata: 9 rationals, the peak, two flags
    return SideData(
        "MASTERING_DISPLAY_METADATA", struct.pack("<18i", *[1] * 18) + struct.pack("<4i", max_nits, 1, 1, 1)
    )


@pytest.mark.parametrize(
    "side_data,peak",
    [
        ([], 1000),
        ([light_level(4000)], 4000),
        ([light_level(0), mastering(2000)], 2000),  # x265 writes MaxCLL 0 when it was not given
        ([light_level(100), mastering(4000)], 4000),  # a content light level under 400 nits is taken for a mistake
        ([light_level(100)], 1000),
        ([light_level(50000)], 10000),  # PQ ends at 10,000 nits
    ],
)
def test_the_peak_a_pq_stream_states(side_data: list, peak: float) -> None:
    # a frame's side data maps each type to its entry, as PyAV's container does (18.1.1 iterates the types)
    assert content_peak(SimpleNamespace(side_data={sd.type: sd for sd in side_data})) == peak
