"""Lightning callbacks: image grids for TensorBoard, and standalone style models beside the checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.loggers import TensorBoardLogger
from torchvision.utils import make_grid, save_image

from fast_style.network import save_style_model


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
        self.every_n_steps = every_n_steps
        self.num_images = num_images
        self.dirpath = Path(dirpath) if dirpath else None
        self.images: torch.Tensor | None = None
        self._last_logged = -1

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if datamodule is not None and hasattr(datamodule, "val_images"):
            self.images = datamodule.val_images(self.num_images)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self.log_grid(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
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
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("val/images", grid, global_step=step)
        if self.dirpath:
            self.dirpath.mkdir(parents=True, exist_ok=True)
            save_image(grid, self.dirpath / f"step_{step:06d}.png")


class StyleModelWriter(pl.Callback):
    """Writes the standalone style model (network hyper-parameters + weights, a few MB): beside each checkpoint
    as `<checkpoint dir>/style-step=N.pt`, and at the end of training as `path`."""

    def __init__(self, path: str, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.meta = dict(meta or {})

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, path: Path) -> None:
        if trainer.is_global_zero:
            save_style_model(pl_module.network, path, {**self.meta, "step": trainer.global_step})

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        ckpt_dir = trainer.checkpoint_callback.dirpath if trainer.checkpoint_callback else None
        folder = Path(ckpt_dir) if ckpt_dir else self.path.parent
        self._write(trainer, pl_module, folder / f"style-step={trainer.global_step:06d}.pt")

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._write(trainer, pl_module, self.path)
