"""Every config composes, and each node instantiates into the object its keys describe."""

from pathlib import Path

import pytest
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

from fast_style.config import CONFIG_DIR, compose

GROUPS = {g.name: sorted(p.stem for p in g.glob("*.yaml")) for g in CONFIG_DIR.iterdir() if g.is_dir()}


def _compose(overrides: list[str]):
    return compose(overrides)


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
        assert type(instantiate(node)) is get_object(node._target_), name
    writer = instantiate(cfg.callbacks.style_model)
    assert writer.path == tmp_path / "style.pt" and writer.meta["style_image"] == "s.png"


def test_style_image_is_required() -> None:
    cfg = _compose(["output_dir=/tmp/x"])
    assert OmegaConf.is_missing(cfg.style, "image")
