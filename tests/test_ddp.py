"""Lightning's DDP by config: two CPU processes (gloo) train a few steps."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from .conftest import tiny_run

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "fast_style.cli.train",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_steps=2",
        "trainer.val_check_interval=2",
        "trainer.enable_progress_bar=false",
        *tiny_run(photo_dir, style_path, random_vgg),
        f"hydra.run.dir={out}",
        "callbacks.images.every_n_steps=1",
        "+callbacks.probe._target_=tests.probes.RecordBatches",
        "data._target_=tests.probes.FirstBatchUnreadableOnRank1",
        f"+callbacks.probe.dirpath={tmp_path / 'probe'}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # rank 1's first batch is all unreadable files: a rank that skipped its step would leave rank 0 waiting
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = [set((tmp_path / "probe" / f"rank{r}.txt").read_text().split()) for r in (0, 1)]
    assert len(seen[0]) == 4  # 2 steps x batch 2: rank 0's share of one epoch of the 8 photos
    assert len(seen[1]) == 2  # its first batch was empty
    assert not seen[0] & seen[1]  # each rank trains on its own share of the data
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 2
    assert sorted(p.name for p in out.glob("*.pt")) == ["style.pt"]
    assert len(list((out / "tensorboard").glob("events.out.tfevents.*"))) == 1  # rank 0 logs alone
    # the unreadable files are counted once for the whole run (each rank said its own count: 1 and 2), on rank 0
    said = proc.stdout + proc.stderr
    assert said.count("unreadable images were skipped") == 1 and "2 unreadable images were skipped" in said
    assert sorted(p.name for p in (out / "images").glob("*.png")) == ["step_000001.png", "step_000002.png"]
