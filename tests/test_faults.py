"""Fault injection: training killed (SIGKILL) or interrupted (SIGINT) resumes with nothing lost but the last steps;
a full disk stops it with one line and leaves the earlier files intact."""

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fast_style.atomic import DiskError
from fast_style.model.style_model import load_style_model
from fast_style.training.train import train

from .conftest import tiny_run
from .test_train import _all_tags, tiny_cfg

REPO = Path(__file__).resolve().parents[1]


def _command(out: Path, photo_dir: Path, style_path: Path, vgg: Path, steps: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fast_style.cli.train",
        *tiny_run(photo_dir, style_path, vgg),
        f"hydra.run.dir={out}",
        f"trainer.max_steps={steps}",
        "trainer.val_check_interval=5",
        "trainer.enable_progress_bar=false",
        "trainer.accelerator=cpu",
        "callbacks.checkpoint.every_n_train_steps=3",
        "callbacks.images.every_n_steps=0",
        *extra,
    ]


def _sigint_as_in_a_terminal() -> None:
    """A run's Ctrl-C as a terminal delivers it, even where the suite itself was started with SIGINT ignored
    (`make test &` in a script): such a run would, by design, keep ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120, newer_than: int = -1) -> None:
    """Until `path` exists (and was written after `newer_than`, a st_mtime_ns), while `proc` runs."""
    end = time.time() + timeout
    while not path.exists() or path.stat().st_mtime_ns <= newer_than:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "process ended"
        assert time.time() < end, f"{path} never appeared"
        time.sleep(0.05)


def _all_checkpoints_load(folder: Path) -> list[int]:
    steps = []
    for ckpt in sorted(folder.glob("*.ckpt")):
        steps.append(torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"])
    for style in folder.glob("style-*.pt"):
        load_style_model(str(style))
    return steps


@pytest.mark.slow
def test_killed_runs_resume_to_the_end(tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path) -> None:
    out, last = tmp_path / "run", tmp_path / "run" / "checkpoints" / "last.ckpt"
    total = 200
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(0)
    for attempt in range(3):
        cmd = _command(out, photo_dir, style_path, random_vgg, total, *(["ckpt_path=last"] if attempt else []))
        before = last.stat().st_mtime_ns if last.exists() else -1
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_for(last, proc, newer_than=before)  # training (again), not still starting
        time.sleep(rng.uniform(0.3, 2.0))  # somewhere in the middle of training, maybe mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        steps = _all_checkpoints_load(out / "checkpoints")
        assert steps and max(steps) < total
    done = subprocess.run(
        _command(out, photo_dir, style_path, random_vgg, total, "ckpt_path=last"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert torch.load(last, weights_only=False)["global_step"] == total
    assert load_style_model(str(out / "style.pt"))[1]["step"] == total
    # Hydra rewrote .hydra/config.yaml at each launch; the copy of each launch that got as far as training is
    # kept: the first without ckpt_path, the resumes with it
    launches = sorted((out / ".hydra" / "launches").glob("*-overrides.yaml"))
    assert len(launches) >= 4 and "ckpt_path=last" not in launches[0].read_text()
    assert all("ckpt_path=last" in p.read_text() for p in launches[1:])


@pytest.mark.slow
def test_ctrl_c_writes_a_checkpoint_and_style_model(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    out = tmp_path / "run"
    cmd = _command(out, photo_dir, style_path, random_vgg, 100000)
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=_sigint_as_in_a_terminal
    )
    last = out / "checkpoints" / "last.ckpt"
    _wait_for(last, proc)
    _wait_for(last, proc, newer_than=last.stat().st_mtime_ns)  # training on (3 steps more), not a fixed second
    proc.send_signal(signal.SIGINT)
    err, _ = proc.communicate(timeout=120)  # Hydra logs to stdout
    assert proc.returncode == 130, err[-2000:]  # stopped, not finished: `train && stylize` must not go on
    assert "Traceback" not in err and "Received SIGTERM" not in err  # (Lightning's notice: the Ctrl-C's SIGTERM)
    step = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert step > 3  # the stop wrote a newer checkpoint than the periodic one
    assert load_style_model(str(out / "style.pt"))[1]["step"] == step
    assert f"stopped at step {step}" in err
    assert f"run the same command with ckpt_path=last hydra.run.dir={out}" in err  # not one run's path for a sweep


@pytest.mark.slow
def test_a_run_started_with_sigint_ignored_keeps_ignoring_it(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """`fast-style-train ... &` in a script (or nohup) starts with SIGINT ignored: a Ctrl-C meant for the shell
    must not stop the background run; SIGTERM still stops it gracefully."""
    out = tmp_path / "run"
    cmd = _command(out, photo_dir, style_path, random_vgg, 100000)
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    last = out / "checkpoints" / "last.ckpt"
    _wait_for(last, proc)
    proc.send_signal(signal.SIGINT)
    for _ in range(3):  # still training: three more checkpoints, not a fixed wait (a stop writes at most two: the
        # step's periodic one and its own, then ends)
        _wait_for(last, proc, newer_than=last.stat().st_mtime_ns)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    err, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    step = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert load_style_model(str(out / "style.pt"))[1]["step"] == step and f"stopped at step {step}" in err


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])  # SIGHUP: the terminal closed
def test_a_signal_to_the_whole_process_group_stops_gracefully(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, sig: signal.Signals
) -> None:
    """Schedulers (Slurm's preemption, `kill -TERM -PGID`) and a terminal's Ctrl-C signal every process of the
    job, the data loader's workers too: the run must still stop after the step with a checkpoint."""
    out = tmp_path / "run"
    cmd = _command(out, photo_dir, style_path, random_vgg, 100000, "data.num_workers=2")
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_sigint_as_in_a_terminal,
    )
    last = out / "checkpoints" / "last.ckpt"
    _wait_for(last, proc)
    _wait_for(last, proc, newer_than=last.stat().st_mtime_ns)  # training on (3 steps more), not a fixed second
    os.killpg(proc.pid, sig)
    err, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err[-2000:]
    assert "Traceback" not in err and "killed by signal" not in err
    step = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert load_style_model(str(out / "style.pt"))[1]["step"] == step


