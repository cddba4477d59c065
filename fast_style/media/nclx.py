"""Stills whose colour is stated as code points instead of an ICC profile: an `nclx` colour box (ITU-T H.273
primaries, transfer characteristics, matrix), as HEIC and AVIF photos may carry it. A phone's Display P3 photo,
a camera's BT.2020 HLG or PQ still (an "HDR HEIF"), read as plain numbers, come out dull or washed out; here
they are converted to sRGB, the colours the networks learnt from.

pi-heif reports a HEIC's box as `info["nclx_profile"]`; Pillow's AVIF reader does not, so `read_properties` finds
the primary image's box in the file (ISO BMFF boxes: meta > iprp > ipco, tied to the item by ipma), and with it a
PQ still's content light level and mastering display (clli, mdcv), which neither reader reports. The conversion:
PQ and HLG go through `hdr.tone_map` (as HDR video does: PQ's stated peak, else 1000 nits, shown as white); SDR
transfers in a wider gamut (P3, BT.2020) are converted to BT.709/sRGB primaries in linear light, out-of-gamut
colours clipped, the tone curve kept. Code points for BT.709 primaries (sRGB's) and an SDR transfer need nothing;
cinema's DCI-P3 (11, another white) is left as it is. A file with an ICC profile as well is read through the
profile (fast_style.media.icc).
"""

from __future__ import annotations

import contextlib
import functools
import os
import struct
from typing import BinaryIO

import numpy as np
import torch
from pi_heif import open_heif
from PIL import Image

from fast_style.media import hdr

LINEAR, GAMMA22, GAMMA28 = 8, 4, 5  # H.273 transfer characteristics with their own curves (others: sRGB's)
_MAX_META = 1 << 24  # bytes: a meta box larger than this is not read (a damaged or hostile file)


def nclx_of(img: Image.Image) -> dict | None:
    """The code points an image states, as pi-heif's dict (`color_primaries`, `transfer_characteristics`, ...),
    or None."""
    nclx = img.info.get("nclx_profile")
    return nclx if isinstance(nclx, dict) and "color_primaries" in nclx else None


def needs_conversion(nclx: dict) -> bool:
    """Whether pixels with these code points differ from sRGB: an HDR transfer, a gamut other than BT.709's,
    or a linear or pure-gamma curve."""
    transfer = nclx.get("transfer_characteristics")
    return is_hdr(nclx) or transfer in (LINEAR, GAMMA22, GAMMA28) or nclx.get("color_primaries") in (hdr.BT2020, hdr.P3)


def is_hdr(nclx: dict) -> bool:
    return nclx.get("transfer_characteristics") in hdr.TRANSFERS


def to_srgb(rgb: Image.Image, nclx: dict, rgb16: np.ndarray | None = None, peak_nits: float = hdr.PEAK) -> Image.Image:
    """An RGB image whose colours follow `nclx` -> the same picture in sRGB. `rgb16`: the (H, W, 3) uint16
    decode of an HDR picture, where the decoder gave one (8 bits loses the shadows' steps of a PQ signal);
    otherwise the 8-bit pixels are used. HDR is tone-mapped as for video but encoded with sRGB's curve (an SDR
    still's), not BT.1886's gamma 2.4; `peak_nits`: the light a PQ still shows as white (`stated_peak`)."""
    primaries, transfer = nclx.get("color_primaries"), nclx.get("transfer_characteristics")
    if is_hdr(nclx):
        codes = rgb16 if rgb16 is not None else np.asarray(rgb, np.uint16) * 257
        return Image.fromarray(hdr.tone_map(codes, transfer, primaries, peak_nits, srgb=True))
    codes = torch.from_numpy(np.array(rgb)).int()
    light = _decode_table(transfer)[codes]  # (H, W, 3) linear light
    if primaries in (hdr.BT2020, hdr.P3):
        light = light @ torch.tensor(hdr.to_bt709(primaries)).T
    return Image.fromarray(hdr.encode_srgb(light).numpy())


@functools.cache
def _decode_table(transfer: int) -> torch.Tensor:
    """Each 8-bit code value as linear light under an SDR transfer: its own curve where it has one, else sRGB's
    (sRGB, BT.709 and the rest: only the gamut changes, the picture's tone is kept)."""
    v = np.arange(256, dtype=np.float64) / 255
    if transfer == LINEAR:
        table = v
    elif transfer in (GAMMA22, GAMMA28):
        table = v ** (2.2 if transfer == GAMMA22 else 2.8)
    else:
        table = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return torch.from_numpy(table).float()


