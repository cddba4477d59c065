"""Apply a trained style model: the `Stylizer` Python API and the `fast-style-stylize` command."""

from __future__ import annotations

import argparse
import glob
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import overload

import torch
from PIL import Image

from fast_style import zoo
from fast_style.files import (
    IMAGE_EXTENSIONS,
    DiskError,
    UserError,
    atomic_write,
    find_images,
    native_bf16,
    read_image,
    split_alpha,
)
from fast_style.network import StyleModelError, TransformerNet, load_style_model
from fast_style.tiling import stylize_tiled
from fast_style.video import VIDEO_EXTENSIONS, VIDEO_OUTPUTS, is_video, output_name, stylize_video

log = logging.getLogger(__name__)

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS  # what folders and globs pick up

DEFAULT_MAX_PIXELS = 4096 * 4096 // 4  # larger images are tiled: about 2 GB of activations on the CPU
DEFAULT_TILE = 512
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"unknown device '{device}': use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but no CUDA GPU is available: use --device cpu")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("--device mps asked for, but MPS is not available: use --device cpu")
    return dev


def pick_precision(precision: str, device: torch.device, compile: bool = False) -> torch.dtype:
    """"auto" picks what measured fastest (benchmarks/README.md): on a GPU fp16 eagerly (bf16 autocast is
    slower than fp32 there: its casts cost more than it saves) and bf16 compiled; on a CPU bf16 where native."""
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if compile and native_bf16("cuda") else torch.float16
        return torch.bfloat16 if device.type == "cpu" and native_bf16("cpu") else torch.float32
    if precision not in PRECISIONS:
        raise UserError(f"unknown precision '{precision}': choose auto, {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type == "cpu":
        raise UserError("fp16 is not supported on the CPU: use --precision bf16 or fp32")
    return PRECISIONS[precision]


def _onnx_session(net: TransformerNet):
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError("--backend onnxruntime needs the onnxruntime package: pip install onnxruntime") from None
    from fast_style.export import to_onnx_bytes

    return ort.InferenceSession(to_onnx_bytes(net), providers=["CPUExecutionProvider"])


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) uint8."""
    from torchvision.transforms.v2.functional import pil_to_tensor as to_uint8

    return to_uint8(img)


def tensor_to_pil(x: torch.Tensor) -> Image.Image:
    """(3, H, W) uint8, or float in [0, 1] -> RGB PIL image."""
    from torchvision.transforms.v2.functional import to_pil_image

    if x.dtype != torch.uint8:
        x = x.clamp(0, 1).mul(255).round().to(torch.uint8)
    return to_pil_image(x.cpu())


def preserve_color(stylized: Image.Image, content: Image.Image) -> Image.Image:
    """Luminance from the stylized image, chroma (YCbCr) from the content photo (Gatys et al. 2016)."""
    y, _, _ = stylized.convert("YCbCr").split()
    _, cb, cr = content.convert("YCbCr").split()
    return Image.merge("YCbCr", (y, cb, cr)).convert("RGB")


class Stylizer:
    """A style model loaded once, applied to PIL images, image paths or tensor batches.

    >>> s = Stylizer.load("style.pt")            # a trained model, or a built-in style: Stylizer.load("wave")
    >>> s("photo.jpg").save("out.jpg")         # path -> PIL image
    >>> s(Image.open("photo.jpg"))              # PIL image -> PIL image
    >>> s(torch.rand(2, 3, 256, 256))           # (B, 3, H, W) in [0, 1] -> same shape
    """

    def __init__(
        self,
        network: TransformerNet,
        device: torch.device,
        dtype: torch.dtype,
        meta: dict | None = None,
        backend: str = "torch",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        tile: int = DEFAULT_TILE,
        compile: bool = False,
    ):
        self.network = network.to(device).eval().requires_grad_(False)
        # torch.compile fuses norm/pad/activation work into the convolutions: about 2x on the CPU once warm,
        # after a compilation of tens of seconds per new image size (worth it for many same-size images).
        # dynamic=False: one static graph per size; torch's dynamic-shape path crashed on a second size
        self.forward = torch.compile(self.network, dynamic=False) if compile else self.network
        self.device, self.dtype, self.meta = device, dtype, dict(meta or {})
        self.max_pixels, self.tile = max_pixels, tile
        self.session = None
        self._warned_whole = False
        if backend == "onnxruntime":
            self.session = _onnx_session(self.network.cpu())
        elif backend != "torch":
            raise UserError(f"unknown backend '{backend}': use torch or onnxruntime")

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", precision: str = "auto", backend: str = "torch",
             max_pixels: int = DEFAULT_MAX_PIXELS, tile: int = DEFAULT_TILE, compile: bool = False) -> Stylizer:
        """`path`: a style-model file, or the name of a built-in style (`fast_style.zoo.names()`).
        `max_pixels`: images larger than this are stylized in seamless tiles of `tile` px (0: never).
        `precision` "auto": on GPUs fp16 (bf16 with `compile`), on CPUs bf16 where native, else fp32."""
        net, meta = load_style_model(str(zoo.resolve(path)))
        dev = pick_device(device) if backend == "torch" else torch.device("cpu")
        return cls(net, dev, pick_precision(precision, dev, compile), meta, backend, max_pixels, tile, compile)

    def _run(self, net: torch.nn.Module, x: torch.Tensor, eager: bool = False) -> torch.Tensor:
        if self.session is not None:
            return torch.from_numpy(self.session.run(None, {"image": x.cpu().numpy()})[0])
        forward = net if eager else self.forward  # tiles patch the norm layers: they run eagerly
        if self.dtype == torch.float32:
            return forward(x)
        with torch.autocast(self.device.type, dtype=self.dtype):
            return forward(x).float()

    @torch.inference_mode()
    def stylize_tensor(self, images: torch.Tensor, strength: float = 1.0, tiled: bool | None = None) -> torch.Tensor:
        """(B, 3, H, W) or (3, H, W), float in [0, 1] or uint8 -> the same shape, dtype and device, stylized.

        `tiled`: None decides by size (more than `max_pixels` pixels), True/False force it.
        """
        if images.ndim not in (3, 4) or images.shape[-3] != 3:
            raise UserError(f"expected images of shape (B, 3, H, W) or (3, H, W), got {tuple(images.shape)}")
        single = images.ndim == 3
        x = images[None] if single else images
        h, w = x.shape[-2:]
        if tiled is None:  # onnxruntime cannot fix the norm statistics of tiles: it always runs whole images
            big = bool(self.max_pixels) and h * w > self.max_pixels
            tiled = self.session is None and big
            if big and self.session is not None and not self._warned_whole:
                self._warned_whole = True
                log.warning("images over %d pixels run whole with onnxruntime (tiling needs the torch backend): "
                            "memory grows with the image", self.max_pixels)
        if tiled and self.session is not None:
            raise UserError("tiled stylization needs the torch backend (onnxruntime fixes each tile's statistics)")
        is_uint8 = x.dtype == torch.uint8

        def unit(t: torch.Tensor) -> torch.Tensor:  # float in [0, 1]
            return t.float() / 255 if t.dtype == torch.uint8 else t.float()

        if tiled:  # uint8 in, uint8 out: bounded memory for huge images
            run = lambda net, t: self._run(net, t, eager=True)  # noqa: E731
            y = torch.cat([stylize_tiled(self.network, xi[None], self.tile, run=run) for xi in x])
        else:
            y = self._run(self.network, unit(x.to(self.device))).float().clamp(0, 1)  # uint8 crosses to the GPU
        if strength != 1.0:
            y = torch.lerp(unit(x).to(y.device), unit(y), strength)
        if is_uint8 and y.dtype != torch.uint8:
            y = y.mul(255).round().to(torch.uint8)
        y = y.to(images.device, images.dtype)
        return y[0] if single else y

    def stylize_image(
        self,
        img: Image.Image,
        strength: float = 1.0,
        keep_color: bool = False,
        max_size: int | None = None,
        scale: float | None = None,
        tiled: bool | None = None,
    ) -> Image.Image:
        """Any Pillow mode in; RGB out, or RGBA where the input had transparency (alpha re-attached)."""
        rgb, alpha = split_alpha(img)
        size = rgb.size
        if scale:
            size = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        if max_size and max(size) > max_size:
            k = max_size / max(size)
            size = (max(1, round(size[0] * k)), max(1, round(size[1] * k)))
        if size != rgb.size:
            rgb = rgb.resize(size, Image.LANCZOS)
            alpha = alpha.resize(size, Image.LANCZOS) if alpha is not None else None
        out = tensor_to_pil(self.stylize_tensor(pil_to_tensor(rgb), strength, tiled))
        if keep_color:
            out = preserve_color(out, rgb)
        if alpha is not None:
            out.putalpha(alpha)
        return out

    @overload
    def __call__(self, x: torch.Tensor, **kwargs) -> torch.Tensor: ...
    @overload
    def __call__(self, x: Image.Image | str | Path, **kwargs) -> Image.Image: ...

    def __call__(self, x, **kwargs):
        if isinstance(x, torch.Tensor):
            return self.stylize_tensor(x, kwargs.get("strength", 1.0), kwargs.get("tiled"))
        if isinstance(x, (str, Path)):
            x = read_image(x)
        return self.stylize_image(x, **kwargs)


# --- command line ---------------------------------------------------------------------------------


def expand_inputs(inputs: list[str]) -> list[tuple[Path, Path]]:
    """Files, folders (recursive) and globs -> [(file, root it is relative to)]."""
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found += [(f, path) for f in find_images(path, MEDIA_EXTENSIONS)]
        elif path.is_file():
            found.append((path, path.parent))
        else:
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in MEDIA_EXTENSIONS]
            if not files:
                raise UserError(f"no such file, folder or matching images: {item}")
            found += [(f, f.parent) for f in files]
    return found


def _output_formats(src: Path) -> tuple[str, tuple[str, ...]]:
    """("video" or "image", the extensions its stylized copy may have)."""
    return ("video", tuple(VIDEO_OUTPUTS)) if is_video(src) else ("image", IMAGE_EXTENSIONS)


def plan_outputs(items: list[tuple[Path, Path]], output: str, name: str, style: str) -> list[tuple[Path, Path]]:
    """[(input, output path)]: `output` is a file for one input with an image extension, else a folder."""
    out = Path(output).expanduser()
    as_file = bool(out.suffix) and not out.is_dir() and not output.endswith(("/", os.sep))
    if as_file and len(items) > 1:
        raise UserError(f"-o {output} names one file, but there are {len(items)} inputs: give a folder")
    kind, formats = _output_formats(items[0][0])
    if as_file and out.suffix.lower() not in formats:
        raise UserError(f"-o {output}: unknown {kind} format '{out.suffix}': use {', '.join(formats)} (or end it with "
                        "/ for a folder)")
    if as_file:
        return [(items[0][0], out)]
    if out.is_file():
        raise UserError(f"-o {output} is an existing file: give a folder (or one input and --force)")
    plans = []
    for src, root in items:
        rel = src.relative_to(root).parent
        ext = Path(output_name(src)).suffix if is_video(src) else src.suffix  # .webm/.avi in: .mp4 out
        fields = {"stem": src.stem, "ext": ext.lstrip("."), "style": style}
        try:
            filename = name.format(**fields)
        except (KeyError, IndexError, ValueError):
            raise UserError(f"bad --name pattern '{name}': use fields {{stem}}, {{ext}}, {{style}}") from None
        dst = out / rel / filename
        kind, formats = _output_formats(src)
        if dst.suffix.lower() not in formats:  # before any work, not after the photos are done
            raise UserError(f"--name '{name}' gives {dst.name} for {src.name}: {kind}s need one of "
                            f"{', '.join(formats)} (use {{ext}})")
        if not dst.resolve().is_relative_to(out.resolve()):
            raise UserError(f"--name '{name}' leads outside the output folder {out}: use a plain file name pattern")
        plans.append((src, dst))
    seen: dict[Path, Path] = {}
    for src, dst in plans:
        if dst.resolve() in seen:
            raise UserError(f"{seen[dst.resolve()]} and {src} would both be written to {dst}: "
                            "use --name with {stem}, or give their folders rather than a glob")
        seen[dst.resolve()] = src
    return plans


def save_image(img: Image.Image, path: Path, source: Image.Image, quality: int) -> None:
    """Save by the extension's format, keeping the ICC profile and EXIF where the format allows."""
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"unknown output format '{path.suffix}': use .jpg, .png, .webp, .tif or .bmp")
    if img.mode == "RGBA" and fmt in ("JPEG", "BMP"):
        img = img.convert("RGB")  # these formats have no alpha
    params: dict = {}
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = quality
    if source.mode in ("RGB", "RGBA") and source.info.get("icc_profile"):
        params["icc_profile"] = source.info["icc_profile"]  # an RGB profile still describes our RGB output
    raw = source.info.get("exif")  # the EXIF block itself (getexif() of a TIFF would be its whole tag table)
    if raw and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif.load(raw)
        exif[0x0112] = 1  # orientation already applied
        params["exif"] = exif.tobytes()
    with atomic_write(path) as tmp:
        img.save(tmp, format=fmt, **params)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fast-style-stylize",
        description="Stylize photos and videos with a trained style model: one forward pass per image or frame.",
    )
    p.add_argument("inputs", nargs="*", help="image or video files, folders (recursive) or globs")
    which = p.add_mutually_exclusive_group()
    which.add_argument("-s", "--style", metavar="NAME",
                       help="a built-in style (see --list-styles), e.g. --style wave")
    which.add_argument("-m", "--model", help="a style model file (.pt) written by fast-style-train")
    which.add_argument("--list-styles", action="store_true", help="list the built-in styles and exit")
    p.add_argument("-o", "--output", default="stylized",
                   help="output file (one input) or folder, mirroring input folders (default: ./stylized)")
    p.add_argument("--name", default="{stem}.{ext}", help="output file name pattern in a folder: {stem} {ext} {style}")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--max-size", type=int, help="downscale so the longer side is at most this many pixels")
    p.add_argument("--scale", type=float, help="resize the input by this factor first")
    p.add_argument("--strength", type=float, default=1.0, help="0 = the photo, 1 = full style (default 1)")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours, stylize luminance")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", default="auto", choices=["auto", *PRECISIONS], help="compute precision")
    p.add_argument("--tile", type=int, default=None, metavar="PX",
                   help=f"always stylize in seamless tiles of PX pixels (e.g. {DEFAULT_TILE}); without it, "
                        f"images over --max-pixels are tiled automatically in {DEFAULT_TILE} px tiles")
    p.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS,
                   help=f"tile images with more pixels than this (default {DEFAULT_MAX_PIXELS:.0f}; 0: never)")
    p.add_argument("--backend", default="torch", choices=["torch", "onnxruntime"], help="inference engine")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the network: ~2x faster once warm, tens of seconds per new image size")
    p.add_argument("--max-image-pixels", type=float, default=Image.MAX_IMAGE_PIXELS,
                   help=f"refuse images with more pixels than this (decompression bombs; default "
                        f"{Image.MAX_IMAGE_PIXELS:.0f})")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    if args.list_styles:
        print(zoo.describe() or "no built-in styles in this installation")
        return 0
    if not (args.style or args.model):
        raise UserError(f"say which style: --style NAME (built in: {', '.join(zoo.names())}) or --model FILE.pt")
    if args.style and args.style not in zoo.names():
        raise UserError(f"unknown style '{args.style}': the built-in styles are {', '.join(zoo.names())} "
                        "(--model takes a file you trained)")
    if not args.inputs:
        raise UserError("no inputs: give image or video files, folders or globs to stylize")
    model = args.style or args.model
    if not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength must be within 0..1, got {args.strength}")
    if args.max_size is not None and args.max_size < 1:
        raise UserError("--max-size must be a positive number of pixels")
    if args.scale is not None and args.scale <= 0:
        raise UserError("--scale must be > 0")
    if args.tile is not None and args.tile < 64:
        raise UserError("--tile must be at least 64 pixels")
    if args.max_pixels < 0:
        raise UserError("--max-pixels must be >= 0")
    if not 1 <= args.quality <= 100:
        raise UserError("--quality must be within 1..100")
    if args.max_image_pixels <= 0:
        raise UserError("--max-image-pixels must be > 0")
    if args.backend == "onnxruntime" and (args.tile or args.compile):
        raise UserError(f"--{'tile' if args.tile else 'compile'} needs --backend torch")
    Image.MAX_IMAGE_PIXELS = int(args.max_image_pixels)
    items = expand_inputs(args.inputs)
    if not items:
        raise UserError("no images found in the given inputs")
    try:
        stylizer = Stylizer.load(model, args.device, args.precision, args.backend,
                                 int(args.max_pixels), args.tile or DEFAULT_TILE, args.compile)
    except StyleModelError as e:
        raise UserError(str(e)) from None
    trained_on = stylizer.meta.get("style_image")  # {style}: the painting's name, else the model file's
    plans = plan_outputs(items, args.output, args.name, Path(trained_on).stem if trained_on else Path(model).stem)
    inputs = {src.resolve() for src, _ in plans}
    from tqdm import tqdm

    failed = done = videos = frames = 0
    megapixels = 0.0

    def stylize(image: Image.Image) -> Image.Image:
        return stylizer.stylize_image(image, args.strength, args.preserve_color, args.max_size, args.scale,
                                      tiled=True if args.tile else None)

    def count(image: Image.Image) -> None:  # each image and video frame written
        nonlocal megapixels
        megapixels += image.width * image.height / 1e6

    start = time.perf_counter()
    bar = tqdm(plans, unit="img", disable=args.quiet or len(plans) < 2, file=sys.stderr)
    for src, dst in bar:
        try:
            if dst.resolve() in inputs:
                raise UserError(f"{dst} is an input: choose another --output or --name")
            if dst.exists() and not args.force:
                raise UserError(f"{dst} exists: use --force to overwrite it")
            if is_video(src):
                frames += stylize_video(src, dst, stylize, on_frame=count)
                videos += 1
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)  # over the limit: refuse
                source = read_image(src)
            out = stylize(source)
            save_image(out, dst, source, args.quality)
            done += 1
            count(out)
        except DiskError as e:  # every later image would fail the same way: stop here
            failed += 1
            tqdm.write(f"error: {e}; stopped", file=sys.stderr)
            break
        except (UserError, OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            failed += 1
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning)):  # Pillow names 2x
                msg = (f"more pixels than --max-image-pixels {int(args.max_image_pixels)} (the guard against "
                       "decompression bombs): raise it if you trust this file")
            tqdm.write(f"error: {src}: {msg}" if not isinstance(e, UserError) else f"error: {msg}", file=sys.stderr)
    seconds = time.perf_counter() - start
    rate = megapixels / seconds if seconds > 0 else 0.0
    where = plans[0][1] if len(plans) == 1 and done + videos else Path(args.output)
    clips = f" and {videos} video(s) of {frames} frames" if videos else ""
    print(f"stylized {done} image(s){clips}, {megapixels:.1f} MP in {seconds:.1f} s ({rate:.2f} MP/s) -> {where}"
          + (f"; {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    limit = Image.MAX_IMAGE_PIXELS
    try:
        return run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        Image.MAX_IMAGE_PIXELS = limit


if __name__ == "__main__":
    sys.exit(main())
