"""A subset of MS-COCO 2017's images (train2017 or val2017), fetched from COCO's image server: `download`
(`fast-style-coco` is its command line, fast_style/cli/coco.py).

Each image goes to <folder>/<name>.jpg (12-digit zero-padded image ids), verified (Content-Length, when sent, and
the JPEG start/end markers) and retried with backoff on failure; complete images already in the folder count,
corrupt ones are fetched again and leftover .part files are restarted. Which ids belong to a split is listed only
in COCO's (large) annotation files: without a list of names, ids are tried in a shuffled order and those the server
answers with HTTP 404 are skipped as "not in this split".
"""

from __future__ import annotations

import contextlib
import http.client
import random
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from fast_style.atomic import DISK_ERRORS, DiskError
from fast_style.errors import UserError
from fast_style.numbers import check_number
from fast_style.plurals import counted

DEFAULT_BASE_URL = "http://images.cocodataset.org"
MAX_IDS = {"train2017": 581929, "val2017": 581781}
MAX_TIMEOUT_S = 86400  # a day: far more, a socket's timeout overflowed (1e12: "timestamp out of range", a traceback)
UNREACHABLE_AFTER = 20
BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0  # each wait doubles up to this (--retries 20 had waited about 12 days on one image)
CHUNK = 1 << 16

DOWNLOADED, MISSING, FAILED = "downloaded", "missing", "failed"


class Unreachable(UserError):
    """UNREACHABLE_AFTER connection attempts in a row failed, or the server never answered."""


class Interrupted(Exception):
    """The run is stopping; abandon the current download."""


class _BrokeOff(Exception):
    """A download's connection failed while its bytes were read: never the disk's failure, whatever its errno (an
    https download's SSL error carries the SSL library's code, 1, which is the system's EPERM)."""


def _read(src: BinaryIO) -> bytes:
    try:
        return src.read(CHUNK)
    except OSError as e:
        raise _BrokeOff(str(e) or type(e).__name__) from e


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
        while chunk := _read(src):
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
                    self.stop.wait(min(BACKOFF_S * 2 ** min(attempt - 1, 62), MAX_BACKOFF_S))
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
                except (OSError, http.client.HTTPException, _BrokeOff) as e:
                    # the file's failures (a read's are _BrokeOff): stop at the first, as every write does (a full
                    # disk had each of thousands of ids tried four times)
                    if isinstance(e, OSError) and e.errno in DISK_ERRORS:
                        raise DiskError(part, e.strerror or str(e), "the images saved are kept") from None
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
    # utf-8-sig: a list saved by Windows' Notepad starts with a byte-order mark, which made its first name "not found"
    lines = (line.strip() for line in Path(path).read_text(encoding="utf-8-sig").splitlines())
    names = [n for n in lines if n and not n.startswith("#")]
    for name in names:
        if Path(name).name != name or name in (".", "..") or "\\" in name:
            raise ValueError(f"not a plain file name: {name!r}")
        if not name.endswith(".jpg"):  # ids (9) were all "not found", and only *.jpg files count on a rerun
            hint = f"{int(name):012d}.jpg" if name.isdigit() else "000000000009.jpg"
            raise ValueError(f"not a COCO image's file name: {name!r} (one a line, as {hint})")
    return names


def shuffled_names(names: list[str] | None, split: str, seed: int, max_id: int | None = None) -> Iterator[str]:
    """The `names` given (a --list), or else probe mode's ids up to `max_id` (default: the split's highest) as file
    names, in a `seed` shuffled order."""
    rng = random.Random(seed)
    if names is not None:
        names = list(names)
        rng.shuffle(names)
        yield from names
    else:
        ids = list(range(1, (max_id or MAX_IDS[split]) + 1))
        rng.shuffle(ids)
        yield from (f"{i:012d}.jpg" for i in ids)


def candidates(names: Iterable[str], skip: set[str]) -> Iterator[str]:
    seen = set(skip)
    for name in names:
        if name not in seen:
            seen.add(name)
            yield name


@dataclass
class Report:
    """What a `download` did, filled in as it goes (so that it is there after a stop too)."""

    folder: Path
    present: int = 0  # complete images in the folder before
    downloaded: int = 0
    failed: int = 0
    missing: int = 0  # ids the server has not in this split (probe mode)

    @property
    def total(self) -> int:
        return self.present + self.downloaded


