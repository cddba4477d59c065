"""Animated pictures (GIF, animated PNG, WebP and AVIF): every frame stylized and written back as an animation, each
frame's duration and the loop count kept. fast-style-stylize takes them as it takes photos; from Python:
`stylize_animation("in.gif", "out.gif", stylizer.stylize_images)`."""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from fast_style.atomic import atomic_write
from fast_style.errors import UserError, option_note, out_of_memory, setting
from fast_style.media import nclx
from fast_style.media.images import (
    decoding,
    encoding,
    ends_early,
    in_srgb,
    kept_metadata,
    on_or_off_alpha,
    on_white,
    reading,
    said_after_frames,
    upright,
)
from fast_style.media.progress import frame_bar
from fast_style.numbers import check_number, shown
from fast_style.options import check_callable, check_path, check_smoothing
from fast_style.outputs import check_output, is_the_file
from fast_style.plurals import counted

# what an animation can be written as (other outputs take its first frame)
ANIMATED_OUTPUTS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG", ".webp": "WEBP", ".avif": "AVIF"}
MAX_PIXELS = 400_000_000  # all frames together: every frame is held, before and after stylizing (a few GB at most)
CHUNK = 8  # frames stylized at a time, unless told (fast-style-stylize --batch-size)
log = logging.getLogger(__name__)


def frame_count(path: str | Path) -> int:
    """The frames of an animated GIF, PNG, WebP or AVIF (a still picture, or a camera's MPO with its preview: 1)."""
    # (Pillow's "Corrupt EXIF data" of a damaged TIFF, with its source line: reading it says why)
    with warnings.catch_warnings(action="ignore"), decoding(), Image.open(path) as img:
        animated = img.format in ("GIF", "PNG", "WEBP", "AVIF") and getattr(img, "is_animated", False)
        hidden = img.format == "PNG" and bool(img.info.get("default_image"))  # an APNG's still: not a frame
        return _n_frames(img) - hidden if animated else 1


def _n_frames(img: Image.Image) -> int:
    """Pillow's count of `img`'s frames; in a file cut short, where Pillow's count fails (a GIF's IndexError), the
    frames that can be reached before the cut (at least 1)."""
    try:
        return getattr(img, "n_frames", 1)  # (a still JPEG or BMP has no count)
    except Exception as e:
        if not _cut(e):
            raise
    reached = 1
    with contextlib.suppress(EOFError, *_CUT):  # (seeking is cheap: a frame is decoded as it is loaded)
        while True:
            img.seek(reached)
            reached += 1
    img.seek(0)
    return reached


def _cut(error: BaseException) -> bool:
    """Whether Pillow's `error`, met past the first frame, says the file ends there or is damaged there (a download
    or copy cut short): "image file is truncated", a decoder's error (no errno: not the disk's), or the GIF and PNG
    readers' IndexError, struct.error, SyntaxError or zlib.error for the missing bytes."""
    if isinstance(error, OSError):
        return ends_early(error) or error.errno is None
    return isinstance(error, _CUT[1:]) and not out_of_memory(error)


_CUT = (OSError, IndexError, struct.error, SyntaxError, zlib.error)  # what Pillow raises for a frame cut off


def read_frames(path: str | Path) -> tuple[list[Image.Image], list[float], int]:
    """Every frame as a whole picture in sRGB (Pillow applies each frame's disposal; RGBA where any pixel is
    transparent, else RGB), each frame's duration in ms, and how many times it plays (0: for ever). A still
    picture is one frame; UserError for a file that is not a picture Pillow reads. An animation cut short (a download
    that stopped) gives the frames before the cut, with a warning, as a video cut short does (it was refused whole,
    "the file ends early"); one whose first frame does not read is refused."""
    frames, durations, plays, cut, _ = _read_frames(path)
    if cut:
        log.warning("%s; only those were read", cut)
    return frames, durations, plays


def _read_frames(path: str | Path) -> tuple[list[Image.Image], list[float], int, str | None, dict]:
    """read_frames's; where the animation was cut short, a warning that says so (else None); and Pillow's `info`
    once every frame was read (what the file says after its first frame's pixels: an APNG's text chunks or EXIF
    after its frames, a GIF's comment before a later frame)."""
    with reading(path):  # missing, a folder, a video, damaged, a bomb
        return _frames_of(path)


