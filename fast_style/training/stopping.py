"""How a run stops, with its last.ckpt: at its last step (FinalCheckpoint), or when asked by Ctrl-C, SIGTERM or
SIGHUP (GracefulStop: the step finished, every DDP rank at the same one). The two work hand in hand: a stop's
checkpoint is FinalCheckpoint's, written where GracefulStop has the ranks agree on the step."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import threading
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fast_style.errors import UserError
from fast_style.runs import launch
from fast_style.training.lightning_internals import stop_after_this_step, take_sigterm
from fast_style.training.style_model_writer import StyleModelWriter

log = logging.getLogger(__name__)


class FinalCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, and the final step always in last.ckpt, whatever the checkpoint interval
    (also when GracefulStop ends the run early)."""

    _dumped_at: int | None = None  # the step of the newest checkpoint written (a periodic one brings last.ckpt)
    _keeps_last = True  # save_last, or a last.ckpt found at the start (on_train_start)
    _last_at: int | None = None  # the step whose last.ckpt save_last_now wrote, or found written

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        keep = kwargs.get("save_top_k", 1)
        if kwargs.get("monitor") is None and isinstance(keep, int) and not isinstance(keep, bool) and keep > 1:
            raise UserError(  # Lightning's own: "No quantity for top_k to track", with nothing to set instead
                f"callbacks.checkpoint.save_top_k={keep}: Lightning keeps more than one periodic checkpoint only by a "
                "figure it monitors, and these runs monitor none: 1 keeps the newest, -1 every one, 0 none (last.ckpt "
                "is kept in each)"
            )
        super().__init__(*args, **kwargs)

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        self._dumped_at = trainer.global_step

    @property
    def state_key(self) -> str:
        """Lightning's key without the intervals (its own holds every_n_train_steps: a resume at another interval
        found no state, wrote last-v1.ckpt beside a stale last.ckpt, which the next ckpt_path=last went back to,
        losing the steps between, and kept the older periodic checkpoint). Its monitor stays in it: two such
        callbacks (the last and the best) keep a state each."""
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """A run folder copied or moved (from a GPU machine to a laptop): the checkpoints it names are taken as
        this folder's. Lightning forgot them where the folder had changed, so a resumed run wrote last-v1.ckpt
        beside the old last.ckpt (which the next resume by path went back to, losing the steps between) and kept
        every periodic checkpoint."""
        old = state_dict.get("dirpath")
        if old and self.dirpath and old != self.dirpath:

            def here(path: Any) -> Any:
                inside = isinstance(path, str) and path and os.path.dirname(path) == old
                return os.path.join(self.dirpath, os.path.basename(path)) if inside else path

            state_dict = {**state_dict, "dirpath": self.dirpath}
            for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
                state_dict[key] = here(state_dict.get(key))
            state_dict["best_k_models"] = {here(k): v for k, v in state_dict.get("best_k_models", {}).items()}
        super().load_state_dict(state_dict)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        """A stop asked during the step (GracefulStop, a scheduler's SIGTERM): its checkpoint is written here, after
        the periodic one (not twice), where Lightning's restart expects one (a resume from one written later, once
        the step's counters had moved on, logged every point one step late). One process only: DDP ranks may see
        the signal on either side of a step: there it is written here where GracefulStop has the ranks agree on the step
        (after its own on_train_batch_end: Lightning calls the checkpoint callbacks last), else when Lightning stops
        them together (GracefulStop.on_exception)."""
        super().on_train_batch_end(trainer, pl_module, *args)
        agreed = trainer.world_size == 1 or any(isinstance(c, GracefulStop) and c._ranks for c in trainer.callbacks)
        if trainer.received_sigterm and agreed and self._keeps_last and self.dirpath:
            self.save_last_now(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The run's end at trainer.max_steps: its last.ckpt is written here, after the last step's validation and
        before Lightning counts the epoch it stopped in as finished. Written at the run's end (on_train_end), a run
        continued to more steps went on with the rest of that epoch's photos while its `epoch` curve and progress
        bar said the next epoch (one more with each continuation), and a trainer.max_epochs ended it an epoch early."""
        super().on_train_epoch_end(trainer, pl_module)
        epochs = trainer.fit_loop.epoch_progress.current.processed  # (counted before this hook)
        ends = 0 < trainer.max_steps <= trainer.global_step or 0 < (trainer.max_epochs or 0) <= epochs
        if ends and self._keeps_last and self.dirpath:
            # also where a periodic checkpoint of this step brought last.ckpt: written at the step's end, Lightning's
            # restart counted the epoch it ended twice (a run continued trained in epoch 2 after epoch 0; one ended
            # at trainer.max_epochs=1 continued to 2 trained nothing)
            self.save_last_now(trainer, epoch_end=True)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """With save_last=false, a last.ckpt there (a stop's: one is written whatever the setting) is kept up to
        date at the run's end: left as it was, a later ckpt_path=last went back to it (a run of 300 steps resumed at
        its step 10, its models rewritten). Rank 0's view, the same on every process (each writes together)."""
        super().on_train_start(trainer, pl_module)
        found = bool(self.dirpath) and os.path.isfile(os.path.join(self.dirpath, self._last_name))
        self._keeps_last = bool(trainer.strategy.broadcast(self.save_last or found, src=0))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._keeps_last and self.dirpath:
            self.save_last_now(trainer)

    @property
    def _last_name(self) -> str:
        return f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}"

    def save_last_now(self, trainer: pl.Trainer, epoch_end: bool = False) -> str:
        """last.ckpt now (a stop's, the run's end), unless this step's is written already (`epoch_end`: unless
        written at this epoch's end: one written at the step's end is written again)."""
        path = os.path.join(self.dirpath, self._last_name)
        # set before the save, which stores it: a resumed run then knows last.ckpt for its own and keeps writing
        # it (stored afterwards, the restored path was another, and Lightning wrote last-v1.ckpt beside a stale
        # last.ckpt that a resume by path went back to)
        self.last_model_path = path
        # (save_last=false: a periodic checkpoint of this step did not bring last.ckpt with it; written here at this
        # step already, at the epoch's end: not again at the run's end, the epoch then counted as finished)
        current = not epoch_end and self._dumped_at == trainer.global_step and os.path.exists(path) and self.save_last
        if self._last_at != trainer.global_step and not current:
            trainer.save_checkpoint(path, self.save_weights_only)
        self._last_at = trainer.global_step
        return path


