"""`fast-style-serve`: a local web app (photos and the webcam, live) and its HTTP API
(fast_style/serving/server.py)."""

from __future__ import annotations

import argparse
import glob
import itertools
import math
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fast_style.cli import ToolParser, add_device, run_tool
from fast_style.errors import UserError
from fast_style.serving.serving import GRACE_S


def build_parser() -> argparse.ArgumentParser:
    p = ToolParser(prog="fast-style-serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--models",
        help="a style model (.pt), or a folder of them and of training runs, to offer beside the built-in styles",
    )
    add_device(p)
    p.add_argument("--max-upload-mb", type=float, default=20, help="largest accepted upload (default 20 MB)")
    p.add_argument("--max-megapixels", type=float, default=40, help="largest accepted photo (default 40 MP)")
    p.add_argument("--max-size", type=int, default=2048, help="longest side of a result in px (default 2048)")
    p.add_argument("--queue", type=int, default=4, help="requests that may wait; more are answered 503 (default 4)")
    p.add_argument(
        "--grace",
        type=int,
        default=GRACE_S,
        metavar="SECONDS",
        help=f"how long a stop (Ctrl-C, SIGTERM) waits for requests under way before it cancels them (default "
        f"{GRACE_S}; under docker stop or systemd, less than their own time before they kill it)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name requests may address the server by (a reverse proxy's public name; repeatable), whose "
        "pages may also send it photos and use its live view: on this machine only (the default --host) it answers "
        "only to localhost, 127.0.0.1 and [::1], so that a web page elsewhere cannot reach it through a name of its "
        "own; '*' answers to any name, but lets in only pages of the name and port each request was sent to (and "
        "names listed besides)",
    )
    return p


def run(args: argparse.Namespace, cut_short: Any = None) -> None:
    """Checks the arguments, then serves (fast_style.serving.serving) until a stop; `cut_short`: serving.CutShort."""
    from fast_style.devices import pick_device
    from fast_style.serving.host_names import allowed_hosts, as_written, host_name
    from fast_style.serving.server import Limits, Styles, create_app
    from fast_style.serving.serving import bind_port, serve

    if not 0 < args.port < 65536:
        raise UserError(f"--port must be within 1..65535, got {args.port}")
    for flag, value, unit in (
        ("--max-upload-mb", args.max_upload_mb, 2**20),
        ("--max-megapixels", args.max_megapixels, 1e6),
    ):
        if math.isfinite(value) and value * unit == math.inf:  # (1e308 "must be a number > 0")
            in_units = "MB" if unit == 2**20 else "megapixels"
            raise UserError(f"{flag} {value:g} is too large a number: give the limit in {in_units} (e.g. 100)")
        if not 1 <= value * unit < math.inf:  # (0.0000001 MB is no byte: Limits named its own field, not the flag)
            raise UserError(f"{flag} must be a number > 0 (a byte or pixel at least), got {value}")
    if args.max_size < 16:
        raise UserError(f"--max-size must be at least 16 pixels, got {args.max_size}")
    if args.queue < 0:
        raise UserError(f"--queue must be >= 0, got {args.queue}")
    if args.grace < 0:
        raise UserError(f"--grace must be >= 0 seconds, got {args.grace}")
    pick_device(args.device)  # a device that is not there: refused now, not in every request's answer
    args.host = args.host.strip()  # (" 127.0.0.1", checked without its spaces, was bound with them: "not known")
    if "/" in args.host:  # (http://0.0.0.0:8000/ was "no name or address of this machine")
        try:
            name = urlsplit(args.host if "//" in args.host else f"//{args.host}").hostname
        except ValueError:
            name = None
        give = f": give {name}" if name else ""
        raise UserError(f"--host takes an address, not a URL{give} (and the port as --port)")
    if re.fullmatch(r"(\[[^\]]*\]|[^:]+):\d+", args.host):  # ("[127.0.0.1:8000]:8000 cannot be used")
        raise UserError(f"--host {args.host}: give the address alone, and the port as --port")
    args.host = args.host.removeprefix("[").removesuffix("]").strip()  # [::1], as the URL below writes it
    if not args.host:  # it listened on every address and printed http://:8000/
        raise UserError("--host is empty: give 127.0.0.1 (this machine only) or 0.0.0.0 (every network)")
    args.host = as_written(args.host)  # 0:0:0:0:0:0:0:0 is ::, every address
    if args.models is not None and not args.models.strip():  # (Path("") is the current folder: it served that)
        raise UserError("--models is empty (an unset shell variable?): give a style model or a folder, or leave it out")
    sock = bind_port(args.host, args.port)
    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        max_pixels=int(args.max_megapixels * 1e6),
        max_size=args.max_size,
        waiting=args.queue,
    )
    with sock:
        proxies = [host_name(h) for h in args.allow_host if h.strip()]
        hosts = allowed_hosts(args.host, proxies)
        serve(
            create_app(Styles(args.models and Path(args.models), args.device), limits, hosts, proxies),
            args.host,
            args.port,
            cut_short,
            sock,
            args.grace,
        )


def shell_expanded_star(argv: list[str]) -> str | None:
    """Why `--allow-host *` or `--models runs/*.pt`, unquoted, was not taken: the shell put the file names it matches
    in place of the pattern (argparse said "unrecognized arguments: Makefile README.md ...", and with one file
    there, took its name for a host's): the arguments after --allow-host, where they are existing files and
    folders, past its value or this folder's whole listing; after --models, existing files past its one; None
    where there are none."""
    for i, arg in enumerate(argv[:-1]):
        if arg not in ("--allow-host", "--models"):
            continue
        names = list(itertools.takewhile(lambda a: not a.startswith("-"), argv[i + 1 :]))
        if not names or not all(os.path.lexists(n) for n in names):
            continue
        shown = " ".join(names[:4]) + (" ..." if len(names) > 4 else "")
        if arg == "--models" and len(names) > 1:
            folders = {os.path.dirname(n.rstrip("/")) or "." for n in names}
            give = f"their folder, as --models {folders.pop()}" if len(folders) == 1 else "a folder of them all"
            return f"--models {shown}: one style model or folder is read (a * the shell expanded?): give {give}"
        if arg == "--allow-host" and (len(names) > 1 or set(names) == set(glob.glob("*"))):
            expanded = "the shell expanded an unquoted * into this folder's names"
            return f"--allow-host {shown}: {expanded}: quote it, as --allow-host '*'"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if said := shell_expanded_star(argv):
        parser.error(said)
    args = parser.parse_args(argv)
    from fast_style.serving.serving import CutShort  # (the module imports FastAPI only to serve)

    cut_short = CutShort()
    try:
        code = run_tool(lambda: run(args, cut_short))
    except SystemExit as e:  # an exit of its own: it too ends at once where a job was cut short (Python's
        code = e.code if isinstance(e.code, int) else 1  # exit waited for the job, and a Ctrl-C then aborted it)
    cut_short.end_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
