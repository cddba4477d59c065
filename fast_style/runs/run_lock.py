"""One fast-style-train at a time in a run's folder: a launch holds an advisory lock on a file named after the
folder, under fast-style's cache folder, for as long as it runs. A second launch into the same folder (two
commands started together, or a resume while the run still trains) is refused before it writes anything there:
both had trained, each writing over the other's checkpoints and style model. The lock ends with the process,
however it ends (a crash, SIGKILL), so no stale lock is ever left to clear: a POSIX record lock (lockf), the
process's own, which the loader workers it forks do not inherit (a flock was theirs too, and a resume right
after a SIGKILL was refused for the seconds they took to notice). Within one process, where that lock is held once,
each train() claims its folder besides (`claim_run_folder`): a second thread's is refused as a second process is."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import IO

from fast_style.cache import cache_dir
from fast_style.errors import UserError

_HELD: dict[str, IO] = {}  # this process's locks, by lock file: a folder whose lock is open here is not opened again
_TRAINING: dict[str, str] = {}  # the folders a train() of this process trains in, with its thread's name
_TRAINING_GUARD = threading.Lock()


class _Claim:
    """A folder claimed by one train() of this process (`claim_run_folder`); close() lets it go."""

    def __init__(self, key: str) -> None:
        self._key: str | None = key

    def close(self) -> None:
        with _TRAINING_GUARD:
            if self._key is not None:
                _TRAINING.pop(self._key, None)
                self._key = None


def claim_run_folder(folder: Path, setting: str) -> _Claim:
    """Claims `folder` for one train() of this process (close the returned claim at its end). The lock file above
    is the process's: a second train() in another thread of the same process (a notebook's, a server's) found it
    held by its own process and trained on, the two writing over each other's checkpoints and style model. Refused
    here as a second process is (UserError naming `setting`)."""
    key = str(folder.expanduser().resolve())
    with _TRAINING_GUARD:
        if (thread := _TRAINING.get(key)) is not None:
            raise UserError(
                f"{setting}: another training (pid {os.getpid()}, this process's thread {thread!r}) is running in "
                "that folder: wait for it to end (or stop it), or choose another folder"
            )
        _TRAINING[key] = threading.current_thread().name
    return _Claim(key)


def lock_run_folder(folder: Path, setting: str) -> IO | None:
    """Holds the lock of `folder` (keep the returned file open while the run goes on; closing it ends the lock;
    None where locks cannot be made here, or where this process holds that folder's lock already: fast-style-train
    takes it before it calls train(), which takes it too: opening the lock file again and closing it would end the
    launch's lock). UserError naming `setting` (`hydra.run.dir=...`) where another process holds it."""
    try:
        import fcntl
    except ImportError:  # (not on Windows)
        return None
    key = hashlib.sha1(str(folder.expanduser().resolve()).encode()).hexdigest()[:20]
    path = cache_dir() / "run-locks" / f"{key}.lock"
    if str(path) in _HELD and not _HELD[str(path)].closed:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 (held open for the run)
    except OSError:  # no cache folder to write in: no lock, as before
        return None
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # (held elsewhere: EAGAIN, or EACCES on some systems)
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise UserError(
            # (fast-style-train's, or a Python program's calling train(): "another fast-style-train" was said of both)
            f"{setting}: another training process (pid {holder}) is running in that folder: wait for it to end "
            "(or stop it), or choose another folder"
        ) from None
    except OSError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD[str(path)] = handle
    return handle