def _frames_of(path: str | Path) -> tuple[list[Image.Image], list[float], int, str | None, dict]:
    cut = None
    with decoding(), Image.open(path) as img:
        count = _n_frames(img)
        if count * img.width * img.height > MAX_PIXELS:
            raise UserError(
                f"{path}: an animation of {count} frames of {img.width}x{img.height} is over "
                f"{MAX_PIXELS // 1_000_000} million pixels in all: shorten it, or stylize its first frame alone "
                "(-o name.jpg)"
            )
        loop = img.info.get("loop")
        if img.format == "GIF":  # a GIF counts repeats after the first play, and no count at all plays once
            plays = 1 if loop is None else (0 if loop == 0 else loop + 1)
        else:  # APNG and WebP count plays (an AVIF says none: for ever)
            plays = int(loop or 0)
        frames, durations = [], []
        fallback = img.format == "PNG" and bool(img.info.get("default_image"))  # an APNG's still for old viewers
        if "exif" not in img.info and (late_exif := said_after_frames(img).get("exif")):  # an APNG's after its
            img.info["exif"] = late_exif  # frames: read before them (they stayed on their side)
        orientation = img.getexif().get(0x0112, 1)  # a WebP's or APNG's EXIF turns every frame (came out sideways)
        coded = nclx.coded_colour(img, path)  # an AVIF's P3 or PQ frames, as its first frame is read as a still
        for index in itertools.count():
            try:  # (ImageSequence.Iterator's, each frame loaded: a WebP frame's duration is known only then)
                img.seek(index)
                img.load()
            except EOFError:  # the last frame was read
                break
            except Exception as e:  # a file cut short: the frames before the cut, said (a video's are stylized so)
                if not frames or not _cut(e):
                    raise
                read = counted(len(frames), "frame")
                cut = f"{Path(path).name}: the animation ended after {read} (cut short or damaged?)"
                break
            if fallback and index == 0:  # not a frame of the animation (Pillow counts it as frame 0)
                continue
            frame = img
            whole = in_srgb(frame, coded).convert("RGBA")  # as a still is read (a copy: the next frame reuses it)
            if orientation != 1:
                whole.getexif()[0x0112] = orientation
                whole = upright(whole)
            frames.append(whole)
            durations.append(float(frame.info.get("duration") or 100))  # 0 or none: browsers show 100 ms
        late = dict(img.info)
    if all(f.getchannel("A").getextrema()[0] == 255 for f in frames):
        frames = [f.convert("RGB") for f in frames]
    return frames, durations, plays, cut, late


GIF_CLEAR = 255  # the palette index of a GIF's transparent pixels, in every frame


def _gif_frame(frame: Image.Image) -> Image.Image:
    """An RGBA frame (alpha on or off) as a palette frame whose index GIF_CLEAR is transparent, reserved whether the
    frame uses it or not: left to Pillow, a frame without a transparent pixel had no transparent index, its
    clearing (disposal 2) then painted the canvas in an opaque colour, and the next frame's transparent part showed
    it (in Pillow and FFmpeg)."""
    p = frame.convert("RGB").quantize(GIF_CLEAR)  # 255 colours (Pillow's quantizer, dithered)
    p.putpalette(p.getpalette()[: 3 * GIF_CLEAR] + [0, 0, 0] * (256 - GIF_CLEAR))  # (its palette padded to 256)
    p.paste(GIF_CLEAR, mask=frame.getchannel("A").point(lambda a: 255 if a < 128 else 0))
    return p


def _format_of(path: Path) -> str:
    """Pillow's format for the animation `path` (UserError for an extension no animation is written as)."""
    if (fmt := ANIMATED_OUTPUTS.get(path.suffix.lower())) is None:
        raise UserError(f"{path}: animations are written as {', '.join(ANIMATED_OUTPUTS)}")
    return fmt


