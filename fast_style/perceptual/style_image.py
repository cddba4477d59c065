"""The painting a style network learns: read from its file, checked (a picture, at least 16 px, fitting in memory)
and sized for the loss's VGG, as a tensor. Training's `style` config group builds it; eval and optimize use it too."""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms import v2

from fast_style import zoo
from fast_style.errors import UserError, option_note, setting
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import open_rgb, unreadable_because
from fast_style.memory import check_memory
from fast_style.numbers import shown
from fast_style.options import as_number

LOWER_STYLE_SIZE = "lower the style size (style.size=, --style-size)"
PICTURE_BYTES_PER_PIXEL = 24  # Pillow's RGB copies, the uint8 and float32 tensors of a style image


def load_style_image(image: str, size: int | None = None) -> torch.Tensor:
    """The style image as a (1, 3, H, W) tensor in [0, 1], its longer side resized to `size` (None: as is)."""
    if not str(image).strip():  # Path("") is the current folder: "style image '' is a folder"
        raise UserError("the style image's path is empty (an unset shell variable?): give the path of a painting")
    path = Path(image).expanduser()
    if size is not None:  # (a string failed with "'<' not supported between instances of 'str' and 'int'")
        number = as_number("the style size", size)
        if not 16 <= number < math.inf:  # (inf, 10**400: OverflowError in the resize below)
            raise UserError(
                f"style size {shown(size)}: give a number of pixels, at least 16 (or null for the painting's own size)"
            )
        size = int(number) if number.is_integer() else number  # type: ignore[assignment]
    if not path.is_file():  # the same words fit training (style.image=) and the CLIs (--style)
        if not path.exists() and str(image) in zoo.names():  # fast-style-optimize -s wave: "not found" alone
            raise UserError(
                f"style image '{image}' not found: {image} is a built-in style (a trained model), not a painting; the "
                f"style image{option_note('--style')} is a painting's image file (.jpg, .png, ...), and built-in "
                f"styles are used with fast-style-stylize --style {image}"
            )
        if not path.exists() and re.match(r"[a-z][a-z0-9+.-]*://", str(image), re.IGNORECASE):  # ("not found")
            raise UserError(
                f"style image '{image}' is a web address, which is not downloaded: save the painting first and give "
                "its file's path (.jpg, .png, ...)"
            )
        problem = "is a folder, not an image" if path.is_dir() else "not found"
        raise UserError(f"style image '{image}' {problem}: give the path of a painting (.jpg, .png, ...)")
    try:
        img = open_rgb(path)
    except BOMB:  # (Pillow's own words name a DOS attack)
        raise UserError(f"cannot read style image {image}: {over_the_bomb_limit()}") from None
    except Exception as e:
        raise UserError(f"cannot read style image {image}: {unreadable_because(path, e, 160)}") from None
    if min(img.size) < 16:  # too small to hold any texture, however far it is scaled up
        raise UserError(f"style image {image} is {img.width}x{img.height}: use one at least 16 px on each side")
    given = img.size
    if size:
        scale = size / max(img.size)
        w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
        # the picture in memory, resized and as float (the VGG's features of it: PerceptualLoss.set_style, on the CPU):
        # a --style-size 100000 was killed unannounced
        check_memory(w * h * PICTURE_BYTES_PER_PIXEL, f"the style image at size {size} ({w}x{h})", LOWER_STYLE_SIZE)
        img = img.resize((w, h), Image.BICUBIC)
    if min(img.size) < 16:  # a long, thin painting: the size that keeps 16 px, as a photo's --size is named
        from fast_style.perceptual.loss import size_keeping_side

        raise UserError(
            f"style image {image} is {img.width}x{img.height} at {setting('--style-size', 'style.size', size)}, "
            f"under 16 px a side: give {setting('--style-size', 'style.size', size_keeping_side(*given))} or more"
        )
    return v2.functional.to_dtype(v2.functional.pil_to_tensor(img), torch.float32, scale=True).unsqueeze(0)
