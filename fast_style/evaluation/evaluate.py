"""Scoring style models on held-out photos (the library of `fast-style-eval`, fast_style/cli/evaluate.py).

`evaluate` gives each model its mean content, style, total-variation loss, coverage and flicker under the training VGG
with one common set of loss weights (so models trained with other weights compare), the same under an
independent VGG19 judge, the time per image and, optionally, the ratio to N L-BFGS iterations of the
per-image optimization. Around it in this sub-package: the models found and labelled (models.py), their paintings
(paintings.py), the photos read (photos.py), and the reports written (reports.py, with contact_sheets.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from fast_style import zoo
from fast_style.devices import pick_device
from fast_style.errors import UserError, remedy, setting
from fast_style.evaluation.evaluation_defaults import STABILITY_PHOTOS
from fast_style.evaluation.models import model_names
from fast_style.evaluation.paintings import found_painting
from fast_style.evaluation.scores import ModelScore
from fast_style.evaluation.stability import stability
from fast_style.model.style_model import load_style_model
from fast_style.numbers import check_number
from fast_style.perceptual.loss import PerceptualLoss
from fast_style.perceptual.style_image import load_style_image
from fast_style.perceptual.weights import not_a_weights_file
from fast_style.plurals import counted

log = logging.getLogger(__name__)

JUDGE = {
    "arch": "vgg19",
    "weights": "oxford",
    "style_layers": {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0},
    "content_layers": {"relu4_2": 1.0},
}


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
            (style_image, None, False) if style_image else found_painting(recorded, style_dirs or [])
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
