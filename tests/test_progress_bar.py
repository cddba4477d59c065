"""What the training progress bar shows."""

import re
from pathlib import Path

import pytest

from fast_style.training.train import train

from .test_train import tiny_cfg


@pytest.mark.slow
def test_a_run_resumed_mid_epoch_shows_its_epoch_and_steps_to_go(
    tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path, capfd: pytest.CaptureFixture
) -> None:
    """Lightning sets its bar up at an epoch's start, which a run resumed mid-epoch (a stop's checkpoint) does not
    go through: the bar said `Training: 3/?`, without its epoch, total or time left."""
    out = tmp_path / "run"
    bar = ("trainer.enable_progress_bar=true", "callbacks.progress_bar.refresh_rate=1", "trainer.max_steps=3")
    stop = ("+callbacks.stop._target_=tests.test_faults.TerminateAt", "+callbacks.stop.step=1")
    with pytest.raises(SystemExit):
        train(tiny_cfg(out, photo_dir, style_path, random_vgg, *bar, *stop))
    capfd.readouterr()
    train(tiny_cfg(out, photo_dir, style_path, random_vgg, *bar, "ckpt_path=last"))  # resumed at step 2 of 4
    shown = capfd.readouterr().out
    assert "Epoch 0: 100%" in shown and " 3/3 [" in shown, shown[-2000:]
    assert not re.search(r"\b[1-9][0-9]*/\?", shown), shown[-2000:]  # (0/? before the first step, as in any run)


def test_a_run_that_fails_mid_training_ends_its_bars_line(
    tmp_path: Path,
    photo_dir: Path,
    style_path: Path,
    random_vgg: Path,
    capfd: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run stopped by an error (a loss gone NaN) left its bar mid-line on stdout: fast-style-train began every
    `error: ...` with a blank line to get past it, a bar shown or not. The bar's line is ended as at a run's end."""
    import torch

    from fast_style.errors import UserError
    from fast_style.perceptual.loss import PerceptualLoss

    forward, calls = PerceptualLoss.forward, []

    def nan_at_step_2(self, stylized, content, common=False):
        terms = forward(self, stylized, content, common)
        if torch.is_grad_enabled():
            calls.append(1)
            if len(calls) == 2:
                terms["total"] = terms["total"] * float("nan")
        return terms

    monkeypatch.setattr(PerceptualLoss, "forward", nan_at_step_2)
    bar = ("trainer.enable_progress_bar=true", "callbacks.progress_bar.refresh_rate=1", "trainer.max_steps=4")
    with pytest.raises(UserError, match="the loss became nan"):
        train(tiny_cfg(tmp_path / "run", photo_dir, style_path, random_vgg, *bar))
    shown = capfd.readouterr().out
    assert "Epoch 0:" in shown and shown.endswith("\n"), shown[-2000:]
