"""The training configuration (Hydra): where its folder is and the resolvers it uses.

The folder is the repository's top-level `configs/`; a wheel carries the same files as `fast_style/configs`
(mapped at build time, pyproject.toml), so an installed `fast-style-train` finds them without the checkout.
`compose` builds a config as the command line would, for code and tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from fast_style.devices import native_bf16

_PACKAGED = Path(__file__).resolve().parent / "configs"  # in a wheel
CONFIG_DIR = _PACKAGED if _PACKAGED.is_dir() else _PACKAGED.parent.parent / "configs"  # else the checkout's


def register_resolvers() -> None:
    """The interpolations the configs use; safe to call more than once."""
    # `trainer.precision: ${best_precision:}`: bf16 mixed precision where the hardware has it, else fp32
    OmegaConf.register_new_resolver(
        "best_precision", lambda: "bf16-mixed" if native_bf16() else "32-true", replace=True
    )
    # `style.size: ${mul:${data.image_size},2}`: the style's texture scale follows the training crops
    OmegaConf.register_new_resolver("mul", lambda a, b: int(a * b), replace=True)


def compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """The config `fast-style-train <overrides>` would run (without Hydra's own `hydra` node)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))
