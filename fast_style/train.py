"""Training entry point: `fast-style-train` (Hydra). `train(cfg)` is usable without the command line."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
import types
import typing
import warnings
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pytorch_lightning.callbacks import ProgressBar
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from fast_style.callbacks import GracefulStop, HParamsSummary
from fast_style.files import CONFIG_DIR, UserError, atomic_write, native_bf16
from fast_style.module import StyleTransferModule

log = logging.getLogger(__name__)

# `trainer.precision: ${best_precision:}`: bf16 mixed precision where the hardware has it, else fp32
OmegaConf.register_new_resolver(
    "best_precision", lambda: "bf16-mixed" if native_bf16() else "32-true", replace=True
)
# `style.size: ${mul:${data.image_size},2}`: the style's texture scale follows the training crops
OmegaConf.register_new_resolver("mul", lambda a, b: int(a * b), replace=True)
# the frozen VGG is in eval mode on purpose
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")



def train(cfg: DictConfig) -> Path | None:
    """Train one style network as `cfg` says; returns the path of the style model it wrote."""
    if OmegaConf.is_missing(cfg.style, "image"):
        raise UserError("no style image: add style.image=path/to/painting.jpg")
    if not isinstance(cfg.seed, int):
        raise UserError(f"seed must be an integer, got {cfg.seed!r}")
    ckpt = cfg.ckpt_path
    if ckpt is not None and ckpt not in ("last", "best", "hpc", "registry") and not Path(ckpt).expanduser().is_file():
        raise UserError(f"checkpoint '{ckpt}' not found: pass a .ckpt path, or ckpt_path=last with the run's "
                        "hydra.run.dir")
    last = OmegaConf.select(cfg, "callbacks.checkpoint.dirpath")
    if ckpt == "last" and last and not (Path(last) / "last.ckpt").is_file():
        raise UserError(f"ckpt_path=last: no {Path(last) / 'last.ckpt'}: set hydra.run.dir to the folder of the run "
                        "to resume (nothing was trained)")
    for group in ("data", "model", "loss", "style", "trainer"):
        check_types(cfg[group], group)
    check_types(cfg.module, "module", StyleTransferModule)
    if ckpt is not None:  # resuming into the run's own folder: its checkpoints are expected there
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
    pl.seed_everything(cfg.seed, workers=True)
    out = Path(cfg.output_dir)
    keep_launch_config(out / ".hydra")
    datamodule = instantiate(cfg.data)
    network = instantiate(cfg.model)
    loss = instantiate(cfg.loss)
    style_image = instantiate(cfg.style)
    try:
        module = StyleTransferModule(network, loss, style_image, **cfg.module)
    except TypeError as e:  # an unknown key (+module.x=...) or a value of the wrong type
        raise UserError(f"bad setting under module: {e}") from None
    callbacks = [instantiate(c) for c in cfg.callbacks.values() if c is not None]
    if OmegaConf.select(cfg, "trainer.enable_progress_bar") is False:  # Lightning refuses a bar that is off
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    callbacks.append(HParamsSummary(OmegaConf.to_container(cfg, resolve=True)))  # the HParams tab
    logger = TensorBoardLogger(save_dir=str(out), name="tensorboard", version="", default_hp_metric=False)
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=logger, default_root_dir=str(out))
    logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt)
    except RuntimeError as e:  # a checkpoint of another network shape (model.* differs from that run's)
        if "Error(s) in loading state_dict" not in str(e):
            raise
        raise UserError(f"checkpoint {ckpt} holds a network of other settings than model.* here: resume with the "
                        "same model overrides as that run") from None
    except SIGTERMException:  # stopped by Ctrl-C/SIGTERM after writing a checkpoint: not a finished run
        stop = next((c for c in callbacks if isinstance(c, GracefulStop)), None)
        raise SystemExit(stop.exit_code if stop else 128 + signal.SIGTERM) from None
    except Exception:
        launcher = trainer.strategy.launcher  # DDP: an error on rank 0 alone must not leave the other ranks waiting
        if trainer.is_global_zero and callable(getattr(launcher, "kill", None)):
            launcher.kill(signal.SIGKILL)
        raise
    style = OmegaConf.select(cfg, "callbacks.style_model.path")
    style_path = Path(style) if style else None
    if trainer.is_global_zero:
        log.info("style model: %s", style_path or "not written (callbacks.style_model is off)")
        log.info("TensorBoard: tensorboard --logdir %s", out / "tensorboard")
    return style_path


def keep_launch_config(hydra_dir: Path) -> None:
    """Hydra rewrites .hydra/config.yaml and overrides.yaml each time a folder is used (a resume): keep each
    launch's copy in .hydra/launches/ so that the settings a run was started with are never lost."""
    if not (hydra_dir / "config.yaml").is_file() or rank_zero_only.rank != 0:
        return  # train(cfg) called without Hydra's command line, or a DDP rank other than 0
    stamp = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}-{os.getpid()}"
    for name in ("config.yaml", "overrides.yaml"):
        if (hydra_dir / name).is_file():
            target = hydra_dir / "launches" / f"{stamp}-{name}"
            with atomic_write(target) as tmp:
                tmp.write_bytes((hydra_dir / name).read_bytes())


