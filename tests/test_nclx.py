"""HEIC and AVIF stills whose colour is stated as nclx code points, not an ICC profile: wide gamut and HDR read
as sRGB."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fast_style.hdr import tone_map
from fast_style.images import open_rgb, read_image, split_alpha
from fast_style.nclx import read_avif_nclx

pillow_heif = pytest.importorskip("pillow_heif")  # writes HEIC (the product reads it with pi-heif)

# Display P3 -> sRGB in linear light, as published (independent of the module's derivation from chromaticities)
P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])
SRGB_COLOURS = [(200, 60, 40), (40, 160, 70), (50, 80, 190), (128, 128, 128)]  # inside P3, so they round-trip


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float) / 255
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.clip(v, 0, None) ** (1 / 2.4) - 0.055) * 255


def as_p3(colour: tuple[int, int, int]) -> tuple[int, ...]:
    """The Display P3 code values (sRGB's curve) of an sRGB colour."""
    p3 = np.linalg.solve(P3_TO_SRGB, srgb_to_linear(colour))
    return tuple(int(round(v)) for v in linear_to_srgb(p3))


def patches(colours: list[tuple[int, ...]]) -> Image.Image:
    """Flat 32x32 patches side by side (flat, so chroma subsampling does not blur the centres)."""
    img = Image.new("RGB", (32 * len(colours), 32))
    for i, colour in enumerate(colours):
        img.paste(colour, (32 * i, 0, 32 * i + 32, 32))
    return img


def centres(img: Image.Image, n: int) -> np.ndarray:
    return np.array([img.getpixel((32 * i + 16, 16)) for i in range(n)], float)


def save_heic(img: Image.Image, path: Path, primaries: int, transfer: int, matrix: int = 6) -> Path:
    nclx = {"color_primaries": primaries, "transfer_characteristics": transfer, "matrix_coefficients": matrix}
    pillow_heif.from_pillow(img).save(path, quality=-1, nclx_profile={**nclx, "full_range_flag": 1})
    return path


def test_a_display_p3_heic_without_a_profile_is_read_in_srgb(tmp_path: Path) -> None:
    p3 = [as_p3(c) for c in SRGB_COLOURS]
    path = save_heic(patches(p3), tmp_path / "IMG_0001.HEIC", primaries=12, transfer=13)
    got = centres(open_rgb(path), len(p3))
    assert np.abs(got - np.array(SRGB_COLOURS)).max() <= 4
    assert np.abs(np.array(p3) - np.array(SRGB_COLOURS)).max() > 20  # read as numbers, the colours were off
    see_through = patches(p3).convert("RGBA")
    see_through.putalpha(77)
    rgb, alpha = split_alpha(read_image(save_heic(see_through, tmp_path / "alpha.heic", primaries=12, transfer=13)))
    assert np.abs(centres(rgb, 4) - np.array(SRGB_COLOURS)).max() <= 4 and alpha.getextrema() == (77, 77)
    srgb = save_heic(patches(SRGB_COLOURS), tmp_path / "srgb.heic", primaries=1, transfer=13)
    assert np.abs(centres(open_rgb(srgb), 4) - np.array(SRGB_COLOURS)).max() <= 4  # BT.709's primaries: as is


def avif_with_code_points(img: Image.Image, primaries: int, transfer: int) -> bytes:
    """An AVIF whose nclx box states these code points (Pillow writes BT.709/sRGB's; the box is patched)."""
    out = io.BytesIO()
    img.save(out, format="AVIF", quality=100, subsampling="4:4:4")
    data = bytearray(out.getvalue())
    at = data.find(b"colrnclx") + 8
    assert at > 8 and data[at : at + 4] == bytes([0, 1, 0, 13])
    data[at : at + 4] = primaries.to_bytes(2, "big") + transfer.to_bytes(2, "big")
    return bytes(data)


def test_a_display_p3_avif_without_a_profile_is_read_in_srgb(tmp_path: Path) -> None:
    p3 = [as_p3(c) for c in SRGB_COLOURS]
    data = avif_with_code_points(patches(p3), primaries=12, transfer=13)
    assert read_avif_nclx(io.BytesIO(data))["color_primaries"] == 12
    (tmp_path / "p3.avif").write_bytes(data)
    for source in (tmp_path / "p3.avif", io.BytesIO(data)):  # a path, or bytes as the server gets them
        assert np.abs(centres(open_rgb(source), 4) - np.array(SRGB_COLOURS)).max() <= 4


def test_damaged_or_missing_boxes_mean_no_code_points() -> None:
    data = avif_with_code_points(patches([(10, 20, 30)]), primaries=12, transfer=13)
    assert read_avif_nclx(io.BytesIO(b"")) is None
    assert read_avif_nclx(io.BytesIO(b"\x00\x00\x00\x10junk" * 4)) is None
    for cut in (20, 40, data.find(b"colrnclx") + 9):
        assert read_avif_nclx(io.BytesIO(data[:cut])) is None
    fp = io.BytesIO(data)
    fp.seek(7)
    read_avif_nclx(fp)
    assert fp.tell() == 7  # the reader's position is kept


def hlg_code(scene: float) -> float:
    """BT.2100's HLG OETF (scene light 0..1 -> signal 0..1), written independently of the module."""
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    return np.sqrt(3 * scene) if scene <= 1 / 12 else a * np.log(12 * scene - b) + c


def pq_signal(nits: float) -> float:
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def save_heic10(levels: np.ndarray, path: Path, transfer: int) -> Path:
    """A 10-bit BT.2020 HEIC of grey signal levels (0..1), one per column, 32 rows."""
    codes = (np.round(np.asarray(levels, float) * 1023).astype(np.uint16) << 6)[None, :, None]  # top 10 of 16 bits
    grey = np.ascontiguousarray(np.broadcast_to(codes, (32, codes.shape[1], 3)), "<u2")
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(grey.shape[1], 32), data=grey.tobytes())
    heif.save(path, quality=-1, nclx_profile={"color_primaries": 9, "transfer_characteristics": transfer,
                                              "matrix_coefficients": 9, "full_range_flag": 1})  # fmt: skip
    return path


