"""What a stylize run reads and writes: inputs (files, folders, globs) expanded into media files, and each
one's output path, every name checked before any work starts."""

from __future__ import annotations

import glob
import itertools
import logging
import os
import string
from collections.abc import Callable
from pathlib import Path

from fast_style.errors import UserError, first_of, option_note, remedy, setting
from fast_style.file_kinds import (
    IMAGE_EXTENSIONS,
    IMAGE_OUTPUTS,
    VIDEO_EXTENSIONS,
    VIDEO_OUTPUTS,
    a_torch_file,
    is_video,
    torch_file_kind,
    video_output_name,
)
from fast_style.inference_defaults import DEFAULT_OUTPUT
from fast_style.media.animation import ANIMATED_OUTPUTS, frame_count
from fast_style.media.bomb_guard import BOMB
from fast_style.media.images import has_transparency
from fast_style.outputs import in_the_way, is_an_input, output_refusal, to_overwrite
from fast_style.plurals import counted
from fast_style.walk import files_below

# what folders and globs pick up (an animated GIF, PNG or WebP as an animation: fast_style.media.animation)
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
log = logging.getLogger(__name__)


def expand_inputs(
    inputs: list[str], output: str | None = None, extensions: tuple[str, ...] = MEDIA_EXTENSIONS
) -> list[tuple[Path, Path]]:
    """Files, folders (recursive) and globs -> [(file, root it is relative to)]; folders and globs pick up the files
    with one of `extensions` (images and videos; fast-style-eval's --photos: images). A folder or glob searched
    leaves out the `output` folder below it (`fast-style-stylize .` run twice does not stylize ./stylized), and
    a folder searched leaves out an earlier run's default output folder in it too (`-o other` after a run
    without -o stylized the stylized copies again, a level deeper each run), with a warning, and names the other
    files it leaves out (RAW photos, sidecars); a file named outright is always taken."""
    found: list[tuple[Path, Path]] = []
    skip = Path(output).expanduser().resolve() if output else None

    def wanted(f: Path, searched: Path) -> bool:  # searched: the folder given, or a glob's folder before its * ? [
        return skip is None or searched.resolve().is_relative_to(skip) or not f.resolve().is_relative_to(skip)

    for item in inputs:
        if not str(item).strip():  # an unset shell variable: Path("") is the current folder, stylized whole
            raise UserError(
                "an input given is empty (an unset shell variable?): give files, folders or globs of "
                + _media(extensions)
            )
        path = Path(item).expanduser()
        try:
            is_dir = path.is_dir()
        except OSError as e:  # in a folder closed to this user: a PermissionError's traceback
            raise UserError(f"cannot read {item}: {e.strerror or e} (a folder above it is closed to you)") from None
        if is_dir:
            found += [(f, path) for f in _search(path, item, lambda f, path=path: wanted(f, path), extensions)]
        elif path.is_file():
            if _a_model_export(path):
                raise UserError(_not_a_stream(item, path, extensions))
            if path.suffix.lower() == ".onnx":  # (it failed as a picture, after the others were stylized)
                raise UserError(_an_export(item, "an ONNX", extensions))
            if a_torch_file(path) and _media(extensions) == "images":  # fast-style-eval's --photos: no videos
                raise UserError(
                    f"{item} is a PyTorch file (a style model, weights or a checkpoint), not a picture: give "
                    f"held-out pictures{option_note('--photos')}, and a style model as a model to score"
                )
            if a_torch_file(path):  # (it failed as a picture, after the others were stylized)
                raise UserError(
                    f"{item} is a PyTorch file (a style model, weights or a checkpoint), not a picture or video: give "
                    f"pictures and videos as the inputs, and a style model as the model{option_note('--model')}"
                )
            found.append((path, path.parent))
        else:
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))  # ~ expanded, as for a file
            base = Path(*itertools.takewhile(lambda part: not glob.has_magic(part), path.parts))  # "" -> "."
            files = [m for m in matches if m.is_file() and m.suffix.lower() in extensions and wanted(m, base)]
            files = [m for m in files if not _a_model_export(m)]  # a model beside the photos: not a video
            if not files:
                raise UserError(_not_found(item, path, extensions))
            found += [(f, f.parent) for f in files]
    unique: dict[Path, tuple[Path, Path]] = {}  # a file given twice (a folder and a file in it) is one input
    for f, root in found:
        unique.setdefault(f.resolve(), (f, root))
    return list(unique.values())


