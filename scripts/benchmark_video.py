#!/usr/bin/env python3
"""Video end to end (decode, stylize, encode) on this machine, and the share of each stage.

Makes a clip (a window panning across a photo, H.264) of --frames frames at --size, then times, in one run:
decoding alone (to PIL frames), stylizing alone (the decoded frames, --batch at a time), encoding alone
(H.264, the product's settings), and `stylize_video` end to end with the stages overlapping, once with one
frame per network call and once with --batch. Prints frames per second for each and each stage's share of
their sum (stylizing at --batch).

    python scripts/benchmark_video.py --style wave --size 640x360 --frames 48
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 300 --device cuda --batch 8 --compile
    python scripts/benchmark_video.py --style wave --size 1920x1080 --frames 12 --hdr      # an HLG clip
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import ColorPrimaries, Colorspace
from PIL import Image

from fast_style.stylizer import Stylizer
from fast_style.video import frame_image, stylize_video


def make_clip(path: Path, photo: Path | None, size: tuple[int, int], frames: int, hdr: bool = False) -> None:
    """`hdr`: 10-bit BT.2020 tagged HLG (the photo's values taken as the HLG signal: the cost does not depend
    on the colours), as a phone records."""
    w, h = size
    if photo is not None:
        base = Image.open(photo).convert("RGB")
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


def decode(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as f:
        f.streams.video[0].thread_type = "AUTO"
        return [frame_image(frame) for frame in f.decode(video=0)]  # as stylize_video reads them


def encode(frames: list[Image.Image], path: Path) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height = frames[0].size
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "18", "preset": "medium"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="wave", help="a built-in style or a model file")
    p.add_argument("--photo", type=Path, help="the photo the clip pans across (default: a generated picture)")
    p.add_argument("--size", default="640x360", help="WxH of the clip")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--batch", type=int, default=4, help="frames per network call for the batched runs")
    p.add_argument("--device", default="auto")
    p.add_argument("--hdr", action="store_true", help="a 10-bit HLG clip: decoding includes the tone mapping")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (Stylizer.load(compile=True))")
    args = p.parse_args()
    w, _, h = args.size.partition("x")
    size = (int(w), int(h or w))
    stylizer = Stylizer.load(args.style, device=args.device, compile=args.compile)
    kind = "HDR (HLG, 10-bit)" if args.hdr else "SDR"
    print(f"{args.style} on {stylizer.device} ({stylizer.dtype}), {args.frames} {kind} frames at {size[0]}x{size[1]}")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        make_clip(clip, args.photo, size, args.frames, args.hdr)
        first = decode(clip)[: args.batch]
        for batch in sorted({1, args.batch}):  # warm-up (allocations, one-time set-up, compiling each shape)
            stylizer.stylize_images(first[:batch])
        times: dict[str, float] = {}
        t = time.perf_counter()
        frames = decode(clip)
        times["decode"] = time.perf_counter() - t
        for batch in sorted({1, args.batch}):
            t = time.perf_counter()
            out = []
            for k in range(0, len(frames), batch):
                out += stylizer.stylize_images(frames[k : k + batch])
            seconds = time.perf_counter() - t
            print(f"  stylize alone, batch {batch}: {len(frames) / seconds:.1f} frames/s")
        times["stylize"] = seconds
        t = time.perf_counter()
        encode(out, Path(tmp) / "encoded.mp4")
        times["encode"] = time.perf_counter() - t
        total = sum(times.values())
        for stage, seconds in times.items():
            share = seconds / total
            print(f"  {stage:8} alone: {len(frames) / seconds:7.1f} frames/s  ({share:5.1%} of the stages' sum)")
        print(f"  stages one after another: {len(frames) / total:.1f} frames/s")
        for batch in (1, args.batch):
            t = time.perf_counter()
            n = stylize_video(clip, Path(tmp) / f"out{batch}.mp4", stylizer.stylize_images, batch_size=batch)
            seconds = time.perf_counter() - t
            print(f"  stylize_video, batch {batch}, stages overlapping: {n / seconds:.1f} frames/s")


if __name__ == "__main__":
    main()
