"""A test that fails when learning breaks: a short real training run must move held-out photos toward the
style across most of each picture, not in a few spots, and lower their style loss."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model
from fast_style.perceptual.loss import PerceptualLoss
from fast_style.perceptual.style_image import load_style_image
from fast_style.runs.config import compose
from fast_style.training.train import train

from .conftest import make_photo


def _stripes(path: Path, size: int = 96) -> Path:
    """A colourful, high-contrast painting: diagonal stripes of saturated colours."""
    yy, xx = np.mgrid[0:size, 0:size]
    band = ((xx + yy) // 6) % 3
    palette = np.array([[230, 40, 40], [250, 210, 30], [30, 60, 200]], dtype=np.uint8)
    Image.fromarray(palette[band], "RGB").save(path)
    return path


@pytest.mark.slow
def test_a_short_run_paints_the_whole_picture(tmp_path: Path, random_vgg: Path) -> None:
    photos, held_out = tmp_path / "photos", tmp_path / "held_out"
    for i in range(12):
        make_photo((photos if i < 9 else held_out) / f"p{i}.png", size=(72 + 4 * i, 64), seed=i)
    style = _stripes(tmp_path / "stripes.png")
    cfg = compose(
        [
            "model=small",
            "loss=file",
            f"loss.weights={random_vgg}",
            f"data.root={photos}",
            "data.image_size=48",
            "data.batch_size=4",
            "data.num_workers=0",
            "data.num_val=1",
            f"style.image={style}",
            "style.size=96",
            "module.lr=3e-3",
            "trainer.accelerator=cpu",
            "trainer.precision=32-true",
            "trainer.max_steps=120",
            "trainer.val_check_interval=60",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
            "callbacks.images.every_n_steps=0",
            f"output_dir={tmp_path / 'run'}",
        ]
    )
    trained, _ = load_style_model(str(train(cfg)))
    torch.manual_seed(0)
    untrained = TransformerNet(**trained.config).eval()

    settings = {k: v for k, v in cfg.loss.items() if k not in ("_target_", "weights")}
    loss = PerceptualLoss(weights=str(random_vgg), **settings)
    loss.set_style(load_style_image(str(style), 96))
    with torch.no_grad():
        photo = (
            torch.stack(
                [
                    torch.from_numpy(np.array(Image.open(p).convert("RGB").resize((64, 64))))
                    for p in sorted(held_out.iterdir())
                ]
            )
            .permute(0, 3, 1, 2)
            .float()
            / 255
        )
        before, after = untrained(photo), trained(photo)
        style_before, style_after = loss(before, photo)["style"], loss(after, photo)["style"]
        covered = loss.coverage(after, photo)
    assert style_after < 0.5 * style_before, (style_before, style_after)
    assert covered.mean() > 0.7 and covered.min() >= 0.5, covered  # most of every held-out picture, not a few spots
