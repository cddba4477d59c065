"""Training entry point: `fast-style-train` (Hydra). `train(cfg)` is usable without the command line."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pytorch_lightning.loggers import TensorBoardLogger

from fast_style.files import CONFIG_DIR, UserError, native_bf16
from fast_style.module import StyleTransferModule

log = logging.getLogger(__name__)

# `trainer.precision: ${best_precision:}`: bf16 mixed precision where the hardware has it, else fp32
OmegaConf.register_new_resolver(
    "best_precision", lambda: "bf16-mixed" if native_bf16() else "32-true", replace=True
)
# the frozen VGG is in eval mode on purpose
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")



def train(cfg: DictConfig) -> Path | None:
    """Train one style network as `cfg` says; returns the path of the style model it wrote."""
    if OmegaConf.is_missing(cfg.style, "image"):
        raise UserError("no style image: add style.image=path/to/painting.jpg")
    pl.seed_everything(cfg.seed, workers=True)
    out = Path(cfg.output_dir)
    datamodule = instantiate(cfg.data)
    network = instantiate(cfg.model)
    loss = instantiate(cfg.loss)
    style_image = instantiate(cfg.style)
    module = StyleTransferModule(network, loss, style_image, **cfg.module)
    callbacks = [instantiate(c) for c in cfg.callbacks.values() if c is not None]
    logger = TensorBoardLogger(save_dir=str(out), name="tensorboard", version="", default_hp_metric=False)
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=logger, default_root_dir=str(out))
    logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    style = OmegaConf.select(cfg, "callbacks.style_model.path")
    style_path = Path(style) if style else None
    if trainer.is_global_zero:
        log.info("style model: %s", style_path or "not written (callbacks.style_model is off)")
        log.info("TensorBoard: tensorboard --logdir %s", out / "tensorboard")
    return style_path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    try:
        train(cfg)
    except (UserError, OmegaConfBaseException) as e:
        log.error("error: %s", str(e).strip().splitlines()[0])
        sys.exit(1)


def main() -> None:
    _hydra_main()


if __name__ == "__main__":
    main()
