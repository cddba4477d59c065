"""A run's TensorBoard event files: whether one records anything, and the HParams summaries a later launch of the
same run supersedes.

TensorBoard's HParams tab takes a run's settings from the first `_hparams_/session_start_info` it reads in the
run's folder: a resumed run (another trainer.max_steps, module.lr, ...) showed its first launch's settings beside
its last launch's metrics. `drop_hparams` takes the earlier launches' summaries out of their files, leaving every
other record as written (a TensorBoard already running keeps what it read until it is restarted)."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from fast_style.atomic import atomic_write

HPARAMS_TAGS = "_hparams_/"  # the plugin's summaries: experiment, session_start_info, session_end_info
HPARAMS_METRICS = "hp/"  # the held-out figures logged with them (hparams_summary.HParamsSummary), as scalars at step 0

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
    """Whether `events` holds an HParams summary: its tag's bytes searched for (a run's file of image grids is
    hundreds of MB; TensorBoard's reader checks every byte in Python without TensorFlow, at a few MB/s)."""
    try:
        with open(events, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(HPARAMS_TAGS.encode()) >= 0
    except (OSError, ValueError):  # (missing, unreadable, or empty: mmap refuses 0 bytes)
        return False


def drop_hparams(events: Path) -> bool:
    """Rewrite `events` without its HParams summaries and their `hp/` metrics (two points at step 0 in the Scalars
    tab where a resumed run logged them again), every other record copied byte for byte with its checksums
    (atomically: a failure leaves the file as it was). False, untouched, where it holds none or where its records
    do not add up to the whole file (one cut short or damaged: what follows is not rewritten away)."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    if not holds_hparams(events):
        return False
    superseded = (HPARAMS_TAGS.encode(), HPARAMS_METRICS.encode())
    with open(events, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        frames = _frames(data)
        if frames is None:
            return False
        with atomic_write(events) as tmp, open(tmp, "wb") as out:
            writer = RecordWriter(out)
            for start, end in frames:
                record = data[start + 12 : end - 4]
                if not any(tag in record for tag in superseded):  # (most records: copied as they are, not parsed)
                    out.write(data[start:end])
                    continue
                event = event_pb2.Event.FromString(record)
                values = [v for v in event.summary.value if not v.tag.startswith((HPARAMS_TAGS, HPARAMS_METRICS))]
                if len(values) < len(event.summary.value) and values:  # other values beside them: those kept
                    del event.summary.value[:]
                    event.summary.value.extend(values)
                    writer.write(event.SerializeToString())
                elif values:  # (the tag's bytes elsewhere in a record of others: kept as it is)
                    out.write(data[start:end])
            out.flush()
    return True


def _frames(data: mmap.mmap) -> list[tuple[int, int]] | None:
    """Each record's (start, end) in a TFRecord file (a length, its checksum, the data, the data's checksum); None
    where the lengths do not add up to the file or a length's checksum is wrong (a damaged file)."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    frames, pos, size = [], 0, len(data)
    while pos < size:
        if pos + 12 > size:
            return None
        header = data[pos : pos + 8]
        if struct.unpack("<I", data[pos + 8 : pos + 12])[0] != masked_crc32c(header):
            return None
        end = pos + 12 + struct.unpack("<Q", header)[0] + 4
        if end > size:
            return None
        frames.append((pos, end))
        pos = end
    return frames
