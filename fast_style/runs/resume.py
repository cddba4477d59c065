"""Where a run goes on from: the checkpoint `ckpt_path` names (checked to be a Lightning checkpoint of this run's,
not a style model or another run's over this one), the run's newest where `ckpt_path=last`, and what a run's folder
already holds, which a new run does not write over."""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from fast_style.errors import UserError
from fast_style.model.style_model import load_style_model
from fast_style.runs import launch

log = logging.getLogger(__name__)


def resume_from(cfg: DictConfig, out: Path, last: str | None, checkpoints: bool) -> str | None:
    """The checkpoint the run in `out` trains on from (None: from the start, "last": its checkpoints' last.ckpt
    in `last`), as `cfg.ckpt_path` asks; UserError where that would write over a run's files or cannot resume.
    `checkpoints`: whether the run writes checkpoints (callbacks.checkpoint set)."""
    ckpt = None if cfg.ckpt_path is None else str(cfg.ckpt_path)  # Hydra reads ckpt_path=123 as a number
    if ckpt in ("best", "hpc", "registry"):  # Lightning's other names: runs here keep none of those checkpoints
        raise UserError(
            f"ckpt_path={ckpt}: fast-style resumes from ckpt_path=last (with the run's {launch.run_folder_key()}) or a "
            ".ckpt file"
        )
    if ckpt is not None and ckpt != "last":
        check_checkpoint(Path(ckpt).expanduser())
    if ckpt == "last" and not checkpoints:  # (Lightning warned, trained from the start and wrote over the run)
        raise UserError(
            "ckpt_path=last resumes from the run's checkpoints, and callbacks.checkpoint=null writes none: leave "
            "callbacks.checkpoint as it was, or pass a .ckpt file"
        )
    held = run_in(out, last, OmegaConf.select(cfg, "callbacks.images.dirpath"))
    if ckpt not in (None, "last") and held and not _within(Path(ckpt).expanduser(), last):
        raise UserError(  # another run's checkpoint, continued here, would write over this folder's run
            f"{out} holds a run ({held}) and ckpt_path={ckpt} is another run's: continue that one in a folder of its "
            f"own ({launch.run_folder_key()}=...), or resume this one with ckpt_path=last"
        )
    elsewhere = launch.run_folder_key()  # (a sweep's runs: run.dir is not read; from Python, output_dir)
    asked_last = ckpt == "last"
    if asked_last and last and (newest := newest_checkpoint(last)):
        # no last.ckpt (callbacks.checkpoint.save_last=false, or removed: the run was called one stopped before its
        # first checkpoint, "delete that folder"), or one older than a periodic checkpoint (save_last=false since a
        # stop wrote it, and the run killed since: a resume went back to it)
        kept = Path(last) / "last.ckpt"
        if not kept.is_file():
            log.warning("ckpt_path=last: %s holds no last.ckpt: resuming from %s, its newest checkpoint", last, newest)
            ckpt = str(newest)
        elif (at := step_of(newest)) is not None and (kept_at := step_of(kept)) is None:  # (was "older than")
            log.warning(
                "ckpt_path=last: %s cannot be read (cut short?): resuming from %s, the run's newest", kept, newest
            )
            ckpt = str(newest)
        elif at is not None and at > kept_at:
            log.warning("ckpt_path=last: %s is older than %s: resuming from that, the run's newest", kept, newest)
            ckpt = str(newest)
    if ckpt == "last" and last and not (Path(last) / "last.ckpt").is_file():
        if launch.in_multirun() and not (out / "style.pt").is_file():
            # rerunning a stopped sweep: a run it had not reached, or stopped before its first checkpoint (its
            # logs and grids are written over), starts from the beginning
            log.info("ckpt_path=last: no checkpoint in %s yet: this run starts from the beginning", last)
            ckpt, held = None, None
        elif held and held.name == "style.pt":  # a run that ended without checkpoints (callbacks.checkpoint=null):
            raise UserError(  # it had been called one stopped before its first checkpoint, and its model not offered
                f"ckpt_path=last: {out} holds a run that kept no checkpoint (callbacks.checkpoint=null?), only its "
                f"style model {held}: nothing to resume; start from that model in another folder with "
                f"module.init_from={held} {elsewhere}=..."
            )
        elif held:
            raise UserError(
                f"ckpt_path=last: {out} holds a run stopped before its first checkpoint ({held}): nothing to "
                f"resume; delete that folder, or train into another ({elsewhere}=...)"
            )
        else:
            raise UserError(f"ckpt_path=last: no {Path(last) / 'last.ckpt'}: {_where_the_run_is(out, elsewhere)}")
    if ckpt not in (None, "last") and last and _within(Path(ckpt).expanduser(), last):
        at, reached = step_of(Path(ckpt).expanduser()), _steps_reached(last, style_model_path(cfg))
        folder = Path(last).expanduser()
        kept = [step_of(p) for p in (folder / "last.ckpt", newest_checkpoint(folder)) if p is not None and p.is_file()]
        # the run's own newest (callbacks.checkpoint.save_last=false keeps none of its last step): resumed from it,
        # as ckpt_path=last is, the steps since it are trained again (it was refused, its refusal naming ckpt_path=last,
        # which went on from the same checkpoint without a word). The newer of last.ckpt and the newest periodic one:
        # a stop's last.ckpt, older than a periodic checkpoint since, is not the run's newest
        its_newest = max((s or 0 for s in kept), default=0) <= (at or 0)
        if at is not None and reached is not None and at < reached and its_newest:
            again = (  # (one step was "steps 3 to 3 are")
                f"step {reached} is trained again, its style model and grid"
                if reached == at + 1
                else f"steps {at + 1} to {reached} are trained again, their style models and grids"
            )
            log.warning(
                "%s, the run's newest checkpoint, is at step %d, and the run went on to step %d: %s written "
                "over (callbacks.checkpoint.save_last=true keeps a checkpoint of a run's last step)",
                ckpt,
                at,
                reached,
                again,
            )
        elif not asked_last and at is not None and reached is not None and at < reached:  # later files written over
            raise UserError(
                f"ckpt_path={ckpt} is at step {at}, and this run went on to step {reached}: resumed here it would "
                f"write over the later steps' style models and grids; continue from it in a folder of its own "
                f"({elsewhere}=... ckpt_path={ckpt}), or resume the run where it ended with ckpt_path=last"
            )
    if asked_last and (changed := launch.swept_elsewhere(out / ".hydra")):
        raise UserError(
            f"run {out.name} of the sweep was trained with other settings than this rerun gives it "
            f"({'; '.join(changed)}): list the swept values in the order of the sweep's first launch "
            "(or sweep into a new hydra.sweep.dir)"
        )
    if ckpt is None and held and not held.resolve().is_relative_to(out.resolve()):  # a folder set elsewhere
        key = "callbacks.images.dirpath" if held.suffix == ".png" else "callbacks.checkpoint.dirpath"
        raise UserError(
            f"{key}={held.parent} holds another run's files ({held.name}): a new run does not write over them; "
            "give another folder (or move them)"
        )
    if ckpt is None and held:  # training from scratch would write over that run
        resume = "resume it with ckpt_path=last" if held.suffix == ".ckpt" else "nothing to resume in it"
        raise UserError(f"{out} holds a run ({held}): {resume}; or train into another folder ({elsewhere}=...)")
    if asked_last and ckpt is not None and last:  # (a given path was checked above; a cut-short copy of a run's
        kept = Path(last).expanduser() / "last.ckpt" if ckpt == "last" else Path(ckpt)  # last.ckpt was torch's
        try:  # OSError or EOFError traceback)
            check_checkpoint(kept)
        except UserError as e:
            if ckpt == "last" and not _is_style_model(kept):  # the run's only checkpoint: "pass a run's .ckpt"
                raise UserError(_unreadable_last(kept, cfg, last, elsewhere)) from None  # named none to pass
            raise UserError(f"ckpt_path=last: {e}") from None
    style_model = OmegaConf.select(cfg, "callbacks.style_model.path")
    if ckpt is None and style_model and Path(style_model).expanduser().is_file():  # a file outside the run's folder
        raise UserError(
            f"callbacks.style_model.path={style_model} exists: a new run does not write over it; give another path "
            "(or move that file)"
        )
    return ckpt


