"""HEIC and AVIF stills whose colour is stated as nclx code points, not an ICC profile: wide gamut and HDR read
as sRGB."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from fast_style.media.hdr import tone_map
from fast_style.media.images import open_rgb, read_image, split_alpha
from fast_style.media.nclx import code_points, read_properties, stated_peak

pillow_heif = pytest.importorskip("pillow_heif")  # writes HEIC (the product reads it with pi-heif)

# Display P3 -> sRGB in linear light, as published (independent of the module's derivation from chromaticities)
P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])
SRGB_COLOURS = [(200, 60, 40), (40, 160, 70), (50, 80, 190), (128, 128, 128)]  # inside P3, so they round-trip
BT709_TO_2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]])  # BT.2087


def read_nclx(fp: io.BytesIO) -> dict | None:
    return code_points(read_properties(fp))


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
    bt2020 = [tuple(int(round(v)) for v in linear_to_srgb(BT709_TO_2020 @ srgb_to_linear(c))) for c in SRGB_COLOURS]
    wide = open_rgb(save_heic(patches(bt2020), tmp_path / "bt2020.heic", primaries=9, transfer=13))
    assert np.abs(centres(wide, 4) - np.array(SRGB_COLOURS)).max() <= 4
    assert "nclx_profile" not in wide.info and "icc_profile" not in wide.info  # sRGB now: nothing to convert again


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
    assert read_nclx(io.BytesIO(data))["color_primaries"] == 12
    (tmp_path / "p3.avif").write_bytes(data)
    for source in (tmp_path / "p3.avif", io.BytesIO(data)):  # a path, or bytes as the server gets them
        assert np.abs(centres(open_rgb(source), 4) - np.array(SRGB_COLOURS)).max() <= 4


def box(kind: bytes, payload: bytes, wide: bool = False) -> bytes:
    """An ISO BMFF box; `wide`: with a 64-bit size."""
    if wide:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, payload: bytes, wide: bool = False) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload, wide)


def colr(primaries: int, transfer: int) -> bytes:
    return box(b"colr", b"nclx" + struct.pack(">HHHB", primaries, transfer, 6, 0x80))


def ipma(version: int, flags: int, entries: list[tuple[int, list[int]]]) -> bytes:
    """Item -> property associations: 1-based indexes into ipco, each marked essential."""
    out = struct.pack(">I", len(entries))
    for item, indexes in entries:
        out += item.to_bytes(2 if version == 0 else 4, "big") + bytes([len(indexes)])
        out += b"".join((i | 0x8000).to_bytes(2, "big") if flags & 1 else bytes([i | 0x80]) for i in indexes)
    return full_box(b"ipma", version, flags, out)


PROPERTIES = [box(b"ispe", bytes(12)), colr(1, 13), colr(12, 13), colr(9, 16)]  # indexes 1..4
FTYP = box(b"ftyp", b"avif\0\0\0\0avifmif1")


def heif(
    primary: int,
    associations: list[bytes],
    pitm_version: int = 0,
    wide: bool = False,
    ipco: bool = True,
    extra: tuple[bytes, ...] | list[bytes] = (),
) -> io.BytesIO:
    """A HEIF file's boxes (no media): PROPERTIES then `extra` in ipco, `associations` (ipma boxes)."""
    pitm = full_box(b"pitm", pitm_version, 0, primary.to_bytes(2 if pitm_version == 0 else 4, "big"))
    properties = box(b"ipco", b"".join([*PROPERTIES, *extra]), wide) if ipco else b""
    iprp = box(b"iprp", properties + b"".join(associations), wide)
    hdlr = full_box(b"hdlr", 0, 0, bytes(4) + b"pict" + bytes(13))
    return io.BytesIO(FTYP + full_box(b"meta", 0, 0, hdlr + pitm + iprp, wide))


def primaries_read(fp: io.BytesIO) -> int | None:
    found = read_nclx(fp)
    return found and found["color_primaries"]


