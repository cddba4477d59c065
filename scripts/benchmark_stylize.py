#!/usr/bin/env python3
"""Inference speed of the style network on this machine, per image size and engine.

Prints, for each size: ms per image, megapixels/s, the network's GFLOPs (torch.utils.flop_counter),
achieved GFLOP/s and its fraction of this machine's fp32 matrix-multiply rate, measured in the same run.
Engines: the plain eager forward (the baseline), channels-last, bf16 or fp16 autocast, the network cast to bf16
and kept channels-last (bf16_cl: the default CPU path), torch.compile,
torch.compile + bf16, torch.compile with CUDA graphs + bf16 (GPU), onnxruntime (where installed) and
`stylizer`, the product's own path (Stylizer with its defaults: a uint8 photo in host memory in, uint8 out,
transfers included). The last columns are the speed-up over the plain forward and the max abs difference
to it (in [0, 1] pixel units): the plain forward is timed whether --engines names eager or not.

    python scripts/benchmark_stylize.py                 # 256, 512, 1024, 2048 px, CPU engines
    python scripts/benchmark_stylize.py --sizes 1024 --engines eager onnxruntime
    python scripts/benchmark_stylize.py --device cuda --sizes 1920x1080 --engines eager bf16 fp16 stylizer
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from fast_style import zoo
from fast_style.cli import ToolParser, positive, run_tool
from fast_style.devices import pick_device, pick_precision
from fast_style.inference.stylizer import Stylizer
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model


def parse_size(text: str) -> tuple[int, int]:
    """ "1024" -> (1024, 1024); "1920x1080" -> (1920, 1080): (width, height)."""
    w, _, h = text.lower().partition("x")
    try:
        size = int(w), int(h or w)
    except ValueError:
        size = (0, 0)
    if min(size) <= 0:  # (0: a ZeroDivisionError after the first engine's timing)
        raise argparse.ArgumentTypeError(f"a side (1024) or WxH (1920x1080) in px, each > 0, got {text!r}")
    return size


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(device: torch.device, n: int = 2048, repeat: int = 5) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    times = []
    for _ in range(repeat):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


def count_gflops(net: torch.nn.Module, x: torch.Tensor) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops() / 1e9


def timed(fn: Callable[[], torch.Tensor], min_time: float, device: torch.device, min_runs: int = 3) -> list[float]:
    """Seconds of each call of `fn` over at least `min_time` (after two warm-up calls)."""
    fn()  # warm-up (compilation, allocator, CUDA graph capture)
    fn()
    runs, start = [], time.perf_counter()
    while len(runs) < min_runs or time.perf_counter() - start < min_time:
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        runs.append(time.perf_counter() - t)
    return runs


def _autocast(net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    with torch.autocast(x.device.type, dtype=dtype):
        return net(x).float()


_HOST: dict[tuple, torch.Tensor] = {}


def _as_host_uint8(x: torch.Tensor) -> torch.Tensor:
    key = (tuple(x.shape), x.data_ptr())
    if key not in _HOST:  # converted once, outside the timing: a decoded photo is uint8 in host memory
        _HOST[key] = x.mul(255).round().to("cpu", torch.uint8)
    return _HOST[key]


def engines(net: TransformerNet, wanted: list[str]) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    out: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
    if "eager" in wanted:
        out["eager"] = net
    if "channels_last" in wanted:
        cl = TransformerNet(**net.config).eval()
        cl.load_state_dict(net.state_dict())
        cl = cl.to(next(net.parameters()).device, memory_format=torch.channels_last)
        out["channels_last"] = lambda x: cl(x.contiguous(memory_format=torch.channels_last))
    if "bf16_cl" in wanted:  # the network itself in bf16, channels-last: the default CPU path of Stylizer
        bcl = TransformerNet(**net.config).eval()
        bcl.load_state_dict(net.state_dict())
        bcl = bcl.to(next(net.parameters()).device, torch.bfloat16, memory_format=torch.channels_last)
        out["bf16_cl"] = lambda x: bcl(x.to(torch.bfloat16, memory_format=torch.channels_last)).float()
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        if name in wanted:
            out[name] = lambda x, dtype=dtype: _autocast(net, x, dtype)
    if "compile" in wanted:
        out["compile"] = torch.compile(net, dynamic=False)
    if "compile_bf16" in wanted:
        compiled = torch.compile(net, dynamic=False)

        def compile_bf16(x: torch.Tensor) -> torch.Tensor:
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                return compiled(x).float()

        out["compile_bf16"] = compile_bf16
    if "cudagraphs_bf16" in wanted:  # torch.compile with CUDA graphs: no per-kernel launch cost (GPU only)
        graphed = torch.compile(net, dynamic=False, mode="reduce-overhead")
        out["cudagraphs_bf16"] = lambda x: _autocast(graphed, x, torch.bfloat16).clone()
    if "stylizer" in wanted:  # the product's path: uint8 photo in host memory -> uint8 result in host memory
        stylizer = Stylizer(net, next(net.parameters()).device, pick_precision("auto", next(net.parameters()).device))
        out["stylizer"] = lambda x: stylizer.stylize_tensor(_as_host_uint8(x))
    if "onnxruntime" in wanted:
        try:
            import onnxruntime as ort

            from fast_style.model.export import to_onnx_bytes

            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(to_onnx_bytes(net), opts, providers=["CPUExecutionProvider"])

            def onnx(x: torch.Tensor) -> torch.Tensor:
                return torch.from_numpy(session.run(None, {"image": x.cpu().numpy()})[0]).to(x.device)

            out["onnxruntime"] = onnx
        except ImportError:
            print("onnxruntime not installed: skipped")
    return out


def main() -> None:
    sys.exit(run_tool(benchmark))


def benchmark() -> None:
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes",
        type=parse_size,
        nargs="+",
        default=[256, 512, 1024, 2048],
        help="square sizes (1024) or WxH (1920x1080)",
    )
    p.add_argument(
        "--engines",
        nargs="+",
        default=["eager", "channels_last", "bf16", "bf16_cl", "compile", "compile_bf16", "onnxruntime"],
        choices=[
            "eager",
            "channels_last",
            "bf16",
            "bf16_cl",
            "fp16",
            "compile",
            "compile_bf16",
            "cudagraphs_bf16",
            "onnxruntime",
            "stylizer",
        ],
        help="what to time; eager, the baseline of the speed-up, is always timed",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--min-time", type=float, default=3.0, help="seconds of timing per cell (median reported)")
    p.add_argument(
        "--rounds",
        type=positive(int),
        default=1,
        help="time the engines in turn this many times (min-time split among the rounds): on a machine whose "
        "speed drifts, every engine then sees the same conditions",
    )
    p.add_argument("--threads", type=positive(int), default=None)
    p.add_argument(
        "--model",
        help="a trained style model or a built-in style's name (default: the default network, randomly initialised)",
    )
    args = p.parse_args()
    device = pick_device(args.device)  # (cuda without CUDA: torch's traceback)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model:
        net = load_style_model(str(zoo.resolve(args.model)))[0]
    else:
        net = TransformerNet()
        torch.nn.init.normal_(net.decoder[-1].weight, std=0.02)  # not the identity, so differences show
    net = net.eval().requires_grad_(False).to(device)
    peak = matmul_gflops(device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"device: {where}, torch {torch.__version__}; fp32 matmul (2048^3): {peak:.1f} GFLOP/s")
    print(
        f"{'size':>10} {'engine':>15} {'ms/img':>9} {'img/s':>7} {'MP/s':>7} {'GFLOP':>7} {'GFLOP/s':>8} "
        f"{'of peak':>8} {'speed-up':>9} {'max diff':>9}"
    )
    # the speed-up is over eager: timed first though not asked for (it was over whichever engine came first)
    runners = engines(net, ["eager", *args.engines])
    for w, h in args.sizes:
        x = torch.rand(1, 3, h, w, device=device)
        gflop = count_gflops(net, x)
        label = f"{w}x{h}" if w != h else str(w)
        with torch.no_grad():
            reference = net(x)
            runs: dict[str, list[float]] = {name: [] for name in runners}
            diffs: dict[str, float] = {}
            for _ in range(max(1, args.rounds)):
                for name, run in runners.items():
                    if name not in runs:
                        continue
                    try:
                        runs[name] += timed(lambda run=run, x=x: run(x), args.min_time / max(1, args.rounds), device)
                        if name not in diffs:  # once: the result does not change between rounds
                            y = run(x)
                            y = y.float() / 255 if y.dtype == torch.uint8 else y.float().clamp(0, 1)
                            diffs[name] = (y.to(device) - reference).abs().max().item()
                    except Exception as e:  # an engine that cannot run here is reported, not fatal
                        print(f"{label:>10} {name:>15} failed: {str(e).splitlines()[0][:80]}", flush=True)
                        del runs[name]
            base = statistics.median(runs["eager"]) if "eager" in runs else float("nan")  # (nan: it failed)
            for name, times in runs.items():
                seconds, diff = statistics.median(times), diffs[name]
                print(
                    f"{label:>10} {name:>15} {seconds * 1e3:>9.2f} {1 / seconds:>7.1f} {w * h / 1e6 / seconds:>7.2f} "
                    f"{gflop:>7.1f} {gflop / seconds:>8.1f} {gflop / seconds / peak:>8.0%} "
                    f"{base / seconds:>8.2f}x {diff:>9.1e}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
