"""Coverage: the share of a picture whose texture moved toward the painting's.

The picture is cut into a GRID x GRID grid of cells. In each cell the spread (standard deviation) of every
VGG relu3_3 feature channel, texture at the scale of a brush stroke, is compared with that of the whole
painting: distance = |cell spread - painting spread|^2 / |painting spread|^2. A cell is *covered* when the
stylized picture's distance is at most RATIO times the photo's. The photo itself covers nothing; a few
saturated blobs over an unchanged photo cover next to nothing; a network that paints the whole picture covers
nearly every cell. Means are left out on purpose: a colour cast over an unchanged photo is not a style (with
them, tinting a photo halfway to the painting's mean colour covered up to 0.7; without, 0.08 to 0.40, against
0.74 to 0.93 for the zoo's models: benchmarks/README.md, scripts/coverage_calibration.py). Losses cannot tell
these cases apart: Gram matrices are averages over the whole picture.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LAYER = "relu3_3"
GRID = 8
RATIO = 0.8


def channel_spread(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> each channel's standard deviation over the whole picture, (B, C)."""
    return features.float().flatten(2).var(2, unbiased=False).sqrt()


def cell_spread(features: torch.Tensor, grid: int = GRID) -> torch.Tensor:
    """(B, C, H, W) -> each channel's standard deviation inside each cell of a grid x grid grid, (B, C, gh, gw).
    Small maps get fewer cells (each at least 4 x 4 features: a spread needs some pixels to measure)."""
    f = features.float()
    cells = (max(1, min(grid, f.shape[-2] // 4)), max(1, min(grid, f.shape[-1] // 4)))
    mean = F.adaptive_avg_pool2d(f, cells)
    return (F.adaptive_avg_pool2d(f * f, cells) - mean * mean).clamp_min(0).sqrt()


def style_distance(features: torch.Tensor, style_spread: torch.Tensor, grid: int = GRID) -> torch.Tensor:
    """features (B, C, H, W), style_spread (C,) or (1, C) -> per-cell relative distance, (B, gh, gw)."""
    s = style_spread.reshape(1, -1, 1, 1).float()
    return (cell_spread(features, grid) - s).pow(2).sum(1) / s.pow(2).sum().clamp_min(1e-12)


def coverage(
    photo: torch.Tensor, stylized: torch.Tensor, style_spread: torch.Tensor, grid: int = GRID, ratio: float = RATIO
) -> torch.Tensor:
    """photo, stylized: relu3_3 features (B, C, H, W); style_spread: `channel_spread` of the painting's.
    Returns the share of cells where the stylized picture's (squared) distance to the painting's texture is at
    most `ratio` times the photo's, sqrt(ratio) times as far (0.89 for 0.8): (B,) in [0, 1]."""
    before = style_distance(photo, style_spread, grid)
    after = style_distance(stylized, style_spread, grid)
    return (after <= ratio * before).float().mean((1, 2))
