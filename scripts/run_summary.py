#!/usr/bin/env python3
"""Summarise a training run's TensorBoard logs: steady steps/s and the held-out val/* curve (also as CSV).

    python scripts/run_summary.py outputs/2026-11-26/10-00-00-4242 [--csv curve.csv [--force]]

steps/s is measured from the wall times TensorBoard stored with `train/total`, from a quarter of the run to
its end, so compilation and warm-up are left out.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from fast_style.atomic import atomic_write
from fast_style.cli import ToolParser, run_tool
from fast_style.errors import UserError
from fast_style.outputs import check_output


def main() -> None:
    sys.exit(run_tool(summarise))


def summarise() -> None:
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a run folder (its TensorBoard event files are searched below it)")
    p.add_argument("--csv", type=Path, help="write step, val/content, val/style, val/tv, val/total, val/coverage here")
    p.add_argument("--force", action="store_true", help="replace an existing --csv")
    args = p.parse_args()
    if args.csv:  # before reading the logs: an existing file was replaced unasked, a folder was a traceback
        check_output(args.csv, args.force)
    events = sorted(Path(args.run).rglob("events.out.tfevents.*"))
    if not events:
        raise UserError(f"no TensorBoard event files under {args.run}")
    scalars: dict[str, dict[int, tuple[float, float]]] = {}
    for path in events:
        acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            for e in acc.Scalars(tag):
                scalars.setdefault(tag, {})[e.step] = (e.wall_time, e.value)
    train = sorted(scalars.get("train/total", {}).items())
    if len(train) >= 4:
        (s0, (t0, _)), (s1, (t1, _)) = train[len(train) // 4], train[-1]
        print(
            f"steps logged: {train[-1][0]}; steady rate {(s1 - s0) / (t1 - t0):.2f} steps/s "
            f"(steps {s0}..{s1}); first to last logged step {t1 - train[0][1][0]:.0f} s"
        )
    names = [n for n in ("val/content", "val/style", "val/tv", "val/total", "val/coverage") if n in scalars]
    steps = sorted(set().union(*(scalars[n] for n in names))) if names else []
    print(f"{'step':>7} " + " ".join(f"{n:>12}" for n in names))
    rows = []
    for step in steps:
        row = [scalars[n].get(step, (0, float("nan")))[1] for n in names]
        rows.append([step, *row])
        print(f"{step:>7} " + " ".join(f"{v:>12.4g}" for v in row))
    if args.csv:
        with atomic_write(args.csv, overwrite=args.force) as tmp, open(tmp, "w", newline="") as f:
            csv.writer(f).writerows([["step", *names], *rows])


if __name__ == "__main__":
    main()