DISK = {"full": False, "failure": "write"}


class FillDiskAt(pl.Callback):
    """Test-only: from training step `step` on, the disk is full."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, *args) -> None:
        DISK["full"] = trainer.global_step >= self.step


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
# "write": the files (checkpoints, image grids, style models) are written into /dev/full, the kernel's own
# ENOSPC on the real write path; "fsync": the data would not fit once flushed
@pytest.mark.parametrize("style_model,failure", [(True, "write"), (False, "write"), (True, "fsync"), (False, "fsync")])
def test_full_disk_stops_with_one_line_and_keeps_earlier_files(
    tmp_path: Path,
    photo_dir: Path,
    style_path: Path,
    random_vgg: Path,
    monkeypatch: pytest.MonkeyPatch,
    style_model: bool,
    failure: str,
) -> None:
    from fast_style import atomic

    real_mkstemp, real_fsync = atomic.mkstemp, os.fsync

    def mkstemp(*args, **kwargs):  # a full disk for real: the kernel's /dev/full answers every write with ENOSPC
        fd, tmp = real_mkstemp(*args, **kwargs)
        if DISK["full"] and failure == "write":
            os.unlink(tmp)
            os.symlink("/dev/full", tmp)
        return fd, tmp

    def fsync(fd: int) -> None:  # the data would not fit once flushed (delayed allocation, network disks)
        if DISK["full"] and failure == "fsync":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(atomic, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setitem(DISK, "full", False)
    monkeypatch.setitem(DISK, "failure", failure)
    out = tmp_path / "run"
    cfg = tiny_cfg(
        out,
        photo_dir,
        style_path,
        random_vgg,
        "callbacks.checkpoint.every_n_train_steps=2",
        *([] if style_model else ["callbacks.images.every_n_steps=0"]),
        "+callbacks.disk_full._target_=tests.test_faults.FillDiskAt",
        "+callbacks.disk_full.step=3",
        *([] if style_model else ["callbacks.style_model=null"]),
    )
    with pytest.raises(DiskError) as e:
        train(cfg)
    message = str(e.value)
    assert "\n" not in message and "No space left on device" in message and "intact" in message
    assert "000004" in message  # the first file of step 4 (its image grid, style model or checkpoint)
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    folder = out / "checkpoints"
    kept = ["last.ckpt", "step=000002.ckpt"] + (["style-step=000002.pt"] if style_model else [])
    assert sorted(p.name for p in folder.iterdir()) == kept
    assert _all_checkpoints_load(folder) == [2, 2]


SHORT_WRITE = """
import io, resource, signal, sys
from pathlib import Path
import numpy as np
from PIL import Image
from fast_style.atomic import DiskError
from fast_style.media.images import save_image
img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8))
whole = io.BytesIO()
img.save(whole, "JPEG", quality=95)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
room = len(whole.getvalue()) - 100  # the encoder's last write is cut short: no error from it
resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))
try:
    save_image(img, Path(sys.argv[1]))
except DiskError as e:
    print(e)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux's RLIMIT_FSIZE")
