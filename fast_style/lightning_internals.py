"""The only place fast-style touches Lightning internals: three things no public API offers. Each is checked by
tests/test_lightning_contract.py, which fails by name when a Lightning upgrade moves it."""

from __future__ import annotations

import signal

import pytorch_lightning as pl


def is_logging_step(trainer: pl.Trainer | None) -> bool:
    """Whether Lightning writes step metrics after this step (every trainer.log_every_n_steps), so a module can
    skip the per-step `self.log` calls (and the GPU syncs behind them) on the other steps. True when unknown."""
    connector = getattr(trainer, "_logger_connector", None)
    return connector is None or connector.should_update_logs or bool(trainer.fast_dev_run)


def stop_other_ranks(trainer: pl.Trainer) -> None:
    """After an error on rank 0 alone (a full disk, a bad setting): kill the other DDP ranks, which would
    otherwise wait in a collective forever. A no-op outside DDP's subprocess launcher."""
    launcher = trainer.strategy.launcher
    if trainer.is_global_zero and callable(getattr(launcher, "kill", None)):
        launcher.kill(signal.SIGKILL)


def set_logging_count(trainer: pl.Trainer, steps: int) -> None:
    """Lightning's count of steps logged (the step its metrics are written at) set to `steps`."""
    trainer.fit_loop.epoch_loop._batches_that_stepped = steps
