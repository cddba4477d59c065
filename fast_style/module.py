"""The LightningModule that joins the transform network and the perceptual loss."""

from __future__ import annotations

import logging
import math

import pytorch_lightning as pl
import torch

from fast_style.data import Batch
from fast_style.files import UserError
from fast_style.loss import PerceptualLoss
from fast_style.network import TransformerNet

log = logging.getLogger(__name__)

LR_SCHEDULES = ("constant", "cosine")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class StyleTransferModule(pl.LightningModule):
    """Trains `network` to minimise `loss` against one style image, (1, 3, H, W) in [0, 1].

    `lr_schedule`: "constant" (the paper) or "cosine" decay to `lr * lr_min_ratio` over `trainer.max_steps`.
    `on_nonfinite`: a NaN/inf training loss "stop"s the run (the last checkpoint stays good) or "skip"s the step.
    `compile`: torch.compile the network and the loss for training steps (2.1x with bf16 on a 2-core CPU, see
    benchmarks/README.md; the first steps take longer while it compiles): true, or one of torch.compile's
    modes ("reduce-overhead" adds CUDA graphs on a GPU). Checkpoints are unaffected.
    On a GPU, Adam runs fused (one kernel for all parameters).
    """

    def __init__(
        self,
        network: TransformerNet,
        loss: PerceptualLoss,
        style_image: torch.Tensor,
        lr: float = 1e-3,
        lr_schedule: str = "constant",
        lr_min_ratio: float = 0.1,
        on_nonfinite: str = "stop",
        compile: bool | str = False,
    ) -> None:
        super().__init__()
        if lr_schedule not in LR_SCHEDULES:
            raise UserError(f"unknown module.lr_schedule '{lr_schedule}': choose one of {', '.join(LR_SCHEDULES)}")
        if on_nonfinite not in ("stop", "skip"):
            raise UserError(f"unknown module.on_nonfinite '{on_nonfinite}': choose stop or skip")
        if not isinstance(compile, bool) and compile not in COMPILE_MODES:
            raise UserError(f"unknown module.compile '{compile}': choose true, false or one of {', '.join(COMPILE_MODES)}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
            raise UserError(f"module.lr must be a number > 0, got {lr!r}")
        self.save_hyperparameters(ignore=["network", "loss", "style_image"], logger=False)
        self.network = network
        self.loss = loss
        self.register_buffer("style_image", style_image, persistent=False)
        self.skipped_images = 0
        # plain functions, not submodules: compiling changes nothing in state_dict or checkpoints
        self.network_fn, self.loss_fn = self.network.forward, self.loss.forward

    def configure_model(self) -> None:
        if self.hparams.compile:
            mode = None if self.hparams.compile is True else self.hparams.compile
            self.network_fn = torch.compile(self.network.forward, mode=mode)
            self.loss_fn = torch.compile(self.loss.forward, mode=mode)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Inference: (B, 3, H, W) in [0, 1] -> stylized (B, 3, H, W) in [0, 1]."""
        return self.network(images)

    def on_fit_start(self) -> None:
        self.loss.set_style(self.style_image)  # on the training device, once

    def _shared_step(self, batch: Batch, stage: str) -> torch.Tensor | None:
        images, skipped = batch
        if stage == "train" and skipped:
            self.skipped_images += skipped
            self.log("train/skipped_images", float(self.skipped_images), on_step=True, on_epoch=False)
        if images.numel() == 0:
            return None  # every file of this batch was unreadable: Lightning skips the step
        terms = self.loss_fn(self.network_fn(images), images)
        train = stage == "train"
        if train and not torch.isfinite(terms["total"]):
            if self.hparams.on_nonfinite == "skip":
                log.warning("non-finite loss at step %d: step skipped", self.global_step)
                return None
            raise UserError(
                f"the loss became {terms['total'].item()} at step {self.global_step}: stopped; the last checkpoint "
                "is intact (lower module.lr, or set module.on_nonfinite=skip)"
            )
        self.log_dict(
            {f"{stage}/{name}": value for name, value in terms.items()},
            on_step=train, on_epoch=not train, prog_bar=False, batch_size=len(images), sync_dist=not train,
        )
        if train:
            self.log("loss", terms["total"], prog_bar=True, logger=False, batch_size=len(images))
        return terms["total"]

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor | None:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._shared_step(batch, "val")

    def on_train_end(self) -> None:
        if self.skipped_images:
            log.warning("%d unreadable images were skipped during training (named in the warnings above)",
                        self.skipped_images)

    def configure_optimizers(self):
        # one kernel for every parameter's update (Lightning refuses it with fp16's gradient scaling and clipping)
        fused = self.device.type == "cuda" and str(self.trainer.precision) not in ("16-mixed", "16")
        optimizer = torch.optim.Adam(self.network.parameters(), lr=self.hparams.lr, fused=fused)
        total = max(1, int(self.trainer.max_steps)) if self.trainer.max_steps and self.trainer.max_steps > 0 else None
        if self.hparams.lr_schedule == "cosine" and total is None:
            raise UserError("module.lr_schedule=cosine needs trainer.max_steps")
        floor = self.hparams.lr_min_ratio

        def factor(step: int) -> float:
            if self.hparams.lr_schedule == "constant":
                return 1.0
            t = min(step, total) / total
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "name": "train/lr"}}
