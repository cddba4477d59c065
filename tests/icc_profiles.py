"""Small ICC v2 profiles made for tests (no colour profile ships with Pillow or this machine): a CMYK printer
whose inks print as the test says, and an RGB display whose primaries the test picks."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable

from PIL import Image, ImageCms

D50 = (0.9642, 1.0, 0.8249)  # the profile connection space's white
SRGB_PRIMARIES = {  # XYZ of sRGB's red, green and blue, adapted to D50 (as sRGB profiles store them)
    "red": (0.4361, 0.2225, 0.0139),
    "green": (0.3851, 0.7169, 0.0971),
    "blue": (0.1431, 0.0606, 0.7141),
}


def _s15(*values: float) -> bytes:
    return b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _profile(cls: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]], name: str = "test") -> bytes:
    name = name.encode() + b"\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(4 + 4 + 2 + 1 + 67)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + _s15(*D50)), *tags]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += bytes(-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = struct.pack(">I", offset + len(data)) + bytes(4) + struct.pack(">I", 0x02100000) + cls + space + pcs
    header += bytes(12) + b"acsp" + bytes(28) + _s15(*D50) + bytes(48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def cmyk_profile(ink_rgb: Callable[[int, int, int, int], tuple[int, int, int]]) -> bytes:
    """A CMYK printer profile (one lut8 A2B0 tag, 2 grid points per ink) whose inks print as
    ink_rgb(c, m, y, k) (each 0 or 1) -> an sRGB colour; in between, interpolated."""
    corners = list(itertools.product((0, 1), repeat=4))  # C varies slowest, as the ICC grid orders them
    rgb = Image.new("RGB", (len(corners), 1))
    rgb.putdata([ink_rgb(*corner) for corner in corners])
    lab = ImageCms.profileToProfile(
        rgb, ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), outputMode="LAB"
    )
    grid = bytes(v if i % 3 == 0 else (v + 128) % 256 for i, v in enumerate(lab.tobytes()))  # a, b: signed -> +128
    ramp = bytes(range(256))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + _s15(1, 0, 0, 0, 1, 0, 0, 0, 1) + ramp * 4 + grid + ramp * 3
    return _profile(b"prtr", b"CMYK", b"Lab ", [(b"A2B0", lut)])


def _curve(gamma: float) -> bytes:
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def rgb_profile(red: str, green: str, blue: str, gamma: float = 2.2, name: str = "test RGB") -> bytes:
    """An RGB display profile whose red, green and blue primaries are sRGB's primaries of those names (so
    rgb_profile("green", "blue", "red") shows (255, 0, 0) as sRGB's green), with a plain gamma curve; `name` is
    its description."""
    curve = _curve(gamma)
    tags = [
        (sig, b"XYZ " + bytes(4) + _s15(*SRGB_PRIMARIES[name]))
        for sig, name in zip((b"rXYZ", b"gXYZ", b"bXYZ"), (red, green, blue))
    ]
    tags += [(sig, curve) for sig in (b"rTRC", b"gTRC", b"bTRC")]
    return _profile(b"mntr", b"RGB ", b"XYZ ", tags, name)


def grey_profile(gamma: float) -> bytes:
    """A greyscale display profile with a plain gamma curve (1.0: the numbers are linear light)."""
    return _profile(b"mntr", b"GRAY", b"XYZ ", [(b"kTRC", _curve(gamma))], "test grey")
