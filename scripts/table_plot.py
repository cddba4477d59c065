#!/usr/bin/env python3
"""A text scatter plot of two columns of a Markdown table (no plotting library, nothing binary in the repo).

    python scripts/table_plot.py benchmarks/README.md --after "Training for stability" \\
        --x "style (VGG16)" --y flicker --label variant --where painting=wave

Reads the first table after the heading line containing --after; each row becomes a point marked by a letter,
explained under the plot. Bold (**x**) and thousands separators in cells are ignored.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError


def read_table(text: str, after: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("#") and after in line), None)
    if start is None:
        raise UserError(f"no heading containing {after!r}: give --after the text of one")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    if len(rows) < 3:
        raise UserError(f"no table with rows after the heading containing {after!r}")
    header, body = rows[0], [r for r in rows[2:] if len(r) == len(rows[0])]
    return [dict(zip(header, r)) for r in body]


def number(cell: str, column: str) -> float:
    try:
        return float(cell.replace("*", "").replace(",", ""))
    except ValueError:
        raise UserError(f"column {column!r} holds {cell!r}, not a number: plot a column of numbers") from None


def plot(points: list[tuple[float, float, str]], width: int = 64, height: int = 14) -> str:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid = [[" "] * width for _ in range(height)]
    for x, y, mark in points:
        col = round((x - x0) / ((x1 - x0) or 1) * (width - 1))
        row = height - 1 - round((y - y0) / ((y1 - y0) or 1) * (height - 1))
        grid[row][col] = mark if grid[row][col] == " " else "*"  # * : points on the same cell
    lines = [f"{y1:>8.3g} |" + "".join(grid[0])]
    lines += ["         |" + "".join(r) for r in grid[1:-1]]
    lines += [f"{y0:>8.3g} |" + "".join(grid[-1]), "         +" + "-" * width]
    lines.append(f"          {x0:<.3g}{' ' * (width - 16)}{x1:>.3g}")
    return "\n".join(lines)


def main() -> None:
    sys.exit(run_tool(scatter))


def scatter() -> None:
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument("markdown", type=Path)
    p.add_argument("--after", required=True, help="text of the heading the table follows")
    p.add_argument("--x", required=True, help="the column along the x axis")
    p.add_argument("--y", required=True, help="the column along the y axis")
    p.add_argument("--label", nargs="+", required=True, help="the columns that name a row")
    p.add_argument("--where", nargs="*", default=[], help="COLUMN=VALUE: only the rows with that value")
    args = p.parse_args()
    if not args.markdown.is_file():
        raise UserError(f"{args.markdown} is not a file: give a Markdown file")
    rows = read_table(args.markdown.read_text(), args.after)
    columns = list(rows[0]) if rows else []
    wheres = [condition.partition("=") for condition in args.where]
    if bad := [c for c in args.where if "=" not in c]:
        p.error(f"--where {bad[0]}: give COLUMN=VALUE")
    # (a KeyError's traceback, or a plot of no points: min() of nothing)
    if unknown := [c for c in [args.x, args.y, *args.label, *(w[0] for w in wheres)] if c not in columns]:
        raise UserError(f"no column {unknown[0]!r} in the table: it has {', '.join(map(repr, columns))}")
    for column, _, value in wheres:
        rows = [r for r in rows if r.get(column) == value]
        if not rows:
            raise UserError(f"no row left with {column}={value} (--where)")
    marks = string.ascii_uppercase + string.ascii_lowercase
    if len(rows) > len(marks):
        raise UserError(f"{len(rows)} rows, more than {len(marks)} letters to mark them: narrow them with --where")
    points = [(number(r[args.x], args.x), number(r[args.y], args.y), marks[i]) for i, r in enumerate(rows)]
    print(f"{args.y} (y) against {args.x} (x)\n")
    print(plot(points))
    print()
    for (_, _, mark), r in zip(points, rows):
        print(f"  {mark}  {' '.join(r[c] for c in args.label)}")


if __name__ == "__main__":
    main()
