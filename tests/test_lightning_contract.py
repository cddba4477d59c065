"""The five private Lightning internals fast-style leans on (fast_style/lightning_internals.py, the only place
that touches them), each for a reason no public API serves; checkpoints go through the public CheckpointIO
plugin. An upgrade of pytorch-lightning that moves one fails here, by name, instead of silently changing what
users get (metrics logged every step, a DDP rank left hanging)."""

import inspect

import pytorch_lightning as pl
from pytorch_lightning.strategies.launchers.subprocess_script import _SubprocessScriptLauncher


def test_trainer_still_has_a_logger_connector_that_knows_the_logging_steps() -> None:
    # StyleTransferModule._logging_now: log only on the steps Lightning writes, without syncing the GPU
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    assert isinstance(type(trainer._logger_connector).should_update_logs, property)


def test_ddp_launcher_can_still_kill_the_other_ranks() -> None:
    # train(): an error on rank 0 alone must not leave the other ranks waiting in a collective
    assert list(inspect.signature(_SubprocessScriptLauncher.kill).parameters) == ["self", "signum"]


def test_the_epoch_loop_still_counts_the_steps_logged() -> None:
    # FinalCheckpoint.on_train_batch_start: a resumed run's first step sets the count its points are logged at
    from fast_style.lightning_internals import set_logging_count

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    loop = trainer.fit_loop.epoch_loop
    assert loop._batches_that_stepped == 0 and loop.state_dict()["state_dict"]["_batches_that_stepped"] == 0
    set_logging_count(trainer, 7)
    assert loop.state_dict()["state_dict"]["_batches_that_stepped"] == 7


def test_is_logging_step_asks_lightning() -> None:
    from fast_style.lightning_internals import is_logging_step

    assert is_logging_step(None)  # no trainer (a module used alone): log
    quiet = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, log_every_n_steps=0)
    assert not is_logging_step(quiet)  # Lightning's own answer: never


def test_lightnings_own_stop_after_a_step_can_still_be_asked_for() -> None:
    # GracefulStop._agree: every DDP rank stops at the same step (Lightning's handler broadcast inside itself)
    from fast_style.lightning_internals import started_by_rank_zero, stop_after_this_step

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    assert not trainer.received_sigterm
    stop_after_this_step(trainer)
    assert trainer.received_sigterm
    assert not started_by_rank_zero(trainer)  # one process: no launcher watching it


def test_lightnings_sigterm_notifier_is_still_the_one_it_registers() -> None:
    # GracefulStop.on_fit_start (DDP): its handler takes the notifier's place before the trainer registers it
    from pytorch_lightning.trainer.connectors.signal_connector import _SignalConnector

    from fast_style.lightning_internals import take_sigterm

    assert "self._sigterm_notifier_fn" in inspect.getsource(_SignalConnector.register_signal_handlers)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    take_sigterm(trainer, print)
    assert trainer._signal_connector._sigterm_notifier_fn is print
