"""A style-model file: a trained transform network's hyper-parameters and weights (float32, or float16 for the
zoo), with what it was trained on, in plain containers that load safely; enough to rebuild the network without
the training config."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from fast_style.atomic import save_torch
from fast_style.devices import pick_device
from fast_style.errors import EMPTY_FILE, UserError, first_line
from fast_style.file_kinds import IMAGE_EXTENSIONS, media_named, torch_file_kind
from fast_style.model.network import TransformerNet, not_a_network
from fast_style.outputs import check_output

STYLE_MODEL_FORMAT = "fast-style/style-model"
STYLE_MODEL_VERSION = 1


class StyleModelError(UserError):
    """A style-model file that cannot be used; the message says why in one line."""


def style_model_payload(
    net: TransformerNet, meta: dict[str, Any] | None = None, dtype: torch.dtype = torch.float32
) -> dict[str, Any]:
    """What a style-model file holds: plain containers and tensors only (safe to load). `dtype` float16 halves
    the file (the model zoo's); loading always gives a float32 network."""
    if not isinstance(net, TransformerNet):  # (a path, load_style_model's pair, a Stylizer: an AttributeError)
        raise TypeError(
            "save_style_model takes a TransformerNet, "
            + not_a_network(
                net, "a file is copied as it is (shutil.copy), a network loaded with load_style_model(path)[0]"
            )
        )
    if meta is not None and not isinstance(meta, dict):  # (a list failed in dict()'s words)
        raise TypeError(f"meta must be a dict of plain values or None, not {type(meta).__name__}")
    if not isinstance(dtype, torch.dtype):  # ("fp16", as a Stylizer takes it: "not float16", a ValueError)
        raise TypeError(f"dtype is torch.float32 or torch.float16 (a torch.dtype), not {dtype!r}")
    if dtype not in (torch.float32, torch.float16):
        raise ValueError(f"style models are stored as torch.float32 or torch.float16, not {dtype}")
    if (odd := _not_plain(meta or {})) is not None:  # loading refuses Python objects: the file would be unreadable
        raise TypeError(f"meta holds {odd!r} ({type(odd).__name__}): use str, int, float, bool, None, lists and dicts")
    state = {k: v.detach().to("cpu", dtype).clone() for k, v in net.state_dict().items()}
    if (damaged := _not_finite(state)) is not None:  # it would paint black pictures without a word
        overflow = dtype == torch.float16 and net.state_dict()[damaged].isfinite().all()
        too_large = " (too large for float16)" if overflow else ""
        raise UserError(f"the network's weight {damaged} holds NaN or infinite values{too_large}: not saved")
    return {
        "format": STYLE_MODEL_FORMAT,
        "version": STYLE_MODEL_VERSION,
        "config": dict(net.config),
        "meta": dict(meta or {}),
        "state_dict": state,
    }


def _not_finite(state: dict[str, torch.Tensor]) -> str | None:
    """The first weight of `state` holding NaN or an infinity, None where all are finite."""
    return next((k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()), None)


def _not_plain(value: Any) -> Any:
    """The first value in `value` that is not a plain one (str, int, float, bool, None, list, tuple, dict), else
    None."""
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        return next((odd for v in value if (odd := _not_plain(v)) is not None), None)
    return None if value is None or type(value) in (str, int, float, bool) else value


def save_style_model(
    net: TransformerNet,
    path: str | Path,
    meta: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float32,
    force: bool = False,
) -> Path:
    """Write a standalone style model atomically (a crash never leaves a truncated file in its place); an existing
    file is replaced only with `force` (a photo passed by mistake was replaced by the model, without a word)."""
    if not isinstance(path, (str, os.PathLike)):  # (pathlib's "expected str, bytes or os.PathLike object")
        raise TypeError(f"save_style_model writes to a file's path (e.g. 'style.pt'), not {type(path).__name__}")
    if not os.fspath(path).strip():  # (read as the current folder: "cannot write .: it is a folder")
        raise UserError("save_style_model's path is empty: give a file's name, e.g. style.pt")
    check_model_name(path)
    path = Path(path).expanduser()  # as Stylizer.load and fast-style-stylize read it (it went to a folder named ~)
    # the arguments first (a few MB copied): the arguments swapped, or a Stylizer given, over an existing file said
    # "exists: use force=True", and with it the mistake
    payload = style_model_payload(net, meta, dtype)
    check_output(path, force)
    return save_torch(payload, path, overwrite=force)


def check_model_name(path: str | Path) -> None:
    """UserError where `path` is named as a picture or a video (save_style_model(net, "x.png") wrote a model under a
    picture's name), in fast-style-export's words for an export so named (`file_kinds.media_named`); or as an export
    (x.onnx: a torch file that passed for an ONNX export, as fast-style-export refuses to name an export x.pt)."""
    suffix = Path(path).suffix.lower()
    if kind := media_named(path) or {".onnx": "an ONNX export", ".ts": "a TorchScript export"}.get(suffix):
        made = " (fast_style.model.export.export makes an export of it)" if suffix in (".onnx", ".ts") else ""
        raise UserError(
            f"{path}: {Path(path).suffix} is {kind}'s extension; a style model goes to a .pt file, e.g. "
            f"{Path(path).with_suffix('.pt')}{made}"
        )


def a_picture(path: str | Path) -> str | None:
    """Where `path` is named as a picture (a painting, given for what stylizes in its style), the line that says it is
    no style model and what to do with it; else None."""
    if Path(path).suffix.lower() not in IMAGE_EXTENSIONS:
        return None
    return (
        f"{path} is a picture, not a style model: train one on the painting (fast-style-train style.image={path}), "
        f"or paint one photo in its style with fast-style-optimize PHOTO -s {path}"
    )


def _why_unreadable(path: str, error: Exception) -> str:
    """One line for a file torch.load(weights_only=True) refused."""
    hint = "pass the style .pt that fast-style-train wrote"
    try:
        kind = torch_file_kind(path)
    except OSError as e:
        return f"cannot read style model {path}: {e.strerror}"
    if kind == "empty":  # (as pictures, videos and paintings say it: images.unreadable_because)
        return f"{path} is {EMPTY_FILE}: get or train it again"
    if kind == "other":  # neither a zip nor a legacy pickle
        if str(path).lower().endswith(".onnx"):
            return (
                f"{path} is an ONNX export, for other programs: pass the style .pt (or a built-in style's name) "
                "it came from (fast-style-stylize --backend onnxruntime runs that through ONNX Runtime)"
            )
        return a_picture(path) or f"{path} is not a fast-style model (not a PyTorch file): {hint}"
    if "TorchScript" in str(error):
        return (
            f"{path} is a TorchScript export, for other programs: pass the style .pt (or a built-in style's name) "
            "it came from"
        )
    if "Weights only load failed" in str(error):  # Python objects beyond tensors and containers
        return (
            f"{path} is not a fast-style model (a TorchScript export or a file holding Python objects, which "
            f"are never loaded: they could run code): {hint}"
        )
    if kind == "zip":  # torch's zip format, unreadable: cut short or damaged
        return f"{path} is damaged (cut short by a download or a full disk?): get or train it again"
    first = first_line(error, 10_000)
    return f"{path} is not a readable fast-style model ({first[:200]}): {hint}"


def _model_of_checkpoint(path: Path, payload: dict) -> str:
    """What to pass for a training checkpoint: the style model written beside it at its step (StyleModelWriter's
    style-step=N.pt), else its run's style.pt where they are there (it said only "the style .pt its run wrote")."""
    step = payload.get("global_step")
    beside = path.parent / f"style-step={step:06d}.pt" if isinstance(step, int) else None
    if beside is not None and beside.is_file():
        return f"pass the style model written beside it at its step, {beside}"
    if (path.parent.parent / "style.pt").is_file():
        return f"pass its run's style model, {path.parent.parent / 'style.pt'}"
    return "pass the style .pt its run wrote (style.pt in the run's folder)"


def load_style_model(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[TransformerNet, dict[str, Any]]:
    """Rebuild the network from a style-model file (or a built-in style's name), without the training config and
    without unpickling code. `map_location`: where the file's tensors are read to (the network comes back on the
    CPU)."""
    if not isinstance(path, (str, os.PathLike)):  # (an int was read as an open file descriptor)
        raise TypeError(
            f"load_style_model takes a style model's path or a built-in style's name, not {type(path).__name__}"
        )
    path = os.path.expanduser(os.fspath(path))  # as Stylizer.load reads it (save_style_model writes it so)
    map_location = pick_device(map_location)  # (one torch cannot read to, "gpu", was said to be a damaged file)
    if not Path(path).is_file():
        from fast_style import zoo

        if str(path) in zoo.names():  # a built-in style's name, as everything else that takes a style model takes (a
            path = str(zoo.ZOO_DIR / f"{path}.pt")  # file of that name wins; a folder does not, as in zoo.resolve)
        elif Path(path).is_dir():  # a run's folder: its style.pt, as Stylizer.load and export take it ("cannot read
            try:  # style model runs/sea: Is a directory")
                path = str(zoo.resolve(path))
            except UserError as e:  # (a folder without one: which to give instead)
                raise StyleModelError(str(e)) from None
    try:
        with warnings.catch_warnings():  # torch's notice on a TorchScript archive: refused below in one line
            warnings.filterwarnings("ignore", message=".*looks like a TorchScript archive", category=UserWarning)
            # and on a pickle of another protocol (a plain torch.save of something else): refused below in one line
            warnings.filterwarnings("ignore", message=".*Detected pickle protocol", category=UserWarning)
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        from fast_style import zoo

        bare = isinstance(path, str) and not Path(path).suffix and len(Path(path).parts) == 1  # a name: Wave, wav
        raise StyleModelError(f"style model not found: {path}{zoo.near_miss(path) if bare else ''}") from None
    except Exception as e:  # truncated, foreign or hostile files all land here
        raise StyleModelError(_why_unreadable(path, e)) from None
    if not isinstance(payload, dict) or payload.get("format") != STYLE_MODEL_FORMAT:
        if isinstance(payload, dict) and "pytorch-lightning_version" in payload:
            raise StyleModelError(f"{path} is a training checkpoint: {_model_of_checkpoint(Path(path), payload)}")
        raise StyleModelError(
            f"{path} is a PyTorch file but not a fast-style model: pass the style .pt that "
            "fast-style-train wrote, or a built-in style's name"
        )
    version = payload.get("version")
    if not isinstance(version, int):  # ("has style-model format version 1; this fast-style reads up to 1")
        raise StyleModelError(f"{path} is damaged: its format version is {version!r}, not a whole number")
    if version > STYLE_MODEL_VERSION:
        raise StyleModelError(
            f"{path} has style-model format version {version}; this fast-style reads up to "
            f"{STYLE_MODEL_VERSION}: upgrade fast-style"
        )
    config, meta = payload.get("config") or {}, payload.get("meta") or {}
    if not isinstance(config, dict) or not isinstance(meta, dict):  # (a traceback where a folder was served)
        raise StyleModelError(
            f"{path} is damaged: its {'config' if not isinstance(config, dict) else 'meta'} is no table"
        )
    config = dict(config)
    if config.pop("input_skip", False):  # fast-style 0.1's option, removed: it painted blobs (benchmarks/README.md)
        raise StyleModelError(
            f"{path} was trained with model.input_skip=true, which this fast-style no longer has: "
            "train it again (the default network is better), or use fast-style 0.1"
        )
    if "state_dict" not in payload:  # (it said "is damaged: 'state_dict'", KeyError's words)
        raise StyleModelError(f"{path} is damaged: it holds no weights (no state_dict)")
    try:
        net = TransformerNet(**config)
        net.load_state_dict(payload["state_dict"])  # float16 files are copied into the float32 parameters
    except (KeyError, TypeError, ValueError, RuntimeError, UserError) as e:  # (UserError: a setting's number)
        raise StyleModelError(f"{path} is damaged: {first_line(e)}") from None
    if (damaged := _not_finite(payload["state_dict"])) is not None:  # every picture would come out black
        raise StyleModelError(f"{path} is damaged: its weight {damaged} holds NaN or infinite values")
    return net.eval(), dict(meta)