def test_the_primary_items_colour_box_is_found_in_every_layout() -> None:
    assert read_nclx(heif(1, [ipma(0, 0, [(1, [1, 4])])])) == {
        "color_primaries": 9, "transfer_characteristics": 16, "matrix_coefficients": 6, "full_range_flag": 1
    }  # fmt: skip
    assert primaries_read(heif(2, [ipma(0, 0, [(1, [1, 2]), (2, [1, 3])])])) == 12  # not the first item's
    assert primaries_read(heif(70000, [ipma(1, 1, [(5, [2]), (70000, [1, 4])])], pitm_version=1)) == 9  # wide ids
    assert primaries_read(heif(2, [ipma(0, 0, [(1, [2])]), ipma(0, 0, [(2, [3])])])) == 12  # two ipma boxes
    assert primaries_read(heif(1, [ipma(0, 0, [(1, [9, 3])])])) == 12  # an index past the list is skipped
    assert primaries_read(heif(1, [ipma(0, 0, [(1, [3])])], wide=True)) == 12  # 64-bit sizes
    media = heif(1, [ipma(0, 0, [(1, [4])])]).getvalue()
    assert primaries_read(io.BytesIO(box(b"mdat", bytes(1000)) + media)) == 9  # the media data first
    assert primaries_read(heif(1, [ipma(0, 0, [(2, [3])])])) is None  # only another item has a colour box


def test_an_icc_profile_counts_before_code_points() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    patches([(200, 60, 40)]).save(out, format="AVIF", quality=100, subsampling="4:4:4", icc_profile=icc)
    data = bytearray(out.getvalue())  # libavif writes the profile and code points both: the latter say P3 here
    at = data.find(b"colrnclx") + 8
    data[at : at + 2] = (12).to_bytes(2, "big")
    assert read_nclx(io.BytesIO(data))["color_primaries"] == 12
    assert np.abs(centres(open_rgb(io.BytesIO(data)), 1) - [(200, 60, 40)]).max() <= 3  # read as sRGB


def test_damaged_or_missing_boxes_mean_no_code_points() -> None:
    data = avif_with_code_points(patches([(10, 20, 30)]), primaries=12, transfer=13)
    assert read_nclx(io.BytesIO(b"")) is None
    assert read_nclx(io.BytesIO(b"\x00\x00\x00\x10junk" * 4)) is None
    for cut in (20, 40, data.find(b"colrnclx") + 9):
        assert read_nclx(io.BytesIO(data[:cut])) is None
    assert read_nclx(heif(1, [ipma(0, 0, [(1, [3])])], ipco=False)) is None
    assert read_nclx(io.BytesIO(FTYP + struct.pack(">I4sQ", 1, b"free", 1 << 63) + bytes(8))) is None
    assert read_nclx(io.BytesIO(FTYP + struct.pack(">I4s", 4, b"meta") + bytes(100))) is None
    # a damaged ipma box, or a colour box too short, loses no more than itself
    damaged = bytearray(heif(1, [ipma(0, 0, [(1, [3])]), ipma(0, 0, [(2, [1])])]).getvalue())
    at = damaged.rfind(b"ipma") + 8
    damaged[at : at + 4] = (5).to_bytes(4, "big")  # the second box says five entries, holds one
    assert primaries_read(io.BytesIO(bytes(damaged))) == 12
    short = box(b"colr", b"nclx" + bytes(3))
    assert primaries_read(heif(1, [ipma(0, 0, [(1, [5, 3])])], extra=[short])) == 12
    fp = io.BytesIO(data)
    fp.seek(7)
    read_nclx(fp)
    assert fp.tell() == 7  # the reader's position is kept


def pq_signal(nits: float) -> float:
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def save_heic10(levels: np.ndarray, path: Path, transfer: int, primaries: int = 9, grey: bool = False) -> Path:
    """A 10-bit HEIC of grey signal levels (0..1), one per column, 32 rows: RGB, or a greyscale image."""
    codes = np.round(np.asarray(levels, float) * 1023).astype(np.uint16) << 6  # pillow-heif keeps the top 10 bits
    samples = np.ascontiguousarray(np.broadcast_to(codes[None, :, None], (32, len(codes), 1 if grey else 3)), "<u2")
    heif = pillow_heif.from_bytes(mode="L;16" if grey else "RGB;16", size=(len(codes), 32), data=samples.tobytes())
    heif.save(path, quality=-1, nclx_profile={"color_primaries": primaries, "transfer_characteristics": transfer,
                                              "matrix_coefficients": 9, "full_range_flag": 1})  # fmt: skip
    return path


