"""Images in and out: decoding (EXIF orientation, alpha, 16-bit, colours into sRGB through their ICC profile,
fast_style/media/icc.py, or their nclx code points, fast_style/media/nclx.py), and saving with the source's EXIF
(tensors: fast_style/media/pixels.py)."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from numbers import Real
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from pi_heif import register_heif_opener
from PIL import Image, ImageOps, UnidentifiedImageError

from fast_style.atomic import atomic_write
from fast_style.errors import EMPTY_FILE, UserError, first_line, option_note, out_of_memory
from fast_style.file_kinds import IMAGE_EXTENSIONS, IMAGE_OUTPUTS, a_torch_file, cut_short, export_kind, is_video
from fast_style.media import icc, nclx
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit, pillow_pixel_limit
from fast_style.media.pixels import pil_to_tensor, to_unit
from fast_style.walk import files_below

OVER_LIMIT = "is over the limit of"  # why an image with more pixels than allowed is not read (open_rgb)


class BeyondColours(ValueError):
    """A picture whose values are no colours this package reads (a 32-bit integer one's over 65535, a float one's
    HDR values): said as it is, not as a damaged file (fast-style-serve had answered "damaged", or a 500)."""


register_heif_opener()  # Pillow opens HEIC/HEIF (pi-heif)
log = logging.getLogger(__name__)
JPEG_XMP_BYTES = 65504 - 29  # a JPEG segment, less the XMP namespace that starts it
JPEG_EXIF_BYTES = 65533  # a JPEG segment, less its length (Pillow's limit for the "Exif" block)
# what Pillow's readers raise for a damaged or cut-short file besides OSError: AVIF's RuntimeError and SyntaxError,
# the GIF reader's IndexError, EOFError and struct.error from header parsers, zlib's error
_DAMAGED = (SyntaxError, IndexError, RuntimeError, EOFError, struct.error, zlib.error)


@contextlib.contextmanager
def decoding() -> Iterator[None]:
    """Pillow's other errors for a damaged file raised as ValueError, which every reader of pictures catches and
    reports in one line (a cut-short AVIF or GIF stopped a folder's run with a traceback)."""
    try:
        yield
    except _DAMAGED as e:
        if out_of_memory(e):  # (a huge picture's allocation, not a damaged file)
            raise
        raise ValueError(f"damaged or cut short ({first_line(e, 120)})") from e


def unreadable_because(path: object, error: BaseException, limit: int = 200) -> str:
    """Why a picture could not be read, in one line: "an empty file (0 bytes)" for one (a copy or download that
    failed, a placeholder; Pillow says "cannot identify image file"), "a PyTorch file ..., not a picture" for a
    style model, weights or a checkpoint given where a picture goes (fast-style-optimize -s wave.pt), "the file ends
    early" for a cut-short one (Pillow said "Truncated File Read"), else the error's first line."""
    try:
        empty = isinstance(path, (str, Path)) and os.path.isfile(path) and os.stat(path).st_size == 0
    except (OSError, ValueError):
        empty = False
    if empty:
        return EMPTY_FILE
    if isinstance(path, (str, Path)) and a_torch_file(path):
        return "a PyTorch file (a style model, weights or a checkpoint), not a picture: give an image file"
    # a clip or an export given where a picture goes (fast-style-optimize clip.mp4, -s wave.onnx): "cannot identify
    # image file"
    if isinstance(path, (str, Path)) and isinstance(error, UnidentifiedImageError):
        if export := export_kind(Path(path)):
            return f"{export} export (fast-style-export's), not a picture: give an image file"
        if is_video(Path(path)):
            return f"{Path(path).suffix} is a video's extension, not a picture's: give an image file (a frame of it)"
    said = first_line(error, limit)
    if ends_early(error) or (isinstance(path, (str, Path)) and isinstance(error, OSError) and cut_short(path)):
        return "the file ends early (an unfinished copy or download?): copy it again"
    return said


def ends_early(error: BaseException) -> bool:
    """Whether Pillow's `error` says the picture's file ends early (a copy or download cut short)."""
    return re.search(r"truncated|Truncated File Read", first_line(error, 200)) is not None


@contextlib.contextmanager
def reading(path: object) -> Iterator[None]:
    """A file Pillow cannot read, in one line: UserError "cannot read PATH: ..." for a missing file, a folder, a
    damaged picture or one over Pillow's guard against decompression bombs (its own message names a DOS attack)."""
    try:
        yield
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path}: {unreadable_because(path, e)}") from None
    except BOMB:
        raise UserError(f"cannot read {path}: {over_the_bomb_limit()}") from None


