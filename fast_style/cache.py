"""fast-style's cache folder: the converted VGG weights and the config schemas are kept there."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "FAST_STYLE_CACHE"


def cache_dir() -> Path:
    """Where converted weights live: $FAST_STYLE_CACHE, else $XDG_CACHE_HOME/fast-style, else ~/.cache/fast-style."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fast-style"
