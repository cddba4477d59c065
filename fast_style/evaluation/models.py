"""The style models an evaluation scores: found (files, built-in styles by name, the `style.pt` of every run below
a sweep's folder) and given short unique labels (a sweep's runs by the overrides that differ between them)."""

from __future__ import annotations

import logging
from pathlib import Path

from fast_style import zoo
from fast_style.errors import UserError, first_line, remedy
from fast_style.walk import files_below

log = logging.getLogger(__name__)


def find_models(items: list[str]) -> list[Path]:
    """Style-model files, built-in styles by name, and every `style.pt` below given folders (a Hydra sweep); a model
    given twice (`wave` and its file, a run and its sweep's folder) is evaluated once. One name alone is taken too."""
    items = [items] if isinstance(items, (str, Path)) else items  # (a string was read as its letters: 'w', 'a', ...)
    models: list[Path] = []
    for item in items:
        item = str(item)
        if not item.strip():  # an unset shell variable: Path("") is the current folder, every style.pt below it scored
            raise UserError(
                "a model given is empty (an unset shell variable?): give style models (.pt), built-in "
                "style names or a training run's (or sweep's) folder"
            )
        path = Path(item).expanduser()
        if item in zoo.names():  # a built-in style's name, as stylize and export read it, before a folder of
            if path.is_dir():  # that name (fast-style-export wave -o wave makes one)
                log.warning("%s: the built-in style (the folder %s/ is ./%s)", item, item, item)
            models.append(zoo.resolve(item))
        elif path.is_dir():
            below = files_below(path, lambda name: name == "style.pt" or name.endswith(".ckpt"))
            found = [f for f in below if f.name == "style.pt"]
            # runs with checkpoints but no style.pt (still training, or killed): a sweep was ranked without them
            # (a run's checkpoints/ given: its style.pt is beside that folder, not below it)
            unfinished = sorted(
                run
                for run in {f.parent.parent for f in below if f.parent.name == "checkpoints" and f.suffix == ".ckpt"}
                if not (run / "style.pt").is_file()
            )
            if not found:
                photos = "; the photos go after --photos" if remedy("--photos", "") == "--photos" else ""
                if unfinished:
                    raise UserError(
                        f"no style.pt below {item}: {unfinished[0]}'s run has checkpoints but no style model yet "
                        "(still training, or killed): resume it with ckpt_path=last, or give one of its "
                        "checkpoints/style-step=*.pt"
                    )
                raise UserError(
                    f"no style.pt below {item}: give style models (.pt), built-in style names or a training run's "
                    f"(or sweep's) folder{photos}"
                )
            for run in unfinished:
                log.warning(
                    "%s left out: its run has checkpoints but no style.pt yet (still training, or "
                    "killed; resume it with ckpt_path=last)",
                    run,
                )
            models += found
        else:
            models.append(zoo.resolve(item))
    unique: dict[Path, Path] = {}
    for path in models:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _overrides(path: Path) -> list[str]:
    """The command-line overrides of the Hydra run that wrote `path`, if it is in a run folder."""
    from omegaconf import OmegaConf

    file = path.parent / ".hydra" / "overrides.yaml"
    try:
        found = [str(o) for o in OmegaConf.load(file)] if file.is_file() else []
    except Exception as e:  # a damaged record (its YAML parser's error was a traceback): named by its folder
        log.warning("%s cannot be read (%s): its run is named by its folder", file, first_line(e, 120))
        return []
    return [o for o in found if not o.lstrip("+~").partition("=")[0].startswith(_BOOKKEEPING)]


# settings that do not change what a model learns (resuming, where files and logs go, validation): no label
_BOOKKEEPING = (
    "ckpt_path",
    "hydra.",
    "output_dir",
    "callbacks.",
    "data.val_root",
    "data.num_workers",
    "data.cache_dir",
    "trainer.val_check_interval",
    "trainer.log_every_n_steps",
    "trainer.enable_progress_bar",
)


def _short(override: str) -> str:
    """style.image=/long/path/wave.jpg -> style.image=wave.jpg: labels that fit a table column."""
    key, _, value = override.partition("=")
    return f"{key}={Path(value).name}" if "/" in value else override


def model_names(paths: list[Path]) -> list[str]:
    """Short unique labels: a built-in style's name; for the runs of a sweep, the overrides that differ between
    them (loss.style_weight=5); else a run's folder or a file's stem, with the folders above where those clash."""
    built_in = {i for i, p in enumerate(paths) if p.resolve().parent == zoo.ZOO_DIR.resolve()}
    labels = [zoo.model_name(p) for p in paths]
    runs = {i: ov for i, p in enumerate(paths) if i not in built_in and (ov := _overrides(p))}  # a sweep's runs
    if len(runs) > 1:
        common = set.intersection(*(set(o) for o in runs.values()))
        swept = {i: ",".join(_short(o) for o in ov if o not in common) for i, ov in runs.items()}
        if all(swept.values()) and len(set(swept.values())) == len(swept):
            labels = [swept.get(i, label) for i, label in enumerate(labels)]
    whole = [p.absolute() for p in paths]
    for depth in range(2, max(len(p.parts) for p in whole) + 1):  # the clashing ones: the folders above them
        clashing = {i for i, label in enumerate(labels) if labels.count(label) > 1 and i not in built_in}
        if not clashing:
            break
        labels = [_tail(whole[i], depth) if i in clashing else label for i, label in enumerate(labels)]
    return labels


def _tail(path: Path, depth: int) -> str:
    """The last `depth` parts of a model's path, without `style.pt` and a file's extension (runs/a/0)."""
    parts = path.parent.parts if path.name == "style.pt" else (*path.parent.parts, path.stem)
    return "/".join(parts[-depth:])
