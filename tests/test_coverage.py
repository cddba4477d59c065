"""Coverage: low for an unchanged, tinted or blotched photo, high where the texture changed everywhere."""

from pathlib import Path

import pytest
import torch

from fast_style.perceptual import coverage
from fast_style.perceptual.loss import PerceptualLoss


def _features(seed: int, spread: float, shape=(1, 16, 64, 64)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 1.0 + spread * torch.randn(shape, generator=g)


def test_texture_changed_everywhere_covers_all_cells_and_nothing_else_does() -> None:
    photo = _features(0, 0.1)  # a smooth photo: little spread
    style = coverage.channel_spread(_features(1, 1.0))  # the painting: much spread
    painted = _features(2, 1.0)
    assert coverage.coverage(photo, painted, style).item() == 1.0
    assert coverage.coverage(photo, photo, style).item() == 0.0  # the photo itself
    assert coverage.coverage(photo, photo + 0.5, style).item() == 0.0  # a colour cast moves means only


def test_a_few_blobs_cover_only_their_cells() -> None:
    photo = _features(0, 0.1)
    style = coverage.channel_spread(_features(1, 1.0))
    blotched = photo.clone()
    blotched[..., :16, :16] = _features(3, 1.0, (1, 16, 16, 16))  # textured in 2x2 of the 8x8 cells
    assert coverage.coverage(photo, blotched, style).item() == pytest.approx(4 / 64)
    half = photo.clone()
    half[..., :, :32] = _features(4, 1.0, (1, 16, 64, 32))
    assert coverage.coverage(photo, half, style).item() == pytest.approx(0.5)


def test_coverage_is_per_picture_and_works_on_small_maps() -> None:
    photo = _features(0, 0.1, (2, 8, 9, 13))  # fewer cells on small maps (2 x 3 here), each still 4 x 4 or more
    style = coverage.channel_spread(_features(1, 1.0, (1, 8, 9, 9)))
    stylized = torch.cat([photo[:1], _features(2, 1.0, (1, 8, 9, 13))])
    assert coverage.cell_spread(photo).shape == (2, 8, 2, 3)
    result = coverage.coverage(photo, stylized, style)
    assert result.shape == (2,) and result[0] == 0 and result[1] > 0.9


def test_perceptual_loss_reports_coverage_of_its_style(random_vgg: Path) -> None:
    loss = PerceptualLoss(weights=str(random_vgg))
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    photo = torch.stack([xx, yy, (xx + yy) / 2])[None]  # smooth gradients
    stripes = (torch.sin(xx * 60) > 0).float()
    style = torch.stack([stripes, 1 - stripes, stripes])[None]
    loss.set_style(style)
    with pytest.raises(RuntimeError):
        PerceptualLoss(weights=str(random_vgg)).coverage(photo, photo)
    assert loss.coverage(photo, photo).item() == 0.0
    assert loss.coverage(torch.cat([style, style]), torch.cat([photo, photo])).tolist() == [1.0, 1.0]
