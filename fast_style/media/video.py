"""Video in, stylized video out (PyAV: FFmpeg's decoders and its H.264 encoder, shipped in its wheels).

Three stages overlap: a thread decodes (FFmpeg's own threads too), the caller's thread stylizes frames in
batches of `batch_size` (one network call each: a GPU stays busy, the CPU's cores share the work), and a thread
encodes and writes. The queues between them are bounded, so memory does not grow with the video. The frame
rate and each frame's time are kept (uneven ones too); every sound track is copied unchanged with its language
(or re-encoded as AAC where the output container cannot hold its codec), and the file's tags too; a phone's
portrait video (landscape frames with a rotation tag) is turned upright before it is stylized; HDR frames (PQ,
HLG) are tone-mapped to SDR (fast_style.media.hdr). The file is written beside its destination and renamed into place
when complete: an error or Ctrl-C leaves no partial file.
"""

from __future__ import annotations

import errno
import itertools
import logging
import math
import queue
import threading
import warnings
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from fast_style.atomic import atomic_write
from fast_style.devices import pick_device
from fast_style.errors import EMPTY_FILE, UserError, setting
from fast_style.file_kinds import IMAGE_EXTENSIONS, VIDEO_OUTPUTS, cut_short
from fast_style.inference_defaults import PRESETS
from fast_style.media import hdr, yuv
from fast_style.media.pixels import to_uint8, to_unit
from fast_style.media.progress import frame_bar
from fast_style.media.smoothing import TemporalSmoother
from fast_style.media.video_tracks import MUXER_TAGS, Track, ffmpeg_reason, moved_back, moved_chapters
from fast_style.numbers import check_number
from fast_style.options import check_callable, check_path
from fast_style.outputs import check_output, is_the_file
from fast_style.plurals import counted

_END = object()
log = logging.getLogger(__name__)
_WAIT = 0.1  # seconds a stage waits on a queue before it looks whether another stage failed or was stopped


# FFmpeg's container names -> the extension a video of it is stylized under
_CONTAINER_EXTENSIONS = {
    "mov,mp4,m4a,3gp,3g2,mj2": ".mp4",
    "matroska,webm": ".mkv",
    "avi": ".avi",
    "mpegts": ".ts",
    "asf": ".wmv",
    "flv": ".flv",
    "mpeg": ".mpg",
    "ogg": ".ogv",
    "dv": ".dv",
    "mxf": ".mxf",
    "yuv4mpegpipe": ".y4m",
    "h264": ".h264",
    "hevc": ".hevc",
    "mpegvideo": ".m2v",
    "obu": ".obu",
    "ivf": ".ivf",
}


# FFmpeg's raw elementary stream demuxers (.h264, .hevc, .m2v, .obu): their frames carry no times of their own and
# their "average" rate is the demuxer's default of 25 frames/s; the rate is the stream's own, where it states one
RAW_STREAMS = ("h264", "hevc", "vvc", "mpegvideo", "m4v", "obu", "av1")


SOUND_ALONE = "it holds sound alone (a song, a recording), no picture or video: nothing to stylize"


def video_or_sound_instead(path: str | Path) -> str | None:
    """What a file Pillow cannot read as a picture holds instead, in words for its error: where it is named as a
    picture (`clip.jpg`) and holds a video, how to name it ("rename it clip.mp4 ..."); where it holds sound alone (a
    song.mp3, a .m4a, even with a cover picture), that there is nothing to stylize in it; None otherwise (a picture,
    or what FFmpeg cannot read either). It was said to be no video, or no picture Pillow identifies ("cannot identify
    image file 'song.mp3'")."""
    import av
    from PIL import Image

    path = Path(path)
    if cut_short(path):  # (a cut AVIF, which Pillow cannot identify: FFmpeg read what was left as a video)
        return None
    try:  # a picture FFmpeg reads as a one-frame video too (AVIF, HEIC: in an MP4's boxes): Pillow's
        with warnings.catch_warnings(action="ignore"), Image.open(path):  # (a damaged TIFF's "Corrupt EXIF data")
            return None
    except Exception:
        pass
    try:
        with av.open(_local(path)) as container:
            film = main_video(container.streams.video)
            if film is None and container.streams.audio:
                return SOUND_ALONE
            if film is None or container.format.name not in _CONTAINER_EXTENSIONS:
                return None  # (FFmpeg reads pictures too: a JPEG is an "image2" of one frame)
            ext = _CONTAINER_EXTENSIONS[container.format.name]
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return None
    return f"it is a video named as a picture: rename it {path.stem}{ext} to stylize it as one"


def _source_colours(frame: Any) -> dict:
    """to_ndarray's arguments for a decoded frame: none where the stream says its colour space (PyAV follows it);
    where it does not, BT.2020 for an HDR frame (PQ, HLG) and BT.709 for an HD frame (720 lines or more), as
    players take them (swscale's default is BT.601, the SD standard)."""
    from av.video.reformatter import Colorspace

    if frame.colorspace in yuv.UNSTATED:
        if frame.color_trc in hdr.TRANSFERS:
            return {"src_colorspace": Colorspace.BT2020}
        if frame.height >= 720:
            return {"src_colorspace": Colorspace.ITU709}
    return {}


def quarter_turns(rotation: float) -> int:
    """Quarter turns counter-clockwise that make a decoded frame upright as a player shows it: `rotation` is the
    degrees counter-clockwise of the stream's display matrix (PyAV's `VideoFrame.rotation`; a phone's portrait
    video says -90)."""
    return round(rotation / 90) % 4


def orientation(frame: Any) -> tuple[int, bool]:
    """(quarter turns, mirrored) that make a decoded frame upright as a player shows it: mirrored left to right
    first where its display matrix mirrors (a mirrored front camera's; the matrix is then a turn after the mirror),
    then turned as `quarter_turns` says. Without the mirror a mirroring matrix read as a half turn (PyAV's
    rotation of a left-right mirror is -180): the picture came out upside down."""
    from av.sidedata.sidedata import Type

    matrix = frame.side_data.get(Type.DISPLAYMATRIX)
    m = np.frombuffer(bytes(matrix), "<i4").astype(float) if matrix is not None else None
    if m is None or m.size < 5 or m[0] * m[4] - m[1] * m[3] >= 0:
        return quarter_turns(frame.rotation), False
    # the turn left once the mirror is undone (x negated: the first column), as av_display_rotation_get reads it
    return quarter_turns(-math.degrees(math.atan2(-m[1], -m[0]))), True


def frame_array(frame: Any, peak_nits: float = hdr.PEAK, planes: bool = False) -> tuple[np.ndarray, tuple | None]:
    """A decoded frame as an array for the network, not yet turned upright (`orientation`), and how to read it:
    ((H, W, 3) uint8 SDR RGB, None), HDR (PQ, HLG) tone-mapped (PQ's white at `peak_nits`: `hdr.content_peak` of the
    first frame) and an untagged HD frame read as BT.709; or, with `planes` and where fast_style.media.yuv converts the
    frame (8-bit 4:2:0 SDR, even sides), its ((H * 3/2, W) uint8 yuv420p or nv12 array, (matrix, full range,
    nv12)) as decoded: `yuv.to_rgb`'s arguments."""
    name = frame.format.name
    if planes and name in ("yuv420p", "yuvj420p", "nv12") and not (frame.width % 2 or frame.height % 2):
        matrix = yuv.matrix_of(frame.colorspace, frame.height)
        if matrix is not None and frame.color_trc not in hdr.TRANSFERS:
            return frame.to_ndarray(), (matrix, name == "yuvj420p" or frame.color_range == 2, name == "nv12")
    colours = _source_colours(frame)
    if frame.color_trc in hdr.TRANSFERS:
        return hdr.frame_to_sdr(frame, peak_nits, colours), None
    return frame.to_ndarray(format="rgb24", **colours), None


