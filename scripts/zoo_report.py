#!/usr/bin/env python3
"""The model zoo's quality report: every built-in style on photos none of them trained on.

    python scripts/zoo_report.py --coco ../shared/data/coco --photos ../shared/data/content \\
        --style-dir ../shared/data/styles --out zoo-report/

Held-out photos: every 12th photo of the sorted COCO folder (the 41 that scripts/train_zoo.sh's runs never
trained on: they were their validation photos) and any other folders given with --photos. Writes
`metrics.json` and `contact_sheet.png` under --out, prints a Markdown table
(the README's), and with --write-manifests stores each style's figures in fast_style/zoo/<name>.json. --styles
limits it to some styles (a new or replaced model): the others' manifests are left as they are.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from fast_style import zoo
from fast_style.atomic import atomic_write, atomic_writes
from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError
from fast_style.evaluation.contact_sheets import check_sheet_cell, contact_sheet, spread
from fast_style.evaluation.evaluate import check_judge_weights, evaluate
from fast_style.evaluation.models import find_models
from fast_style.evaluation.photos import load_photos, stability_clips
from fast_style.evaluation.reports import check_reports
from fast_style.media.images import find_images
from fast_style.outputs import check_writable

HELD_OUT_EVERY = 12  # the zoo's runs trained on the others


def held_out_coco(folder: str, dest: Path) -> Path:
    """Links to every HELD_OUT_EVERY-th photo of `folder` (sorted), in `dest` by their paths in `folder`."""
    if not Path(folder).is_dir() or not find_images(Path(folder)):
        problem = "holds no photos" if Path(folder).is_dir() else "is not a folder"
        raise UserError(f"--coco {folder} {problem}: give the COCO folder the zoo was trained from")
    dest.mkdir(parents=True, exist_ok=True)
    for photo in sorted(find_images(Path(folder)))[::HELD_OUT_EVERY]:
        try:  # by its path in the folder: two sub-folders' x.jpg were a FileExistsError's traceback
            link = dest / photo.relative_to(folder)
        except ValueError:  # reached through a link: not below the folder's own path
            link = dest / photo.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            os.symlink(photo.resolve(), link)
    return dest


def main() -> None:
    sys.exit(run_tool(report))


def report() -> None:
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument("--coco", help="the COCO folder the zoo was trained from (its held-out photos are used)")
    p.add_argument("--photos", nargs="*", default=[], help="more folders of photos no style trained on")
    p.add_argument("--style-dir", required=True, help="the folder holding the paintings (wave.jpg, ...)")
    p.add_argument("--out", default="zoo-report", help="folder for the reports (default zoo-report)")
    p.add_argument("--size", type=int, default=384, help="longer side of the photos (default 384)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--sheet-rows", type=int, default=8, help="photos shown in the sheet (default 8; 0: all)")
    p.add_argument("--sheet-cell", type=int, default=192, help="px per picture in the sheet (0: full size)")
    p.add_argument("--write-manifests", action="store_true", help="store the figures in the zoo's manifests")
    p.add_argument("--styles", nargs="+", metavar="NAME", help="only these built-in styles (default: all)")
    p.add_argument("--no-judge", action="store_true", help="skip the independent VGG19 judge (its columns: -)")
    p.add_argument("--judge-weights", default="oxford", help="the judge's VGG19: oxford, torchvision or a file")
    p.add_argument("--force", action="store_true", help="replace an earlier report in --out")
    args = p.parse_args()
    # each once, in the order given: find_models scores a style given twice once, and the table and the sheet's labels
    # had paired the names with the scores in turn (--styles wave wave udnie: udnie's figures as a second `wave`)
    names = list(dict.fromkeys(args.styles or zoo.names()))
    unknown = sorted(set(names) - set(zoo.names()))
    if unknown:
        p.error(f"not built-in styles: {', '.join(unknown)} (the zoo has {', '.join(zoo.names())})")
    if not args.coco and not args.photos:
        raise UserError("no photos: give --coco (the COCO folder: its held-out photos) and/or --photos FOLDER ...")
    if not Path(args.style_dir).is_dir():
        raise UserError(f"--style-dir {args.style_dir} is not a folder: give the folder holding the paintings")
    if args.no_judge and args.judge_weights != "oxford":  # (the weights went unread without a word)
        raise UserError("--judge-weights are the judge's, which --no-judge leaves out: give one of them")
    if args.sheet_rows < 0:  # (it showed one row)
        raise UserError(f"--sheet-rows {args.sheet_rows}: give the photos shown in the sheet, >= 0 (0: all)")
    if args.write_manifests and args.no_judge:
        raise UserError("--write-manifests stores the judge's figures too: leave out --no-judge")
    check_sheet_cell(args.sheet_cell)
    if not args.no_judge:
        check_judge_weights(args.judge_weights)
    out = Path(args.out)
    check_writable(out, f"--out {out}")
    for option, folder in [("--coco", args.coco), *(("--photos", f) for f in args.photos)]:
        if folder and out.resolve().is_relative_to(Path(folder).resolve()):  # as fast-style-eval refuses it
            raise UserError(
                f"--out is inside the {option} folder {folder} (its contact sheet would be scored as a photo next "
                "time): give a folder outside it"
            )
    check_reports(out, args.force)  # (an earlier fast-style-eval report was replaced without a word)
    with tempfile.TemporaryDirectory() as tmp:
        folders = [str(held_out_coco(args.coco, Path(tmp) / "coco"))] if args.coco else []
        sources: list[Path] = []
        photos = load_photos(folders + args.photos, args.size, sources=sources)
        clips = stability_clips(photos, sources, 4)  # at 384 px whatever --size, as fast-style-eval's
        scores, outputs = evaluate(
            find_models(names),
            photos,
            style_size=512,
            judge=not args.no_judge,
            device=args.device,
            judge_weights=args.judge_weights,
            style_dirs=[args.style_dir],
            stability_photos=len(clips),
            clip_photos=clips,
            keep=(rows := spread(len(photos), args.sheet_rows)),
        )
    out.mkdir(parents=True, exist_ok=True)
    sheet = contact_sheet([photos[r] for r in rows], [[o[r] for r in rows] for o in outputs], names, args.sheet_cell)
    report = {"photos": [n for n, _ in photos], "size": args.size, "models": [vars(s) for s in scores]}
    with atomic_writes([out / "metrics.json", out / "contact_sheet.png"]) as (json_file, sheet_file):
        json_file.write_text(json.dumps(report, indent=2))
        sheet.save(sheet_file, format="PNG")
    (out / "metrics.csv").unlink(missing_ok=True)  # an earlier fast-style-eval's (--force): not beside this report
    what = f"{len(photos)} held-out photos at {args.size} px"
    print(
        "| style | steps (all phases) | style loss | content loss | coverage | judge style | judge content | flicker | "
        "flicker zoom | ms/image |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, s in zip(names, scores):
        m = zoo.manifest(name)
        print(
            f"| `{name}` | {sum(zoo.phase_steps(m)):,} | {s.style:.3g} | {s.content:.3g} | {s.coverage:.2f} | "
            f"{_shown(s.judge_style, '.3g')} | {_shown(s.judge_content, '.3g')} | {s.flicker:.2f} | "
            f"{s.flicker_zoom:.2f} | {s.ms_per_image:.0f} |"
        )
        if args.write_manifests and s.judge_style is None:  # the judge could not be loaded (said above)
            raise UserError("the judge's figures are missing (the warning above): the manifests are left as they were")
        if args.write_manifests:
            m["metrics"] = {  # what it does not measure (speed, written by hand) is kept
                **m.get("metrics", {}),
                "photos": what,
                "sha256": m["sha256"],
                "style": s.style,
                "content": s.content,
                "coverage": s.coverage,
                "judge_style": s.judge_style,
                "judge_content": s.judge_content,
                # fast_style.evaluation.stability on the first 4 photos (README, "Measure quality")
                "flicker": s.flicker,
                "flicker_zoom": s.flicker_zoom,
            }
            with atomic_write(zoo.ZOO_DIR / f"{name}.json") as tmp_file:
                tmp_file.write_text(json.dumps(m, indent=2) + "\n")
    print(f"\n{what}; wrote {out / 'metrics.json'}, {out / 'contact_sheet.png'}")


def _shown(value: float | None, spec: str) -> str:
    """A figure as the table shows it; - where it was not measured (the judge could not be loaded: a traceback)."""
    return "-" if value is None else format(value, spec)


if __name__ == "__main__":
    main()
