"""Whether a command is running, and which options its parser has (fast_style.cli sets both): a message then names
the option that fixes a mistake, and is typed in a shell; the library called from Python names its arguments."""

from __future__ import annotations

# while a command runs (fast_style.cli.run_tool sets it): the options its parser has (fast_style.cli.ToolParser)
_COMMAND: dict = {"running": False, "options": frozenset()}


def set_command_line(running: bool) -> tuple:
    """Say whether a command is running (fast_style.cli.run_tool, around its body); returns what was said before,
    for `restore_command_line`."""
    before = _COMMAND["running"], _COMMAND["options"]
    _COMMAND["running"] = running
    return before


def restore_command_line(before: tuple) -> None:
    """What `set_command_line` said before: the outer command's options within one, none after the last."""
    running, options = before
    _COMMAND["running"], _COMMAND["options"] = running, options if running else frozenset()


def command_options(options: frozenset[str]) -> None:
    """The options of the command being parsed (fast_style.cli.ToolParser): only those are named as remedies."""
    _COMMAND["options"] = options


def on_command_line() -> bool:
    """Whether a command is running (a remedy is then typed in a shell), not the library called from Python."""
    return bool(_COMMAND["running"])


def has_option(option: str) -> bool:
    """Whether the command running has `option` (`--force`); False outside commands."""
    return on_command_line() and option in _COMMAND["options"]
