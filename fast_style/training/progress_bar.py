"""The run's progress bar: Lightning's, set up for an epoch resumed in its middle too, its line ended by a stop
or an error."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar


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
