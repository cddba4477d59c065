#!/usr/bin/env python3
"""Download a subset of MS-COCO 2017 images (train2017 or val2017).

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
  python scripts/download_coco.py --split train2017 --count 5000 --out data/coco
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import http.client
import math
import random
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

DEFAULT_BASE_URL = "http://images.cocodataset.org"
MAX_IDS = {"train2017": 581929, "val2017": 581781}
UNREACHABLE_AFTER = 20
BACKOFF_S = 1.0
CHUNK = 1 << 16

DOWNLOADED, MISSING, FAILED = "downloaded", "missing", "failed"


class Unreachable(Exception):
    """UNREACHABLE_AFTER connection attempts in a row failed."""


class DiskFull(Exception):
    """An image could not be written (a full disk, a quota, no rights): every other would fail alike."""


# failures to write, not to download: stop at the first (a full disk had each of thousands of ids tried four times)
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


class Interrupted(Exception):
    """The run is stopping; abandon the current download."""


def is_complete_jpeg(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return len(data) >= 4 and data[:2] == b"\xff\xd8" and data.rstrip(b"\0")[-2:] == b"\xff\xd9"


class Fetcher:
    """Downloads single images and tracks whether the server is reachable at all."""

    def __init__(self, base_url: str, split: str, folder: Path, retries: int, timeout: float) -> None:
        self.base_url, self.split, self.folder = base_url, split, folder
        self.retries, self.timeout = retries, timeout
        self.stop = threading.Event()
        self.reached = False
        self.last_connection_error = ""
        self._streak = 0
        self._lock = threading.Lock()

    def _connected(self) -> None:
        with self._lock:
            self._streak, self.reached = 0, True

    def _connection_failed(self, reason: str) -> None:
        with self._lock:
            self._streak += 1
            self.last_connection_error = reason
            if self._streak >= UNREACHABLE_AFTER:
                raise Unreachable(reason)

    def _copy(self, src: BinaryIO, dst: BinaryIO) -> int:
        received = 0
        while chunk := src.read(CHUNK):
            if self.stop.is_set():
                raise Interrupted
            dst.write(chunk)
            received += len(chunk)
        return received

    def fetch(self, name: str) -> tuple[str, str, str]:
        """Return (name, outcome, error) for one image."""
        final = self.folder / name
        part = final.with_name(name + ".part")
        url = f"{self.base_url}/{self.split}/{urllib.parse.quote(name)}"
        error = ""
        try:
            for attempt in range(self.retries + 1):
                if attempt:
                    self.stop.wait(BACKOFF_S * 2 ** (attempt - 1))
                if self.stop.is_set():
                    raise Interrupted
                try:
                    resp = urllib.request.urlopen(url, timeout=self.timeout)
                except urllib.error.HTTPError as e:
                    e.close()
                    self._connected()
                    if e.code == 404:
                        return name, MISSING, ""
                    error = f"HTTP {e.code} {e.reason}"
                    continue
                except (OSError, http.client.HTTPException) as e:
                    error = str(getattr(e, "reason", e)) or type(e).__name__
                    self._connection_failed(error)
                    continue
                self._connected()
                try:
                    with resp, open(part, "wb") as f:
                        received = self._copy(resp, f)
                except (OSError, http.client.HTTPException) as e:
                    if isinstance(e, OSError) and e.errno in DISK_ERRORS:
                        raise DiskFull(f"cannot write {part}: {e.strerror}") from None
                    error = f"download broke off: {e or type(e).__name__}"
                    continue
                expected = resp.headers.get("Content-Length")
                if expected is not None and expected.strip() != str(received):
                    error = f"got {received} of {expected.strip()} bytes"
                elif not is_complete_jpeg(part):
                    error = "not a complete JPEG"
                else:
                    part.replace(final)
                    return name, DOWNLOADED, ""
            return name, FAILED, error
        finally:
            with contextlib.suppress(OSError):  # (a read-only folder: no .part was made)
                part.unlink(missing_ok=True)


def scan(folder: Path) -> tuple[set[str], list[str]]:
    """Split existing images into complete and corrupt ones."""
    present: set[str] = set()
    corrupt: list[str] = []
    for path in sorted(folder.glob("*.jpg")):
        if is_complete_jpeg(path):
            present.add(path.name)
        else:
            corrupt.append(path.name)
    return present, corrupt


def read_list(path: str) -> list[str]:
    lines = (line.strip() for line in Path(path).read_text().splitlines())
    names = [n for n in lines if n and not n.startswith("#")]
    for name in names:
        if Path(name).name != name or name in (".", "..") or "\\" in name:
            raise ValueError(f"not a plain file name: {name!r}")
    return names


def shuffled_names(args: argparse.Namespace) -> Iterator[str]:
    """--list names, or probe-mode ids as file names, in a --seed shuffled order."""
    rng = random.Random(args.seed)
    if args.list:
        names = list(args.names)
        rng.shuffle(names)
        yield from names
    else:
        ids = list(range(1, (args.max_id or MAX_IDS[args.split]) + 1))
        rng.shuffle(ids)
        yield from (f"{i:012d}.jpg" for i in ids)


def candidates(names: Iterable[str], skip: set[str]) -> Iterator[str]:
    seen = set(skip)
    for name in names:
        if name not in seen:
            seen.add(name)
            yield name


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if not math.isfinite(value) or value <= 0:  # (nan and inf: a traceback from the socket's timeout)
            raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
        return value

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=sorted(MAX_IDS), default="train2017")
    p.add_argument("--count", type=positive(int), default=5000, help="images wanted in the folder (default 5000)")
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
        "--retries", type=int, default=3, help="extra attempts per image after a failure, with backoff (default 3)"
    )
    p.add_argument("--timeout", type=positive(float), default=30.0, help="socket timeout in seconds (default 30)")
    p.add_argument(
        "--max-id",
        type=positive(int),
        help="probe mode: highest id tried (default: 581929 for train2017, 581781 for val2017); "
        "small values are for testing",
    )
    args = p.parse_args(argv)
    if args.retries < 0:
        p.error("--retries must be >= 0")
    if args.list:
        try:
            args.names = read_list(args.list)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            p.error(f"cannot use --list {args.list}: {e}")
    args.base_url = args.base_url.rstrip("/")
    if urllib.parse.urlsplit(args.base_url).scheme not in ("http", "https"):
        p.error(f"--base-url {args.base_url}: give an http:// or https:// address")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(args.out) / args.split
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # removed again where nothing comes of them
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file in the way, a read-only disk, no rights
        print(f"error: cannot make {folder}: {e.strerror or e}; choose another --out", file=sys.stderr)
        return 2
    code = _download(args, folder)
    for empty in made:  # deepest first
        with contextlib.suppress(OSError):
            empty.rmdir()
    return code


def _download(args: argparse.Namespace, folder: Path) -> int:
    present, corrupt = scan(folder)
    queue = candidates(chain(corrupt, shuffled_names(args)), present)
    fetcher = Fetcher(args.base_url, args.split, folder, args.retries, args.timeout)
    downloaded = failed = missing = 0
    abort, interrupted = "", False
    pending: set[Future[tuple[str, str, str]]] = set()
    bar = tqdm(total=args.count, initial=min(len(present), args.count), unit="img", desc=args.split)
    pool = ThreadPoolExecutor(args.workers)
    try:
        while True:
            room = min(args.workers, args.count - len(present) - downloaded)
            while len(pending) < room and (name := next(queue, None)) is not None:
                pending.add(pool.submit(fetcher.fetch, name))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                name, outcome, error = future.result()
                if outcome == DOWNLOADED:
                    downloaded += 1
                    bar.update()
                elif outcome == MISSING:
                    missing += 1
                else:
                    failed += 1
                    if fetcher.reached:  # (before the server answered once: said in one line at the end)
                        tqdm.write(f"failed: {name}: {error}", file=sys.stderr)
    except Unreachable as e:
        abort = f"error: cannot reach {args.base_url}: {e}"
    except DiskFull as e:
        abort = f"error: {e}; the {len(present) + downloaded} images saved are kept"
    except KeyboardInterrupt:
        interrupted = True
    finally:
        fetcher.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    if interrupted:
        print(
            f"interrupted: {len(present) + downloaded} images saved in {folder}; rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    if not abort and not fetcher.reached and fetcher.last_connection_error:
        abort = f"error: cannot reach {args.base_url}: {fetcher.last_connection_error}"
    if abort:
        print(abort, file=sys.stderr)
        return 1 if downloaded else 2  # done in part, or not at all
    total = len(present) + downloaded
    not_found = f", {missing} not found" if missing else ""
    print(
        f"{downloaded} downloaded, {len(present)} already present, {failed} failed{not_found}; "
        f"{total}/{args.count} images in {folder}"
    )
    return 0 if total >= args.count else 1


if __name__ == "__main__":
    sys.exit(main())
