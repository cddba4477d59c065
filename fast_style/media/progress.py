"""The per-frame progress bar of a video or an animation: frames done of the total, with frames per second."""

from __future__ import annotations

from typing import Any


def frame_bar(total: int | None, name: str) -> Any:
    """A tqdm bar on stderr for `total` frames (None: not known) of the file `name`, cleared when it closes; none
    where stderr is not a terminal (disable=None: a log file had a line of every update)."""
    from tqdm import tqdm  # (looked up as it is called: tests put their own in its place)

    return tqdm(total=total, unit="frame", desc=name, leave=False, dynamic_ncols=True, disable=None)
