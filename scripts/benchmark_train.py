#!/usr/bin/env python3
"""Training-step speed on this machine: the plain recipe of the paper against fast-style's levers.

Each row runs the same step (transform net forward, VGG16 perceptual loss, backward, Adam) on random
batches and prints steps/s, images/s and peak memory; the last columns are the speed-up over the plain
recipe and the step's loss relative to it (the same weights, inputs and seed: a check that a lever does
not change what is computed beyond rounding).

    plain          the paper's step, eager fp32: VGG to relu4_3 for both the stylized and the content batch
    content-cut    content targets only run VGG up to relu2_2 (fast-style's default)
    channels-last  + channels-last tensors and weights
    bf16           + bf16 autocast (where the CPU/GPU has bf16)
    compile        + torch.compile of the network and the VGG

    python scripts/benchmark_train.py --size 256 --batch 4 --steps 10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F

from fast_style.loss import PerceptualLoss, gram_matrix
from fast_style.network import TransformerNet

STYLE_LAYERS = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_step(lever: str, loss: PerceptualLoss, device: torch.device, batch: int, size: int):
    torch.manual_seed(0)
    net = TransformerNet().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    channels_last = lever in ("channels-last", "bf16", "compile")
    bf16 = lever in ("bf16", "compile")
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        loss.vgg.to(memory_format=torch.channels_last)
    else:
        loss.vgg.to(memory_format=torch.contiguous_format)
    forward = torch.compile(net) if lever == "compile" else net
    vgg = torch.compile(loss.vgg) if lever == "compile" else loss.vgg
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    grams = {n: getattr(loss, f"gram_{n}") for n in STYLE_LAYERS}

    def step(x: torch.Tensor) -> float:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast:
            y = forward(x)
            if lever == "plain":  # the paper's recipe: the whole VGG for the content batch too
                with torch.no_grad():
                    target = vgg(x, STYLE_LAYERS)["relu2_2"]
            else:
                with torch.no_grad():
                    target = vgg(x, ["relu2_2"])["relu2_2"]
            feats = vgg(y, STYLE_LAYERS)
            content = F.mse_loss(feats["relu2_2"].float(), target.float())
            style = sum(F.mse_loss(gram_matrix(feats[n].float()), grams[n].expand(len(x), -1, -1)) for n in STYLE_LAYERS)
            total = loss.content_weight * content + loss.style_weight * style
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        return total.item()

    return step


def run_lever(lever: str, args: argparse.Namespace) -> dict:
    """One lever in this process: steps/s, peak memory and the first step's loss."""
    device = torch.device(args.device)
    loss = PerceptualLoss(weights=args.weights, style_weight=5.0).to(device)
    loss.set_style(torch.rand(1, 3, 384, 384, generator=torch.Generator().manual_seed(1)).to(device))
    gen = torch.Generator().manual_seed(0)
    batches = [torch.rand(args.batch, 3, args.size, args.size, generator=gen).to(device) for _ in range(4)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step = make_step(lever, loss, device, args.batch, args.size)
    first = step(batches[0])  # the same first batch and weights for every lever
    step(batches[1])
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for i in range(args.steps):
        step(batches[i % len(batches)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    rate = args.steps / (time.perf_counter() - t)
    mem = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss_mb()
    return {"rate": rate, "mem": mem, "loss": first}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=10, help="timed steps per lever (after 2 warm-up steps)")
    p.add_argument("--levers", nargs="+", default=["plain", "content-cut", "channels-last", "bf16", "compile"])
    p.add_argument("--weights", default="caffe", help="VGG weights source (caffe, torchvision or a file)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--single", help=argparse.SUPPRESS)  # internal: run one lever, print JSON
    args = p.parse_args()
    if args.single:
        print(json.dumps(run_lever(args.single, args)))
        return
    print(f"device: {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"batch {args.batch} at {args.size} px, {args.steps} timed steps; each lever in a fresh process")
    print(f"{'lever':>14} {'steps/s':>8} {'img/s':>7} {'peak MB':>8} {'speed-up':>9} {'loss ratio':>11}")
    base = None
    for lever in args.levers:
        cmd = [sys.executable, __file__, "--single", lever, *sys.argv[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{lever:>14} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1][:90]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        base = base or r
        print(f"{lever:>14} {r['rate']:>8.2f} {r['rate'] * args.batch:>7.1f} {r['mem']:>8.0f} "
              f"{r['rate'] / base['rate']:>8.2f}x {r['loss'] / base['loss']:>11.4f}", flush=True)
    print("peak MB: the process's peak RSS on the CPU (weights, data and activations), max allocated on a GPU")


if __name__ == "__main__":
    main()