def read_properties(fp: BinaryIO) -> dict[bytes, bytes]:
    """The properties of a HEIF file's (HEIC's, AVIF's) primary image that say how to read its colour, as their
    boxes' payloads: `b"nclx"` (a colr box's code points), `b"clli"` (content light level) and `b"mdcv"`
    (mastering display), the first of each; {} where it has none or the boxes are damaged. Reads only the boxes
    before the meta box's end; the position is kept."""
    at = fp.tell()
    try:
        fp.seek(0)
        meta = _meta_box(fp)
        return _primary_properties(meta) if meta else {}
    except (IndexError, KeyError, ValueError, OverflowError, OSError, struct.error):
        return {}
    finally:
        fp.seek(at)


def read_png_properties(fp: BinaryIO) -> dict[bytes, bytes]:
    """A PNG's colour chunks (its third edition's: Pillow reads none of them) in `read_properties`' form: `cICP`'s
    code points as an nclx payload, `cLLI`'s content light level as a clli payload (nits), `mDCV` as the mdcv
    payload it matches byte for byte; {} where it has none or is damaged. Reads the chunks before the pixels; the
    position is kept (an HDR PNG's PQ code values were read as sRGB: washed out, without a word)."""
    at = fp.tell()
    found: dict[bytes, bytes] = {}
    try:
        fp.seek(0)
        if fp.read(8) != b"\x89PNG\r\n\x1a\n":
            return {}
        while len(head := fp.read(8)) == 8:
            size, kind = struct.unpack(">I4s", head)
            if kind in (b"IDAT", b"IEND"):
                break
            if kind in (b"cICP", b"cLLI", b"mDCV") and size <= 64:
                data = fp.read(size)
                fp.seek(4, 1)  # (its checksum)
                if kind == b"cICP" and size == 4:
                    found[b"nclx"] = struct.pack(">HHHB", data[0], data[1], data[2], data[3] << 7)
                elif kind == b"cLLI" and size == 8:  # 0.0001 nits
                    found[b"clli"] = struct.pack(
                        ">HH", *(min(65535, round(v / 10000)) for v in struct.unpack(">II", data))
                    )
                elif kind == b"mDCV" and size == 24:
                    found[b"mdcv"] = data
            else:
                fp.seek(size + 4, 1)
        return found
    except (ValueError, OverflowError, OSError, struct.error):
        return {}
    finally:
        fp.seek(at)


def code_points(properties: dict[bytes, bytes]) -> dict | None:
    """The nclx code points among `read_properties`' answer, as pi-heif's dict, or None."""
    if len(box := properties.get(b"nclx", b"")) < 7:
        return None
    primaries, transfer, matrix = struct.unpack(">HHH", box[:6])
    return {
        "color_primaries": primaries,
        "transfer_characteristics": transfer,
        "matrix_coefficients": matrix,
        "full_range_flag": box[6] >> 7,
    }


def stated_peak(properties: dict[bytes, bytes]) -> float:
    """The nits a PQ still's white stands for, from `read_properties`' answer: its content light level
    (MaxCLL), else its mastering display's peak, else `hdr.PEAK`, by the rule HDR video follows
    (`hdr.stated_peak`)."""
    stated = []
    if len(clli := properties.get(b"clli", b"")) >= 4:
        stated.append(struct.unpack(">H", clli[:2])[0])  # max_content_light_level, nits
    if len(mdcv := properties.get(b"mdcv", b"")) >= 24:
        stated.append(struct.unpack(">I", mdcv[16:20])[0] / 10000)  # max mastering luminance, 0.0001 nits
    return hdr.stated_peak(stated)


def _meta_box(fp: BinaryIO) -> bytes | None:
    """The payload of the file's top-level meta box (skipping the others, media data included)."""
    while len(head := fp.read(8)) == 8:
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", fp.read(8))[0], 16
        if size and size < header:  # damaged
            return None
        if kind == b"meta":
            return fp.read(min(size - header if size else _MAX_META, _MAX_META))
        if not size:  # to the end of the file: no meta box after it
            return None
        fp.seek(size - header, 1)
    return None


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    found = []
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        elif size == 0:
            size = end - start
        if size < header:
            break
        found.append((kind, start + header, min(start + size, end)))
        start += size
    return found


_SHORTEST = {b"nclx": 7, b"clli": 4, b"mdcv": 24}  # payload bytes each needs (a shorter box is skipped)


