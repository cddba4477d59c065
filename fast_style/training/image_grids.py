"""The grids a run logs as it trains: the held-out photos stylized beside their inputs, the painting below
(TensorBoard's val/images, and PNG files)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torchvision.utils import make_grid, save_image

from fast_style.atomic import atomic_write
from fast_style.numbers import check_number

log = logging.getLogger(__name__)


def _fit_into(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) -> (3, size, size): scaled to fit, centred on white."""
    h, w = image.shape[-2:]
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = F.interpolate(image[None], size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    canvas = torch.ones(3, size, size, dtype=image.dtype, device=image.device)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[:, top : top + nh, left : left + nw] = small
    return canvas


class ImageLogger(pl.Callback):
    """Every `every_n_steps` steps (and at the end) stylizes the fixed validation images and logs a grid:
    one row per image (input | stylized), a last row with the style image. Also saved as PNG in `dirpath`."""

    def __init__(self, every_n_steps: int = 200, num_images: int = 4, dirpath: str | None = None) -> None:
        super().__init__()
        # by every setting's rule (numpy's ints had been refused, and 2.5 a ValueError; -1 showed a photo fewer)
        self.every_n_steps = check_number(
            "callbacks.images.every_n_steps", every_n_steps, lambda v: v >= 0, "a whole number >= 0 (0: no grids)", True
        )
        self.num_images = check_number(
            "callbacks.images.num_images", num_images, lambda v: v >= 1, "a whole number >= 1", True
        )
        self.dirpath = Path(dirpath) if dirpath else None
        # a file there (or above it) failed the run at its first grid, after its first every_n_steps steps
        there = next((p for p in (self.dirpath, *self.dirpath.parents) if p.exists()), None) if dirpath else None
        if there is not None and not there.is_dir():
            raise ValueError(f"dirpath {dirpath} cannot be a folder: {there} is a file; give a folder for the grids")
        self.images: torch.Tensor | None = None
        self._last_logged = -1

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if datamodule is not None and hasattr(datamodule, "val_images"):
            self.images = datamodule.val_images(self.num_images)
            shown = len(self.images)
            if 0 < shown < self.num_images and trainer.is_global_zero:  # (it had shown fewer without a word)
                log.warning(
                    "callbacks.images.num_images=%d, but the grids show %d: the held-out photos there are "
                    "(data.num_val, or those of data.val_root); raise data.num_val for more",
                    self.num_images,
                    shown,
                )

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        # 0 before the first optimizer step (batches accumulated for it, a first step skipped as non-finite): no
        # grid of the untrained network (step_000000.png had been written)
        step = trainer.global_step
        if self.every_n_steps > 0 and step > 0 and step % self.every_n_steps == 0:
            self.log_grid(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.log_grid(trainer, pl_module)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """A run stopped (Ctrl-C, SIGTERM: GracefulStop) ends here, not in on_train_end: its step's grid, beside the
        checkpoint and style model the stop writes (a stop in the run's last step had no final grid). None of the
        untrained network (a stop in the first step's first batch of several, trainer.accumulate_grad_batches)."""
        if isinstance(exception, SIGTERMException) and trainer.global_step > 0:
            self.log_grid(trainer, pl_module)

    @torch.no_grad()
    def log_grid(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = trainer.global_step
        if not trainer.is_global_zero or self.images is None or len(self.images) == 0 or step == self._last_logged:
            return
        self._last_logged = step
        was_training = pl_module.training
        pl_module.eval()
        inputs = self.images.to(pl_module.device)
        stylized = pl_module(inputs).float().clamp(0, 1)
        pl_module.train(was_training)
        size = inputs.shape[-1]
        tiles = [t for pair in zip(inputs, stylized) for t in pair]
        style = _fit_into(pl_module.style_image[0].float(), size)
        tiles += [style, torch.ones_like(style)]
        grid = make_grid(torch.stack(tiles).cpu(), nrow=2, padding=2, pad_value=1.0)  # (3, H', W')
        for logger in trainer.loggers:  # at the step Lightning logs this step's points at (train/*, val/*): the
            if isinstance(logger, TensorBoardLogger):  # grid after 10 steps sat at 10, their validation at 9
                logger.experiment.add_image("val/images", grid, global_step=max(step - 1, 0))
        if self.dirpath:
            path = self.dirpath / f"step_{step:06d}.png"
            with atomic_write(path) as tmp:
                save_image(grid, tmp, format="png")
