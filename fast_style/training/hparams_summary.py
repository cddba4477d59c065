"""The run's settings beside its last validation's held-out metrics, for TensorBoard's HParams tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fast_style.runs.event_files import drop_hparams, event_files, holds_hparams
from fast_style.training.module import last_batch_of_the_run


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
