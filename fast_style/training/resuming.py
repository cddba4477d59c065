"""What a resumed run checks and sets right: the settings it trains under against its checkpoint's (one line
for every one changed), and its count of the steps logged."""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl

from fast_style.runs.resume import saved_settings, settings_changed
from fast_style.training.lightning_internals import set_logging_count
from fast_style.training.style_model_writer import StyleModelWriter, check_trained_on, teacher_in

log = logging.getLogger(__name__)


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
