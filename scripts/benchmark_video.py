#!/usr/bin/env python3
"""Video end to end (decode, stylize, encode) on this machine, and the share of each stage.

Makes a clip (a window panning across a photo, H.264) of --frames frames at --size, then times, in one run, each
stage as `stylize_video` runs it: decoding alone (to arrays: Y'CbCr 4:2:0 for a GPU, RGB by swscale for the CPU),
stylizing alone (the decoded frames, --batch at a time, to the device and back), encoding alone (H.264 at CRF 18
with each x264 --preset), and `stylize_video` end to end with the stages overlapping, once with one frame per
network call and once with --batch. Prints frames per second for each and each stage's share of their sum
(stylizing at --batch, the frames of the first --decoders listed; with two decoders, a sum for each).

    python scripts/benchmark_video.py --style wave --size 640x360 --frames 48
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 300 --device cuda --batch 8 --compile
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 300 --device cuda --batch 8 --compile \
        --preset medium ultrafast
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 12 --hdr      # an HLG clip
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 300 --device cuda --batch 8 --compile \
        --preset ultrafast --decoders cpu nvdec     # decoding in software and with the GPU's NVDEC
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, Colorspace
from PIL import Image

from fast_style.cli import ToolParser, positive, run_tool
from fast_style.errors import UserError
from fast_style.inference.stylizer import Stylizer
from fast_style.inference_defaults import PRESETS
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import open_rgb, unreadable_because
from fast_style.media.video import (
    frame_array,
    frames_to_tensor,
    open_source,
    orientation,
    stylize_video,
    tensor_to_frames,
)


def make_clip(
    path: Path, photo: Path | Image.Image | None, size: tuple[int, int], frames: int, hdr: bool = False
) -> None:
    """`hdr`: 10-bit BT.2020 tagged HLG (the photo's values taken as the HLG signal: the cost does not depend
    on the colours), as a phone records."""
    w, h = size
    if photo is not None:
        base = (photo if isinstance(photo, Image.Image) else Image.open(photo)).convert("RGB")
        k = max((w + 3 * frames) / base.width, h / base.height)
        base = base.resize((round(base.width * k) + 1, round(base.height * k) + 1), Image.LANCZOS)
    else:
        base = Image.effect_mandelbrot((w + 3 * frames, h), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB")
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p10le" if hdr else "yuv420p"
        if hdr:
            tags = stream.codec_context
            tags.colorspace, tags.color_primaries, tags.color_trc = Colorspace.BT2020, ColorPrimaries.BT2020, 18
        for i in range(frames):
            frame = av.VideoFrame.from_image(base.crop((3 * i, 0, 3 * i + w, h)))
            if hdr:
                frame = frame.reformat(format="yuv420p10le", dst_colorspace=Colorspace.BT2020)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def decode(path: Path, planes: bool, nvdec: int | None = None) -> list[tuple]:
    """The clip's frames as stylize_video's decoding stage hands them on: (array, layout, orientation); with
    `nvdec` (a CUDA device's index) decoded by the GPU's NVDEC where FFmpeg opens it."""
    with open_source(path, nvdec) as f:
        f.streams.video[0].thread_type = "AUTO"
        return [(*frame_array(frame, planes=planes), orientation(frame)) for frame in f.decode(video=0)]


def stylize(stylizer: Stylizer, frames: list[tuple], planes: bool) -> np.ndarray:
    """stylize_video's middle stage for one batch: to the device, stylized, back as arrays for the encoder."""
    _, layout, upright = frames[0]
    x = frames_to_tensor([array for array, _, _ in frames], layout, upright, stylizer.device)
    return tensor_to_frames(stylizer.stylize_frames(x), planes)


def encode(frames: list[np.ndarray], path: Path, planes: bool, preset: str) -> None:
    """stylize_video's encoding stage: arrays to H.264 (swscale converting RGB to 4:2:0 where not `planes`)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30))
        h, w = frames[0].shape[:2]
        stream.width, stream.height = w, h * 2 // 3 if planes else h
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "18", "preset": preset}
        for i, array in enumerate(frames):
            if planes:
                frame = av.VideoFrame.from_ndarray(array, format="yuv420p")
            else:
                frame = av.VideoFrame.from_ndarray(array, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace=Colorspace.ITU709
                )
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def clip_size(text: str) -> tuple[int, int]:
    """ "640x360" -> (640, 360), "640" -> (640, 640): even sides, as H.264's 4:2:0 takes (65x49 was an opaque
    avcodec error)."""
    w, _, h = text.lower().partition("x")
    try:
        size = int(w), int(h or w)
    except ValueError:
        size = (0, 0)
    if min(size) <= 0 or size[0] % 2 or size[1] % 2:
        raise argparse.ArgumentTypeError(f"WxH of the clip in px, even numbers > 0 (640x360), got {text!r}")
    return size


def main() -> None:
    sys.exit(run_tool(benchmark))


def benchmark() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="wave", help="a built-in style or a model file")
    p.add_argument("--photo", type=Path, help="the photo the clip pans across (default: a generated picture)")
    p.add_argument("--size", type=clip_size, default="640x360", help="WxH of the clip, even numbers")
    p.add_argument("--frames", type=positive(int), default=48)
    p.add_argument("--batch", type=positive(int), default=4, help="frames per network call for the batched runs")
    p.add_argument("--device", default="auto")
    p.add_argument("--hdr", action="store_true", help="a 10-bit HLG clip: decoding includes the tone mapping")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (Stylizer.load(compile=True))")
    p.add_argument(
        "--preset", nargs="+", default=["medium"], choices=PRESETS, help="x264's presets to time (default medium)"
    )
    p.add_argument(
        "--decoders",
        nargs="+",
        default=["cpu"],
        choices=["cpu", "nvdec"],
        help="decode in software (cpu) and/or with the GPU's NVDEC (stylize_video(decode_on_device=True))",
    )
    args = p.parse_args()
    size = args.size
    if args.photo is not None and not args.photo.is_file():
        raise UserError(f"--photo {args.photo} is not a file: give a photo (or none: a generated picture)")
    photo = None
    if args.photo is not None:  # read before the model's load (an unreadable one was PIL's traceback after it)
        try:
            photo = open_rgb(args.photo)
        except (OSError, ValueError, *BOMB) as e:
            why = over_the_bomb_limit() if isinstance(e, BOMB) else unreadable_because(args.photo, e)
            raise UserError(f"--photo {args.photo}: {why}") from None
    stylizer = Stylizer.load(args.style, device=args.device, compile=args.compile)
    if "nvdec" in args.decoders and stylizer.device.type != "cuda":
        p.error("--decoders nvdec needs a CUDA --device")
    planes = stylizer.device.type != "cpu"  # as stylize_video decides: Y'CbCr to a GPU, swscale's RGB on a CPU
    kind = "HDR (HLG, 10-bit)" if args.hdr else "SDR"
    print(
        f"{args.style} on {stylizer.device} ({stylizer.dtype}), {args.frames} {kind} frames at {size[0]}x{size[1]}, "
        f"colours converted {'on the device' if planes else 'by swscale'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, photo, size, args.frames, args.hdr)
        first = decode(clip, planes)[: args.batch]
        for batch in sorted({1, args.batch}):  # warm-up (allocations, one-time set-up, compiling each shape)
            stylize(stylizer, first[:batch], planes)
        decoding: dict[str, float] = {}  # each decoder's seconds
        nvdec = stylizer.device.index or 0
        for decoder in reversed(args.decoders):  # the first listed last: its frames are the ones stylized below
            t = time.perf_counter()
            frames = decode(clip, planes, nvdec if decoder == "nvdec" else None)
            decoding[decoder] = time.perf_counter() - t
            kind = frames[0][1] and ("nv12" if frames[0][1][2] else "yuv420p")
            print(f"  decode alone ({decoder}, {kind or 'RGB'}): {len(frames) / decoding[decoder]:.1f} frames/s")
        for batch in sorted({1, args.batch}):
            t = time.perf_counter()
            out: list[np.ndarray] = []
            for k in range(0, len(frames), batch):
                out += list(stylize(stylizer, frames[k : k + batch], planes))
            seconds = time.perf_counter() - t
            print(f"  stylize alone, batch {batch}: {len(frames) / seconds:.1f} frames/s")
        stylizing = seconds
        for preset in args.preset:  # the stages' sum, and end to end, with each encoder preset
            t = time.perf_counter()
            encode(out, Path(tmp) / "encoded.mp4", planes, preset)
            encoding = time.perf_counter() - t
            size = (Path(tmp) / "encoded.mp4").stat().st_size / len(out) / 1e3
            print(f"  x264 preset {preset} ({size:.1f} kB a frame):")
            for decoder in args.decoders:
                times = {f"decode ({decoder})": decoding[decoder], "stylize": stylizing, "encode": encoding}
                total = sum(times.values())
                for stage, seconds in times.items():
                    rate, share = len(frames) / seconds, seconds / total
                    print(f"  {stage:14} alone: {rate:7.1f} frames/s  ({share:5.1%} of the stages' sum)")
                print(f"  stages one after another, {decoder} decoding: {len(frames) / total:.1f} frames/s")
            for decoder in args.decoders:
                for batch in sorted({1, args.batch}):
                    t = time.perf_counter()
                    n = stylize_video(
                        clip,
                        Path(tmp) / f"out{batch}.mp4",
                        stylizer.stylize_frames,
                        batch_size=batch,
                        device=stylizer.device,
                        preset=preset,
                        decode_on_device=decoder == "nvdec",
                        force=True,  # the same file for each preset
                    )
                    seconds = time.perf_counter() - t
                    print(
                        f"  stylize_video, {decoder} decoding, batch {batch}, stages overlapping: "
                        f"{n / seconds:.1f} frames/s"
                    )


if __name__ == "__main__":
    main()
