"""The few private Lightning internals fast-style leans on, each for a reason no public API serves (named in the
code beside its use). An upgrade of pytorch-lightning that moves one fails here, by name, instead of silently
changing what users get (a truncated checkpoint, a skipped save, a hanging DDP rank)."""

import inspect

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

from fast_style.callbacks import AtomicModelCheckpoint


def test_model_checkpoint_still_saves_through_the_method_we_override() -> None:
    # AtomicModelCheckpoint replaces _save_checkpoint (write beside, fsync, rename) and keeps its bookkeeping
    params = list(inspect.signature(ModelCheckpoint._save_checkpoint).parameters)
    assert params == ["self", "trainer", "filepath"]
    source = inspect.getsource(ModelCheckpoint)
    assert "self._save_checkpoint(" in source  # every periodic and last save goes through it
    assert "_last_global_step_saved" in source and "_last_checkpoint_saved" in source
    assert AtomicModelCheckpoint._save_checkpoint is not ModelCheckpoint._save_checkpoint


def test_trainer_still_has_a_logger_connector_that_knows_the_logging_steps() -> None:
    # StyleTransferModule._logging_now: log only on the steps Lightning writes, without syncing the GPU
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, max_steps=1)
    assert isinstance(type(trainer._logger_connector).should_update_logs, property)


def test_ddp_launcher_can_still_kill_the_other_ranks() -> None:
    # train(): an error on rank 0 alone must not leave the other ranks waiting in a collective
    assert list(inspect.signature(_SubprocessScriptLauncher.kill).parameters) == ["self", "signum"]