_FULL_ERROR: dict = {"on": False, "failed": []}  # set by main(): whether to re-raise, and the failed runs


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    from hydra.errors import InstantiationException

    try:
        train(cfg)
    except (UserError, InstantiationException, OmegaConfBaseException) as e:  # also recorded in the run's log
        if _FULL_ERROR["on"]:
            raise
        message = one_line(e, sys.argv[1:])
        log.error("error: %s", message)
        if HydraConfig.get().mode != RunMode.MULTIRUN:
            sys.exit(1)
        _FULL_ERROR["failed"].append(f"#{HydraConfig.get().job.num}: {message}")  # as Hydra numbers the runs


def _keys_under(parent: str, overrides: list[str]) -> list[str]:
    """The settings a config node has, composed with the command line's other overrides."""
    from hydra import compose, initialize_config_dir

    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose("train", overrides=overrides)
        node = OmegaConf.select(cfg, parent) if parent else cfg
        return sorted(str(k) for k in node) if isinstance(node, DictConfig) else []
    except Exception:  # the other overrides have mistakes too: name no keys rather than fail here
        return []


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "text", type(None): "null"}


def check_types(node: DictConfig, where: str, target: Any = None) -> None:
    """UserError for a setting whose value does not fit its constructor argument's simple annotation
    (int, float, bool, str, None and unions of them), e.g. `data.batch_size=abc`, before anything is built."""
    target = target or get_object(node["_target_"])
    try:
        hints = typing.get_type_hints(target.__init__ if isinstance(target, type) else target)
    except Exception:  # annotations this Python cannot resolve: leave the checks to the constructor
        return
    for key, value in node.items():
        hint = hints.get(str(key))
        kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
            else (hint,)
        if hint is None or not all(k in _KINDS for k in kinds) or isinstance(value, (DictConfig, ListConfig)):
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = any(isinstance(value, k) and not (k is not bool and isinstance(value, bool)) for k in kinds) or (
            number and (float in kinds or str in kinds))  # data.root=2024 is a folder name Hydra read as a number
        if not fits:
            wanted = " or ".join(_KINDS[k] for k in kinds if not (k is int and float in kinds))
            raise UserError(f"{where}.{key} must be {wanted}, got {value!r}")


def one_line(error: BaseException, argv: list[str]) -> str:
    """A user's configuration mistake, as Hydra, OmegaConf or our constructors report it, in one line."""
    from hydra.errors import ConfigCompositionException, InstantiationException, MissingConfigException

    cause = error.__cause__
    if isinstance(error, InstantiationException):
        if isinstance(cause, UserError):
            return str(cause)
        where = re.search(r"full_key: (\S+)", str(error))
        return f"bad setting under {where.group(1) if where else 'the config'}: {cause or error}"
    if isinstance(error, MissingConfigException) and error.options:
        group = re.search(r"'([\w/]+)/([^/']+)'", str(error))
        name = f"{group.group(1)} option '{group.group(2)}'" if group else "config option"
        return f"unknown {name}: choose one of {', '.join(sorted(error.options))}"
    if isinstance(error, ConfigCompositionException):
        bad = re.search(r"Could not override '([^']+)'", str(error))
        if bad and "not in struct" in str(cause or error):
            key = bad.group(1)
            parent = key.rpartition(".")[0]
            others = [a for a in argv if "=" in a and not a.startswith("-") and a.split("=")[0].lstrip("+~") != key]
            keys = _keys_under(parent, others)
            known = f"; the settings under {parent or 'the top level'} are {', '.join(keys)}" if keys else ""
            return f"unknown setting '{key}'{known} (use +{key}=... to add a new key on purpose)"
    text = " ".join(f"{error} {cause or ''}".split())
    return text[:300]


def main() -> None:
    """`fast-style-train`: Hydra's command line. Configuration mistakes end in one line and exit code 1; in a
    multirun the other runs go on and the failed ones are listed at the end. HYDRA_FULL_ERROR=1: full reports."""
    from hydra.errors import HydraException

    previous = os.environ.get("HYDRA_FULL_ERROR")
    _FULL_ERROR.update(on=previous == "1", failed=[])
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises instead of printing several lines; we print one
    try:
        _hydra_main()
    except (UserError, HydraException, OmegaConfBaseException) as e:
        if _FULL_ERROR["on"]:
            raise
        print(f"error: {one_line(e, sys.argv[1:])}", file=sys.stderr)
        sys.exit(1)
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous
    if _FULL_ERROR["failed"]:
        failed = _FULL_ERROR["failed"]
        print(f"error: {len(failed)} run(s) failed: " + "; ".join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
