"""The reports an evaluation writes: metrics.csv, metrics.json and contact_sheet.png in one folder, together or
none, an earlier evaluation's replaced only when asked."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from fast_style.atomic import atomic_writes, writing
from fast_style.errors import UserError, setting
from fast_style.evaluation.contact_sheets import check_sheet_cell, contact_sheet, spread
from fast_style.evaluation.scores import RANK_BY, ModelScore, ranked
from fast_style.outputs import to_overwrite
from fast_style.plurals import counted

REPORTS = ("metrics.csv", "metrics.json", "contact_sheet.png")


COLUMNS = [
    "name",
    "total",
    "content",
    "style",
    "tv",
    "coverage",
    "flicker",
    "flicker_zoom",
    "judge_content",
    "judge_style",
    "vs_reference",
    "ms_per_image",
]


def _check_outputs(scores: list[ModelScore], outputs: Sequence, rows: list[int]) -> None:
    """UserError where `outputs` does not hold each model's pictures of the contact sheet's `rows` (a bare KeyError
    or IndexError at the sheet, after the metrics were computed)."""
    if len(outputs) != len(scores):
        raise UserError(  # (counted: it said "scores 1 models")
            f"outputs holds pictures of {counted(len(outputs), 'model')} and scores of {counted(len(scores), 'model')}"
            ": pass evaluate's two results together"
        )
    for score, held in zip(scores, outputs):
        if missing := [r for r in rows if (r not in held if isinstance(held, Mapping) else r >= len(held))]:
            raise UserError(
                f"outputs lacks {score.name}'s picture of photo {missing[0]}, a row of the contact sheet (photos "
                f"{', '.join(map(str, rows))}): evaluate with keep=spread(len(photos), sheet_rows), or lower sheet_rows"
            )


def check_reports(out: Path, force: bool) -> None:
    """UserError where `write_reports` would replace an earlier evaluation's reports in `out` without `force`."""
    for name in REPORTS:  # (found after every model had been scored)
        if (out / name).is_dir():
            raise UserError(
                f"{out / name} is a folder, where the report {name} goes: choose another {setting('--out', 'out')}"
            )
    taken = [str(out / name) for name in REPORTS if (out / name).exists()]
    if taken and not force:
        raise UserError(
            f"{', '.join(taken)} {'exists' if len(taken) == 1 else 'exist'}: {to_overwrite()}, or another "
            f"{setting('--out', 'out')}"
        )


def write_reports(
    out: str | Path,
    scores: list[ModelScore],
    outputs: Sequence[Mapping[int, torch.Tensor] | Sequence[torch.Tensor]],
    photos: list[tuple[str, torch.Tensor]],
    weights: str,
    rank_by: str = "total",
    sheet_rows: int = 8,
    sheet_cell: int = 192,
    force: bool = False,
) -> list[Path]:
    """metrics.csv, metrics.json and contact_sheet.png in `out` (each written atomically), models ranked; an
    earlier evaluation's reports are replaced only with `force` (`check_reports`). `outputs[i]` holds model i's
    stylized pictures by photo number, at least the sheet's rows (`spread(len(photos), sheet_rows)`)."""
    out = Path(out).expanduser()  # as evaluate reads its models, photos and paintings (it wrote to a folder named ~)
    if rank_by not in RANK_BY:
        raise UserError(f"rank_by {rank_by!r}: choose one of {', '.join(RANK_BY)} ({setting('--rank-by', 'rank_by')})")
    sheet_cell = check_sheet_cell(sheet_cell)
    _check_outputs(scores, outputs, spread(len(photos), sheet_rows))
    check_reports(out, force)
    order = ranked(scores, rank_by)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["rank", *COLUMNS, "path"])
    for rank, i in enumerate(order, 1):
        s = asdict(scores[i])
        writer.writerow([rank, *(s[c] for c in COLUMNS), s["path"]])
    report = json.dumps(
        {"photos": [n for n, _ in photos], "weights": weights, "models": [asdict(scores[i]) for i in order]}, indent=2
    )
    rows = spread(len(photos), sheet_rows)
    sheet = contact_sheet(
        [photos[r] for r in rows],
        [[outputs[i][r] for r in rows] for i in order],
        [scores[i].name for i in order],
        sheet_cell,
    )
    paths = [out / name for name in REPORTS]
    with atomic_writes(paths) as temps:  # the three replace an earlier report together (not a mixed one)
        for path, tmp, write in zip(
            paths,
            temps,
            (
                lambda p: p.write_text(table.getvalue()),
                lambda p: p.write_text(report),
                lambda p: sheet.save(p, format="PNG"),
            ),
        ):
            with writing(path):  # named here: the stack's outer levels would name the last file
                write(tmp)
    return paths
