"""ICC profiles: a picture's colours through its profile into sRGB, the colours the networks learnt from (a CMYK
print file, a phone's Display P3, a camera's Adobe RGB, a grey tone curve), and whether a profile is sRGB by any
name. Code points stated instead of a profile: fast_style.media.nclx."""

from __future__ import annotations

import functools
import io
import itertools
import struct

from PIL import Image, ImageChops, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def to_srgb(img: Image.Image) -> Image.Image:
    """An image whose ICC profile is not sRGB -> the same picture in sRGB, the colours the networks learnt from
    (COCO's photos and the paintings as the web shows them): CMYK (a print-ready JPEG, a prepress TIFF), RGB or
    RGBA in a wide gamut (a phone's Display P3, a camera's Adobe RGB) and greyscale with its own tone curve
    (L, to RGB), through littlecms, perceptual intent. Read as plain numbers instead, a CMYK sky turns garish
    and an Adobe RGB photo's stylized colours come out a third more saturated than the painting's. CMYK
    without a usable profile takes Pillow's formula (R = 255 - C - K, ...); other images without one, or with
    one littlecms cannot read or that does not fit the mode, are returned as they are. Palette images: convert
    them to RGB or RGBA first (split_alpha does)."""
    icc = img.info.get("icc_profile")
    if icc and img.mode == "LA":  # grey with alpha: its grey through the profile (it was ignored), alpha kept
        transform = _to_srgb_transform(icc, "L")
        if transform is not None:
            rgba = transform.apply(img.getchannel("L")).convert("RGBA")
            rgba.putalpha(img.getchannel("A"))
            return rgba
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L") and not (img.mode in ("RGB", "RGBA") and _is_srgb(icc)):
        transform = _to_srgb_transform(icc, img.mode)
        if transform is not None:
            return transform.apply(img)
    return img.convert("RGB") if img.mode == "CMYK" else img


@functools.lru_cache(maxsize=16)
def _to_srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The littlecms transform from `icc` to sRGB for images of `mode` (RGB out for CMYK and L), built once per
    profile (a photo folder's camera shares one; building it took three times as long as decoding a training
    crop); None for a profile that is damaged or does not fit the mode (the numbers as they are still make a
    picture)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(profile, _SRGB, mode, mode if mode in ("RGB", "RGBA") else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


# colours that tell sRGB from other profiles: a cube of 6 levels a channel
_PROBE = Image.frombytes("RGB", (216, 1), bytes(itertools.chain(*itertools.product(range(0, 256, 51), repeat=3))))


@functools.lru_cache(maxsize=16)
def _is_srgb(icc: bytes) -> bool:
    """Whether an RGB profile maps every probe colour to itself within a level: sRGB by any name (Nikon's,
    Canon's), not by its name alone ("Linear sRGB" is not)."""
    transform = _to_srgb_transform(icc, "RGB")
    if transform is None:
        return False
    return max(high for _, high in ImageChops.difference(transform.apply(_PROBE), _PROBE).getextrema()) <= 1


def srgb_profile_of(icc: bytes) -> bytes:
    """`icc` if it is an sRGB profile, else littlecms's sRGB profile."""
    return icc if _is_srgb(icc) else _SRGB.tobytes()


# Adobe RGB (1998)'s primaries as an ICC profile stores them (XYZ, adapted to the D50 white of the profile
# connection space) and its tone curve, a gamma of 563/256
_ADOBE_RGB_PRIMARIES = ((0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457))
_D50 = (0.9642, 1.0, 0.8249)


@functools.lru_cache(maxsize=1)
def adobe_rgb_profile() -> bytes:
    """An ICC v2 profile of Adobe RGB (1998), for a camera's photo that says it is in Adobe RGB by its EXIF alone
    (`stated_profile`): no profile ships with Pillow or littlecms."""

    def s15(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    name = b"Adobe RGB (1998) compatible\0"
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563)
    tags = [
        (b"desc", b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(4 + 4 + 2 + 1 + 67)),
        (b"wtpt", b"XYZ " + bytes(4) + s15(*_D50)),
        *((sig, b"XYZ " + bytes(4) + s15(*xyz)) for sig, xyz in zip((b"rXYZ", b"gXYZ", b"bXYZ"), _ADOBE_RGB_PRIMARIES)),
        *((sig, curve) for sig in (b"rTRC", b"gTRC", b"bTRC")),
    ]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += bytes(-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = struct.pack(">I", offset + len(data)) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
    header += bytes(12) + b"acsp" + bytes(28) + s15(*_D50) + bytes(48)
    return header + struct.pack(">I", len(tags)) + table + data


def stated_profile(img: Image.Image) -> bytes | None:
    """The profile an RGB picture without an ICC profile states by its EXIF alone: Adobe RGB for a camera's DCF
    "option file" (ColorSpace uncalibrated and interoperability index "R03", as Canon and Sony cameras set to
    Adobe RGB write their JPEGs, or ColorSpace 2, as some others do); None otherwise (sRGB)."""
    if img.mode not in ("RGB", "RGBA") or img.info.get("icc_profile"):
        return None
    if not img.info.get("exif") and img.format != "TIFF":  # (a TIFF's EXIF is among its tags)
        return None
    try:
        exif = img.getexif()
        space = exif.get_ifd(0x8769).get(0xA001)
        if space == 2 or (space == 0xFFFF and exif.get_ifd(0xA005).get(1) == "R03"):
            return adobe_rgb_profile()
    except Exception:  # a damaged EXIF block (SyntaxError, struct.error): the numbers as they are
        return None
    return None
