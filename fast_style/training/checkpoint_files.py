"""Checkpoint files written whole (a crash or a full disk never leaves a truncated one where a good one was), and
read back with an older fast-style's keys taken as today's."""

from __future__ import annotations

import ast
from typing import Any

from pytorch_lightning.plugins import TorchCheckpointIO

from fast_style.atomic import save_torch
from fast_style.training.lightning_internals import as_written_at_the_epochs_end
from fast_style.training.stopping import FinalCheckpoint


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer (a public plugin, `Trainer(plugins=[AtomicCheckpointIO()])`), but each file
    is written beside its place, fsynced and renamed over it: a crash or a full disk never leaves a truncated
    checkpoint where a good one was, and a full disk is a one-line DiskError. Remote URLs go to Lightning's own."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        save_torch(checkpoint, path)

    def load_checkpoint(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Lightning's, with FinalCheckpoint's state of a checkpoint written before its key left out the intervals
        (`FinalCheckpoint.state_key`) under the key it has now: read as its own, not warned about as a callback
        missing from the run; and one written at an epoch's last step read as written at that epoch's end
        (`as_written_at_the_epochs_end`)."""
        checkpoint = super().load_checkpoint(*args, **kwargs)
        as_written_at_the_epochs_end(checkpoint)
        states = checkpoint.get("callbacks")
        for key in list(states) if isinstance(states, dict) else ():
            if isinstance(key, str) and key.startswith(f"{FinalCheckpoint.__qualname__}{{"):
                try:
                    settings = ast.literal_eval(key[len(FinalCheckpoint.__qualname__) :])
                except (ValueError, SyntaxError):
                    continue
                if isinstance(settings, dict) and set(settings) > {"monitor", "mode"}:
                    ours = {"monitor": settings.get("monitor"), "mode": settings.get("mode")}
                    states.setdefault(f"{FinalCheckpoint.__qualname__}{ours!r}", states.pop(key))
        return checkpoint
