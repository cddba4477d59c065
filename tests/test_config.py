"""Every config composes, and each node instantiates into the object its keys describe."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from fast_style.train import CONFIG_DIR

GROUPS = {g.name: sorted(p.stem for p in g.glob("*.yaml")) for g in CONFIG_DIR.iterdir() if g.is_dir()}


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=False)


def test_all_groups_are_present() -> None:
    assert {"data", "model", "loss", "style", "trainer", "experiment"} <= set(GROUPS)


@pytest.mark.parametrize("group,option", [(g, o) for g, opts in GROUPS.items() for o in opts])
def test_every_option_composes(group: str, option: str, tmp_path: Path) -> None:
    overrides = [f"{group}={option}", f"output_dir={tmp_path}", "style.image=s.png"]
    if group == "loss" and option == "file":
        overrides.append("loss.weights=vgg.pth")
    cfg = _compose(overrides)
    OmegaConf.resolve(cfg)
    assert OmegaConf.missing_keys(cfg) == set()
    assert cfg.trainer.max_steps > 0


def test_model_and_trainer_nodes_instantiate(tmp_path: Path) -> None:
    cfg = _compose([f"output_dir={tmp_path}", "style.image=s.png", "model=tiny", "trainer=fast_dev"])
    net = instantiate(cfg.model)
    assert net.config == {"channels": [4, 8, 8], "num_residual": 1, "kernel_outer": 3}
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    assert trainer.max_steps == 4
    for name, node in cfg.callbacks.items():
        assert instantiate(node) is not None, name


def test_style_image_is_required() -> None:
    cfg = _compose(["output_dir=/tmp/x"])
    assert OmegaConf.is_missing(cfg.style, "image")
