"""`fast-style-stylize`: photos, folders, globs and videos through a style model, one forward pass each."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
from pathlib import Path

from fast_style import zoo
from fast_style.cli import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USER_ERROR,
    ToolParser,
    add_device,
    add_pixel_limit,
    check_style_name,
    finished,
    run_reading_pictures,
)
from fast_style.errors import UserError
from fast_style.inference_defaults import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_OUTPUT,
    DEFAULT_TILE,
    PRECISIONS,
    PRESETS,
    RUNS_WHOLE_UP_TO,
    STATS_SIZE,
)
from fast_style.numbers import check_number
from fast_style.options import (
    check_max_pixels,
    check_max_size,
    check_scale,
    check_smoothing,
    check_strength,
    check_tile,
)
from fast_style.plurals import counted

DEFAULT_NAME = "{stem}.{ext}"

# the library (torch, PyAV) is imported in run(): --help and a mistyped argument answer without loading it


def build_parser() -> argparse.ArgumentParser:
    p = ToolParser(
        prog="fast-style-stylize",
        description="Stylize photos and videos with a trained style model: one forward pass per image or frame.",
    )
    p.add_argument("inputs", nargs="*", help="image or video files, folders (recursive) or globs")
    which = p.add_mutually_exclusive_group()
    which.add_argument("-s", "--style", metavar="NAME", help="a built-in style (see --list-styles), e.g. --style wave")
    which.add_argument(
        "-m", "--model", help="a style model (.pt) written by fast-style-train, or its run's folder (holding style.pt)"
    )
    which.add_argument("--list-styles", action="store_true", help="list the built-in styles and exit")
    p.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help="output file (one input) or folder, mirroring input folders (default: ./stylized)",
    )
    p.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help="output file name pattern in a folder: {stem} {ext}, {suffix} (the input's own extension), {style} "
        "(the painting), {model} (wave-fast, ...)",
    )
    exists = p.add_mutually_exclusive_group()
    exists.add_argument("--force", action="store_true", help="overwrite existing output files")
    exists.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave inputs whose output file exists (resumes a stopped run over a folder)",
    )
    p.add_argument("--max-size", type=int, help="downscale so the longer side is at most this many pixels")
    p.add_argument("--scale", type=float, help="resize the input by this factor first")
    p.add_argument("--strength", type=float, default=1.0, help="0 = the photo, 1 = full style (default 1)")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours, stylize luminance")
    add_device(p)
    p.add_argument("--precision", default="auto", choices=["auto", *PRECISIONS], help="compute precision")
    p.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="PX",
        help=f"stylize in seamless tiles of PX pixels (e.g. {DEFAULT_TILE}) pictures over {RUNS_WHOLE_UP_TO} "
        "(smaller ones run whole: tiles would save them no memory); without it, images over --max-pixels are tiled "
        f"automatically in {DEFAULT_TILE} px tiles",
    )
    p.add_argument(
        "--max-pixels",
        type=float,
        default=DEFAULT_MAX_PIXELS,
        help=f"tile images with more pixels than this (default {DEFAULT_MAX_PIXELS:.0f}; 0: never)",
    )
    p.add_argument("--backend", default="torch", choices=["torch", "onnxruntime"], help="inference engine")
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the network: ~2x faster once warm, tens of seconds per new image size",
    )
    add_pixel_limit(p)
    p.add_argument(
        "--quality",
        type=int,  # (None: not given, 95)
        help="JPEG/WebP/AVIF quality 1-100 (default 95; videos keep a fixed high quality, H.264 CRF 18)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        help="video frames per network call (default: 4 on a GPU, which they keep busy; 1 on a CPU, measured faster); "
        "an animation's frames too (default 8); pictures go one at a time",
    )
    p.add_argument(
        "--video-preset",
        choices=PRESETS,  # (None: not given, medium)
        metavar="PRESET",
        help="video: x264's speed for the same quality, ultrafast ... veryslow (default medium; ultrafast encodes "
        "2.4x to 4x as fast into a file 2x to 6x the size)",
    )
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        help="video and animations: blend each frame with the last where the picture is still or pans, 0 to below "
        "1 (default 0: off); calms the flicker of models trained without temporal=shift",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def _moves(src: Path, dst: Path) -> bool:
    """Whether `src` is stylized as frames in order (a video, or an animation written as one), which --smooth
    works on; a file that cannot be read says so later, as it is stylized."""
    from fast_style.file_kinds import is_video
    from fast_style.media.animation import ANIMATED_OUTPUTS, frame_count
    from fast_style.media.bomb_guard import BOMB

    if is_video(src):
        return True
    try:
        return dst.suffix.lower() in ANIMATED_OUTPUTS and frame_count(src) > 1
    except (OSError, ValueError, UserError, *BOMB):
        return False


def _on_console(handler: logging.Handler) -> bool:
    """Whether `handler` prints to the terminal (standard error or output), as logging.basicConfig's does."""
    return isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.stdout)