def _is_style_model(path: Path) -> bool:
    return _model_step(path) is not None


def _model_step(path: Path) -> int | None:
    """A style model's step, as it holds it (0 where it names none); None where `path` is no style model."""
    try:
        return int(load_style_model(str(path))[1].get("step", 0))
    except (UserError, TypeError, ValueError):
        return None


def _unreadable_last(kept: Path, cfg: DictConfig, last: str, key: str) -> str:
    """The line for a run whose only checkpoint, `kept` (its last.ckpt), cannot be read: nothing to resume from;
    a copy to make again, or the run's newest style model to start from in another folder."""
    found = [p for p in (style_model_path(cfg),) if p is not None and p.is_file()]
    found += Path(last).expanduser().glob("style-step=*.pt")  # (beside the checkpoints)
    steps = {p: step for p in found if (step := _model_step(p)) is not None}
    start = (
        f"start from its style model in another folder: module.init_from={max(steps, key=steps.get)} {key}=..."
        if steps
        else f"train into another folder ({key}=...)"
    )
    return (
        f"ckpt_path=last: {kept} cannot be read (cut short?), and the run has no other checkpoint: nothing to "
        f"resume; if it is a copy, copy it again, or {start}"
    )


def _where_the_run_is(out: Path, key: str) -> str:
    """What to set where `ckpt_path=last` found no run in `out`: a sweep's folder (its runs are in 0/, 1/, ...) or
    a run's checkpoints/ named for the run's folder said as such ("nothing was trained" alone, beside a run)."""
    if key != "hydra.sweep.dir" and (out / "multirun.yaml").is_file():
        runs = sorted((p.name for p in out.iterdir() if p.name.isdigit() and p.is_dir()), key=int)
        one = f"{key}={out / runs[0]}" if runs else f"{key}={out}/N"
        return (
            f"{out} is a sweep's folder: resume one of its runs with {one}, or the whole sweep with -m "
            f"hydra.sweep.dir={out} ckpt_path=last and its swept values"
        )
    if (out / "last.ckpt").is_file() or newest_checkpoint(out):
        return f"{out} holds the checkpoints themselves: set {key}={out.parent}, the run's folder"
    return f"set {key} to the folder of the run to resume (nothing was trained)"


