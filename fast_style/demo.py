"""A short end-to-end run that needs nothing but the package registry (`fast-style-demo`).

It first stylizes a sample photo with a built-in style (the end result, at once), then trains a model of its
own: it draws its own style image (a procedural stained-glass mosaic), takes public-domain sample photos from
the scikit-image wheel (fetched with `pip download`, never installed), trains a low-resolution model for a few
hundred steps on the CPU, starting from a built-in style's network (configs/experiment/demo.yaml), stylizes the
same photo and prints where everything is.
"""

from __future__ import annotations

import logging
import shlex
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from fast_style.atomic import atomic_write
from fast_style.devices import native_bf16, pick_device
from fast_style.errors import UserError, setting
from fast_style.media.images import save_image
from fast_style.outputs import check_writable
from fast_style.wheels import pip_download

if TYPE_CHECKING:
    from omegaconf import DictConfig

log = logging.getLogger(__name__)

SAMPLE_WHEEL = "scikit-image>=0.22"
# colour photos and textures from skimage/data (public domain / CC0, see its README.txt)
SAMPLE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "retina.jpg",
    "brick.png",
    "grass.png",
    "gravel.png",
    "camera.png",
    "coins.png",
    "moon.png",
)
DEMO_PHOTO = "chelsea.png"  # held out of training; stylized at the end
BUILT_IN = "starry_night"  # the built-in style shown first
# training crops: 128 px where steps are fast; 96 px on a CPU without native bf16, whose fp32 steps are about
# 1.8x slower (the demo took 8 min there at 128 px, 5 min at 96: benchmarks/README.md)
IMAGE_SIZE, SLOW_CPU_IMAGE_SIZE = 128, 96


def default_image_size() -> int:
    """The demo's training crop size on this machine: 128 px on a GPU or a CPU computing bf16 natively, else 96."""
    if pick_device("auto").type != "cpu" or native_bf16("cpu"):
        return IMAGE_SIZE
    log.info(
        "Training at %d px crops: this CPU has no native bf16, so 128 px would take about 8 minutes "
        "(--image-size 128 for finer cells).",
        SLOW_CPU_IMAGE_SIZE,
    )
    return SLOW_CPU_IMAGE_SIZE


def draw_mosaic_style(size: int = 384, seed: int = 7) -> Image.Image:
    """A bold stained-glass picture: Voronoi cells in a saturated palette, dark leading, bright curved strokes."""
    rng = np.random.default_rng(seed)
    palette = np.array(
        [
            [230, 57, 70],
            [241, 196, 15],
            [39, 174, 96],
            [41, 128, 185],
            [142, 68, 173],
            [243, 156, 18],
            [26, 188, 156],
            [236, 240, 241],
            [211, 84, 0],
            [22, 160, 133],
        ],
        dtype=np.float32,
    )
    seeds = rng.uniform(0, size, size=(90, 2))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dist = np.sqrt((xx[..., None] - seeds[:, 0]) ** 2 + (yy[..., None] - seeds[:, 1]) ** 2)  # (S, S, 90)
    order = np.argsort(dist, axis=-1)
    nearest, second = order[..., 0], order[..., 1]
    d1 = np.take_along_axis(dist, nearest[..., None], -1)[..., 0]
    d2 = np.take_along_axis(dist, second[..., None], -1)[..., 0]
    colors = palette[rng.integers(0, len(palette), size=len(seeds))]
    shade = rng.uniform(0.75, 1.05, size=len(seeds))[:, None]
    img = (colors * shade)[nearest]  # (S, S, 3)
    img *= (1.0 - 0.25 * (d1 / (d1.max() + 1e-6)))[..., None]  # darker towards cell edges
    img[(d2 - d1) < 2.5] = (25, 20, 30)  # leading between cells
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(pil)
    for _ in range(40):
        x, y = rng.uniform(0, size, 2)
        angle, points = rng.uniform(0, 2 * np.pi), []
        for _ in range(12):
            points.append((x, y))
            angle += rng.uniform(-0.5, 0.5)
            x, y = x + 9 * np.cos(angle), y + 9 * np.sin(angle)
        color = tuple(int(c) for c in palette[rng.integers(0, len(palette))])
        draw.line(points, fill=color, width=int(rng.integers(3, 7)), joint="curve")
    return pil.filter(ImageFilter.SMOOTH)


