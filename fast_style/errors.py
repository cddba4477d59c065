"""The one error type a user sees: a mistake they can fix, reported by every tool in one line."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (a bad argument, a missing or unreadable file, a full disk). Every command
    prints its message as one line, `error: ...`, with no traceback (fast_style.cli)."""


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (at most `limit` characters), or its type's name."""
    text = str(error).strip()
    return text.splitlines()[0][:limit] if text else type(error).__name__


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` is a GPU's or the CPU's allocation failure (torch's, or Python's MemoryError)."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"  # torch.OutOfMemoryError (torch is not imported here)
        or "can't allocate memory" in str(error)  # the CPU allocator's RuntimeError
    )
