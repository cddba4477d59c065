"""The style models a run writes (beside each checkpoint, and at its end), whose state in each checkpoint
names the painting and teacher it trains on: a resume with another is refused."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from fast_style import zoo
from fast_style.errors import UserError
from fast_style.model.style_model import check_model_name, save_style_model

log = logging.getLogger(__name__)


def _raise_if_nonfinite(pl_module: pl.LightningModule) -> None:
    """Before a checkpoint or style model is written: StyleTransferModule stops here if a loss went NaN/inf."""
    check = getattr(pl_module, "raise_if_nonfinite", None)
    if callable(check):
        check()


class StyleModelWriter(pl.Callback):
    """Writes the standalone style model (network hyper-parameters + weights, a few MB): beside each checkpoint
    as `<checkpoint dir>/style-step=N.pt`, and at the end of training as `path`."""

    def __init__(self, path: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        try:  # before the run, not at its end
            check_model_name(path)
        except UserError as e:
            raise UserError(f"callbacks.style_model.path: {e}") from None
        self.path = Path(path)
        self.meta = dict(meta or {})
        image = self.meta.get("style_image")  # style.image=wave.jpg: the painting wherever the model is used later
        if isinstance(image, str) and Path(image).expanduser().is_file() and not Path(image).is_absolute():
            self.meta["style_image"] = str(Path(image).expanduser().absolute())  # (fast-style-eval finds it there)
        self._written: set[tuple[Path, int]] = set()

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, path: Path) -> None:
        key = (path, trainer.global_step)  # step=N.ckpt and last.ckpt of the same step: write once
        _raise_if_nonfinite(pl_module)  # on every process: under DDP they agree on it (each takes part)
        if trainer.is_global_zero and key not in self._written:
            # (the run's own files, rewritten as it goes on: whether `path` may be written was settled at its start)
            save_style_model(pl_module.network, path, {**self.meta, "step": trainer.global_step}, force=True)
            self._written.add(key)

    def state_dict(self) -> dict[str, Any]:
        return {"meta": dict(self.meta)}  # in each checkpoint: what the run was trained on

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        """A checkpoint whose state does not name its painting, or its teacher (written before checkpoints kept
        them, or by a run with callbacks.style_model off): `check_trained_on`."""
        check_trained_on(checkpoint, self.meta.get("style_image"), self.meta.get("distilled_from"), by_state=False)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """On resume: a checkpoint trained on another painting is refused (style models would mix the two)."""
        _compare_with_state(state_dict.get("meta", {}), self.meta.get("style_image"), self.meta.get("distilled_from"))
        if "init_from" in state_dict.get("meta", {}):  # what the run started from, or None: a resume names none, or
            self.meta["init_from"] = state_dict["meta"]["init_from"]  # another (which it does not read)

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        ckpt_dir = trainer.checkpoint_callback.dirpath if trainer.checkpoint_callback else None
        folder = Path(ckpt_dir) if ckpt_dir else self.path.parent
        self._write(trainer, pl_module, folder / f"style-step={trainer.global_step:06d}.pt")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer, pl_module, self.path)


def check_trained_on(checkpoint: dict, painting: str | None, teacher: str | None, by_state: bool = True) -> None:
    """A resume with another painting, or teacher, than `checkpoint`'s run is refused (style models would mix
    the two): by StyleModelWriter's state in it (`by_state`: that callback's own load_state_dict compares it where
    the run has one), else by name by the run's trained settings it keeps. Where neither says (a checkpoint of an
    older fast-style), one warning that it cannot tell: it had resumed with another style.image, or with a
    teacher, without a word. (A checkpoint that names no teacher, resumed without one, is older than distillation.)"""
    states = checkpoint.get("callbacks") or {}
    state = states.get(StyleModelWriter.__qualname__, states.get(StyleModelWriter))
    meta = state.get("meta") if isinstance(state, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    if by_state:
        _compare_with_state(meta, painting, teacher)
    kept = checkpoint.get("trained_settings")
    kept = kept if isinstance(kept, dict) else {}
    unknown = []
    if painting and not meta.get("style_image"):
        if not isinstance(was := kept.get("style.image"), str):
            unknown.append("which painting it was trained on")
        elif was != Path(str(painting)).name:
            raise _another_painting(was, painting, f"<the path of {was}>")
    if "distilled_from" not in meta and "distill" in kept:
        was = teacher_in(kept)
        if (was is None) != (teacher is None) or (was and was != Path(str(teacher)).name):
            raise _another_teacher(was, f"<the path of {was}>")
    elif "distilled_from" not in meta and teacher:
        unknown.append("whether it was distilled from a teacher")
    if unknown:
        used = [f"style.image={Path(str(painting)).name}"]
        used += [f"distill.teacher={Path(str(teacher)).name}"] if teacher else []
        log.warning(
            "this checkpoint (an older fast-style's) does not say %s: the steps from here train with %s; if it was "
            "trained otherwise, start a new run",
            " nor ".join(unknown),
            " and ".join(used),
        )


def _compare_with_state(meta: dict[str, Any], painting: str | None, teacher: str | None) -> None:
    """UserError where StyleModelWriter's state `meta` names another painting, or teacher, than this run's."""
    was = meta.get("style_image")
    if was and painting and Path(str(was)).name != Path(str(painting)).name:
        raise _another_painting(was, painting, was)
    if "distilled_from" in meta:  # (its model would name the last launch's teacher alone)
        was = meta["distilled_from"]
        if not _same_model(was, teacher):
            raise _another_teacher(was, was)


def teacher_in(settings: dict[str, Any]) -> str | None:
    """The teacher a run's trained settings (`fast_style.runs.resume.trained_settings`) name, None where it had none."""
    return settings.get("distill.teacher") if settings.get("distill") != "none" else None


def _another_painting(was: str, painting: str, path: str) -> UserError:
    """The refusal of a resume on `painting` of a checkpoint trained on `was` (whose path is written as `path`)."""
    return UserError(
        f"this checkpoint was trained on {was}, not {painting}: resume with style.image={path}, or start a new run"
    )


def _another_teacher(was: str | None, path: str | None) -> UserError:
    """The refusal of a resume with another teacher (or none) of a checkpoint distilled from `was` (None: trained
    without one; its path written as `path`)."""
    give = f"distill=teacher distill.teacher={path}" if was else "distill=none"
    said = f"distilled from {was}" if was else "trained without a teacher"
    return UserError(f"this checkpoint was {said}: resume with {give}, or start a new run")


def _same_model(was: str | None, now: str | None) -> bool:
    """Whether two names of a style model (a file, or a built-in style) are the same one: the same file where both
    are there (a relative and a full path, or one moved and named anew, were taken for two), else the same name."""
    if was is None or now is None:
        return was == now
    try:
        a, b = zoo.resolve(was), zoo.resolve(now)
    except UserError:  # one is no longer there: by its name
        return Path(str(was)).name == Path(str(now)).name
    return a.resolve() == b.resolve() or a.read_bytes() == b.read_bytes()
