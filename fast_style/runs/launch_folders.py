"""The folders a launch of fast-style-train makes (the run's, the dated folders above it, a sweep's), noted before
Hydra makes them, so that a launch refused or stopped before its first step leaves none behind, and a folder that
was there before (the user's, an earlier run's) is left as it was. Nothing here loads torch or Lightning: a stop
while they load finds it known."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from fast_style.runs.config import CONFIG_DIR, LAUNCH_FILES

# set by note_run_parents: which of the run folder's parents were there before Hydra made it
_PARENTS: dict = {}


def named_run_folder() -> tuple[str, Path] | None:
    """("run" or "sweep", the folder) where the command names the run's (or sweep's) folder itself
    (`hydra.run.dir=runs/wave`), not a template that makes one per launch (outputs/<date>/<time>)."""
    return (_PARENTS["kind"], _PARENTS["fixed"]) if _PARENTS.get("depth") == 0 else None


def launch_kind() -> str:
    """ "sweep" for `fast-style-train -m`, else "run"."""
    return _PARENTS.get("kind", "run")


def note_run_parents(argv: list[str]) -> None:
    """Which folders above the run's folder are there before Hydra makes it: the fixed part of `hydra.run.dir`
    (`outputs/` in outputs/${now:...}/...; a sweep's `hydra.sweep.dir`) with its parents, and the folders in it.
    Other parents stay unknown."""
    kind = "sweep" if "-m" in argv or "--multirun" in argv else "run"
    run_dirs = [a.partition("=")[2] for a in argv if a.lstrip("+").startswith(f"hydra.{kind}.dir=")]
    run_dirs = [d[1:-1] if len(d) > 1 and d[0] == d[-1] and d[0] in "'\"" else d for d in run_dirs]  # quoted paths

    if run_dirs:
        template = run_dirs[-1]
    else:
        template = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "train.yaml").hydra[kind])["dir"]
    prefix = template.split("${")[0]
    fixed = Path(os.path.abspath(prefix or "."))
    if prefix != template and not prefix.endswith(("/", os.sep)):  # runs/exp-${now:...}: the folder is runs/
        fixed = fixed.parent
    depth = len(Path(template[len(prefix) :]).parts)  # the folders in it that the template makes (0: none)
    _PARENTS.clear()
    levels = depth + (kind == "sweep")  # a sweep's runs are a level below its folder: 0/, 1/, ...
    try:
        inside = {c for n in range(1, levels + 1) for c in fixed.glob("/".join("*" * n)) if c.is_dir()}
    except OSError:  # unreadable: nothing is known, nothing is removed
        return
    existed = {p: p.is_dir() for p in (fixed, *fixed.parents)}
    _PARENTS.update(fixed=fixed, existed=existed, inside=inside, depth=depth, levels=levels, kind=kind)
    if kind == "run" and depth == 0:  # a folder named by the command: what of the launch's own it held before
        _PARENTS["had"] = {name for name in (".hydra", "tensorboard") if (fixed / name).exists()}
        _PARENTS["had"] |= {p.name for p in fixed.glob("*_ddp_process_*.log")}  # (an earlier DDP run's ranks)
    record = fixed / "multirun.yaml"  # a sweep rerun into its own folder: Hydra rewrites the record at once
    if kind == "sweep" and depth == 0 and record.is_file():
        _PARENTS["record"] = (record, record.read_bytes())


def made_by_this_launch(folder: Path) -> bool | None:
    """Whether `folder` was not there before this launch; None where that is not known (`note_run_parents` was not
    called: train(cfg) from Python; or a run folder that a config file of the user's places elsewhere)."""
    if not _PARENTS:
        return None
    if folder in _PARENTS["existed"]:
        return not _PARENTS["existed"][folder]
    fixed = _PARENTS["fixed"]
    if not folder.is_relative_to(fixed) or len(folder.relative_to(fixed).parts) > _PARENTS["levels"]:
        return None
    return len(folder.relative_to(fixed).parts) > 0 and folder not in _PARENTS["inside"]


def run_logs(out: Path) -> list[Path]:
    """The log files Hydra's job logging keeps open in `out` (train.log): a user's own .log there is not one."""
    files = [Path(h.baseFilename) for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    return [f for f in files if f.resolve().parent == out.resolve()]  # (outputs/ may be a link to scratch space)


def ranks_logs(out: Path, logs: list[Path]) -> list[Path]:
    """The job logs of a DDP run's other ranks beside `logs` (Lightning starts them as jobs named after this one:
    train.log, train_ddp_process_1.log, ...)."""
    return [
        f for log in logs for f in out.glob(f"{log.stem}_ddp_process_*{log.suffix}")
        if re.fullmatch(rf"{re.escape(log.stem)}_ddp_process_\d+{re.escape(log.suffix)}", f.name)
    ]  # fmt: skip


def log_is_new(logs: list[Path]) -> bool:
    """Whether the run's `logs` hold nothing yet (read before this launch writes to them): a folder holding only
    them and this launch's .hydra/ had nothing of anyone's before."""
    return bool(logs) and all(f.stat().st_size == 0 for f in logs if f.exists())


def holds_only_this_launch(out: Path, logs: list[Path], empty_folders: bool = False) -> bool:
    """Whether the run's folder holds nothing but what Hydra wrote for this launch: its settings (.hydra/) and its
    `logs` (and, with `empty_folders`, folders without a file and the logger's tensorboard/hparams.yaml). Else it
    holds an earlier run, a kept launch (.hydra/launches/), what training wrote (a checkpoint, a TensorBoard file)
    or the user's own files."""
    launch = {(".hydra",), *((".hydra", name) for name in LAUNCH_FILES), *((f.name,) for f in logs)}
    launch |= {(f.name,) for f in ranks_logs(out, logs)}
    if empty_folders:  # and what Lightning's logger writes as fit begins, before any step
        launch |= {("tensorboard",), ("tensorboard", "hparams.yaml")}
    for path in out.rglob("*"):
        if path.relative_to(out).parts in launch:
            continue
        if empty_folders and path.is_dir() and not path.is_symlink() and all(p.is_dir() for p in path.rglob("*")):
            continue
        return False
    return True


def remove_refused_run(out: Path, whole: bool | None, logs: list[Path]) -> None:
    """A run refused (or stopped) before its first step, in a folder this launch made, leaves no folder behind (the
    console had its error): Hydra's settings and its `logs` (a TensorBoard file without a loss went already: `train`). A
    folder that holds anything else now is kept whole: training wrote there (a checkpoint, a TensorBoard file,
    .hydra/launches/), a run that failed after its first step (a loss gone NaN). Not `whole`: the folder was there
    before; only this launch's files go. None: a folder of the user's that held files of its own (`remove_added`)."""
    if whole is None:
        remove_added(out, logs)
        return
    if not holds_only_this_launch(out, logs, empty_folders=True):
        return
    _close(logs)
    if not whole:
        shutil.rmtree(out / ".hydra", ignore_errors=True)
        for log_file in [*logs, *ranks_logs(out, logs), out / "tensorboard" / "hparams.yaml"]:
            log_file.unlink(missing_ok=True)
        # and the folders it made (tensorboard/, when refused after the logger: data.root missing), if empty: the
        # folder held nothing but this launch's files when it began (`holds_only_this_launch`)
        for folder in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return
    shutil.rmtree(out, ignore_errors=True)
    parent = Path(os.path.abspath(out)).parent
    while made_by_this_launch(parent) and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()  # outputs/<date>/ too, when the refused run was all it held and this launch made it
        parent = parent.parent


def remove_added(out: Path, logs: list[Path]) -> None:
    """In the folder the command named, which held files before (the user's own, an earlier run's): what this
    launch added there, its `logs` (new with it), its .hydra/ and a tensorboard/ of nothing but the logger's
    hparams.yaml, where they were not there before. A refused launch left them among the user's files."""
    if named_run_folder() != ("run", Path(os.path.abspath(out))) or "had" not in _PARENTS:
        return
    _close(logs)
    for log_file in [*logs, *(f for f in ranks_logs(out, logs) if f.name not in _PARENTS["had"])]:
        log_file.unlink(missing_ok=True)
    if ".hydra" not in _PARENTS["had"]:
        shutil.rmtree(out / ".hydra", ignore_errors=True)
    board = out / "tensorboard"
    if "tensorboard" not in _PARENTS["had"] and all(p.is_dir() or p.name == "hparams.yaml" for p in board.rglob("*")):
        shutil.rmtree(board, ignore_errors=True)


def _close(logs: list[Path]) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):  # Hydra's job log, open in that folder
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) in logs:
            handler.close()
            root.removeHandler(handler)


def remove_refused_sweep(argv: list[str]) -> None:
    """A sweep refused before its first run (Hydra checks every run's settings first: `loss.style_weight=2,abc`)
    leaves no folder behind: Hydra had written its multirun.yaml, alone in a folder of its own. Only a folder that
    this launch made, that holds nothing else, and whose multirun.yaml has this command line's overrides goes."""
    if _PARENTS.get("kind") != "sweep":
        return
    fixed, depth = _PARENTS["fixed"], _PARENTS["depth"]
    settings = [a for a in argv if "=" in a and not a.startswith("-")]
    ours = [a for a in settings if a.lstrip("+~").startswith("hydra.")]  # Hydra's own, kept apart in multirun.yaml
    task = [a for a in settings if a not in ours]
    try:
        for sweep in [fixed] if depth == 0 else fixed.glob("/".join("*" * depth)):  # multirun/<date>/<time>
            made = made_by_this_launch(sweep)
            # a folder of the user's named for the sweep, without a record before: it goes back to how it was
            theirs = made is False and depth == 0 and "record" not in _PARENTS
            if not (sweep.is_dir() and (made or theirs) and (sweep / "multirun.yaml").is_file()):
                continue
            said = OmegaConf.load(sweep / "multirun.yaml").hydra.overrides
            if list(said.task) != task or [h for h in said.hydra if h != "hydra.mode=MULTIRUN"] != ours:
                continue  # another launch's sweep
            if theirs:
                (sweep / "multirun.yaml").unlink()
                continue
            if [p.name for p in sweep.iterdir()] != ["multirun.yaml"]:
                continue
            shutil.rmtree(sweep)
            parent = sweep.parent
            while made_by_this_launch(parent) and not any(parent.iterdir()):
                parent.rmdir()  # multirun/<date>/ too, when this launch made it for the refused sweep
                parent = parent.parent
    except (OSError, OmegaConfBaseException):  # the error above is what matters: never a traceback here
        return


def restore_sweep_record(trained: int) -> None:
    """A rerun of a sweep whose every run was refused (`trainer.max_steps=7` without `ckpt_path=last`) leaves the
    sweep's multirun.yaml as it was: Hydra had written the refused launch's settings over the sweep's."""
    if "record" in _PARENTS and not trained:
        record, earlier = _PARENTS["record"]
        with contextlib.suppress(OSError):
            record.write_bytes(earlier)