def _not_found(item: str, path: Path, extensions: tuple[str, ...] = MEDIA_EXTENSIONS) -> str:
    """Why an input named outright is none: not there, or there but not a file to read (a pipe, a device, a link
    to nothing or to itself)."""
    if path.is_symlink() and not path.exists():
        target = os.readlink(path)
        return f"{item} is a link to {target}, which does not exist (or leads back to the link): fix or remove it"
    if path.exists():
        kind = "picture or video" if _media(extensions) == "images or videos" else "picture"
        return f"{item} is not a regular file (a pipe, a socket or a device): give a {kind} file"
    return f"no such file, folder or matching {_media(extensions)}: {item}"


def _media(extensions: tuple[str, ...]) -> str:
    """What `extensions` pick up, in words."""
    return "images or videos" if set(extensions) & set(VIDEO_EXTENSIONS) else "images"


def _search(
    folder: Path, item: str, wanted: Callable[[Path], bool], extensions: tuple[str, ...] = MEDIA_EXTENSIONS
) -> list[Path]:
    """The images and videos below `folder` that `wanted` takes, in one walk; those in an earlier run's default
    output folder are left out, and the files that are not images or videos (a RAW+JPEG shooter's .CR2/.dng, left
    out without a word before) counted, each in a warning."""
    media: list[Path] = []
    earlier: list[Path] = []
    others: list[Path] = []
    for f in files_below(folder, lambda name: True):
        in_earlier = DEFAULT_OUTPUT in f.relative_to(folder).parts[:-1]
        if os.path.splitext(f.name)[1].lower() not in extensions or _a_model_export(f):  # (counted too)
            if not in_earlier:
                others.append(f)
        elif wanted(f):
            (earlier if in_earlier else media).append(f)
    if earlier:
        parts = earlier[0].relative_to(folder).parts
        first = folder.joinpath(*parts[: parts.index(DEFAULT_OUTPUT) + 1])
        log.warning(
            "%s: left out %s in %s/ (an earlier run's output: name that folder to stylize %s)",
            item,
            counted(len(earlier), "file"),
            first,
            "it" if len(earlier) == 1 else "them",
        )
    if others:
        kinds = sorted({f.suffix.lower() or "no extension" for f in others})
        listed = ", ".join(kinds[:4]) + (", ..." if len(kinds) > 4 else "")
        kind = _media(extensions)
        if len(others) == 1:  # (it said "left out 1 file(s) that are not images")
            kind = "is not an image or video" if kind == "images or videos" else "is not an image"
        else:
            kind = f"are not {kind}"
        log.warning("%s: left out %s that %s (%s)", item, counted(len(others), "file"), kind, listed)
    return media


def _a_model_export(path: Path) -> bool:
    """Whether `path` is a .ts file that is not a video (MPEG-TS) but a TorchScript export, or another file; or a
    .mod file that is not a camcorder's video (MPEG-PS) but a tracker's music module, or another file."""
    return path.suffix.lower() in (".ts", ".mod") and not is_video(path)


def _not_a_stream(item: str, path: Path, extensions: tuple[str, ...] = MEDIA_EXTENSIONS) -> str:
    """Why a .ts or .mod file named outright is not stylized: a .ts is a model, or holds no video packets; a .mod
    holds no MPEG program stream (a tracker's music module). Where pictures alone are taken (fast-style-eval's
    --photos: it was told to stylize with --style, there the painting), as a picture, in one wording for both.
    (An empty one is a video to fast_style.file_kinds.is_video: it is said to be empty as an empty .mp4 is.)"""
    mod = path.suffix.lower() == ".mod"
    if not mod and torch_file_kind(path) == "zip":  # torch's own format: a TorchScript export
        return _an_export(item, "a TorchScript", extensions)
    stream = "MPEG program stream" if mod else "MPEG transport stream packets"
    if _media(extensions) == "images":  # (a .mod was "not a picture: no MPEG program stream in it", no remedy)
        return (
            f"{item} is not a picture (a {path.suffix.lower()} file, and no video: no {stream} in it): give "
            f"held-out pictures{option_note('--photos')}"
        )
    other = "a tracker's music module" if mod else "a damaged recording"
    return f"{item} is not a video: no {stream} in it ({other}, or another file)"


