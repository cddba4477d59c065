"""A launch's settings kept once it trains (never those of a launch refused before its first step), and the
logger's hparams.yaml made this launch's at its first checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.core.saving import save_hparams_to_yaml
from pytorch_lightning.loggers import TensorBoardLogger

from fast_style.atomic import atomic_write
from fast_style.runs import launch


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
