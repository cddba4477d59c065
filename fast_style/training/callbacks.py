"""Lightning callbacks and plugins: image grids, the progress bar, style models beside the checkpoints, atomic
checkpoint files, the final checkpoint, a resumed run's count of steps logged, a graceful stop on Ctrl-C/SIGTERM, the
HParams summary, and a launch's settings kept once it trains."""

from __future__ import annotations

import ast
import logging
import math
import os
import shlex
import signal
import threading
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.callbacks import ModelCheckpoint, TQDMProgressBar
from pytorch_lightning.core.saving import save_hparams_to_yaml
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.plugins import TorchCheckpointIO
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torchvision.utils import make_grid, save_image

from fast_style import zoo
from fast_style.atomic import atomic_write, save_torch
from fast_style.errors import UserError
from fast_style.model.style_model import check_model_name, save_style_model
from fast_style.numbers import check_number
from fast_style.runs import launch
from fast_style.runs.event_files import drop_hparams, event_files, holds_hparams
from fast_style.runs.resume import saved_settings, settings_changed
from fast_style.training.lightning_internals import (
    as_written_at_the_epochs_end,
    set_logging_count,
    stop_after_this_step,
    take_sigterm,
)
from fast_style.training.module import last_batch_of_the_run

log = logging.getLogger(__name__)


