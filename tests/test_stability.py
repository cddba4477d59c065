"""The flicker figure: exact on stylizers whose answer is known, and it ranks a noisy stylizer above a stable one."""

import pytest
import torch

from fast_style.evaluation.stability import PAN, aligned_difference, pan_clip, stability


def _photo(seed: int = 0, size: tuple[int, int] = (300, 400)) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, size[0] // 10, size[1] // 10, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False)


def test_undoing_the_known_motion_leaves_only_the_noise() -> None:
    clean = pan_clip(_photo(), noise=0.0)
    assert clean.shape == (8, 3, 256, 256)
    assert aligned_difference(clean) == pytest.approx(0.0, abs=1e-7)  # the crop undoes the pan exactly
    assert aligned_difference(clean, pan=PAN + 1) > 0.01  # and a wrong shift does not
    noisy = pan_clip(_photo(), noise=0.01)
    # two independent N(0, 0.01) per pixel: E|a - b| = 0.01 * 2 / sqrt(pi)
    assert aligned_difference(noisy) == pytest.approx(0.01 * 2 / torch.pi**0.5, rel=0.05)


def test_small_photos_are_enlarged_to_hold_the_whole_pan() -> None:
    assert pan_clip(_photo(size=(120, 90)), frames=4, size=64).shape == (4, 3, 64, 64)


def test_ratio_is_one_for_the_identity_zero_for_a_constant_and_high_for_jitter() -> None:
    photos = [_photo(0), _photo(1)]
    assert stability(lambda x: x, photos).ratio == pytest.approx(1.0)
    assert stability(lambda x: torch.full_like(x, 0.5), photos).ratio == 0.0
    gen = torch.Generator().manual_seed(0)
    jitter = stability(lambda x: (x + 0.05 * torch.randn(x.shape, generator=gen)).clamp(0, 1), photos)
    assert jitter.ratio > 3 and jitter.photo == pytest.approx(0.0113, rel=0.05)
    blur = stability(lambda x: torch.nn.functional.avg_pool2d(x, 5, 1, 2, count_include_pad=False), photos)
    assert blur.ratio < 0.5  # averaging the noise away is more stable than the input


def test_zoom_clips_are_undone_by_resampling_and_rank_like_pans() -> None:
    from fast_style.evaluation.stability import ZOOM, zoom_clip, zoomed_difference

    clean = zoom_clip(_photo(), noise=0.0)
    assert clean.shape == (8, 3, 256, 256)
    undone = zoomed_difference(clean)
    assert undone < 0.005 and zoomed_difference(clean, zoom=1.0) > 5 * undone  # not undoing it is far worse
    assert zoomed_difference(clean, zoom=1 / ZOOM) > 5 * undone  # and so is undoing it the wrong way
    photos = [_photo(0), _photo(1)]
    assert stability(lambda x: x, photos, motion="zoom").ratio == pytest.approx(1.0)
    gen = torch.Generator().manual_seed(0)
    jitter = stability(lambda x: (x + 0.05 * torch.randn(x.shape, generator=gen)).clamp(0, 1), photos, motion="zoom")
    assert jitter.ratio > 3
    with pytest.raises(ValueError, match="pan or zoom"):
        stability(lambda x: x, photos, motion="tilt")
