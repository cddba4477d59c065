"""What a file is, by its name and its first bytes: a picture, a video, a file torch.save wrote, or an export of
fast-style-export's. Nothing heavy is imported here: the command lines ask before torch loads."""

from __future__ import annotations

import os
from pathlib import Path

# what stylized images can be written as
IMAGE_OUTPUTS = (".jpg", ".jpeg", ".png", ".apng", ".webp", ".avif", ".bmp", ".tif", ".tiff", ".gif")
IMAGE_EXTENSIONS = IMAGE_OUTPUTS + (".heic", ".heif")  # what is read: a phone's HEIC photos too (decoded only)
VIDEO_EXTENSIONS = (
    *(".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".ts", ".mts", ".m2ts", ".3gp", ".mpg", ".mpeg"),
    # Windows Media, Flash, a DVD's, Ogg, a DV or a broadcast camera's: FFmpeg reads them all (they had been called
    # "not images or videos", or named outright "cannot identify image file")
    *(".wmv", ".asf", ".flv", ".f4v", ".vob", ".ogv", ".3g2", ".dv", ".mxf"),
    # a JVC or Panasonic camcorder's MPEG-2 (program stream; transport stream in HD): said to be pictures
    *(".mod", ".tod"),
    # an encoder's or a tool's raw output: YUV4MPEG2 frames, H.264/HEVC/MPEG-2/AV1 elementary streams, VP8/VP9/AV1 in
    # IVF (said to be "not images or videos" in a folder, "cannot identify image file" named outright)
    *(".y4m", ".h264", ".264", ".hevc", ".h265", ".265", ".m2v", ".obu", ".ivf"),
)

# what stylized videos are written as (H.264), each with its FFmpeg container; other videos are written as .mp4
VIDEO_OUTPUTS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".m4v": "mp4"}


def video_output_name(src: Path) -> str:
    """The file name a video keeps in an output folder: its own, or .mp4 where its container is not written."""
    return src.name if src.suffix.lower() in VIDEO_OUTPUTS else src.stem + ".mp4"


def media_named(path: str | Path) -> str | None:
    """What `path` is named as by its extension, "a picture" or "a video", else None: what a style model or an export
    must not be named as (one was written over a photo with force). A .ts is neither: fast-style-export names its
    TorchScript files so."""
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "a picture"
    return "a video" if suffix in VIDEO_EXTENSIONS and suffix != ".ts" else None


def is_video(path: Path) -> bool:
    """Whether `path` is named as a video; a .ts or .mod file where its first bytes say so too, or where it is empty
    (a recording that failed, said to be empty as it is read, as an empty .mp4 is: in a folder it had been left out
    as "not an image or video" beside an empty .mp4 that was tried)."""
    suffix = path.suffix.lower()
    if suffix == ".ts":  # MPEG-TS from a camera, or a TorchScript export of fast-style-export's (a zip)
        return _mpeg_ts(path) or _empty(path)
    if suffix == ".mod":  # a camcorder's MPEG program stream, or a tracker's music module (Amiga's MOD)
        return _mpeg_ps(path) or _empty(path)
    return suffix in VIDEO_EXTENSIONS


def _empty(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def _mpeg_ps(path: Path) -> bool:
    """Whether `path` starts as an MPEG program stream does (a camcorder's .mod): with a pack header."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x00\x00\x01\xba"
    except OSError:
        return False


def _mpeg_ts(path: Path) -> bool:
    """Whether `path` holds an MPEG transport stream: packets of 188 bytes (192 in a Blu-ray's or AVCHD camera's
    .m2ts-style file: a 4-byte clock first), each starting with the sync byte 0x47, four in a row, the first
    anywhere in the first packet (a file cut out of a longer one starts mid-packet). A zip (fast-style-export's
    TorchScript) or a TypeScript source is not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(5 * 192)
    except OSError:
        return False
    if head.startswith(b"PK"):
        return False
    if len(head) < 4 * 188:  # a very short stream: whole packets from its start
        return len(head) >= 188 and all(head[i] == 0x47 for i in range(0, len(head), 188))
    return any(
        all(head[start + k * size] == 0x47 for k in range(4))
        for size in (188, 192)
        for start in range(size)
        if start + 3 * size < len(head)
    )


def cut_short(path: str | Path) -> bool:
    """Whether `path`'s container says it is longer than the file is (a copy or download cut short): a RIFF file's
    (WebP's) size, or a top-level box of an ISO file (AVIF, HEIC, MP4) that runs past its end. Pillow said "could not
    create decoder object" for a cut WebP, "cannot identify image file" for a cut AVIF (which FFmpeg then read as a
    video: "rename it x.mp4")."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return int.from_bytes(head[4:8], "little") + 8 > size
            if head[4:8] != b"ftyp":
                return False
            at = 0
            while at + 8 <= size:
                f.seek(at)
                box = f.read(16)
                length = int.from_bytes(box[:4], "big")
                if length == 1 and len(box) == 16:  # a 64-bit length follows the type
                    length = int.from_bytes(box[8:16], "big")
                if length == 0:  # to the end of the file
                    return False
                if length < 8:  # not boxes: say nothing
                    return False
                at += length
            return at > size
    except OSError:
        return False


def torch_file_kind(path: str | Path) -> str:
    """What a file's first bytes say it is, for the message about a file torch.load refused: "empty" (a failed copy
    or download), "zip" (torch's format: cut short or damaged, or holding what weights_only refuses), "pickle" (a
    legacy torch.save) or "other" (a picture, text, an ONNX export). OSError where it cannot be read."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        return "empty"
    return "zip" if head.startswith(b"PK") else "pickle" if head[:1] == b"\x80" else "other"


def a_torch_file(path: str | Path) -> bool:
    """Whether `path` is named (.pt, .pth, .ckpt) and begins as torch.save's files do: a style model, weights or a
    checkpoint given where a picture goes (a picture misnamed .pt is a picture; an unreadable file is said as read)."""
    if Path(path).suffix.lower() not in (".pt", ".pth", ".ckpt"):
        return False
    try:
        return torch_file_kind(path) in ("zip", "pickle")
    except OSError:
        return False


def export_kind(path: Path) -> str | None:
    """fast-style-export's output at `path`, as a message names it ("an ONNX", "a TorchScript": a zip named .ts), or
    None."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "an ONNX"
    try:
        return "a TorchScript" if suffix == ".ts" and torch_file_kind(path) == "zip" else None
    except OSError:
        return None