def check_checkpoint(path: Path) -> None:
    """`ckpt_path` must be a Lightning checkpoint: a style model, another file or a damaged one is refused in
    one line here (Lightning's own reports were a KeyError or an OSError traceback). Read from the archive's
    pickle alone (small: the tensors are stored beside it), not by loading the checkpoint."""
    if path.is_dir():  # a run's folder, or its checkpoints/: it said "not found"
        run = path.parent if path.name == "checkpoints" else path
        found = next(filter(None, (_last_or_newest(f) for f in (path, path / "checkpoints"))), None)
        said = f"checkpoint '{path}' is a folder: pass {f'a .ckpt in it ({found})' if found else 'a .ckpt file'}"
        if (run / "checkpoints").is_dir() or (run / ".hydra").is_dir():  # a training run's
            said += f", or resume the run with ckpt_path=last {launch.run_folder_key()}={run}"
        raise UserError(said)
    if not path.is_file():
        raise UserError(
            f"checkpoint '{path}' not found: pass a .ckpt path, or ckpt_path=last with the run's "
            f"{launch.run_folder_key()}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            lightning = bool(pickles) and b"pytorch-lightning_version" in archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, KeyError):
        lightning = False
    if lightning:
        return
    try:
        load_style_model(str(path))
    except UserError:
        raise UserError(f"{path} is not a Lightning checkpoint (or is cut short): pass a run's .ckpt") from None
    raise UserError(
        f"{path} is a style model, not a checkpoint: resume from the run's checkpoints/last.ckpt, or start from "
        f"the model with module.init_from={path}"
    )


_STEP = re.compile(r"step=(\d+)")  # a checkpoint's or style model's step in its name (step=000400.ckpt)


def style_model_path(cfg: DictConfig) -> Path | None:
    path = OmegaConf.select(cfg, "callbacks.style_model.path")
    return Path(path).expanduser() if path else None


def step_of(checkpoint: Path) -> int | None:
    """A checkpoint's step: by its name (step=000400.ckpt), else as it holds it (None where it cannot be read)."""
    if found := _STEP.search(checkpoint.name):
        return int(found.group(1))
    try:
        import torch

        return int(torch.load(checkpoint, map_location="cpu", mmap=True, weights_only=False)["global_step"])
    except Exception:
        return None


def _steps_reached(checkpoints: str, style_model: Path | None) -> int | None:
    """The furthest step a run's files show: its checkpoints' and style models' names, its style model's own."""
    folder = Path(checkpoints).expanduser()
    steps = [int(m.group(1)) for p in folder.glob("*") if (m := _STEP.search(p.name))]
    if (last := folder / "last.ckpt").is_file() and (step := step_of(last)) is not None:
        steps.append(step)
    if style_model is not None and style_model.is_file():
        try:
            steps.append(int(load_style_model(str(style_model))[1].get("step", 0)))
        except (UserError, TypeError, ValueError):
            pass
    return max(steps) if steps else None


def _last_or_newest(folder: Path) -> Path | None:
    return folder / "last.ckpt" if (folder / "last.ckpt").is_file() else newest_checkpoint(folder)


def newest_checkpoint(folder: str | Path) -> Path | None:
    """The checkpoint of the highest step in a run's checkpoint folder (named by step, e.g. step=000400.ckpt; the
    newest file among those of one step), or None."""
    found = []
    for path in Path(folder).expanduser().glob("*.ckpt"):
        if (step := _STEP.search(path.name)) and path.is_file():
            found.append((int(step.group(1)), path.stat().st_mtime, path))
    return max(found)[2] if found else None


def _within(path: Path, folder: str | None) -> bool:
    """Whether `path` lies in `folder` (a run's checkpoints: resuming from one of its own)."""
    return folder is not None and path.resolve().is_relative_to(Path(folder).expanduser().resolve())


def run_in(out: Path, checkpoints: str | None, images: str | None, logs: bool = True) -> Path | None:
    """A file showing that `out` holds a run (a checkpoint, a style model, an image grid, a TensorBoard log, unless
    not `logs`), even one stopped before its first checkpoint, also where its checkpoints' or grids' folders are set
    elsewhere; None for a new folder."""
    candidates = [out / "style.pt", *(Path(images).expanduser().glob("step_*.png") if images else [])]
    candidates += (out / "tensorboard").glob("events.*") if logs else []
    if checkpoints:
        candidates.insert(0, Path(checkpoints) / "last.ckpt")
    return next((p for p in candidates if p.is_file()), None)


# What shapes the network a run trains, beyond model.* (a resume with others is refused) and data.image_size and
# data.batch_size (the datamodule says those): a resume with others trains on under them, said (`settings_changed`).
# Not what a resume changes on purpose (trainer.max_steps, paths, logging) nor module.lr (a line of its own), and
# not module.compile, on_nonfinite (how, not what) or init_from (a resume starts from the checkpoint's weights).
TRAINED_GROUPS = ("style", "loss", "module", "temporal", "distill")
NOT_TRAINED = ("module.lr", "module.compile", "module.on_nonfinite", "module.init_from")
TRAINER_KEYS = ("accumulate_grad_batches", "gradient_clip_val", "gradient_clip_algorithm")
FILES = ("style.image", "loss.weights", "distill.teacher")  # a file's path, or a built-in's name
# refused on a resume (style_model_writer.StyleModelWriter: another painting, teacher, or distillation turned on or
# off), so not named first as settings the steps train on with
REFUSED = ("style.image", "distill", "distill.teacher")
SHOWN = 5  # settings named in the line; "and N more" past them


def trained_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Of a run's resolved settings, those above as "group.key": value (a file by its name, FILES: a painting
    moved is the same one; temporal and distill as their option, "none" where off), for its checkpoints."""
    flat: dict[str, Any] = {}
    for group in TRAINED_GROUPS:
        values = settings.get(group)
        if group in ("temporal", "distill"):
            flat[group] = "none" if values is None else (launch.choice(group) or "on")
        for key, value in (values or {}).items():
            if key != "_target_" and f"{group}.{key}" not in NOT_TRAINED:
                flat[f"{group}.{key}"] = value
    for key in FILES:
        if isinstance(flat.get(key), str):
            flat[key] = Path(flat[key]).name
    for key in TRAINER_KEYS:
        flat[f"trainer.{key}"] = (settings.get("trainer") or {}).get(key)
    return flat


def saved_settings(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The `trained_settings` a checkpoint was written under; of one written before it kept them, the module's
    hyperparameters among them (Lightning's)."""
    if isinstance(kept := checkpoint.get("trained_settings"), dict):
        return kept
    hparams = checkpoint.get("hyper_parameters") or {}
    return {f"module.{k}": hparams[k] for k in ("lr_schedule", "lr_min_ratio") if k in hparams}


def settings_changed(saved: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """One line naming the settings of `ours` other than the checkpoint's run's, `saved` (a setting either side
    lacks, as another release's, is passed over; temporal and distill compare as on or off), None where none."""

    def differs(key: str) -> bool:
        if key in ("temporal", "distill"):
            return (saved[key] == "none") != (ours[key] == "none")
        return saved[key] != ours[key]

    changed = [k for k in ours if k in saved and k not in REFUSED and differs(k)]
    if not changed:
        return None
    named = ", ".join(f"{k}={_shown(ours[k])} (was {_shown(saved[k])})" for k in changed[:SHOWN])
    more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    one = len(changed) == 1
    return (
        f"resumed with {'a setting' if one else 'settings'} other than the checkpoint's run trained with: "
        f"{named}{more}: the steps from here train with the new {'one' if one else 'ones'} (resume with the old to "
        f"keep {'it' if one else 'them'})"
    )


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return "null" if value is None else str(value)
