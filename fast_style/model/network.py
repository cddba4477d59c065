"""The image transform network of Johnson et al. 2016 (its file: fast_style/model/style_model.py).

Input and output are RGB images in [0, 1], shape (B, 3, H, W). Any H and W work: the input is
reflection-padded to a multiple of 4 (two stride-2 convolutions) and the output cropped back.
"""

from __future__ import annotations

import copy
import itertools
import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fast_style.numbers import check_number


class BlurPool(nn.Module):
    """Anti-aliased 2x downsampling (Zhang 2019): a fixed [1, 2, 1] x [1, 2, 1] / 16 blur, then every second pixel.
    (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2)). The filter is not a parameter nor in state_dict."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (k[:, None] * k[None, :] / 16).expand(channels, 1, 3, 3).clone(), False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, self.kernel.to(x.dtype), stride=2, groups=x.shape[1])


class InstanceNorm(nn.InstanceNorm2d):
    """Instance norm that keeps a channels-last CPU image channels-last: group norm with one group per channel is
    exactly instance norm, and its CPU kernel reads NHWC directly, where instance norm first copies its input to
    NCHW (that copy was 30% of a bf16 channels-last forward; benchmarks/README.md). Group norm measured 1.08x-1.11x
    faster for the whole network than batch norm's kernel (the other exact NHWC route). Everything else
    (training, GPUs, export) takes the plain instance norm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu" and not x.is_contiguous() and not _exporting():
            return F.group_norm(x, x.shape[1], self.weight, self.bias, self.eps)
        return super().forward(x)