def _an_export(item: str, kind: str, extensions: tuple[str, ...] = MEDIA_EXTENSIONS) -> str:
    """Why fast-style-export's output (`kind`: "an ONNX", "a TorchScript"), named outright, is no input, and what
    to give."""
    if _media(extensions) == "images":
        return (
            f"{item} is {kind} export (fast-style-export's), not a picture: give held-out pictures"
            f"{option_note('--photos')}, and score the style model it was exported from (its .pt or a built-in "
            "style's name)"
        )
    return (
        f"{item} is {kind} export (fast-style-export's), not a picture or video: stylize with the style it was "
        f"exported from{option_note('--style', '--model')} and give photos or videos"
    )


def _still(path: Path) -> bool:
    """Whether a picture has one frame (an unreadable one counts as still: reading it will say what is wrong)."""
    try:
        return frame_count(path) == 1
    except (OSError, ValueError, *BOMB):
        return True


def _output_formats(src: Path) -> tuple[str, tuple[str, ...]]:
    """("video" or "image", the extensions its stylized copy may have)."""
    return ("video", tuple(VIDEO_OUTPUTS)) if is_video(src) else ("image", IMAGE_OUTPUTS)


NAME_FIELDS = ("stem", "ext", "suffix", "style", "model")  # --name's fields


def check_name_pattern(name: str) -> None:
    """`--name` takes its fields as they are: no attributes, indexes, conversions or formats of them
    ('{stem.upper}' had named a file after a method's repr)."""
    try:
        parsed = list(string.Formatter().parse(name))
    except ValueError:
        parsed = [("", "?", "", None)]
    for _, field, spec, conversion in parsed:
        if field is not None and (field not in NAME_FIELDS or spec or conversion):
            fields = ", ".join(f"{{{f}}}" for f in NAME_FIELDS)
            said = setting("--name", "name")
            raise UserError(f"bad {said} pattern '{name}': use the fields {fields} as they are")


