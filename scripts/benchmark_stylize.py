#!/usr/bin/env python3
"""Inference speed of the style network on this machine, per image size and engine.

Prints, for each size: ms per image, megapixels/s, the network's GFLOPs (torch.utils.flop_counter),
achieved GFLOP/s and its fraction of this machine's fp32 matrix-multiply rate, measured in the same run.
Engines: the plain eager forward (the baseline), channels-last, bf16 autocast (where the CPU has it),
torch.compile, torch.compile + bf16, and onnxruntime (where installed). The last column is the speed-up over the plain forward,
and the max abs difference to it (in [0, 1] pixel units).

    python scripts/benchmark_stylize.py                 # 256, 512, 1024, 2048 px, all engines
    python scripts/benchmark_stylize.py --sizes 1024 --engines eager onnxruntime
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from fast_style.network import TransformerNet, load_style_model


def matmul_gflops(n: int = 2048, repeat: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


def count_gflops(net: torch.nn.Module, x: torch.Tensor) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops() / 1e9


def timed(fn: Callable[[], torch.Tensor], min_time: float, min_runs: int = 3) -> float:
    fn()  # warm-up (compilation, allocator)
    runs, start = [], time.perf_counter()
    while len(runs) < min_runs or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def engines(net: TransformerNet, wanted: list[str]) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    out: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
    if "eager" in wanted:
        out["eager"] = net
    if "channels_last" in wanted:
        cl = TransformerNet(**net.config).eval()
        cl.load_state_dict(net.state_dict())
        cl = cl.to(memory_format=torch.channels_last)
        out["channels_last"] = lambda x: cl(x.contiguous(memory_format=torch.channels_last))
    if "bf16" in wanted and torch.backends.mkldnn.is_available():
        def bf16(x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return net(x).float()
        out["bf16"] = bf16
    if "compile" in wanted:
        out["compile"] = torch.compile(net, dynamic=False)
    if "compile_bf16" in wanted:
        compiled = torch.compile(net, dynamic=False)

        def compile_bf16(x: torch.Tensor) -> torch.Tensor:
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                return compiled(x).float()
        out["compile_bf16"] = compile_bf16
    if "onnxruntime" in wanted:
        try:
            import onnxruntime as ort

            from fast_style.export import to_onnx_bytes

            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(to_onnx_bytes(net), opts, providers=["CPUExecutionProvider"])
            out["onnxruntime"] = lambda x: torch.from_numpy(session.run(None, {"image": x.numpy()})[0])
        except ImportError:
            print("onnxruntime not installed: skipped")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    p.add_argument("--engines", nargs="+", default=["eager", "channels_last", "bf16", "compile", "compile_bf16", "onnxruntime"])
    p.add_argument("--min-time", type=float, default=3.0, help="seconds of timing per cell (median reported)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--model", help="a trained style model (default: the default network, randomly initialised)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model:
        net = load_style_model(args.model)[0]
    else:
        net = TransformerNet()
        torch.nn.init.normal_(net.decoder[-1].weight, std=0.02)  # not the identity, so differences show
    net = net.eval().requires_grad_(False)
    peak = matmul_gflops()
    print(f"device: cpu, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"fp32 matmul (2048^3): {peak:.1f} GFLOP/s")
    print(f"{'size':>6} {'engine':>14} {'ms/img':>9} {'MP/s':>7} {'GFLOP':>7} {'GFLOP/s':>8} {'of peak':>8} "
          f"{'speed-up':>9} {'max diff':>9}")
    runners = engines(net, args.engines)
    for size in args.sizes:
        x = torch.rand(1, 3, size, size)
        gflop = count_gflops(net, x)
        with torch.no_grad():
            reference = net(x)
            base = None
            for name, run in runners.items():
                try:
                    seconds = timed(lambda: run(x), args.min_time)
                    diff = (run(x).float().clamp(0, 1) - reference).abs().max().item()
                except Exception as e:  # an engine that cannot run here is reported, not fatal
                    print(f"{size:>6} {name:>14} failed: {str(e).splitlines()[0][:80]}")
                    continue
                base = base or seconds
                print(f"{size:>6} {name:>14} {seconds * 1e3:>9.1f} {size * size / 1e6 / seconds:>7.2f} "
                      f"{gflop:>7.1f} {gflop / seconds:>8.1f} {gflop / seconds / peak:>8.0%} "
                      f"{base / seconds:>8.2f}x {diff:>9.1e}", flush=True)


if __name__ == "__main__":
    main()