def _see_through(frame: Any) -> bool:
    """Whether a decoded frame has pixels that are not opaque (a QuickTime Animation's or a ProRes 4444's with
    alpha); a frame without an alpha channel costs nothing."""
    if not any(component.is_alpha for component in frame.format.components):
        return False
    return int(frame.to_ndarray(format="rgba")[..., 3].min()) < 255


def open_source(src: Path, nvdec: int | None = None) -> Any:
    """The video file opened for decoding; with `nvdec` (a CUDA device's index), its frames decoded there by NVDEC
    and handed back in system memory (nv12 for 8-bit 4:2:0), or in software where FFmpeg cannot open that decoder
    (no NVIDIA GPU or driver: a log line says so)."""
    import av
    from av.codec.hwaccel import HWAccel

    if src.is_file() and src.stat().st_size == 0:  # (a raw .h264's demuxer opens one: "holds no decodable frames",
        raise UserError(f"cannot read video {src}: {EMPTY_FILE}")  # after a warning of its frame rate)
    hw_error = None
    if nvdec is not None:
        try:
            return av.open(_local(src), hwaccel=HWAccel("cuda", device=str(nvdec), allow_software_fallback=True))
        except (av.FFmpegError, OSError) as e:
            hw_error = e
    try:
        source = av.open(_local(src))
    except (av.FFmpegError, OSError) as e:
        raise UserError(f"cannot read video {src}: {_unopened_because(src, e)}") from None
    if hw_error is not None:
        log.warning("%s: no NVDEC decoder (%s): decoding in software", src.name, ffmpeg_reason(hw_error))
    return source


def _unopened_because(src: Path, error: Exception) -> str:
    """Why FFmpeg could not open the video `src`, in plain words. A Matroska or WebM file cut within its header
    was "Input/output error" (as if the disk were failing; said so only where the file reads whole), one cut
    before its first frame "End of file"."""
    if src.is_file() and src.stat().st_size == 0:
        return EMPTY_FILE
    if isinstance(error, EOFError) or (getattr(error, "errno", None) == errno.EIO and _reads_whole(src)):
        return "it ends before its first frame (an unfinished copy or download, or an empty recording?)"
    if _y4m_header(src) == -1:  # (it had said "Invalid argument")
        return "it ends inside its Y4M header: the file looks cut short or damaged (an unfinished copy or download?)"
    return ffmpeg_reason(error)


_Y4M_LINE = 256  # the longest Y4M header line FFmpeg reads


def _y4m_header(src: Path) -> int | None:
    """The length of a .y4m's header line, its newline included; -1 where the file begins as one but has no whole
    header (cut within it); None for another file."""
    try:
        with open(src, "rb") as f:
            head = f.read(_Y4M_LINE + 1)
    except OSError:
        return None
    if len(head) < 4 or not (head.startswith(b"YUV4MPEG2") or b"YUV4MPEG2".startswith(head)):
        return None
    return head.find(b"\n") + 1 or -1


_HEADER_BYTES = 64 << 20  # a file cut within its header is no larger (fonts attached to a film's subtitles included)


def _reads_whole(path: Path) -> bool:
    """Whether every byte of `path` can be read (the disk is not failing); not looked at, False, for a file over
    _HEADER_BYTES (a film's hour would be read through for one line)."""
    try:
        if path.stat().st_size > _HEADER_BYTES:
            return False
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except OSError:
        return False
    return True


def _local(path: Path) -> str:
    """A file's name as FFmpeg takes it: "file:" first, or "12:30.mp4" is read as a URL of protocol "12"."""
    return f"file:{path}"


def frames_to_tensor(
    arrays: list[np.ndarray], layout: tuple | None, upright: tuple[int, bool], device: torch.device
) -> torch.Tensor:
    """`frame_array`'s arrays of one size and layout -> (N, 3, H, W) float RGB in [0, 1] on `device`, upright
    (`orientation`)."""
    if device.type == "cuda":  # stacked into pinned memory, the copy queued behind the batch the GPU is running
        with torch.cuda.device(device):  # pinned by cuda:N's context, not by a new one on GPU 0
            shape, dtype = (len(arrays), *arrays[0].shape), torch.from_numpy(arrays[0]).dtype
            host = torch.empty(shape, dtype=dtype, pin_memory=True)
            np.stack(arrays, out=host.numpy())
            batch = host.to(device, non_blocking=True)  # uint8 crosses: a quarter of the float's bytes
    else:  # (MPS: a blocking copy; non-blocking ones from pageable memory read back wrong values there)
        batch = torch.from_numpy(np.stack(arrays)).to(device)
    x = to_unit(batch.permute(0, 3, 1, 2)) if layout is None else yuv.to_rgb(batch, *layout)
    turns, mirrored = upright
    x = x.flip(-1) if mirrored else x
    return torch.rot90(x, turns, (-2, -1)) if turns else x


