"""The six private Lightning internals fast-style leans on (fast_style/training/lightning_internals.py, the only place
that touches them), each for a reason no public API serves; checkpoints go through the public CheckpointIO
plugin. An upgrade of pytorch-lightning that moves one fails here, by name, instead of silently changing what
users get (metrics logged every step, a DDP rank left hanging)."""

import inspect

import pytorch_lightning as pl
from pytorch_lightning.strategies.launchers.subprocess_script import _SubprocessScriptLauncher


def test_lightning_internals_holds_the_six_and_nothing_else() -> None:
    # its docstring and README say six; it held a seventh function, started_by_rank_zero, made of public classes
    from fast_style.training import lightning_internals

    functions = {
        name for name, f in vars(lightning_internals).items() if inspect.isfunction(f) and not name.startswith("_")
    }
    assert functions == {
        "is_logging_step",
        "stop_other_ranks",
        "set_logging_count",
        "stop_after_this_step",
        "take_sigterm",
        "as_written_at_the_epochs_end",
    }
    assert "six things" in inspect.getdoc(lightning_internals)


def test_trainer_still_has_a_logger_connector_that_knows_the_logging_steps() -> None:
    # StyleTransferModule._logging_now: log only on the steps Lightning writes, without syncing the GPU
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    assert isinstance(type(trainer._logger_connector).should_update_logs, property)


def test_ddp_launcher_can_still_kill_the_other_ranks() -> None:
    # train(): an error on rank 0 alone must not leave the other ranks waiting in a collective
    assert list(inspect.signature(_SubprocessScriptLauncher.kill).parameters) == ["self", "signum"]


def test_the_epoch_loop_still_counts_the_steps_logged() -> None:
    # FinalCheckpoint.on_train_batch_start: a resumed run's first step sets the count its points are logged at
    from fast_style.training.lightning_internals import set_logging_count

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    loop = trainer.fit_loop.epoch_loop
    assert loop._batches_that_stepped == 0 and loop.state_dict()["state_dict"]["_batches_that_stepped"] == 0
    set_logging_count(trainer, 7)
    assert loop.state_dict()["state_dict"]["_batches_that_stepped"] == 7


def test_is_logging_step_asks_lightning() -> None:
    from fast_style.training.lightning_internals import is_logging_step

    assert is_logging_step(None)  # no trainer (a module used alone): log
    quiet = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, log_every_n_steps=0)
    assert not is_logging_step(quiet)  # Lightning's own answer: never


def test_lightnings_own_stop_after_a_step_can_still_be_asked_for() -> None:
    # GracefulStop._agree: every DDP rank stops at the same step (Lightning's handler broadcast inside itself)
    from fast_style.training.lightning_internals import stop_after_this_step
    from fast_style.training.train import _started_by_rank_zero

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    assert not trainer.received_sigterm
    stop_after_this_step(trainer)
    assert trainer.received_sigterm
    assert not _started_by_rank_zero(trainer)  # one process: no launcher watching it (public classes: train.py's)


def test_lightnings_sigterm_notifier_is_still_the_one_it_registers() -> None:
    # GracefulStop.on_fit_start (DDP): its handler takes the notifier's place before the trainer registers it
    from pytorch_lightning.trainer.connectors.signal_connector import _SignalConnector

    from fast_style.training.lightning_internals import take_sigterm

    assert "self._sigterm_notifier_fn" in inspect.getsource(_SignalConnector.register_signal_handlers)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    take_sigterm(trainer, print)
    assert trainer._signal_connector._sigterm_notifier_fn is print


def test_the_fit_loops_saved_counts_are_still_where_a_checkpoint_of_an_epochs_last_step_is_mended() -> None:
    # AtomicCheckpointIO.load_checkpoint: a checkpoint written at an epoch's last step's end is read as written at
    # that epoch's end (a resume from it counted the epoch twice: tests/test_train.py, killed_after_a_checkpoint)
    import copy

    from fast_style.training.lightning_internals import as_written_at_the_epochs_end

    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    fit = trainer.fit_loop.state_dict()
    assert "_batches_that_stepped" in fit["epoch_loop.state_dict"]
    for key in ("epoch_loop.batch_progress", "epoch_progress"):
        for counts in ("total", "current"):
            assert set(fit[key][counts]) == {"ready", "started", "processed", "completed"}
    assert "is_last_batch" in fit["epoch_loop.batch_progress"]

    def counts(ready: int, started: int, processed: int, completed: int) -> dict:
        c = {"ready": ready, "started": started, "processed": processed, "completed": completed}
        return {"total": dict(c), "current": dict(c)}

    # the 4th of an epoch's 4 steps, written at the step's end (as Lightning's periodic checkpoints are)
    fit["epoch_loop.batch_progress"] = {**counts(4, 4, 4, 3), "is_last_batch": True}
    fit["epoch_progress"] = counts(1, 1, 0, 0)
    fit["epoch_loop.state_dict"]["_batches_that_stepped"] = 3
    step_end = {"loops": {"fit_loop": fit}, "global_step": 4}
    as_written_at_the_epochs_end(step_end)
    assert fit["epoch_loop.batch_progress"] == {**counts(4, 4, 4, 4), "is_last_batch": True}
    assert fit["epoch_progress"] == counts(1, 1, 1, 0)  # as FinalCheckpoint.on_train_epoch_end writes it
    assert fit["epoch_loop.state_dict"]["_batches_that_stepped"] == 4
    # read again, or any other checkpoint (the epoch's end, a step within it, one without loops): left as it is
    for checkpoint in (step_end, {"global_step": 4}, {"loops": None}, {"loops": {"fit_loop": {"epoch_progress": 1}}}):
        before = copy.deepcopy(checkpoint)
        as_written_at_the_epochs_end(checkpoint)
        assert checkpoint == before
    fit["epoch_loop.batch_progress"] = {**counts(3, 3, 3, 2), "is_last_batch": False}
    fit["epoch_progress"] = counts(1, 1, 0, 0)
    within = copy.deepcopy(step_end)
    as_written_at_the_epochs_end(step_end)
    assert step_end == within