def download(
    folder: str | Path,
    count: int,
    split: str = "train2017",
    names: list[str] | None = None,
    seed: int = 0,
    max_id: int | None = None,
    base_url: str = DEFAULT_BASE_URL,
    workers: int = 16,
    retries: int = 3,
    timeout: float = 30.0,
    report: Report | None = None,
) -> Report:
    """Fetch images of `split` into `folder` until it holds `count` complete ones: the `names` given (in a `seed`
    shuffled order), else probe mode's ids up to `max_id`; `workers` at a time, each retried `retries` times.
    Unreachable (a UserError) where the server cannot be reached, atomic.DiskError where an image cannot be written
    (the images saved are kept either way); a stop (KeyboardInterrupt) ends the downloads under way first. `report`:
    filled in as it goes, for a caller that wants the figures after an error or a stop."""
    folder, base_url = Path(folder), base_url.rstrip("/")  # (a trailing / asked for //train2017/...)
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise UserError(f"base_url {base_url}: give an http:// or https:// address")
    if split not in MAX_IDS:
        raise UserError(f"split {split!r}: choose {' or '.join(MAX_IDS)}")
    count, workers, retries = (
        check_number(name, number, lambda v, n=least: v >= n, f"a whole number >= {least}", True)
        for name, number, least in (("count", count, 1), ("workers", workers, 1), ("retries", retries, 0))
    )
    timeout = check_number(
        "timeout", timeout, lambda v: 0 < v <= MAX_TIMEOUT_S, f"a number of seconds > 0, at most {MAX_TIMEOUT_S}"
    )
    if max_id is not None:  # ids past the split's highest are none of COCO's (1e20 overflowed; 1e9 filled the memory)
        max_id = check_number(
            "max_id", max_id, lambda v: 1 <= v <= MAX_IDS[split], f"1 to {MAX_IDS[split]} ({split}'s highest id)", True
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file in the way, a read-only disk, no rights
        raise UserError(f"cannot make {folder}: {e.strerror or e}") from None
    report = report or Report(folder)
    present, corrupt = scan(folder)
    report.present = len(present)
    queue = candidates(chain(corrupt, shuffled_names(names, split, seed, max_id)), present)
    fetcher = Fetcher(base_url, split, folder, retries, timeout)
    pending: set[Future[tuple[str, str, str]]] = set()
    from tqdm import tqdm  # (here: the tool's --help and argument mistakes answer without it)

    bar = tqdm(total=count, initial=min(len(present), count), unit="img", desc=split)
    pool = ThreadPoolExecutor(workers)
    unsaid: list[str] = []
    try:
        while True:
            room = min(workers, count - report.total)
            while len(pending) < room and (name := next(queue, None)) is not None:
                pending.add(pool.submit(fetcher.fetch, name))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                name, outcome, error = future.result()
                if outcome == DOWNLOADED:
                    report.downloaded += 1
                    bar.update()
                elif outcome == MISSING:
                    report.missing += 1
                else:
                    report.failed += 1
                    unsaid.append(f"failed: {name}: {error}")
            if fetcher.reached:  # (failures before the server answered once: said then, or in one line at the end)
                for line in unsaid:
                    tqdm.write(line, file=sys.stderr)
                unsaid.clear()
    except Unreachable as e:
        raise Unreachable(f"cannot reach {base_url}: {e}") from None
    except DiskError as e:  # (its .part file is left, restarted by the next run)
        saved = f"the {counted(report.total, 'image')} saved {'is' if report.total == 1 else 'are'} kept"
        raise DiskError(e.what, e.reason, saved) from None
    except KeyboardInterrupt:
        if pending:  # a stalled read ends at its timeout
            tqdm.write(
                f"stopping: ending {counted(len(pending), 'download')} under way (at most {timeout:g} s; press Ctrl-C "
                "again to quit at once)",
                file=sys.stderr,
            )
        raise
    finally:
        fetcher.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    if not fetcher.reached and fetcher.last_connection_error:
        raise Unreachable(f"cannot reach {base_url}: {fetcher.last_connection_error}")
    return report