def test_hdr_heic_stills_are_tone_mapped_as_hdr_video_is(tmp_path: Path) -> None:
    # reference white (HLG 75%, PQ 203 nits) is 81-82% of SDR white's light, as for video (tests/test_hdr.py), here
    # in sRGB's curve: 233; read flat it was 191
    for transfer, signal in ((18, 0.75), (16, pq_signal(203))):
        img = open_rgb(save_heic10(np.full(32, signal), tmp_path / f"{transfer}.heic", transfer))
        assert img.mode == "RGB" and all(abs(v - 233) <= 2 for v in img.getpixel((16, 16))), transfer
    # under the knee the light itself, with sRGB's curve (a still's), not video's gamma 2.4 (97)
    for name, grey in (("rgb", False), ("grey", True)):  # a greyscale HEIC decodes to one 16-bit channel
        mid = open_rgb(save_heic10(np.full(32, pq_signal(20)), tmp_path / f"20_{name}.heic", 16, grey=grey))
        assert all(abs(v - linear_to_srgb(20 / 203)) <= 2 for v in mid.getpixel((16, 16))), name  # 88
    data = (tmp_path / "20_rgb.heic").read_bytes()  # bytes, as the server gets them
    fp = io.BytesIO(data)
    assert abs(open_rgb(fp).getpixel((16, 16))[0] - 88) <= 2
    # a dark ramp keeps the 10-bit file's steps: 512 levels up to ~90 nits give ~170 SDR levels, where an 8-bit
    # decode (128 levels, sparse near black) gives at most 128
    ramp = open_rgb(save_heic10(np.arange(512) / 1023, tmp_path / "ramp.heic", 16)).getchannel("G")
    assert len(np.unique(np.asarray(ramp)[16])) > 140


def children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """Box type -> (box start, box end) for the 32-bit-sized boxes in data[start:end] (as the encoders write)."""
    found = {}
    while start < end:
        size = struct.unpack(">I", data[start : start + 4])[0]
        found[data[start + 4 : start + 8]] = (start, start + size)
        start += size
    return found


def with_property(data: bytes, prop: bytes) -> bytes:
    """A HEIF file (as pillow-heif and Pillow write it: meta before the media data, iloc version 0 with 4-byte
    offsets) with one more property box for its primary item: appended to ipco, associated in ipma, the boxes
    around it grown, and iloc's offsets moved past the bytes added."""
    ms, me = children(data, 0, len(data))[b"meta"]
    meta_boxes = children(data, ms + 12, me)
    ps, pe = meta_boxes[b"iprp"]
    (cs, ce), (as_, ae) = (children(data, ps + 8, pe)[k] for k in (b"ipco", b"ipma"))
    assert data[as_ + 8 : as_ + 12] == bytes(4)  # ipma version 0, 1-byte indexes
    ipco = data[cs:ce] + prop
    primary = int.from_bytes(data[meta_boxes[b"pitm"][0] + 12 : meta_boxes[b"pitm"][0] + 14], "big")
    count, at = struct.unpack(">I", data[as_ + 12 : as_ + 16])[0], as_ + 16
    new_index = len(children(ipco, 8, len(ipco)))  # the appended box, 1-based
    entries = struct.pack(">I", count)
    for _ in range(count):  # each entry as it was (its essential bits kept), the primary's with one index more
        item, n = int.from_bytes(data[at : at + 2], "big"), data[at + 2]
        added = bytes([new_index]) if item == primary else b""
        entries += data[at : at + 2] + bytes([n + len(added)]) + data[at + 3 : at + 3 + n] + added
        at += 3 + n
    iprp = box(b"iprp", box(b"ipco", ipco[8:]) + full_box(b"ipma", 0, 0, entries))
    meta = bytearray(data[ms:ps] + iprp + data[pe:me])
    meta[:4] = len(meta).to_bytes(4, "big")
    moved = len(meta) - (me - ms)
    assert meta_boxes[b"iloc"][0] < ps  # so iloc is where it was in the new meta
    ls = meta_boxes[b"iloc"][0] - ms
    assert meta[ls + 8] == 0 and meta[ls + 12] == 0x44 and meta[ls + 13] in (0, 0x40)  # v0, 4-byte fields
    base = meta[ls + 13] >> 4  # bytes of a base offset (the media at base + extent offset: one of them moves)
    items, at = int.from_bytes(meta[ls + 14 : ls + 16], "big"), ls + 16

    def move(at: int) -> None:
        meta[at : at + 4] = (int.from_bytes(meta[at : at + 4], "big") + moved).to_bytes(4, "big")

    for _ in range(items):
        if base:
            move(at + 4)
        extents, at = int.from_bytes(meta[at + 4 + base : at + 6 + base], "big"), at + 6 + base
        for _ in range(extents):
            if not base:
                move(at)
            at += 8
    return data[:ms] + bytes(meta) + data[me:]


