"""A style model's scores on held-out photos (`fast_style.evaluation.evaluate` measures them) and the orders
`fast-style-eval --rank-by` ranks models in. Free of torch, so the command line names the orders without
loading it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class ModelScore:
    name: str
    path: str
    style_image: str
    content: float = 0.0
    style: float = 0.0
    tv: float = 0.0
    total: float = 0.0
    coverage: float = 0.0
    flicker: float | None = (
        None  # fast_style.evaluation.stability: frame-to-frame change on panning clips / the input's
    )
    flicker_zoom: float | None = None  # the same on clips zooming in
    judge_content: float | None = None
    judge_style: float | None = None
    ms_per_image: float = 0.0
    vs_reference: float | None = None
    per_photo_total: list[float] = field(default_factory=list)


# --rank-by: lower first, except coverage (more of the picture painted is better)
RANK_BY = {
    "total": lambda s: s.total,
    "style": lambda s: s.style,
    "content": lambda s: s.content,
    "coverage": lambda s: -s.coverage,
    "flicker": lambda s: s.flicker if s.flicker is not None else float("inf"),
    "judge_style": lambda s: s.judge_style if s.judge_style is not None else float("inf"),
}


def ranked(scores: list[ModelScore], rank_by: str = "total") -> list[int]:
    """Indices of `scores`, best first by `rank_by` (RANK_BY); a NaN score (a model that paints NaN) last."""

    def key(i: int) -> tuple[bool, float]:
        value = RANK_BY[rank_by](scores[i])
        return (math.isnan(value), 0.0 if math.isnan(value) else value)  # NaN compares false: sorted lost order

    return sorted(range(len(scores)), key=key)