class ConvNormAct(nn.Sequential):
    """Reflection pad -> conv -> instance norm -> (ReLU). `antialias` with stride 2: the conv runs at stride 1 and a
    BlurPool after the ReLU downsamples (the same parameters, so the same state_dict keys)."""

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True, antialias: bool = False
    ) -> None:
        blur = antialias and stride == 2
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(cin, cout, kernel, 1 if blur else stride),
            InstanceNorm(cout, affine=True),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        if blur:
            layers.append(BlurPool(cout))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, 3),
            ConvNormAct(channels, channels, 3, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Sequential):
    """2x upsampling (nearest, or bilinear with `antialias`) then a stride-1 conv: no checkerboard artefacts of
    transposed convs."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, antialias: bool = False) -> None:
        mode = {"mode": "bilinear", "align_corners": False} if antialias else {"mode": "nearest"}
        super().__init__(nn.Upsample(scale_factor=2, **mode), ConvNormAct(cin, cout, kernel))


ANTIALIAS = {"none": (False, False), "down": (True, False), "up": (False, True), "both": (True, True)}  # blur, bilinear


class TransformerNet(nn.Module):
    """Johnson et al.'s residual transform network.

    `channels` are the widths of the three encoder stages (32, 64, 128 in the paper);
    `num_residual` residual blocks run at the narrowest resolution (H/4, W/4). The output is a sigmoid of the
    last convolution. `antialias`, against the aliasing that makes texture swim on moving video: "down" blurs
    before downsampling (BlurPool instead of strided convolutions), "up" upsamples bilinearly instead of by
    nearest neighbour, "both" (or true) does both (1.25x the inference time on a CPU; benchmarks/README.md),
    "none" (or false) neither. It is recorded in `config` only when on, so files and checkpoints of the paper's
    network keep their settings.
    """

    def __init__(
        self,
        channels: tuple[int, int, int] | list[int] = (32, 64, 128),
        num_residual: int = 5,
        kernel_outer: int = 9,
        antialias: bool | str = False,
    ) -> None:
        super().__init__()
        if isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__") or len(channels) != 3:
            raise ValueError(f"channels must be three widths, e.g. [32, 64, 128], got {channels!r}")
        # whole numbers, by every setting's rule (num_residual="2" failed in Python's words, 2.5 was taken as 2, then
        # refused as a TypeError, and -1 as a ValueError: one a wrong type, the others numbers it does not take)
        c1, c2, c3 = (check_number("model.channels", c, lambda v: v >= 1, "whole numbers >= 1", True) for c in channels)
        num_residual = check_number("model.num_residual", num_residual, lambda v: v >= 0, "a whole number >= 0", True)
        kernel_outer = check_number(
            "model.kernel_outer", kernel_outer, lambda v: v >= 1 and v % 2 == 1, "an odd whole number >= 1", True
        )
        self.config: dict[str, Any] = {
            "channels": [c1, c2, c3],
            "num_residual": int(num_residual),
            "kernel_outer": int(kernel_outer),
        }
        which = {False: "none", True: "both"}[antialias] if isinstance(antialias, bool) else str(antialias)
        if which not in ANTIALIAS:
            raise ValueError(
                f"antialias={antialias!r}: use none, down (blurred downsampling), up (bilinear upsampling) or both"
            )
        blur, bilinear = ANTIALIAS[which]
        if which != "none":
            self.config["antialias"] = True if which == "both" else which  # true: as files before "down"/"up"
        self.encoder = nn.Sequential(
            ConvNormAct(3, c1, kernel_outer),  # (B, c1, H, W)
            ConvNormAct(c1, c2, 3, stride=2, antialias=blur),  # (B, c2, H/2, W/2)
            ConvNormAct(c2, c3, 3, stride=2, antialias=blur),  # (B, c3, H/4, W/4)
        )
        self.residual = nn.Sequential(*(ResidualBlock(c3) for _ in range(num_residual)))
        self.decoder = nn.Sequential(
            UpsampleConv(c3, c2, antialias=bilinear),  # (B, c2, H/2, W/2)
            UpsampleConv(c2, c1, antialias=bilinear),  # (B, c1, H, W)
            nn.ReflectionPad2d(kernel_outer // 2),
            nn.Conv2d(c1, 3, kernel_outer),  # (B, 3, H, W)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if _exporting():
            # traced sizes stay symbolic only through plain arithmetic: exported graphs need H, W >= EXPORT_MIN_SIDE
            x = F.pad(x, (0, (4 - w % 4) % 4, 0, (4 - h % 4) % 4), mode="reflect")
        else:
            # pad to a multiple of 4 (two stride-2 convs), and to at least 8 px (or the outer kernel)
            side = max(8, self.config["kernel_outer"])
            ph, pw = max((-h) % 4, side - h), max((-w) % 4, side - w)
            ph, pw = ph + (-(h + ph)) % 4, pw + (-(w + pw)) % 4
            if ph or pw:
                mode = "reflect" if ph < h and pw < w else "replicate"  # reflection needs pad < size
                x = F.pad(x, (0, pw, 0, ph), mode=mode)
        y = self.decoder(self.residual(self.encoder(x)))[..., :h, :w]  # (B, 3, H, W) logits
        return torch.sigmoid(y)  # a valid image in training too: the loss never sees out-of-range pixels


EXPORT_MIN_SIDE = 12  # an exported graph's reflection pads need inputs this large (TransformerNet.forward)


class SpaceToDepthConv(nn.Module):
    """`conv` (stride 1, no padding, groups 1), computed on the 2x2 space-to-depth of its input: a convolution of
    kernel ceil((k + 1) / 2) over 4x the channels at half the resolution, then depth-to-space. The same result
    (to rounding). For the network's last convolution (9x9, 3 outputs), whose few outputs leave oneDNN's vector
    lanes idle, it is 1.8x faster on a CPU (benchmarks/README.md). Inputs of odd size take `conv` itself."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        if conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1 or conv.dilation != (1, 1):
            raise ValueError("SpaceToDepthConv takes a stride-1 convolution without padding, groups or dilation")
        self.conv = conv  # kept: the receptive field (tiling.receptive_margin) and odd sizes
        w = conv.weight.detach()  # (O, C, k, k)
        o, c, k, _ = w.shape
        big = (k + 2) // 2
        folded = w.new_zeros(o * 4, c * 4, big, big)  # channel o*4 + 2p + q: output pixel (2i + p, 2j + q)
        for p, q, a, b in itertools.product(range(2), repeat=4):  # a, b: input pixel (2i + a, 2j + b)
            for di, dj in itertools.product(range(big), repeat=2):
                u, v = 2 * di + a - p, 2 * dj + b - q
                if 0 <= u < k and 0 <= v < k:
                    folded[2 * p + q :: 4, 2 * a + b :: 4, di, dj] = w[:, :, u, v]
        self.register_buffer("weight", folded, persistent=False)
        bias = conv.bias.detach().repeat_interleave(4) if conv.bias is not None else None
        self.register_buffer("bias", bias, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2 or x.shape[-2] % 2:
            return self.conv(x)
        return F.pixel_shuffle(F.conv2d(F.pixel_unshuffle(x, 2), self.weight, self.bias), 2)


class SubPixelUpsampleConv(nn.Module):
    """An UpsampleConv (nearest 2x, reflection pad 1, 3x3 conv, norm, ReLU) computed without the upsampled image:
    each of the four output phases (2i + a, 2j + b) of a 3x3 conv over a nearest-upsampled image reads only a 2x2
    neighbourhood of the small one, so one 3x3 conv over the small image (replicate-padded: the reflection of an
    upsampled border is the small image's border pixel) gives all four phases as 4x the channels, which are then
    interleaved. The same result (to rounding), without writing and padding an image 4x the size: 1.8x to 2x
    faster for the fast network's decoder on a CPU (benchmarks/README.md). Holds the original for its norm, the
    receptive field (tiling.receptive_margin) and anything but a channels-last input."""

    def __init__(self, up: UpsampleConv) -> None:
        super().__init__()
        upsample, pad, conv = up[0], up[1][0], up[1][1]
        if upsample.mode != "nearest" or conv.kernel_size != (3, 3) or conv.stride != (1, 1) or pad.padding[0] != 1:
            raise ValueError("SubPixelUpsampleConv takes a nearest-upsampling UpsampleConv with a 3x3 convolution")
        self.up = up
        w = conv.weight.detach()  # (O, C, 3, 3)
        o, c = w.shape[:2]
        folded = w.new_zeros(2, 2, o, c, 3, 3)  # channel (2a + b) * O + o: output pixel (2i + a, 2j + b)
        for a, b, u, v in itertools.product(range(2), range(2), range(3), range(3)):
            # tap (u, v) at output (2i + a, 2j + b) reads upsampled (2i + a + u - 1, ...) = small (i + (a + u - 1) // 2)
            folded[a, b, :, :, (a + u - 1) // 2 + 1, (b + v - 1) // 2 + 1] += w[:, :, u, v]
        self.register_buffer("weight", folded.reshape(4 * o, c, 3, 3), persistent=False)
        self.register_buffer("bias", conv.bias.detach().repeat(4) if conv.bias is not None else None, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, h, w) -> (B, O, 2h, 2w)
        if not x.is_contiguous(memory_format=torch.channels_last) or x.is_contiguous():
            return self.up(x)
        y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), self.weight, self.bias)  # (B, 4 O, h, w)
        b, o, h, w = y.shape[0], y.shape[1] // 4, y.shape[2], y.shape[3]
        # channels-last memory (B, h, w, a, b, O) -> (B, h, a, w, b, O): the channels-last (B, O, 2h, 2w)
        y = y.permute(0, 2, 3, 1).reshape(b, h, w, 2, 2, o).transpose(2, 3).reshape(b, 2 * h, 2 * w, o)
        y = y.permute(0, 3, 1, 2)
        for layer in itertools.islice(self.up[1], 2, None):  # norm (and ReLU)
            y = layer(y)
        return y


