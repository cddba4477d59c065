"""Perceptual losses of Johnson et al. 2016 over a frozen VGG: content, Gram-matrix style, total variation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from fast_style.errors import UserError, first_of
from fast_style.memory import check_memory
from fast_style.numbers import check_number
from fast_style.perceptual import coverage
from fast_style.perceptual.weights import NORMALIZATIONS, load_vgg_weights, vgg_convs

# memory the VGG16 takes per pixel of its input on the CPU in fp32 (measured at 1000x1000 px, with margin): its
# features without gradients (a style image's), and its features and their gradients (optimize's image)
STYLE_BYTES_PER_PIXEL, GRAD_BYTES_PER_PIXEL = 640, 2800
MIN_PHOTO_SIDE = 16  # a picture's shortest side the VGG takes: its four poolings leave 1 px of it (2 px failed)


def size_keeping_side(width: int, height: int) -> int | None:
    """The smallest longer side (a photo's size, as images.read_photo takes it) at which a picture of
    `width`x`height` keeps MIN_PHOTO_SIDE px on its shorter side; None where it is under that already."""
    if min(width, height) < MIN_PHOTO_SIDE:
        return None
    return math.ceil(MIN_PHOTO_SIDE * max(width, height) / min(width, height))


def vgg_layers(arch: str) -> dict[str, int]:
    """ReLU outputs by name -> index in torchvision's `arch`().features: {"relu1_1": 1, "relu1_2": 3, ...}."""
    return {f"relu{b}_{c}": index + 1 for (b, c), index in vgg_convs(arch)}


# The loss weights' defaults, per VGG weights source: caffe's features (0..255 BGR input) are about 58x larger
# than torchvision's, so each source has its own scale. configs/loss/*.yaml leave them null to use these.
DEFAULT_LOSS_WEIGHTS: dict[str, dict[str, float]] = {
    "caffe": {"content_weight": 1.0, "style_weight": 5.0, "tv_weight": 1.0e3},  # Johnson et al.'s network
    "torchvision": {"content_weight": 1.0e5, "style_weight": 1.0e10, "tv_weight": 1.0e2},  # pytorch/examples'
}

# the layers a loss left null (configs/loss/caffe.yaml, torchvision.yaml) uses: Johnson et al.'s
DEFAULT_LAYERS: dict[str, dict[str, float]] = {
    "style_layers": {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0},
    "content_layers": {"relu2_2": 1.0},
}


def default_loss_weights(weights: str | None = "caffe") -> dict[str, float]:
    """content/style/tv weights for a VGG weights source, or for the normalization its features were loaded
    with: caffe's (oxford's VGG19 too: it takes caffe's input), else torchvision's scale (a local file's defaults
    follow its normalization entry: the file is read for it)."""
    if weights not in (None, "caffe", "torchvision", "oxford", "imagenet") and Path(weights).expanduser().is_file():
        weights = load_vgg_weights(weights)[1]  # eval's --weights FILE scored under training's defaults
    return dict(DEFAULT_LOSS_WEIGHTS["caffe" if weights in ("caffe", "oxford") else "torchvision"])


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C), divided by C*H*W so its scale does not depend on the image size."""
    b, c, h, w = features.shape
    if features.is_contiguous(memory_format=torch.channels_last):  # (B, H, W, C) in memory: read it without a copy
        f = features.permute(0, 2, 3, 1).reshape(b, h * w, c)  # (B, HW, C)
        return torch.bmm(f.transpose(1, 2), f) / (c * h * w)
    f = features.reshape(b, c, h * w)  # (B, C, HW)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels, (B, C, H, W) -> scalar."""
    dy = images[..., 1:, :] - images[..., :-1, :]
    dx = images[..., :, 1:] - images[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


class VGGFeatures(nn.Module):
    """A frozen VGG truncated after the deepest layer asked for; returns the named ReLU outputs.

    Takes RGB images in [0, 1] and applies the input convention of its weights. Its weights are left out of
    `state_dict()` (and so out of Lightning checkpoints): they are fixed and come from the weights source.
    On a CPU it runs channels-last (oneDNN's NHWC convolutions): 1.3x-1.7x the bf16 training step at 256 px on
    a 2-core Xeon (benchmarks/README.md); its features come out channels-last. `channels_last`
    (True, False; None: on a CPU only) lets a benchmark choose; on a GPU it is not measured yet.
    """

    channels_last: bool | None = None

    def __init__(self, layers: list[str], weights: str | None = "caffe", arch: str = "vgg16") -> None:
        super().__init__()
        names = vgg_layers(arch)
        unknown = [name for name in layers if name not in names]
        if unknown:
            raise UserError(f"unknown {arch} layers {unknown}: choose from {', '.join(names)}")
        self.index = {name: names[name] for name in layers}
        self.arch = arch
        depth = max(self.index.values()) + 1
        state, norm_name = load_vgg_weights(weights, arch)
        with torch.device("meta"):  # shapes only: randomly initialising all of VGG (its 120M-weight classifier
            features = getattr(torchvision.models, arch)(weights=None).features[:depth]  # too) took 2.4 s
        own = {f"features.{k}": v for k, v in features.state_dict().items()}
        missing = sorted(set(own) - set(state))
        if missing:
            raise UserError(f"VGG weights '{weights}' lack {first_of(missing)} for {arch}")
        loaded = {k[len("features.") :]: state[k].to(dtype=v.dtype, copy=True) for k, v in own.items()}
        try:
            features.load_state_dict(loaded, assign=True)
        except RuntimeError as e:  # "size mismatch for 0.weight: copying a param with shape ..."
            wrong = next((line.strip() for line in str(e).splitlines() if "size mismatch" in line), str(e))
            raise UserError(f"VGG weights '{weights}' are not {arch}'s: {wrong}") from None
        self.features = features.requires_grad_(False).eval()
        self.normalization = norm_name
        norm = NORMALIZATIONS[norm_name]
        self.bgr = bool(norm["bgr"])
        self.register_buffer("scale", torch.tensor(norm["scale"]), persistent=False)
        self.register_buffer("mean", torch.tensor(norm["mean"]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(norm["std"]).view(1, 3, 1, 1), persistent=False)
        self.register_state_dict_post_hook(_drop_own_keys)
        self.register_load_state_dict_pre_hook(_supply_own_keys)

    def train(self, mode: bool = True) -> VGGFeatures:
        return super().train(False)  # always eval, whatever the parent module does

    def add(self, name: str) -> None:
        """Return layer `name` too (distillation's feature layer, which the loss's layers may not include: VGG19's
        Gatys layers hold no relu2_2). It must lie within the network as truncated."""
        names = vgg_layers(self.arch)
        if name not in names:
            raise UserError(f"unknown {self.arch} layer '{name}': choose from {', '.join(names)}")
        if names[name] >= len(self.features):
            deepest = max(self.index, key=self.index.get)
            raise UserError(f"{name} is deeper than the loss's {self.arch} goes ({deepest}): choose a shallower layer")
        self.index[name] = names[name]

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> the input convention of the weights (caffe: BGR, 0..255, minus the mean pixel)."""
        x = images.flip(1) if self.bgr else images
        return (x * self.scale - self.mean) / self.std

    def forward(self, images: torch.Tensor, layers: list[str] | None = None) -> dict[str, torch.Tensor]:
        wanted = self.index if layers is None else {name: self.index[name] for name in layers}
        x = self.normalize(images)
        nhwc = x.device.type == "cpu" if self.channels_last is None else self.channels_last
        if nhwc:  # a channels-last input suffices (measured so): the weights stay as they are
            x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        last = max(wanted.values())
        by_index = {i: name for name, i in wanted.items()}
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in by_index:
                out[by_index[i]] = x
            if i == last:
                break
        return out


def _drop_own_keys(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
    for key in [k for k in state_dict if k.startswith(prefix)]:
        del state_dict[key]


def _supply_own_keys(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    # a checkpoint holds no VGG weights: load the ones we have, so strict loading still checks the rest
    for child_name, child in module.named_children():
        for name, tensor in child.state_dict().items():
            state_dict.setdefault(f"{prefix}{child_name}.{name}", tensor)


def _layer_weights(name: str, layers: object) -> dict[str, float]:
    """`layers` checked: a mapping of VGG ReLU names to weights (a list of names had failed in dict()'s words)."""
    example = f"loss.{name}='{{relu2_2: 1.0, relu3_3: 0.5}}'"
    if not isinstance(layers, Mapping):
        raise UserError(f"loss.{name} maps VGG layers to their weights, e.g. {example}; got {layers}")
    # by every setting's rule: numpy's float32 had been refused, inf taken (the loss then stopped the run at its first
    # step), a string a UserError
    return {
        str(k): float(check_number(f"loss.{name}.{k}", v, _weight, "a finite number >= 0")) for k, v in layers.items()
    }


def _weight(v: float) -> bool:
    return 0 <= v < math.inf


class PerceptualLoss(nn.Module):
    """content_weight * content + style_weight * style + tv_weight * tv, computed by a frozen VGG.

    `style_layers` and `content_layers` map VGG ReLU names to per-layer weights. A weight left None takes the
    default for `weights` (DEFAULT_LOSS_WEIGHTS), the same the training configs use. Call `set_style` once with
    the style image before use; its Gram matrices are kept, not recomputed.
    """

    def __init__(
        self,
        weights: str | None = "caffe",
        arch: str = "vgg16",
        style_layers: Mapping[str, float] | None = None,
        content_layers: Mapping[str, float] | None = None,
        style_weight: float | None = None,
        content_weight: float | None = None,
        tv_weight: float | None = None,
    ) -> None:
        super().__init__()
        self.style_layers = _layer_weights("style_layers", style_layers or DEFAULT_LAYERS["style_layers"])
        self.content_layers = _layer_weights("content_layers", content_layers or DEFAULT_LAYERS["content_layers"])
        given = {"content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight}
        # (NaN and inf had been taken, the run stopped at its first step; a string failed in float()'s words)
        given = {
            k: v if v is None else check_number(f"loss.{k}", v, _weight, "a finite number >= 0")
            for k, v in given.items()
        }
        # relu3_3 too, for `coverage` (held-out figures only: training stops at the deepest loss layer)
        self.vgg = VGGFeatures(
            sorted(set(self.style_layers) | set(self.content_layers) | {coverage.LAYER}), weights, arch
        )
        # the defaults of the scale the features were loaded at: a file of caffe's weights (the cache's, copied
        # for loss=file) trained under torchvision's, style outweighing content 20,000 times more
        self.defaults = default_loss_weights(self.vgg.normalization)  # (runs of a sweep compare under these)
        chosen = self.defaults | {k: float(v) for k, v in given.items() if v is not None}
        self.content_weight, self.style_weight, self.tv_weight = (chosen[k] for k in given)
        self.has_style = False

    @torch.no_grad()
    def set_style(self, style: torch.Tensor) -> None:
        """style: (1, 3, H, W) in [0, 1]. Computes and keeps its Gram matrices, (1, C, C) per layer."""
        if style.device.type == "cpu":
            h, w = style.shape[-2:]
            check_memory(h * w * STYLE_BYTES_PER_PIXEL, f"a {w}x{h} style image", "lower the style size")
        feats = self.vgg(style.to(self.vgg.mean.device), list(dict.fromkeys([*self.style_layers, coverage.LAYER])))
        for name in self.style_layers:
            self.register_buffer(f"gram_{name}", gram_matrix(feats[name].float()), persistent=False)  # (1, C, C)
        spread = coverage.channel_spread(feats[coverage.LAYER])
        self.register_buffer("style_spread", spread, persistent=False)  # (1, C): the painting's texture
        self.has_style = True

    @torch.no_grad()
    def coverage(self, stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """The share of each picture whose texture moved toward the style's (fast_style.perceptual.coverage): (B,)
        in [0, 1]."""
        if not self.has_style:
            raise RuntimeError("PerceptualLoss.set_style() must be called before computing coverage")
        layer = [coverage.LAYER]
        return coverage.coverage(
            self.vgg(content, layer)[coverage.LAYER], self.vgg(stylized, layer)[coverage.LAYER], self.style_spread
        )

    def forward(self, stylized: torch.Tensor, content: torch.Tensor, common: bool = False) -> dict[str, torch.Tensor]:
        """stylized, content: (B, 3, H, W) in [0, 1]. Returns the weighted terms and their sum; with `common` also
        `common/<term>`: the same under the default weights (`defaults`), which compare across runs trained with
        other loss weights (a run's own weighted style loss is lower for a lower style weight)."""
        if not self.has_style:
            raise RuntimeError("PerceptualLoss.set_style() must be called before computing losses")
        if min(content.shape[-2:]) < MIN_PHOTO_SIDE:  # VGG's poolings leave nothing of it (a RuntimeError)
            h, w = content.shape[-2:]
            raise UserError(f"an image of {w}x{h} is under {MIN_PHOTO_SIDE} px a side: too small for the VGG loss")
        pixels = stylized.shape[0] * stylized.shape[-2] * stylized.shape[-1]
        if pixels > 2**21 and stylized.device.type == "cpu":  # large: optimize's photo (a training batch is smaller)
            per_pixel = GRAD_BYTES_PER_PIXEL if stylized.requires_grad else 2 * STYLE_BYTES_PER_PIXEL
            check_memory(pixels * per_pixel, f"the VGG loss of {pixels / 1e6:.0f} MP", "ask for a smaller size")
        with torch.no_grad():  # content targets need no graph, and only the layers up to the deepest content one
            targets = self.vgg(content, list(self.content_layers))
        feats = self.vgg(stylized, list(dict.fromkeys([*self.style_layers, *self.content_layers])))
        content_loss = sum(w * F.mse_loss(feats[n].float(), targets[n].float()) for n, w in self.content_layers.items())
        style_loss = sum(
            w * F.mse_loss(gram_matrix(feats[n].float()), getattr(self, f"gram_{n}").expand(len(stylized), -1, -1))
            for n, w in self.style_layers.items()
        )
        tv = total_variation(stylized.float())
        terms = {
            "content": self.content_weight * content_loss,
            "style": self.style_weight * style_loss,
            "tv": self.tv_weight * tv,
        }
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        if common:
            d = self.defaults
            raw = {"content": content_loss, "style": style_loss, "tv": tv}
            terms |= {f"common/{k}": d[f"{k}_weight"] * v for k, v in raw.items()}
            terms["common/total"] = terms["common/content"] + terms["common/style"] + terms["common/tv"]
        return terms
