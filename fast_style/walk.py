"""Walking a folder tree: the files below a folder (photos to stylize or train on, runs' style models), links to
folders followed, and a folder that cannot be read named rather than skipped without a word."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def files_below(root: str | Path, keep: Callable[[str], bool]) -> list[Path]:
    """Every file below `root` whose name `keep` accepts, sorted. Links to folders are followed (`runs/wave ->
    ../outputs/...`), each real folder once, so a link back up the tree ends; an unreadable folder is named in a
    warning and skipped. Hidden files and folders (a name starting with a dot: macOS's `._photo.jpg` companions,
    `.thumbnails`, `.Trash`) are not looked at: `._photo.jpg` failed as an image and ended a folder run in part."""

    def unreadable(error: OSError) -> None:
        log.warning("%s: cannot read this folder (%s): skipped", error.filename, error.strerror or error)

    found: list[Path] = []
    seen: set[str] = set()
    for folder, subfolders, files in os.walk(root, onerror=unreadable, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))  # (sorted: a folder reached twice,
        # through a link, is named by its first path)
        if (real := os.path.realpath(folder)) in seen:
            subfolders.clear()
            continue
        seen.add(real)
        shown = (name for name in files if not name.startswith("."))
        try:
            found += [path for name in shown if keep(name) and (path := Path(folder) / name).is_file()]
        except OSError as e:  # a folder whose names can be read but not its files (read without search: mode 600)
            unreadable(OSError(e.errno, e.strerror, folder))
    return sorted(found)
