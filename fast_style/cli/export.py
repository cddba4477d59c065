"""`fast-style-export`: a style model to ONNX (dynamic batch, height, width) or TorchScript, checked before
writing."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from fast_style import zoo
from fast_style.cli import ToolParser, check_style_name, finished, run_tool
from fast_style.errors import UserError, first_of


def main(argv: list[str] | None = None) -> int:
    p = ToolParser(prog="fast-style-export", description=__doc__)
    p.add_argument(
        "model",
        nargs="?",
        help="style model (.pt) written by fast-style-train, its run's folder, or a built-in style's name (wave)",
    )
    p.add_argument("more", nargs="*", default=[], help=argparse.SUPPRESS)  # fast-style-export wave udnie: said below
    which = p.add_mutually_exclusive_group()  # as fast-style-stylize names them
    which.add_argument("-s", "--style", metavar="NAME", help="a built-in style, e.g. --style wave (the same as MODEL)")
    which.add_argument(
        "-m",
        "--model",
        dest="model_file",
        metavar="FILE",
        help="a style model file or its run's folder (the same as MODEL)",
    )
    p.add_argument(
        "-o",
        "--output",
        help="output file: .onnx (ONNX) or .ts (TorchScript); or a folder (a name without an extension too): the "
        "model's name in it (default: the current folder, e.g. ./wave.onnx; an existing file needs --force)",
    )
    p.add_argument(
        "--format",
        type=str.lower,  # (--format ONNX, as export() takes it from Python)
        choices=["onnx", "torchscript"],
        help="the format where -o does not say it (a folder, or no -o; must agree with an .onnx or .ts name)",
    )
    p.add_argument("--opset", type=int, help="ONNX opset, 11 to 23 (default 17); ONNX only")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    args = p.parse_args(argv)
    # the output without -o, as cp takes it (MODEL OUT, --style NAME OUT): it said "one model at a time: out.onnx
    # after wave: run it once per model", or "say which model once"
    named = [m for m in (args.model, *args.more) if m is not None]
    if (
        args.output is None
        and named
        and _an_output(named[-1])
        and len(named) + bool(args.style or args.model_file) == 2
    ):
        p.error(f"{named[-1]} names an output: give it with -o {shlex.quote(named[-1])}")
    if args.more:  # (it said "unrecognized arguments: udnie")
        p.error(f"one model at a time: {first_of(args.more)} after {args.model}: run it once per model")
    given = [m for m in (args.model, args.style, args.model_file) if m is not None]
    if len(given) != 1:
        p.error(
            "say which model once: MODEL, --style NAME or --model FILE"
            if given
            else f"say which model: a built-in style's name ({', '.join(zoo.names())}) or a model file (.pt)"
        )
    if args.style is not None:
        try:
            check_style_name(args.style)
        except UserError as e:
            p.error(str(e))
    args.model = given[0]
    return run_tool(lambda: run(args))


def _an_output(item: str) -> bool:
    """Whether `item`, given after the model, names an export (an .onnx or .ts file) or a folder for one (a name
    ending in / that holds no run's style.pt), not a second model."""
    if item.lower().endswith((".onnx", ".ts")):
        return True
    return item.endswith(("/", os.sep)) and not (Path(item).expanduser() / "style.pt").is_file()


def run(args: argparse.Namespace) -> None:
    from fast_style.model.export import export  # torch: after the arguments are parsed

    # no -o: the current folder, the file named after the model (as -o . names it), never over one unasked
    output = os.curdir if args.output is None else args.output
    written = export(args.model, output, args.format, args.opset, args.force)
    finished()  # a Ctrl-C from here is no interruption: the export is written
    print(written)


if __name__ == "__main__":
    sys.exit(main())