def plan_outputs(
    items: list[tuple[Path, Path]], output: str, name: str, style: str, model: str | None = None
) -> list[tuple[Path, Path]]:
    """[(input, output path)]: `output` is a file for one input with an image extension, else a folder. In a
    folder, `name` makes each file's name from its {stem}, {ext} (the output's), {suffix} (the input's own
    extension), the painting ({style}) and the model's name ({model}: a built-in style's, or the model file's stem;
    `style` where not given)."""
    if not output.strip():  # an unset shell variable: not the current folder
        raise UserError("-o is empty: give a file or a folder")
    out = Path(output).expanduser()
    try:
        out.is_dir()
    except OSError as e:  # in a folder closed to this user: a PermissionError's traceback
        raise UserError(f"-o {output}: {e.strerror or e}: give a folder you can write in") from None
    if out.name.lower() in (*IMAGE_OUTPUTS, *VIDEO_OUTPUTS) and not out.is_dir():  # -o .jpg: a hidden folder
        raise UserError(f"-o {output} is an extension alone: give a file name, e.g. out{out.name}, or a folder")
    as_file = bool(out.suffix) and not out.is_dir() and not output.endswith(("/", os.sep))
    if as_file and len(items) > 1:
        folder = "give a folder"
        if out.suffix.lower() not in (*IMAGE_OUTPUTS, *VIDEO_OUTPUTS):  # out.v1: a folder's name with a dot
            folder = f"for a folder, end it with / (-o {output}/)"
        raise UserError(f"-o {output} names one file, but there are {len(items)} inputs: {folder}")
    kind, formats = _output_formats(items[0][0])
    if as_file and kind == "image" and out.suffix.lower() in VIDEO_EXTENSIONS and not _still(items[0][0]):
        # an animated GIF, WebP or PNG asked for as a video: it was "not a video: an image is written as .jpg, .jpeg,
        # .png, .apng, ...", which named none that keeps it moving (it is written as an animation, not as a video:
        # FFmpeg reads no animated WebP, and an animation's own formats keep its loop, timing and transparency)
        src = items[0][0]
        own = src.suffix.lower() if src.suffix.lower() in ANIMATED_OUTPUTS else ".webp"
        raise UserError(
            f"-o {output} names a video, but {src} is an animation of {frame_count(src)} frames, not a video: it is "
            f"written as an animation, as {', '.join(ANIMATED_OUTPUTS)} (-o {out.with_suffix(own)})"
        )
    if as_file and kind == "image" and out.suffix.lower() in VIDEO_OUTPUTS:  # not "unknown image format '.mp4'"
        from fast_style.media.video import video_or_sound_instead  # (FFmpeg's look at the file: loaded only here)

        if instead := video_or_sound_instead(items[0][0]):  # (it said the video was none)
            raise UserError(f"{items[0][0]}: {instead}")
        raise UserError(
            f"-o {output} names a video, but {items[0][0]} is not a video: an image is written as "
            f"{', '.join(formats[:4])}, ..."
        )
    if as_file and out.suffix.lower() not in formats:
        written = "a video is not written" if kind == "video" else "an image is not written"  # (.webm is read)
        raise UserError(
            f"-o {output}: {written} as '{out.suffix}': use {', '.join(formats)} (or end it with / for a folder)"
        )
    if as_file:
        return _folders_possible([(items[0][0], out)], output)
    if out.is_file():
        if len(items) > 1 or output.endswith(("/", os.sep)):
            raise UserError(f"-o {output} is an existing file: give a folder")
        raise UserError(
            f"-o {output} is an existing file without an extension: give a folder, or a file name such "
            f"as {out.name}{formats[0]}"
        )
    check_name_pattern(name)
    plans = []
    pngs = {(src.parent, src.stem) for src, _ in items if src.suffix.lower() == ".png"}  # their outputs' names
    for src, root in items:
        rel = src.relative_to(root).parent
        ext = Path(video_output_name(src)).suffix if is_video(src) else src.suffix  # .webm/.avi in: .mp4 out
        if not is_video(src) and (ext.lower() not in IMAGE_OUTPUTS or (ext.lower() == ".gif" and _still(src))):
            # a phone's HEIC photo comes out as the JPEG phones share (HEIC is read, not written), and a still GIF
            # as a JPEG too (256 colours would band the strokes); an animated one stays a GIF. One with see-through
            # pixels as a PNG (a JPEG filled them white: a transparent GIF logo lost its transparency unsaid), unless
            # a PNG of its name is among the inputs (logo.gif beside logo.png: the JPEG says what it leaves out)
            ext = ".png" if has_transparency(src) and (src.parent, src.stem) not in pngs else ".jpg"
        suffix = src.suffix.lstrip(".")
        filename = name.format(stem=src.stem, ext=ext.lstrip("."), suffix=suffix, style=style, model=model or style)
        dst = out / rel / filename
        kind, formats = _output_formats(src)
        if dst.suffix.lower() not in formats:  # before any work, not after the photos are done
            raise UserError(
                f"{setting('--name', 'name', name)} gives {dst.name} for {src.name}: {kind}s need one of "
                f"{', '.join(formats)} (use {{ext}})"
            )
        if not dst.resolve().is_relative_to(out.resolve()):
            raise UserError(
                f"{setting('--name', 'name', name)} leads outside the output folder {out}: use a plain file name "
                "pattern"
            )
        plans.append((src, dst))
    plans = _without_earlier_outputs(plans)
    seen: dict[Path, Path] = {}
    for src, dst in plans:
        if (first := seen.get(dst.resolve())) is not None:
            said = setting("--name", "name")
            hint = f"use {said} with {{stem}}"  # a pattern without it names every file alike
            if first.stem == src.stem and first.suffix != src.suffix:  # a.mp4 and a.webm, IMG.HEIC and IMG.JPG
                hint = f"use {said} with the input's own extension, {{suffix}}: '{{stem}}_{{suffix}}.{{ext}}'"
            elif first.name == src.name:  # coll/a/p.jpg and coll/b/p.jpg given one by one (a glob): no folder kept
                try:
                    above = Path(os.path.commonpath([first.absolute(), src.absolute()]))
                except ValueError:  # Windows: on two drives
                    above = Path(first.absolute().anchor)
                hint = f"give the folder that holds both ({_shown(above)}): its subfolders are kept in {output}"
                if above.parent == above:  # only the file system's root (or none) holds both
                    hint = f"stylize them into separate {setting('-o', 'output')} folders"
            raise UserError(f"{first} and {src} would both be written to {dst}: {hint}")
        seen[dst.resolve()] = src
    return _folders_possible(plans, output)