def test_hdr_heic_stills_are_tone_mapped_as_hdr_video_is(tmp_path: Path) -> None:
    # reference white (HLG 75%, PQ 203 nits) is SDR's 234, as for video (tests/test_hdr.py); read flat it was 191
    for transfer, signal in ((18, 0.75), (16, pq_signal(203))):
        img = open_rgb(save_heic10(np.full(32, signal), tmp_path / f"{transfer}.heic", transfer))
        assert img.mode == "RGB" and all(abs(v - 234) <= 2 for v in img.getpixel((16, 16))), transfer
    # a dark ramp keeps the 10-bit file's steps: 512 levels up to ~90 nits give ~170 SDR levels, where an 8-bit
    # decode (128 levels, sparse near black) gives at most 128
    ramp = open_rgb(save_heic10(np.arange(512) / 1023, tmp_path / "ramp.heic", 16)).getchannel("G")
    assert len(np.unique(np.asarray(ramp)[16])) > 140
    assert abs(hlg_code(1 / 12) - 0.5) < 1e-6  # the OETF's join, a check of the helper itself


def test_stylize_cli_reads_an_hdr_heic_as_the_sdr_picture_it_shows(tmp_path: Path) -> None:
    from fast_style.cli.stylize import main
    from fast_style.network import TransformerNet, save_style_model

    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    model = save_style_model(net, tmp_path / "m.pt", {})
    levels = np.linspace(0.1, 0.95, 32)  # a ramp (a flat picture is all noise to instance normalisation)
    save_heic10(levels, tmp_path / "IMG_0002.HEIC", 18)
    codes = (np.round(levels * 1023) * 65535 / 1023).round().astype(np.uint16)  # the file's 10 bits, as 16
    shown = tone_map(np.broadcast_to(codes[None, :, None], (32, 32, 3)).copy(), 18)  # tests/test_hdr.py checks it
    Image.fromarray(shown).save(tmp_path / "sdr.png")
    for name in ("IMG_0002.HEIC", "sdr.png"):
        assert (
            main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / f"out_{Path(name).stem}.png"), "-q"])
            == 0
        )
    with Image.open(tmp_path / "out_IMG_0002.png") as hdr, Image.open(tmp_path / "out_sdr.png") as sdr:
        assert "icc_profile" not in hdr.info  # sRGB, said by saying nothing
        assert np.abs(np.asarray(hdr, float) - np.asarray(sdr, float)).max() <= 3
