"""Whether a tool may write an output where it is asked to, said before any work: never over one of its inputs
(by any of its names), never over an existing file unasked (`--force`), never where a file blocks the folder or
no file can be made. fast_style/atomic.py then writes it whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from tempfile import mkstemp

from fast_style.errors import UserError, option_note, remedy
from fast_style.options import check_flag


def in_the_way(folder: Path) -> str | None:
    """What keeps `folder` from being made, or None: a file at it or at the nearest of its parents that is there
    ("x is a file, not a folder"), or a link to nothing there (it was taken for a folder still to be made, and
    then said to be a file, after all the work)."""
    nearest = next((a for a in (folder, *folder.parents) if a.exists() or a.is_symlink()), None)
    if nearest is None or nearest.is_dir():
        return None
    if not nearest.exists():
        return f"{nearest} is a link to {os.readlink(nearest)}, which does not exist"
    return f"{nearest} is a file, not a folder"


def check_writable(folder: Path, label: str) -> None:
    """Before any work: UserError, starting with `label` (the option and its value), where no file can be made in
    `folder` (where it does not exist yet, in the nearest parent that does, where it will be made): a read-only
    disk or a folder without rights was found only when the results were written, after all the work."""
    if said := in_the_way(folder.absolute()):  # a file, or a link to nothing: the folder cannot be made there
        raise UserError(f"{label}: {said}")
    nearest = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    try:
        fd, probe = mkstemp(prefix=".fast-style-probe.", dir=nearest)
    except OSError as e:
        raise UserError(f"{label}: cannot write in {nearest} ({e.strerror or e}): choose another place") from None
    os.close(fd)
    os.unlink(probe)


def not_a_folder(path: Path) -> None:
    """UserError where the file to write, `path`, is a folder: said before the work, not at the rename after it
    ("Is a directory: '.x.mp4.tmp' -> 'x.mp4'")."""
    if path.is_dir():
        raise UserError(_A_FOLDER.format(path))


_A_FOLDER = "cannot write {}: it is a folder; give a file's name"
# an output named in a folder (-o and --name): "give a file's name" was said where a folder had been given
_A_FOLDER_THERE = "cannot write {}: a folder of that name is in the way; move it, or write elsewhere{}"


def to_overwrite() -> str:
    """What every refusal of an existing output says: on a command line its option, from Python its argument."""
    return f"use {remedy('--force', 'force=True') or '--force'} to overwrite"  # (every tool that writes has it)


def check_output(path: Path, force: bool, inputs: set[Path] = frozenset(), named: bool = True) -> None:
    """Before any work: refuse (UserError) to write `path` over one of `inputs` (resolved paths), or over an
    existing file without `force`. Nothing a user made is overwritten unasked. `named`: the user named `path`
    itself, not a folder to write it in (fast-style-stylize's -o and --name)."""
    if refusal := output_refusal(path, force, inputs, named):
        raise UserError(refusal)


def output_refusal(path: Path, force: bool, inputs: set[Path] = frozenset(), named: bool = True) -> str | None:
    """Why `check_output` refuses `path`, in one line; None where it may be written. `force` must be a bool (a
    TypeError otherwise): force="no" from Python had replaced the file, being a non-empty string."""
    force = check_flag("force", force)
    if said := name_too_long(path):
        return said
    if said := unreadable_name(path):  # a folder's name too long for the disk: an OSError's traceback
        return f"cannot write {path}: {said}; choose another output"
    if is_an_input(path, inputs):
        return f"{path} is an input: choose another output"
    if path.is_dir():
        return _A_FOLDER.format(path) if named else _A_FOLDER_THERE.format(path, option_note("-o", "--name"))
    if path.exists() and not force:
        return f"{path} exists: {to_overwrite()} it"
    if path.is_symlink() and not force:  # a link to nothing: not written through, nor replaced unasked
        return f"{path} exists (a link to {os.readlink(path)}, which does not exist): {to_overwrite()} it"
    return None


def temporary_affixes(name: str) -> tuple[str, str]:
    """What fast_style/atomic.py's temporary file for a file named `name` starts and ends with; mkstemp puts
    TEMPORARY_RANDOM characters between (.NAME.XXXXXXXX.tmp)."""
    return f".{name}.", ".tmp"


TEMPORARY_RANDOM = 8
TEMPORARY_NAME_EXTRA = len("".join(temporary_affixes(""))) + TEMPORARY_RANDOM  # what the temporary adds to a name


def name_too_long(path: Path) -> str | None:
    """Why `path`'s file name cannot be written on its disk, or None: with the temporary file's additions, it is
    longer than the disk takes (255 bytes for most). Said before the work, not after it (at the temporary file)."""
    nearest = next((p for p in (path.parent.absolute(), *path.parent.absolute().parents) if _is_dir(p)), Path("/"))
    try:
        limit = os.pathconf(nearest, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # (Windows: no pathconf)
        limit = 255
    size = len(os.fsencode(path.name))
    if size + TEMPORARY_NAME_EXTRA <= limit:
        return None
    shown = f"{path.name[:20]}...{path.name[-12:]}"
    return f"cannot write {shown}: its name is {size} bytes; give one of at most {limit - TEMPORARY_NAME_EXTRA}"


def unreadable_name(path: Path) -> str | None:
    """Why the disk cannot even look `path` up (a file or folder name too long for it), or None: Path.is_dir and
    is_file raise an OSError then, a traceback where a one-line message was due."""
    try:
        path.is_dir()
    except OSError as e:
        return e.strerror or str(e)
    return None


def _is_dir(path: Path) -> bool:
    return unreadable_name(path) is None and path.is_dir()


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
