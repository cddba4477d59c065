"""Video in, stylized video out (PyAV: FFmpeg's decoders and its H.264 encoder, shipped in its wheels).

Every frame goes through `Stylizer.stylize_image`, so strength, colour preservation, --max-size and --scale work
as for photos. The frame rate and timestamps are kept, the audio is copied unchanged, and the file is written
beside its destination and renamed into place when complete.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from PIL import Image

from fast_style.atomic import atomic_write
from fast_style.errors import UserError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
# containers written (H.264 video); other inputs are written as .mp4
VIDEO_OUTPUTS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".m4v": "mp4"}


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def output_name(src: Path) -> str:
    """The file name a video keeps in an output folder: its own, or .mp4 where its container is not written."""
    return src.name if src.suffix.lower() in VIDEO_OUTPUTS else src.stem + ".mp4"


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2  # H.264's 4:2:0 needs even sides


def stylize_video(
    src: str | Path,
    dst: str | Path,
    stylize: Callable[[Image.Image], Image.Image],
    crf: int = 18,
    on_frame: Callable[[Image.Image], None] | None = None,
) -> int:
    """Decode `src`, stylize every frame with `stylize` (PIL RGB in, PIL out), encode H.264 into `dst`, copy the
    audio. Returns the number of frames. UserError for a file that is not a video or an unknown container."""
    import av

    src, dst = Path(src), Path(dst)
    fmt = VIDEO_OUTPUTS.get(dst.suffix.lower())
    if fmt is None:
        raise UserError(f"{dst}: videos are written as {', '.join(VIDEO_OUTPUTS)}")
    try:
        source = av.open(str(src))
    except (av.FFmpegError, OSError) as e:
        raise UserError(f"cannot read video {src}: {e}") from None
    frames = 0
    with source, atomic_write(dst) as tmp:
        if not source.streams.video:
            raise UserError(f"{src} holds no video stream")
        video_in = source.streams.video[0]
        audio_in = source.streams.audio[0] if source.streams.audio else None
        with av.open(str(tmp), "w", format=fmt) as out:
            rate = video_in.average_rate or video_in.guessed_rate or Fraction(30)
            video_out = out.add_stream("libx264", rate=rate)
            video_out.time_base = video_in.time_base
            video_out.pix_fmt = "yuv420p"
            video_out.options = {"crf": str(crf), "preset": "medium"}
            audio_out = out.add_stream_from_template(audio_in) if audio_in is not None else None
            streams = [video_in] + ([audio_in] if audio_in is not None else [])
            early: list = []  # sound before the first frame: muxing it would open the encoder before its size is known
            try:
                for packet in source.demux(*streams):
                    if packet.stream is audio_in:
                        if packet.dts is not None:
                            packet.stream = audio_out
                            if frames == 0:
                                early.append(packet)
                            else:
                                out.mux(packet)
                        continue
                    for frame in packet.decode():
                        image = stylize(frame.to_image())
                        if frames == 0:
                            video_out.width, video_out.height = _even(image.size)
                        size = (video_out.width, video_out.height)
                        if image.size != size:
                            image = image.crop((0, 0, *size)) if _even(image.size) == size else image.resize(size)
                        new = av.VideoFrame.from_image(image.convert("RGB"))
                        new.pts, new.time_base = frame.pts, frame.time_base
                        out.mux(video_out.encode(new))
                        frames += 1
                        for held in early:
                            out.mux(held)
                        early.clear()
                        if on_frame:
                            on_frame(image)
            except av.FFmpegError as e:
                raise UserError(f"cannot decode {src} (frame {frames}): {e}") from None
            out.mux(video_out.encode())  # flush the encoder
        if frames == 0:
            raise UserError(f"{src} holds no decodable frames")
    return frames