def _without_earlier_outputs(plans: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """`plans` less those whose input another input's output replaces: an earlier run's result found again (-o the
    input folder with a --name, as the refusal of -o the input folder suggests; a shell's * that takes the output
    folder) was stylized again on every rerun, a name longer each time (a_wave_wave.jpg), or collided with its own
    source ("would both be written"). Said in a warning. A file beside its maker with the same name but for the
    extension is not taken for an output: it may as well be the user's own (a phone's IMG_1.HEIC and IMG_1.JPG, a
    clip.avi and clip.mp4; left out, --force wrote over it), so the two are reported as colliding."""
    resolved = [(src.resolve(), dst.resolve()) for src, dst in plans]  # (once each: thousands of files)
    makers: dict[Path, set[Path]] = {}
    for src, dst in resolved:
        makers.setdefault(dst, set()).add(src)

    def made(src: Path) -> bool:  # by another input, under a name that tells it from a file of the user's
        return any(m != src and (m.parent, m.stem) != (src.parent, src.stem) for m in makers.get(src, ()))

    earlier = [plan[0] for plan, (src, _) in zip(plans, resolved) if made(src)]
    if not earlier or len(earlier) == len(plans):
        return plans
    log.warning(
        "left out %s this run writes (an earlier run's %s): %s replaces %s",
        counted(len(earlier), "file"),
        f"output, {earlier[0]}" if len(earlier) == 1 else f"outputs, such as {earlier[0]}",
        remedy("--force", "force=True") or "--force",
        "it" if len(earlier) == 1 else "them",
    )
    left_out = set(earlier)
    return [(src, dst) for src, dst in plans if src not in left_out]


def _folders_possible(plans: list[tuple[Path, Path]], output: str) -> list[tuple[Path, Path]]:
    """`plans`, once no output's folder is blocked by a file (checked before any work, not file by file)."""
    for folder in {dst.parent for _, dst in plans}:
        if said := in_the_way(folder):
            raise UserError(f"{setting('-o', 'output', output)}: {said}: choose another output")
    return plans


def refuse_if_nothing_to_write(plans: list[tuple[Path, Path]], force: bool) -> None:
    """Before any work: where `check_output` (fast_style.atomic) would refuse every output, nothing could be
    written: one line (exit 2), not one per file after loading the model. Where only some are refused, those are
    reported file by file as the work goes (fast_style.inference.batch)."""
    inputs = {src.resolve() for src, _ in plans}
    refused = [(dst, why) for _, dst in plans if (why := output_refusal(dst, force, inputs, named=False))]
    if not plans or len(refused) < len(plans):
        return
    if all(is_an_input(dst, inputs) for dst, _ in refused):
        if len(refused) == 1:  # (-o may name the file itself, where --name is refused: a file name for it)
            dst = refused[0][0]
            other = dst.with_name(f"{dst.stem}_stylized{dst.suffix}")
            raise UserError(
                f"the output would be written over its input ({dst}): give another {setting('-o', 'output')}, e.g. "
                f"{setting('-o', 'output', other)}"
            )
        raise UserError(
            f"every output would be written over its input (e.g. {refused[0][0]}): give another "
            f"{setting('-o', 'output')}, or a {setting('--name', 'name')} such as '{{stem}}_{{style}}.{{ext}}'"
        )
    if len(refused) == 1:
        raise UserError(refused[0][1])
    if not force and all(dst.is_file() for dst, _ in refused):
        raise UserError(
            f"{len(refused)} outputs exist (e.g. {refused[0][0]}): {to_overwrite()}, or give another "
            f"{setting('-o', 'output')}"
        )
    reasons = [reason for _, reason in refused]
    raise UserError(f"none of the {len(refused)} outputs can be written: {first_of(reasons)}")


def _shown(folder: Path) -> str:
    """`folder` as short as a user would type it: relative to the current folder where it lies below it."""
    try:
        return str(folder.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(folder)
