"""The inference engine: `Stylizer` holds one style model on its device and precision (or in onnxruntime) and
stylizes tensors, PIL images and image files, whole or in seamless tiles."""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import overload

import torch
import torch.nn.functional as F
from PIL import Image

from fast_style import zoo
from fast_style.devices import compile_for, pick_device, pick_dtype
from fast_style.errors import UserError, setting
from fast_style.inference.tiling import stylize_tiled
from fast_style.inference_defaults import DEFAULT_MAX_PIXELS, DEFAULT_TILE
from fast_style.media.animation import frame_count
from fast_style.media.images import (
    key_as_read,
    opened_in_srgb,
    page_count,
    read_image,
    reading,
    split_alpha,
    unreadable_because,
    upright,
)
from fast_style.media.pixels import pil_to_tensor, tensor_to_pil, to_uint8, to_unit
from fast_style.media.yuv import keep_colours
from fast_style.model.network import EXPORT_MIN_SIDE, TransformerNet, for_cpu_inference, not_a_network
from fast_style.model.style_model import load_style_model
from fast_style.numbers import shown
from fast_style.options import (
    check_flag,
    check_max_pixels,
    check_max_size,
    check_scale,
    check_strength,
    check_tile,
)

log = logging.getLogger(__name__)


def _onnx_session(net: TransformerNet):
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError("the onnxruntime backend needs the onnxruntime package: pip install onnxruntime") from None
    from fast_style.model.export import to_onnx_bytes

    return ort.InferenceSession(to_onnx_bytes(net), providers=["CPUExecutionProvider"])


