"""Files written whole or not at all: a temporary file beside the target, fsynced and renamed over it. A write
that fails for lack of room or rights is a one-line DiskError; what was written before stays intact."""

from __future__ import annotations

import errno
import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from tempfile import mkstemp

from fast_style.errors import UserError

# a write failed for lack of room or rights, not because of the data: stop and say so in one line
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO}


class DiskError(UserError):
    """A file could not be written (full disk, quota, read-only, no permission); nothing written before is lost."""

    def __init__(self, what: str | Path, reason: str) -> None:
        super().__init__(f"cannot write {what}: {reason} (files written before it are intact)")
        self.reason = reason


@contextmanager
def writing(what: str | Path) -> Iterator[None]:
    """Turn a failed write of `what` (disk full, quota, read-only, permissions) into a one-line DiskError."""
    try:
        yield
    except OSError as e:
        if e.errno not in DISK_ERRORS:
            raise
        raise DiskError(what, e.strerror or str(e)) from None


def file_in_the_way(folder: Path) -> Path | None:
    """The file (not a folder) at `folder` or at the nearest of its parents that exists, or None: where the
    folder cannot be made."""
    nearest = next((a for a in (folder, *folder.parents) if a.exists()), None)
    return nearest if nearest is not None and not nearest.is_dir() else None


def check_writable(folder: Path, label: str) -> None:
    """Before any work: UserError, starting with `label` (the option and its value), where no file can be made in
    `folder` (where it does not exist yet, in the nearest parent that does, where it will be made): a read-only
    disk or a folder without rights was found only when the results were written, after all the work."""
    nearest = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists() or p.is_symlink())
    if not nearest.exists():  # a link to nothing: the folder cannot be made through it
        raise UserError(f"{label}: {nearest} is a link to {os.readlink(nearest)}, which does not exist")
    if not nearest.is_dir():
        raise UserError(f"{label}: {nearest} is a file, not a folder")
    try:
        fd, probe = mkstemp(prefix=".fast-style-probe.", dir=nearest)
    except OSError as e:
        raise UserError(f"{label}: cannot write in {nearest} ({e.strerror or e}): choose another place") from None
    os.close(fd)
    os.unlink(probe)


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is fsynced and renamed over `path`. A write that fails
    for lack of room or rights (in the caller's block too) is a one-line DiskError naming `path`."""
    with writing(path), atomic_writes([path]) as temps:
        yield temps[0]


@contextmanager
def atomic_writes(paths: list[str | Path]) -> Iterator[list[Path]]:
    """`atomic_write` for files that belong together (a report's tables and its sheet): every one is fsynced
    before any is renamed, so a failure while writing or syncing any of them leaves all the earlier files as
    they were, not some replaced. A failed write in the caller's block is the caller's to name (`writing`)."""
    paths = [Path(p) for p in paths]
    temps: list[Path] = []
    made: list[Path] = []  # folders made for them, deepest first: removed again, where empty, if the write fails
    try:
        for path in paths:
            made += [p for p in path.parents if not p.exists()]
            temps.append(_temporary_beside(path))
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
                os.replace(tmp, path)
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()
        if not all(path.exists() for path in paths):  # stopped or failed: no empty `-o` folder left behind
            for folder in made:
                with suppress(OSError):  # (not empty: another file was written there meanwhile)
                    folder.rmdir()


def not_a_folder(path: Path) -> None:
    """UserError where the file to write, `path`, is a folder: said before the work, not at the rename after it
    ("Is a directory: '.x.mp4.tmp' -> 'x.mp4'")."""
    if path.is_dir():
        raise UserError(_A_FOLDER.format(path))


_A_FOLDER = "cannot write {}: it is a folder; give a file's name"
TO_OVERWRITE = "use --force (from Python: force=True) to overwrite"  # what every refusal of an existing output says


def _temporary_beside(path: Path) -> Path:
    """An empty temporary file in `path`'s folder (made where missing); one line naming `path` where it cannot
    be (not a temporary name, not the input)."""
    not_a_folder(path)
    with writing(path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except (FileExistsError, NotADirectoryError):
            blocking = file_in_the_way(path.parent) or path.parent
            raise UserError(f"cannot write {path}: {blocking} is a file, not a folder") from None
        except OSError as e:
            if e.errno in DISK_ERRORS:
                raise
            raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    os.close(fd)
    return Path(tmp)


def save_torch(obj: object, path: str | Path) -> Path:
    """torch.save, atomically. Serialized in memory first: torch's own file writer turns a full disk into a
    RuntimeError (or, for TorchScript, aborts the process) instead of an OSError that can be reported."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript's deprecation notice: the export is offered on purpose
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        (torch.jit.save if isinstance(obj, torch.jit.ScriptModule) else torch.save)(obj, buffer)
    with atomic_write(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return Path(path)


def check_output(path: Path, force: bool, inputs: set[Path] = frozenset()) -> None:
    """Before any work: refuse (UserError) to write `path` over one of `inputs` (resolved paths), or over an
    existing file without `force`. Nothing a user made is overwritten unasked."""
    if refusal := output_refusal(path, force, inputs):
        raise UserError(refusal)


def output_refusal(path: Path, force: bool, inputs: set[Path] = frozenset()) -> str | None:
    """Why `check_output` refuses `path`, in one line; None where it may be written."""
    if is_an_input(path, inputs):
        return f"{path} is an input: choose another output"
    if path.is_dir():
        return _A_FOLDER.format(path)
    if path.exists() and not force:
        return f"{path} exists: {TO_OVERWRITE} it"
    return None


def is_the_file(path: Path, src: Path) -> bool:
    """Whether writing `path` would replace the file `src`: its path, or another name of it (a link, a case)."""
    return path.resolve() == src.resolve() or (path.exists() and src.exists() and path.samefile(src))


def is_an_input(path: Path, inputs: set[Path]) -> bool:
    """Whether `path` is one of `inputs` (resolved paths), by its name or by another (a link, a name's case)."""
    return path.resolve() in inputs or (path.exists() and _same_file_as_one_of(path, inputs))


def _same_file_as_one_of(path: Path, inputs: set[Path]) -> bool:
    """The input by another path: a hard link, or on macOS a name in another case (IMG.JPG vs img.jpg). Only
    inputs of the same name (any case) are compared, and only for an output that exists."""
    named = _inputs_named(inputs).get(path.name.casefold(), ())
    return any(i.exists() and path.samefile(i) for i in named)


# the inputs last asked about (held, so their id is not reused), their count, and their index by name
_NAMED: list = [None, 0, {}]


def _inputs_named(inputs: set[Path]) -> dict[str, list[Path]]:
    """`inputs` by their names (any case), made once for a set asked about many times (every output of a folder
    against every input: 10,000 files' rerun spent 43 s comparing names before its first picture)."""
    if _NAMED[0] is not inputs or _NAMED[1] != len(inputs):
        index: dict[str, list[Path]] = {}
        for i in inputs:
            index.setdefault(i.name.casefold(), []).append(i)
        _NAMED[:] = [inputs, len(inputs), index]
    return _NAMED[2]
