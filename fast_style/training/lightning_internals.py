"""The only place fast-style touches Lightning internals: six things no public API offers. Each is checked by
tests/test_lightning_contract.py, which fails by name when a Lightning upgrade moves it."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

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


def stop_after_this_step(trainer: pl.Trainer) -> None:
    """Lightning's own stop at this step's end (a checkpoint, then SIGTERMException, as after its SIGTERM handler),
    set on every DDP rank at the same step: its handler broadcast inside the signal handler, a collective at no
    step in particular, and the ranks hung waiting on different ones (a Ctrl-C under DDP never ended)."""
    trainer._signal_connector.received_sigterm = True


def take_sigterm(trainer: pl.Trainer, handler: Callable[[int, Any], None]) -> None:
    """`handler` in place of Lightning's own SIGTERM notifier, before the trainer registers it (on_fit_start): its
    notifier broadcast to the other DDP ranks from inside the signal handler."""
    trainer._signal_connector._sigterm_notifier_fn = handler


def as_written_at_the_epochs_end(checkpoint: dict[str, Any]) -> None:
    """A checkpoint written at the end of an epoch's last step (a periodic one, a stop's) changed in place to read
    as written at that epoch's end, as FinalCheckpoint writes the run's last: Lightning's restart from the step's
    end counted the epoch twice (the `epoch` curve said 2 after 0, the next epoch's photos came in another order
    than in a run never stopped). Any other checkpoint is left as it is."""
    try:
        fit = checkpoint["loops"]["fit_loop"]
        batches, epochs, loop = fit["epoch_loop.batch_progress"], fit["epoch_progress"], fit["epoch_loop.state_dict"]
        b, e, stepped = batches["total"], epochs["total"], loop["_batches_that_stepped"] + 1
        at_a_steps_end = b["ready"] == b["started"] == b["processed"] == b["completed"] + 1
        in_its_epoch = e["ready"] == e["started"] == e["processed"] + 1 and e["completed"] == e["processed"]
        if not (batches["is_last_batch"] and at_a_steps_end and in_its_epoch):
            return
        done = [batches[counts]["completed"] + 1 for counts in ("total", "current")]
        processed = [epochs[counts]["processed"] + 1 for counts in ("total", "current")]
    except (KeyError, TypeError, AttributeError):  # not a fit's checkpoint, or another Lightning's
        return
    for counts, d, p in zip(("total", "current"), done, processed):
        batches[counts]["completed"], epochs[counts]["processed"] = d, p
    loop["_batches_that_stepped"] = stepped
