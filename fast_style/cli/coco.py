"""`fast-style-coco`: download a subset of MS-COCO 2017 images (train2017 or val2017) to train on.

Images are fetched in parallel from COCO's image server into
<out>/<split>/<name>.jpg, e.g. data/coco/train2017/000000000009.jpg.
Each file is verified (Content-Length, when sent, and the JPEG start/end
markers) and retried with backoff on failure.

Reruns resume: complete images already in the folder count towards --count,
corrupt ones are fetched again and leftover .part files are restarted.

Which images:
  --list FILE   file names (one per line, e.g. 000000000009.jpg; blank lines and
                lines starting with # are ignored), taken in a --seed shuffled order.
  otherwise     probe mode: COCO names are 12-digit zero-padded image ids, but
                which ids belong to a split is only listed in the (large)
                annotation files. So ids from 1..--max-id are tried in a --seed
                shuffled order and ids the server answers with HTTP 404 are
                skipped as "not in this split" until --count images are saved.

example:
  fast-style-coco --split train2017 --count 5000 --out data/coco
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from fast_style.atomic import DiskError
from fast_style.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USER_ERROR,
    Terminated,
    ToolParser,
    finished,
    positive,
    run_tool,
)
from fast_style.errors import UserError
from fast_style.training.coco import (
    DEFAULT_BASE_URL,
    MAX_IDS,
    MAX_TIMEOUT_S,
    Report,
    Unreachable,
    download,
    read_list,
    scan,
)

DEFAULT_COUNT = 5000  # probe mode's (a --list alone asks for its names)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ToolParser(prog="fast-style-coco", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=sorted(MAX_IDS), default="train2017")
    p.add_argument(
        "--count",
        type=positive(int),
        help="images wanted in the folder (default 5000; with --list: those it names, and the images already there)",
    )
    p.add_argument("--out", default="data/coco", help="output root; images go to OUT/SPLIT/ (default data/coco)")
    p.add_argument("--workers", type=positive(int), default=16, help="parallel downloads (default 16)")
    p.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help=f"image server; an image is BASE_URL/SPLIT/NAME (default {DEFAULT_BASE_URL})",
    )
    p.add_argument("--list", metavar="FILE", help="text file of image file names, one per line, instead of probing ids")
    p.add_argument("--seed", type=int, default=0, help="seed for the order in which names/ids are tried (default 0)")
    p.add_argument(
        "--retries",
        type=int,
        default=3,
        help="extra attempts per image after a failure, each after a wait (1 s, doubling, at most 60 s; default 3)",
    )
    p.add_argument(
        "--timeout", type=positive(float), default=30.0, help="socket timeout in seconds (default 30; at most 86400)"
    )
    p.add_argument(
        "--max-id",
        type=positive(int),
        help="probe mode: highest id tried (default: 581929 for train2017, 581781 for val2017); "
        "small values are for testing",
    )
    args = p.parse_args(argv)
    if args.retries < 0:
        p.error("--retries must be >= 0")
    if args.timeout > MAX_TIMEOUT_S:  # (a socket's timeout overflowed: a traceback)
        p.error(f"--timeout {args.timeout:g}: give at most {MAX_TIMEOUT_S} seconds (a day)")
    if args.max_id is not None and args.max_id > MAX_IDS[args.split]:  # (1e20 overflowed, 1e9 filled the memory)
        p.error(f"--max-id {args.max_id}: {args.split}'s ids go up to {MAX_IDS[args.split]}; give at most that")
    if not args.out.strip():  # an unset shell variable: the images went to ./train2017
        p.error("--out is empty: give the folder the images go below (data/coco)")
    if args.list is not None and not args.list.strip():  # an unset shell variable: probe mode, 5000 ids not listed
        p.error("--list is empty (an unset shell variable?): give a file of image names, or leave it out (probe mode)")
    if args.list:
        try:
            args.names = read_list(args.list)
        except UnicodeDecodeError:  # (a UTF-16 list, a picture: "'utf-8' codec can't decode byte 0xff in position 0")
            p.error(f"cannot use --list {args.list}: not UTF-8 text; save it as UTF-8, one file name a line")
        except FileNotFoundError:  # ("[Errno 2] No such file or directory: 'names.txt'")
            p.error(f"--list {args.list} does not exist: give a text file of image names, one a line")
        except IsADirectoryError:
            p.error(f"--list {args.list} is a folder: give a text file of image names, one a line")
        except (OSError, ValueError) as e:
            p.error(f"cannot use --list {args.list}: {e}")
        if not args.names:  # (it ended with "0/5000 images", exit 1, and no word of why)
            p.error(f"--list {args.list} names no images: give one file name a line (000000000009.jpg)")
    args.base_url = args.base_url.rstrip("/")
    if urllib.parse.urlsplit(args.base_url).scheme not in ("http", "https"):
        p.error(f"--base-url {args.base_url}: give an http:// or https:// address")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """`fast-style-coco`, in the frame every tool shares (`run_tool`: SIGTERM and a closed pipe in one line)."""
    return run_tool(lambda: _run(argv))


def _run(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    folder = Path(args.out) / args.split
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # removed again where nothing comes of them
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file in the way, a read-only disk, no rights
        if Path(args.out).is_file():  # ("cannot make s.jpg/train2017: Not a directory")
            raise UserError(f"--out {args.out} is a file: give the folder the images go below (data/coco)") from None
        raise UserError(f"cannot make {folder}: {e.strerror or e}; choose another --out") from None
    code = _download(args, folder)
    for empty in made:  # deepest first
        with contextlib.suppress(OSError):
            empty.rmdir()
    return code


def _download(args: argparse.Namespace, folder: Path) -> int:
    report = Report(folder)
    if args.count is None and args.list:  # every name on it (5000 had it end "2/5000 images", exit 1: in part)
        present, corrupt = scan(folder)
        args.count = len({*present, *corrupt, *args.names})
    args.count = args.count or DEFAULT_COUNT
    try:
        download(
            folder,
            args.count,
            args.split,
            args.names if args.list else None,
            args.seed,
            args.max_id,
            args.base_url,
            args.workers,
            args.retries,
            args.timeout,
            report,
        )
    except (Unreachable, DiskError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_PARTIAL if report.downloaded else EXIT_USER_ERROR  # done in part, or not at all
    except KeyboardInterrupt as e:  # Ctrl-C, or run_tool's SIGTERM and SIGHUP (Terminated)
        print(
            f"interrupted: {report.total} images saved in {folder}; rerun the same command to resume", file=sys.stderr
        )
        if isinstance(e, Terminated):  # its own exit code and line (143, 129): run_tool's
            raise
        return EXIT_INTERRUPTED
    finished()  # a Ctrl-C from here is no interruption: every image is saved (or its failure counted)
    not_found = f", {report.missing} not found" if report.missing else ""
    print(
        f"{report.downloaded} downloaded, {report.present} already present, {report.failed} failed{not_found}; "
        f"{report.total}/{args.count} images in {folder}"
    )
    return EXIT_OK if report.total >= args.count else EXIT_PARTIAL


if __name__ == "__main__":
    sys.exit(main())