def clli(max_cll: int) -> bytes:
    return box(b"clli", struct.pack(">HH", max_cll, max_cll // 4))


def mdcv(max_nits: float) -> bytes:
    return box(b"mdcv", bytes(16) + struct.pack(">II", int(max_nits * 10000), 50))  # primaries, white, max, min


def test_a_pq_stills_stated_peak_is_what_it_shows_as_white(tmp_path: Path) -> None:
    # 1000 nits is white where the still states no peak (as for video); stated 4000 nits, it is a highlight just
    # below white (the shoulder keeps the top code values for the light above reference white), as tone_map makes
    # it: from the HEIC's 10 bits, and from the AVIF's 8 as Pillow decodes them
    signal = pq_signal(1000)
    heic = save_heic10(np.full(32, signal), tmp_path / "pq.heic", 16).read_bytes()

    def shown(code16: int, peak: float) -> int:
        return int(tone_map(np.full((1, 1, 3), code16, np.uint16), 16, peak_nits=peak, srgb=True)[0, 0, 0])

    code = round(signal * 1023) * 65535 // 1023
    assert shown(code, 1000) == 255 and shown(code, 4000) == 252
    for stated, peak in ((b"", 1000), (clli(4000), 4000), (mdcv(4000), 4000), (clli(100), 1000)):
        data = with_property(heic, stated) if stated else heic
        assert stated_peak(read_properties(io.BytesIO(data))) == peak
        assert open_rgb(io.BytesIO(data)).getpixel((16, 16)) == (shown(code, peak),) * 3, stated
    avif = avif_with_code_points(patches([(round(signal * 255),) * 3]), 9, 16)
    code = open_rgb(io.BytesIO(avif_with_code_points(patches([(round(signal * 255),) * 3]), 1, 1))).getpixel((16, 16))
    assert open_rgb(io.BytesIO(avif)).getpixel((16, 16)) == (255, 255, 255)
    (tmp_path / "pq.avif").write_bytes(with_property(avif, clli(4000)))  # from a path as well as from bytes
    for source in (tmp_path / "pq.avif", io.BytesIO(with_property(avif, clli(4000)))):
        assert open_rgb(source).getpixel((16, 16)) == (shown(code[1] * 257, 4000),) * 3


def test_the_stated_peak_follows_hdr_videos_rule() -> None:
    def peak(indexes: list[int], extra: list[bytes], primary: int = 1) -> float:
        return stated_peak(read_properties(heif(primary, [ipma(0, 0, [(1, indexes)])], extra=extra)))

    assert peak([4, 5, 6], [clli(2000), mdcv(4000)]) == 2000  # the content's light level first
    assert peak([5, 6], [clli(0), mdcv(4000)]) == 4000  # none stated: the mastering display's
    assert peak([5, 6], [clli(9), mdcv(20000)]) == 10000  # under 400 nits: a mistake; PQ's top at most
    assert peak([5, 6], [clli(300), mdcv(99)]) == 1000  # neither believable
    assert peak([5], [clli(4000)], primary=2) == 1000  # another item's
    assert peak([6, 5], [clli(4000), clli(600)]) == 600  # the first of a kind tied to the item counts
    assert peak([5, 6], [box(b"clli", b"\x0f"), clli(600)]) == 600  # a box too short to read is passed over


def test_a_deep_greyscale_heic_in_a_wide_gamut_stays_its_grey(tmp_path: Path) -> None:
    grey = open_rgb(save_heic10(np.full(32, 0.5), tmp_path / "grey.heic", transfer=13, primaries=12, grey=True))
    assert all(abs(v - 128) <= 1 for v in grey.getpixel((16, 16)))  # a gamut leaves grey alone (was clipped: 255)


def test_linear_and_gamma_transfers_are_read_through_their_curves(tmp_path: Path) -> None:
    for transfer, light in ((8, 128 / 255), (4, (128 / 255) ** 2.2), (5, (128 / 255) ** 2.8)):
        img = open_rgb(io.BytesIO(avif_with_code_points(patches([(128, 128, 128)]), 1, transfer)))
        assert abs(img.getpixel((16, 16))[1] - linear_to_srgb(light)) <= 2, transfer  # linear 128 is sRGB's 188


def test_stylize_cli_reads_an_hdr_heic_as_the_sdr_picture_it_shows(tmp_path: Path) -> None:
    from fast_style.cli.stylize import main
    from fast_style.model.network import TransformerNet
    from fast_style.model.style_model import save_style_model

    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    model = save_style_model(net, tmp_path / "m.pt", {})
    levels = np.linspace(0.1, 0.95, 32)  # a ramp (a flat picture is all noise to instance normalisation)
    save_heic10(levels, tmp_path / "IMG_0002.HEIC", 18)
    codes = (np.round(levels * 1023) * 65535 / 1023).round().astype(np.uint16)  # the file's 10 bits, as 16
    shown = tone_map(np.broadcast_to(codes[None, :, None], (32, 32, 3)).copy(), 18, srgb=True)  # test_hdr.py's
    Image.fromarray(shown).save(tmp_path / "sdr.png")
    for name in ("IMG_0002.HEIC", "sdr.png"):
        assert (
            main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / f"out_{Path(name).stem}.png"), "-q"])
            == 0
        )
    with Image.open(tmp_path / "out_IMG_0002.png") as hdr, Image.open(tmp_path / "out_sdr.png") as sdr:
        assert "icc_profile" not in hdr.info  # sRGB, said by saying nothing
        assert np.abs(np.asarray(hdr, float) - np.asarray(sdr, float)).max() <= 3


