"""Fault injection: training killed (SIGKILL) or interrupted (SIGINT) resumes with nothing lost but the last steps."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from fast_style.network import load_style_model

REPO = Path(__file__).resolve().parents[1]


def _command(out: Path, photo_dir: Path, style_path: Path, vgg: Path, steps: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "fast_style.train", "model=tiny", "loss=file", f"loss.weights={vgg}",
        f"data.root={photo_dir}", "data.image_size=32", "data.batch_size=2", "data.num_workers=0", "data.num_val=2",
        f"style.image={style_path}", "style.size=48", f"hydra.run.dir={out}", f"trainer.max_steps={steps}",
        "trainer.val_check_interval=5", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu",
        "callbacks.checkpoint.every_n_train_steps=3", "callbacks.images.every_n_steps=0", *extra,
    ]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.time() + timeout
    while not path.exists():
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
    out = tmp_path / "run"
    total = 400
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(0)
    for attempt in range(3):
        cmd = _command(out, photo_dir, style_path, random_vgg, total, *(["ckpt_path=last"] if attempt else []))
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_for(out / "checkpoints" / "last.ckpt", proc)
        time.sleep(rng.uniform(0.3, 2.0))  # somewhere in the middle of training, maybe mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        steps = _all_checkpoints_load(out / "checkpoints")
        assert steps and max(steps) < total
    done = subprocess.run(_command(out, photo_dir, style_path, random_vgg, total, "ckpt_path=last"), cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == total
    assert load_style_model(str(out / "style.pt"))[1]["step"] == total


@pytest.mark.slow
def test_ctrl_c_writes_a_checkpoint_and_style_model(tmp_path: Path, photo_dir: Path, style_path: Path,
                                                    random_vgg: Path) -> None:
    out = tmp_path / "run"
    cmd = _command(out, photo_dir, style_path, random_vgg, 100000)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(out / "checkpoints" / "last.ckpt", proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    err, _ = proc.communicate(timeout=120)  # Hydra logs to stdout
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    step = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert step > 3  # the stop wrote a newer checkpoint than the periodic one
    assert load_style_model(str(out / "style.pt"))[1]["step"] == step
    assert f"stopped at step {step}" in err