def _fitted(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, 3, H, W) at the video's (H, W) `size`: as they are, an odd side cropped by its last pixel, or resized to
    fit inside it, black bars on two sides where their shape is another (frames of a clip joined to one of another
    size had been stretched to the first's shape)."""
    if _even(frames.shape[-2:]) == size:
        return frames[..., : size[0], : size[1]]
    (h, w), (height, width) = frames.shape[-2:], size
    k = min(height / h, width / w)
    inner = min(height, max(1, round(h * k))), min(width, max(1, round(w * k)))
    if height - inner[0] <= 1 and width - inner[1] <= 1:  # the same shape, but for rounding: no 1 px bar
        return F.interpolate(frames, size, mode="bilinear", antialias=True)
    out = frames.new_zeros((*frames.shape[:-2], height, width))
    top, left = (height - inner[0]) // 2, (width - inner[1]) // 2
    out[..., top : top + inner[0], left : left + inner[1]] = F.interpolate(
        frames, inner, mode="bilinear", antialias=True
    )
    return out


def _even(size: Sequence[int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2  # H.264's 4:2:0 needs even sides


def tensor_to_frames(frames: torch.Tensor, planes: bool = False) -> np.ndarray:
    """(N, 3, H, W) float RGB in [0, 1] (H, W even) -> on the CPU, (N, H, W, 3) uint8 RGB for swscale, or with
    `planes` (N, H * 3/2, W) uint8 yuv420p converted where the tensor lives (BT.709, video range)."""
    return _Download(frames, planes).arrays()


class _Download:
    """`tensor_to_frames` started, read later: from a CUDA device the copy goes into pinned host memory without
    waiting, so the next batch can be launched before this one is read and the GPU runs it while the host hands
    these frames to the encoder and stacks the next ones (otherwise the GPU idled through each batch's download)."""

    def __init__(self, frames: torch.Tensor, planes: bool = False) -> None:
        out = yuv.to_yuv420(frames) if planes else to_uint8(frames).permute(0, 2, 3, 1).contiguous()
        self.done: torch.cuda.Event | None = None
        if out.device.type == "cuda":
            with torch.cuda.device(out.device):  # cuda:N's current stream, where the copy is queued (not GPU 0's)
                self.host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
                self.host.copy_(out, non_blocking=True)
                self.done = torch.cuda.Event()
                self.done.record()  # after that copy on its stream: waits for it, not for later batches
        else:
            self.host = out.cpu()

    def arrays(self) -> np.ndarray:
        if self.done is not None:
            self.done.synchronize()
        return self.host.numpy()


class _FrameTimes:
    """Presentation times for the decoded frames, always increasing, as the encoder needs them. An AVI file stores
    frames in decoding order and FFmpeg numbers them as stored, so once B-frames are put back in order their numbers
    are shuffled (1, 4, 3, 5, 2, ...): there each frame takes the decoding time of the packet that returned it,
    less that lead at the first frame (1, 2, 3, ...), and the frames flushed at the end (no packet) follow on. A
    time that is missing or not after the one before becomes that one plus a frame. `from_zero`: the times of a raw
    elementary stream (`RAW_STREAMS`), which FFmpeg's parser makes up, moved to start at 0 (an .m2v's start a frame
    in, and the stylized video had started a frame late)."""

    def __init__(self, by_decoding: bool, step: int, from_zero: bool = False) -> None:
        self.by_decoding, self.step, self.from_zero = by_decoding, step, from_zero
        self.last: int | None = None
        self.lead: int | None = None
        self.first: int | None = None

    def __call__(self, frame: Any) -> int:
        t = frame.pts
        if self.from_zero and t is not None:
            self.first = t if self.first is None else self.first
            t -= self.first
        if self.by_decoding and frame.dts is not None:
            if self.lead is None:
                self.lead = frame.dts - (t if t is not None else frame.dts)
            t = frame.dts - self.lead
        elif self.by_decoding and self.lead is not None:  # the frames the decoder still held at the end
            t = None
        if t is None or (self.last is not None and t <= self.last):
            t = 0 if self.last is None else self.last + self.step
        self.last = t
        return t


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


def default_batch(device: torch.device) -> int:
    """Frames a `stylize` call takes by default: 4 on a GPU, 1 on the CPU, whose cores already share each frame."""
    return 4 if device.type == "cuda" else 1


def _picture_kind(src: Path) -> str:
    """What a picture named as a video is, and how to stylize it: it is taken as a video by its name."""
    from PIL import Image

    from fast_style.media.animation import frame_count
    from fast_style.media.images import decoding

    try:
        with decoding(), Image.open(src) as img:
            fmt = img.format
        frames = frame_count(src)
    except Exception:  # (FFmpeg reads some pictures Pillow does not)
        return "a still picture, not a video: stylize it as one (named with its picture's extension: .jpg, .png)"
    kind = f"an animation of {frames} frames" if frames > 1 else "a still picture"
    if src.suffix.lower() in IMAGE_EXTENSIONS:  # (the Python API's stylize_video given a photo)
        if frames > 1:
            return f"{kind} ({fmt}), not a video: fast_style.media.animation.stylize_animation stylizes it as one"
        return f"{kind} ({fmt}), not a video: stylize it as one"
    ext = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "GIF": ".gif", "TIFF": ".tif"}.get(fmt)
    return f"{kind} ({fmt}), not a video: rename it {src.stem}{ext or '.' + str(fmt).lower()} to stylize it as one"


def stylize_video(
    src: str | Path,
    dst: str | Path,
    stylize: Callable[[torch.Tensor], torch.Tensor],
    crf: int = 18,
    on_frame: Callable[[int, int], None] | None = None,
    batch_size: int | None = None,
    smooth: float = 0.0,
    progress: bool = False,
    device: torch.device | str = "cpu",
    preset: str = "medium",
    convert_on_device: bool | None = None,
    decode_on_device: bool = False,
    force: bool = False,
) -> int:
    """Decode `src`, stylize its frames with `stylize`, encode H.264 into `dst`, copy the audio. Returns the number
    of frames. An existing `dst` is replaced only with `force` (UserError before any work otherwise).

    `stylize` takes up to `batch_size` frames (None: 4 on a GPU, 1 on the CPU, whose cores already share each
    frame) as (N, 3, H, W) float RGB in [0, 1] on `device` (upright, of one size)
    and returns them stylized, as (N, 3, H', W') on the same device (any size: it is kept for the whole video).
    `on_frame(width, height)`: called for each frame written. `smooth` (0..1): temporal smoothing of the
    stylized frames where the picture is still or pans (fast_style.media.smoothing), for models trained without
    stability;
    `progress`: a bar with frames per second on stderr; `preset`: x264's speed for the quality of `crf`
    (ultrafast ... veryslow: a faster preset writes a larger file); `convert_on_device`: whether 8-bit 4:2:0 frames
    cross to `device` and back as Y'CbCr, converted there (None: on a GPU, not on the CPU, where swscale converts
    a 1080p frame in 1.8 ms and torch in 82); `decode_on_device`: decode the video with a CUDA `device`'s own
    decoder (NVDEC, through FFmpeg's CUDA hwaccel; it hands back nv12 frames), leaving the CPU's cores to the
    encoder, or in software where FFmpeg cannot open that decoder (a log line says so). UserError for a file that
    is not a video or an unknown container."""
    import av

    check_path("src", src, "the video")
    check_path("dst", dst, "the stylized video")
    check_callable("stylize", stylize, "taking (N, 3, H, W) frames and returning them stylized (stylize_tensor)")
    check_callable("on_frame", on_frame, "taking (width, height)", none=True)
    src, dst = Path(src).expanduser(), Path(dst).expanduser()  # as Stylizer.load reads its model ("~/in.mp4")
    # one line for a device that is not there (torch's "exchangeDevice" error); None: auto
    device = pick_device(device)
    crf = check_number(
        "crf", crf, lambda v: 0 <= v <= 51, "a whole number within 0..51 (x264's CRF: 18 by default)", True
    )
    fmt = VIDEO_OUTPUTS.get(dst.suffix.lower())
    if fmt is None:
        raise UserError(f"{dst}: videos are written as {', '.join(VIDEO_OUTPUTS)}")
    if batch_size is None:
        batch_size = default_batch(device)
    # (2.5 never filled a batch: the whole video went in one, however long; '3' was a TypeError deep inside)
    batch_size = check_number(
        f"the video batch size ({setting('--batch-size', 'batch_size')})",
        batch_size,
        lambda v: v >= 1,
        "a whole number >= 1",
        True,
    )
    if preset not in PRESETS:
        raise UserError(f"unknown video preset '{preset}': use one of {', '.join(PRESETS)}")
    if is_the_file(dst, src):  # the input would be replaced by its own stylized copy
        raise UserError(f"{dst} is the video being read: write the stylized one elsewhere")
    check_output(dst, force)
    if decode_on_device and device.type != "cuda":
        raise UserError(f"decoding on the device needs a CUDA device (NVDEC), not {device}")
    on_device = device.type != "cpu" if convert_on_device is None else convert_on_device
    smoother = TemporalSmoother(smooth) if smooth else None  # (its value checked before the video is opened)
    source = open_source(src, (device.index or 0) if decode_on_device else None)
    with source, atomic_write(dst, overwrite=force) as tmp:
        video_in = main_video(source.streams.video)
        empty, looked = _empty_films(src, source.streams.video)
        if (picked := video_in) in empty:  # (it was stylized all the same: "holds no decodable frames", the film
            video_in = main_video([s for s in source.streams.video if s not in empty])  # left out)
            log.warning(
                "%s: its %dx%d video track (stream %d) holds no frames%s: the %dx%d one (stream %d) is stylized",
                src.name,
                *(picked.width, picked.height, picked.index),
                f" in the file's first {looked}" if looked else "",
                *(video_in.width, video_in.height, video_in.index),
            )
        if video_in is None:  # (a song's cover picture is no video): sound alone said as a song.mp3's is
            raise UserError(f"{src}: {SOUND_ALONE}" if source.streams.audio else f"{src} holds no video stream")
        # FFmpeg reads a photo as a one-frame video, a GIF or an animated PNG as a video (an animated WebP not: it
        # was refused where a GIF became an MP4; fast-style-stylize refused either as a video)
        if source.format.name in ("image2", "gif", "apng") or source.format.name.endswith("_pipe"):
            raise UserError(f"{src} is {_picture_kind(src)}")
        video_in.thread_type = "AUTO"  # FFmpeg decodes with several threads where the codec allows
        options = {"movflags": "use_metadata_tags"} if _quicktime_keys(source, fmt) else {}
        try:
            with av.open(_local(tmp), "w", format=fmt, options=options) as out:
                x264 = {"crf": str(crf), "preset": preset}
                job = _Job(src, dst, source, video_in, out, fmt, x264, on_device, batch_size, empty)
                frames = job.run(stylize, device, smoother, on_frame, progress)
        except av.FFmpegError as e:
            if isinstance(e, OSError):  # a full disk, no rights: atomic_write says so
                raise
            # FFmpeg refused the file as it closed it (its index, written last, after all the work): it was said of
            # the input, by the output's temporary name ("clip.mkv: Invalid argument: '.../.clip.mp4.x1y2.tmp'")
            raise UserError(f"cannot write {dst}: FFmpeg could not finish it ({ffmpeg_reason(e)})") from None
        if frames == 0:
            if source.format.name == "yuv4mpegpipe" and src.stat().st_size > (_y4m_header(src) or 0) > 0:
                # (bytes after its header, no whole frame: it had said only "holds no decodable frames")
                raise UserError(
                    f"{src} holds no whole frame: it ends inside its first one, the file looks cut short or damaged "
                    "(an unfinished copy or download?)"
                )
            raise UserError(f"{src} holds no decodable frames")
    return frames


class _Job:
    """One video's three stages: `decode` (a thread) hands frames and sound to `run` (the caller's thread), which
    stylizes the frames in batches and hands them on with the sound to `write` (a thread), which encodes and muxes."""

    def __init__(
        self,
        src: Path,
        dst: Path,
        source: Any,
        video_in: Any,
        out: Any,
        fmt: str,
        x264: dict[str, str],
        on_device: bool,
        batch_size: int,
        empty: Sequence[Any] = (),
    ) -> None:
        self.empty = empty  # video tracks without frames (`_empty_films`): no other video to name as left out
        self.src, self.dst, self.source, self.video_in, self.out, self.fmt = src, dst, source, video_in, out, fmt
        self.on_device, self.batch_size = on_device, batch_size
        self.rate = frame_rate(video_in)
        if _unstated_rate(video_in):  # (its frames carry no times: the rate times them all)
            log.warning(
                "%s: the stream states no frame rate: it is timed at %s frames/s, FFmpeg's guess (for another, put "
                "it in a container first: ffmpeg -framerate 30 -i %s -c copy %s.mkv)",
                src.name,
                f"{float(self.rate):g}",
                src.name,
                src.stem,
            )
        self.video_out = self._video_stream(x264)
        sounds, kept = self._tracks(fmt)
        # the file's own tags (title, creation time, location), not those its muxer writes for itself
        tags = {k: v for k, v in source.metadata.items() if k.lower() not in MUXER_TAGS}
        # a camera's .mov or .mp4 holds its timecode in a track of its own, which FFmpeg reads as a tag of the video
        # (a Matroska file's is the file's): the output's is made from it (it was lost, said as "1 data track")
        if _key(tags, "timecode") is None and (own := _key(dict(video_in.metadata), "timecode")) is not None:
            tags["timecode"] = video_in.metadata[own]
        if fmt in ("mp4", "mov") and 2 * self.rate >= 511 and (timecode := _key(tags, "timecode")) is not None:
            # MP4's and MOV's timecode track counts at most 255 frames a second: with a faster clip's (a phone's
            # slow motion, a camera's) the file failed to close after all the work ("Invalid argument")
            del tags[timecode]
            log.warning(
                "%s: its timecode is not kept: %s holds none over 255 frames/s (.mkv does)", src.name, dst.suffix
            )
        if fmt == "mov" and not _quicktime_keys(source, fmt):
            for key, value in list(tags.items()):
                if len(value.encode()) > _MOV_TAG_BYTES:  # its length in 16 bits: a 70,000-byte description came
                    del tags[key]  # out as its first 4,464 (FFmpeg wraps the count), one of 65,536 empty
                    log.warning(
                        "%s: its %s tag (%d bytes) is not kept: .mov holds tags of up to %d bytes (.mp4 and .mkv keep "
                        "it)",
                        src.name,
                        key,
                        len(value.encode()),
                        _MOV_TAG_BYTES,
                    )
        if fmt == "mov" and not _quicktime_keys(source, fmt):  # an Android phone's maker and model as QuickTime's
            for key in [k for k in tags if k.lower() in _MOV_CAMERA]:  # make and model (they were lost)
                if _key(tags, _MOV_CAMERA[key.lower()]) is None:
                    tags[_MOV_CAMERA[key.lower()]] = tags.pop(key)
        if fmt in _HELD_TAGS and source.format.name == "mxf" and _key(tags, "creation_time") is None:
            if (date := _key(tags, "modification_date")) is not None:  # an MXF's date, as FFmpeg's MXF writer writes
                tags["creation_time"] = tags.pop(date)  # creation_time: the .mp4's and .mov's (it was lost)
        if fmt in _HELD_TAGS and not _quicktime_keys(source, fmt):
            # (an .mkv's own CUSTOM_KEY, its DESCRIPTION in a .mov, were lost without a word; the recorder's own,
            # `_RECORDERS_OWN`, and an MXF's writer and ids, `_MXF_WRITERS`, are not said)
            own = _RECORDERS_OWN | (_MXF_WRITERS if source.format.name == "mxf" else set())
            lost = sorted(k for k in tags if not _held(k, tags, fmt) and k.lower() not in own)
            if lost:
                also = [f".{o}" for o in ("mp4", "mov") if o != fmt and all(_held(k, tags, o) for k in lost)]
                log.warning(
                    "%s: %s not kept (%s): %s holds only tags of its own list (write %s to keep %s)",
                    src.name,
                    counted(len(lost), "tag"),
                    ", ".join(lost),
                    dst.suffix,
                    " or ".join([".mkv", *also]),
                    "it" if len(lost) == 1 else "them",
                )
        out.metadata.update(tags)
        # the output starts at 0, as FFmpeg writes it: a transport stream (a TV recording, a camera's) starts
        # wherever its clock stood, and the output had as long an empty lead-in (an hour's); the chapters move
        # with the picture and sound
        self.origin = Fraction(source.start_time, 1_000_000) if (source.start_time or 0) > 0 else Fraction(0)
        chapters = source.chapters()  # a film's or a camera's chapter marks
        if chapters:
            out.set_chapters(moved_chapters(chapters, self.origin) if self.origin else chapters)
        self._name_left_out(sounds, kept, bool(chapters), fmt)
        self.streams = [video_in, *sounds, *kept]
        step = max(1, round(1 / (self.rate * video_in.time_base))) if video_in.time_base else 1  # a frame's ticks
        self.times = _FrameTimes("avi" in source.format.name.split(","), step, source.format.name in RAW_STREAMS)
        self.first_upright: list[tuple[int, bool]] = []  # the first frame's orientation, for the writer
        # each frame's duration as the file says (by its time), and when the first starts and the last ends (s)
        self.durations: dict[int, int] = {}
        self.start: Fraction | None = None
        self.end: Fraction | None = None
        self.jumps: dict[str, Fraction] = {}  # how far the sound moved at a jump back in time (Track.continuous)
        self.stages = _Stages()
        self.decoded: queue.Queue = queue.Queue(
            maxsize=2 * batch_size
        )  # frames (and sound) on their way to the network
        self.stylized: queue.Queue = queue.Queue(maxsize=2 * batch_size)  # on their way to the encoder

    def _video_stream(self, x264: dict[str, str]) -> Any:
        from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

        video_out = self.out.add_stream("libx264", rate=self.rate)
        # the encoder counts in the input's ticks too: in its default 1/rate, uneven frame times (a phone's
        # dropped frames, a screen recording) were rounded onto the average rate's grid, two frames to one time
        video_out.time_base = video_out.codec_context.time_base = self.video_in.time_base
        video_out.pix_fmt = "yuv420p"
        # BT.709, said in the stream: untagged, the encoder's default BT.601 matrix showed shifted colours
        # in players that take an HD video for BT.709 (a green 40,180,60 as 28,158,56)
        tags = video_out.codec_context
        tags.colorspace, tags.color_range = Colorspace.ITU709, ColorRange.MPEG
        tags.color_primaries, tags.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
        video_out.options = x264  # crf and preset
        return video_out

    def _tracks(self, fmt: str) -> tuple[list, list]:
        """The sound and subtitle tracks kept, set up in the output (self.tracks: each by its input's index); an
        .mkv's attached files (fonts, a cover picture) set up too where the output is one (self.attached)."""
        src, dst, out = self.src, self.dst, self.out
        # every sound track (a film's languages, a commentary), each with its language and title
        # (a sound whose codec FFmpeg does not know has no codec context: it is named below, not kept)
        sounds = [sound for sound in self.source.streams.audio if sound.codec_context is not None]
        self.tracks = {sound.index: Track.of(sound, out, fmt, src.name, dst.suffix) for sound in sounds}
        # subtitles copied where the output's container takes their format (an .mkv's SRT/ASS/PGS/DVD into .mkv,
        # an .mp4's into .mp4/.mov), text subtitles written in its text format where it does not (SRT into .mp4);
        # the others (PGS into .mp4) are named below
        kept = []
        for sub in self.source.streams.subtitles:
            if sub.codec_context is None:
                continue
            if sub.codec_context.name in out.supported_codecs:
                self.tracks[sub.index] = Track.copied(sub, out)
            elif (track := Track.subtitles(sub, out, fmt, src.name, dst.suffix)) is not None:
                self.tracks[sub.index] = track
            else:
                continue
            kept.append(sub)
        # a Matroska file's attached files (the fonts its ASS subtitles are drawn in): copied into .mkv, the only
        # output that holds them (the subtitles copied had shown in a player's default font); named below otherwise
        self.attached = []
        for attachment in self.source.streams.attachments:
            if fmt == "matroska" and _named_file(attachment):
                out.add_stream_from_template(attachment)  # (written with the header: its bytes are no packet)
                self.attached.append(attachment)
        self.covers: list[tuple[Any, bytes]] = []  # an .mp4's cover pictures: (its stream, the picture's bytes)
        self._copy_covers(out, fmt)
        return sounds, kept

    def _copy_covers(self, out: Any, fmt: str) -> None:
        """The source's cover pictures (attached pictures, which FFmpeg shows as videos of one frame) kept: attached
        to an .mkv written, as the other attached files are (named cover.jpg or .png where the source names none, as
        an MP4's), or an .mp4's cover (its JPEG, PNG or BMP: MP4's covr); they were "1 cover picture track not
        kept". QuickTime's .mov holds none (FFmpeg's writer leaves it out)."""
        import av
        from av.stream import Disposition

        covers = [s for s in self.source.streams.video if s.disposition & Disposition.attached_pic]
        if fmt == "matroska":
            covers = [s for s in covers if _named_file(s) or _codec(s) in _COVER_FILES]
        elif fmt == "mp4" and not _quicktime_keys(self.source, fmt):  # (FFmpeg writes no cover beside those keys)
            # (one whose size FFmpeg cannot read failed the whole video as the header was written: "Invalid argument")
            covers = [
                s for s in covers if _codec(s) in _COVER_FILES and _codec(s) in out.supported_codecs and _pixels(s)
            ]
        else:
            covers = []
        if not covers:
            return
        # its bytes come as its packet, before any of the film's (FFmpeg queues it as it opens the file): only the
        # first packets are read, not a film's hours where one is missing
        with av.open(_local(self.src)) as again:
            first = {p.stream.index: bytes(p) for p in itertools.islice(again.demux(), 4 * len(covers)) if p.size}
        for cover in covers:
            if not first.get(cover.index):
                continue
            if fmt == "mp4":  # its packet is written after the header (`write`)
                stream = out.add_stream_from_template(cover)
                stream.disposition = Disposition.attached_pic
                self.covers.append((stream, first[cover.index]))
            elif _named_file(cover):
                out.add_attachment(cover.metadata["filename"], cover.metadata["mimetype"], first[cover.index])
            else:
                out.add_attachment(*_COVER_FILES[_codec(cover)], first[cover.index])
            self.attached.append(cover)

    def _name_left_out(self, sounds: list, kept: list, chapters: bool, fmt: str) -> None:
        """A warning naming the tracks not written: a phone's data tracks, subtitles the output cannot hold."""
        from av.stream import Disposition

        source = self.source
        # (the timecode's own track: made again from its tag, or said above where it cannot be)
        left = [
            s.type
            for s in source.streams
            if s.type not in ("video", "audio", "attachment")
            and s not in kept
            and not (s.type == "data" and _is_timecode(s))
        ]
        left += ["sound of an unknown codec"] * (len(source.streams.audio) - len(sounds))
        # a film's cover (unless attached above); another camera angle
        others = [
            s for s in source.streams.video if s is not self.video_in and s not in self.attached and s not in self.empty
        ]
        covers = sum(bool(s.disposition & Disposition.attached_pic) for s in others)
        left += ["cover picture"] * covers + ["other video"] * (len(others) - covers)
        if chapters and "data" in left:  # MP4's chapters come as a text track, read back as data: kept above
            left.remove("data")
        if left:
            hint = ""
            if "subtitle" in left and fmt != "matroska":
                hint = f" (the subtitles' format is not one {self.dst.suffix} holds: write .mkv to keep them)"
            if "cover picture" in left and fmt == "mov":
                hint += " (.mov holds no cover picture: write .mp4 or .mkv to keep it)"
            elif "cover picture" in left and _quicktime_keys(source, fmt):
                hint += " (an .mp4 of QuickTime's tags holds no cover picture: write .mkv to keep it)"
            if "other video" in left:
                hint += f" (one video is stylized: {_which_video(self.video_in, others, self.empty)})"
            log.warning(
                "%s: %s not kept%s", self.src.name, counted(len(left), " and ".join(sorted(set(left))) + " track"), hint
            )
        dropped = [a for a in source.streams.attachments if a not in self.attached]
        if dropped:  # (they were "1 attachment track not kept", which said neither what nor why)
            names = ", ".join(a.metadata.get("filename") or f"stream {a.index}" for a in dropped)
            where = (
                "no file name or type to copy them by"
                if fmt == "matroska"
                else f"{self.dst.suffix} holds no attachments (write .mkv to keep them)"
            )
            log.warning("%s: %s (%s) not kept: %s", self.src.name, counted(len(dropped), "attached file"), names, where)

    def decode(self) -> None:
        import av

        src, stages, origin = self.src, self.stages, self.origin
        count, peak, last, see_through = 0, hdr.PEAK, None, False
        read_to = 0  # where the last video packet's bytes end in the file (a .y4m's frames: `_say_cut_short`)
        skipped: list[Exception] = []  # packets the decoder refused
        concealed: list[float] = []  # when frames FFmpeg decoded from damaged data start (s; it flags them)
        broken = -1  # the last of those, counted from 0
        try:
            for packet in self.source.demux(*self.streams):
                if origin and packet.time_base:
                    moved_back(packet, round(origin / packet.time_base))
                if (track := self.tracks.get(packet.stream.index)) is not None:
                    if not track.continuous(packet, self.jumps):  # a cue out of order: left out
                        continue
                    if not track.copy:  # decoded here, encoded by the writer
                        for sound_or_text in track.decoded(packet):
                            stages.put(self.decoded, ("track", track, sound_or_text))
                    elif packet.dts is not None:
                        stages.put(self.decoded, ("track", track, packet))
                    continue
                if packet.size and packet.pos is not None:
                    read_to = max(read_to, packet.pos + packet.size)
                try:
                    frames = packet.decode()
                except av.FFmpegError as e:  # a damaged packet, or a stream cut before its first key
                    skipped.append(e)  # frame (a recording's .ts cut out of a longer one): left out, as
                    continue  # FFmpeg leaves it out; the whole video failed at the first such packet
                for frame in frames:
                    if not count and frame.color_trc in hdr.TRANSFERS:  # one peak for the whole video
                        peak = hdr.content_peak(frame) if frame.color_trc == hdr.PQ else hdr.PEAK
                        kind = hdr.TRANSFERS[frame.color_trc]
                        log.info("%s: HDR (%s, %d nits) tone-mapped to SDR", src.name, kind, peak)
                    # (lost without a word: pictures say it); every 10th frame looked at, as the alpha channel of a
                    # ProRes 4444 is often opaque throughout, and reading it costs a conversion of the frame
                    if not see_through and count % 10 == 0 and _see_through(frame):
                        see_through = True
                        log.warning(
                            "%s: its transparency is not kept: H.264 holds none, so its see-through parts show the "
                            "colours stored under them (often black)",
                            src.name,
                        )
                    array, layout = frame_array(frame, peak, planes=self.on_device)
                    upright = orientation(frame)
                    if not count:
                        self.first_upright.append(upright)
                    pts = self.times(frame)
                    if frame.is_corrupt:  # a damaged .mkv whose lost part FFmpeg skips: no error (said below)
                        concealed.append(float(pts * frame.time_base) if frame.time_base else 0.0)
                        broken = count
                    stages.put(self.decoded, ("frame", array, layout, upright, pts, frame.time_base))
                    count += 1
                    if frame.duration and frame.time_base:  # for the writer
                        self.durations[pts] = frame.duration
                        self.start = pts * frame.time_base if self.start is None else self.start
                        self.end = (pts + frame.duration) * frame.time_base
                    if frame.time is not None:  # where the frame ends, not where it starts: a Matroska video whose
                        # last frame is held 3 s (a slideshow, a screen recording) was said to be cut short
                        held = frame.duration * frame.time_base if frame.duration and frame.time_base else 0
                        last = frame.time + float(held)
        except av.FFmpegError as e:
            raise UserError(f"cannot decode {src} (frame {count}): {ffmpeg_reason(e)}") from None
        if skipped and not count:
            raise UserError(f"cannot decode {src}: {ffmpeg_reason(skipped[0])}")
        if skipped:
            why = ffmpeg_reason(skipped[0])
            log.warning("%s: %s left out (%s)", src.name, counted(len(skipped), "damaged video packet"), why)
        if concealed == concealed[-1:] and broken == count - 1 and self.source.format.name in RAW_STREAMS:
            # a raw stream (which declares no length) whose last frame alone is broken: cut inside it (it was said
            # "damaged: 1 frame decoded from broken data ... frames around them may be lost")
            log.warning(
                "%s: the video ended inside its frame %d (cut short or damaged?); the frames up to it were "
                "stylized, that one as FFmpeg decoded what was left of it",
                src.name,
                count,
            )
        elif concealed:  # (stylized, frames lost around them, exit 0 without a word)
            log.warning(
                "%s is damaged: %s decoded from broken data, the first at %.2f s (frames around them may be "
                "lost or smeared); stylized as FFmpeg decoded them",
                src.name,
                counted(len(concealed), "frame"),
                concealed[0],
            )
        self._say_cut_short(count + len(skipped), last, read_to)  # (damaged packets: frames, said above)
        stages.put(self.decoded, _END)

    def _say_cut_short(self, count: int, last: float | None, read_to: int = 0) -> None:
        """A warning where the video ended well before what its container declares (`count`: its frames,
        decoded or left out as damaged; `last`: where its last frame ends, in seconds), or where a .y4m, which
        declares no length, ends inside a frame (`read_to`: where its last whole frame's bytes end; FFmpeg drops
        the part frame without a word)."""
        video_in, name = self.video_in, self.src.name
        if self.source.format.name == "yuv4mpegpipe" and count and read_to:
            try:
                size = self.src.stat().st_size
            except OSError:
                size = 0
            if size > read_to:  # (the frames before the cut were stylized without a word)
                log.warning(
                    "%s: the video ended inside its frame %d (cut short or damaged?); the %s before it %s stylized",
                    name,
                    count + 1,
                    counted(count, "whole frame"),
                    "was" if count == 1 else "were",
                )
            return
        declared = video_in.frames  # what the container says it holds (0: it does not say); an MP4 trimmed
        if declared and video_in.duration and video_in.time_base:  # by an edit list stores more than it plays
            declared = min(declared, round(video_in.duration * video_in.time_base * self.rate))
        end = _declared_end(video_in)
        if end is not None:
            end -= float(self.origin)  # the times were moved back to start at 0
        reached = last is not None and end is not None and last + 3 / float(self.rate) >= end
        if declared and count + 2 < declared and not reached:  # (an AVI counts its dropped frames' empty entries:
            # one of uneven frame times, whole, was said cut short)
            log.warning(
                "%s: the video ended after %d of the %d frames it declares (cut short or damaged?); "
                "those were stylized",
                name,
                count,
                declared,
            )
        elif not declared and last is not None and end:
            if not reached:  # Matroska/WebM state where the video ends, not a count
                log.warning(
                    "%s: the video ended at %.2f s of the %.2f s it declares (cut short or damaged?); "
                    "that was stylized",
                    name,
                    last,
                    end,
                )

    def encode(self) -> None:
        import av

        try:
            self.write()
        except av.FFmpegError as e:
            raise UserError(f"cannot write {self.dst}: {ffmpeg_reason(e)}") from None

    def write(self) -> None:
        import av
        from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

        out, video_out, video_in = self.out, self.video_out, self.video_in
        written = 0
        to_yuv = VideoReformatter()  # one swscale context for all frames (one each: 7.8 against 6.4 ms at 720p)
        early: list = []  # sound before the first frame: muxing it would open the encoder before its size
        for stream, picture in self.covers:  # an .mp4's cover: one packet, written with the first frame
            packet = av.Packet(picture)
            packet.stream, packet.pts, packet.dts = stream, 0, 0
            packet.time_base = stream.time_base or Fraction(1, 90000)
            early.append(packet)
        last: list = []  # the video's last packet so far: held back for its duration (below)
        first_dts: list = []

        def mux_video(packets: list) -> None:
            for packet in packets:
                if packet.time_base == video_in.time_base and packet.pts in self.durations:  # Matroska keeps them
                    packet.duration = self.durations.pop(packet.pts)
                if not first_dts:
                    first_dts.append(packet.dts)
                if last:
                    out.mux(last.pop())
                last.append(packet)

        while (item := self.stages.get(self.stylized)) is not _END:
            if item[0] == "track":
                if written:
                    out.mux(item[1].packets(item[2]))
                else:
                    early.extend(item[1].packets(item[2]))
                continue
            _, array, pts, time_base = item
            if not written:
                rows = array.shape[0] * 2 // 3 if self.on_device else array.shape[0]  # 4:2:0's rows: H * 3/2
                video_out.width, video_out.height = array.shape[1], rows
                if (sar := video_in.sample_aspect_ratio) and sar != 1:  # a DVD's, HDV's, DV's wide pixels:
                    # shown as wide as the source's (the output came out squeezed, 16:9 as 3:2), and
                    # turned with the picture (a portrait phone's frame is upright by now)
                    turned = bool(self.first_upright[0][0] % 2) if self.first_upright else False
                    video_out.codec_context.sample_aspect_ratio = 1 / sar if turned else sar
            if self.on_device:  # converted on the GPU already
                new = av.VideoFrame.from_ndarray(array, format="yuv420p")
            else:
                new = to_yuv.reformat(
                    av.VideoFrame.from_ndarray(array, format="rgb24"),
                    format="yuv420p",
                    dst_colorspace=Colorspace.ITU709,
                    dst_color_range=ColorRange.MPEG,
                )
            new.pts, new.time_base = pts, time_base
            mux_video(video_out.encode(new))
            written += 1
            for held in early:
                out.mux(held)
            early.clear()
        mux_video(video_out.encode())  # flush the encoders
        if last:  # the last in decoding order: MP4 and MOV time the last frame by it, one frame at the average rate
            packet = last.pop()  # (a recording ending on a held frame lost its 3 s); Matroska takes each frame's own
            mp4 = self.fmt in ("mp4", "mov") and None not in (self.start, self.end, packet.dts, first_dts[0])
            if mp4 and packet.time_base:
                shown = round((self.end - self.start) / packet.time_base)  # the video's length, first frame to end
                # what the decoding order leaves of it (no less than its own frame: held first frames move the
                # encoder's first decoding time back by more than the last frame lasts)
                packet.duration = max(packet.duration or 1, shown - (packet.dts - first_dts[0]))
            out.mux(packet)
        for track in self.tracks.values():
            if not track.copy:
                out.mux(track.packets(None))

    def run(
        self,
        stylize: Callable[[torch.Tensor], torch.Tensor],
        device: torch.device,
        smoother: TemporalSmoother | None,
        on_frame: Callable[[int, int], None] | None,
        progress: bool,
    ) -> int:
        """The three stages to the end; the frames written. The first error any stage met is raised here."""
        stages = self.stages
        threads = [stages.run(self.decode, "fast-style-decode"), stages.run(self.encode, "fast-style-encode")]
        bar = None
        if progress:
            bar = frame_bar(_expected_frames(self.video_in, self.rate), self.src.name)
        batches = _Batches(self, stylize, device, smoother, on_frame, bar)
        try:
            while (item := stages.get(self.decoded)) is not _END:
                if item[0] == "track":
                    stages.put(self.stylized, item)
                else:
                    batches.add(item[1:])
            batches.flush()
            batches.hand_over()
            stages.put(self.stylized, _END)
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
        return batches.frames


class _Batches:
    """The network's stage: frames of one size and layout gathered into batches, each stylized and its download
    started before the batch before it is handed to the encoder (fast_style.media.video._Download)."""

    def __init__(
        self,
        job: _Job,
        stylize: Callable[[torch.Tensor], torch.Tensor],
        device: torch.device,
        smoother: TemporalSmoother | None,
        on_frame: Callable[[int, int], None] | None,
        bar: Any,
    ) -> None:
        self.job, self.stylize, self.device = job, stylize, device
        self.smoother, self.on_frame, self.bar = smoother, on_frame, bar
        self.pending: list[tuple] = []  # frames of one size and layout, waiting for a batch
        self.size: tuple[int, int] | None = None  # the output's (H, W), set by the first batch: even sides
        self.launched: tuple[_Download, list[tuple]] | None = None  # the batch before, on its way back
        self.frames = 0  # handed to the encoder
        self.resized = False  # frames of another size than the first met (said once)

    def add(self, frame: tuple) -> None:
        """One decoded frame: (array, layout, upright, pts, time_base)."""
        array, layout, upright, *_ = frame
        first = self.pending[0] if self.pending else None
        if first is not None and (array.shape, layout, upright) != (first[0].shape, *first[1:3]):
            self.flush()
        self.pending.append(frame)
        if len(self.pending) == self.job.batch_size:
            self.flush()

    def hand_over(self) -> None:
        """The batch launched before: its frames to the encoder."""
        if self.launched is None:
            return
        (download, items), self.launched = self.launched, None
        for array, (*_, pts, time_base) in zip(download.arrays(), items):
            self.job.stages.put(self.job.stylized, ("frame", array, pts, time_base))
            self.frames += 1
            if self.on_frame:
                self.on_frame(self.size[1], self.size[0])
        if self.bar is not None:
            self.bar.update(len(items))

    def flush(self) -> None:
        """The frames waiting, stylized as one batch."""
        pending = self.pending
        if not pending:
            return
        _, layout, upright, *_ = pending[0]
        x = frames_to_tensor([item[0] for item in pending], layout, upright, self.device)
        y = self.stylize(x)
        # (one channel, or four, failed in the encoder: "Unexpected numpy array shape `(24, 32, 1)`")
        if not isinstance(y, torch.Tensor) or y.ndim != 4 or len(y) != len(x) or y.shape[1] != 3:
            got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise RuntimeError(
                f"stylize returned {got} for {tuple(x.shape)} frames: it must return them stylized, as an "
                "(N, 3, H, W) tensor"
            )
        if self.size is None:
            self.size = _even(y.shape[-2:])
            if min(self.size) < 2:  # made so by --max-size or --scale, or the video's own (a 1 px strip)
                h, w = y.shape[-2:]
                shrunk = h * w < x.shape[-2] * x.shape[-1]
                fix = (
                    f"give a larger {setting('--max-size', 'max_size')} or {setting('--scale', 'scale')}"
                    if shrunk
                    else f"enlarge them with {setting('--scale', 'scale')} (2 doubles their sides)"
                )
                raise UserError(f"{self.job.src}: {w}x{h} frames are too small for H.264 (2x2 at least): {fix}")
        size = self.size
        if _even(y.shape[-2:]) != size and not self.resized:  # (stretched to the first's shape, unsaid)
            self.resized = True
            (h, w), (height, width) = y.shape[-2:], size
            *_, pts, time_base = pending[0]
            at = f" at {float(pts * time_base):.2f} s" if pts is not None and time_base else ""
            log.warning(
                "%s: the frames change size%s (joined clips?): %dx%d ones are fitted into the video's %dx%d, its "
                "first frames' size, with black bars where their shapes differ",
                self.job.src.name,
                at,
                w,
                h,
                width,
                height,
            )
        if self.smoother is not None:  # it compares the input frames with the output, at the output's size
            if x.shape[-2:] != y.shape[-2:]:
                x = F.interpolate(x, y.shape[-2:], mode="bilinear", antialias=True)
            y = torch.stack([self.smoother.step(a, b) for a, b in zip(_fitted(x, size), _fitted(y, size))])
        else:
            y = _fitted(y, size)
        download = _Download(y, planes=self.job.on_device)  # this batch queued on the GPU before the last is read
        self.hand_over()
        self.launched = (download, pending.copy())
        pending.clear()


# the file tags FFmpeg's MP4 writer (iTunes' list, a location as 3GPP's) and MOV writer (QuickTime's user data) hold,
# in any case (movenc.c), a timecode as a track of its own; .mkv holds any
_HELD_TAGS = {
    "mp4": {
        *("title", "artist", "album_artist", "composer", "album", "date", "encoding_tool", "comment", "genre"),
        *("copyright", "grouping", "lyrics", "description", "synopsis", "show", "episode_id", "network", "keywords"),
        *("episode_sort", "season_number", "media_type", "hd_video", "gapless_playback", "compilation", "track"),
        *("disc", "tmpo", "location", "creation_time", "timecode"),
    },
    "mov": {
        *("artist", "title", "author", "album", "date", "encoder", "comment", "genre", "copyright", "make", "model"),
        *("location", "keywords", "xmp", "creation_time", "timecode"),
    },
}


# tags of the program or phone that wrote the file, of no use in the stylized one: not said where the output's
# container has no place for them (an AVI's software; an Android phone's OS version, capture rate, build, video
# layers: every phone video was said to lose "com.android.capture.fps, com.android.version"); its maker and model
# are the camera's, as a photo's EXIF keeps them: a .mov keeps them (`_MOV_CAMERA`), an .mp4 says them lost
_RECORDERS_OWN = {
    "software",
    *("com.android.version", "com.android.capture.fps", "com.android.build", "com.android.video.temporal_layers_count"),
}

# an Android phone's maker and model, written as a .mov's make and model
_MOV_CAMERA = {"com.android.manufacturer": "make", "com.android.model": "model"}


# an MXF's tags that name its writer (company, product, version, platform) and its ids (FFmpeg's mxfdec): not said;
# its clip's name (material_package_name) and comments (comment_*) are (they were not; its date is kept)
_MXF_WRITERS = {
    *("company_name", "product_name", "product_version", "product_version_num", "toolkit_version_num"),
    *("application_platform", "product_uid", "uid", "generation_uid", "operational_pattern_ul"),
    *("material_package_umid",),
}


def _held(key: str, tags: dict[str, str], fmt: str) -> bool:
    """Whether the MP4 or MOV writer (`fmt`) holds the tag `key`: one of its list, or one's language twin of the same
    value, written as that one's language (an MP4's location read as location and location-eng)."""
    base, _, language = key.lower().rpartition("-")
    if key.lower() in _HELD_TAGS[fmt] or (fmt == "mov" and key.lower() in _MOV_CAMERA):
        return True
    return len(language) == 3 and base in _HELD_TAGS[fmt] and tags.get(_key(tags, base) or "") == tags[key]


_MOV_TAG_BYTES = 65535  # the longest tag FFmpeg's .mov writer keeps whole (QuickTime's user data, not its keys)


def _quicktime_keys(source: Any, fmt: str) -> bool:
    """Whether the output's tags are written as QuickTime keys: an iPhone's (com.apple.quicktime.location.ISO6709,
    .make, .creationdate) are, which MP4 and MOV hold only as FFmpeg writes every tag that way (not the
    iTunes-style title others read)."""
    return fmt in ("mp4", "mov") and any(k.startswith("com.apple.quicktime.") for k in source.metadata)


def _is_timecode(stream: Any) -> bool:
    """Whether a data stream is a .mov's or .mp4's timecode track (tmcd), which FFmpeg reads with its timecode."""
    return _key(dict(stream.metadata), "timecode") is not None


def _key(tags: dict[str, str], name: str) -> str | None:
    """The key of `tags` that is `name` in any case (FFmpeg's are: Matroska's TIMECODE is MP4's timecode)."""
    return next((k for k in tags if k.lower() == name), None)


def frame_rate(video: Any) -> Fraction:
    """A video stream's frame rate, as the encoder and the progress bar take it: its average, or FFmpeg's guess
    where it states none or an average of over twice its base rate, which no frame times allow (a raw DV camera
    file's average is its time base, 60000: the MP4 muxer refused its timecode, "fps 60000 is too large"); a raw
    elementary stream's own (`RAW_STREAMS`), or FFmpeg's guess where it states none (`_unstated_rate`)."""
    if video.container.format.name in RAW_STREAMS:  # (a 30 frames/s .h264 had come out at 25, 1.2x as long)
        return video.codec_context.framerate or video.guessed_rate or Fraction(25)
    average, base = video.average_rate, video.base_rate
    if average and base and average > 2 * base:
        average = None
    return average or video.guessed_rate or Fraction(30)


def _unstated_rate(video: Any) -> bool:
    """Whether `video` is a raw elementary stream that states no frame rate (an HEVC stream without VUI timing, an
    AV1 one without a timing header): FFmpeg guesses one, 25 frames/s."""
    return video.container.format.name in RAW_STREAMS and not video.codec_context.framerate


# a cover picture's codecs that MP4 holds as its cover, and the file name and type one is attached to an .mkv by
_COVER_FILES = {
    "mjpeg": ("cover.jpg", "image/jpeg"),
    "png": ("cover.png", "image/png"),
    "bmp": ("cover.bmp", "image/bmp"),
}


def _codec(stream: Any) -> str | None:
    return stream.codec_context.name if stream.codec_context is not None else None


def _named_file(stream: Any) -> bool:
    """Whether an attached file's stream (a font, a cover picture) names its file and type, what attaching it takes."""
    return all(stream.metadata.get(k) for k in ("filename", "mimetype"))


def main_video(streams: Sequence[Any]) -> Any:
    """The video stream to stylize, as FFmpeg picks it (`ffmpeg -i in.mkv out.mp4`): the one of most pixels, with
    5,000,000 pixels more for a stream marked default, the first of those alike; never an attached picture
    (FFmpeg shows an MP4's or MKV's cover art as a video stream of one frame, sometimes before the film's); None
    where there is none. The first had been taken: a small preview track before the film was stylized instead."""
    from av.stream import Disposition

    films = [s for s in streams if not s.disposition & Disposition.attached_pic]
    return max(films, key=_video_score, default=None)  # (max: the first of the highest, as FFmpeg's strict >)


_LOOK_SECONDS = 10  # how far into a file with several video tracks `_empty_films` looks for each one's frames
_LOOK_PACKETS = 2000


def _empty_films(src: Path, streams: Sequence[Any]) -> tuple[list[Any], str]:
    """Of a file's several video tracks (covers aside), those without a packet in its first _LOOK_SECONDS (or
    _LOOK_PACKETS packets) where another has one, the tracks FFmpeg's header shows but no frame fills (a recorder's
    unused second input; FFmpeg does not say which have packets), and how much of the file was read ("" for all of
    it, "10 s" or "2,000 packets" where it stopped there: the warning had said 10 s either way); [] for a file of one
    video. Its first packets are read again, up to that point, or until each track has shown one."""
    import av
    from av.stream import Disposition

    films = {s.index: s for s in streams if not s.disposition & Disposition.attached_pic}
    if len(films) < 2:
        return [], ""
    seen: set[int] = set()
    looked, first = "", None
    try:
        with av.open(_local(src)) as again:
            for n, packet in enumerate(again.demux()):
                if packet.size and packet.stream.index in films:
                    seen.add(packet.stream.index)
                if len(seen) == len(films):
                    break
                if n + 1 >= _LOOK_PACKETS:
                    looked = f"{_LOOK_PACKETS:,} packets"
                    break
                if packet.pts is not None and packet.time_base:  # (from the first packet's time: a transport
                    at = packet.pts * packet.time_base  # stream's clock starts anywhere, an hour in)
                    first = at if first is None else min(first, at)
                    if at - first > _LOOK_SECONDS:
                        looked = f"{_LOOK_SECONDS} s"
                        break
    except (av.FFmpegError, OSError):
        return [], ""  # (decoding says what is wrong)
    return ([s for i, s in films.items() if i not in seen] if seen else []), looked


def _video_score(stream: Any) -> int:
    """FFmpeg's score of a video stream for its automatic choice (fftools' map_auto_video)."""
    from av.stream import Disposition

    return _pixels(stream) + 5_000_000 * bool(stream.disposition & Disposition.default)


def _pixels(stream: Any) -> int:
    """A video stream's pixels as its header says them (0 where it says none: a codec FFmpeg does not know)."""
    return (getattr(stream, "width", 0) or 0) * (getattr(stream, "height", 0) or 0)


def _which_video(chosen: Any, others: Sequence[Any], empty: Sequence[Any] = ()) -> str:
    """Which of a file's videos is stylized and why, for the warning naming the others (it had said "the first"
    whichever it was); `empty`: the tracks without frames passed over, one of which FFmpeg would pick (it had said
    "as FFmpeg picks" all the same)."""
    from av.stream import Disposition

    films = [s for s in others if not s.disposition & Disposition.attached_pic]
    own = _pixels(chosen)
    if all(own > _pixels(s) for s in films):
        why = "the largest"
    elif chosen.disposition & Disposition.default:
        why = "the one marked default"
    else:
        why = "the first of the largest"
    said = f"its {chosen.width}x{chosen.height} one, stream {chosen.index}, {why}"
    if (ffmpeg := main_video(sorted([*others, *empty, chosen], key=lambda s: s.index))) in empty:
        return f"{said} of the tracks with frames, not FFmpeg's pick, stream {ffmpeg.index}, which holds none"
    return f"{said}, as FFmpeg picks"


def _expected_frames(video: Any, rate: Fraction) -> int | None:
    """The frames `video` (a stream) should give, for the progress bar: the count its container declares, but no
    more than its length holds at its rate (an MP4 trimmed by an edit list stores more than it plays: the bar ended
    at 40%), or where it declares none (Matroska, WebM, a transport stream, a fragmented MP4: there was no total),
    its length at its rate (an estimate where the frame times are uneven); None where it says neither."""
    end = _declared_end(video)
    start = float((video.start_time or 0) * video.time_base) if video.time_base else 0.0
    length = round((end - start) * rate) if end is not None and end > start else 0
    if video.frames and length:
        return min(video.frames, length)
    return video.frames or length or None


def _declared_end(video: Any) -> float | None:
    """Where the video stream says it ends, in seconds: its start and duration, or Matroska's DURATION tag
    (HH:MM:SS.fraction: the stream's end time, not its span)."""
    if video.duration and video.time_base:
        return float(((video.start_time or 0) + video.duration) * video.time_base)
    tag = video.metadata.get("DURATION") or video.metadata.get("duration")
    try:
        h, m, sec = str(tag).split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except ValueError:
        return None