def test_an_animated_display_p3_avif_has_every_frame_read_in_srgb(tmp_path: Path) -> None:
    """An animation's frames are read as its first frame is as a still (they were taken as sRGB numbers: off by
    up to 20 levels, and an HDR clip's PQ code values were stylized as they were)."""
    from fast_style.media.animation import read_frames

    p3 = [as_p3(c) for c in SRGB_COLOURS]
    out = io.BytesIO()
    frames = [patches(p3), patches(p3[::-1])]
    frames[0].save(out, format="AVIF", save_all=True, append_images=frames[1:], duration=80, quality=100)
    data = bytearray(out.getvalue())
    at = -1
    while (at := data.find(b"colrnclx", at + 1)) >= 0:  # the still's box and the track's
        data[at + 8 : at + 12] = (12).to_bytes(2, "big") + (13).to_bytes(2, "big")
    (tmp_path / "p3.avif").write_bytes(data)
    read, _, _ = read_frames(tmp_path / "p3.avif")
    assert len(read) == 2
    assert np.abs(centres(read[0], 4) - np.array(SRGB_COLOURS)).max() <= 4
    assert np.abs(centres(read[1], 4) - np.array(SRGB_COLOURS[::-1])).max() <= 4


def png_with_chunks(img: Image.Image, chunks: list[tuple[bytes, bytes]], **save) -> bytes:
    """`img` as a PNG with these chunks after its header (Pillow writes no cICP, cLLI or mDCV)."""
    out = io.BytesIO()
    img.save(out, format="PNG", **save)
    data = out.getvalue()
    extra = b"".join(
        struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        for kind, payload in chunks
    )
    return data[:33] + extra + data[33:]  # (the signature and IHDR: 8 + 25 bytes)