class Stylizer:
    """A style model loaded once, applied to PIL images, image paths or tensor batches.

    >>> s = Stylizer.load("style.pt")            # a trained model, or a built-in style: Stylizer.load("wave")
    >>> s("photo.jpg").save("out.jpg")         # path -> PIL image (RGBA for a transparent PNG: keep PNG)
    >>> s(Image.open("photo.jpg"))              # PIL image -> PIL image
    >>> s(torch.rand(2, 3, 256, 256))           # (B, 3, H, W) in [0, 1] -> same shape
    """

    def __init__(
        self,
        network: TransformerNet,
        device: torch.device | str | int | None,
        dtype: torch.dtype | str,
        meta: dict | None = None,
        backend: str = "torch",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        tile: int = DEFAULT_TILE,
        compile: bool = False,
    ):
        if not isinstance(network, TransformerNet):  # (a torch.nn.Linear was taken, and failed at the first image)
            raise TypeError(
                "Stylizer takes a fast_style TransformerNet, "
                + not_a_network(
                    network,
                    "for a built-in style or a model file, use Stylizer.load(name_or_path)",
                    "build one (fast_style.model.network.TransformerNet), or load a style model with "
                    "Stylizer.load(path)",
                )
                + (" (compile=True compiles it)" if hasattr(network, "_orig_mod") else "")
            )
        if backend not in ("torch", "onnxruntime"):  # (said before the network was copied and its device picked)
            raise UserError(f"unknown backend '{backend}': use torch or onnxruntime")
        tile = check_tile(tile)
        compile = bool(check_flag("compile", compile))  # (compile="no" had compiled)
        if compile and backend == "onnxruntime":  # (it was left unused without a word)
            torch_backend = setting("--backend", "backend", "torch")
            raise UserError(f"compile=True needs {torch_backend}: onnxruntime runs its own graph")
        if meta is not None and not isinstance(meta, dict):  # (a list failed in dict()'s words)
            raise TypeError(f"meta must be a dict (a style model's metadata) or None, not {type(meta).__name__}")
        if backend == "onnxruntime":  # (it had reported the bf16 asked for, and run fp32)
            device, dtype = _onnx_settings(device, dtype)
        # "cpu", "cuda:1", "auto" (None), a torch.device (one with no GPU behind it failed in torch's words, and
        # "meta" at the first image) or a GPU's index; "auto", "fp32", "bf16", "fp16" or a torch dtype: Stylizer.load
        # passes its own through, so both take the same
        device = pick_device(device)
        dtype = pick_dtype(dtype, device, compile)
        max_pixels = check_max_pixels(max_pixels)
        # a copy (a few MB): the caller's network keeps its device, mode and gradients; `network` stays a plain
        # TransformerNet in float32 (save_style_model takes it) whatever runs below
        self.network = copy.deepcopy(network).to(device, torch.float32).eval().requires_grad_(False)
        # On the CPU in bf16 a copy is cast and kept channels-last (oneDNN's NHWC kernels, and no casts around
        # every layer as under autocast): 1.6x the autocast forward at 1024 px (benchmarks/README.md)
        self.native = device.type == "cpu" and dtype == torch.bfloat16 and backend == "torch" and not compile
        self._net = for_cpu_inference(self.network, dtype) if self.native else self.network
        # torch.compile fuses norm/pad/activation work into the convolutions: about 2x on the CPU once warm,
        # after a compilation of tens of seconds per new image size (worth it for many same-size images).
        # (devices.compile_for: one static graph per size, torch's dynamic-shape path crashed on a second size; on an
        # x86 CPU the 256-bit code training uses, where AVX-512's bf16 code had given NaN)
        self.forward = compile_for(self._net, device) if compile else self._net
        self.device, self.dtype, self.meta = device, dtype, dict(meta or {})
        self.max_pixels, self.tile = max_pixels, tile
        self.session = None
        self._warned_whole = False
        self._flat: torch.Tensor | None = None  # the network's picture of one colour (_flat_colour), once asked
        # calls from several threads take turns: a tiled one hooks and patches the network's norm layers
        self._lock = threading.Lock()
        if backend == "onnxruntime":
            self.session = _onnx_session(self.network.cpu())

    def __getstate__(self) -> dict:  # copied or pickled without its lock and its ONNX Runtime session, which
        # cannot be (a new one of each on the other side: the session from the network)
        state = {k: v for k, v in self.__dict__.items() if k != "_lock"}
        state["session"] = "onnx" if self.session is not None else None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        if self.session is not None:
            self.session = _onnx_session(self.network)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: torch.device | str | int | None = "auto",
        precision: torch.dtype | str = "auto",
        backend: str = "torch",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        tile: int = DEFAULT_TILE,
        compile: bool = False,
    ) -> Stylizer:
        """`path`: a style-model file, or the name of a built-in style (`fast_style.zoo.names()`).
        `max_pixels`: images larger than this are stylized in seamless tiles of `tile` px (0: never).
        `precision` "auto": on GPUs fp16 (bf16 with `compile`), on CPUs bf16 where native, else fp32. The other
        settings are the constructor's, and checked there."""
        if not isinstance(path, (str, os.PathLike)):  # (a network's repr is many lines: its kind is said)
            hint = ": Stylizer(network, device, precision) takes a network" if isinstance(path, TransformerNet) else ""
            raise TypeError(
                f"Stylizer.load takes a style model's path or a built-in style's name, not {shown(path)}{hint}"
            )
        net, meta = load_style_model(str(zoo.resolve(path)))
        return cls(net, device, precision, meta, backend, max_pixels, tile, compile)

    def _run(self, net: torch.nn.Module, x: torch.Tensor, eager: bool = False) -> torch.Tensor:
        if self.session is not None:
            h, w = x.shape[-2:]  # smaller images are padded here, as the torch network pads them itself
            ph, pw = max(0, EXPORT_MIN_SIDE - h), max(0, EXPORT_MIN_SIDE - w)
            if ph or pw:  # both sides to a multiple of 4 here, in one mode, as TransformerNet.forward pads them: the
                # graph's own reflection of the other side (5x30: 30 to 32) had differed from it by 0.3
                ph, pw = ph + (-(h + ph)) % 4, pw + (-(w + pw)) % 4
                x = F.pad(x, (0, pw, 0, ph), mode="reflect" if ph < h and pw < w else "replicate")
            return torch.from_numpy(self.session.run(None, {"image": x.cpu().numpy()})[0])[..., :h, :w]
        forward = net if eager else self.forward  # tiles patch the norm layers: they run eagerly
        if self.native:  # image by image: 4 frames of 480x360 took 151 ms so, 170 ms as one batch
            x = x.to(self.dtype, memory_format=torch.channels_last)
            return torch.cat([forward(xi[None]) for xi in x]).float()
        if self.dtype == torch.float32:
            return forward(x)
        with torch.autocast(self.device.type, dtype=self.dtype):
            return forward(x).float()

    def stylize_tensor(self, images: torch.Tensor, strength: float = 1.0, tiled: bool | None = None) -> torch.Tensor:
        """(B, 3, H, W) or (3, H, W), float in [0, 1] or uint8 -> the same shape, dtype and device, stylized.

        `tiled`: None decides by size (more than `max_pixels` pixels), True/False force it (a picture of at most
        1536 x 1536 pixels runs whole even so: tiles would save it no memory, `stylize_tiled`). Images run whole go
        through the network in parts of at most `max_pixels` pixels together (one image at least): four video
        frames just under the limit take the memory of one, not four.
        """
        if isinstance(images, torch.Tensor) and images.is_floating_point() and images.numel():
            low, high = (float(v) for v in torch.aminmax(images.detach()))
            if not (math.isfinite(low) and math.isfinite(high)):  # NaN came back NaN, without a word
                raise UserError("the images hold NaN or infinite values: stylize finite pixels in [0, 1]")
            if low < -0.01 or high > 1.01:  # 0..255 or -1..1 floats: silently wrong pictures (values up to 128)
                hint = "divide them by 255 (or pass uint8)" if high > 1.5 else "map them to 0..1 first"
                raise UserError(f"float images must be in [0, 1], got values from {low:.3g} to {high:.3g}: {hint}")
        return self._stylize_tensor(images, strength, tiled)

    @torch.inference_mode()
    def _stylize_tensor(self, images: torch.Tensor, strength: float = 1.0, tiled: bool | None = None) -> torch.Tensor:
        """`stylize_tensor` without the range check (a GPU sync: video frames are in range by construction)."""
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"expected a tensor of images, not {type(images).__name__}")
        strength = check_strength(strength)
        tiled = check_flag("tiled", tiled, none=True)
        # (an empty batch, (0, 3, H, W), is answered empty below; the range check above skips it)
        if images.ndim not in (3, 4) or images.shape[-3] != 3:
            last = images.ndim in (3, 4) and images.shape[-1] == 3  # as numpy and PIL hold them
            hint = f": channels last? images.permute({'0, 3, 1, 2' if images.ndim == 4 else '2, 0, 1'})" if last else ""
            raise UserError(f"expected images of shape (B, 3, H, W) or (3, H, W), got {tuple(images.shape)}{hint}")
        _check_pixels(images)
        single = images.ndim == 3
        x = images[None] if single else images
        h, w = x.shape[-2:]
        if not h * w:
            raise UserError(f"an empty image ({w}x{h} pixels) cannot be stylized")
        if not len(x):
            return images.clone()  # no images in, none out
        if tiled is None:  # onnxruntime cannot fix the norm statistics of tiles: it always runs whole images
            big = bool(self.max_pixels) and h * w > self.max_pixels
            tiled = self.session is None and big
            if big and self.session is not None and not self._warned_whole:
                self._warned_whole = True
                log.warning(
                    "images over %d pixels run whole with onnxruntime (tiling needs the torch backend): "
                    "memory grows with the image",
                    self.max_pixels,
                )
        if tiled and self.session is not None:
            raise UserError("tiled stylization needs the torch backend (onnxruntime fixes each tile's statistics)")
        with self._lock:
            y = self._stylized(x, strength, tiled)
        y = y.to(images.device, images.dtype)
        return y[0] if single else y

    def _stylized(self, x: torch.Tensor, strength: float, tiled: bool) -> torch.Tensor:
        """(B, 3, H, W) checked images -> stylized, uint8 where they are, else float, on the stylizer's device."""
        is_uint8 = x.dtype == torch.uint8
        h, w = x.shape[-2:]
        if tiled:  # uint8 in, uint8 out: bounded memory for huge images
            run = lambda net, t: self._run(net, t, eager=True)  # noqa: E731
            done = [stylize_tiled(self._net, xi[None], self.tile, run=run, strength=strength) for xi in x]
            y = done[0] if len(done) == 1 else torch.cat(done)  # (one picture: not copied once more)
        else:
            # (at most the batch: a huge max_pixels, 1e30, overflowed torch's split for every file)
            per_call = max(1, min(len(x), self.max_pixels // (h * w))) if self.max_pixels else len(x)
            parts = (to_unit(part.to(self.device)) for part in x.split(per_call))  # uint8 crosses to the GPU
            y = torch.cat([self._run(self._net, part).float().clamp(0, 1) for part in parts])
            if strength != 1.0:
                y = torch.lerp(to_unit(x).to(y.device), y, strength)
        # the pictures of one colour, painted over with the network's answer for one, where the pixels are: a list
        # of their numbers read on the host waited for the GPU to finish the batch before (each video batch is
        # launched while the last still runs, fast_style.media.video._Download)
        flat = _flat_images(x).to(y.device)[:, None, None, None]  # (B, 1, 1, 1)
        colour = self._flat_colour().to(y.device)  # (a tiled picture comes back on the CPU)
        answer = torch.lerp(to_unit(x[:, :, :1, :1]).to(y.device), colour, strength)  # (B, 3, 1, 1)
        torch.where(flat, (answer if y.is_floating_point() else to_uint8(answer)).to(y.dtype), y, out=y)  # in place
        return to_uint8(y) if is_uint8 else y

    def _flat_colour(self) -> torch.Tensor:
        """(3, 1, 1) in 0..1: what the network makes of a picture of one colour, whatever the colour (its first norm
        layer takes each flat channel to the layer's bias), run once in float32 on FLAT_SIDE px. Each norm layer
        multiplies its input's rounding by up to 1/sqrt(eps) (316) where a channel is flat: in bf16 or fp16 (and in
        float32 below 13 px) a black frame of a fade, or a blank page, came out as coloured noise."""
        if self._flat is None:  # (under the lock)
            grey = torch.full((1, 3, FLAT_SIDE, FLAT_SIDE), 0.5, device=self.device)
            self._flat = self.network(grey).float().mean((2, 3)).clamp(0, 1)[0, :, None, None]
        return self._flat

    def stylize_image(
        self,
        img: Image.Image,
        strength: float = 1.0,
        preserve_color: bool = False,
        max_size: int | None = None,
        scale: float | None = None,
        tiled: bool | None = None,
    ) -> Image.Image:
        """Any Pillow mode (or an image file's path) in; RGB out, or RGBA where the input had transparency (alpha
        re-attached: convert it to RGB before saving it as a JPEG)."""
        preserve_color = _check_preserve_color(preserve_color)
        img = _as_image(img)
        if not img.width * img.height:
            raise UserError(f"an empty image ({img.width}x{img.height} pixels) cannot be stylized")
        rgb, alpha = split_alpha(img)
        rgb = self._sized(rgb, max_size, scale)
        return self._finished(self.stylize_tensor(pil_to_tensor(rgb), strength, tiled), rgb, alpha, preserve_color)

    @staticmethod
    def _finished(y: torch.Tensor, rgb: Image.Image, alpha: Image.Image | None, keep: bool) -> Image.Image:
        """A stylized (3, H, W) tensor as an image: the photo's colours kept if asked, its transparency put back."""
        if keep:  # before the stylized picture's 8-bit steps where it has none yet, as video frames are
            y = Stylizer._colours_kept(y, pil_to_tensor(rgb))
        out = tensor_to_pil(y)
        if alpha is not None:
            out.putalpha(alpha if alpha.size == out.size else alpha.resize(out.size, Image.LANCZOS))
        return out

    @staticmethod
    def _colours_kept(y: torch.Tensor, photo: torch.Tensor, rows: int = 256) -> torch.Tensor:
        """`keep_colours` of a stylized (3, H, W) picture and its (3, H, W) uint8 photo, into uint8, `rows` rows at a
        time: whole, in float, it took 1.6 GB more for a 24 MP photo (the tiled path's bounded memory undone)."""
        out = torch.empty(y.shape, dtype=torch.uint8, device=y.device)
        photo = photo.to(y.device)
        for top in range(0, y.shape[-2], rows):
            band = slice(top, top + rows)
            out[:, band] = to_uint8(keep_colours(to_unit(y[:, band]), to_unit(photo[:, band])))
        return out

    def stylize_images(
        self,
        images: list[Image.Image],
        strength: float = 1.0,
        preserve_color: bool = False,
        max_size: int | None = None,
        scale: float | None = None,
        tiled: bool | None = None,
    ) -> list[Image.Image]:
        """`stylize_image` for several images at once (transparency kept as there): those of one size (a video's
        frames) go through the network as one batch, which keeps a GPU busy (on a 2-core CPU one at a time
        measured faster)."""
        if isinstance(images, (str, os.PathLike, Image.Image, torch.Tensor)):  # one, not a list of them
            raise TypeError(
                f"stylize_images takes a list of images, not one {type(images).__name__}: stylize_image takes one "
                "(stylize_frames or stylize_tensor a batch tensor)"
            )
        if isinstance(images, Mapping):  # its keys were read as paths ("cannot read a"); its values are not taken,
            # as a list back would lose the names they were given under
            raise TypeError(
                f"stylize_images takes a list of images, not {type(images).__name__}: keep the names with "
                "dict(zip(images, stylizer.stylize_images(list(images.values()))))"
            )
        if isinstance(images, (set, frozenset)):  # in no order: the results could not be told apart (a dict's
            # keys, in order, are taken)
            raise TypeError(
                f"stylize_images takes a list of images, not {type(images).__name__} (in no order: its results "
                "could not be matched to its images): pass a list, e.g. sorted(paths)"
            )
        if not isinstance(images, Iterable):  # None, a number: Python's "'NoneType' object is not iterable"
            raise TypeError(
                f"stylize_images takes a list of images (paths or PIL images), not {type(images).__name__}: "
                'e.g. stylizer.stylize_images(["a.jpg", "b.jpg"])'
            )
        preserve_color = _check_preserve_color(preserve_color)
        images = [_as_image(im) for im in images]
        if len(images) == 1:
            return [self.stylize_image(images[0], strength, preserve_color, max_size, scale, tiled)]
        for im in images:
            if not im.width * im.height:
                raise UserError(f"an empty image ({im.width}x{im.height} pixels) cannot be stylized")
        split = [split_alpha(im) for im in images]
        sized = [self._sized(rgb, max_size, scale) for rgb, _ in split]
        out: list[Image.Image | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(sized):
            by_size.setdefault(im.size, []).append(i)
        for indices in by_size.values():
            batch = torch.stack([pil_to_tensor(sized[i]) for i in indices])
            for i, y in zip(indices, self.stylize_tensor(batch, strength, tiled)):  # tiles: image by image
                out[i] = self._finished(y, sized[i], split[i][1], preserve_color)
        return out  # type: ignore[return-value]

    @staticmethod
    def _target_size(size: tuple[int, int], max_size: int | None, scale: float | None) -> tuple[int, int]:
        """(W, H) of an image resized by `scale`, then down to `max_size` on its longer side."""
        # (numbers of any kind: a one-element tensor's round() failed below)
        max_size = check_max_size(max_size)  # type: ignore[assignment]
        scale = check_scale(scale)
        if scale:
            if not math.isfinite(size[0] * scale * size[1] * scale):
                raise UserError(
                    f"{setting('--scale', 'scale', scale)} makes the {size[0]}x{size[1]} image too large to count: "
                    "lower it"
                )
            size = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        if max_size and max(size) > max_size:
            k = max_size / max(size)
            size = (max(1, round(size[0] * k)), max(1, round(size[1] * k)))
        limit = Image.MAX_IMAGE_PIXELS  # the decompression-bomb guard (--max-image-pixels) holds for a scale too
        if scale and scale > 1 and limit and size[0] * size[1] > limit:
            raise UserError(
                f"{setting('--scale', 'scale', scale)} makes a {size[0]}x{size[1]} image ({size[0] * size[1]:,} "
                f"pixels), more than the {limit:,} allowed "
                f"({setting('--max-image-pixels', 'PIL.Image.MAX_IMAGE_PIXELS')}): lower "
                f"{setting('--scale', 'scale')} or give {setting('--max-size', 'max_size')}"
            )
        return size

    @classmethod
    def _sized(cls, img: Image.Image, max_size: int | None, scale: float | None) -> Image.Image:
        size = cls._target_size(img.size, max_size, scale)
        return img.resize(size, Image.LANCZOS) if size != img.size else img

    def stylize_frames(
        self,
        frames: torch.Tensor,
        strength: float = 1.0,
        preserve_color: bool = False,
        max_size: int | None = None,
        scale: float | None = None,
        tiled: bool | None = None,
    ) -> torch.Tensor:
        """Video frames, as `stylize_video` hands them: (N, 3, H, W) float RGB in [0, 1] on this stylizer's device
        -> (N, 3, H', W') stylized there. Resized first as `stylize_image` resizes a photo, on the device (bicubic,
        antialiased, where a photo gets Pillow's Lanczos); `preserve_color` keeps the frames' colours. uint8 frames
        (0..255) are read as such and come back as float too. Their range is not checked (that would wait on the
        GPU for every batch)."""
        if not isinstance(frames, torch.Tensor) or frames.ndim != 4:
            got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
            raise UserError(f"expected frames of shape (N, 3, H, W), got {got}")
        _check_pixels(frames)  # (before resizing: an int64 batch failed in torch's words there)
        preserve_color = _check_preserve_color(preserve_color)
        h, w = frames.shape[-2:]
        width, height = self._target_size((w, h), max_size, scale)
        x = to_unit(frames) if frames.dtype == torch.uint8 else frames  # resizing and colours work in 0..1
        if (width, height) != (w, h):  # in float32: torch has no antialiased bicubic for fp16 on the CPU
            x = F.interpolate(x.float(), (height, width), mode="bicubic", antialias=True).clamp(0, 1).to(x.dtype)
        y = self._stylize_tensor(x, strength, tiled)
        return keep_colours(y, x) if preserve_color else y

    @overload
    def __call__(self, x: torch.Tensor, **kwargs) -> torch.Tensor: ...
    @overload
    def __call__(self, x: Image.Image | str | Path, **kwargs) -> Image.Image: ...

    def __call__(
        self,
        x,
        *,
        strength: float = 1.0,
        preserve_color: bool = False,
        max_size: int | None = None,
        scale: float | None = None,
        tiled: bool | None = None,
    ):
        """A path or PIL image -> a PIL image (`stylize_image`); a tensor -> a tensor (`stylize_tensor`)."""
        if isinstance(x, torch.Tensor):
            if preserve_color or max_size is not None or scale is not None:  # (max_size=0 was ignored)
                raise TypeError("preserve_color, max_size and scale apply to images: for a tensor, resize it first")
            return self.stylize_tensor(x, strength, tiled)
        return self.stylize_image(x, strength, preserve_color, max_size, scale, tiled)  # (a path is read there)


FLAT_SIDE = 64  # px of the one-colour picture a flat image's answer is computed on (float32 is flat from 13 px)


def _flat_images(x: torch.Tensor) -> torch.Tensor:
    """(B,) bool, where `x` is: which of a (B, 3, H, W) batch's images hold one value in each channel."""
    same = x.amin(dim=(2, 3)) == x.amax(dim=(2, 3))  # (B, 3); no copy of a huge or channels-last picture
    return same.all(1)


def _check_preserve_color(value: object) -> bool:
    """preserve_color as a bool (None: no); TypeError for anything else ("false" had kept the colours)."""
    return bool(check_flag(setting("--preserve-color", "preserve_color"), value, none=True))


def _check_pixels(images: torch.Tensor) -> None:
    """UserError for a tensor of pixels that are neither float nor uint8 (an int64 tensor came back all black)."""
    if not (images.dtype == torch.uint8 or images.is_floating_point()):
        raise UserError(f"expected float images in [0, 1] or uint8 ones, got {images.dtype}: convert them first")


def _onnx_settings(device: object, precision: object) -> tuple[torch.device, torch.dtype]:
    """The onnxruntime backend's device and dtype, the CPU's and fp32; UserError where others were asked for."""
    cpu = device is None or device == "auto" or _names_the_cpu(device)  # (None, "cpu:0": "needs backend='torch'")
    if not cpu or precision not in ("auto", "fp32", torch.float32):
        asked = setting("--device", "device", device) if not cpu else setting("--precision", "precision", precision)
        raise UserError(
            f"the onnxruntime backend runs on the CPU in fp32: {asked} needs {setting('--backend', 'backend', 'torch')}"
        )
    return torch.device("cpu"), torch.float32


def _names_the_cpu(device: object) -> bool:
    """Whether `device` ("cpu", "cpu:0", a torch.device) is the CPU."""
    try:
        return torch.device(device).type == "cpu"  # type: ignore[arg-type]
    except (RuntimeError, TypeError):
        return False


def _refuse_a_video(path: Path) -> None:
    """A video given as a picture ("cannot identify image file"): UserError naming the video's own calls."""
    from fast_style.file_kinds import is_video

    if path.is_file() and is_video(path):
        raise UserError(
            f"{path} is a video, and a Stylizer stylizes pictures: stylize it with fast_style.stylize_video(src, "
            "dst, stylizer.stylize_frames, device=stylizer.device), or fast-style-stylize"
        )


def _say_first_frame(name: str, frames: int, pages: int = 1) -> None:
    """A Stylizer given an animation (or a multi-page TIFF) stylizes the frame (the page) it is at, the first from a
    path: said, not silently (a TIFF's pages went unsaid, where fast-style-stylize, -optimize and -eval say them)."""
    if frames > 1:
        log.warning(
            "%s: an animation of %d frames: a Stylizer stylizes one (the first from a path); "
            "fast_style.media.animation.stylize_animation(src, dst, stylizer.stylize_images) stylizes them all",
            name,
            frames,
        )
    elif pages > 1:
        log.warning("%s: a TIFF of %d pages: a Stylizer stylizes one (the first from a path)", name, pages)


def _as_image(x: object) -> Image.Image:
    """A PIL image, or one read from a path (UserError where the file is not a readable image)."""
    if isinstance(x, (str, os.PathLike)):
        x = Path(x).expanduser()  # as Stylizer.load reads its model (a photo's "~/photo.jpg" was "not found")
        try:
            with reading(x):  # missing, a folder, not an image, truncated, a bomb
                image = read_image(x)
                frames = frame_count(x)
        except UserError:
            _refuse_a_video(Path(x))
            raise
        _say_first_frame(Path(x).name, frames, page_count(x) if frames == 1 else 1)
        return image
    if isinstance(x, torch.Tensor):  # (stylize_image(t), stylize_images([t, ...]): "a Stylizer takes a path, a PIL
        # image or a tensor, not Tensor", and how to make a PIL image of an array)
        raise TypeError(
            "stylize_image and stylize_images take paths or PIL images, not a tensor: stylize_tensor (or the "
            "stylizer itself) takes a (3, H, W) or (B, 3, H, W) tensor, which torch.stack(tensors) makes of several"
        )
    if not isinstance(x, Image.Image):
        hint = ": Image.fromarray(array) makes one of an (H, W, 3) uint8 array" if hasattr(x, "__array__") else ""
        if isinstance(x, (list, tuple)):  # (stylize_animation(src, dst, stylizer): "not list", and what then?)
            hint = ": stylizer.stylize_images(images) takes a list"
        raise TypeError(f"a Stylizer takes a path, a PIL image or a tensor, not {type(x).__name__}{hint}")
    name = getattr(x, "filename", "")  # Image.open's path ("" for a stream, which Pillow lets go once it is loaded)
    if x.format in ("GIF", "PNG", "WEBP", "AVIF") and getattr(x, "fp", None) is not None:  # (a closed one: read)
        with contextlib.suppress(ValueError, OSError):  # (is_animated reads the file)
            if getattr(x, "is_animated", False):
                _say_first_frame(Path(name).name or "the image", x.n_frames - bool(x.info.get("default_image")))
    elif x.format == "TIFF" and getattr(x, "fp", None) is not None:
        with contextlib.suppress(ValueError, OSError):  # (n_frames reads the file)
            _say_first_frame(Path(name).name or "the image", 1, getattr(x, "n_frames", 1))
    try:  # read now, in one line: a truncated file's OSError, a closed image's bare AssertionError from Pillow
        key = key_as_read(x)  # a 2-bit grey or 16-bit colour PNG's colour key, as read_image reads it (before load)
        x.load()
        if key is None:
            # a phone's photo from Image.open as from its path (it came out on its side), its colours too (an HDR
            # PNG's, an AVIF's code points, read from its file); one made from it (transposed, resized: format None)
            # is taken as it is, as its maker may have turned it already, keeping the tag
            return upright(opened_in_srgb(x, name) if name else x) if x.format else x
        said, x.info["transparency"] = x.info["transparency"], key
        try:  # read with that key, the caller's image left as it was
            read = upright(opened_in_srgb(x, name) if name else x)
            return x.copy() if read is x else read
        finally:
            x.info["transparency"] = said
    except (OSError, ValueError, AssertionError, AttributeError) as e:
        closed = not str(e) or str(e) == "Operation on closed image"  # (a `with` block's end; `.close()`'s)
        why = "it was closed (stylize it before closing it, or inside its `with Image.open(...)` block)"
        why = why if closed else unreadable_because(name, e)
        raise UserError(f"cannot read the image {name or 'given'}: {why}") from None
