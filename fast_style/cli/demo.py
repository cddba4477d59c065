"""`fast-style-demo`: a built-in style at once, then a short training run of its own (fast_style/demo.py)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from fast_style.cli import ToolParser, finished, run_tool
from fast_style.errors import UserError
from fast_style.outputs import in_the_way


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog="fast-style-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="outputs/demo", help="where data and runs go (default outputs/demo)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument(
        "--image-size",
        type=int,
        help="training crop size (default 128; 96 on a CPU without native bf16, to stay near 5 minutes)",
    )
    args = parser.parse_args(argv)
    return run_tool(lambda: report(run(args)))


def run(args: argparse.Namespace) -> dict[str, Path]:
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if args.image_size is not None and args.image_size < 32:
        raise UserError(f"--image-size must be at least 32 pixels, got {args.image_size}")
    if not args.workdir.strip():  # an unset shell variable: Path("") is the current folder, filled with data and runs
        raise UserError("--workdir is empty (an unset shell variable?): give a folder, or leave it out (outputs/demo)")
    workdir = Path(args.workdir)
    if said := in_the_way(workdir):
        raise UserError(f"--workdir {workdir}: {said}; choose another --workdir")
    from fast_style.demo import run_demo  # torch, Lightning: after the arguments are parsed

    return run_demo(workdir, args.steps, args.image_size)


def report(paths: dict[str, Path]) -> None:
    finished()  # a Ctrl-C from here is no interruption: the demo's model and pictures are written
    print("\nDemo finished.")
    for what, path in paths.items():
        print(f"  {what + ':':18} {path}")
    print(f"  view the logs with: tensorboard --logdir {shlex.quote(str(paths['tensorboard logs']))}")


if __name__ == "__main__":
    sys.exit(main())