def test_a_jpeg_cut_short_by_a_full_disk_is_an_error_not_a_file(tmp_path: Path) -> None:
    # the disk takes all but the last 100 bytes: Pillow's JPEG encoder wrote them to the file unchecked and the
    # picture was left cut short, reported as written
    out = tmp_path / "out.jpg"
    done = subprocess.run([sys.executable, "-c", SHORT_WRITE, str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cannot write") and "File too large" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no file, not even a temporary one


# a module whose import a Ctrl-C stops halfway: it fails as numpy does when the KeyboardInterrupt is raised in it
SLOW_IMPORT = (
    "import os, signal, sys, time\n"
    "try:\n"
    "    os.kill(os.getpid(), signal.SIGINT)\n"
    "    time.sleep(1)\n"
    "except KeyboardInterrupt:\n"
    "    raise ImportError('cannot load module more than once per process')\n"
)


@pytest.mark.skipif(sys.platform == "win32", reason="file locks as POSIX systems have them")
def test_a_killed_writers_temporary_file_goes_at_the_next_write_and_a_live_ones_stays(tmp_path: Path) -> None:
    """SIGKILL (the out-of-memory killer, mid-video) left a hidden .out.mp4.XXXXXXXX.tmp as large as what was
    written, and every later run left it there."""
    from fast_style.atomic import atomic_write

    out = tmp_path / "out.mp4"
    killed = subprocess.run(  # a writer killed mid-write
        [
            sys.executable,
            "-c",
            "import os, signal, sys\nfrom pathlib import Path\nfrom fast_style.atomic import "
            "atomic_write\nwith atomic_write(Path(sys.argv[1])) as tmp:\n    tmp.write_bytes(b'half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n",
            str(out),
        ],
        cwd=REPO,
    )
    assert killed.returncode == -signal.SIGKILL
    (left,) = tmp_path.glob(".out.mp4.*.tmp")
    (tmp_path / ".out.mp4.mine.tmp").write_text("a name of the user's")  # not of atomic_write's pattern: kept
    with atomic_write(out) as first:
        assert not left.exists()  # the killed writer's, removed
        with atomic_write(out) as second:  # another writer of the same file meanwhile: the first's stays
            assert first.exists()
            second.write_bytes(b"b")
        first.write_bytes(b"a")
    assert out.read_bytes() == b"a"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.mp4.mine.tmp", "out.mp4"]


@pytest.mark.parametrize("links", ["hard links", "no hard links"])
def test_a_file_made_while_an_output_is_written_is_kept_without_force(
    tmp_path: Path, links: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check for an existing output comes before the work (a minute's stylization, a video's hour): a file
    made at that name meanwhile (a second run with the same -o, the user's own) was replaced without --force."""
    from fast_style.atomic import atomic_write
    from fast_style.errors import UserError

    if links == "no hard links":  # FAT, some network mounts: a last look before the rename
        monkeypatch.setattr(os, "link", lambda *a: (_ for _ in ()).throw(OSError(errno.EPERM, "not supported")))
    out = tmp_path / "out.jpg"
    with pytest.raises(UserError, match=r"out\.jpg exists \(made while this one was being written\): it is kept"):
        with atomic_write(out, overwrite=False) as tmp:
            tmp.write_bytes(b"stylized")
            out.write_bytes(b"the user's")
    assert out.read_bytes() == b"the user's" and sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg"]
    with atomic_write(tmp_path / "new.jpg", overwrite=False) as tmp:  # nothing there: written
        tmp.write_bytes(b"stylized")
    with atomic_write(out) as tmp:  # --force: replaced
        tmp.write_bytes(b"stylized")
    assert out.read_bytes() == (tmp_path / "new.jpg").read_bytes() == b"stylized"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.jpg", "out.jpg"]


def test_a_link_retried_after_it_was_made_is_the_file_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NFS retries a link whose reply was lost: the retry says it exists, made by this very write. That one is the
    output (not "made while this one was being written"); a dangling link put at the name meanwhile is kept, where
    the file system has no hard links."""
    from fast_style.atomic import atomic_write
    from fast_style.errors import UserError

    real_link = os.link

    def retried(src, dst, *args, **kwargs):
        real_link(src, dst)
        raise FileExistsError(errno.EEXIST, "File exists", str(dst))

    monkeypatch.setattr(os, "link", retried)
    with atomic_write(tmp_path / "out.jpg", overwrite=False) as tmp:
        tmp.write_bytes(b"stylized")
    assert (tmp_path / "out.jpg").read_bytes() == b"stylized" and [p.name for p in tmp_path.iterdir()] == ["out.jpg"]
    monkeypatch.setattr(os, "link", lambda *a: (_ for _ in ()).throw(OSError(errno.EPERM, "not supported")))
    with pytest.raises(UserError, match=r"gone\.jpg exists \(made while this one was being written\): it is kept"):
        with atomic_write(tmp_path / "gone.jpg", overwrite=False) as tmp:
            tmp.write_bytes(b"stylized")
            (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert (tmp_path / "gone.jpg").is_symlink() and not (tmp_path / "gone.jpg").exists()


def test_stylize_keeps_a_file_made_at_its_output_meanwhile(tmp_path: Path) -> None:
    from PIL import Image

    from fast_style.inference.batch import stylize_files

    src = tmp_path / "a.png"
    Image.new("RGB", (32, 24), "red").save(src)
    out = tmp_path / "out" / "a.png"

    def slow_stylize(images: list) -> list:  # another run (or the user) writes the same name meanwhile
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(b"the other run's")
        return images

    errors: list[str] = []
    report = stylize_files([(src, out)], slow_stylize, on_error=errors.append)
    assert report.failed == 1 and report.images == 0 and out.read_bytes() == b"the other run's"
    assert len(errors) == 1 and "(made while this one was being written): it is kept; use force=True" in errors[0]
    assert stylize_files([(src, out)], lambda images: images, force=True).images == 1  # --force: replaced
    assert Image.open(out).size == (32, 24)


def test_ctrl_c_inside_an_import_stops_the_tool_once_the_import_is_done(tmp_path: Path) -> None:
    # a KeyboardInterrupt raised in the middle of torch's import came out as another error with a traceback
    # (numpy's "cannot load module more than once per process", a RecursionError), as this module makes it
    (tmp_path / "slow_import.py").write_text(SLOW_IMPORT + "open(sys.argv[1] + '/imported', 'w').close()\n")
    script = (
        "import sys\nfrom pathlib import Path\nfrom fast_style.atomic import atomic_write\n"
        "from fast_style.cli import run_tool\nsys.path.insert(0, sys.argv[1])\n"
        "def writing():\n"
        "    with atomic_write(Path(sys.argv[1]) / 'out.bin'):\n"
        "        import slow_import\n"
        "        print('not reached')\n"
        "sys.exit(run_tool(lambda: __import__('slow_import') if sys.argv[2] == 'loading' else writing()))\n"
    )
    for kind in ("loading", "writing"):
        (tmp_path / "imported").unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path), kind],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_sigint_as_in_a_terminal,
        )
        assert done.returncode == 130 and done.stderr == "interrupted\n", (kind, done.stderr[-2000:])
        assert (tmp_path / "imported").is_file() and not done.stdout, kind  # the import ended, nothing after it ran
        names = {p.name for p in tmp_path.iterdir()} - {"__pycache__"}
        assert names == {"slow_import.py", "imported"}, kind  # the temporary file went through its clean-up


def test_ctrl_c_while_fast_style_train_loads_stops_it_in_one_line(tmp_path: Path) -> None:
    """fast-style-train had no Ctrl-C handling before training: one inside an import came out as numpy's "cannot
    load module more than once per process" with a traceback, or was lost and the whole run trained."""
    (tmp_path / "slow_import.py").write_text(SLOW_IMPORT)
    script = (  # the import lands where fast-style-train loads what it needs (here: as it registers its configs)
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport fast_style.cli.train as t\n"
        "t.register = lambda: __import__('slow_import')\nsys.argv[1:] = []\nt.main()\n"
    )
    done = _run_script(script, tmp_path, str(tmp_path), preexec_fn=_sigint_as_in_a_terminal)
    assert done.returncode == 130 and done.stderr == "interrupted\n", done.stderr[-2000:]


def _run_script(script: str, cwd: Path, *args: str, **options) -> subprocess.CompletedProcess:
    """`python -c script args...` in `cwd`, importing this checkout's fast_style; its output captured."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **options
    )


def test_a_closed_terminal_while_fast_style_train_loads_stops_it_in_one_line(tmp_path: Path) -> None:
    """SIGHUP before training (which GracefulStop then takes over) killed it without a word."""
    script = (
        "import os, signal, sys, time\nimport fast_style.cli.train as t\n"
        "t.register = lambda: (os.kill(os.getpid(), signal.SIGHUP), time.sleep(30))\nsys.argv[1:] = []\nt.main()\n"
    )
    done = _run_script(script, tmp_path)
    assert (done.returncode, done.stderr) == (129, "stopped (SIGHUP)\n"), done.stderr[-2000:]


def test_a_ctrl_c_while_fast_style_train_exits_prints_no_traceback(tmp_path: Path) -> None:
    """A Ctrl-C just after the run's last line, while Python ran the exit callbacks (torch's clean-up), came out
    as "Exception ignored in atexit callback" with a traceback: the run is over, and the process ends with its code."""
    script = (  # an exit callback registered before the run's own ones, as torch's are (it is imported first)
        "import atexit, os, signal, sys, time\nimport fast_style.cli.train as t\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))\n"
        "t._launch = lambda: 0\nsys.argv[1:] = []\nt.main()\n"
    )
    done = _run_script(script, tmp_path, preexec_fn=_sigint_as_in_a_terminal)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--list-styles"], 0, ""),
        (
            ["--list-styles", "x.jpg"],
            2,
            "error: --list-styles takes no inputs: list the styles, then stylize with --style NAME\n",
        ),
    ],
)
def test_a_ctrl_c_while_a_tool_exits_prints_no_traceback(tmp_path: Path, args: list[str], code: int, said: str) -> None:
    """Every tool (fast-style-stylize here): a Ctrl-C just after its last line, while Python ran the exit callbacks
    (torch's clean-up), came out as "Exception ignored in atexit callback" with a traceback; the process ends with
    the tool's own code and line."""
    script = (  # an exit callback registered before the tool's own ones, as torch's are (it is imported first)
        "import atexit, os, signal, sys, time\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))\n"
        "from fast_style.cli import stylize\nsys.exit(stylize.main(sys.argv[1:]))\n"
    )
    done = _run_script(script, tmp_path, *args, preexec_fn=_sigint_as_in_a_terminal)
    assert (done.returncode, done.stderr) == (code, said), done.stderr[-2000:]


def test_a_ctrl_c_after_the_run_is_over_does_not_call_it_interrupted(tmp_path: Path) -> None:
    """A Ctrl-C after the run's last line ("style model: ...") and before fast-style-train returned said
    "interrupted", exit code 130, of a run that had finished; a program that calls main() gets its Ctrl-C back."""
    script = (  # the Ctrl-C lands as the run's lock is let go, once train() has returned
        "import os, signal, sys\nimport fast_style.cli.train as t\nimport fast_style.training.train\n"
        "class Lock:\n    def close(self):\n        os.kill(os.getpid(), signal.SIGINT)\n"
        "fast_style.training.train.train = lambda cfg: None\nt._lock_resolved_folder = lambda out: Lock()\n"
        "sys.argv[1:] = ['style.image=w.jpg', 'hydra.run.dir=' + sys.argv[1]]\nt.main()\n"
        "print('handler after main:', signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    done = _run_script(script, tmp_path, str(tmp_path / "run"), preexec_fn=_sigint_as_in_a_terminal)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr[-2000:]
    assert "handler after main: True" in done.stdout


def test_a_ctrl_c_after_the_runs_last_line_does_not_call_it_interrupted(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """A Ctrl-C after train()'s last line ("TensorBoard: ...") and before it returned said "interrupted", exit code
    130, of a run that had finished (its model written)."""
    run = tmp_path / "run"
    script = (  # the Ctrl-C lands just after the run's last line
        "import os, signal, sys\nimport fast_style.cli.train as t\nimport fast_style.training.train as ft\n"
        "said = ft.log.info\n"
        "def info(message, *args):\n    said(message, *args)\n"
        "    if message.startswith('TensorBoard:'):\n        os.kill(os.getpid(), signal.SIGINT)\n"
        "ft.log.info = info\nsys.argv[1:] = sys.argv[2:]\nt.main()\n"
    )
    args = [*tiny_run(photo_dir, style_path, random_vgg), f"hydra.run.dir={run}", "trainer.max_steps=2"]
    args += ["trainer.enable_progress_bar=false", "trainer.accelerator=cpu", "callbacks.images.every_n_steps=0"]
    done = _run_script(script, tmp_path, "-", *args, preexec_fn=_sigint_as_in_a_terminal)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "interrupted" not in done.stderr and "Traceback" not in done.stderr
    assert "TensorBoard: tensorboard --logdir" in done.stdout and (run / "style.pt").is_file()


@pytest.mark.parametrize("folder", ["made by the launch", "there before"])
def test_a_stop_while_the_run_loads_leaves_no_folder_of_its_own(tmp_path: Path, folder: str) -> None:
    """A SIGTERM (or Ctrl-C) after Hydra made the run's folder and before training took it over (torch and
    Lightning loading, the data being read) killed fast-style-train without a word and left the folder holding only
    .hydra/ and train.log; an empty folder of the user's named for the run is left as it was."""
    from fast_style.runs.config import register

    register()  # the configs' schemas cached: the script imports Lightning first once its run's folder is made
    run = tmp_path / "run"
    if folder == "there before":
        run.mkdir()
    script = (  # the stop lands as the run's folder is made and torch and Lightning load (as they are imported)
        "import os, signal, sys, time\nrun = sys.argv[1]\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('pytorch_lightning', 'fast_style.training.train') and os.path.isdir(run + '/.hydra'):\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "            time.sleep(30)\n"
        "sys.meta_path.insert(0, Stop())\nimport fast_style.cli.train as t\n"
        "sys.argv[1:] = ['style.image=w.jpg', f'hydra.run.dir={run}']\nt.main()\n"
    )
    done = _run_script(script, tmp_path, str(run))
    assert (done.returncode, done.stderr) == (143, "stopped (SIGTERM)\n"), done.stderr[-2000:]
    assert (list(run.iterdir()) == []) if folder == "there before" else not run.exists()


def test_a_sigterm_in_lightnings_set_up_stops_as_a_sigterm(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """Lightning ends a KeyboardInterrupt inside fit with exit(1): a SIGTERM while it set up (the data, DDP) before
    training took the signals over ended as Ctrl-C (130, "interrupted: the steps since the last checkpoint are not
    saved"), and left the run's folder."""
    run = tmp_path / "run"
    script = (
        "import os, signal, sys\nfrom fast_style.training.data import StyleDataModule\n"
        "import fast_style.cli.train as t\n"
        "StyleDataModule.setup = lambda self, stage=None: os.kill(os.getpid(), signal.SIGTERM)\n"
        "sys.argv[1:] = sys.argv[2:]\nt.main()\n"
    )
    args = [f"data.root={photo_dir}", f"style.image={style_path}", "loss=file", f"loss.weights={random_vgg}"]
    args += ["model=tiny", "data.num_workers=0", f"hydra.run.dir={run}"]
    done = _run_script(script, tmp_path, "-", *args)
    assert done.returncode == 143 and done.stderr.endswith("stopped (SIGTERM)\n"), done.stderr[-2000:]
    assert "interrupted" not in done.stderr and not run.exists()
    assert "KeyboardInterrupt" not in done.stdout + done.stderr  # Lightning's "Detected KeyboardInterrupt, ..."


def test_a_sigterm_before_torch_is_loaded_prints_one_line(tmp_path: Path) -> None:
    """Stopped while torch was being imported (its loggers not yet set to warnings), its exit hook's INFO lines
    ("FakeTensor cache stats:", "cache_hits: 0") followed the tool's one line."""
    script = (
        "import atexit, logging, os, signal, sys, time\nfrom fast_style.cli import run_tool\n"
        "def body():\n"
        "    log = logging.getLogger('torch._subclasses.fake_tensor')\n"
        "    atexit.register(lambda: log.info('FakeTensor cache stats:'))  # as torch registers it at import\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(5)\n"
        "sys.exit(run_tool(body))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 143 and done.stderr == "stopped (SIGTERM)\n", done.stderr[-2000:]


def test_a_second_ctrl_c_inside_an_import_leaves_no_tracing_behind(tmp_path: Path) -> None:
    """The first Ctrl-C waits for the import with a trace function; the second raised at once and left it on: a
    caller of main() (a notebook, tests) ran 3x slower after, and a debugger's tracer was lost."""
    (tmp_path / "twice.py").write_text(
        "import os, signal, time\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(0.2)\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(1)\n"
    )
    script = (
        "import sys\nfrom fast_style.cli import run_tool\nsys.path.insert(0, sys.argv[1])\n"
        "def mine(*args):\n    return mine\n"
        "sys.settrace(mine)  # a debugger's\n"
        "code = run_tool(lambda: __import__('twice'))\n"
        "print(sys.gettrace() is mine)\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_sigint_as_in_a_terminal,
    )
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted\n", "True\n"), done.stderr[-2000:]


class InterruptAt(pl.Callback):
    """Test-only: a second Ctrl-C (KeyboardInterrupt, after the first's handler is gone) at training step `step`."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, *args) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def test_a_second_ctrl_c_aborts_as_interrupted(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lightning ends a KeyboardInterrupt with exit code 1, which the README's table reads as 'done in part'."""
    out = tmp_path / "run"
    extra = (
        "trainer.max_steps=6",
        "+callbacks.abort._target_=tests.test_faults.InterruptAt",
        "+callbacks.abort.step=3",
    )
    with pytest.raises(SystemExit) as stop:
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, *extra))
    assert stop.value.code == 130
    assert "interrupted: the steps since the last checkpoint are not saved" in caplog.text


def test_the_stop_line_names_the_run_folder_when_its_checkpoints_are_kept_elsewhere(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """callbacks.checkpoint.dirpath outside the run: the resume line named the checkpoints' parent as the run."""
    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere" / "ck"
    extra = (
        "trainer.max_steps=6",
        f"callbacks.checkpoint.dirpath={elsewhere}",
        "+callbacks.stop._target_=tests.test_faults.TerminateAt",
        "+callbacks.stop.step=3",
    )
    with pytest.raises(SystemExit) as stop:
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, *extra))
    assert stop.value.code == 143 and (elsewhere / "last.ckpt").is_file()
    assert f"ckpt_path=last output_dir={out}" in caplog.text  # (train() from Python: its own setting)
    # the HParams tab has the stopped run, with its last validation's figures (step 2's): it had none
    assert {"hp/total", "hp/style", "_hparams_/session_start_info"} <= _all_tags(out)


class TerminateAt(pl.Callback):
    """Test-only: SIGTERM (a scheduler's stop, or the first Ctrl-C as GracefulStop turns it) at step `step`."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, *args) -> None:
        if trainer.global_step == self.step:
            trainer._signal_connector.received_sigterm = True  # as its SIGTERM handler marks it


class TerminateAfterValidation(pl.Callback):
    """Test-only: SIGTERM once the validation at step `step` is done (the stop then comes after the step's end)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_validation_end(self, trainer: pl.Trainer, *args) -> None:
        if trainer.global_step == self.step and not trainer.sanity_checking:
            trainer._signal_connector.received_sigterm = True  # as its SIGTERM handler marks it


def test_a_stop_in_the_last_steps_validation_does_not_point_at_a_resume(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every step trained, its stop line said "to resume, ... ckpt_path=last", and that resume trained nothing. And
    the run's final image grid was missing (written at the run's end, which a stop never reaches)."""
    out = tmp_path / "run"
    stop = ("+callbacks.stop._target_=tests.test_faults.TerminateAfterValidation", "+callbacks.stop.step=2")
    stop += ("callbacks.images.every_n_steps=0",)  # (a grid at the run's end alone)
    with pytest.raises(SystemExit) as stopped:
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, "trainer.max_steps=2", *stop))
    assert stopped.value.code == 143 and "; to resume," not in caplog.text
    assert [p.name for p in (out / "images").iterdir()] == ["step_000002.png"]
    assert (
        f"stopped at step 2, the run's last (trainer.max_steps=2): checkpoint {out}/checkpoints/last.ckpt; nothi"
        in (caplog.text)
    )


def test_a_stop_before_the_first_step_writes_no_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop's grid is of the step it stopped at, none of the untrained network (step_000000.png, in a stop in
    the first batch of several a step takes, trainer.accumulate_grad_batches)."""
    from types import SimpleNamespace

    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from fast_style.training.image_grids import ImageLogger

    logged = []
    monkeypatch.setattr(ImageLogger, "log_grid", lambda self, trainer, module: logged.append(trainer.global_step))
    for step in (0, 3):
        ImageLogger().on_exception(SimpleNamespace(global_step=step), None, SIGTERMException())
    ImageLogger().on_exception(SimpleNamespace(global_step=4), None, ValueError("not a stop"))
    assert logged == [3]


@pytest.mark.parametrize("stop", ["TerminateAt", "TerminateAfterValidation"])
def test_a_run_stopped_at_a_validation_step_resumes_its_curves_in_step(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, stop: str
) -> None:
    """Its checkpoint was written once the step's counters had moved on: every point after the resume sat one
    step late (a gap in train/total, val/* a step off)."""
    out = tmp_path / "run"
    common = (
        "trainer.val_check_interval=4",
        "callbacks.checkpoint.every_n_train_steps=10",
    )
    step = 3 if stop == "TerminateAt" else 4  # asked during step 4 (index 3), or after its validation
    stop = (f"+callbacks.stop._target_=tests.test_faults.{stop}", f"+callbacks.stop.step={step}")
    with pytest.raises(SystemExit):
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, "trainer.max_steps=9", *common, *stop))
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 4
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, "trainer.max_steps=9", *common, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"))
    board.Reload()
    assert sorted({e.step for e in board.Scalars("train/total")}) == list(range(9))
    assert sorted({e.step for e in board.Scalars("val/total")}) == [3, 7, 8]  # and at the last step


def test_a_stop_in_the_batch_after_a_validation_resumes_in_step_with_accumulated_gradients(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """With 2 batches a step, the batch after a validation keeps the step count: its stop checkpoint was taken for
    one written after the validation, and the resumed curves sat one step early (step 1 twice, no step 5)."""
    out = tmp_path / "run"
    common = ("trainer.val_check_interval=4", "callbacks.checkpoint.every_n_train_steps=10")
    common += ("+trainer.accumulate_grad_batches=2", "trainer.max_steps=6")
    stop = ("+callbacks.stop._target_=tests.test_faults.TerminateAt", "+callbacks.stop.step=2")
    with pytest.raises(SystemExit):
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common, *stop))
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"))
    board.Reload()
    assert sorted(e.step for e in board.Scalars("train/total")) == list(range(6))
    assert sorted({e.step for e in board.Scalars("val/total")}) == [1, 3, 5]


def test_a_finished_run_continued_keeps_its_curves_in_step(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """The run's last step was a validation step (every shipped config's is): its final last.ckpt was written after
    the validation, and every point of the continued run sat one step late (train/total without step 4); its
    learning rate's first point still did (LearningRateMonitor read the count before it was set: step 5 twice)."""
    out = tmp_path / "run"
    common = ("trainer.val_check_interval=2", "callbacks.checkpoint.every_n_train_steps=10")
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, "trainer.max_steps=4", *common))
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, "trainer.max_steps=6", *common, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"))
    board.Reload()
    assert sorted({e.step for e in board.Scalars("train/total")}) == list(range(6))
    assert sorted(e.step for e in board.Scalars("train/lr")) == list(range(6))  # each step once
    assert sorted({e.step for e in board.Scalars("val/total")}) == [1, 3, 5]


def test_a_finished_run_continued_with_another_validation_interval_keeps_its_curves_in_step(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """A short run validates at its last step (before its interval), and the longer run that continues
    it has another interval: Lightning's restart then left the count of steps logged where it was, and every
    point of the continued run sat a step late (step 3 twice, no step 5)."""
    out = tmp_path / "run"
    first = ("trainer.max_steps=4", "trainer.val_check_interval=4", "callbacks.checkpoint.every_n_train_steps=10")
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *first))
    then = ("trainer.max_steps=6", "trainer.val_check_interval=6", "callbacks.checkpoint.every_n_train_steps=10")
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *then, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"))
    board.Reload()
    assert sorted(e.step for e in board.Scalars("train/total")) == list(range(6))  # each step once
    assert sorted(e.step for e in board.Scalars("val/total")) == [3, 5]


def test_a_stop_at_a_periodic_checkpoint_writes_it_once(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a scheduler's grace period every write counts: the stop's last.ckpt came on top of the periodic one."""
    written: list[tuple[str, int]] = []
    save = pl.Trainer.save_checkpoint

    def counted(trainer: pl.Trainer, path, *args, **kwargs):
        written.append((Path(path).name, trainer.global_step))
        return save(trainer, path, *args, **kwargs)

    monkeypatch.setattr(pl.Trainer, "save_checkpoint", counted)
    out = tmp_path / "run"
    extra = ("trainer.max_steps=9", "callbacks.checkpoint.every_n_train_steps=4")
    stop = ("+callbacks.stop._target_=tests.test_faults.TerminateAt", "+callbacks.stop.step=3")
    with pytest.raises(SystemExit):
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, *extra, *stop))
    assert [name for name, step in written if step == 4].count("last.ckpt") == 1, written


def test_a_run_killed_past_its_checkpoint_logs_the_steps_it_runs_again_once(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    """A kill after the last checkpoint: the resume ran those steps again, and TensorBoard held their points and
    grids twice (two val/images at one step). The stopped run's later points are dropped (purge_step)."""
    out = tmp_path / "run"
    common = ("trainer.val_check_interval=2", "callbacks.checkpoint.every_n_train_steps=3", "trainer.max_steps=8")
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common))
    for later in [*out.rglob("*=000008*"), *out.rglob("*=000007*"), out / "checkpoints" / "last.ckpt"]:
        later.unlink()  # as a kill at step 8 leaves it: its newest checkpoint at step 6, its points to step 7
    (out / "style.pt").unlink()
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    board.Reload()
    assert sorted(e.step for e in board.Scalars("train/total")) == list(range(8))  # each once
    assert sorted(e.step for e in board.Scalars("val/total")) == [1, 3, 5, 7]
    assert sorted(e.step for e in board.Images("val/images")) == [1, 3, 5, 7]


def test_a_sweeps_run_started_again_from_the_beginning_logs_its_steps_once(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep rerun with ckpt_path=last starts a run killed before its first checkpoint from the beginning, in its
    folder: TensorBoard held the killed launch's points and grids beside the new ones (steps 0 and 1 twice)."""
    out = tmp_path / "run"
    common = ("trainer.val_check_interval=2", "callbacks.checkpoint.every_n_train_steps=10", "trainer.max_steps=4")
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common))
    for written in [*out.rglob("*.ckpt"), *out.rglob("*.pt")]:
        written.unlink()  # as a kill at step 4 leaves it: no checkpoint yet, its points and grids to step 3
    monkeypatch.setattr("fast_style.runs.launch.in_multirun", lambda: True)  # (a sweep's run, as Hydra's -m starts it)
    monkeypatch.setattr("fast_style.runs.launch.swept_elsewhere", lambda hydra_dir: [])
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *common, "ckpt_path=last"))
    board = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    board.Reload()
    assert sorted(e.step for e in board.Scalars("train/total")) == list(range(4))  # each once
    assert sorted(e.step for e in board.Scalars("val/total")) == [1, 3]
    assert sorted(e.step for e in board.Images("val/images")) == [1, 3]
