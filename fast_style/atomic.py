"""Files written whole or not at all: a temporary file beside the target, fsynced and renamed over it. A write
that fails for lack of room or rights is a one-line DiskError; what was written before stays intact."""

from __future__ import annotations

import errno
import glob
import io
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from tempfile import mkstemp

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from fast_style.errors import UserError
from fast_style.outputs import TEMPORARY_RANDOM, in_the_way, not_a_folder, temporary_affixes, to_overwrite

_TEMP_NAME = re.compile(f"[a-z0-9_]{{{TEMPORARY_RANDOM}}}")  # mkstemp's random part

# a write failed for lack of room or rights, not because of the data: stop and say so in one line
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO}


class DiskError(UserError):
    """A file could not be written (full disk, quota, read-only, no permission): every other write would fail
    alike, so the work stops. `kept`: what stays good, said after the reason (the files written whole or not at
    all: nothing is half-written; a download's images: those saved)."""

    KEPT = "nothing is left half-written; earlier files are intact"

    def __init__(self, what: str | Path, reason: str, kept: str = KEPT) -> None:
        super().__init__(f"cannot write {what}: {reason} ({kept})")
        self.what, self.reason = what, reason


@contextmanager
def writing(what: str | Path) -> Iterator[None]:
    """Turn a failed write of `what` (disk full, quota, read-only, permissions) into a one-line DiskError."""
    try:
        yield
    except OSError as e:
        if e.errno not in DISK_ERRORS:
            raise
        raise DiskError(what, e.strerror or str(e)) from None


@contextmanager
def atomic_write(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is fsynced and renamed over `path`. A write that fails
    for lack of room or rights (in the caller's block too) is a one-line DiskError naming `path`. Not `overwrite`:
    a file another program made at `path` while this one was being written (a minute's stylization, a video's
    hour) is kept, and the write refused in one line."""
    with writing(path), atomic_writes([path], overwrite) as temps:
        yield temps[0]


@contextmanager
def atomic_writes(paths: list[str | Path], overwrite: bool = True) -> Iterator[list[Path]]:
    """`atomic_write` for files that belong together (a report's tables and its sheet): every one is fsynced
    before any is renamed, so a failure while writing or syncing any of them leaves all the earlier files as
    they were, not some replaced. A failed write in the caller's block is the caller's to name (`writing`)."""
    paths = [Path(p) for p in paths]
    temps: list[Path] = []
    held: list[int] = []  # each temporary file's descriptor, locked while it is ours (_remove_abandoned)
    made: list[Path] = []  # folders made for them, deepest first: removed again, where empty, if the write fails
    try:
        for path in paths:
            made += [p for p in path.parents if not p.exists()]
            tmp, fd = _temporary_beside(path)
            temps.append(tmp)
            held.append(fd)
        yield temps
        umask = os.umask(0)
        os.umask(umask)
        for path, tmp in zip(paths, temps):
            with writing(path):
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the user's usual mode
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
        for path, tmp in zip(paths, temps):
            with writing(path):
                if overwrite:
                    os.replace(tmp, path)
                else:
                    _publish_new(tmp, path)
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()
        for fd in held:
            os.close(fd)
        if not all(path.exists() for path in paths):  # stopped or failed: no empty `-o` folder left behind
            for folder in made:
                with suppress(OSError):  # (not empty: another file was written there meanwhile)
                    folder.rmdir()


def _publish_new(tmp: Path, path: Path) -> None:
    """`tmp` given the name `path` only where no file has it: as a second name (a hard link, which never replaces),
    then its temporary name removed; where the file system has no hard links (FAT, some network mounts), renamed
    after a last look (a file made in between is then replaced)."""
    made_meanwhile = f"{path} exists (made while this one was being written): it is kept; {to_overwrite()}"
    try:
        os.link(tmp, path)
    except FileExistsError:
        if _same_file(tmp, path):  # NFS: a retried link that had been made the first time
            tmp.unlink()
            return
        raise UserError(made_meanwhile) from None
    except OSError as e:
        if e.errno in DISK_ERRORS - {errno.EPERM} or e.errno == errno.ENOENT:
            raise
        if path.exists() or path.is_symlink():
            raise UserError(made_meanwhile) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # (a link to nothing)
        return False


def _temporary_beside(path: Path) -> tuple[Path, int]:
    """An empty temporary file in `path`'s folder (made where missing), and its descriptor, holding a lock on it
    until the write ends; one line naming `path` where it cannot be (not a temporary name, not the input). Those a
    killed writer left for `path` (SIGKILL, the kernel's out-of-memory killer, a power cut) are removed first."""
    not_a_folder(path)
    with writing(path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(path)
            prefix, suffix = temporary_affixes(path.name)
            fd, tmp = mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
        except (FileExistsError, NotADirectoryError):
            said = in_the_way(path.parent) or f"{path.parent} is a file, not a folder"
            raise UserError(f"cannot write {path}: {said}") from None
        except OSError as e:
            if e.errno in DISK_ERRORS:
                raise
            raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    if fcntl is not None:
        with suppress(OSError):  # (a file system without locks: nothing is removed for it later either)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return Path(tmp), fd


def _remove_abandoned(path: Path) -> None:
    """The temporary files beside `path` that no writer holds any more: a writer locks its own until it ends
    (the lock goes with its process, however it ends), so one that can be locked here was left by a killed one.
    Only names of this module's pattern (.NAME.XXXXXXXX.tmp); not where locks are unknown (Windows)."""
    if fcntl is None:
        return
    prefix, suffix = temporary_affixes(path.name)
    for old in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        if not _TEMP_NAME.fullmatch(old.name[len(prefix) : -len(suffix)]):
            continue
        try:
            fd = os.open(old, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a live writer: BlockingIOError
            old.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


def save_torch(obj: object, path: str | Path, overwrite: bool = True) -> Path:
    """torch.save, atomically. Serialized in memory first: torch's own file writer turns a full disk into a
    RuntimeError (or, for TorchScript, aborts the process) instead of an OSError that can be reported."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript's deprecation notice: the export is offered on purpose
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        (torch.jit.save if isinstance(obj, torch.jit.ScriptModule) else torch.save)(obj, buffer)
    with atomic_write(path, overwrite) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return Path(path)
