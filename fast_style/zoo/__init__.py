"""The model zoo: ready style models shipped inside the package, each `<name>.pt` (float16, a few MB) with its
manifest `<name>.json` (the painting, artist and licence, the training config and steps, sha256, held-out
metrics). Anything that takes a style-model file also takes a zoo name: `resolve("wave")`. A `<name>-fast` model
is the smaller network distilled from `<name>` (its manifest says `fast_variant_of`), for live video on a CPU.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from fast_style.errors import UserError
from fast_style.outputs import unreadable_name
from fast_style.plurals import counted

ZOO_DIR = Path(__file__).resolve().parent


def names() -> list[str]:
    """The built-in styles, sorted."""
    return sorted(p.stem for p in ZOO_DIR.glob("*.pt") if p.with_suffix(".json").is_file())


def check_name(name: str) -> None:
    """UserError where `name` is not a built-in style, naming those there are."""
    if name not in names():
        raise UserError(
            f"unknown style '{name}'{near_miss(name)}: the built-in styles are {', '.join(names()) or 'none'} "
            "(a style model you trained is given by its file's path)"
        )


def near_miss(name: str) -> str:
    """What an unknown style `name` gets after it where it is a built-in one mistyped (Wave, wave_fast, wav): " (did
    you mean wave?)"; else ""."""
    folded = {n.casefold().replace("_", "-"): n for n in names()}
    key = name.casefold().replace("_", "-")
    close = [key] if key in folded else difflib.get_close_matches(key, list(folded), n=1, cutoff=0.75)
    return f" (did you mean {folded[close[0]]}?)" if close else ""


def manifest(name: str) -> dict[str, Any]:
    """A built-in style's manifest (see the module docstring)."""
    check_name(name)
    return json.loads((ZOO_DIR / f"{name}.json").read_text())


def resolve(model: str | Path) -> Path:
    """A style-model file, or the file of a built-in style named `model` (an existing file wins)."""
    if not str(model).strip():  # read as the current folder: " is a folder without a style.pt"
        raise UserError(f"no style model given: a style.pt file or a built-in style's name ({', '.join(names())})")
    path = Path(model).expanduser()
    if said := unreadable_name(path):  # a name too long for the disk: an OSError's traceback
        raise UserError(f"style model {str(model)[:40]}...: {said}: give a style-model file")
    if path.is_file():
        return path
    if str(model) in names():
        return ZOO_DIR / f"{model}.pt"
    if path.is_dir():
        if (path / "style.pt").is_file():  # a training run's folder: its final style model
            return path / "style.pt"
        if any((path / "checkpoints").glob("*.ckpt")):  # a run stopped before its style.pt, as fast-style-eval says
            newest = sorted((path / "checkpoints").glob("style-step=*.pt"))
            give = f"give {newest[-1]}" if newest else "give one of its checkpoints/style-step=*.pt"
            raise UserError(
                f"{model} is a run's folder with checkpoints but no style.pt yet (still training, or killed): resume "
                f"it with ckpt_path=last, or {give}"
            )
        # a sweep's folder (multirun/DATE/TIME/N/style.pt): its runs' models, a few levels down (a bounded look)
        runs = sorted(f for depth in range(1, 4) for f in path.glob("*/" * depth + "style.pt") if f.is_file())
        if runs:
            raise UserError(
                f"{model} holds no style.pt of its own, but {counted(len(runs), 'run')} below it "
                f"{'does' if len(runs) == 1 else 'do'} (a sweep?): give one, "
                f"e.g. {runs[0]} (fast-style-eval {model} ranks them)"
            )
        raise UserError(f"{model} is a folder without a style.pt: give a style-model file or a built-in style's name")
    if path.suffix or len(path.parts) > 1:  # meant as a file
        if len(path.parts) == 1 and path.suffix == ".pt" and path.stem in names():  # wave.pt: the style's name
            raise UserError(
                f"style model not found: {model} (the built-in style is given by its name alone: {path.stem})"
            )
        raise UserError(
            f"style model not found: {model} (a style.pt that fast-style-train wrote, or a built-in style's name: "
            "fast-style-stylize --list-styles)"
        )
    raise UserError(  # (as --style NAME says it: Wave, starry-night and wave_fast named no built-in style as meant)
        f"'{model}' is neither a style-model file nor a built-in style{near_miss(str(model))} ({', '.join(names())}): "
        "give a .pt file that fast-style-train wrote, or one of those names"
    )


def model_name(model: str | Path) -> str:
    """A model's short name, for output file names and the styles fast-style-serve offers: a built-in style's own,
    a training run's folder for its style.pt (every run's file has that name), else the file's stem."""
    path = Path(model).expanduser()
    if path.is_dir():
        path = path / "style.pt"
    run = path.name.casefold() == "style.pt"  # (style.PT too: fast-style-serve offers a folder's *.PT files)
    if run:  # (absolute: `--model .` or `style.pt` from inside the run's folder named it "style"; and normalized,
        path = Path(os.path.abspath(path))  # not resolved: `..` from its checkpoints/ named it "..": ...onnx; a
        # link to a run is named as given, as fast-style-serve names it in the folder the link is in)
    return path.parent.name if run and path.parent.name else path.stem


def phase_steps(m: dict) -> list:
    """The training steps of each phase a built-in style went through, first to last (its `training` record, and
    the `fine_tuned_from` records nested in it: the model each phase started from)."""
    stages = [m.get("training", {})]
    while isinstance(stages[0].get("fine_tuned_from"), dict):
        stages.insert(0, stages[0]["fine_tuned_from"])
    return [stage.get("steps") for stage in stages]


def describe() -> str:
    """One line per built-in style: name, painting, artist, training budget (for --list-styles)."""
    lines = []
    for name in names():
        m = manifest(name)
        painting = m.get("painting", {})
        trained = m.get("training", {})
        variant = f"; the fast variant of {m['fast_variant_of']} (a smaller network)" if "fast_variant_of" in m else ""
        counts = phase_steps(m)
        steps = f"{trained.get('steps', '?')} steps"
        if len(counts) > 1 and all(isinstance(n, int) for n in counts):
            steps = f"{sum(counts)} steps ({' + '.join(map(str, counts))} fine-tuning)"
        lines.append(
            f"{name:<20} {painting.get('title', '?')}, {painting.get('artist', '?')} "
            f"({painting.get('year', '?')}){variant}; {steps} at {trained.get('image_size', '?')} px"
        )
    return "\n".join(lines)
