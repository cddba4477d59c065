"""The evaluation settings fast_style.evaluation.evaluate and fast-style-eval share, with their defaults. Free of
torch, so the command line names them (and `--help` answers) without loading it, as fast_style.inference_defaults does
for stylizing; scores themselves are fast_style.evaluation.scores'."""

from __future__ import annotations

STABILITY_PHOTOS = (
    4  # the photos flicker is measured on by default (fast_style.evaluation.evaluate's, fast-style-eval's)
)
