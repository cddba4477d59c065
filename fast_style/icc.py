"""ICC profiles: a picture's colours through its profile into sRGB, the colours the networks learnt from (a CMYK
print file, a phone's Display P3, a camera's Adobe RGB, a grey tone curve), and whether a profile is sRGB by any
name. Code points stated instead of a profile: fast_style.nclx."""

from __future__ import annotations

import functools
import io
import itertools

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