def not_a_network(given: object, for_a_path: str, otherwise: str = "") -> str:
    """What was given where a TransformerNet goes, and what to give, for the one-line TypeError of each call that
    takes a network (save_style_model, Stylizer, interpolate): "not tuple: load_style_model gives (network, meta):
    pass its [0]". `for_a_path`: what to do with a path or a style's name given instead; `otherwise`: with anything
    else."""
    name = type(given).__name__
    if isinstance(given, (str, os.PathLike)):
        return f"not {name} {str(given)[:80]!r}: {for_a_path}"
    if isinstance(given, tuple) and given and isinstance(given[0], TransformerNet):
        return f"not {name}: load_style_model gives (network, meta): pass its [0]"
    if isinstance(getattr(given, "network", None), TransformerNet):  # a Stylizer, a training module
        return f"not {name}: pass its .network"
    if isinstance(getattr(given, "_orig_mod", None), TransformerNet):  # torch.compile's wrapper
        return f"not {name}: pass the network before torch.compile"
    return f"not {name}: {otherwise}" if otherwise else f"not {name}"


def for_cpu_inference(net: TransformerNet, dtype: torch.dtype = torch.bfloat16) -> TransformerNet:
    """A copy of `net` laid out for fast CPU inference: in `dtype`, channels-last, the decoder's upsampling convs
    on the small images (SubPixelUpsampleConv) and its last convolution on the space-to-depth of its input
    (SpaceToDepthConv); its norms keep the images channels-last (InstanceNorm)."""
    fast = copy.deepcopy(net).eval().requires_grad_(False)
    for i, layer in enumerate(fast.decoder):
        if isinstance(layer, UpsampleConv) and layer[0].mode == "nearest":
            fast.decoder[i] = SubPixelUpsampleConv(layer)
    fast.decoder[-1] = SpaceToDepthConv(fast.decoder[-1])
    return fast.to(dtype=dtype, memory_format=torch.channels_last)


