#!/usr/bin/env python3
"""A bounded load test of fast-style-serve's API on 127.0.0.1, and the API's overhead over a bare stylize.

Starts the server in this process (uvicorn in a thread), then:
1. overhead: one client, --repeat requests of a --megapixels photo, one after another, against the same
   photo through `Stylizer.stylize_image` directly (both medians; the API adds decoding, encoding, HTTP);
2. live: one WebSocket client per --live-styles style (default: --style and its -fast variant) at each --live size
   (the page's resolutions), keeping --in-flight JPEG frames in flight (2, as the page does) for --live-seconds:
   frames per second and median latency;
3. load: --clients clients posting that photo as fast as they can for --seconds; every answer must be 200 or an
   explicit 503 (busy); prints the counts, p50/p95 latency of the 200s, and the process's memory (RSS) at the
   start, halfway and the end.

    python scripts/load_test_server.py --style wave --megapixels 1 --clients 8 --seconds 60
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
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


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def photo_bytes(megapixels: float, source: Path | None) -> tuple[bytes, Image.Image]:
    w = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    if source is not None:
        img = Image.open(source).convert("RGB").resize((w, h), Image.LANCZOS)
    else:
        img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), img


def live_size(text: str) -> str:
    """A live size, WxH (480x360), as given."""
    w, x, h = text.lower().partition("x")
    if not (x and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
        raise argparse.ArgumentTypeError(f"WxH in px, each > 0 (480x360), got {text!r}")
    return text.lower()


def main() -> None:
    sys.exit(run_tool(load_test, logging.WARNING))  # (not every request's INFO line, as before run_tool)


def load_test() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="wave", help="a built-in style (default wave)")
    p.add_argument("--photo", type=Path, help="a photo to send (default: generated), resized to --megapixels")
    p.add_argument("--megapixels", type=positive(float), default=1.0)
    p.add_argument("--repeat", type=positive(int), default=5)
    p.add_argument("--clients", type=positive(int), default=8)
    p.add_argument("--seconds", type=positive(float), default=60)
    p.add_argument("--queue", type=positive(int), default=4)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--live", nargs="*", type=live_size, default=["320x240", "480x360", "640x480"], help="live sizes WxH"
    )
    p.add_argument("--live-seconds", type=positive(float), default=15)
    p.add_argument("--live-styles", nargs="*", help="styles for the live figures (default: --style, --style-fast)")
    p.add_argument("--in-flight", type=positive(int), default=2, help="live frames in flight (the page keeps 2)")
    args = p.parse_args()
    # the server offers the built-in styles: another name was its Refused traceback; --repeat 0 a StatisticsError
    if unknown := [s for s in [args.style, *(args.live_styles or [])] if s not in zoo.names()]:
        raise UserError(
            f"unknown style {unknown[0]!r}: the server offers the built-in styles, {', '.join(zoo.names())}"
        )
    pick_device(args.device)  # (said once the server was up)
    if args.photo is not None and not args.photo.is_file():
        raise UserError(f"--photo {args.photo} is not a file: give a photo (or none: a generated one)")
    styles = Styles(device=args.device)
    app = create_app(styles, Limits(waiting=args.queue, max_size=4096))
    speed = matmul_gflops(torch.device("cpu"))
    print(f"machine: {torch.get_num_threads()} threads, fp32 matmul (2048^3) {speed:.0f} GFLOP/s")
    with serve_in_background(app) as address:
        url = f"{address}/api/stylize"
        data, img = photo_bytes(args.megapixels, args.photo)
        form = {"style": args.style}

        def post(client: httpx.Client) -> tuple[int, float]:  # (the load's threads count what is not 200)
            t = time.perf_counter()
            reply = client.post(url, files={"image": ("p.jpg", data, "image/jpeg")}, data=form)
            return reply.status_code, time.perf_counter() - t

        stylizer = styles.get(args.style)
        with httpx.Client(timeout=600) as client:
            post(client)  # loads the style, warms up
            stylizer.stylize_image(img, max_size=4096)
            bare, api = [], []
            for _ in range(args.repeat):
                t = time.perf_counter()
                stylizer.stylize_image(img, max_size=4096)
                bare.append(time.perf_counter() - t)
                status, seconds = post(client)
                if status != 200:  # one client alone: busy means the server is stuck
                    raise UserError(f"POST /api/stylize answered {status} with no other client")
                api.append(seconds)
        b, a = statistics.median(bare), statistics.median(api)
        print(f"{img.width}x{img.height} ({args.megapixels:g} MP), {args.style} on {stylizer.device}:")
        print(
            f"  bare stylize_image {b * 1e3:.0f} ms, POST /api/stylize {a * 1e3:.0f} ms: the API adds {a / b - 1:.1%}"
        )

        from websockets.sync.client import connect

        live_styles = args.live_styles
        if live_styles is None:
            live_styles = [args.style] + [f"{args.style}-fast"] * (f"{args.style}-fast" in styles.files)
        for style in live_styles:
            styles.get(style)  # loaded before the clock starts
            for size in args.live:
                w, h = (int(v) for v in size.split("x"))
                frame = io.BytesIO()
                img.resize((w, h)).save(frame, "JPEG", quality=80)
                latencies, sent = [], []
                with connect(address.replace("http", "ws", 1) + "/api/live", max_size=None) as ws:
                    ws.send(f'{{"style": "{style}", "max_size": {max(w, h)}}}')
                    for _ in range(3):  # warm-up: the first frames of a size are slower
                        ws.send(frame.getvalue())
                        ws.recv()
                    start = time.perf_counter()
                    end = start + args.live_seconds
                    while sent or time.perf_counter() < end:
                        while len(sent) < args.in_flight and time.perf_counter() < end:
                            sent.append(time.perf_counter())
                            ws.send(frame.getvalue())
                        reply = ws.recv()
                        if not isinstance(reply, bytes):  # the live view's error, as text
                            raise UserError(f"the live view ({style}, {size}) answered: {reply[:200]}")
                        latencies.append(time.perf_counter() - sent.pop(0))
                    elapsed = time.perf_counter() - start
                print(
                    f"  live {style} {size}: {len(latencies) / elapsed:.1f} frames/s, median latency "
                    f"{statistics.median(latencies) * 1e3:.0f} ms ({args.in_flight} in flight)"
                )

        results: list[tuple[int, float]] = []
        memory = [rss_mb()]
        stop = time.perf_counter() + args.seconds

        def client_loop() -> None:
            with httpx.Client(timeout=600) as client:
                while time.perf_counter() < stop:
                    status, seconds = post(client)
                    results.append((status, seconds))
                    if status == 503:
                        time.sleep(0.2)  # as the page does: wait a moment after "busy"

        threads = [threading.Thread(target=client_loop) for _ in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(args.seconds / 2)
        memory.append(rss_mb())
        for t in threads:
            t.join()
        memory.append(rss_mb())
        ok = sorted(s for status, s in results if status == 200)
        busy = sum(status == 503 for status, _ in results)
        other = [status for status, _ in results if status not in (200, 503)]
        p50 = ok[len(ok) // 2] if ok else float("nan")
        p95 = ok[min(len(ok) - 1, int(len(ok) * 0.95))] if ok else float("nan")
        print(
            f"  load: {args.clients} clients for {args.seconds:g} s: {len(ok)} stylized, {busy} answered busy (503), "
            f"{len(other)} other {sorted(set(other))}; latency of the stylized p50 {p50 * 1e3:.0f} ms, "
            f"p95 {p95 * 1e3:.0f} ms; memory (RSS) {' -> '.join(f'{m:.0f}' for m in memory)} MB"
        )


if __name__ == "__main__":
    main()