def read_image(
    path: str | Path | BinaryIO, draft_size: int | None = None, max_pixels: int | None = None
) -> Image.Image:
    """Open and decode an image with its EXIF orientation applied, keeping its mode (and alpha).

    `draft_size` lets JPEG decode at a reduced scale that still covers that many pixels on the short
    side, which is several times faster for training crops far smaller than the photo. Images with more
    than `max_pixels` pixels are refused before they are decoded (decompression bombs).
    """
    with decoding(), _own_limit(max_pixels), Image.open(path) as img:
        if max_pixels and img.width * img.height > max_pixels:
            raise ValueError(f"{img.width}x{img.height} {OVER_LIMIT} {max_pixels} pixels")
        if img.format == "PNG" and img.info.get("default_image") and getattr(img, "is_animated", False):
            img.seek(1)  # an APNG's first frame (its frame 0 is a still for viewers without APNG, hidden in others)
        if (key := key_as_read(img)) is not None:
            img.info["transparency"] = key
        if draft_size and img.format in ("JPEG", "MPO"):  # (a camera's JPEG with its preview after it: an MPO)
            w, h = img.size
            k = max(1, min(w, h) // draft_size)
            img.draft(img.mode, (w // k, h // k))
        # a TIFF is turned upright by Pillow as it is loaded, its resolution not swapped with its sides (`upright`)
        turned = img.format == "TIFF" and _orientation(img) in (5, 6, 7, 8)
        if turned:  # not memory-mapped: Pillow maps an uncompressed grey, 16-bit, palette or RGBA TIFF's one strip
            img.filename = ""  # as if it were its turned size (the picture came out scrambled)
        late = said_after_frames(img)  # an APNG's EXIF and texts after its frames: its orientation, camera and
        img.load()  # copyright were lost
        img.info = {**late, **img.info}
        if turned and isinstance(dpi := img.info.get("dpi"), tuple) and len(dpi) == 2:
            img.info["dpi"] = dpi[::-1]
        if img.format == "TIFF" and "exif" not in img.info and (block := _tiff_exif(img)):
            img.info["exif"] = block  # as other formats give theirs: kept_metadata copies it
        if img.format == "TIFF" and 282 not in getattr(img, "tag_v2", {}):  # no XResolution: Pillow says 1 dpi,
            img.info.pop("dpi", None)  # which its stylized copy stated (a 32 px picture printed 32 inches wide)
        # (an MPO is a camera's JPEG with its preview or a phone's gain map after it: Pillow's 72 said in its copy)
        if img.format in ("JPEG", "MPO") and img.info.get("jfif_unit") not in (1, 2) and "dpi" in img.info:
            _exif_resolution(img)
        elif "dpi" not in img.info and img.info.get("exif"):  # a WebP's, AVIF's, HEIC's, or a PNG's without pHYs:
            _exif_resolution(img)  # its EXIF's (kept as it was in a scaled copy: a halved photo said 300 dpi still)
        if "nclx_profile" not in img.info and (stated := icc.stated_profile(img)):  # a camera's Adobe RGB JPEG
            img.info["icc_profile"] = stated  # without a profile, read as sRGB numbers: as if it had embedded one
        if texts := png_texts(img):  # (kept_metadata's; told from the rest while it is a PNG to Pillow)
            img.info[_PNG_TEXTS] = texts
        return upright(_coded_colour_to_srgb(img, path))


def said_after_frames(img: Image.Image) -> dict:
    """What an animated PNG says after its first frame's pixels: its EXIF chunk (as Pillow gives an EXIF block,
    under "exif") and its text chunks (tEXt, zTXt, iTXt: its copyright, author...), as Pillow gives them in `info`
    once every frame is read, and only then (its first frame, or the frames read in order, were not turned upright,
    and a still copy lost them). Read from the file's chunks, its frames not decoded; {} for another picture, one
    whose file cannot be walked, or what is said before its pixels (Pillow gives that). The file's position is
    kept."""
    fp = getattr(img, "fp", None)
    if img.format != "PNG" or fp is None or not getattr(img, "is_animated", False):
        return {}
    from PIL.PngImagePlugin import PngStream

    try:
        at = fp.tell()
    except (OSError, ValueError):
        return {}
    stream, pixels = PngStream(fp), False
    try:
        fp.seek(8)  # (the signature)
        while len(head := fp.read(8)) == 8:
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                break
            if pixels and kind in (b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
                stream.call(kind, fp.tell(), length)  # (Pillow's own reading of the chunk, into its `im_info`)
                fp.seek(4, os.SEEK_CUR)  # its CRC
                continue
            pixels = pixels or kind in (b"IDAT", b"fdAT")
            fp.seek(length + 4, os.SEEK_CUR)  # its data and CRC
    except Exception:  # (cut short, damaged: what was read before)
        pass
    finally:
        fp.seek(at)
    return dict(stream.im_info)


# a TIFF's own tags that are a photo's EXIF (IFD0's description, camera, date, author), beside its EXIF and GPS IFDs
_TIFF_EXIF_TAGS = (0x010E, 0x010F, 0x0110, 0x0112, 0x0131, 0x0132, 0x013B, 0x8298)


def _tiff_exif(img: Image.Image) -> bytes | None:
    """The EXIF a TIFF holds among its tags (Pillow gives none in `info`: a stylized copy lost its camera and date),
    as an EXIF block; None where it holds none or it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tags = img.getexif()
            exif = Image.Exif()
            for tag in _TIFF_EXIF_TAGS:
                if tag in tags:
                    exif[tag] = tags[tag]
            for ifd in (0x8769, 0x8825):  # EXIF, GPS
                if found := tags.get_ifd(ifd):
                    exif.get_ifd(ifd).update(found)
            if not (len(exif) or exif.get_ifd(0x8769) or exif.get_ifd(0x8825)):
                return None
            _texts_as_read(exif)
            return exif.tobytes()
    except Exception:
        return None


def _exif_resolution(img: Image.Image) -> None:
    """A JPEG's resolution where its JFIF header states none, from its EXIF as the EXIF says it: Pillow takes 72 dpi
    where the EXIF has none or no unit (whose default is inches), and its XResolution across and down; that is
    what a stylized copy said. Left out where the EXIF states none (or no absolute unit). Another picture's where
    its format states none (`_resolution` then scales it, and kept_metadata the EXIF's, with the pixels)."""
    img.info.pop("dpi", None)
    try:
        with warnings.catch_warnings(action="ignore"):
            exif = img.getexif()
            x, unit = exif.get(0x011A), exif.get(0x0128, 2)
            dpi = tuple(float(d) * (2.54 if unit == 3 else 1.0) for d in (x, exif.get(0x011B, x)))
    except Exception:  # (none, or not a number)
        return
    if unit in (2, 3) and all(0 < d < math.inf for d in dpi):
        img.info["dpi"] = dpi


def page_count(path: str | Path) -> int:
    """The pages of a multi-page TIFF (a scan of several sheets, a fax), of which read_image reads the first; 1 for
    any other picture."""
    try:
        # (Pillow's "Corrupt EXIF data" of a damaged later page: said below)
        with warnings.catch_warnings(action="ignore"), decoding(), Image.open(path) as img:
            return getattr(img, "n_frames", 1) if img.format == "TIFF" else 1
    except Exception:  # a later page damaged (Pillow's TypeError "Missing dimensions"): the first was read all the same
        return 1


def has_transparency(path: str | Path) -> bool:
    """Whether a picture may have see-through pixels: a mode with alpha, or a colour key (a GIF's, a PNG's tRNS);
    False for one that cannot be read (reading it will say why)."""
    try:
        with warnings.catch_warnings(action="ignore"), decoding(), Image.open(path) as img:
            return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    except Exception:
        return False


def key_as_read(img: Image.Image) -> object:
    """A PNG's colour key on the scale Pillow gives its pixels, before it is loaded (its tile says): a 2- or 4-bit
    grey PNG's on the 0..255 scale (Pillow leaves the key as stored: 3 of 0..3 never matched 255, and the picture
    came out opaque), a 16-bit colour PNG's as its high bytes (its pixels are given by their high bytes, and the
    key was matched by its low bytes: pixels of another colour came out see-through, those of the key's opaque).
    None where it needs no change (or is not known: loaded already, `split_alpha` reads a 16-bit one's key).
    read_image and a Stylizer given `Image.open`'s image both read the key so."""
    key = img.info.get("transparency")
    if img.format != "PNG" or img.mode not in ("L", "RGB") or not img.tile:
        return None
    raw = img.tile[0][3]
    raw = raw if isinstance(raw, str) else raw[0]
    if img.mode == "RGB" and raw == "RGB;16B" and isinstance(key, tuple) and len(key) == 3:
        return tuple(k >> 8 for k in key)
    if img.mode == "L" and isinstance(key, int) and (bits := {"L;2": 2, "L;4": 4}.get(raw)):
        return key * (255 // (2**bits - 1))
    return None


@contextlib.contextmanager
def _own_limit(max_pixels: int | None) -> Iterator[None]:
    """Where a caller gives its own pixel limit (data.max_image_pixels), Pillow's is lifted while the header is
    read: a limit above Pillow's 89 megapixels had those photos skipped all the same."""
    if not max_pixels:
        yield
        return
    with pillow_pixel_limit(None):
        yield


def upright(img: Image.Image) -> Image.Image:
    """`img` turned as its EXIF orientation says (a phone's portrait photo is stored on its side), the tag then
    cleared, its resolution across and down swapped where it was turned a quarter (a fax's 204x196 dpi); as it is
    where there is none."""
    if (orientation := img.getexif().get(0x0112, 1)) == 1:
        return img
    turned = ImageOps.exif_transpose(img, in_place=False)
    if orientation in (5, 6, 7, 8) and isinstance(dpi := turned.info.get("dpi"), tuple) and len(dpi) == 2:
        turned.info["dpi"] = dpi[::-1]
    if isinstance(raw := img.info.get("exif"), bytes) and isinstance(turned.info.get("exif"), bytes):
        with contextlib.suppress(Exception), warnings.catch_warnings(action="ignore"):  # (damaged: Pillow's, kept)
            exif = Image.Exif()  # its block without the tag written again from the photo's (Pillow's had "?" for
            exif.load(raw)  # each byte of its text beyond ASCII: `_texts_as_read`)
            _texts_as_read(exif)
            del exif[0x0112]
            turned.info["exif"] = exif.tobytes()
    return turned


def _coded_colour_to_srgb(img: Image.Image, source: str | os.PathLike | BinaryIO) -> Image.Image:
    """A HEIC or AVIF still whose colour is stated as nclx code points (fast_style.media.nclx) and not by an ICC
    profile (a profile, where there is one, is what counts, as pi-heif reports it), converted to sRGB (RGB, or
    RGBA with its alpha); other images as they are. An HDR (PQ or HLG) HEIC is decoded again at its 10 or 12
    bits for it (Pillow holds 8 bits a channel); a PQ still's white is its stated peak (`nclx.stated_peak`)."""
    if (stated := nclx.coded_colour(img, source)) is None:
        return img
    coded, peak = stated
    rgb16 = None
    if img.format == "HEIF" and nclx.is_hdr(coded) and img.info.get("bit_depth", 8) > 8:
        with open(source, "rb") if isinstance(source, (str, os.PathLike)) else _rewound(source) as fp:
            rgb16 = nclx.heif_16bit(fp, img.info["bit_depth"])
    converted = in_srgb(img, stated, rgb16)
    converted.info = {k: v for k, v in img.info.items() if k not in ("nclx_profile", "icc_profile")}
    return converted


def opened_in_srgb(img: Image.Image, source: str | os.PathLike) -> Image.Image:
    """A loaded image from `Image.open(source)` with its nclx code points read as `read_image` reads them from
    `source` (an HDR PNG's cICP, an AVIF's P3 had been taken as sRGB numbers), from its own 8-bit pixels (an HDR
    HEIC's deeper decode of the file would undo a change made since: a thumbnail came out at the file's size); the
    caller's image is left as it was (its profile and info). Where `source` cannot be read again (a file removed
    since), the image as it is."""
    info = dict(img.info)
    try:
        with decoding():
            stated = nclx.coded_colour(img, source)
            read = img if stated is None else in_srgb(img, stated)
    except OSError:
        return img
    finally:
        said, img.info = img.info, info
    if read is not img:
        read.info = {k: v for k, v in said.items() if k not in ("nclx_profile", "icc_profile")}
    elif said != info:  # its cICP states sRGB: a profile beside it is not applied
        read = img.copy()
        read.info = said
    elif "nclx_profile" not in info and (stated := icc.stated_profile(img)):  # Adobe RGB by its EXIF (read_image)
        read = img.copy()
        read.info = {**info, "icc_profile": stated}
    return read


def in_srgb(img: Image.Image, coded: tuple[dict, float] | None = None, rgb16: np.ndarray | None = None) -> Image.Image:
    """Any picture of any Pillow mode as sRGB, RGB or RGBA where it has alpha, as a still is read (its profile, a
    16-bit or float grey's range, a palette's, its colour key; `coded`: its nclx code points, from
    `coded_colour`). An animation's frames are read through it too (they had been converted by Pillow alone: a
    16-bit grey clipped white, an AVIF's P3 or PQ frames not converted, a grey profile left out)."""
    rgb, alpha = split_alpha(img)  # 8-bit RGB: a 16-bit grey scaled, not clipped
    if coded is not None:
        rgb = nclx.to_srgb(rgb, coded[0], rgb16, coded[1])
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


@contextlib.contextmanager
def _rewound(fp: BinaryIO):
    """A stream read again from its start, its position put back after."""
    at = fp.tell()
    fp.seek(0)
    try:
        yield fp
    finally:
        fp.seek(at)


def split_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Any Pillow mode -> (RGB image, alpha channel or None)."""
    alpha = None
    if img.mode == "1" and "transparency" in img.info:  # a 1-bit PNG's key: as grey's below (it came out opaque)
        img = img.convert("L")
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # 16/32-bit greyscale: scale to 8 bits rather than let convert() clip at 255; float (mode F, as HDR and
        # scientific TIFFs store it) in 0..1 is scaled from 1. Its colour key (a 16-bit PNG's tRNS) is read before
        # (it was lost), its grey profile kept for to_srgb (it was ignored)
        arr = np.asarray(img, dtype=np.float64)
        key = img.info.get("transparency")
        if isinstance(key, int) and not isinstance(key, bool):
            alpha = Image.fromarray(np.where(arr == key, 0, 255).astype(np.uint8), "L")
        if img.mode == "F":
            arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
            top = _white_of_floats(arr)
        elif (high := arr.max()) > 65535:  # (a 32-bit one's: it had come out white, clipped, without a word)
            raise BeyondColours(  # (a ValueError: the file's name is put before it)
                f"a 32-bit integer picture of values up to {high:.0f}: read are 0..255 and 0..65535; save it as an "
                "8- or 16-bit picture"
            )
        else:
            top = 65535.0 if img.mode.startswith("I;16") or high > 255 else 255.0
        eight = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        if img.info.get("icc_profile"):
            eight.info["icc_profile"] = img.info["icc_profile"]
        img = eight
    key = img.info.get("transparency")
    if img.mode == "RGB" and isinstance(key, tuple) and len(key) == 3 and max(key) > 255:  # a 16-bit PNG's, loaded
        img = img.copy()  # (by its caller, as read_image reads it: `key_as_read`; the caller's image left as it is)
        img.info["transparency"] = tuple(k >> 8 for k in key)
    if img.mode in ("RGB", "L") and "transparency" in img.info:  # a colour key (a PNG's tRNS): see-through pixels
        img = img.convert("RGBA" if img.mode == "RGB" else "LA")
    elif img.mode == "La":  # premultiplied: Pillow converts it to RGBA only through LA
        img = img.convert("LA")
    if img.mode in ("P", "PA"):  # the palette's colours first: a profile describes them (info is kept)
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    img = icc.to_srgb(img)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        alpha = img.getchannel("A")
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    if alpha is not None and alpha.getextrema()[0] == 0:
        rgb = _fill_hidden(rgb, alpha)
    return rgb, alpha


def _white_of_floats(arr: np.ndarray) -> float:
    """White in a float picture (mode F): 1 for values in 0..1 (up to 1.5 where at most 1% of them are over 1, a
    resampling's overshoot, clipped: one pixel at 1.01 had made the picture 0..255, black); 255 for values up to
    300 with some over 16 (Pillow's `convert("F")` of a picture, resampled or not); 65535 for whole numbers above
    that. Other values (an HDR picture's 0..4 or 0..1000, a measurement's) are refused: read as one of those
    ranges, the picture came out black or white without a word."""
    high = float(arr.max())
    if high <= 1.0 or (high <= 1.5 and np.mean(arr > 1.0) <= 0.01):
        return 1.0
    if 16.0 < high <= 300.0:
        return 255.0
    if high <= 65535.0 and np.array_equal(arr, np.round(arr)):
        return 255.0 if high <= 255.0 else 65535.0
    raise BeyondColours(  # (a ValueError: the file's name is put before it)
        f"a float picture of values up to {high:g} (an HDR picture?): read are 0..1, 0..255 and whole numbers up "
        "to 65535; save it tone-mapped as an 8- or 16-bit picture"
    )


def _fill_hidden(rgb: Image.Image, alpha: Image.Image) -> Image.Image:
    """`rgb` with its fully transparent pixels given the colours of the visible ones around them (pull-push: a
    pyramid of alpha-weighted means, filled from the coarsest level down). Their colour was whatever the file held
    there, unseen, which the network read all the same: black or white under a cut-out's hole changed the visible
    picture by 45 grey levels on average and drew a halo round the hole. The full-size picture is never held as
    floats (an 89-megapixel one would have taken several GB): its first level is made band by band, and its hidden
    pixels take their half-size level's colour."""
    x = torch.from_numpy(np.array(rgb))  # (H, W, 3) uint8 (a copy: torch takes no read-only array)
    seen = torch.from_numpy(np.asarray(alpha) > 0)  # (H, W)
    if not seen.any():
        return rgb
    h, w = seen.shape
    pooled = []  # the half-size level, band by band (even bands: the same 2x2 blocks as pooled whole)
    for top in range(0, h, 512):
        k = seen[top : top + 512][None, None].float()
        c = x[top : top + 512].permute(2, 0, 1)[None].float() * k
        pooled.append((F.avg_pool2d(c, 2, ceil_mode=True), F.avg_pool2d(k, 2, ceil_mode=True)))
    levels = [(torch.cat([c for c, _ in pooled], -2), torch.cat([k for _, k in pooled], -2))]
    while max(levels[-1][1].shape[-2:]) > 1:
        c, k = levels[-1]
        levels.append((F.avg_pool2d(c, 2, ceil_mode=True), F.avg_pool2d(k, 2, ceil_mode=True)))
    filled = levels[-1][0] / levels[-1][1].clamp_min(1e-8)
    for c, k in reversed(levels[:-1]):
        coarse = F.interpolate(filled, size=c.shape[-2:], mode="bilinear", align_corners=False)
        filled = torch.where(k > 0, c / k.clamp_min(1e-8), coarse)
    half = filled[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8)  # (H/2, W/2, 3)
    full = half.repeat_interleave(2, 0)[:h].repeat_interleave(2, 1)[:, :w]
    return Image.fromarray(torch.where(seen[..., None], x, full).numpy(), "RGB")


def open_rgb(path: str | Path | BinaryIO, draft_size: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """An image as RGB, EXIF orientation applied, transparency composited on white."""
    rgb, alpha = split_alpha(read_image(path, draft_size, max_pixels))
    if alpha is not None:
        rgb = Image.composite(rgb, Image.new("RGB", rgb.size, (255, 255, 255)), alpha)
    return rgb


def find_images(root: str | Path, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    """Files below `root` with one of `extensions` (images by default), recursively (links to folders followed),
    sorted for reproducibility."""
    return files_below(root, lambda name: os.path.splitext(name)[1].lower() in extensions)


# XMP properties of the photo's pixels, left out of a stylized copy's XMP: an orientation of its own (with none in
# the EXIF, so not turned: the pixels are as they are shown), its size, its resolution (a scaled copy's is not the
# photo's: the file's header and EXIF say it), and its colour space and profile's name (an Adobe RGB or CMYK photo's
# stayed over the copy's sRGB pixels: a catalogue said "Adobe RGB (1998)", "CMYK")
_PIXEL_XMP = (
    rb"(?:tiff:(?:Orientation|ImageWidth|ImageLength|XResolution|YResolution|ResolutionUnit)|exif:(?:ColorSpace|PixelXDimension|PixelYDimension)"
    rb"|photoshop:(?:ICCProfile|ColorMode))"
)
# each said as an attribute, in either quotes (XML's single quotes, as some writers use, kept them all) and with
# spaces round its "=", or as an element, with attributes of its own or not. A pattern, not an XML parser: a parse
# and rewrite would rename the namespaces' prefixes (ns0:) and drop the xpacket wrapper, and damaged XMP is kept
# as it is, without an error
_PIXEL_XMP_SAID = re.compile(
    rb"\s%s\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*')|<(%s)(?:\s[^<>]*)?>[^<>]*</\1\s*>" % (_PIXEL_XMP, _PIXEL_XMP)
)


def _kept_metadata(source: Image.Image | None, fmt: str, size: tuple[int, int] | None = None) -> dict:
    """Save parameters that keep `source`'s XMP (a photographer's copyright and credits: JPEG, WebP, AVIF, PNG),
    resolution (300 dpi became 72: JPEG, PNG, TIFF; scaled to the copy's `size`, `_resolution`), a PNG's text
    chunks (`png_texts`: PNG) and its comment (a JPEG's or GIF's, a PNG's "Comment": JPEG, GIF, PNG). Its XMP
    orientation is already gone where the photo was turned upright (Pillow's exif_transpose removes it)."""
    if source is None:
        return {}
    params: dict = {}
    texts = _kept_texts(source)
    comment = source.info.get("comment")  # a JPEG's COM segment, a GIF's comment: bytes, of no stated encoding
    if isinstance(comment, bytes) and comment and "Comment" not in texts:
        texts["Comment"] = _decoded(comment)
    elif not comment and isinstance(texts.get("Comment"), str):
        comment = texts["Comment"].encode()
    xmp = source.info.get("xmp") or source.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode()
    if xmp:  # what it says of the photo's pixels that is not true of the copy's (`_PIXEL_XMP`)
        xmp = _PIXEL_XMP_SAID.sub(b"", xmp)
    if xmp and fmt == "JPEG" and len(xmp) > JPEG_XMP_BYTES:  # Pillow refuses it: the photo was not written
        log.warning("the XMP metadata (%d bytes, an edit history?) is too long for a JPEG: not kept", len(xmp))
    elif xmp and fmt in ("JPEG", "WEBP", "AVIF"):
        params["xmp"] = xmp
    elif xmp and fmt == "TIFF":  # its tag 700 (kept_metadata puts it beside the EXIF's tags)
        params["xmp"] = xmp
    if (dpi := _resolution(source, size)) and _holds_resolution(fmt, dpi):
        params["dpi"] = dpi
    if comment and fmt == "JPEG" and (said := len(comment.encode() if isinstance(comment, str) else comment)) > 65533:
        log.warning("the comment (%d bytes) is too long for a JPEG: not kept", said)  # (Pillow refused the picture)
    elif comment and fmt in ("JPEG", "GIF"):
        params["comment"] = comment
    if fmt == "PNG" and (xmp or texts):
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
        for key, text in texts.items():  # (an iTXt's language and translated key kept: add_text takes them)
            info.add_text(key, text, zip=len(text) > 1024)
        params["pnginfo"] = info
    return params


def _exif_holds(dpi: tuple[float, float] | None) -> tuple[float, float] | None:
    """`dpi` as an EXIF's XResolution and YResolution hold it (fractions of 32-bit numbers, to 4 places), or None
    where there is none or they cannot hold it (a damaged file's 1e12)."""
    if dpi is None or not all(0.0001 <= d < 2**31 for d in dpi):
        return None
    return round(dpi[0], 4), round(dpi[1], 4)


def _holds_resolution(fmt: str, dpi: tuple[float, float]) -> bool:
    """Whether `fmt` holds the resolution `dpi` as it is written: a JPEG's are whole and 16 bits (254000 became
    57392, 0.4 none), a PNG's and a BMP's whole pixels a metre in 31 bits (a damaged TIFF's 1e9 dpi had the copy
    not written, "PNG could not encode": its pixels are kept, without it; a BMP said Pillow's 96 dpi, not the
    photo's); a TIFF's are fractions."""
    if fmt == "JPEG":
        return all(1 <= round(d) <= 65535 for d in dpi)
    if fmt in ("PNG", "BMP"):
        return all(1 <= round(d / 0.0254) <= 2**31 - 1 for d in dpi)
    return fmt == "TIFF"


# where Pillow keeps a PNG's text chunks for a picture read_image gives (turned upright or converted, it is no
# longer a PNG to Pillow, and its other info is not told from them)
_PNG_TEXTS = "fast_style.png_texts"


def png_texts(img: Image.Image) -> dict[str, str]:
    """A PNG's text chunks (tEXt, zTXt, iTXt: its Copyright, Author, Description, Comment...), by their keys, as
    Pillow gives them (in `info`, strings beside other chunks' values, which never are); {} for another picture."""
    if isinstance(kept := img.info.get(_PNG_TEXTS), dict):
        return kept
    return {k: v for k, v in img.info.items() if isinstance(v, str)} if img.format == "PNG" else {}


def _kept_texts(source: Image.Image) -> dict[str, str]:
    """`source`'s PNG text chunks (`png_texts`) that are true of a stylized copy: not its XMP (written cleaned),
    nor ImageMagick's raw profiles of the photo's EXIF (written as the copy's EXIF), XMP, colour profile or
    Photoshop resources (its resolution, thumbnail), but its IPTC (credits) kept."""
    return {
        k: v
        for k, v in png_texts(source).items()
        if k != "XML:com.adobe.xmp" and (not k.startswith("Raw profile type ") or k == "Raw profile type iptc")
    }


def _decoded(comment: bytes) -> str:
    """A JPEG's or GIF's comment as text: UTF-8, else Latin-1 (the format states no encoding)."""
    try:
        return comment.decode()
    except UnicodeDecodeError:
        return comment.decode("latin-1")


def _resolution(source: Image.Image, size: tuple[int, int] | None) -> tuple[float, float] | None:
    """`source`'s resolution (dpi) for its copy of `size` pixels (width, height), scaled as its pixels were so that
    it prints at the photo's size: a 300 dpi photo halved by --scale or --max-size is 150 dpi (its 300 had printed
    it at half the size). None where it states none."""
    dpi = source.info.get("dpi")
    if not isinstance(dpi, tuple) or len(dpi) != 2 or not all(isinstance(d, Real) and 0 < d < math.inf for d in dpi):
        return None  # (a TIFF's are IFDRational)
    width, height = source.size
    if _orientation(source) in (5, 6, 7, 8):  # not turned upright yet (from Python): its copy is
        width, height, dpi = height, width, dpi[::-1]
    if size is not None and width and height:
        dpi = (dpi[0] * size[0] / width, dpi[1] * size[1] / height)
    return tuple(round(float(d), 2) for d in dpi)


def _orientation(img: Image.Image) -> int:
    """`img`'s EXIF orientation, 1 where it has none or its EXIF cannot be read."""
    try:
        with warnings.catch_warnings(action="ignore"):
            return img.getexif().get(0x0112, 1)
    except Exception:
        return 1


def read_photo(path: str | Path, size: int) -> torch.Tensor:
    """An image as (1, 3, H, W) in [0, 1], its longer side at most `size` (never enlarged)."""
    img = open_rgb(path)
    img.thumbnail((size, size), Image.LANCZOS)
    return to_unit(pil_to_tensor(img))[None]


def save_image(
    img: Image.Image, path: str | Path, source: Image.Image | None = None, quality: int = 95, overwrite: bool = True
) -> None:
    """Save atomically by the extension's format, keeping `source`'s metadata (`kept_metadata`). Not `overwrite`: a
    file made at `path` meanwhile is kept (atomic.atomic_write)."""
    encoded = encode_image(img, path, source, quality)
    with atomic_write(path, overwrite) as tmp:
        tmp.write_bytes(encoded)


def picture_format(name: str) -> str | None:
    """Pillow's format for a picture format's name as an output's extension gives it (`.jpg`, `jpg`, `JPG`, `jpeg`,
    `tif`, ...: the rule `encode_image` reads an output's name by); None where no output is written so."""
    suffix = "." + name.strip().lower().removeprefix(".")
    return Image.registered_extensions().get(suffix) if suffix in IMAGE_OUTPUTS else None


def encode_image(img: Image.Image, path: str | Path, source: Image.Image | None = None, quality: int = 95) -> bytes:
    """`img` encoded as `save_image` writes it to `path` (for a writer of several files at once)."""
    path = Path(path)
    fmt = picture_format(path.suffix)
    if fmt is None:
        raise UserError(f"unknown output format '{path.suffix}': use {', '.join(IMAGE_OUTPUTS)}")
    if img.mode == "RGBA" and fmt in ("JPEG", "BMP"):  # these formats have no alpha: on white, as inputs are read
        if img.getchannel("A").getextrema()[0] < 255:  # (the transparency was lost unsaid)
            log.warning(
                "%s: a %s holds no transparency: its see-through parts are on white (.png, .webp or .avif keep it)",
                path.name,
                fmt,
            )
        img = on_white(img).convert("RGB")
    elif img.mode == "RGBA" and fmt == "GIF":
        img = on_or_off_alpha(img)
    params: dict = {}
    if fmt in ("JPEG", "WEBP", "AVIF"):
        params["quality"] = quality
    params |= kept_metadata(source, fmt, img.size)
    if fmt == "TIFF":  # its pixels in strips, to be compressed (`_compressed_tiff`), by Pillow's own writer (a
        # TIFF's image, read with its compression, went to libtiff, which refuses the EXIF's IFDs: "could not encode")
        params["compression"] = "raw"
        params["exif"] = table = params.get("exif") or Image.Exif()  # (a TIFF's tags, from kept_metadata)
        table[0x0116] = max(1, TIFF_STRIP_BYTES // len(img.crop((0, 0, img.width, 1)).tobytes()))  # RowsPerStrip
        if img.mode in _PREDICTED:
            table[0x013D] = 2  # Predictor: horizontal differencing
    encoded = io.BytesIO()  # encoded in memory: Pillow's C encoders write to a file unchecked for short writes
    with encoding(img.size, fmt, path):
        img.save(encoded, format=fmt, **params)  # (a JPEG on a nearly full disk was left cut short, unreported)
    if fmt == "TIFF":
        return _compressed_tiff(encoded.getvalue(), img.width, _PREDICTED.get(img.mode))
    return encoded.getvalue()


TIFF_STRIP_BYTES = 65536  # a TIFF's pixels a strip, before compression (libtiff's strips, as Pillow writes them)
# the samples a pixel of each mode whose TIFF's samples are differenced before they are compressed (8 or 16 bits a
# sample; not a palette's indices, a float's or a 32-bit integer's, nor a 1-bit picture's)
_PREDICTED = {"L": (1, 1), "LA": (2, 1), "RGB": (3, 1), "RGBA": (4, 1), "CMYK": (4, 1)}  # (samples, their bytes)
_PREDICTED |= {"I;16": (1, 2), "I;16L": (1, 2), "I;16B": (1, 2)}


def _compressed_tiff(raw: bytes, width: int, predicted: tuple[int, int] | None) -> bytes:
    """A TIFF as Pillow's own writer makes it, uncompressed, its pixels compressed without loss: Deflate (zlib, the
    TIFF's compression 8, which TIFF readers read), strip by strip, each sample first less the pixel's before it
    on its row where `predicted` says its samples a pixel and their bytes (its Predictor 2, set by encode_image;
    None: not differenced). An uncompressed TIFF was several times its photo's size (3.5 MB for a 1080x1080 JPEG
    of 200 KB: 2.5 times its PNG). Pillow compresses a TIFF only through libtiff, which refuses the EXIF's and GPS's
    IFDs ("Error setting from dictionary"): its own writer's file is kept as it is but for its compression tag, its
    strips and their offsets and sizes (the pixels, after every tag, rewritten). Another layout than Pillow's is
    left as it is."""
    order = "<" if raw[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "L", raw, 4)
    entries = {}  # IFD0's tags: (where its entry is, its type, its count)
    for k in range(struct.unpack_from(order + "H", raw, first)[0]):
        tag, kind, count = struct.unpack_from(order + "HHL", raw, at := first + 2 + 12 * k)
        entries[tag] = (at, kind, count)

    def values(tag: int) -> int:  # where the values of `tag` (LONGs) are
        at, _, count = entries[tag]
        return at + 8 if count == 1 else struct.unpack_from(order + "L", raw, at + 8)[0]

    strips = entries[0x0111][2]
    if entries[0x0111][1] != 4 or entries[0x0117][1] != 4 or entries[0x0103][1] != 3:  # (LONG, LONG, SHORT)
        return raw
    offsets = struct.unpack_from(f"{order}{strips}L", raw, values(0x0111))
    sizes = struct.unpack_from(f"{order}{strips}L", raw, values(0x0117))
    if offsets[0] + sum(sizes) != len(raw) or any(a + n != b for a, n, b in zip(offsets, sizes, offsets[1:])):
        return raw  # (the pixels are not one run at the end)
    out = bytearray(raw[: offsets[0]])
    placed, packed_sizes = [], []
    for offset, size in zip(offsets, sizes):
        strip = raw[offset : offset + size]
        if predicted:  # (the wrap of unsigned numbers is what the format asks)
            samples, sample_bytes = predicted
            rows = np.frombuffer(strip, np.dtype(f"{order}u{sample_bytes}")).reshape(-1, width * samples)
            differenced = rows.copy()
            differenced[:, samples:] -= rows[:, :-samples]
            strip = differenced.tobytes()
        packed = zlib.compress(strip)
        placed.append(len(out))
        packed_sizes.append(len(packed))
        out += packed
    struct.pack_into(f"{order}{strips}L", out, values(0x0111), *placed)
    struct.pack_into(f"{order}{strips}L", out, values(0x0117), *packed_sizes)
    struct.pack_into(order + "H", out, entries[0x0103][0] + 8, 8)  # Compression: Deflate
    return bytes(out)


SIDE_LIMITS = {"JPEG": 65_500, "WEBP": 16_383, "GIF": 65_535, "AVIF": 65_536}  # what each encoder takes, in px


@contextlib.contextmanager
def encoding(size: tuple[int, int], fmt: str, path: str | Path) -> Iterator[None]:
    """Encoding a picture of `size` as `fmt` for `path`: one line where the format cannot hold it (said before; an
    AVIF's RuntimeError or a GIF's OverflowError stopped a folder's run with a traceback)."""
    w, h = size
    if max(w, h) > SIDE_LIMITS.get(fmt, max(w, h)):
        raise UserError(
            f"cannot write {path}: a {Path(path).suffix.lower()} holds at most {SIDE_LIMITS[fmt]:,} px a side, not "
            f"{w}x{h}: write a .png or .tif, or smaller{option_note('--max-size', '--scale')}"
        )
    try:
        yield
    except (OSError, RuntimeError, OverflowError, ValueError) as e:
        if out_of_memory(e):
            raise
        raise UserError(f"cannot write {path}: {fmt} could not encode {w}x{h} pixels ({first_line(e, 120)})") from e


def on_white(img: Image.Image) -> Image.Image:
    """An RGBA picture as shown on white (opaque RGBA)."""
    return Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)


def on_or_off_alpha(img: Image.Image) -> Image.Image:
    """An RGBA picture for a GIF, whose pixels are either transparent or opaque: the partly transparent ones on
    white (as a JPEG gets them), opaque from half opacity up, else transparent (Pillow made every one opaque in
    its own colour: a soft edge's fringe came out dark)."""
    alpha = img.getchannel("A")
    if not any(alpha.histogram()[1:255]):  # (already on or off)
        return img
    out = on_white(img)
    out.putalpha(alpha.point(lambda a: 255 if a >= 128 else 0))
    return out


def _written_exif(exif: Image.Exif, size: tuple[int, int] | None) -> None:
    """A photo's EXIF as it is true of its stylized copy of `size`: the camera, dates, GPS position (the photo's,
    as its date is: a catalogue's map places the copy beside it) and the rest kept; the orientation reset (the
    pixels are upright); the colour space sRGB, the space the pixels were read into and written in (a wide-gamut
    photo's "uncalibrated" and its DCF index "R03", Adobe RGB, had stayed: a viewer that goes by them took the
    copy's sRGB colours for Adobe RGB's); and the pixel dimensions the copy's (a portrait photo's stayed landscape,
    a scaled one's the photo's; the Exif IFD's, and IFD0's ImageWidth and ImageLength where it has them). An
    embedded thumbnail is not written (Pillow keeps none: it showed the photo)."""
    exif[0x0112] = 1
    for tag, pixels in zip((0x0100, 0x0101), size or ()):  # ImageWidth, ImageLength (some phones' EXIF has them)
        if tag in exif:
            exif[tag] = pixels
    if 0x8769 not in exif:  # no Exif IFD (get_ifd would add an empty one)
        return
    tags = exif.get_ifd(0x8769)
    if 0xA001 in tags:  # ColorSpace: 1 is sRGB, 0xFFFF uncalibrated
        tags[0xA001] = 1
    if size is not None:
        for tag, pixels in zip((0xA002, 0xA003), size):  # PixelXDimension, PixelYDimension
            if tag in tags:
                tags[tag] = pixels
    if 0xA005 in tags and (interop := exif.get_ifd(0xA005)).get(1) == "R03":  # the DCF option file's Adobe RGB
        interop[1] = "R98"


def _texts_as_read(exif: Image.Exif) -> None:
    """`exif`'s text beyond ASCII (its IFDs' too) as the bytes it was read from, in place: Pillow reads an EXIF's
    text as Latin-1 and writes "?" for each character beyond ASCII, so a photo's UTF-8 (as phones and exiftool
    write it) came out so in every stylized copy ("Zo\u00eb" as "Zo??")."""
    ifds: list = [exif, *(exif.get_ifd(tag) for tag in (0x8769, 0x8825) if tag in exif)]
    if 0x8769 in exif and 0xA005 in exif.get_ifd(0x8769):
        ifds.append(exif.get_ifd(0xA005))
    for ifd in ifds:
        for tag, value in list(ifd.items()):
            if isinstance(value, str) and not value.isascii():
                try:
                    ifd[tag] = value.encode("latin-1")  # (the bytes read)
                except UnicodeEncodeError:  # (not read: a caller's own)
                    ifd[tag] = value.encode()


def kept_metadata(source: Image.Image | None, fmt: str, size: tuple[int, int] | None = None) -> dict:
    """Save parameters for a stylized copy of `source` in `fmt`, `size` (width, height) pixels: its EXIF where the
    format allows (`_written_exif`), its XMP, resolution, PNG texts and comment (`_kept_metadata`), and an sRGB profile
    where it had a profile (its own if that was sRGB: the pixels were read as sRGB)."""
    params: dict = {}
    if source is not None and source.info.get("icc_profile"):  # read as sRGB (to_srgb): say so
        params["icc_profile"] = icc.srgb_profile_of(source.info["icc_profile"])
    raw = source.info.get("exif") if source is not None else None  # the EXIF block (a TIFF's: read_image's)
    if not raw and source is not None and isinstance(text := source.info.get("Raw profile type exif"), str):
        with contextlib.suppress(ValueError):  # ImageMagick's way in a PNG, a text chunk of hex after 3 lines (it
            raw = bytes.fromhex("".join(text.split("\n")[3:]))  # turned the picture, then was dropped)
    # a PNG's copyright, author and description (and a comment, where the format has no comment of its own) as the
    # EXIF's tags where it has none of its own: they were lost in a JPEG, WebP or AVIF (a TIFF's: its tags, below)
    tags = _text_tags(source, fmt) if fmt in ("JPEG", "WEBP", "AVIF", "TIFF") and source is not None else {}
    # a WebP's and an AVIF's resolution is their EXIF's (they have none of their own, and Pillow writes none): a
    # 300 dpi photo's copy stated none where the photo's EXIF did not (its JPEG's JFIF header, its PNG's pHYs)
    in_exif = _exif_holds(_resolution(source, size)) if fmt in ("WEBP", "AVIF") and source is not None else None
    if (raw or (tags and fmt != "TIFF") or in_exif) and fmt in ("JPEG", "PNG", "WEBP", "AVIF", "TIFF"):
        exif = Image.Exif()
        try:  # (a damaged block raised SyntaxError or struct.error here: a traceback, and a folder's run stopped)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow's own "Corrupt EXIF data" lines: said once below
                if raw:
                    exif.load(raw)
                    _texts_as_read(exif)
                    _written_exif(exif, size)
                if (dpi := _resolution(source, size)) and (0x011A in exif or 0x011B in exif):
                    per = 2.54 if exif.get(0x0128) == 3 else 1.0  # ResolutionUnit: 3 centimetres, else inches
                    exif[0x011A], exif[0x011B] = (round(d / per, 4) for d in dpi)  # the copy's (`_resolution`)
                elif in_exif:
                    exif[0x011A], exif[0x011B], exif[0x0128] = *in_exif, 2  # (inches)
                params["exif"] = exif.tobytes()
        except Exception:
            log.warning("the EXIF metadata is damaged: not kept")
            params.pop("exif", None)
            exif = Image.Exif()
        if tags and fmt != "TIFF":
            had, alone = "exif" in params, len(exif.tobytes()) if fmt == "JPEG" else 0
            added = [tag for tag in tags if tag not in exif]  # (its EXIF's own, where it has them, kept)
            for tag in added:
                exif[tag] = tags[tag]
            params["exif"] = exif.tobytes()
            for tag in sorted(added, key=lambda t: -len(tags[t])):  # too long for a JPEG: the longest left out
                if fmt != "JPEG" or len(params["exif"]) <= JPEG_EXIF_BYTES or alone > JPEG_EXIF_BYTES:  # (below)
                    break
                said = _TAG_NAMES[tag], len(tags[tag])
                log.warning("the %s (%d bytes) is too long for a JPEG's EXIF: not kept", *said)
                del exif[tag]
                params["exif"] = exif.tobytes()
            if not had and not len(exif):
                del params["exif"]
        if fmt == "AVIF" and "exif" in params and 0x0112 in exif:  # (an AVIF's is a box of its own: Pillow took
            del exif[0x0112]  # the tag out, writing the EXIF again, and UTF-8 text became "?")
            params["exif"] = exif.tobytes()
            if not len(exif):  # (the orientation was all it held, as a PNG's raw profile text of ImageMagick's
                del params["exif"]  # may: an empty EXIF box had been written)
        if fmt == "JPEG" and len(params.get("exif", b"")) > JPEG_EXIF_BYTES:  # Pillow refuses it: not written
            exif.get_ifd(0x8769).pop(0x927C, None)  # the camera maker's notes, most of a long block
            params["exif"] = exif.tobytes()
            if len(params["exif"]) > JPEG_EXIF_BYTES:
                log.warning("the EXIF metadata (%d bytes) is too long for a JPEG: not kept", len(params.pop("exif")))
            else:
                log.warning("the camera maker's notes in the EXIF metadata are too long for a JPEG: not kept")
    kept = _kept_metadata(source, fmt, size)
    xmp = kept.pop("xmp", None) if fmt == "TIFF" else None
    if fmt == "TIFF" and (xmp or tags or params.get("exif")):  # Pillow writes a TIFF's tags from one table: `exif`
        table = Image.Exif()
        if params.get("exif"):
            table.load(params["exif"])
            _texts_as_read(table)
        if 0x8769 in table and isinstance((exif_ifd := table.get_ifd(0x8769)).get(0xA005), int):
            exif_ifd[0xA005] = table.get_ifd(0xA005)  # the interoperability IFD's (its offset in the EXIF block
            # was written as it was, pointing at another tag's bytes: its "R98" was lost)
        for tag in _TIFF_LAYOUT_TAGS & set(table):  # the photo's size, compression...: not the copy's pixels
            del table[tag]
        if xmp:
            table[0x02BC] = xmp
        for tag, text in tags.items():  # (its EXIF's own, where it has them, kept)
            if tag not in table:
                table[tag] = text
        params["exif"] = table
    return params | kept


# tags of a TIFF's own pixel layout (its size, samples, compression, strips, tiles, colour model, sub-files), which
# some cameras' and editors' EXIF holds too (a phone's 4000x3000, an old JPEG compression): copied into a TIFF's
# tags, they described the photo, not the copy's pixels, and the TIFF could not be read ("image file is truncated")
_TIFF_LAYOUT_TAGS = {254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325}
_TIFF_LAYOUT_TAGS |= {330, 338, 339, 347, *range(512, 522), 529, 530, 531, 532}


# a PNG's text chunks that a TIFF or an EXIF holds as tags: ImageDescription, Artist (PNG's "Author", or the
# "Artist" some writers use: "Author" first), Copyright, Software (kept as a PNG's stylized PNG keeps it)
_PNG_TEXT_TAGS = {"Description": 0x010E, "Artist": 0x013B, "Author": 0x013B, "Copyright": 0x8298, "Software": 0x0131}
_TAG_NAMES = {0x010E: "description", 0x013B: "author", 0x8298: "copyright", 0x0131: "software's name"}


def _text_tags(source: Image.Image, fmt: str) -> dict[int, str | bytes]:
    """`source`'s PNG texts (`png_texts`) that a TIFF or an EXIF holds as tags (`_PNG_TEXT_TAGS`), by tag: a PNG's
    copyright, author and description were lost in its stylized TIFF, JPEG, WebP or AVIF. Its comment (a JPEG's or
    GIF's, a PNG's "Comment") as the description where it has none, in a `fmt` without a comment of its own (TIFF,
    WebP, AVIF: it was lost). Text other than ASCII as UTF-8 (Pillow wrote "?" for each of its characters)."""
    texts = png_texts(source)
    tags = {
        tag: text for key, tag in _PNG_TEXT_TAGS.items() if isinstance(text := texts.get(key), str) and text.strip()
    }
    comment = source.info.get("comment") or texts.get("Comment")
    if isinstance(comment, bytes):
        comment = _decoded(comment)
    if fmt not in ("JPEG", "GIF", "PNG") and isinstance(comment, str) and comment.strip():
        tags.setdefault(0x010E, comment)
    return {tag: text if text.isascii() else text.encode() for tag, text in tags.items()}
