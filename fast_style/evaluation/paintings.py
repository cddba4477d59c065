"""The painting each model is scored against: where training recorded it, else found by its file name in the
--style-dir folders."""

from __future__ import annotations

from pathlib import Path

from fast_style.errors import UserError, setting


def find_style_image(recorded: str, style_dirs: list[str]) -> str:
    """The painting a model names: where it was when it was trained (its whole path, as training recorded it), else by
    its file name in `style_dirs`. A bare file name (a built-in style names only its file: wave.jpg) is looked for
    in `style_dirs` first: a wave.jpg in the current folder, another painting, had been taken before the
    --style-dir asked for."""
    return found_painting(recorded, style_dirs)[0]


def found_painting(recorded: str, style_dirs: list[str]) -> tuple[str, str | None, bool]:
    """`find_style_image`'s painting; the folder of `style_dirs` it was found in by its file name, if so; and whether
    it was found by its file name alone in the current folder (neither: by the path the model recorded)."""
    path = Path(recorded).expanduser()
    if path.parent != Path(".") and path.is_file():
        return recorded, None, False
    for folder in style_dirs:
        candidate = Path(folder).expanduser() / path.name
        if candidate.is_file():
            return str(candidate), folder, False
    if path.is_file():
        return recorded, None, True
    where = f" nor in {', '.join(style_dirs)}" if style_dirs else ""
    raise UserError(
        f"the painting {recorded} is not there{where}: give {setting('--style-dir', 'style_dirs')} a folder holding "
        f"{Path(recorded).name}, or {setting('--style', 'style_image')} the painting"
    )
