"""Probes the training tests plug in by config: a callback with which each rank writes checksums of the images it
trained on, and a data module whose rank 1 gets one batch of only unreadable files and later one whose loss is NaN
(DDP); and one whose rank 0 meets a mistake every rank finds after its rank 1 has."""

import os
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from fast_style.errors import UserError
from fast_style.training.data import Batch, StyleDataModule, Unreadable


class RecordBatches(pl.Callback):
    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        images, _ = batch
        self.dirpath.mkdir(parents=True, exist_ok=True)
        with open(self.dirpath / f"rank{trainer.global_rank}.txt", "a") as f:
            for img in images:
                f.write(f"{img.double().sum().item():.6f}\n")


class FirstBatchUnreadableOnRank1(StyleDataModule):
    """Rank 1's first training batch arrives as `collate_skipping` makes one whose files were all unreadable, and
    rank 0's names one of those files too; rank 1's third batch is NaN pixels (its loss NaN, rank 0's not)."""

    batches = 0

    def on_before_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        if not self.trainer.training:
            return batch
        self.batches += 1
        if self.trainer.global_rank == 1 and self.batches == 1:
            return torch.empty(0), tuple(Unreadable(f"gone{i}.jpg", "probe") for i in range(len(batch[0])))
        if self.trainer.global_rank == 1 and self.batches == 3:
            return torch.full_like(batch[0], float("nan")), batch[1]
        if self.trainer.global_rank == 0 and self.batches == 1:  # one of them here too
            return batch[0], (Unreadable("gone0.jpg", "probe"),)
        return batch


class RecordMoved(pl.Callback):
    """Writes a checksum of every moved copy the stability term makes (its motion and noise) to dirpath/moved.txt."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        temporal, record = pl_module.temporal, self.dirpath / "moved.txt"
        moved = type(temporal).moved

        def recorded(images: torch.Tensor, *args, **kwargs) -> torch.Tensor:
            out = moved(temporal, images, *args, **kwargs)
            with open(record, "a") as f:
                f.write(f"{args} {out.double().sum().item():.6f}\n")
            return out

        temporal.moved = recorded


class DeferredCheckOnRank1(FirstBatchUnreadableOnRank1):
    """FirstBatchUnreadableOnRank1 with each process's loss checked as on a GPU (`defer_nonfinite_check`): kept
    on the device, read at logging steps and before a checkpoint or style model is written."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from fast_style.training.module import StyleTransferModule

        StyleTransferModule.defer_nonfinite_check = staticmethod(lambda device: True)


class RankOneFailsFirst(StyleDataModule):
    """The set-up's mistake (every rank finds it) met by rank 1 first and by rank 0 `RANK_ZERO_LATER_S` after:
    the order a loaded machine may give them, made certain (rank 1 marks its failure in FAST_STYLE_PROBE_DIR, for
    which rank 0 waits)."""

    RANK_ZERO_LATER_S = 1.0  # (well within the 5 s a rank Lightning started waits for its rank 0)

    def setup(self, stage: str | None = None) -> None:
        failed = Path(os.environ["FAST_STYLE_PROBE_DIR"]) / "rank1_failed"
        if self.trainer.global_rank == 0:
            end = time.monotonic() + 120
            while not failed.exists() and time.monotonic() < end:
                time.sleep(0.02)
            time.sleep(self.RANK_ZERO_LATER_S)
        try:
            super().setup(stage)
        except UserError:
            if self.trainer.global_rank == 1:
                failed.touch()
            raise