def save_frames(
    frames: list[Image.Image],
    durations: list[float],
    plays: int,
    path: str | Path,
    quality: int = 95,
    source: Image.Image | None = None,
    overwrite: bool = True,
) -> None:
    """Write `frames` as an animation in the format `path`'s extension names, atomically, played `plays` times
    (0: for ever), with `source`'s metadata (EXIF, XMP, ...: images.kept_metadata) where the format holds it. Not
    `overwrite`: a file made at `path` meanwhile is kept (atomic.atomic_write)."""
    path = Path(path)
    fmt = _format_of(path)
    # whole milliseconds (GIF: hundredths of a second), each rounded where the time so far ends: a 30 fps APNG's
    # 33.33 ms frames, cut to 33 (GIF: to 30), played 1% (10%) fast
    unit = 10 if fmt == "GIF" else 1
    ends = [round(t / unit) * unit for t in itertools.accumulate(durations)]
    whole = [max(unit, b - a) for a, b in zip([0, *ends], ends)]
    transparent = fmt == "GIF" and frames[0].mode == "RGBA"
    if transparent:  # its pixels transparent or opaque: the partly transparent on white
        frames = [_gif_frame(on_or_off_alpha(f)) for f in frames]
    params: dict = {"save_all": True, "append_images": frames[1:], "duration": whole}
    params |= kept_metadata(source, fmt, frames[0].size)
    if fmt != "GIF":
        params["loop"] = plays
    elif plays != 1:  # (no count: once)
        params["loop"] = max(0, plays - 1) if plays else 0
    if transparent:
        params["disposal"] = 2  # each frame drawn on a clear canvas: what turns transparent leaves no trail
        params |= {"transparency": GIF_CLEAR, "optimize": False}  # the index kept in every frame (below)
    if fmt in ("WEBP", "AVIF"):
        params["quality"] = quality
    encoded = io.BytesIO()  # encoded in memory, then written whole (as images.save_image does)
    with encoding(frames[0].size, fmt, path):
        frames[0].save(encoded, format=fmt, **params)
    data = encoded.getbuffer()
    if fmt == "WEBP" and any(f.mode == "RGBA" and f.getextrema()[3][0] < 255 for f in frames):
        _say_webp_has_alpha(data)
    with atomic_write(path, overwrite) as tmp:
        tmp.write_bytes(data)


def _say_webp_has_alpha(data: memoryview) -> None:
    """Set the alpha flag of an animated WebP's VP8X header. Where transparency is only a strip along a border,
    libwebp crops every frame to the rest and stores no alpha, and leaves the flag clear: the file is then read as
    opaque (Pillow gives RGB, the strip black) though the uncovered canvas is transparent."""
    if bytes(data[12:16]) == b"VP8X":
        data[20] |= 0x10  # flags byte after the chunk's header: bit 4, alpha


def stylize_animation(
    src: str | Path,
    dst: str | Path,
    stylize: Callable[[list[Image.Image]], list[Image.Image]],
    quality: int = 95,
    force: bool = False,
    smooth: float = 0.0,
    batch_size: int | None = None,
    progress: bool = False,
) -> tuple[int, int, int]:
    """Stylize every frame of the animation `src` with `stylize` (a list of images in, as many out:
    `Stylizer.stylize_images`) into the animation `dst` (.gif, .png, .apng, .webp or .avif). Returns (frames,
    width, height) of the result. An existing `dst` is replaced only with `force` (UserError before any work otherwise).
    `smooth` (0..1): temporal smoothing of the stylized frames, as a video's (fast_style.media.smoothing); `batch_size`:
    frames given to `stylize` at a time (None: CHUNK, 8); `progress`: a bar of the frames stylized, with frames per
    second, on stderr where it is a terminal (a video's: fast_style.media.progress; a long GIF on a CPU ran in
    silence)."""
    check_path("src", src, "the animation")
    check_path("dst", dst, "the stylized animation")
    check_callable("stylize", stylize, "taking a list of images and returning them stylized (Stylizer.stylize_images)")
    # (WebP's; checked first: 500 failed in Pillow's encoder once every frame was stylized)
    quality = check_number(
        "quality",
        quality,
        lambda v: 1 <= v <= 100,
        f"a whole number within 1..100 ({setting('--quality', 'quality')})",
        True,
    )
    check_smoothing(smooth)
    # (fast-style-stylize --batch-size had been said to do nothing for an animation, which went 8 frames at a time
    # whatever it said, and was the way out of memory that an animation's error named)
    chunk = CHUNK if batch_size is None else batch_size
    chunk = check_number(
        f"the animation batch size ({setting('--batch-size', 'batch_size')})",
        chunk,
        lambda v: v >= 1,
        "a whole number >= 1",
        True,
    )
    src, dst = Path(src).expanduser(), Path(dst).expanduser()  # as Stylizer.load reads its model ("~/in.gif")
    _format_of(dst)
    if is_the_file(dst, src):  # the input would be replaced by its own stylized copy
        raise UserError(f"{dst} is the animation being read: write the stylized one elsewhere")
    check_output(dst, force)
    frames, durations, plays, cut, late = _read_frames(src)
    if cut:
        log.warning("%s; those were stylized", cut)
    with Image.open(src) as source:
        pass  # its header alone: the metadata the stylized copy keeps (its EXIF and XMP were lost)
    # with what the file says after its first frame's pixels, read with its frames (an APNG's text chunks after
    # them, its copyright, were lost; a GIF's comment before a later frame)
    source.info = {**late, **source.info}
    bar = frame_bar(len(frames), src.name) if progress else None
    try:
        stylized = _stylize_frames(src, frames, len(durations), plays, stylize, smooth, chunk, bar)
    finally:
        if bar is not None:
            bar.close()
    save_frames(stylized, durations, plays, dst, quality, source, overwrite=force)
    return len(stylized), *stylized[0].size


