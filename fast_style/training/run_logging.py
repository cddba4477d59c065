"""What a training run says on the terminal. Lightning's advertisements are left out (`without_tips`). The processes
of a DDP run each run the same setup and would say the same things once per process ("data: 489 training images"
twice, a warning about a setting twice): the terminal shows rank 0's messages; of the other ranks' only warnings and
errors, and of fast-style's own only those about the rank's own share of the work (logged with `extra=EVERY_RANK`),
each prefixed by its rank. Every rank's log file (train.log, train_ddp_process_N.log) keeps all of its own
messages."""

from __future__ import annotations

import logging

from pytorch_lightning.utilities.rank_zero import rank_zero_only

EVERY_RANK = {"every_rank": True}  # `log.warning(..., extra=EVERY_RANK)`: said by each rank, of its own work


def _rank() -> int:
    return getattr(rank_zero_only, "rank", 0)  # the global rank once DDP set it up (a node's local rank before)


class OneCopyOnTerminal(logging.Filter):
    """A terminal handler's filter: passes everything on rank 0, and on the other ranks only what is theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        rank = _rank()
        if rank == 0:
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.name.split(".")[0] == "fast_style" and not getattr(record, "every_rank", False):
            return False  # the same on every rank: rank 0 said it
        if not getattr(record, "rank_prefixed", False):  # (the record is shared with the log file's handler)
            record.msg, record.rank_prefixed = f"[rank: {rank}] {record.msg}", True
        return True


def one_copy_on_terminal() -> None:
    """Filter the root logger's terminal handlers (Hydra's console) with OneCopyOnTerminal; the log files' stay."""
    for handler in logging.getLogger().handlers:
        terminal = isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
        if terminal and not any(isinstance(f, OneCopyOnTerminal) for f in handler.filters):
            handler.addFilter(OneCopyOnTerminal())


class _NoTips(logging.Filter):
    """Lightning's advertisements for its cloud services ("💡 Tip: ... try installing litlogger"), printed on every
    run, are left out of a run's output; its other messages stay. So is its "Detected KeyboardInterrupt, attempting
    graceful shutdown ...", said of a SIGTERM or SIGHUP before training too (Terminated is a KeyboardInterrupt), where
    nothing graceful follows: the stop's own line says what happened ("stopped (SIGTERM)", "interrupted")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).lstrip("\n").startswith(("💡 Tip:", "Detected KeyboardInterrupt"))


def without_tips() -> None:
    """Filter Lightning's rank-zero logger with _NoTips (once)."""
    tips = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if not any(isinstance(f, _NoTips) for f in tips.filters):
        tips.addFilter(_NoTips())
