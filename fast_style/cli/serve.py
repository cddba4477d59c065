"""`fast-style-serve`: a local web app (photos and the webcam, live) and its HTTP API (fast_style/server.py)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    p = ToolParser(prog="fast-style-serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--models", type=Path, help="a folder of style models (.pt) to offer beside the built-in styles")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--max-upload-mb", type=float, default=20, help="largest accepted upload (default 20 MB)")
    p.add_argument("--max-megapixels", type=float, default=40, help="largest accepted photo (default 40 MP)")
    p.add_argument("--max-size", type=int, default=2048, help="longest side of a result in px (default 2048)")
    p.add_argument("--queue", type=int, default=4, help="requests that may wait; more are answered 503 (default 4)")
    return p


def check_port(host: str, port: int) -> None:
    """UserError, at once, where the server could not listen on `host`:`port`."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # as uvicorn binds: a port whose last connections are in TIME-WAIT (a restart) is free to listen on
        # (not on Windows, where SO_REUSEADDR would let it bind a port another server listens on)
        if os.name != "nt":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            why = "is in use" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
            shown = f"[{host}]" if ":" in host else host  # as the address is written: [::]:8000
            raise UserError(f"{shown}:{port} {why}: choose another with --port or --host") from None


class CutShort:
    """What a stop that cut stylizations short leaves behind: their worker threads, which Python's exit would wait
    for (a minute for a large photo, and a second Ctrl-C then aborted the process), and the temporary folder they
    may write in again."""

    def __init__(self) -> None:
        self.jobs, self.temp = 0, ""

    def end_process(self, code: int) -> None:
        """Ends the process now, with `code`, where jobs were cut short; else nothing."""
        if self.jobs:
            shutil.rmtree(self.temp, ignore_errors=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


def run(args: argparse.Namespace, cut_short: CutShort | None = None) -> None:
    from fast_style.devices import pick_device
    from fast_style.server import GRACE_S, Limits, Styles, create_app, server_config

    if not 0 < args.port < 65536:
        raise UserError(f"--port must be within 1..65535, got {args.port}")
    for flag, value in (("--max-upload-mb", args.max_upload_mb), ("--max-megapixels", args.max_megapixels)):
        if not 0 < value < math.inf:
            raise UserError(f"{flag} must be a number > 0, got {value}")
    if args.max_size < 16:
        raise UserError(f"--max-size must be at least 16 pixels, got {args.max_size}")
    if args.queue < 0:
        raise UserError(f"--queue must be >= 0, got {args.queue}")
    pick_device(args.device)  # a device that is not there: refused now, not in every request's answer
    args.host = args.host.removeprefix("[").removesuffix("]")  # [::1], as the URL below writes it
    if not args.host.strip():  # it listened on every address and printed http://:8000/
        raise UserError("--host is empty: give 127.0.0.1 (this machine only) or 0.0.0.0 (every network)")
    check_port(args.host, args.port)
    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_pixels=int(args.max_megapixels * 1e6),
        max_size=args.max_size,
        waiting=args.queue,
    )
    app = create_app(Styles(args.models, args.device), limits)
    import uvicorn

    class Server(uvicorn.Server):
        """Started with SIGINT ignored (`fast-style-serve &` in a script, nohup), it keeps ignoring it, as every
        program does: a Ctrl-C meant for the shell must not stop it (uvicorn would take it as a stop)."""

        keep_ignoring_sigint = signal.getsignal(signal.SIGINT) is signal.SIG_IGN

        def handle_exit(self, sig: int, frame: object) -> None:
            if sig == signal.SIGINT and self.keep_ignoring_sigint:
                return
            # requests under way (a stylization, a client stalled mid-upload): idle connections close at once
            first, busy = not self.should_exit, _under_way(self.server_state.tasks, app.state.live_frames)
            super().handle_exit(sig, frame)  # before the line: a second Ctrl-C may come while it is printed
            if first and busy:  # said, or the stop looks hung
                print(
                    f"stopping: waiting for {busy} request(s) under way, at most {GRACE_S} s "
                    "(Ctrl-C again stops at once)",
                    file=sys.stderr,
                    flush=True,
                )

    own_temp = tempfile.mkdtemp(prefix="fast-style-serve-")  # uploads are spooled here and nowhere else
    tempfile.tempdir = own_temp
    if cut_short is not None:
        cut_short.temp = own_temp
    try:
        host = f"[{args.host}]" if ":" in args.host else args.host
        stop = f"kill {os.getpid()} stops it" if Server.keep_ignoring_sigint else "Ctrl-C stops it"
        print(f"fast-style-serve: open http://{host}:{args.port}/ ({stop})", file=sys.stderr, flush=True)
        # not uvicorn.run, which swallows the Ctrl-C it re-raises (exit 0, not 130)
        server = Server(server_config(app, host=args.host, port=args.port))
        quiet = _QuietStop(server)
        logging.getLogger("uvicorn.error").addFilter(quiet)
        # uvicorn stops cleanly on SIGTERM (systemd, docker stop), then raises it again: exit 143 through the
        # `finally` below (the default action would kill the process and leave the temporary folder)
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            server.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
            logging.getLogger("uvicorn.error").removeFilter(quiet)  # another server in this process logs in full
        if not server.started:
            raise UserError(f"the server did not start on {host}:{args.port}: see the messages above")
    finally:
        shutil.rmtree(own_temp, ignore_errors=True)
        if cut_short is not None:
            cut_short.jobs = app.state.gate.busy


def _under_way(tasks: set, live_frames: int) -> int:
    """Requests a stop waits for: uvicorn's HTTP tasks, and live frames being stylized or waiting; not the live
    connections themselves, which close at once when idle (uvicorn runs each as a task too)."""
    sockets = ("WebSocket", "WSProtocol")  # its WebSocket protocols' run_asgi
    http = [t for t in tasks if not any(s in getattr(t.get_coro(), "__qualname__", "") for s in sockets)]
    return len(http) + live_frames


class _QuietStop(logging.Filter):
    """Once a stop is asked, the tasks uvicorn cancels (a stalled upload, the app's shutdown) are not errors: their
    tracebacks (a hundred lines at a second Ctrl-C) are left out, and its own "Cancel N running task(s)" too."""

    def __init__(self, server: object) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.server, "should_exit", False):
            return True
        error = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        cancelled = isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)) or "CancelledError" in text
        return not (cancelled or text.startswith("Cancel "))


def _terminated(signum: int, frame: object) -> None:
    print("stopped (SIGTERM)", file=sys.stderr)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cut_short = CutShort()
    try:
        code = run_tool(lambda: run(args, cut_short))
    except SystemExit as e:  # SIGTERM's 143 (_terminated): it too ends at once where a job was cut short (Python's
        code = e.code if isinstance(e.code, int) else 1  # exit waited for the job, and a Ctrl-C then aborted it)
    cut_short.end_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
