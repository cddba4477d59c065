"""A count and its noun as a message says them: "1 file", "2 files"."""

from __future__ import annotations


def counted(n: int, thing: str) -> str:
    """`n` things as a message says them: "1 file", "2 files" (not "1 file(s)")."""
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"