def fetch_sample_photos(dest: Path) -> list[Path]:
    """Extract colour sample photos from the scikit-image wheel into `dest` (kept for later runs; one damaged
    there, cut short by a full disk or a killed copy, is extracted again: it failed every later demo)."""
    have = [dest / name for name in SAMPLE_PHOTOS if _a_photo(dest / name)]
    if len(have) == len(SAMPLE_PHOTOS):
        return have
    with tempfile.TemporaryDirectory(prefix="fast-style-demo-") as tmp:
        wheel = pip_download(SAMPLE_WHEEL, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            members = set(zf.namelist())
            for name in SAMPLE_PHOTOS:
                member = f"skimage/data/{name}"
                if member in members and dest / name not in have:
                    with atomic_write(dest / name) as part:
                        part.write_bytes(zf.read(member))
    found = [dest / name for name in SAMPLE_PHOTOS if (dest / name).is_file()]
    if len(found) < 4:
        raise UserError(f"the scikit-image wheel held only {len(found)} of the sample photos")
    return found


def _a_photo(path: Path) -> bool:
    """Whether `path` is a picture Pillow reads whole."""
    try:
        with Image.open(path) as img:
            img.load()
        return True
    except Exception:  # missing, cut short, not a picture
        return False


def _new_run_folder(runs: Path) -> Path:
    """`runs/<date_time>`, made here, never one that is there: two demos started in the same second (or a folder
    of that name) get `<date_time>-2`, ..."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    try:
        runs.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(
            f"{runs} is a file, not a folder: move it, or choose another {setting('--workdir', 'workdir')}"
        ) from None
    for n in range(1, 1000):
        try:
            (folder := runs / (stamp if n == 1 else f"{stamp}-{n}")).mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as e:  # runs/ read-only, or not the user's: a traceback
            raise UserError(
                f"cannot make a run folder in {runs} ({e.strerror or e}): choose another "
                f"{setting('--workdir', 'workdir')}"
            ) from None
    raise UserError(f"cannot make a new run folder in {runs}: 999 of this second's are there")


def training_config(
    train_dir: Path, style_path: Path, run_dir: Path, steps: int, image_size: int, overrides: list[str] = ()
) -> DictConfig:
    """The demo's training run; stopped by Ctrl-C, its stop line gives the fast-style-train command that resumes
    it (the demo itself always starts a new run)."""
    from fast_style.runs.config import compose

    settings = [
        "experiment=demo",
        f"data.root={train_dir.resolve()}",
        f"style.image={style_path.resolve()}",
        f"data.image_size={image_size}",
        f"trainer.max_steps={steps}",
        *overrides,
    ]
    cfg = compose([*settings, f"output_dir={run_dir}"])
    again = [*settings, "ckpt_path=last", f"hydra.run.dir={run_dir.resolve()}"]
    cfg.callbacks.graceful_stop.resume = shlex.join(["fast-style-train", *again])
    return cfg


def run_demo(workdir: Path, steps: int, image_size: int | None = None, overrides: list[str] = ()) -> dict[str, Path]:
    """The demo in `workdir`: `steps` training steps at `image_size` px crops (None: `default_image_size`)."""
    from fast_style.inference.stylizer import Stylizer
    from fast_style.training.train import train

    # before the work (a read-only one: a traceback at runs/), and before the crop size is said: one line
    check_writable(workdir, setting("--workdir", "workdir", workdir))
    image_size = image_size or default_image_size()
    data = workdir / "data"
    photos = fetch_sample_photos(data / "photos")
    train_dir = data / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    for p in photos:  # the demo photo stays out of training
        link = train_dir / p.name
        if p.name != DEMO_PHOTO and not link.exists():
            link.symlink_to(p.resolve())
    style_path = data / "mosaic_style.png"
    if not _a_photo(style_path):  # (a Ctrl-C while it was written had left a file every later demo refused)
        save_image(draw_mosaic_style(), style_path)
    run_dir = _new_run_folder(workdir / "runs")  # each run its own: two in one second wrote into one
    ready = run_dir / f"{Path(DEMO_PHOTO).stem}_{BUILT_IN}.jpg"
    save_image(Stylizer.load(BUILT_IN)(data / "photos" / DEMO_PHOTO), ready)  # whole or not at all (Ctrl-C)
    cfg = training_config(train_dir, style_path, run_dir, steps, image_size, overrides)
    start = cfg.module.get("init_from")
    log.info(
        "\nA built-in style first (fast-style-stylize --style %s): %s\nNow training a style of its own%s ...\n",
        BUILT_IN,
        ready,
        f", starting from the built-in {start} network's weights (module.init_from)" if start else "",
    )
    style_model = train(cfg)
    stylized = run_dir / f"{Path(DEMO_PHOTO).stem}_stylized.jpg"
    save_image(Stylizer.load(style_model)(data / "photos" / DEMO_PHOTO), stylized)
    return {
        "run": run_dir,
        "built-in style": ready,
        "style model": style_model,
        "stylized image": stylized,
        "image grids": run_dir / "images",
        "tensorboard logs": run_dir / "tensorboard",
    }