def test_an_hdr_png_is_tone_mapped_by_its_cicp_chunk(tmp_path: Path) -> None:
    """A PNG's cICP (BT.2020 PQ or HLG: an HDR screenshot, an encoder's HDR still) was read as sRGB numbers,
    washed out without a word; it counts before an ICC profile beside it, as the PNG standard says."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for transfer, signal in ((18, 0.75), (16, pq_signal(203))):
        grey = Image.new("RGB", (8, 8), (round(signal * 255),) * 3)
        for extra in ({}, {"icc_profile": srgb}):
            data = png_with_chunks(grey, [(b"cICP", bytes([9, transfer, 0, 1]))], **extra)
            (tmp_path / "hdr.png").write_bytes(data)
            for source in (tmp_path / "hdr.png", io.BytesIO(data)):
                got = open_rgb(source).getpixel((4, 4))
                assert all(abs(v - 233) <= 3 for v in got), (transfer, extra, got)  # read flat: 148 or 191
    # a PQ picture's white is its stated content light level (cLLI, 0.0001 nits): 400 nits' white is darker
    bright = Image.new("RGB", (8, 8), (round(pq_signal(203) * 255),) * 3)
    cicp = (b"cICP", bytes([9, 16, 0, 1]))
    plain = open_rgb(io.BytesIO(png_with_chunks(bright, [cicp]))).getpixel((4, 4))[0]
    stated = open_rgb(io.BytesIO(png_with_chunks(bright, [cicp, (b"cLLI", struct.pack(">II", 4_000_000, 0))])))
    assert stated.getpixel((4, 4))[0] != plain
    # sRGB's own code points count before a profile too (it was applied: (200, 100, 50) read as (46, 201, 100))
    from .icc_profiles import rgb_profile

    swapped = rgb_profile("green", "blue", "red")
    tagged = png_with_chunks(
        Image.new("RGB", (8, 8), (200, 100, 50)), [(b"cICP", bytes([1, 13, 0, 1]))], icc_profile=swapped
    )
    assert open_rgb(io.BytesIO(tagged)).getpixel((4, 4)) == (200, 100, 50)
    # sRGB's own code points, or damaged chunks: read as they are
    for chunks in ([(b"cICP", bytes([1, 13, 0, 1]))], [(b"cICP", b"\x09")]):
        assert open_rgb(io.BytesIO(png_with_chunks(bright, chunks))).getpixel((4, 4))[0] == round(pq_signal(203) * 255)


def test_a_stylizer_reads_an_opened_image_colours_as_its_path(tmp_path: Path) -> None:
    """`stylizer(Image.open(p))` took an HDR PNG's cICP (an AVIF's code points too) as sRGB numbers where
    `stylizer(p)` and the command line read them (109 levels apart: washed out); the caller's image keeps its info."""
    from fast_style.inference.stylizer import Stylizer
    from fast_style.model.network import TransformerNet

    from .icc_profiles import rgb_profile

    torch.manual_seed(0)
    s = Stylizer(TransformerNet(channels=(4, 8, 8), num_residual=1), "cpu", "fp32")
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), np.uint8))
    # HLG; and sRGB's own code points beside a profile that would swap the channels
    for cicp, extra in (
        (bytes([9, 18, 0, 1]), {}),
        (bytes([1, 13, 0, 1]), {"icc_profile": rgb_profile("green", "blue", "red")}),
    ):
        data = png_with_chunks(photo, [(b"cICP", cicp)], **extra)
        (tmp_path / "coded.png").write_bytes(data)
        want = np.asarray(s(tmp_path / "coded.png"))
        opened = Image.open(tmp_path / "coded.png")
        info = dict(opened.info)
        for _ in range(2):  # (loaded the second time)
            assert np.array_equal(np.asarray(s(opened)), want), cicp
        assert opened.info == info  # (its profile had been dropped from it)
    # an HDR HEIC is read from its own pixels: one made smaller since it was opened stays so (not the file's decode)
    heic = Image.open(save_heic10(np.linspace(0, 1, 32), tmp_path / "hlg.heic", 18))
    heic.thumbnail((16, 16))
    assert s(heic).size == (16, 16)