def _stylize_frames(
    src: Path,
    frames: list[Image.Image],
    count: int,
    plays: int,
    stylize: Callable[[list[Image.Image]], list[Image.Image]],
    smooth: float,
    chunk: int,
    bar: Any,
) -> list[Image.Image]:
    """stylize_animation's frames through `stylize`, `chunk` at a time, each let go once stylized; `bar` (or None)
    told of each chunk."""
    stylized: list[Image.Image] = []
    smoothed = _Smoothed(smooth) if smooth else None
    if smoothed is not None and plays != 1 and len(frames) > 1:  # a loop: its first frame follows its last
        last = frames[-min(CHUNK, len(frames) - 1) :]  # (the wrap jumped once a play, unsmoothed)
        for piece in (last[k : k + chunk] for k in range(0, len(last), chunk)):
            for frame, out in zip(piece, _stylized(stylize, piece)):
                smoothed(frame, out)
    for start in range(0, len(frames), chunk):
        part = _stylized(stylize, frames[start : start + chunk])
        if smoothed is not None:
            part = [smoothed(frame, out) for frame, out in zip(frames[start : start + chunk], part)]
        stylized += part
        frames[start : start + chunk] = [None] * len(frames[start : start + chunk])  # type: ignore[list-item]
        if bar is not None:
            bar.update(len(part))
        width, height = stylized[0].size
        if count * width * height > MAX_PIXELS:  # enlarged (--scale): the result's frames too many
            raise UserError(
                f"{src}: {count} frames of {width}x{height} are over {MAX_PIXELS // 1_000_000} million "
                f"pixels in all: stylize it smaller{option_note('--max-size', '--scale')}"
            )
    return stylized


def _stylized(stylize: Callable[[list[Image.Image]], list[Image.Image]], frames: list[Image.Image]) -> list:
    out = stylize(frames)
    if not isinstance(out, (list, tuple)):  # (None: "object of type 'NoneType' has no len()")
        raise TypeError(
            f"stylize returned {shown(out)} for {len(frames)} frames: it must return a list of PIL images, one for "
            "each, as Stylizer.stylize_images does"
        )
    if len(out) != len(frames):  # (an animation came out shorter, without a word)
        raise ValueError(f"stylize returned {len(out)} images for {len(frames)} frames: it must return one for each")
    # (a tensor failed in the saving: "cannot unpack non-iterable builtin_function_or_method object")
    if (odd := next((o for o in out if not isinstance(o, Image.Image)), None)) is not None:
        raise TypeError(
            f"stylize returned a {type(odd).__name__} for a frame: it must return PIL images, as "
            "Stylizer.stylize_images does"
        )
    return out


class _Smoothed:
    """Stylized frames in order -> temporally smoothed (fast_style.media.smoothing), alpha kept as stylized."""

    def __init__(self, strength: float) -> None:
        from fast_style.media.smoothing import TemporalSmoother  # (torch: only where asked)

        self.smoother = TemporalSmoother(strength)

    def __call__(self, frame: Image.Image, stylized: Image.Image) -> Image.Image:
        import torch
        import torch.nn.functional as F

        from fast_style.media.pixels import pil_to_tensor

        if frame.mode == "RGBA":  # seen as shown on white: what turns opaque or transparent is change (the colour
            frame = on_white(frame)  # hidden under transparent pixels, often the same, looked still: a slow fade-in)
        x = pil_to_tensor(frame.convert("RGB")).float() / 255  # (3, H, W), the input frame at the output's size
        y = pil_to_tensor(stylized.convert("RGB")).float() / 255  # (3, h, w)
        if x.shape != y.shape:
            x = F.interpolate(x[None], y.shape[-2:], mode="bilinear", antialias=True)[0]
        out = self.smoother.step(x, y).mul(255).round().clamp(0, 255).to(torch.uint8)
        result = Image.fromarray(out.permute(1, 2, 0).numpy(), "RGB")
        if stylized.mode == "RGBA":
            result.putalpha(stylized.getchannel("A"))
        return result
