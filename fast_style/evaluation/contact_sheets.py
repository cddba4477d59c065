"""The contact sheet: rows of photos, the input and each model's stylized picture side by side, labelled; the
photos its rows show, evenly spread, and the size of its cells."""

from __future__ import annotations

import textwrap

import torch
from PIL import Image, ImageDraw

from fast_style.errors import setting
from fast_style.media.pixels import tensor_to_pil
from fast_style.numbers import check_number


def spread(count: int, wanted: int) -> list[int]:
    """`wanted` indices out of `count`, evenly spread, first and last included (0: all of them)."""
    if not wanted or count <= wanted:
        return list(range(count))
    return sorted({round(k * (count - 1) / (wanted - 1)) for k in range(wanted)}) if wanted > 1 else [0]


def contact_sheet(
    photos: list[tuple[str, torch.Tensor]], columns: list[list[torch.Tensor]], names: list[str], cell: int = 192
) -> Image.Image:
    """Rows: photos; first column the input, then one column per model, each labelled. `cell`: the longer side
    of each picture in px, at most the largest photo's (0: that, for judging the strokes at full size; pictures are
    never enlarged, so a larger cell only left white between them)."""
    pad = 4
    largest = max(max(photo.shape[-2:]) for _, photo in photos)
    cell = min(cell, largest) if cell else largest
    # labels wrap in a narrow column (6 px a character): cut short, the_scream and the_scream-fast read alike
    labels = [textwrap.wrap(label, max(1, cell // 6)) or [""] for label in ["input", *names]]
    header = 7 + 11 * max(len(lines) for lines in labels)
    rows = []  # each row as tall as its tallest picture: landscape photos leave no band of white below
    for r, (_, photo) in enumerate(photos):
        tiles = [tensor_to_pil(img[0]) for img in [photo, *(col[r] for col in columns)]]
        for tile in tiles:
            tile.thumbnail((cell, cell), Image.LANCZOS)
        rows.append(tiles)
    heights = [max(tile.height for tile in tiles) for tiles in rows]
    cols = 1 + len(columns)
    sheet = Image.new("RGB", (cols * (cell + pad) + pad, header + sum(h + pad for h in heights) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for c, lines in enumerate(labels):
        draw.text((pad + c * (cell + pad), 3), "\n".join(lines), fill="black", spacing=1)
    top = header + pad
    for tiles, height in zip(rows, heights):
        for c, tile in enumerate(tiles):
            sheet.paste(tile, (pad + c * (cell + pad), top))
        top += height + pad
    return sheet


def check_sheet_cell(cell: object) -> int:
    """The contact sheet's cell as Python's int: 32 to 4096 px on its longer side, or 0 for the images' own size
    (numpy's int64 too, which was refused "give 32 to 4096 px" for 64); TypeError for no number: fast_style.numbers'
    rule, in its words, as the command's other numbers (it had its own: "the sheet cell (--sheet-cell) 8: give 32 to
    4096 px" beside "--sheet-rows must be a whole number >= 0 (0: all), got -1", a numpy number by its repr and
    10**5000 a ValueError, its repr's digits more than Python writes)."""
    name, takes = setting("--sheet-cell", "sheet_cell"), "a whole number of pixels within 32..4096 (0: full size)"
    return int(check_number(name, cell, lambda v: v == 0 or 32 <= v <= 4096, takes, integer=True))