def narrowed_state_dict(
    trained: TransformerNet, channels: tuple[int, int, int] | list[int], num_residual: int | None = None
) -> dict[str, Any]:
    """The weights of `trained` for a network as narrow as `channels`, with `num_residual` of its residual blocks
    (default: all): of each layer's channels, those that matter most to the layers reading them (|the norm's
    scale| x the L1 norm of the reading convolutions' weights on the channel) are kept; of the blocks, those that
    add the most to the residual stream (the mean |scale| of their last norm), in their order. The start of a
    smaller, faster network that already paints roughly like `trained` (module.init_from with a narrower model),
    to be distilled."""
    c1, c2, c3 = (int(c) for c in channels)
    t1, t2, t3 = trained.config["channels"]
    blocks = trained.config["num_residual"] if num_residual is None else int(num_residual)
    if not (0 < c1 <= t1 and 0 < c2 <= t2 and 0 < c3 <= t3) or not 0 <= blocks <= trained.config["num_residual"]:
        raise ValueError(
            f"channels {[c1, c2, c3]} with {blocks} residual blocks cannot be cut from {[t1, t2, t3]} with "
            f"{trained.config['num_residual']}: each width and the block count at most the trained network's"
        )
    state = {k: v.detach().float().clone() for k, v in trained.state_dict().items()}
    # the blocks kept, renumbered in their order: those whose output (last norm's scale) is largest
    scale = [state[f"residual.{i}.body.1.2.weight"].abs().mean() for i in range(trained.config["num_residual"])]
    kept_blocks = sorted(torch.stack(scale).topk(blocks).indices.tolist()) if blocks else []
    for key in [k for k in state if k.startswith("residual.")]:
        i, rest = key.split(".", 2)[1:]
        value = state.pop(key)
        if int(i) in kept_blocks:
            state[f"residual.{kept_blocks.index(int(i))}.{rest}"] = value
    res = [f"residual.{i}.body" for i in range(blocks)]
    # (width, the layers writing those channels (conv, norm), the convolutions reading them)
    groups = [
        (c1, [("encoder.0.1", "encoder.0.2")], ["encoder.1.1"]),
        (c2, [("encoder.1.1", "encoder.1.2")], ["encoder.2.1"]),
        # the residual stream: written by the encoder and by every block, read by every block and the decoder
        (
            c3,
            [("encoder.2.1", "encoder.2.2")] + [(f"{r}.1.1", f"{r}.1.2") for r in res],
            [f"{r}.0.1" for r in res] + ["decoder.0.1.1"],
        ),
        *[(c3, [(f"{r}.0.1", f"{r}.0.2")], [f"{r}.1.1"]) for r in res],  # each block's inner channels
        (c2, [("decoder.0.1.1", "decoder.0.1.2")], ["decoder.1.1.1"]),
        (c1, [("decoder.1.1.1", "decoder.1.1.2")], ["decoder.3"]),
    ]
    kept = []
    for width, writers, readers in groups:
        written = sum(state[f"{norm}.weight"].abs() for _, norm in writers)
        read = sum(state[f"{reader}.weight"].abs().sum(dim=(0, 2, 3)) for reader in readers)
        kept.append((written * read).topk(width).indices.sort().values)
    for (_, writers, readers), keep in zip(groups, kept):
        for conv, norm in writers:
            for key in (f"{conv}.weight", f"{conv}.bias", f"{norm}.weight", f"{norm}.bias"):
                state[key] = state[key][keep]
        for reader in readers:
            state[f"{reader}.weight"] = state[f"{reader}.weight"][:, keep]
    return state


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


_MOVED = {  # (to fast_style/model/style_model.py)
    "save_style_model",
    "load_style_model",
    "style_model_payload",
    "StyleModelError",
    "STYLE_MODEL_FORMAT",
    "STYLE_MODEL_VERSION",
}


def __getattr__(name: str) -> Any:
    """The style-model file's names, which lived here before fast_style/model/style_model.py (imported on first use:
    this module imports nothing of the package)."""
    if name in _MOVED:
        from fast_style.model import style_model

        return getattr(style_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
