"""The one error type a user sees: a mistake they can fix, reported by every tool in one line; how its messages name a
setting (the option while a command runs: fast_style.command_line, else the Python argument)."""

from __future__ import annotations

import os
import shlex

from fast_style.command_line import has_option, on_command_line


class UserError(Exception):
    """A mistake the user can fix (a bad argument, a missing or unreadable file, a full disk). Every command
    prints its message as one line, `error: ...`, with no traceback (fast_style.cli)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP: its number is the first argument) stops a tool, or the library's serving, the way Ctrl-C
    does: what it was writing is removed on the way out. The tools say it in one line, `stopped (SIGTERM)`, and end
    with 128 + the signal (143, 129: fast_style.cli.run_tool)."""


EMPTY_FILE = "an empty file (0 bytes)"  # why a file of no bytes was not read, wherever one is (a failed copy)


def remedy(option: str, argument: str) -> str | None:
    """How a message names the setting that fixes it: the command's option (`--force`) while a command that has it
    runs, the Python argument (`force=True`) where the library was called from Python, None in a command without
    such an option (fast-style-train has no --max-image-pixels: the message then says what else to do)."""
    if not on_command_line():
        return argument
    return option if has_option(option) else None


def setting(option: str, argument: str, *value: object) -> str:
    """A setting, with its value if given, as a message names it: the option (`--device cpu`) while a command that
    has it runs, else as Python (and a config key) spells it (`device='cpu'`): library messages are also read by
    Python callers, to whom `--device` means nothing."""
    if remedy(option, argument) == option:
        return " ".join([option, *(shlex.quote(str(v)) for v in value)])  # as typed: --name '{stem}.png'
    if not value:
        return argument
    shown = os.fspath(value[0]) if isinstance(value[0], os.PathLike) else value[0]  # 'a/b', not PosixPath('a/b')
    return f"{argument}={shown!r}"


def option_note(*options: str) -> str:
    """ " (--a or --b)" for a message while a command with those options runs; "" elsewhere (a Python caller, whose
    arguments are not named alike, or a command without them)."""
    named = [o for o in options if remedy(o, "") == o]
    return f" ({' or '.join(named)})" if named else ""


def first_of(items: list) -> str:
    """The first of `items` and how many more there are, for a one-line error: "a", "a (and 2 more)"."""
    return f"{items[0]} (and {len(items) - 1} more)" if len(items) > 1 else f"{items[0]}"


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
