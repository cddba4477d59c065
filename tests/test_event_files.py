"""A run's TensorBoard event files (fast_style/runs/event_files.py): an earlier launch's HParams summary taken out,
everything else kept byte for byte; a file that cannot be read whole left as it is."""

from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, RawEventFileLoader
from torch.utils.tensorboard import SummaryWriter

from fast_style.runs.event_files import drop_hparams, event_files, holds_a_loss, holds_hparams


def _logged(folder: Path, hparams: bool = True) -> Path:
    writer = SummaryWriter(str(folder))
    for step in range(3):
        writer.add_scalar("train/total", 1.0 / (step + 1), step)
    if hparams:  # (as Lightning's logger writes them: into the run's own file)
        from torch.utils.tensorboard.summary import hparams as summary

        for part in summary({"lr": 1e-3}, {"hp/style": 2.0}):
            writer.file_writer.add_summary(part)
        writer.add_scalar("hp/style", 2.0, 0)  # the metric's own point (Lightning's log_hyperparams logs it too)
    writer.add_scalar("train/total", 0.1, 3)
    writer.close()
    (path,) = event_files(folder)
    return path


def _tags(path: Path) -> list[str]:
    return [v.tag for event in EventFileLoader(str(path)).Load() for v in event.summary.value]


def test_the_hparams_summary_is_dropped_and_every_other_record_kept(tmp_path: Path) -> None:
    path = _logged(tmp_path)
    before = list(RawEventFileLoader(str(path)).Load())
    assert holds_hparams(path) and holds_a_loss(path)
    assert drop_hparams(path)
    after = list(RawEventFileLoader(str(path)).Load())
    assert len(after) == len(before) - 4 and all(r in before for r in after)  # (experiment, start, end, hp/style)
    assert not holds_hparams(path) and _tags(path).count("train/total") == 4
    assert "hp/style" not in _tags(path)  # (a resumed run's Scalars tab showed two points at step 0)
    assert not drop_hparams(path)  # none left: not rewritten


def test_a_damaged_file_loses_nothing(tmp_path: Path) -> None:
    """A record cut short or a length whose checksum is wrong (where TensorBoard's reader stops): the file is left
    as it is. A record whose data's checksum is wrong is copied as it was, its checksum too."""
    path = _logged(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # cut short
    assert not drop_hparams(path) and path.read_bytes() == data[:-3]
    damaged = bytearray(data)
    damaged[8] ^= 0xFF  # the first record's length checksum
    path.write_bytes(bytes(damaged))
    assert not drop_hparams(path) and path.read_bytes() == bytes(damaged)
    damaged = bytearray(data)
    damaged[-3] ^= 0xFF  # the last record's data checksum
    path.write_bytes(bytes(damaged))
    assert drop_hparams(path) and path.read_bytes().endswith(bytes(damaged[-40:]))
    assert not holds_hparams(path) and len(path.read_bytes()) < len(data)
    assert event_files(tmp_path / "none") == [] and not holds_hparams(tmp_path / "gone")