def _primary_properties(meta: bytes) -> dict[bytes, bytes]:
    children = {kind: (s, e) for kind, s, e in _boxes(meta, 4, len(meta))}  # meta is a full box: 4 bytes first
    s, _ = children[b"pitm"]
    primary = int.from_bytes(meta[s + 4 : s + (6 if meta[s] == 0 else 8)], "big")
    iprp = _boxes(meta, *children[b"iprp"])
    properties = next((_boxes(meta, s, e) for kind, s, e in iprp if kind == b"ipco"), [])
    found: dict[bytes, bytes] = {}
    for index in (i for kind, s, e in iprp if kind == b"ipma" for i in _indexes(meta, s, e, primary)):
        if not 0 < index <= len(properties):
            continue
        box, bs, be = properties[index - 1]
        if box == b"colr" and meta[bs : bs + 4] == b"nclx":
            box, bs = b"nclx", bs + 4
        if box in _SHORTEST and be - bs >= _SHORTEST[box]:
            found.setdefault(box, meta[bs:be])
    return found


def _indexes(meta: bytes, s: int, e: int, item: int) -> list[int]:
    """The 1-based ipco indexes an ipma box (payload meta[s:e]) ties to `item`, in its order; entries are read up
    to the box's end (an overstated count reads no further: other ipma boxes are still read)."""
    version, wide_index = meta[s], meta[s + 3] & 1
    id_bytes, index_bytes = (2 if version < 1 else 4), (2 if wide_index else 1)
    count, p = int.from_bytes(meta[s + 4 : s + 8], "big"), s + 8
    for _ in range(count):
        if p + id_bytes + 1 > e:
            break
        entry, n = int.from_bytes(meta[p : p + id_bytes], "big"), meta[p + id_bytes]
        p += id_bytes + 1
        if entry == item:
            mask = 0x7FFF if wide_index else 0x7F  # the top bit marks an essential property
            return [
                int.from_bytes(meta[q : q + index_bytes], "big") & mask
                for q in range(p, p + n * index_bytes, index_bytes)
            ]
        p += n * index_bytes
    return []


def coded_colour(img: Image.Image, source: str | os.PathLike | BinaryIO) -> tuple[dict, float] | None:
    """The nclx code points of a HEIC, AVIF or PNG (a still, or every frame of an animation) where they call for a
    conversion to sRGB, with the white of a PQ picture (its stated peak); None for other pictures. In a HEIC or
    AVIF an ICC profile, where there is one, is what counts (as pi-heif reports it); in a PNG its cICP chunk
    counts before its profile, as the PNG standard has it (the profile is then dropped from `img.info`)."""
    if img.info.get("icc_profile") and img.format != "PNG":
        return None

    def from_the_file() -> dict[bytes, bytes]:
        with open(source, "rb") if isinstance(source, (str, os.PathLike)) else contextlib.nullcontext(source) as fp:
            return read_png_properties(fp) if img.format == "PNG" else read_properties(fp)

    # Pillow reports neither an AVIF's nclx nor a PNG's cICP
    properties = from_the_file() if img.format in ("AVIF", "PNG") else None
    if properties and (found := code_points(properties)):
        img.info["nclx_profile"] = found
        if img.format == "PNG":  # its cICP states the colour, sRGB's too: a profile beside it is not applied
            img.info.pop("icc_profile", None)
    coded = nclx_of(img)
    if coded is None or not needs_conversion(coded):
        return None
    peak = hdr.PEAK
    if coded.get("transfer_characteristics") == hdr.PQ:
        peak = stated_peak(from_the_file() if properties is None else properties)
    return coded, peak


def heif_16bit(fp: BinaryIO, bits: int) -> np.ndarray:
    """A HEIC's first image decoded at its full depth: (H, W, 3) uint16 over 0..65535 (grey: three equal
    channels)."""
    heif = open_heif(fp, convert_hdr_to_8bit=False)  # kept: the array below is a view of its buffer
    samples = np.asarray(heif)
    samples = (samples[..., None] if samples.ndim == 2 else samples)[..., :3] >> (16 - bits)  # pi-heif: top bits
    spread = (np.arange(1 << bits, dtype=np.uint32) * 65535 // ((1 << bits) - 1)).astype(np.uint16)  # over 0..65535
    return np.ascontiguousarray(np.broadcast_to(spread[samples], (*samples.shape[:2], 3)))
