"""A style model to ONNX (dynamic batch, height, width) or TorchScript, compared with PyTorch before writing."""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path

import torch

from fast_style import zoo
from fast_style.atomic import atomic_write, save_torch
from fast_style.errors import UserError, setting
from fast_style.file_kinds import media_named
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model
from fast_style.numbers import check_number
from fast_style.outputs import check_output, check_writable, unreadable_name

# odd sizes on purpose: padding to a multiple of 4 and cropping back must survive export
CHECK_SHAPES = ((1, 3, 67, 93), (2, 3, 128, 97), (1, 3, 45, 301))
TOLERANCE = 1e-4  # max abs difference in [0, 1] pixel units (fp32; about 1/40 of one 8-bit level)


def _check_net(net: object, what: str) -> None:
    """TypeError, in one line, where `net` is no TransformerNet (a path, a Linear failed deep inside torch)."""
    if not isinstance(net, TransformerNet):
        hint = ": export(path, output) exports a style model's file" if isinstance(net, (str, os.PathLike)) else ""
        raise TypeError(f"{what} takes a fast_style TransformerNet, not {type(net).__name__}{hint}")


def to_onnx_bytes(net: TransformerNet, opset: int = 17) -> bytes:
    """`net` as an ONNX model (dynamic batch, height and width), not checked against PyTorch (`check_onnx`)."""
    _check_net(net, "to_onnx_bytes")
    opset = check_opset(opset)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape arithmetic, which we check below
        torch.onnx.export(
            net,
            (torch.rand(1, 3, 64, 64),),
            buf,
            dynamo=False,
            opset_version=opset,
            input_names=["image"],
            output_names=["stylized"],
            dynamic_axes={
                "image": {0: "batch", 2: "height", 3: "width"},
                "stylized": {0: "batch", 2: "height", 3: "width"},
            },
        )
    return buf.getvalue()


def check_onnx(net: TransformerNet, model: bytes) -> float | None:
    """Max abs difference against eager PyTorch over CHECK_SHAPES; None where onnxruntime is missing."""
    _check_net(net, "check_onnx")
    if not isinstance(model, bytes):  # (a path: onnx's "Parameter 'serialized' must be bytes")
        raise TypeError(f"check_onnx takes the ONNX model's bytes (to_onnx_bytes(net)), not {type(model).__name__}")
    import onnx

    onnx.checker.check_model(onnx.load_from_string(model))
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return _max_diff(net, lambda x: torch.from_numpy(session.run(None, {"image": x.numpy()})[0]))


