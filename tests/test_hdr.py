"""HDR frames to SDR: the transfer functions' known points, the roll-off, hues kept."""

import numpy as np

from fast_style.hdr import HLG, PQ, tone_map


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


def test_hue_is_kept_when_highlights_are_compressed() -> None:
    rgb = np.array([[[pq_code(1000), pq_code(300), pq_code(50)]]], np.uint16)  # a bright orange
    bt709 = np.array([[[pq_code(1000), pq_code(300), pq_code(50)]]], np.uint16)
    mapped = tone_map(bt709, PQ, primaries=1).astype(float)[0, 0]  # BT.709 primaries: no gamut step
    linear = mapped / 255
    linear = linear**2.4
    assert abs(linear[1] / linear[0] - 300 / 1000) < 0.02 and abs(linear[2] / linear[0] - 50 / 1000) < 0.01
    assert tone_map(rgb, PQ)[0, 0, 0] == 255  # BT.2020's red reaches further: the same light, redder in BT.709
