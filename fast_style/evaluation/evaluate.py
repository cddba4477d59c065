"""Scoring style models on held-out photos (the library of `fast-style-eval`, fast_style/cli/evaluate.py).

`evaluate` gives each model its mean content, style, total-variation loss, coverage and flicker under the training VGG
with one common set of loss weights (so models trained with other weights compare), the same under an
independent VGG19 judge, the time per image and, optionally, the ratio to N L-BFGS iterations of the
per-image optimization; `write_reports` writes metrics.csv, metrics.json and a contact sheet.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import logging
import os
import textwrap
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from fast_style import zoo
from fast_style.atomic import atomic_writes, writing
from fast_style.devices import pick_device
from fast_style.errors import UserError, first_line, remedy, setting
from fast_style.evaluation.evaluation_defaults import STABILITY_PHOTOS
from fast_style.evaluation.scores import RANK_BY, ModelScore, ranked
from fast_style.evaluation.stability import stability
from fast_style.file_kinds import IMAGE_EXTENSIONS, is_video
from fast_style.inference.plan import expand_inputs
from fast_style.media.animation import frame_count
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import find_images, page_count, read_photo, unreadable_because
from fast_style.media.pixels import tensor_to_pil
from fast_style.model.style_model import load_style_model
from fast_style.numbers import check_number
from fast_style.outputs import to_overwrite
from fast_style.perceptual.loss import MIN_PHOTO_SIDE, PerceptualLoss, size_keeping_side
from fast_style.perceptual.style_image import load_style_image
from fast_style.perceptual.weights import not_a_weights_file
from fast_style.plurals import counted
from fast_style.walk import files_below

log = logging.getLogger(__name__)

JUDGE = {
    "arch": "vgg19",
    "weights": "oxford",
    "style_layers": {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0},
    "content_layers": {"relu4_2": 1.0},
}


def find_models(items: list[str]) -> list[Path]:
    """Style-model files, built-in styles by name, and every `style.pt` below given folders (a Hydra sweep); a model
    given twice (`wave` and its file, a run and its sweep's folder) is evaluated once. One name alone is taken too."""
    items = [items] if isinstance(items, (str, Path)) else items  # (a string was read as its letters: 'w', 'a', ...)
    models: list[Path] = []
    for item in items:
        item = str(item)
        if not item.strip():  # an unset shell variable: Path("") is the current folder, every style.pt below it scored
            raise UserError(
                "a model given is empty (an unset shell variable?): give style models (.pt), built-in "
                "style names or a training run's (or sweep's) folder"
            )
        path = Path(item).expanduser()
        if item in zoo.names():  # a built-in style's name, as stylize and export read it, before a folder of
            if path.is_dir():  # that name (fast-style-export wave -o wave makes one)
                log.warning("%s: the built-in style (the folder %s/ is ./%s)", item, item, item)
            models.append(zoo.resolve(item))
        elif path.is_dir():
            below = files_below(path, lambda name: name == "style.pt" or name.endswith(".ckpt"))
            found = [f for f in below if f.name == "style.pt"]
            # runs with checkpoints but no style.pt (still training, or killed): a sweep was ranked without them
            # (a run's checkpoints/ given: its style.pt is beside that folder, not below it)
            unfinished = sorted(
                run
                for run in {f.parent.parent for f in below if f.parent.name == "checkpoints" and f.suffix == ".ckpt"}
                if not (run / "style.pt").is_file()
            )
            if not found:
                photos = "; the photos go after --photos" if remedy("--photos", "") == "--photos" else ""
                if unfinished:
                    raise UserError(
                        f"no style.pt below {item}: {unfinished[0]}'s run has checkpoints but no style model yet "
                        "(still training, or killed): resume it with ckpt_path=last, or give one of its "
                        "checkpoints/style-step=*.pt"
                    )
                raise UserError(
                    f"no style.pt below {item}: give style models (.pt), built-in style names or a training run's "
                    f"(or sweep's) folder{photos}"
                )
            for run in unfinished:
                log.warning(
                    "%s left out: its run has checkpoints but no style.pt yet (still training, or "
                    "killed; resume it with ckpt_path=last)",
                    run,
                )
            models += found
        else:
            models.append(zoo.resolve(item))
    unique: dict[Path, Path] = {}
    for path in models:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def find_style_image(recorded: str, style_dirs: list[str]) -> str:
    """The painting a model names: where it was when it was trained (its whole path, as training recorded it), else by
    its file name in `style_dirs`. A bare file name (a built-in style names only its file: wave.jpg) is looked for
    in `style_dirs` first: a wave.jpg in the current folder, another painting, had been taken before the
    --style-dir asked for."""
    return _found_painting(recorded, style_dirs)[0]


def _found_painting(recorded: str, style_dirs: list[str]) -> tuple[str, str | None, bool]:
    """`find_style_image`'s painting; the folder of `style_dirs` it was found in by its file name, if so; and whether
    it was found by its file name alone in the current folder (neither: by the path the model recorded)."""
    path = Path(recorded).expanduser()
    if path.parent != Path(".") and path.is_file():
        return recorded, None, False
    for folder in style_dirs:
        candidate = Path(folder).expanduser() / path.name
        if candidate.is_file():
            return str(candidate), folder, False
    if path.is_file():
        return recorded, None, True
    where = f" nor in {', '.join(style_dirs)}" if style_dirs else ""
    raise UserError(
        f"the painting {recorded} is not there{where}: give {setting('--style-dir', 'style_dirs')} a folder holding "
        f"{Path(recorded).name}, or {setting('--style', 'style_image')} the painting"
    )


def _overrides(path: Path) -> list[str]:
    """The command-line overrides of the Hydra run that wrote `path`, if it is in a run folder."""
    from omegaconf import OmegaConf

    file = path.parent / ".hydra" / "overrides.yaml"
    try:
        found = [str(o) for o in OmegaConf.load(file)] if file.is_file() else []
    except Exception as e:  # a damaged record (its YAML parser's error was a traceback): named by its folder
        log.warning("%s cannot be read (%s): its run is named by its folder", file, first_line(e, 120))
        return []
    return [o for o in found if not o.lstrip("+~").partition("=")[0].startswith(_BOOKKEEPING)]


# settings that do not change what a model learns (resuming, where files and logs go, validation): no label
_BOOKKEEPING = (
    "ckpt_path",
    "hydra.",
    "output_dir",
    "callbacks.",
    "data.val_root",
    "data.num_workers",
    "data.cache_dir",
    "trainer.val_check_interval",
    "trainer.log_every_n_steps",
    "trainer.enable_progress_bar",
)


def _short(override: str) -> str:
    """style.image=/long/path/wave.jpg -> style.image=wave.jpg: labels that fit a table column."""
    key, _, value = override.partition("=")
    return f"{key}={Path(value).name}" if "/" in value else override


def model_names(paths: list[Path]) -> list[str]:
    """Short unique labels: a built-in style's name; for the runs of a sweep, the overrides that differ between
    them (loss.style_weight=5); else a run's folder or a file's stem, with the folders above where those clash."""
    built_in = {i for i, p in enumerate(paths) if p.resolve().parent == zoo.ZOO_DIR.resolve()}
    labels = [zoo.model_name(p) for p in paths]
    runs = {i: ov for i, p in enumerate(paths) if i not in built_in and (ov := _overrides(p))}  # a sweep's runs
    if len(runs) > 1:
        common = set.intersection(*(set(o) for o in runs.values()))
        swept = {i: ",".join(_short(o) for o in ov if o not in common) for i, ov in runs.items()}
        if all(swept.values()) and len(set(swept.values())) == len(swept):
            labels = [swept.get(i, label) for i, label in enumerate(labels)]
    whole = [p.absolute() for p in paths]
    for depth in range(2, max(len(p.parts) for p in whole) + 1):  # the clashing ones: the folders above them
        clashing = {i for i, label in enumerate(labels) if labels.count(label) > 1 and i not in built_in}
        if not clashing:
            break
        labels = [_tail(whole[i], depth) if i in clashing else label for i, label in enumerate(labels)]
    return labels


def _tail(path: Path, depth: int) -> str:
    """The last `depth` parts of a model's path, without `style.pt` and a file's extension (runs/a/0)."""
    parts = path.parent.parts if path.name == "style.pt" else (*path.parent.parts, path.stem)
    return "/".join(parts[-depth:])


def load_photos(
    folders: list[str],
    size: int,
    skipped: list[Path] | None = None,
    sources: list[Path] | None = None,
    out: str | Path | None = None,
) -> list[tuple[str, torch.Tensor]]:
    """The images in `folders` (and below), picture files and globs (read as fast-style-stylize reads its inputs),
    each (name, (1, 3, H, W) in [0, 1]) with its longer side at most `size`; named by their paths within their
    folder (by the path given where two folders hold the same name). Unreadable or too small ones are skipped with a
    warning (and added to `skipped`); `sources`: filled with the files read; `out`: the reports' folder, whose
    contact sheet a glob leaves out (`--photos 'held/**' --out held/eval` scored it as a photo on the next run). One
    folder alone is taken too."""
    folders = [folders] if isinstance(folders, (str, Path)) else folders  # (a string was read as its letters: it
    # walked the whole file system from '/')
    size = check_number(  # (a number of the wrong type a TypeError, as every setting's)
        "the photos' size", size, lambda v: v >= MIN_PHOTO_SIDE, f"a whole number of pixels >= {MIN_PHOTO_SIDE}", True
    )
    files: list[tuple[Path, str]] = []
    for folder in folders:
        if not str(folder).strip():  # an unset shell variable: Path("") is the current folder, its pictures scored
            raise UserError(
                "a photo folder given is empty (an unset shell variable?): give a folder of held-out images (never "
                "training images)"
            )
        path = Path(folder).expanduser()  # ("~/held" had been taken for a glob: its photos named without subfolders)
        if not path.is_dir():  # a picture file or a glob (it had to be a folder, as stylize's inputs need not)
            if not glob.has_magic(str(folder)) and not path.exists() and not path.is_symlink():
                raise UserError(
                    f"photo '{folder}' does not exist: give a folder of held-out images, their files or a glob "
                    "(never training images)"
                )
            found = [f for f, _ in expand_inputs([str(folder)], None if out is None else str(out), IMAGE_EXTENSIONS)]
            if videos := [f for f in found if is_video(f)]:  # named outright ("cannot identify image file")
                raise UserError(
                    f"{videos[0]} is a video: give held-out photos (the flicker is measured on clips made from them)"
                )
            files += [(f, f.name) for f in found]
            continue
        found = find_images(path)
        if not found:
            raise UserError(f"no photos in '{folder}': give a folder of held-out images (never training images)")
        for f in found:
            try:
                files.append((f, f.relative_to(path).as_posix()))
            except ValueError:  # reached through a link: not below the folder's own path
                files.append((f, f.name))
    unique: dict[Path, tuple[Path, str]] = {}  # a photo once, where folders overlap (--photos a a/sub): it counted 2x
    for f, name in files:
        unique.setdefault(f.resolve(), (f, name))
    files = list(unique.values())
    names = Counter(name for _, name in files)
    photos, sizes_that_keep, over_the_limit = [], [], 0
    for f, name in files:
        try:
            photo = read_photo(f, size)
        except (OSError, ValueError, *BOMB) as e:
            over_the_limit += isinstance(e, BOMB)
            log.warning(
                "skipping %s: %s",
                f,
                over_the_bomb_limit() if isinstance(e, BOMB) else unreadable_because(f, e),
            )
            if skipped is not None:
                skipped.append(f)
            continue
        h, w = photo.shape[-2:]
        if min(h, w) < MIN_PHOTO_SIDE:
            keep = None
            with contextlib.suppress(OSError), Image.open(f) as img:  # the size that keeps it (none if too small)
                if (keep := size_keeping_side(*img.size)) is not None:
                    sizes_that_keep.append(keep)
                else:  # its own size, not the one --size made (a 200x10 strip was "32x2, under 16 px a side")
                    w, h = img.size[:: -1 if img.getexif().get(0x0112, 1) in (5, 6, 7, 8) else 1]  # (as shown)
            # "at --size": only where the size made it so (a 5x5 photo was "5x5 at --size 32", as if that were why)
            at = f" at {setting('--size', 'size', size)}" if keep is not None else ""
            log.warning("skipping %s: %dx%d%s, under %d px a side", f, w, h, at, MIN_PHOTO_SIDE)
            if skipped is not None:
                skipped.append(f)
            continue
        with contextlib.suppress(OSError, ValueError, *BOMB):  # (as fast-style-optimize says it; it went unsaid)
            if (frames := frame_count(f)) > 1:
                log.warning("%s: an animation of %d frames: only the first is scored", f, frames)
            elif (pages := page_count(f)) > 1:
                log.warning("%s: a TIFF of %d pages: only the first is scored", f, pages)
        photos.append((name if names[name] == 1 else str(f), photo))
        if sources is not None:
            sources.append(f)
    if not photos:  # all skipped: unreadable, or too small at that size (the warnings above say which)
        knob = remedy("--max-image-pixels", "PIL.Image.MAX_IMAGE_PIXELS")
        if sizes_that_keep:
            advice = f"give {setting('--size', 'size', min(sizes_that_keep))} or more"  # (it asked for other photos)
        elif over_the_limit == len(files):  # (it asked for photos 16 px a side: they were, and larger)
            advice = f"raise {knob} if you trust them, or give smaller copies" if knob else "give smaller copies"
        else:
            advice = f"give readable photos at least {MIN_PHOTO_SIDE} px a side at {setting('--size', 'size', size)}"
        raise UserError(
            f"none of the photos in {', '.join(map(str, folders))} could be used (see the warnings above): {advice}"
        )
    return photos


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` indices out of `count`, evenly spread, first and last included (0: all of them)."""
    if not wanted or count <= wanted:
        return list(range(count))
    return sorted({round(k * (count - 1) / (wanted - 1)) for k in range(wanted)}) if wanted > 1 else [0]


def contact_sheet(
    photos: list[tuple[str, torch.Tensor]], columns: list[list[torch.Tensor]], names: list[str], cell: int = 192
) -> Image.Image:
    """Rows: photos; first column the input, then one column per model, each labelled. `cell`: the longer side
    of each picture in px, at most the largest photo's (0: that, for judging the strokes at full size; pictures are
    never enlarged, so a larger cell only left white between them)."""
    pad = 4
    largest = max(max(photo.shape[-2:]) for _, photo in photos)
    cell = min(cell, largest) if cell else largest
    # labels wrap in a narrow column (6 px a character): cut short, the_scream and the_scream-fast read alike
    labels = [textwrap.wrap(label, max(1, cell // 6)) or [""] for label in ["input", *names]]
    header = 7 + 11 * max(len(lines) for lines in labels)
    rows = []  # each row as tall as its tallest picture: landscape photos leave no band of white below
    for r, (_, photo) in enumerate(photos):
        tiles = [tensor_to_pil(img[0]) for img in [photo, *(col[r] for col in columns)]]
        for tile in tiles:
            tile.thumbnail((cell, cell), Image.LANCZOS)
        rows.append(tiles)
    heights = [max(tile.height for tile in tiles) for tiles in rows]
    cols = 1 + len(columns)
    sheet = Image.new("RGB", (cols * (cell + pad) + pad, header + sum(h + pad for h in heights) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for c, lines in enumerate(labels):
        draw.text((pad + c * (cell + pad), 3), "\n".join(lines), fill="black", spacing=1)
    top = header + pad
    for tiles, height in zip(rows, heights):
        for c, tile in enumerate(tiles):
            sheet.paste(tile, (pad + c * (cell + pad), top))
        top += height + pad
    return sheet


class Scorer:
    """Losses of stylized images against their photos, for one style image, each VGG under the default weights of
    the scale its features are loaded at (the judge's had been those of `weights`, the training VGG's: its
    figures were 2e9 times larger with --weights torchvision)."""

    def __init__(
        self,
        style_image: str,
        weights: str,
        style_size: int,
        judge: bool,
        device: torch.device,
        judge_weights: str = "oxford",
    ) -> None:
        self.device, self.style_image = device, style_image
        style = load_style_image(style_image, style_size).to(device)
        self.loss = PerceptualLoss(weights=weights).to(device)
        self.loss.set_style(style)
        self.judge = None
        if judge:
            try:
                self.judge = PerceptualLoss(**{**JUDGE, "weights": judge_weights}).to(device)
                self.judge.set_style(style)
            except UserError as e:
                if judge_weights != "oxford":  # weights the user named: theirs to mend, not to go without
                    raise
                reason = str(e).split(": use ")[0]  # the loader's advice is about training; ours follows
                log.warning(
                    "no independent VGG19 judge (%s): give a local VGG19 state_dict as %s, or %s",
                    reason,
                    setting("--judge-weights", "judge_weights"),
                    remedy("--no-judge", "judge=False") or "judge=False",
                )

    @torch.no_grad()
    def __call__(self, stylized: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
        stylized, photo = stylized.to(self.device), photo.to(self.device)
        terms = {k: v.item() for k, v in self.loss(stylized, photo).items()}
        terms["coverage"] = self.loss.coverage(stylized, photo).mean().item()
        if self.judge is not None:
            j = self.judge(stylized, photo)
            terms |= {"judge_content": j["content"].item(), "judge_style": j["style"].item()}
        return terms


def _painting_key(style: str) -> str:
    """Copies of one painting share a scorer: keyed by the file's bytes (by its path where it cannot be read, for
    load_style_image to report)."""
    try:
        return hashlib.sha256(Path(style).expanduser().read_bytes()).hexdigest()
    except OSError:
        return style


def evaluate(
    models: list[str | Path],
    photos: list[tuple[str, torch.Tensor]],
    weights: str = "caffe",
    style_size: int = 512,
    style_image: str | None = None,
    judge: bool = True,
    reference_iterations: int = 0,
    device: str = "cpu",
    judge_weights: str = "oxford",
    style_dirs: list[str] | None = None,
    stability_photos: int = STABILITY_PHOTOS,
    clip_photos: list[tuple[str, torch.Tensor]] | None = None,
    keep: Sequence[int] | None = None,
) -> tuple[list[ModelScore], list[dict[int, torch.Tensor]]]:
    """Each model scored on `photos`; its flicker on clips cut from the first `stability_photos` of `clip_photos`
    (default `photos`: the CLI gives them at STABILITY_SIZE, so the figure does not change with --size). Each
    model's stylized pictures of the photos numbered in `keep` (default all) come back by number: only a contact
    sheet's rows are held (every model's every picture had been, 3 MB a model and photo at 512 px); the networks
    are loaded one at a time."""
    models = [zoo.resolve(m) for m in _paths("models", models)]  # names too
    style_dirs = _paths("style_dirs", style_dirs or [])  # (one folder's letters were searched: "nor in p, d, i")
    stability_photos = check_number(
        "stability_photos", stability_photos, lambda v: v >= 0, "a whole number of photos >= 0", True
    )
    # (-1 failed once the first photo was scored, as optimize_image's "iterations must be a whole number >= 0")
    reference_iterations = check_number(
        "reference_iterations",
        reference_iterations,
        lambda v: v >= 0,
        "a whole number of L-BFGS iterations >= 0 (0: no reference)",
        True,
    )
    if keep is not None:
        keep = list(keep) if isinstance(keep, Iterable) and not isinstance(keep, (str, bytes)) else [keep]
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in keep):
            raise TypeError(f"keep must be the photos' numbers (a list of ints) or None, not {keep!r}")
    _check_photos("photos", photos)
    _check_photos("clip_photos", clip_photos)
    if not models or not photos:
        raise UserError(f"nothing to evaluate: {'no models' if not models else 'no photos'} given")
    dev = pick_device(device)
    scorers: dict[str, Scorer] = {}
    references: dict[tuple[str, int], float] = {}  # (painting, photo's index): two photos may share a name
    scores, outputs = [], []
    paintings = []  # every model read and its painting found before any is scored (one missing was said after the
    for path, name in zip(models, model_names(models)):  # others' work)
        meta = load_style_model(str(path))[1]
        recorded = meta.get("style_image")
        if not style_image and not recorded:
            raise UserError(f"{path} does not name its style image: give it as {setting('--style', 'style_image')}")
        painting, folder, here = (
            (style_image, None, False) if style_image else _found_painting(recorded, style_dirs or [])
        )
        paintings.append(painting)
        # found by its file name alone, the file said: a wave.jpg of the user's own here (a stylized photo) had been
        # scored as the painting without a word (no file's bytes are recorded to tell, and another copy of the
        # painting, of another size or compression, is as good a painting)
        if here:
            log.warning(
                "%s is scored against %s in the current folder, the file of its painting's name (the model records "
                "no folder): if that is not the painting, give %s or %s",
                name,
                painting,
                setting("--style-dir", "style_dirs"),
                setting("--style", "style_image"),
            )
        elif folder is not None:
            log.info("%s is scored against %s, its painting found by name in %s", name, painting, folder)
    for style in paintings:  # then each painting read (one unreadable was said after the models before it)
        if (key := _painting_key(style)) not in scorers:
            scorers[key] = Scorer(style, weights, style_size, judge, dev, judge_weights)
            judge = judge and scorers[key].judge is not None  # unavailable once: not tried (and reported) again
    kept = set(range(len(photos)) if keep is None else keep)
    for number, (path, name, style) in enumerate(zip(models, model_names(models), paintings), 1):
        # what it is doing, as it goes (a reference optimization takes minutes a photo on a CPU: it looked hung)
        log.info("scoring %s (%d of %d) on %s", name, number, len(models), counted(len(photos), "photo"))
        scorer = scorers[_painting_key(style)]
        net = load_style_model(str(path))[0].to(dev)
        score = ModelScore(name, str(path), style)
        stylized: dict[int, torch.Tensor] = {}
        sums, seconds = {}, 0.0
        with torch.no_grad():  # a first call's set-up is not timed (it was most of ms/img at small sizes)
            net(photos[0][1].to(dev))
        for index, (_, photo) in enumerate(photos):
            t = time.perf_counter()
            with torch.no_grad():
                out = net(photo.to(dev)).cpu()
            seconds += time.perf_counter() - t
            if index in kept:
                stylized[index] = out
            terms = scorer(out, photo)
            score.per_photo_total.append(terms["total"])
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v
            if reference_iterations:
                if (style, index) not in references:
                    from fast_style.perceptual.optimize import optimize_image

                    log.info(
                        "  %s's reference for photo %d of %d: %s",
                        Path(style).stem,
                        index + 1,
                        len(photos),
                        counted(reference_iterations, "L-BFGS iteration"),
                    )
                    _, history = optimize_image(photo.to(dev), scorer.loss, reference_iterations)
                    references[style, index] = min(history)
        n = len(photos)
        for k, v in sums.items():
            setattr(score, k, v / n)
        score.ms_per_image = seconds / n * 1e3
        if stability_photos:  # panning clips of the first photos, frame by frame (fast_style.evaluation.stability)
            clips = [photo for _, photo in (clip_photos or photos)[:stability_photos]]
            score.flicker = stability(lambda x, net=net: net(x.to(dev)), clips).ratio
            score.flicker_zoom = stability(lambda x, net=net: net(x.to(dev)), clips, motion="zoom").ratio
        if reference_iterations:
            ratios = [t / references[style, i] for i, t in enumerate(score.per_photo_total)]
            score.vs_reference = sum(ratios) / len(ratios)
        scores.append(score)
        outputs.append(stylized)
        del net
    if len(scorers) > 1:  # each painting's Gram targets have their own scale
        log.warning(
            "these models were trained on %d paintings (%s): their losses compare only between models of "
            "the same painting, though the table ranks them together",
            len(scorers),
            ", ".join(sorted(Path(s.style_image).stem for s in scorers.values())),
        )
    return scores, outputs


REPORTS = ("metrics.csv", "metrics.json", "contact_sheet.png")
STABILITY_SIZE = 384  # the photos' longer side for the flicker's clips, whatever --size (the README's figures)


def _check_outputs(scores: list[ModelScore], outputs: Sequence, rows: list[int]) -> None:
    """UserError where `outputs` does not hold each model's pictures of the contact sheet's `rows` (a bare KeyError
    or IndexError at the sheet, after the metrics were computed)."""
    if len(outputs) != len(scores):
        raise UserError(  # (counted: it said "scores 1 models")
            f"outputs holds pictures of {counted(len(outputs), 'model')} and scores of {counted(len(scores), 'model')}"
            ": pass evaluate's two results together"
        )
    for score, held in zip(scores, outputs):
        if missing := [r for r in rows if (r not in held if isinstance(held, Mapping) else r >= len(held))]:
            raise UserError(
                f"outputs lacks {score.name}'s picture of photo {missing[0]}, a row of the contact sheet (photos "
                f"{', '.join(map(str, rows))}): evaluate with keep=spread(len(photos), sheet_rows), or lower sheet_rows"
            )


def _paths(name: str, items: object) -> list[str]:
    """`items`, one path or name or a list of them, as a list of strings; TypeError for anything else (a network
    given as a model was "'TransformerNet' object is not iterable")."""
    if isinstance(items, (str, os.PathLike)):
        return [str(items)]
    listed = list(items) if isinstance(items, Iterable) else [items]
    if odd := [i for i in listed if not isinstance(i, (str, os.PathLike))]:
        kind = "style models' paths or built-in styles' names" if name == "models" else "folders' paths"
        hint = ": save_style_model(net, path) writes a network" if isinstance(odd[0], torch.nn.Module) else ""
        raise TypeError(f"{name} must be {kind}, not {type(odd[0]).__name__}{hint}")
    return [str(i) for i in listed]


def _check_photos(name: str, photos: object) -> None:
    """TypeError where `photos` is not a list of (name, image tensor) pairs (a folder's path: an IndexError)."""
    pairs = photos is None or (
        isinstance(photos, (list, tuple))
        and all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[1], torch.Tensor) for p in photos)
    )
    if not pairs:
        raise TypeError(
            f"{name} must be a list of (name, image tensor) pairs, as load_photos([folder], size) gives, "
            f"not {str(photos)[:80]!r}"
        )


def stability_clips(
    photos: list[tuple[str, torch.Tensor]], sources: list[Path], count: int
) -> list[tuple[str, torch.Tensor]]:
    """The first `count` of `photos` read again from their files (`load_photos`' `sources`) at STABILITY_SIZE, for
    `evaluate`'s `clip_photos`: the flicker is then the same at any --size (one model's: 1.3 at 384 px, 4.2 at 64)."""
    return [(name, read_photo(f, STABILITY_SIZE)) for (name, _), f in zip(photos, sources[:count])]


COLUMNS = [
    "name",
    "total",
    "content",
    "style",
    "tv",
    "coverage",
    "flicker",
    "flicker_zoom",
    "judge_content",
    "judge_style",
    "vs_reference",
    "ms_per_image",
]


def check_reports(out: Path, force: bool) -> None:
    """UserError where `write_reports` would replace an earlier evaluation's reports in `out` without `force`."""
    for name in REPORTS:  # (found after every model had been scored)
        if (out / name).is_dir():
            raise UserError(
                f"{out / name} is a folder, where the report {name} goes: choose another {setting('--out', 'out')}"
            )
    taken = [str(out / name) for name in REPORTS if (out / name).exists()]
    if taken and not force:
        raise UserError(
            f"{', '.join(taken)} {'exists' if len(taken) == 1 else 'exist'}: {to_overwrite()}, or another "
            f"{setting('--out', 'out')}"
        )


def check_judge_weights(weights: str) -> None:
    """The judge's VGG19 (--judge-weights): oxford, torchvision or a file that is there, before any work."""
    if weights == "caffe":  # the training VGG's (a name, never a file of that name): "caffe not found"
        raise UserError(
            f"{setting('--judge-weights', 'judge_weights', weights)}: caffe weights are VGG16's (the training VGG's, "
            f"{setting('--weights', 'weights')}) and the judge is a VGG19: use oxford, torchvision or a VGG19 "
            "state_dict file"
        )
    if weights not in ("oxford", "torchvision") and not Path(weights).expanduser().is_file():
        raise UserError(  # (a folder: "not found" too, where a run's folder was given for the file in it)
            f"{setting('--judge-weights', 'judge_weights', weights)} {not_a_weights_file(weights)}: a VGG19 "
            "state_dict file, oxford or torchvision"
        )


def check_sheet_cell(cell: object) -> int:
    """The contact sheet's cell as Python's int: 32 to 4096 px on its longer side, or 0 for the images' own size
    (numpy's int64 too, which was refused "give 32 to 4096 px" for 64); TypeError for no number: fast_style.numbers'
    rule, in its words, as the command's other numbers (it had its own: "the sheet cell (--sheet-cell) 8: give 32 to
    4096 px" beside "--sheet-rows must be a whole number >= 0 (0: all), got -1", a numpy number by its repr and
    10**5000 a ValueError, its repr's digits more than Python writes)."""
    name, takes = setting("--sheet-cell", "sheet_cell"), "a whole number of pixels within 32..4096 (0: full size)"
    return int(check_number(name, cell, lambda v: v == 0 or 32 <= v <= 4096, takes, integer=True))


def write_reports(
    out: str | Path,
    scores: list[ModelScore],
    outputs: Sequence[Mapping[int, torch.Tensor] | Sequence[torch.Tensor]],
    photos: list[tuple[str, torch.Tensor]],
    weights: str,
    rank_by: str = "total",
    sheet_rows: int = 8,
    sheet_cell: int = 192,
    force: bool = False,
) -> list[Path]:
    """metrics.csv, metrics.json and contact_sheet.png in `out` (each written atomically), models ranked; an
    earlier evaluation's reports are replaced only with `force` (`check_reports`). `outputs[i]` holds model i's
    stylized pictures by photo number, at least the sheet's rows (`spread(len(photos), sheet_rows)`)."""
    out = Path(out).expanduser()  # as evaluate reads its models, photos and paintings (it wrote to a folder named ~)
    if rank_by not in RANK_BY:
        raise UserError(f"rank_by {rank_by!r}: choose one of {', '.join(RANK_BY)} ({setting('--rank-by', 'rank_by')})")
    sheet_cell = check_sheet_cell(sheet_cell)
    _check_outputs(scores, outputs, spread(len(photos), sheet_rows))
    check_reports(out, force)
    order = ranked(scores, rank_by)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["rank", *COLUMNS, "path"])
    for rank, i in enumerate(order, 1):
        s = asdict(scores[i])
        writer.writerow([rank, *(s[c] for c in COLUMNS), s["path"]])
    report = json.dumps(
        {"photos": [n for n, _ in photos], "weights": weights, "models": [asdict(scores[i]) for i in order]}, indent=2
    )
    rows = spread(len(photos), sheet_rows)
    sheet = contact_sheet(
        [photos[r] for r in rows],
        [[outputs[i][r] for r in rows] for i in order],
        [scores[i].name for i in order],
        sheet_cell,
    )
    paths = [out / name for name in REPORTS]
    with atomic_writes(paths) as temps:  # the three replace an earlier report together (not a mixed one)
        for path, tmp, write in zip(
            paths,
            temps,
            (
                lambda p: p.write_text(table.getvalue()),
                lambda p: p.write_text(report),
                lambda p: sheet.save(p, format="PNG"),
            ),
        ):
            with writing(path):  # named here: the stack's outer levels would name the last file
                write(tmp)
    return paths
