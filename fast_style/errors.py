"""The one error type a user sees: a mistake they can fix, reported by every tool in one line."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (a bad argument, a missing or unreadable file, a full disk). Every command
    prints its message as one line, `error: ...`, with no traceback (fast_style.cli)."""


# whether a command is running (fast_style.cli.run_tool sets it): a remedy then names its option, not an argument
_COMMAND_LINE = [False]


def set_command_line(running: bool) -> bool:
    """Say whether a command is running (fast_style.cli.run_tool, around its body); returns what was said before."""
    before, _COMMAND_LINE[0] = _COMMAND_LINE[0], running
    return before


def remedy(option: str, argument: str) -> str:
    """How a message names the setting that fixes it: the command's option (`--force`) while a command runs, the
    Python argument (`force=True`) where the library was called from Python."""
    return option if _COMMAND_LINE[0] else argument


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (at most `limit` characters), or its type's name; a first line that
    only announces the next ("Error(s) in loading state_dict for TransformerNet:") with the next."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if not lines:
        return type(error).__name__
    text = f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0] if " " in text[: limit - 3] else text[: limit - 3]
    return cut.rstrip(" ,;:") + "..."  # at a word's end, and said to go on (it was cut mid-word: "an interna")


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` is a GPU's or the CPU's allocation failure (torch's, or Python's MemoryError)."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"  # torch.OutOfMemoryError (torch is not imported here)
        or "can't allocate memory" in str(error)  # the CPU allocator's RuntimeError
    )