def _run_folder_setting(run: Path) -> str:
    """The setting that points a resume at this run: its own folder, or in a sweep the sweep's (each of its runs
    then resumes from its own last.ckpt; naming one run's folder would resume them all from that one)."""
    from hydra.core.hydra_config import HydraConfig

    # quoted for the shell where it must be (a folder with a space: the line pasted did not resume)
    if launch.in_multirun():
        return shlex.quote(f"hydra.sweep.dir={HydraConfig.get().sweep['dir']}")
    return shlex.quote(f"{launch.run_folder_key()}={run}")  # (train() from Python: output_dir)


class GracefulStop(pl.Callback):
    """Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal closed): finish the current step, write a checkpoint and the
    style model, and stop (fast-style-train then exits with `exit_code`, 130, 143 or 129, so that `train && stylize`
    does not go on).

    The first Ctrl-C is turned into Lightning's own SIGTERM handling (which stops the run after the current
    batch); a second Ctrl-C aborts at once. The handler is installed in `on_train_start`, after Lightning has
    recorded the process's handlers, so Lightning's teardown restores the original one. Under DDP a signal is only
    noted where it arrives (on any rank, or on all), and the ranks agree after each step whether one came, so that
    all of them stop at the same step (`_agree`).
    """

    exit_code = 128 + signal.SIGTERM  # the shell's convention: 128 + the signal that stopped the run

    def __init__(self, resume: str | None = None) -> None:
        """`resume`: the command that resumes the run, for the stop line (None: the same command with
        `ckpt_path=last hydra.run.dir=<the run>`; fast-style-demo gives its fast-style-train equivalent)."""
        self.resume = resume
        self._hangup: Any = None  # SIGHUP's handler before the run's (on_train_start)
        self._ranks = False  # several DDP processes: a signal is noted, and the ranks agree when to stop
        self._noted = 0  # the signal this process was sent (under DDP)
        self._global_rank = 0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """DDP: SIGTERM noted from the moment Lightning takes it (just after this hook) on: its own handler, there
        until on_train_start, broadcast from inside itself (the ranks' first collectives come before training)."""
        if self._several_ranks(trainer):
            self._ranks = True
            take_sigterm(trainer, self._note)

    @staticmethod
    def _several_ranks(trainer: pl.Trainer) -> bool:
        return (
            threading.current_thread() is threading.main_thread()
            and trainer.world_size > 1
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
        )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if self._ranks:
            self._note_signals(trainer)
            return
        notices = logging.getLogger("pytorch_lightning.trainer.connectors.signal_connector")
        if self._not_from_ctrl_c not in notices.filters:
            notices.addFilter(self._not_from_ctrl_c)

        def on_sigint(signum: int, frame: Any) -> None:
            self.exit_code = 128 + signal.SIGINT
            log.warning("stopping after this step (writing a checkpoint); press Ctrl-C again to abort")
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.raise_signal(signal.SIGTERM)

        def on_sighup(signum: int, frame: Any) -> None:  # the terminal closed: it had killed the run unsaved
            self.exit_code = 128 + signum
            signal.raise_signal(signal.SIGTERM)

        # a signal ignored on start stays ignored: SIGINT in `cmd &` or under nohup, SIGHUP under nohup
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, on_sigint)
        hangup = getattr(signal, "SIGHUP", None)  # (none on Windows)
        if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
            self._hangup = signal.signal(hangup, on_sighup)

    def _note_signals(self, trainer: pl.Trainer) -> None:
        """DDP: Ctrl-C and SIGHUP only noted too, from training's start on (SIGTERM since on_fit_start); a second
        Ctrl-C on rank 0 aborts. A signal this process ignores stays ignored (nohup; the ranks Lightning starts,
        whose rank 0 decides)."""
        self._global_rank = trainer.global_rank
        for stop in (signal.SIGINT, getattr(signal, "SIGHUP", None)):
            if stop is not None and signal.getsignal(stop) is not signal.SIG_IGN:
                previous = signal.signal(stop, self._note)
                if stop != signal.SIGINT:
                    self._hangup = previous

    def _note(self, signum: int, frame: Any) -> None:
        """A stop asked of this process (DDP): said, and agreed on with the other ranks after this step."""
        if self._noted:
            return
        self._noted = signum
        again = signum == signal.SIGINT and self._global_rank == 0
        log.warning("stopping after this step (writing a checkpoint)%s", "; Ctrl-C again aborts" if again else "")
        if again:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self._ranks:
            self._agree(trainer)

    def _agree(self, trainer: pl.Trainer) -> None:
        """Every rank, after each step: whether any was sent a signal; if one was, all stop at this step's end."""
        sent = torch.tensor([self._noted], dtype=torch.int32, device=trainer.strategy.root_device)
        torch.distributed.all_reduce(sent, op=torch.distributed.ReduceOp.MAX)
        if sent.item():
            self.exit_code = 128 + (self._noted or int(sent.item()))
            stop_after_this_step(trainer)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._hangup is not None:  # (Lightning restores it too, where its connector ran: set back either way)
            signal.signal(signal.SIGHUP, self._hangup)
            self._hangup = None

    def _not_from_ctrl_c(self, record: logging.LogRecord) -> bool:
        """Lightning's "Received SIGTERM: 15" is left out where the SIGTERM is one a Ctrl-C or SIGHUP turned into."""
        return self.exit_code == 128 + signal.SIGTERM or "Received SIGTERM" not in record.getMessage()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        ckpt = trainer.checkpoint_callback
        if isinstance(ckpt, FinalCheckpoint) and ckpt.dirpath:
            path = ckpt.save_last_now(trainer)
            run = Path(trainer.default_root_dir)  # the run's folder (its checkpoints may be kept elsewhere)
            if 0 < trainer.max_steps <= trainer.global_step:  # stopped in its last step's validation: every step
                log.warning(  # trained (it had said "to resume, ...", and the resume trained nothing)
                    "stopped at step %d, the run's last (trainer.max_steps=%d): checkpoint %s; nothing is left to "
                    "resume (raise trainer.max_steps with ckpt_path=last to train on)",
                    trainer.global_step,
                    trainer.max_steps,
                    path,
                )
            elif self.resume:
                log.warning("stopped at step %d: checkpoint %s; to resume: %s", trainer.global_step, path, self.resume)
            else:
                log.warning(
                    "stopped at step %d: checkpoint %s; to resume, %s with ckpt_path=last %s",
                    trainer.global_step,
                    path,
                    "train the same config" if launch.run_folder_key() == "output_dir" else "run the same command",
                    _run_folder_setting(run),
                )
        for callback in trainer.callbacks:
            if isinstance(callback, StyleModelWriter):
                callback.on_train_end(trainer, pl_module)
