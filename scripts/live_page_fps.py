#!/usr/bin/env python3
"""Frames per second shown in fast-style-serve's page in live mode, in a real browser (headless Chromium driven
by Playwright, its camera faked from a clip panning over a photo), with and without the style's fast variant.

    python scripts/live_page_fps.py --style wave --photo ../shared/data/content/chicago.jpg --size 480x360

Starts the server in this process on 127.0.0.1; the browser runs on the same machine, so its JPEG encoding and
drawing share the CPU with the server, as they would for a person trying it on a laptop. For each setting the
page runs --warmup seconds, then the frame counter is read over --seconds: frames per second and the page's last
latency figure are printed.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from benchmark_stylize import matmul_gflops  # this folder's script: the machine's speed, for comparisons
from PIL import Image

from fast_style import zoo
from fast_style.cli import ToolParser, positive, run_tool
from fast_style.devices import pick_device
from fast_style.errors import UserError
from fast_style.serving.server import Limits, Styles, create_app
from fast_style.serving.serving import serve_in_background


def camera_clip(photo: Path | None, path: Path, size: tuple[int, int], frames: int = 120) -> Path:
    """A Y4M clip (Chromium's fake camera reads it, looping) panning 2 px a frame over the photo."""
    w, h = size
    if photo is not None:
        img = Image.open(photo).convert("RGB")
        img = img.resize((w + 2 * frames, round((w + 2 * frames) * img.height / img.width)), Image.LANCZOS)
        img = img.crop((0, 0, img.width, max(h, min(img.height, h))))
    else:
        rng = np.random.default_rng(0)
        img = Image.fromarray(rng.integers(0, 255, (h, w + 2 * frames, 3), dtype=np.uint8))
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
        for k in range(frames):
            ycc = img.crop((2 * k, 0, 2 * k + w, h)).convert("YCbCr")
            y, cb, cr = (np.asarray(c) for c in ycc.split())
            half = [np.asarray(Image.fromarray(c).resize((w // 2, h // 2), Image.BILINEAR)) for c in (cb, cr)]
            f.write(b"FRAME\n" + y.tobytes() + half[0].tobytes() + half[1].tobytes())
    return path


def browser_cpu_seconds() -> float | None:
    """CPU time used so far by the Chromium processes on this machine (Linux's /proc), or None elsewhere."""
    if not Path("/proc/self/stat").exists():
        return None
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # a process that ended meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if "chrom" in name:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def main() -> None:
    sys.exit(run_tool(measure, logging.WARNING))  # (not the server's INFO lines, as before run_tool)


def measure() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="wave", help="a built-in style with a fast variant (default wave)")
    p.add_argument("--photo", type=Path, help="the photo the fake camera pans over (default: noise)")
    p.add_argument("--size", default="480x360", choices=["320x240", "480x360", "640x480"], help="the page's choice")
    p.add_argument("--seconds", type=positive(float), default=20)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=positive(int), help="torch's threads for the server (default: torch's choice)")
    p.add_argument("--screenshots", type=Path, help="a folder for a screenshot of each setting")
    args = p.parse_args()
    if not args.warmup >= 0:  # (a ValueError from sleep)
        p.error(f"--warmup must be seconds >= 0, got {args.warmup}")
    # before the browser starts (a missing --photo was a traceback from inside the clip's making)
    with_fast = [n for n in zoo.names() if f"{n}-fast" in zoo.names()]
    if args.style not in zoo.names():  # (it was said to have no fast variant)
        raise UserError(
            f"unknown style {args.style!r}: the built-in styles with a fast variant are {', '.join(with_fast)}"
        )
    if f"{args.style}-fast" not in zoo.names():
        raise UserError(f"style {args.style} has no fast variant: give one of {', '.join(with_fast)}")
    if args.photo is not None and not args.photo.is_file():
        raise UserError(f"--photo {args.photo} is not a file: give a photo (or none: noise)")
    pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise UserError("no Chromium here (Debian: apt-get install chromium)")
    styles = Styles(device=args.device)
    app = create_app(styles, Limits())
    speed = matmul_gflops(torch.device("cpu"))
    print(f"machine: {torch.get_num_threads()} threads, fp32 matmul (2048^3) {speed:.0f} GFLOP/s")
    with serve_in_background(app) as address:
        w, h = (int(v) for v in args.size.split("x"))
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
            clip = camera_clip(args.photo, Path(tmp) / "camera.y4m", (w, h))
            browser = pw.chromium.launch(
                executable_path=chromium,
                args=[
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={clip}",
                ],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{address}/")
            page.wait_for_function("document.querySelectorAll('#style option').length > 0")
            page.select_option("#style", args.style)
            page.click("#tab-live")
            page.select_option("#resolution", args.size)
            for fast in (True, False):
                if page.is_checked("#fast") != fast:
                    page.click("#fast")
                styles.get(f"{args.style}-fast" if fast else args.style)  # loaded before the clock starts
                page.click("#start")
                time.sleep(args.warmup)
                start, frames0 = time.perf_counter(), int(page.text_content("#frames"))
                cpu0, browser0 = time.process_time(), browser_cpu_seconds()
                time.sleep(args.seconds)
                frames = int(page.text_content("#frames")) - frames0
                elapsed = time.perf_counter() - start
                server_cpu, browser1 = time.process_time() - cpu0, browser_cpu_seconds()
                latency, shown = page.text_content("#latency"), page.text_content("#fps")
                name = f"{args.style}-fast" if fast else args.style
                if args.screenshots:
                    args.screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(args.screenshots / f"live_{name}_{args.size}.png"))
                page.click("#stop")
                cpu = f"CPU: server {server_cpu / elapsed:.2f} cores"
                if browser0 is not None and browser1 is not None:
                    cpu += f", Chromium {(browser1 - browser0) / elapsed:.2f} cores"
                print(
                    f"{name} {args.size}: {frames / elapsed:.1f} frames/s over {elapsed:.0f} s (the page shows "
                    f"{shown}), latency {latency} ms; {cpu}"
                )
            browser.close()


if __name__ == "__main__":
    main()
