"""A Hydra launch of `fast-style-train`: what it chose (its primary config, a group's option), whether it is one
run of a sweep, and its settings (.hydra/) kept per launch, so a resume never loses what a run was started with."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from fast_style.atomic import atomic_write
from fast_style.runs.config import LAUNCH_FILES


def keep_launch_config(hydra_dir: Path) -> None:
    """Hydra rewrites .hydra/config.yaml and overrides.yaml each time a folder is used (a resume): keep each
    launch's copy in .hydra/launches/ so that the settings a run was started with are never lost."""
    if not (hydra_dir / "config.yaml").is_file() or rank_zero_only.rank != 0:
        return  # train(cfg) called without Hydra's command line, or a DDP rank other than 0
    stamp = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}-{os.getpid()}"
    for name in LAUNCH_FILES:
        if (hydra_dir / name).is_file():
            target = hydra_dir / "launches" / f"{stamp}-{name}"
            with atomic_write(target) as tmp:
                tmp.write_bytes((hydra_dir / name).read_bytes())


def restore_last_launch(hydra_dir: Path) -> None:
    """Hydra writes a launch's settings into .hydra/ before `train` can refuse it: where the folder holds an
    earlier launch (.hydra/launches/, `keep_launch_config`), its files are put back."""
    if rank_zero_only.rank != 0:
        return
    for name in LAUNCH_FILES:
        kept = sorted((hydra_dir / "launches").glob(f"*-{name}"))
        if kept and (hydra_dir / name).is_file():
            with atomic_write(hydra_dir / name) as tmp:
                tmp.write_bytes(kept[-1].read_bytes())


def in_multirun() -> bool:
    """Whether this run is one of a sweep (fast-style-train -m)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


_RUN_FOLDER: dict = {"key": None}  # the setting naming the run's folder, as train() found it (set_run_folder)


def set_run_folder(output_dir: str) -> None:
    """Notes how the run training in `output_dir` was given its folder: by Hydra's run (fast-style-train: Hydra's
    output folder is it), else by the config's own output_dir (composed in Python; a Hydra run of earlier in the
    same process does not count)."""
    from hydra.core.hydra_config import HydraConfig

    hydra = HydraConfig.initialized() and not OmegaConf.is_missing(HydraConfig.get().runtime, "output_dir")
    ours = hydra and Path(str(HydraConfig.get().runtime.output_dir)).absolute() == Path(output_dir).absolute()
    _RUN_FOLDER["key"] = ("hydra.sweep.dir" if in_multirun() else "hydra.run.dir") if ours else "output_dir"


def run_folder_key() -> str:
    """The setting that names a run's folder, as messages give it: Hydra's (hydra.run.dir, a sweep's
    hydra.sweep.dir) under fast-style-train, `output_dir` for a config composed in Python (Hydra's is not read)."""
    from hydra.core.hydra_config import HydraConfig

    if _RUN_FOLDER["key"] is not None:
        return _RUN_FOLDER["key"]
    if not HydraConfig.initialized():
        return "output_dir"
    return "hydra.sweep.dir" if in_multirun() else "hydra.run.dir"


def config_name() -> str | None:
    """The primary config this launch composed (Hydra's record), None outside a Hydra launch."""
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().job.config_name if HydraConfig.initialized() else None


def choice(group: str) -> str | None:
    """The option of `group` this launch chose (Hydra's record), None outside a Hydra launch."""
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.choices.get(group) if HydraConfig.initialized() else None


def swept_elsewhere(hydra_dir: Path) -> list[str]:
    """In a rerun of a sweep, the swept settings this run is given that differ from those its run was trained with
    (its last launch kept: `keep_launch_config`), as "key: was A, now B". A sweep rerun with its values in another
    order (`loss.style_weight=10,5,2` after `2,5,10`) gives each run another run's setting, and a resume went on
    training run 0's model at run 2's weight without a word. Settings every run shares (trainer.max_steps raised
    to train on) are not swept, and may change."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    if not in_multirun():  # (train(cfg) from Python has no HydraConfig)
        return []
    kept = sorted((hydra_dir / "launches").glob("*-overrides.yaml"))
    sweep = Path(HydraConfig.get().sweep.dir) / "multirun.yaml"
    if not kept or not sweep.is_file():
        return []
    parser = OverridesParser.create()
    asked = parser.parse_overrides(list(OmegaConf.load(sweep).hydra.overrides.task))
    swept = {o.key_or_group for o in asked if o.is_sweep_override()}

    def values(overrides: list[str]) -> dict[str, Any]:  # {key: override}
        return {o.key_or_group: o for o in parser.parse_overrides(overrides)}

    was, now = values(list(OmegaConf.load(kept[-1]))), values(list(HydraConfig.get().overrides.task))
    return [  # values compared, not their spelling (1e5 was written 100000.0, and 100000 is the same)
        f"{k}: was {was[k].get_value_element_as_str()}, now {now[k].get_value_element_as_str()}"
        for k in sorted(swept)
        if k in was and k in now and was[k].value() != now[k].value()
    ]
