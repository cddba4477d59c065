"""Video in, stylized video out (PyAV: FFmpeg's decoders and its H.264 encoder, shipped in its wheels).

Three stages overlap: a thread decodes (FFmpeg's own threads too), the caller's thread stylizes frames in
batches of `batch_size` (one network call each: a GPU stays busy, the CPU's cores share the work), and a thread
encodes and writes. The queues between them are bounded, so memory does not grow with the video. The frame
rate and timestamps are kept; the audio is copied unchanged (or re-encoded as AAC where the output container
cannot hold its codec); a phone's portrait video (landscape frames with a rotation tag) is turned upright before
it is stylized; HDR frames (PQ, HLG) are tone-mapped to SDR (fast_style.hdr). The file is written beside its
destination and renamed into place when complete: an error or Ctrl-C leaves no partial file.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image

from fast_style import hdr
from fast_style.atomic import atomic_write
from fast_style.errors import UserError
from fast_style.smoothing import TemporalSmoother

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
# containers written (H.264 video); other inputs are written as .mp4
VIDEO_OUTPUTS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".m4v": "mp4"}
_UPRIGHT = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
_END = object()
log = logging.getLogger(__name__)
_WAIT = 0.1  # seconds a stage waits on a queue before it looks whether another stage failed or was stopped


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def output_name(src: Path) -> str:
    """The file name a video keeps in an output folder: its own, or .mp4 where its container is not written."""
    return src.name if src.suffix.lower() in VIDEO_OUTPUTS else src.stem + ".mp4"


def _source_colours(frame: Any) -> dict:
    """to_image's (to_ndarray's) arguments for a decoded frame: none where the stream says its colour space
    (PyAV follows it); where it does not, BT.2020 for an HDR frame (PQ, HLG) and BT.709 for an HD frame (720
    lines or more), as players take them (swscale's default is BT.601, the SD standard)."""
    from av.video.reformatter import Colorspace

    if frame.colorspace in (0, 2):  # AVCOL_SPC_RGB (an unset field) or UNSPECIFIED
        if frame.color_trc in hdr.TRANSFERS:
            return {"src_colorspace": Colorspace.BT2020}
        if frame.height >= 720:
            return {"src_colorspace": Colorspace.ITU709}
    return {}


def upright(image: Image.Image, rotation: float) -> Image.Image:
    """A decoded frame as a player shows it: `rotation` is the degrees counter-clockwise of the stream's display
    matrix (PyAV's `VideoFrame.rotation`; a phone's portrait video says -90), rounded to a quarter turn."""
    turn = _UPRIGHT.get(round(rotation / 90) % 4 * 90)
    return image.transpose(turn) if turn is not None else image


def frame_image(frame: Any, peak_nits: float = hdr.PEAK) -> Image.Image:
    """A decoded frame as the upright SDR RGB picture a style network takes: HDR (PQ, HLG) tone-mapped (PQ's
    white at `peak_nits`: `hdr.content_peak` of the first frame), an untagged HD frame read as BT.709, a rotation
    tag applied."""
    colours = _source_colours(frame)
    if frame.color_trc in hdr.TRANSFERS:
        image = hdr.frame_to_sdr_image(frame, peak_nits, colours)
    else:
        image = frame.to_image(**colours)
    return upright(image, frame.rotation)


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2  # H.264's 4:2:0 needs even sides


class _Stages:
    """What the three stages share: a stop flag and the first error any of them met."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.stop.set()

    def put(self, q: queue.Queue, item: Any) -> None:
        while not self.stop.is_set():
            try:
                return q.put(item, timeout=_WAIT)
            except queue.Full:
                continue
        raise _Stopped

    def get(self, q: queue.Queue) -> Any:
        while not self.stop.is_set():
            try:
                return q.get(timeout=_WAIT)
            except queue.Empty:
                continue
        raise _Stopped

    def run(self, target: Callable[[], None], name: str) -> threading.Thread:
        def body() -> None:
            try:
                target()
            except _Stopped:
                pass
            except BaseException as e:  # handed to the caller's thread, which raises it
                self.fail(e)

        thread = threading.Thread(target=body, name=name, daemon=True)
        thread.start()
        return thread


class _Stopped(Exception):
    """Another stage failed or the caller stopped: this one ends quietly."""


def stylize_video(
    src: str | Path,
    dst: str | Path,
    stylize: Callable[[list[Image.Image]], list[Image.Image]],
    crf: int = 18,
    on_frame: Callable[[Image.Image], None] | None = None,
    batch_size: int = 4,
    smooth: float = 0.0,
    progress: bool = False,
) -> int:
    """Decode `src`, stylize its frames with `stylize` (a list of PIL RGB frames in, as many PIL images out),
    encode H.264 into `dst`, copy the audio. Returns the number of frames.

    `smooth` (0..1): temporal smoothing of the stylized frames where the picture is still (fast_style.smoothing),
    for models trained without stability; `progress`: a bar with frames per second on stderr.
    UserError for a file that is not a video or an unknown container."""
    import av
    from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc, VideoReformatter

    src, dst = Path(src), Path(dst)
    fmt = VIDEO_OUTPUTS.get(dst.suffix.lower())
    if fmt is None:
        raise UserError(f"{dst}: videos are written as {', '.join(VIDEO_OUTPUTS)}")
    if batch_size < 1:
        raise UserError(f"the video batch size must be >= 1, got {batch_size}")
    smoother = TemporalSmoother(smooth) if smooth else None
    try:
        source = av.open(str(src))
    except (av.FFmpegError, OSError) as e:
        raise UserError(f"cannot read video {src}: {_reason(e)}") from None
    stages = _Stages()
    decoded: queue.Queue = queue.Queue(maxsize=2 * batch_size)  # frames (and sound) on their way to the network
    stylized: queue.Queue = queue.Queue(maxsize=2 * batch_size)  # on their way to the encoder
    frames = 0
    with source, atomic_write(dst) as tmp:
        if not source.streams.video:
            raise UserError(f"{src} holds no video stream")
        video_in = source.streams.video[0]
        video_in.thread_type = "AUTO"  # FFmpeg decodes with several threads where the codec allows
        audio_in = source.streams.audio[0] if source.streams.audio else None
        total = video_in.frames or None
        with av.open(str(tmp), "w", format=fmt) as out:
            rate = video_in.average_rate or video_in.guessed_rate or Fraction(30)
            video_out = out.add_stream("libx264", rate=rate)
            video_out.time_base = video_in.time_base
            video_out.pix_fmt = "yuv420p"
            # BT.709, said in the stream: untagged, the encoder's default BT.601 matrix showed shifted colours
            # in players that take an HD video for BT.709 (a green 40,180,60 as 28,158,56)
            tags = video_out.codec_context
            tags.colorspace, tags.color_range = Colorspace.ITU709, ColorRange.MPEG
            tags.color_primaries, tags.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
            video_out.options = {"crf": str(crf), "preset": "medium"}
            copy_audio = audio_in is not None and audio_in.codec_context.name in out.supported_codecs
            if audio_in is None:
                audio_out = None
            elif copy_audio:
                audio_out = out.add_stream_from_template(audio_in)
            else:  # e.g. 8-bit PCM from an .avi written as .mp4: the sound is kept, as AAC
                log.info("%s: %s audio re-encoded as AAC for %s", src.name, audio_in.codec_context.name, dst.suffix)
                audio_out = out.add_stream("aac", rate=audio_in.rate or 48000)
                layout = audio_in.layout.name  # an .avi may not name the channels' order ("1 channels"): AAC needs it
                audio_out.layout = ("mono" if audio_in.channels == 1 else "stereo") if "channels" in layout else layout
            streams = [video_in] + ([audio_in] if audio_in is not None else [])

            def decode() -> None:
                count, peak = 0, hdr.PEAK
                try:
                    for packet in source.demux(*streams):
                        if packet.stream is audio_in:
                            if not copy_audio:  # decoded here, encoded by the writer
                                for sound in packet.decode():
                                    stages.put(decoded, ("sound", sound))
                            elif packet.dts is not None:
                                stages.put(decoded, ("sound", packet))
                            continue
                        for frame in packet.decode():
                            if not count and frame.color_trc in hdr.TRANSFERS:  # one peak for the whole video
                                peak = hdr.content_peak(frame) if frame.color_trc == hdr.PQ else hdr.PEAK
                                kind = hdr.TRANSFERS[frame.color_trc]
                                log.info("%s: HDR (%s, %d nits) tone-mapped to SDR", src.name, kind, peak)
                            image = frame_image(frame, peak)
                            stages.put(decoded, ("frame", image, frame.pts, frame.time_base))
                            count += 1
                except av.FFmpegError as e:
                    raise UserError(f"cannot decode {src} (frame {count}): {_reason(e)}") from None
                declared = video_in.frames  # what the container says it holds (0: it does not say)
                if declared and count + 2 < declared:
                    log.warning(
                        "%s: the video ended after %d of the %d frames it declares (cut short or damaged?); "
                        "those were stylized",
                        src.name,
                        count,
                        declared,
                    )
                stages.put(decoded, _END)

            def sound_packets(sound: Any) -> list:
                if not copy_audio:
                    return audio_out.encode(sound)
                sound.stream = audio_out
                return [sound]

            def encode() -> None:
                try:
                    write()
                except av.FFmpegError as e:
                    raise UserError(f"cannot write {dst}: {_reason(e)}") from None

            def write() -> None:
                written = 0
                to_yuv = VideoReformatter()  # one swscale context for all frames (one each: 7.8 against 6.4 ms at 720p)
                early: list = []  # sound before the first frame: muxing it would open the encoder before its size
                while (item := stages.get(stylized)) is not _END:
                    if item[0] == "sound":
                        if written:
                            out.mux(sound_packets(item[1]))
                        else:
                            early.extend(sound_packets(item[1]))
                        continue
                    _, image, pts, time_base = item
                    if not written:
                        video_out.width, video_out.height = _even(image.size)
                    size = (video_out.width, video_out.height)
                    if image.size != size:
                        image = image.crop((0, 0, *size)) if _even(image.size) == size else image.resize(size)
                    new = to_yuv.reformat(
                        av.VideoFrame.from_image(image.convert("RGB")),
                        format="yuv420p",
                        dst_colorspace=Colorspace.ITU709,
                        dst_color_range=ColorRange.MPEG,
                    )
                    new.pts, new.time_base = pts, time_base
                    out.mux(video_out.encode(new))
                    written += 1
                    for held in early:
                        out.mux(held)
                    early.clear()
                out.mux(video_out.encode())  # flush the encoders
                if audio_out is not None and not copy_audio:
                    out.mux(audio_out.encode(None))

            threads = [stages.run(decode, "fast-style-decode"), stages.run(encode, "fast-style-encode")]
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="frame", desc=src.name, leave=False, dynamic_ncols=True)
            try:
                pending: list[tuple[Image.Image, Any, Any]] = []

                def flush() -> None:
                    nonlocal frames
                    if not pending:
                        return
                    images = stylize([image for image, _, _ in pending])
                    if len(images) != len(pending):
                        raise RuntimeError(f"stylize returned {len(images)} images for {len(pending)} frames")
                    for (frame, pts, time_base), image in zip(pending, images):
                        if smoother is not None:
                            image = smoother(frame, image)
                        stages.put(stylized, ("frame", image, pts, time_base))
                        frames += 1
                        if on_frame:
                            on_frame(image)
                    if bar is not None:
                        bar.update(len(pending))
                    pending.clear()

                while (item := stages.get(decoded)) is not _END:
                    if item[0] == "sound":
                        stages.put(stylized, item)
                        continue
                    pending.append(item[1:])
                    if len(pending) == batch_size:
                        flush()
                flush()
                stages.put(stylized, _END)
                threads[1].join()
            except _Stopped:
                pass
            except BaseException as e:  # Ctrl-C or a failed stylize: the other stages stop, then it is raised
                stages.fail(e)
            finally:
                for thread in threads:
                    thread.join()
                if bar is not None:
                    bar.close()
            if stages.error is not None:
                raise stages.error
        if frames == 0:
            raise UserError(f"{src} holds no decodable frames")
    return frames


def _reason(error: Exception) -> str:
    """FFmpeg's words for a failure, without PyAV's "[Errno 1094995529] ...: 'path'" wrapping."""
    return getattr(error, "strerror", None) or str(error)