def to_torchscript(net: TransformerNet) -> torch.jit.ScriptModule:
    """`net` traced to TorchScript, not checked against PyTorch."""
    _check_net(net, "to_torchscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(net, torch.rand(1, 3, 64, 64), check_trace=False)


def _max_diff(net: TransformerNet, run) -> float:
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    with torch.no_grad():
        for shape in CHECK_SHAPES:
            x = torch.rand(shape, generator=gen)
            y, expected = run(x), net(x)
            if y.shape != x.shape:
                raise RuntimeError(f"exported model returned {tuple(y.shape)} for input {shape}")
            if not expected.isfinite().all():  # (it matched its NaN export: "difference 0.0e+00")
                raise UserError("the model paints NaN or infinite values: its weights are damaged, nothing to export")
            diff = (y - expected).abs().max().item()
            if math.isnan(diff):  # the export paints NaN where PyTorch does not (max(0.0, nan) is 0.0)
                return diff
            worst = max(worst, diff)
    return worst


MIN_OPSET, MAX_OPSET = 11, 23  # tested range for torch 2.14's TorchScript-based exporter
DEFAULT_OPSET = 17


def check_opset(opset: object) -> int:
    """`opset` as an int: any integral number (numpy's int64 was refused) but a bool, from MIN_OPSET to MAX_OPSET;
    as every setting's number (fast_style.numbers): TypeError for no number ('17', True), UserError in one line for
    another number (17.0 had passed the range check, and torch printed its graph)."""
    # the range checked below, in words of its own: why these numbers, and the default
    takes = f"a whole number, {MIN_OPSET} to {MAX_OPSET}"
    number = int(check_number(setting("--opset", "opset"), opset, lambda _: True, takes, integer=True))
    if not MIN_OPSET <= number <= MAX_OPSET:
        raise UserError(
            f"{setting('--opset', 'opset', number)}: choose {MIN_OPSET} to {MAX_OPSET} (the network needs "
            f"{MIN_OPSET}'s padding; torch's exporter stops at {MAX_OPSET}); the default is {DEFAULT_OPSET}"
        )
    return number


# the extensions of the files a model is trained into, which an export must not pass for
CHECKPOINT_EXTENSIONS = {
    ".pt": "a style model's extension",
    ".ckpt": "a training checkpoint's extension",
    ".pth": "PyTorch weights' extension",
}


def output_file(output: str, model: str, fmt: str | None = None) -> Path:
    """`output` as given, or, where it is a folder (one that exists, a name ending in /, or a name without an
    extension that is not a file: as fast-style-stylize reads -o), the model's name in it (wave.onnx; a run's
    style.pt is named by its folder: runs/sea/style.pt gives sea.onnx)."""
    if not str(output).strip():  # an unset shell variable: not the current folder
        raise UserError(f"{setting('-o', 'output')} is empty: give a file (wave.onnx) or a folder")
    out = Path(output).expanduser()
    if said := unreadable_name(out):  # a name too long for the disk: an OSError's traceback
        raise UserError(f"cannot write {output}: {said}; choose another {setting('-o', 'output')}")
    torchscript = (fmt is not None and str(fmt).lower() == "torchscript") or (fmt is None and out.name.lower() == ".ts")

    def named() -> str:  # (only where needed: a model's name may be no file's, too long for one)
        return zoo.model_name(str(model)) + (".ts" if torchscript else ".onnx")

    # -o .onnx: a hidden folder's name to pathlib (no suffix), .onnx/wave.onnx written; a file name missing its stem
    # (a folder of that name that exists, or -o .onnx/, is a folder)
    slash = str(output).endswith(("/", os.sep))
    if out.name.lower() in (".onnx", ".ts", *CHECKPOINT_EXTENSIONS) and not (out.is_dir() or slash):
        raise UserError(
            f"{setting('-o', 'output', output)} is an extension alone: give a file name, e.g. "
            f"{out.with_name(named())}, or a folder"
        )
    folder = out.is_dir() or slash or not (out.suffix or out.is_file())
    if not folder:
        return out
    return out / named()


def export(model_path: str, output: str, fmt: str | None = None, opset: int | None = None, force: bool = False) -> str:
    """Export and verify; returns a one-line report. `output`: a file (.onnx or .ts), or a folder to hold one
    named after the model (`output_file`). `opset`: ONNX only (default 17)."""
    if not isinstance(model_path, (str, os.PathLike)):  # (pathlib's "expected str, bytes or os.PathLike object")
        hint = ": save_style_model(net, 'style.pt') first" if isinstance(model_path, torch.nn.Module) else ""
        raise TypeError(
            f"export takes a style model's path or a built-in style's name, not {type(model_path).__name__}{hint}"
        )
    if not isinstance(output, (str, os.PathLike)):
        raise TypeError(f"export's output is a file's or a folder's path, not {type(output).__name__}")
    out = output_file(output, model_path, fmt)
    output = str(out)
    if fmt is not None and str(fmt).lower() not in ("onnx", "torchscript"):
        raise UserError(f"format {fmt!r}: choose onnx or torchscript")
    fmt = None if fmt is None else str(fmt).lower()  # (ONNX, as the format's own name is spelt)
    kind = {"onnx": "an ONNX export goes to a .onnx", "torchscript": "a TorchScript export goes to a .ts"}.get(
        fmt or "", "an export goes to a .onnx (ONNX) or .ts (TorchScript)"
    )
    # fast-style's own models (.pt), a training run's checkpoints (.ckpt), PyTorch weights (.pth): an export there
    # would pass for one (-o last.ckpt --format onnx wrote an ONNX file under that name)
    if said := CHECKPOINT_EXTENSIONS.get(out.suffix.lower()):
        raise UserError(f"'{output}': {out.suffix} is {said}; {kind} file")
    # a picture's or video's name (-o photo.png --format onnx): with --force it replaced the photo by a model
    if media := media_named(out):
        raise UserError(f"'{output}': {out.suffix} is {media}'s extension; {kind} file")
    implied = {".onnx": "onnx", ".ts": "torchscript"}.get(out.suffix.lower())
    if fmt and implied and fmt != implied:  # a TorchScript file named .onnx would fail in every ONNX runtime
        wanted = ".onnx" if fmt == "onnx" else ".ts"
        raise UserError(f"format {fmt}, but '{output}' ends in {out.suffix}: name it {wanted}")
    if implied is None:  # -o x.txt --format onnx wrote an ONNX file named x.txt (a folder's is named by output_file)
        ends = f"ends in {out.suffix}" if out.suffix else "has no extension"
        named = out.with_suffix(".ts" if fmt == "torchscript" else ".onnx")
        raise UserError(f"'{output}' {ends}: {kind} file: name it {named}, or give a folder")
    fmt = fmt or implied
    if fmt == "torchscript" and opset is not None:
        raise UserError(f"{setting('--opset', 'opset', opset)} is for ONNX exports: a TorchScript file has no opset")
    opset = check_opset(DEFAULT_OPSET if opset is None else opset)
    model_path = str(zoo.resolve(model_path))  # a file, or a built-in style's name
    check_output(out, force, {Path(model_path).resolve()})
    check_writable(out.parent, setting("-o", "output", out))  # a file in the way, read-only: before the work
    net, _ = load_style_model(model_path)
    # compared first, written (atomically) only when it matches: an earlier export under --force stays otherwise
    if fmt == "onnx":
        data = to_onnx_bytes(net, opset)
        diff = check_onnx(net, data)
        checked = "checked by onnx only (install onnxruntime to compare outputs)" if diff is None else None
    else:
        scripted = to_torchscript(net)
        diff = _max_diff(net, scripted)
        checked = None
    if diff is not None and not diff <= TOLERANCE:  # NaN fails too
        raise UserError(f"exported model differs from PyTorch by {diff:.2e} (> {TOLERANCE:g}): not written")
    if fmt == "onnx":
        with atomic_write(out, overwrite=force) as tmp:
            tmp.write_bytes(data)
    else:
        save_torch(scripted, out, overwrite=force)
    check = checked or f"max abs difference to PyTorch {diff:.1e} on sizes " + ", ".join(
        f"{s[2]}x{s[3]}" for s in CHECK_SHAPES
    )
    return f"wrote {out} ({fmt}, {out.stat().st_size / 1e6:.1f} MB); {check}"
