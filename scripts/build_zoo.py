#!/usr/bin/env python3
"""Put a trained style model into the model zoo (fast_style/zoo/): float16 weights and a manifest.

    python scripts/build_zoo.py wave outputs/zoo/wave --budget "8 min on one H200 shared by 7 runs"

RUN is a fast-style-train run folder (its style.pt and .hydra/config.yaml are read), or a style.pt whose run folder
is given with --config. A run distilled from the zoo's model (experiment=fast_variant) becomes the style's
`<name>-fast` variant, its manifest naming the style under `fast_variant_of` (and `started_from` where it began as
the style's network narrowed, module.init_from). A run fine-tuned from the zoo's model
(module.init_from) keeps the training record of the model it started from under `fine_tuned_from` (building the
same run again, to mend its words, keeps the record it had: the zoo's file is then this run's). The manifest
records the painting (from PAINTINGS below), the training config and steps, the file's sha256 and size;
`scripts/zoo_report.py` adds the held-out metrics.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from fast_style import zoo
from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError, first_line
from fast_style.model.interpolation import interpolate
from fast_style.model.style_model import load_style_model, save_style_model
from fast_style.runs.config import register
from fast_style.zoo import ZOO_DIR

PD = "public domain (the painter died over 70 years ago; published before 1930)"
PAINTINGS = {
    "starry_night": {"title": "The Starry Night", "artist": "Vincent van Gogh", "year": "1889", "licence": PD},
    "wave": {"title": "The Great Wave off Kanagawa", "artist": "Katsushika Hokusai", "year": "c. 1831", "licence": PD},
    "the_scream": {"title": "The Scream", "artist": "Edvard Munch", "year": "1893", "licence": PD},
    "composition_vii": {"title": "Composition VII", "artist": "Wassily Kandinsky", "year": "1913", "licence": PD},
    "udnie": {
        "title": "Udnie (Young American Girl, The Dance)",
        "artist": "Francis Picabia",
        "year": "1913",
        "licence": PD,
    },
    "shipwreck": {
        "title": "The Shipwreck of the Minotaur",
        "artist": "J. M. W. Turner",
        "year": "c. 1810",
        "licence": PD,
    },
}


def main() -> None:
    if code := run_tool(build):
        sys.exit(code)


def build() -> None:
    p = ToolParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=sorted(PAINTINGS))
    p.add_argument("run", help="the run folder, or its style.pt (then --config)")
    p.add_argument("--config", help="the run's .hydra/config.yaml (default: RUN/.hydra/config.yaml)")
    p.add_argument("--budget", required=True, help="what the training cost, in words (hardware, wall time)")
    p.add_argument("--command", default="scripts/train_zoo.sh", help="how it was trained")
    p.add_argument("--blend-with", metavar="MODEL", help="the style .pt this run was fine-tuned from, to blend back in")
    p.add_argument("--share", type=float, default=0.0, help="MODEL's share of the blended weights (0 to 1)")
    args = p.parse_args()
    if (args.blend_with is None) != (args.share == 0.0) or not 0.0 <= args.share < 1.0:
        p.error("--blend-with MODEL needs --share, a fraction from 0 up to (not including) 1, and --share needs it")
    run = Path(args.run)
    model = run / "style.pt" if run.is_dir() else run
    config_file = Path(args.config) if args.config else run / ".hydra" / "config.yaml"
    # said before reading: a FileNotFoundError's (or NotADirectoryError's) traceback named .hydra/config.yaml
    if not model.is_file():
        raise UserError(f"{args.run} is neither a run folder holding style.pt nor a style.pt: give one")
    net, meta = load_style_model(str(model))  # (a run's config.yaml given for RUN was "a model file")
    painting = str(meta.get("style_image") or "")
    if painting and Path(painting).stem != args.name:  # (it went in as NAME's, its painting renamed NAME.jpg)
        raise UserError(
            f"{args.run} was trained on {painting}, not {args.name}.jpg: give the name of its painting, or a run "
            f"of {args.name}"
        )
    if args.config and not config_file.is_file():
        raise UserError(f"--config {args.config} is not a file: give the run's .hydra/config.yaml")
    if not config_file.is_file():
        what = f"{args.run} has no .hydra/config.yaml" if run.is_dir() else f"{args.run} is a model file"
        raise UserError(f"{what}: give --config, the run's .hydra/config.yaml")
    register()  # the config's resolvers (mul, best_precision)
    config = _run_config(config_file)  # before the zoo's model is replaced (a traceback left it without its manifest)
    start_bytes = b""
    if args.blend_with:  # (a built-in style's name too; read before the zoo's file is replaced: it may be that one)
        start_file = zoo.resolve(args.blend_with)
        start_bytes = start_file.read_bytes()
        start, _ = load_style_model(str(start_file))
        net = interpolate(net, start, args.share)
    meta["style_image"] = f"{args.name}.jpg"  # the painting's name, not the training machine's path
    if meta.get("init_from") and Path(meta["init_from"]).suffix == ".pt":  # (a file there: its name alone)
        meta["init_from"] = Path(meta["init_from"]).name
    distilled = OmegaConf.select(config, "distill.teacher") is not None
    name = f"{args.name}-fast" if distilled else args.name
    if distilled:
        meta["distilled_from"] = args.name  # the zoo style, not the training machine's path
    target = ZOO_DIR / f"{name}.pt"
    save_style_model(net, target, meta, dtype=torch.float16, force=True)  # a zoo model is replaced, not kept beside
    data = target.read_bytes()
    old = ZOO_DIR / f"{name}.json"
    earlier = json.loads(old.read_text()) if old.is_file() else {}
    manifest = {
        "name": name,
        "painting": PAINTINGS[args.name],
        "file": target.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "dtype": "float16",
        "licence": "MIT (the trained weights, like fast-style)",
        "training": {
            "steps": meta.get("step"),
            "batch_size": config.data.batch_size,
            "image_size": config.data.image_size,
            "style_size": config.style.size,
            "photos": "COCO 2017 (450 photos; 41 more held out for validation and the metrics)",
            "budget": args.budget,
            "command": args.command,
            "config": {
                key: OmegaConf.to_container(config[key], resolve=True) if config.get(key) is not None else None
                for key in ("model", "loss", "module", "temporal", "distill")
            },
            "precision": OmegaConf.select(config, "trainer.precision", default=None),
        },
        # kept from an earlier manifest of this name until scripts/zoo_report.py measures this file
        "metrics": earlier.get("metrics", {}),
    }
    if distilled:  # the page and --list-styles offer it as the fast choice of its style
        manifest = {"name": name, "fast_variant_of": args.name, **manifest}
        manifest["training"]["config"]["distill"]["teacher"] = args.name
    init_from = OmegaConf.select(config, "module.init_from")
    if init_from and Path(init_from).suffix == ".pt":  # a file on the training machine: its name, not its folders
        manifest["training"]["config"]["module"]["init_from"] = Path(init_from).name
    if init_from and distilled and init_from == args.name:  # started from its teacher, cut down
        shape = f"{net.config['channels']} channels, {net.config['num_residual']} residual blocks"
        manifest["training"]["started_from"] = f"{args.name}, narrowed to {shape}"
    elif init_from:  # fine-tuned (a variant from itself too): the training of the model it started from
        rebuilt = earlier.get("sha256") == manifest["sha256"]  # this run was already in the zoo: not a new phase
        started = (earlier.get("training") or {}).get("fine_tuned_from") if rebuilt else earlier.get("training")
        manifest["training"]["fine_tuned_from"] = started
    if args.blend_with:
        manifest["training"]["blend"] = {
            "share_of_start": args.share,
            "start_sha256": hashlib.sha256(start_bytes).hexdigest(),
            "how": f"{1 - args.share:g} of this run's weights plus {args.share:g} of the model it was fine-tuned "
            "from, parameter by parameter (scripts/build_zoo.py --blend-with)",
        }
    manifest["training"]["config"]["model"].pop("input_skip", None)  # fast-style 0.1's option, false here
    old.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{target} ({len(data) / 1e6:.1f} MB), {old}")


def _run_config(file: Path) -> DictConfig:
    """A training run's config, read from `file`; UserError where it is not one (a picture, another YAML file)."""
    try:
        config = OmegaConf.load(file)
    except Exception as e:  # not YAML, or not text
        raise UserError(
            f"{file} cannot be read as YAML ({first_line(e, 120)}): give the run's .hydra/config.yaml"
        ) from None
    needed = ("data.batch_size", "data.image_size", "style.size", "model")
    lacks = [k for k in needed if OmegaConf.select(config, k) is None] if isinstance(config, DictConfig) else needed
    if lacks:  # .hydra/hydra.yaml or overrides.yaml: a traceback, after the zoo's model had been replaced
        raise UserError(f"{file} is not a training run's config (no {lacks[0]}): give the run's .hydra/config.yaml")
    return config


if __name__ == "__main__":
    main()
