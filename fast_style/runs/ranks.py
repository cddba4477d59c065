"""Which process of a DDP run this one is, told from its environment before torch loads (Lightning's launcher,
torchrun and SLURM start every rank with the same command line), and another rank's life tied to its rank 0's."""

from __future__ import annotations

import os
import signal
import sys


def another_rank() -> bool:
    """A process DDP started for a rank other than 0 (Lightning's, torchrun's, SLURM's), which trains in its rank
    0's folder."""
    ranks = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID")
    return any(os.environ.get(k, "0") != "0" for k in ranks)


def started_by_lightning() -> bool:
    """A process Lightning's DDP launcher started for another rank (its children carry LOCAL_RANK; torchrun's carry
    its run id too): one that ended on a Ctrl-C of its own before training had its rank 0 killed mid-way (137, and
    the run's folder left behind)."""
    return os.environ.get("LOCAL_RANK", "0") != "0" and "TORCHELASTIC_RUN_ID" not in os.environ


def end_with_rank_zero() -> None:
    """Linux: this rank is killed when the rank 0 that started it ends (SIGKILL'd by the kernel's out-of-memory
    killer, crashed), rather than wait in a collective, deaf to Ctrl-C, until the process group's timeout."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # (no such call: nothing more than before)
        return
    if os.getppid() != parent:  # rank 0 ended before the call took effect
        os._exit(1)