def run(args: argparse.Namespace) -> int:
    if args.list_styles:
        if args.inputs:
            raise UserError("--list-styles takes no inputs: list the styles, then stylize with --style NAME")
        print(zoo.describe() or "no built-in styles in this installation")
        return 0
    if not (args.style or args.model):
        # the model among the inputs, as fast-style-export and -eval take it (fast-style-stylize wave photo.jpg)
        for item in args.inputs:
            if item in zoo.names() and not Path(item).exists():
                raise UserError(f"say which style: {item} is a built-in style, not an input: give it as --style {item}")
            if item.lower().endswith(".pt"):
                raise UserError(f"say which style: {item} is a style model, not an input: give it as --model {item}")
        raise UserError(f"say which style: --style NAME (built in: {', '.join(zoo.names())}) or --model FILE.pt")
    if args.style:
        check_style_name(args.style)
    if not args.inputs:
        raise UserError("no inputs: give image or video files, folders or globs to stylize")
    model = args.style or args.model
    # the library's rules and words, named by their flags (NaN too: a UserError, a number's value)
    check_strength(args.strength)
    check_max_size(args.max_size)
    check_scale(args.scale)
    check_smoothing(args.smooth)
    if args.tile is not None:
        check_tile(args.tile)
    check_max_pixels(args.max_pixels)
    # in the rule's words, as the library says them (it had said "--quality must be within 1..100", and the library
    # "quality must be a whole number within 1..100 (--quality), got 0" where a Python caller gave it)
    if args.batch_size is not None:
        check_number("--batch-size", args.batch_size, lambda v: v >= 1, "a whole number >= 1", integer=True)
    if args.quality is not None:
        check_number("--quality", args.quality, lambda v: 1 <= v <= 100, "a whole number within 1..100", integer=True)
    if args.backend == "onnxruntime" and (args.tile or args.compile):
        raise UserError(f"--{'tile' if args.tile else 'compile'} needs --backend torch")
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from fast_style.file_kinds import is_video
    from fast_style.inference.batch import BatchReport, stylize_files
    from fast_style.inference.plan import expand_inputs, plan_outputs, refuse_if_nothing_to_write
    from fast_style.inference.stylizer import Stylizer
    from fast_style.outputs import is_an_input

    items = expand_inputs(args.inputs, args.output)
    if not items:
        raise UserError("no images found in the given inputs")
    stylizer = Stylizer.load(
        model, args.device, args.precision, args.backend, int(args.max_pixels), args.tile or DEFAULT_TILE, args.compile
    )
    trained_on = stylizer.meta.get("style_image")  # {style}: the painting's name, else the model's
    name = zoo.model_name(model)
    painting = Path(trained_on).stem if trained_on else name
    plans = plan_outputs(items, args.output, args.name, painting, args.style or name)
    if args.name != DEFAULT_NAME and len(plans) == 1 and plans[0][1] == Path(args.output).expanduser():
        raise UserError(f"--name names the files in an -o folder; -o {args.output} is the file itself: drop --name")
    inputs = {src.resolve() for src, _ in plans}
    existing = [(src, dst) for src, dst in plans if dst.is_file() and not is_an_input(dst, inputs)]
    if args.skip_existing and existing:
        if len(existing) == len(plans):
            print(
                f"nothing to do: the {counted(len(plans), 'output')} {'exists' if len(plans) == 1 else 'exist'} "
                "already (--skip-existing)",
                file=sys.stderr,
            )
            return EXIT_OK
        print(
            f"skipping {len(existing)} of {len(plans)} inputs: "
            + ("its output exists" if len(existing) == 1 else "their outputs exist")
            + " (--skip-existing)",
            file=sys.stderr,
        )
        done = set(existing)  # (a set: thousands of photos in a folder)
        plans = [plan for plan in plans if plan not in done]
        existing = []
    refuse_if_nothing_to_write(plans, args.force)
    if args.smooth and not any(_moves(src, dst) for src, dst in plans):  # (it did nothing, without a word)
        print(
            "warning: --smooth works on videos and on animations written as animations (GIF, WebP, APNG, AVIF): it "
            "does nothing here",
            file=sys.stderr,
        )

    # pictures go one at a time: each read, stylized and written before the next (a failure, a stop, a full disk
    # cost that picture alone), and on a CPU one at a time measured faster; --batch-size is for the frames of videos
    # and of animations written as animations (one was said to do nothing for a GIF, which it now sets)
    if args.batch_size is not None and not any(_moves(src, dst) for src, dst in plans):  # (it did nothing, unsaid)
        print(
            "warning: --batch-size is how many frames of a video or animation go through the network at once: "
            "pictures go one at a time; it does nothing here",
            file=sys.stderr,
        )
    # (each did nothing, unsaid: videos are written by x264 at a fixed quality, pictures by Pillow)
    if args.video_preset is not None and not any(is_video(src) for src, _ in plans):
        print(
            "warning: --video-preset is x264's speed for videos, and none is among the inputs: it does nothing here",
            file=sys.stderr,
        )
    lossy = (".jpg", ".jpeg", ".webp", ".avif")  # (a PNG, TIFF, GIF or BMP: -o out.png took --quality unsaid)
    if args.quality is not None and not any(
        Path(dst).suffix.lower() in lossy and not is_video(src) for src, dst in plans
    ):
        print(
            "warning: --quality is for JPEG, WebP and AVIF pictures: videos keep a fixed high quality (H.264 CRF 18), "
            "PNG, TIFF and BMP lose nothing, a GIF holds 256 colours whatever it says; it does nothing here",
            file=sys.stderr,
        )

    options = (args.strength, args.preserve_color, args.max_size, args.scale, True if args.tile else None)
    tiles_said = False  # --tile's cost for video, said once at the first frames it tiles (smaller ones run whole)

    def stylize_frames(frames):
        nonlocal tiles_said
        y = stylizer.stylize_frames(frames, *options)
        h, w = y.shape[-2:]
        if args.tile and not tiles_said and h * w > STATS_SIZE**2:  # a 2 s clip: 532 s in 64 px tiles, 34 s whole
            tiles_said = True
            tqdm.write(
                f"warning: --tile stylizes video frames over {RUNS_WHOLE_UP_TO} ({w}x{h} here) in tiles, each with a "
                "margin around it: many times slower; leave it out unless whole frames run out of memory",
                file=sys.stderr,
            )
        return y

    done = BatchReport()  # filled as the files are done
    try:  # warnings (a video cut short, tracks not kept) printed above the bars: they had been glued to a bar's line
        # (only where the log has a console: tqdm's adds one, and a program logging to a file alone that called
        # main() had every warning on its terminal too)
        console = any(_on_console(handler) for handler in logging.getLogger().handlers)
        with logging_redirect_tqdm() if console else contextlib.nullcontext():
            stylize_files(
                plans,
                lambda images: stylizer.stylize_images(images, *options),
                args.force,
                95 if args.quality is None else args.quality,
                on_error=lambda line: tqdm.write(line, file=sys.stderr),
                progress=lambda items: tqdm(
                    items, unit="file", disable=True if args.quiet or len(items) < 2 else None, file=sys.stderr
                ),  # (None: no bar where stderr is not a terminal, as a log file or a pipe)
                stylize_frames=stylize_frames,
                device=stylizer.device,
                video_batch=args.batch_size,
                smooth=args.smooth,
                frame_progress=not args.quiet,
                video_preset=args.video_preset or "medium",
                report=done,
            )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the files done are kept; say how many
        if done.written + done.failed < len(plans):
            if done.written:
                tqdm.write(f"{done.written} of {len(plans)} inputs were stylized before the stop", sys.stderr)
            raise
        # after the last input was written (or its failure said): it stopped nothing, as one after finished() (it
        # had said "3 of 3 inputs were stylized before the stop", exit code 130, of work all done)
    finished()  # every input written or its failure said: a Ctrl-C from here is no interruption
    if not done.written:  # every input failed, each said why above: nothing was written
        if len(plans) > 1 and not done.stopped:
            print(f"error: none of the {len(plans)} inputs could be stylized; nothing written", file=sys.stderr)
        return EXIT_USER_ERROR
    kept_note = ""  # the outputs an earlier, stopped run wrote: refused one by one above
    if existing and not args.force:
        kept_note = (  # (one: "1 because their outputs exist")
            " (1 because its output exists: --skip-existing leaves it quietly)"
            if len(existing) == 1
            else f" ({len(existing)} because their outputs exist: --skip-existing leaves them quietly)"
        )
    where = plans[0][1] if len(plans) == 1 and done.written else Path(args.output)
    what = [counted(done.images, "image")] if done.images else []
    # (an animation had been "1 image", its frames' pixels summed: as if one picture had taken it all)
    if done.animations:
        what += [f"{counted(done.animations, 'animation')} of {counted(done.animation_frames, 'frame')}"]
    what += [f"{counted(done.videos, 'video')} of {counted(done.frames, 'frame')}"] if done.videos else []
    said = " and ".join(what) if len(what) < 3 else f"{', '.join(what[:-1])} and {what[-1]}"
    print(
        f"stylized {said}, {pixels(done.megapixels)} in {done.seconds:.1f} s "
        f"({rate(done.megapixels, done.seconds)}) "
        f"-> {where}" + (f"; {done.failed} failed" if done.failed else "") + (kept_note if done.failed else ""),
        file=sys.stderr,
    )
    return EXIT_USER_ERROR if done.stopped else EXIT_PARTIAL if done.failed else EXIT_OK


