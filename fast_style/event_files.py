"""A run's TensorBoard event files: whether one records anything, and the HParams summaries a later launch of the
same run supersedes.

TensorBoard's HParams tab takes a run's settings from the first `_hparams_/session_start_info` it reads in the
run's folder: a resumed run (another trainer.max_steps, module.lr, ...) showed its first launch's settings beside
its last launch's metrics. `drop_hparams` takes the earlier launches' summaries out of their files, leaving every
other record as written (a TensorBoard already running keeps what it read until it is restarted)."""

from __future__ import annotations

from pathlib import Path

from fast_style.atomic import atomic_write

HPARAMS_TAGS = "_hparams_/"  # the plugin's summaries: experiment, session_start_info, session_end_info
RECORD_FRAME = 16  # the bytes around each record of a TFRecord file: its length (8) and two checksums (4 + 4)

# what a run's first step logs before (or without) a loss: the learning rate, Lightning's epoch, the photos skipped
NO_LOSS = {"train/lr", "epoch", "train/skipped_images"}


def event_files(folder: Path) -> list[Path]:
    """The TensorBoard event files directly in `folder` (TensorBoard's own rule: 'tfevents' in the name)."""
    return sorted(p for p in folder.glob("*tfevents*") if p.is_file() and not p.name.startswith("."))


def holds_a_loss(events: Path) -> bool:
    """Whether a TensorBoard file holds a point of a loss's or a validation's curve, or cannot be read: a file of
    its header alone, or of what a first step logs before its loss (`NO_LOSS`), records nothing."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    try:
        tags = {v.tag for event in EventFileLoader(str(events)).Load() for v in event.summary.value}
    except Exception:  # (a damaged file: kept, as anything not known to be empty)
        return True
    return bool(tags - NO_LOSS)


def holds_hparams(events: Path) -> bool:
    """Whether `events` holds an HParams summary (False for a file that cannot be read)."""
    try:
        return any(_hparams_values(record) for record in _records(events))
    except Exception:
        return False


def drop_hparams(events: Path) -> bool:
    """Rewrite `events` without its HParams summaries, every other record byte for byte (atomically: a failure
    leaves the file as it was). False, untouched, where it holds none or cannot be read whole."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    try:
        size = events.stat().st_size
        records = list(_records(events))
    except Exception:  # (damaged: left as it is)
        return False
    if sum(len(r) + RECORD_FRAME for r in records) != size:  # a record cut short or damaged, where TensorBoard's
        return False  # reader stops: what follows it is not rewritten away
    kept: list[bytes] = []
    for record in records:
        if not (dropped := _hparams_values(record)):
            kept.append(record)
            continue
        event = event_pb2.Event.FromString(record)
        if len(dropped) < len(event.summary.value):  # (other values beside them in one event: those kept)
            values = [v for v in event.summary.value if not v.tag.startswith(HPARAMS_TAGS)]
            del event.summary.value[:]
            event.summary.value.extend(values)
            kept.append(event.SerializeToString())
    if kept == records:
        return False
    with atomic_write(events) as tmp, open(tmp, "wb") as f:
        writer = RecordWriter(f)
        for record in kept:
            writer.write(record)
        writer.flush()
    return True


def _records(events: Path):
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

    return RawEventFileLoader(str(events)).Load()


def _hparams_values(record: bytes) -> list[str]:
    from tensorboard.compat.proto import event_pb2

    if HPARAMS_TAGS.encode() not in record:  # (most records: not parsed)
        return []
    return [v.tag for v in event_pb2.Event.FromString(record).summary.value if v.tag.startswith(HPARAMS_TAGS)]
