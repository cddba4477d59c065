#!/usr/bin/env python3
"""Summarise a training run's TensorBoard logs: steady steps/s and the held-out val/* curve (also as CSV).

    python scripts/run_summary.py outputs/2026-11-26/10-00-00-4242 [--csv curve.csv]

steps/s is measured from the wall times TensorBoard stored with `train/total`, from a quarter of the run to
its end, so compilation and warm-up are left out.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a run folder (its TensorBoard event files are searched below it)")
    p.add_argument("--csv", help="write step, val/content, val/style, val/tv, val/total, val/coverage here")
    args = p.parse_args()
    events = sorted(Path(args.run).rglob("events.out.tfevents.*"))
    if not events:
        raise SystemExit(f"error: no TensorBoard event files under {args.run}")
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
        with open(args.csv, "w", newline="") as f:
            csv.writer(f).writerows([["step", *names], *rows])


if __name__ == "__main__":
    main()