def pixels(megapixels: float) -> str:
    """Megapixels as the summary says them: one decimal from 1 MP, two decimals or two figures below (a 256 px photo
    is 0.07 MP, not 0.0; a 40x32 thumbnail 0.0013 MP, not 0.00), and in pixels under 0.001 MP (an icon's 64
    pixels had been "0.000064 MP", a 2x4 picture's "0.0000080 MP")."""
    if 0 < megapixels < TINY_MP:
        return f"{round(megapixels * 1e6):,} px"
    return f"{megapixels:.{1 if megapixels >= 1 else _decimals(megapixels)}f} MP"


def rate(megapixels: float, seconds: float) -> str:
    """Megapixels a second as the summary says them: two decimals, or two figures under 0.1 (a 200 px photo on a
    CPU is 0.0054 MP/s, which two decimals showed as 0.00, as if nothing had been done), and pixels a second under
    0.001 MP/s (as `pixels`), two figures under 1 px/s."""
    per_second = megapixels / seconds if seconds > 0 else 0.0
    if 0 < per_second < TINY_MP:  # (under 1 px/s, two figures: a 1 px picture in 3 s had said "0 px/s")
        pixels = per_second * 1e6
        return f"{pixels:,.0f} px/s" if pixels >= 1 else f"{pixels:.{_decimals(pixels)}f} px/s"
    return f"{per_second:.{_decimals(per_second)}f} MP/s"


TINY_MP = 0.001  # under it (1,000 px), the summary counts pixels: a megapixel figure's zeros hide its digits


def _decimals(value: float) -> int:
    """The decimals a summary's figure is shown with: two, or two figures under 0.1 (not 0.00, as if nothing)."""
    return 2 if value >= 0.1 or value <= 0 else 1 - math.floor(math.log10(value))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_reading_pictures(args, lambda: run(args), logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