def _fit_into(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) -> (3, size, size): scaled to fit, centred on white."""
    h, w = image.shape[-2:]
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = F.interpolate(image[None], size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    canvas = torch.ones(3, size, size, dtype=image.dtype, device=image.device)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[:, top : top + nh, left : left + nw] = small
    return canvas


def _raise_if_nonfinite(pl_module: pl.LightningModule) -> None:
    """Before a checkpoint or style model is written: StyleTransferModule stops here if a loss went NaN/inf."""
    check = getattr(pl_module, "raise_if_nonfinite", None)
    if callable(check):
        check()


class ImageLogger(pl.Callback):
    """Every `every_n_steps` steps (and at the end) stylizes the fixed validation images and logs a grid:
    one row per image (input | stylized), a last row with the style image. Also saved as PNG in `dirpath`."""

    def __init__(self, every_n_steps: int = 200, num_images: int = 4, dirpath: str | None = None) -> None:
        super().__init__()
        # by every setting's rule (numpy's ints had been refused, and 2.5 a ValueError; -1 showed a photo fewer)
        self.every_n_steps = check_number(
            "callbacks.images.every_n_steps", every_n_steps, lambda v: v >= 0, "a whole number >= 0 (0: no grids)", True
        )
        self.num_images = check_number(
            "callbacks.images.num_images", num_images, lambda v: v >= 1, "a whole number >= 1", True
        )
        self.dirpath = Path(dirpath) if dirpath else None
        # a file there (or above it) failed the run at its first grid, after its first every_n_steps steps
        there = next((p for p in (self.dirpath, *self.dirpath.parents) if p.exists()), None) if dirpath else None
        if there is not None and not there.is_dir():
            raise ValueError(f"dirpath {dirpath} cannot be a folder: {there} is a file; give a folder for the grids")
        self.images: torch.Tensor | None = None
        self._last_logged = -1

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if datamodule is not None and hasattr(datamodule, "val_images"):
            self.images = datamodule.val_images(self.num_images)
            shown = len(self.images)
            if 0 < shown < self.num_images and trainer.is_global_zero:  # (it had shown fewer without a word)
                log.warning(
                    "callbacks.images.num_images=%d, but the grids show %d: the held-out photos there are "
                    "(data.num_val, or those of data.val_root); raise data.num_val for more",
                    self.num_images,
                    shown,
                )

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        # 0 before the first optimizer step (batches accumulated for it, a first step skipped as non-finite): no
        # grid of the untrained network (step_000000.png had been written)
        step = trainer.global_step
        if self.every_n_steps > 0 and step > 0 and step % self.every_n_steps == 0:
            self.log_grid(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.log_grid(trainer, pl_module)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """A run stopped (Ctrl-C, SIGTERM: GracefulStop) ends here, not in on_train_end: its step's grid, beside the
        checkpoint and style model the stop writes (a stop in the run's last step had no final grid). None of the
        untrained network (a stop in the first step's first batch of several, trainer.accumulate_grad_batches)."""
        if isinstance(exception, SIGTERMException) and trainer.global_step > 0:
            self.log_grid(trainer, pl_module)

    @torch.no_grad()
    def log_grid(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = trainer.global_step
        if not trainer.is_global_zero or self.images is None or len(self.images) == 0 or step == self._last_logged:
            return
        self._last_logged = step
        was_training = pl_module.training
        pl_module.eval()
        inputs = self.images.to(pl_module.device)
        stylized = pl_module(inputs).float().clamp(0, 1)
        pl_module.train(was_training)
        size = inputs.shape[-1]
        tiles = [t for pair in zip(inputs, stylized) for t in pair]
        style = _fit_into(pl_module.style_image[0].float(), size)
        tiles += [style, torch.ones_like(style)]
        grid = make_grid(torch.stack(tiles).cpu(), nrow=2, padding=2, pad_value=1.0)  # (3, H', W')
        for logger in trainer.loggers:  # at the step Lightning logs this step's points at (train/*, val/*): the
            if isinstance(logger, TensorBoardLogger):  # grid after 10 steps sat at 10, their validation at 9
                logger.experiment.add_image("val/images", grid, global_step=max(step - 1, 0))
        if self.dirpath:
            path = self.dirpath / f"step_{step:06d}.png"
            with atomic_write(path) as tmp:
                save_image(grid, tmp, format="png")


class ProgressBar(TQDMProgressBar):
    """Lightning's TQDMProgressBar, also set up for an epoch resumed in its middle (a stop's checkpoint), where
    Lightning calls no on_train_epoch_start: the resumed run's bar said `Training: 9/?`, without the epoch, the
    steps to go or a time left, its first step's speed counting the steps before the stop
    (Lightning-AI/pytorch-lightning#20603)."""

    _set_up = False  # on_train_epoch_start ran in this launch

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self._set_up = True

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if self._set_up:
            return
        self.on_train_epoch_start(trainer, pl_module)
        total = min(trainer.num_training_batches, idx + self.total_train_batches)  # the epoch's batches, to its stop
        bar = self.train_progress_bar
        bar.total = None if math.isinf(total) else total
        bar.initial = bar.n = idx
        bar.refresh()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """A run that stops on an error (a loss gone NaN) or a stop ends its bars' line (stdout), as one that ends
        does: fast-style-train's `error: ...` (stderr) had begun with a blank line to get past a bar left mid-line,
        before every error, a bar shown or not."""
        for name in ("val_progress_bar", "train_progress_bar"):  # (the inner one first: it is drawn below)
            try:
                bar = getattr(self, name)
            except TypeError:  # Lightning's word for a bar not made yet
                continue
            bar.close()


class HParamsSummary(pl.Callback):
    """At the end of training, the run's settings beside the last validation's held-out metrics, for TensorBoard's
    HParams tab (`hp/style`, `hp/content`, `hp/coverage`, `hp/total`): a sweep's runs compare and sort there. The
    losses are under the default loss weights (`val/common/*`), as fast-style-eval scores them: under each run's
    own weights, a sweep over loss.style_weight ranked the lowest weight best whatever its pictures."""

    METRICS = {
        "val/common/style": "hp/style",
        "val/common/content": "hp/content",
        "val/coverage": "hp/coverage",
        "val/common/total": "hp/total",
    }

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__()
        self.params = params

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """At the last step, a validation whatever the interval (Lightning validates a run asked to stop, as
        EarlyStopping asks): a run of 1,000 steps at the interval 300, or one resumed for the steps before its next
        validation, had its figures from an earlier step here, or none. So does the last batch of a run counted in
        epochs (trainer.max_steps=-1, trainer.max_epochs=N), whose figures had come from its last validation too."""
        if 0 < trainer.max_steps <= trainer.global_step or last_batch_of_the_run(trainer, batch_idx):
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """A run stopped (Ctrl-C, SIGTERM: GracefulStop) ends here, not in on_train_end: it had no summary, though
        its last validation's figures were there; written from them (none where it stopped before one)."""
        if isinstance(exception, SIGTERMException):
            self._write(trainer)

    def _write(self, trainer: pl.Trainer) -> None:
        found = trainer.callback_metrics
        metrics = {new: float(found[old]) for old, new in self.METRICS.items() if old in found}
        for logger in trainer.loggers:
            if metrics and isinstance(logger, TensorBoardLogger) and trainer.is_global_zero:
                # an earlier launch's summary (a resumed run) would be the one the tab shows: taken out of its file
                earlier = [f for f in event_files(Path(logger.log_dir)) if holds_hparams(f)]
                logger.log_hyperparams(self.params, metrics=metrics)
                logger.experiment.flush()
                for events in earlier:
                    drop_hparams(events)


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


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer (a public plugin, `Trainer(plugins=[AtomicCheckpointIO()])`), but each file
    is written beside its place, fsynced and renamed over it: a crash or a full disk never leaves a truncated
    checkpoint where a good one was, and a full disk is a one-line DiskError. Remote URLs go to Lightning's own."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        save_torch(checkpoint, path)

    def load_checkpoint(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Lightning's, with FinalCheckpoint's state of a checkpoint written before its key left out the intervals
        (`FinalCheckpoint.state_key`) under the key it has now: read as its own, not warned about as a callback
        missing from the run; and one written at an epoch's last step read as written at that epoch's end
        (`as_written_at_the_epochs_end`)."""
        checkpoint = super().load_checkpoint(*args, **kwargs)
        as_written_at_the_epochs_end(checkpoint)
        states = checkpoint.get("callbacks")
        for key in list(states) if isinstance(states, dict) else ():
            if isinstance(key, str) and key.startswith(f"{FinalCheckpoint.__qualname__}{{"):
                try:
                    settings = ast.literal_eval(key[len(FinalCheckpoint.__qualname__) :])
                except (ValueError, SyntaxError):
                    continue
                if isinstance(settings, dict) and set(settings) > {"monitor", "mode"}:
                    ours = {"monitor": settings.get("monitor"), "mode": settings.get("mode")}
                    states.setdefault(f"{FinalCheckpoint.__qualname__}{ours!r}", states.pop(key))
        return checkpoint


class ResumedStepCount(pl.Callback):
    """The first step after a resume is logged at its own step. Lightning's restart moves its count of steps
    logged on, or not, by whether the checkpoint's step was a validation step under the resumed run's
    trainer.val_check_interval and where in a step the checkpoint was written: every point of the resumed
    run sat a step late, or early (a step twice), where a short run's interval (lowered to its max_steps)
    changed with the longer run. Every step's batches start with the count at the steps done. The run's first
    callback (train.py): LearningRateMonitor reads the count at the same hook (set there by FinalCheckpoint,
    which Lightning calls last, a finished run continued had its first train/lr point a step late)."""

    def __init__(self) -> None:
        self._resumed = False

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._resumed = trainer.ckpt_path is not None

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self._resumed:
            self._resumed = False
            set_logging_count(trainer, trainer.global_step)


class TrainedSettings(pl.Callback):
    """The run's settings that shape what it trains (`resume.trained_settings`), kept in each checkpoint: a resume
    with others (loss weights, style.size, module.lr_schedule...) trained on under them without a word, and now
    names them in one line."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._said: str | None = None  # the line, said once training starts

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        checkpoint["trained_settings"] = dict(self.settings)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if hasattr(trainer.datamodule, "says_resumed_sizes"):  # said here, in the same line (on_load_checkpoint)
            trainer.datamodule.says_resumed_sizes = False

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        """One line for every setting changed: another data.image_size had a line of the datamodule's, and its
        style.size (twice the crop by default) a second one, of these settings."""
        # callbacks.style_model=null: no writer to compare the painting and teacher (its on_load_checkpoint)
        if not any(isinstance(c, StyleModelWriter) for c in trainer.callbacks):
            check_trained_on(checkpoint, self.settings.get("style.image"), teacher_in(self.settings))
        saved, ours = dict(saved_settings(checkpoint)), {}  # (a copy: the checkpoint's own stays as it was)
        data = trainer.datamodule
        kept = checkpoint.get(type(data).__qualname__) if hasattr(data, "says_resumed_sizes") else None
        for key in ("image_size", "batch_size"):  # the datamodule's own record of them (older checkpoints too)
            if isinstance(kept, dict) and kept.get(key) is not None:
                saved[f"data.{key}"], ours[f"data.{key}"] = kept[key], getattr(data, key)
        self._said = settings_changed(saved, {**ours, **self.settings})

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Said here, once every callback has taken the checkpoint: another style.image (or teacher) is refused by
        StyleModelWriter's state, and the line had said first that the steps from here train with it."""
        if self._said:
            log.warning(self._said)
            self._said = None


class FinalCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, and the final step always in last.ckpt, whatever the checkpoint interval
    (also when GracefulStop ends the run early)."""

    _dumped_at: int | None = None  # the step of the newest checkpoint written (a periodic one brings last.ckpt)
    _keeps_last = True  # save_last, or a last.ckpt found at the start (on_train_start)
    _last_at: int | None = None  # the step whose last.ckpt save_last_now wrote, or found written

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        keep = kwargs.get("save_top_k", 1)
        if kwargs.get("monitor") is None and isinstance(keep, int) and not isinstance(keep, bool) and keep > 1:
            raise UserError(  # Lightning's own: "No quantity for top_k to track", with nothing to set instead
                f"callbacks.checkpoint.save_top_k={keep}: Lightning keeps more than one periodic checkpoint only by a "
                "figure it monitors, and these runs monitor none: 1 keeps the newest, -1 every one, 0 none (last.ckpt "
                "is kept in each)"
            )
        super().__init__(*args, **kwargs)

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        self._dumped_at = trainer.global_step

    @property
    def state_key(self) -> str:
        """Lightning's key without the intervals (its own holds every_n_train_steps: a resume at another interval
        found no state, wrote last-v1.ckpt beside a stale last.ckpt, which the next ckpt_path=last went back to,
        losing the steps between, and kept the older periodic checkpoint). Its monitor stays in it: two such
        callbacks (the last and the best) keep a state each."""
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """A run folder copied or moved (from a GPU machine to a laptop): the checkpoints it names are taken as
        this folder's. Lightning forgot them where the folder had changed, so a resumed run wrote last-v1.ckpt
        beside the old last.ckpt (which the next resume by path went back to, losing the steps between) and kept
        every periodic checkpoint."""
        old = state_dict.get("dirpath")
        if old and self.dirpath and old != self.dirpath:

            def here(path: Any) -> Any:
                inside = isinstance(path, str) and path and os.path.dirname(path) == old
                return os.path.join(self.dirpath, os.path.basename(path)) if inside else path

            state_dict = {**state_dict, "dirpath": self.dirpath}
            for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
                state_dict[key] = here(state_dict.get(key))
            state_dict["best_k_models"] = {here(k): v for k, v in state_dict.get("best_k_models", {}).items()}
        super().load_state_dict(state_dict)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        """A stop asked during the step (GracefulStop, a scheduler's SIGTERM): its checkpoint is written here, after
        the periodic one (not twice), where Lightning's restart expects one (a resume from one written later, once
        the step's counters had moved on, logged every point one step late). One process only: DDP ranks may see
        the signal on either side of a step: there it is written here where GracefulStop has the ranks agree on the step
        (after its own on_train_batch_end: Lightning calls the checkpoint callbacks last), else when Lightning stops
        them together (GracefulStop.on_exception)."""
        super().on_train_batch_end(trainer, pl_module, *args)
        agreed = trainer.world_size == 1 or any(isinstance(c, GracefulStop) and c._ranks for c in trainer.callbacks)
        if trainer.received_sigterm and agreed and self._keeps_last and self.dirpath:
            self.save_last_now(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The run's end at trainer.max_steps: its last.ckpt is written here, after the last step's validation and
        before Lightning counts the epoch it stopped in as finished. Written at the run's end (on_train_end), a run
        continued to more steps went on with the rest of that epoch's photos while its `epoch` curve and progress
        bar said the next epoch (one more with each continuation), and a trainer.max_epochs ended it an epoch early."""
        super().on_train_epoch_end(trainer, pl_module)
        epochs = trainer.fit_loop.epoch_progress.current.processed  # (counted before this hook)
        ends = 0 < trainer.max_steps <= trainer.global_step or 0 < (trainer.max_epochs or 0) <= epochs
        if ends and self._keeps_last and self.dirpath:
            # also where a periodic checkpoint of this step brought last.ckpt: written at the step's end, Lightning's
            # restart counted the epoch it ended twice (a run continued trained in epoch 2 after epoch 0; one ended
            # at trainer.max_epochs=1 continued to 2 trained nothing)
            self.save_last_now(trainer, epoch_end=True)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """With save_last=false, a last.ckpt there (a stop's: one is written whatever the setting) is kept up to
        date at the run's end: left as it was, a later ckpt_path=last went back to it (a run of 300 steps resumed at
        its step 10, its models rewritten). Rank 0's view, the same on every process (each writes together)."""
        super().on_train_start(trainer, pl_module)
        found = bool(self.dirpath) and os.path.isfile(os.path.join(self.dirpath, self._last_name))
        self._keeps_last = bool(trainer.strategy.broadcast(self.save_last or found, src=0))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._keeps_last and self.dirpath:
            self.save_last_now(trainer)

    @property
    def _last_name(self) -> str:
        return f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}"

    def save_last_now(self, trainer: pl.Trainer, epoch_end: bool = False) -> str:
        """last.ckpt now (a stop's, the run's end), unless this step's is written already (`epoch_end`: unless
        written at this epoch's end: one written at the step's end is written again)."""
        path = os.path.join(self.dirpath, self._last_name)
        # set before the save, which stores it: a resumed run then knows last.ckpt for its own and keeps writing
        # it (stored afterwards, the restored path was another, and Lightning wrote last-v1.ckpt beside a stale
        # last.ckpt that a resume by path went back to)
        self.last_model_path = path
        # (save_last=false: a periodic checkpoint of this step did not bring last.ckpt with it; written here at this
        # step already, at the epoch's end: not again at the run's end, the epoch then counted as finished)
        current = not epoch_end and self._dumped_at == trainer.global_step and os.path.exists(path) and self.save_last
        if self._last_at != trainer.global_step and not current:
            trainer.save_checkpoint(path, self.save_weights_only)
        self._last_at = trainer.global_step
        return path


def _run_folder_setting(run: Path) -> str:
    """The setting that points a resume at this run: its own folder, or in a sweep the sweep's (each of its runs
    then resumes from its own last.ckpt; naming one run's folder would resume them all from that one)."""
    from hydra.core.hydra_config import HydraConfig

    # quoted for the shell where it must be (a folder with a space: the line pasted did not resume)
    if launch.in_multirun():
        return shlex.quote(f"hydra.sweep.dir={HydraConfig.get().sweep['dir']}")
    return shlex.quote(f"{launch.run_folder_key()}={run}")  # (train() from Python: output_dir)


class GracefulStop(pl.Callback):
    """Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal closed): finish the current step, write a checkpoint and the
    style model, and stop (fast-style-train then exits with `exit_code`, 130, 143 or 129, so that `train && stylize`
    does not go on).

    The first Ctrl-C is turned into Lightning's own SIGTERM handling (which stops the run after the current
    batch); a second Ctrl-C aborts at once. The handler is installed in `on_train_start`, after Lightning has
    recorded the process's handlers, so Lightning's teardown restores the original one. Under DDP a signal is only
    noted where it arrives (on any rank, or on all), and the ranks agree after each step whether one came, so that
    all of them stop at the same step (`_agree`).
    """

    exit_code = 128 + signal.SIGTERM  # the shell's convention: 128 + the signal that stopped the run

    def __init__(self, resume: str | None = None) -> None:
        """`resume`: the command that resumes the run, for the stop line (None: the same command with
        `ckpt_path=last hydra.run.dir=<the run>`; fast-style-demo gives its fast-style-train equivalent)."""
        self.resume = resume
        self._hangup: Any = None  # SIGHUP's handler before the run's (on_train_start)
        self._ranks = False  # several DDP processes: a signal is noted, and the ranks agree when to stop
        self._noted = 0  # the signal this process was sent (under DDP)
        self._global_rank = 0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """DDP: SIGTERM noted from the moment Lightning takes it (just after this hook) on: its own handler, there
        until on_train_start, broadcast from inside itself (the ranks' first collectives come before training)."""
        if self._several_ranks(trainer):
            self._ranks = True
            take_sigterm(trainer, self._note)

    @staticmethod
    def _several_ranks(trainer: pl.Trainer) -> bool:
        return (
            threading.current_thread() is threading.main_thread()
            and trainer.world_size > 1
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
        )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if self._ranks:
            self._note_signals(trainer)
            return
        notices = logging.getLogger("pytorch_lightning.trainer.connectors.signal_connector")
        if self._not_from_ctrl_c not in notices.filters:
            notices.addFilter(self._not_from_ctrl_c)

        def on_sigint(signum: int, frame: Any) -> None:
            self.exit_code = 128 + signal.SIGINT
            log.warning("stopping after this step (writing a checkpoint); press Ctrl-C again to abort")
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.raise_signal(signal.SIGTERM)

        def on_sighup(signum: int, frame: Any) -> None:  # the terminal closed: it had killed the run unsaved
            self.exit_code = 128 + signum
            signal.raise_signal(signal.SIGTERM)

        # a signal ignored on start stays ignored: SIGINT in `cmd &` or under nohup, SIGHUP under nohup
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, on_sigint)
        hangup = getattr(signal, "SIGHUP", None)  # (none on Windows)
        if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
            self._hangup = signal.signal(hangup, on_sighup)

    def _note_signals(self, trainer: pl.Trainer) -> None:
        """DDP: Ctrl-C and SIGHUP only noted too, from training's start on (SIGTERM since on_fit_start); a second
        Ctrl-C on rank 0 aborts. A signal this process ignores stays ignored (nohup; the ranks Lightning starts,
        whose rank 0 decides)."""
        self._global_rank = trainer.global_rank
        for stop in (signal.SIGINT, getattr(signal, "SIGHUP", None)):
            if stop is not None and signal.getsignal(stop) is not signal.SIG_IGN:
                previous = signal.signal(stop, self._note)
                if stop != signal.SIGINT:
                    self._hangup = previous

    def _note(self, signum: int, frame: Any) -> None:
        """A stop asked of this process (DDP): said, and agreed on with the other ranks after this step."""
        if self._noted:
            return
        self._noted = signum
        again = signum == signal.SIGINT and self._global_rank == 0
        log.warning("stopping after this step (writing a checkpoint)%s", "; Ctrl-C again aborts" if again else "")
        if again:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self._ranks:
            self._agree(trainer)

    def _agree(self, trainer: pl.Trainer) -> None:
        """Every rank, after each step: whether any was sent a signal; if one was, all stop at this step's end."""
        sent = torch.tensor([self._noted], dtype=torch.int32, device=trainer.strategy.root_device)
        torch.distributed.all_reduce(sent, op=torch.distributed.ReduceOp.MAX)
        if sent.item():
            self.exit_code = 128 + (self._noted or int(sent.item()))
            stop_after_this_step(trainer)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._hangup is not None:  # (Lightning restores it too, where its connector ran: set back either way)
            signal.signal(signal.SIGHUP, self._hangup)
            self._hangup = None

    def _not_from_ctrl_c(self, record: logging.LogRecord) -> bool:
        """Lightning's "Received SIGTERM: 15" is left out where the SIGTERM is one a Ctrl-C or SIGHUP turned into."""
        return self.exit_code == 128 + signal.SIGTERM or "Received SIGTERM" not in record.getMessage()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        ckpt = trainer.checkpoint_callback
        if isinstance(ckpt, FinalCheckpoint) and ckpt.dirpath:
            path = ckpt.save_last_now(trainer)
            run = Path(trainer.default_root_dir)  # the run's folder (its checkpoints may be kept elsewhere)
            if 0 < trainer.max_steps <= trainer.global_step:  # stopped in its last step's validation: every step
                log.warning(  # trained (it had said "to resume, ...", and the resume trained nothing)
                    "stopped at step %d, the run's last (trainer.max_steps=%d): checkpoint %s; nothing is left to "
                    "resume (raise trainer.max_steps with ckpt_path=last to train on)",
                    trainer.global_step,
                    trainer.max_steps,
                    path,
                )
            elif self.resume:
                log.warning("stopped at step %d: checkpoint %s; to resume: %s", trainer.global_step, path, self.resume)
            else:
                log.warning(
                    "stopped at step %d: checkpoint %s; to resume, %s with ckpt_path=last %s",
                    trainer.global_step,
                    path,
                    "train the same config" if launch.run_folder_key() == "output_dir" else "run the same command",
                    _run_folder_setting(run),
                )
        for callback in trainer.callbacks:
            if isinstance(callback, StyleModelWriter):
                callback.on_train_end(trainer, pl_module)


class KeepLaunch(pl.Callback):
    """Keeps this launch's settings (`keep_launch_config`) once training starts: after the data, the checkpoint
    and the network were checked against it, so a launch refused in any of them is never kept as one. The logger's
    hparams.yaml, which Lightning writes only where there is none (a resumed run's kept its first launch's:
    trainer.max_steps=3 for a run trained on to 8), is this launch's from its first checkpoint on: it says the
    settings of the launch that wrote the run's newest checkpoint (one that failed before any, as no photo
    readable, leaves it as it was)."""

    def __init__(self, hydra_dir: Path) -> None:
        self.hydra_dir, self.kept, self._settings_written = hydra_dir, False, False

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        launch.keep_launch_config(self.hydra_dir)
        self.kept = True

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        if self._settings_written or not trainer.is_global_zero:
            return
        self._settings_written = True
        for logger in trainer.loggers:
            hparams = Path(logger.log_dir or "", "hparams.yaml") if isinstance(logger, TensorBoardLogger) else None
            if hparams is not None and hparams.is_file():
                with atomic_write(hparams) as tmp:
                    save_hparams_to_yaml(tmp, logger.hparams)
