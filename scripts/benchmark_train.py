#!/usr/bin/env python3
"""Training-step speed on this machine: the plain recipe of the paper against fast-style's levers.

Each row runs the same step (transform net forward, VGG16 perceptual loss, backward, Adam) and prints steps/s,
images/s, peak memory and the time per step spent waiting for the data loader; then the speed-up over the
plain recipe and the first step's loss relative to it (same weights, inputs and seed: a check that a lever
does not change what is computed beyond rounding), and whether every step's loss (the first, the warm-up and
the timed ones) stayed finite: a row whose loss went NaN/inf says so, and its speed means nothing. Each row runs
in a fresh process.

    plain          the paper's step, eager fp32: VGG to relu4_3 for both the stylized and the content batch
    content-cut    content targets only run VGG up to relu2_2 (fast-style's default)
    bf16           + bf16 autocast (trainer.precision=bf16-mixed, the default where bf16 is native)
    vgg-nhwc       + the loss's VGG in fast-style's default layout: channels-last on a CPU (no change on a GPU);
                   the rows before run it in torch's default NCHW
    channels-last  bf16 + channels-last tensors and weights, network and VGG (a side row: later rows do not
                   include it)
    fused          + fused Adam (fast-style's default on a GPU)
    compile        + torch.compile of the network and the loss (module.compile=true)
    cudagraphs     + CUDA graphs (module.compile=reduce-overhead; GPU only)
    trainer        the fastest lever (cudagraphs on a GPU, compile on a CPU) as fast-style-train runs it:
                   StyleTransferModule in a Lightning Trainer, bf16-mixed, logging every 10 steps, no checkpoints
                   (the gap to that lever's row is Lightning's per-step cost)
    trainer+temporal@S  with --temporal S ...: the trainer row with temporal=shift, a moved copy of the
                   share S of each batch (temporal.share): what stability training costs per step

--trainer-compile sets the trainer rows' module.compile (default: the fastest, as above; false is what
fast-style-train does on a CPU by default).

Batches are random unless --data names a photo folder: then they come from StyleDataModule's loader (JPEG
decode and resize in --workers processes), and with --cache-dir one more row repeats the last lever reading
the pre-resized cache (data.cache_dir), built first and timed.

    python scripts/benchmark_train.py --size 256 --batch 4 --steps 10
    python scripts/benchmark_train.py --data ../shared/data/coco --cache-dir /tmp/cache --workers 2
    python scripts/benchmark_train.py --data ../shared/data/coco --cache-dir /tmp/cache --loader-only --steps 100
    python scripts/benchmark_train.py --size 128 --levers trainer --trainer-compile false --temporal 1 0.5 0.25
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

from fast_style.cli import ToolParser, positive, run_tool
from fast_style.devices import compile_for, pick_device
from fast_style.errors import UserError
from fast_style.media.images import find_images
from fast_style.model.network import TransformerNet
from fast_style.perceptual.loss import PerceptualLoss, gram_matrix

STYLE_LAYERS = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
CHAIN = ["plain", "content-cut", "bf16", "vgg-nhwc", "fused", "compile", "cudagraphs"]  # each includes those before it
SIDE = {"channels-last": "bf16"}  # side row: its own flag on top of the named chain row
TRAINER = "trainer"


def flags(lever: str) -> set[str]:
    base = SIDE.get(lever.removesuffix("+cache"), lever.removesuffix("+cache"))
    on = set(CHAIN[: CHAIN.index(base) + 1])
    return on | ({lever.removesuffix("+cache")} if base != lever.removesuffix("+cache") else set())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_step(lever: str, loss: PerceptualLoss, device: torch.device):
    on = flags(lever)
    torch.manual_seed(0)
    net = TransformerNet().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused="fused" in on)
    channels_last = "channels-last" in on
    # the VGG's layout: forced channels-last, fast-style's default (None: channels-last on a CPU), or NCHW
    loss.vgg.channels_last = True if channels_last else (None if "vgg-nhwc" in on else False)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        loss.vgg.to(memory_format=torch.channels_last)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if "bf16" in on else nullcontext()
    grams = {n: getattr(loss, f"gram_{n}") for n in STYLE_LAYERS}

    def compute(x: torch.Tensor) -> torch.Tensor:
        with autocast:
            y = net(x)
            with torch.no_grad():  # the paper's recipe runs the whole VGG for the content batch too
                target = loss.vgg(x, ["relu2_2"] if "content-cut" in on else STYLE_LAYERS)["relu2_2"]
            feats = loss.vgg(y, STYLE_LAYERS)
            content = F.mse_loss(feats["relu2_2"].float(), target.float())
            style = sum(
                F.mse_loss(gram_matrix(feats[n].float()), grams[n].expand(len(x), -1, -1)) for n in STYLE_LAYERS
            )
            return loss.content_weight * content + loss.style_weight * style

    if "compile" in on:
        compute = compile_for(compute, device, "reduce-overhead" if "cudagraphs" in on else None)

    def step(x: torch.Tensor) -> torch.Tensor:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        total = compute(x)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        return total.detach().clone()

    return step


def batches(args: argparse.Namespace, cached: bool):
    """An endless iterator of (B, 3, S, S) CPU batches: random, or from the photo folder's loader."""
    if not args.data:
        gen = torch.Generator().manual_seed(0)
        fixed = [torch.rand(args.batch, 3, args.size, args.size, generator=gen) for _ in range(4)]
        while True:
            yield from fixed
    from fast_style.training.data import StyleDataModule

    dm = StyleDataModule(
        args.data,
        image_size=args.size,
        batch_size=args.batch,
        num_workers=args.workers,
        num_val=0,
        cache_dir=args.cache_dir if cached else None,
    )
    dm.setup()
    torch.manual_seed(0)  # the same shuffled order in every process
    loader = dm.train_dataloader()  # one loader: its worker processes persist across epochs, as in training
    while True:
        for images, _ in loader:
            yield images


def run_trainer(args: argparse.Namespace, style: torch.Tensor, data, share: float | None = None) -> dict:
    """The `trainer` row: fast-style's LightningModule in a pl.Trainer, timed by a callback after warm-up;
    with `share`, temporal=shift on that share of each batch."""
    import tempfile

    import pytorch_lightning as pl
    from torch.utils.data import DataLoader, IterableDataset

    from fast_style.devices import native_bf16
    from fast_style.training.consistency import ConsistencyLoss
    from fast_style.training.module import StyleTransferModule

    cuda = args.device == "cuda"

    class Batches(IterableDataset):
        def __iter__(self):
            return ((x, ()) for x in data)

    class Clock(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if trainer.global_step == args.warmup + 1:
                if cuda:
                    torch.cuda.synchronize()
                self.start = time.perf_counter()

        def on_train_end(self, trainer, pl_module) -> None:
            if cuda:
                torch.cuda.synchronize()
            self.rate = args.steps / (time.perf_counter() - self.start)

    torch.manual_seed(0)
    loss = PerceptualLoss(weights=args.weights)
    compile = {"true": True, "false": False, "fastest": None}.get(args.trainer_compile, args.trainer_compile)
    if compile is None:  # the fastest
        compile = "reduce-overhead" if cuda else True
    temporal = None if share is None else ConsistencyLoss(share=share)
    module = StyleTransferModule(TransformerNet(), loss, style, compile=compile, temporal=temporal)
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            accelerator="gpu" if cuda else "cpu",
            devices=1,
            max_steps=args.warmup + 1 + args.steps,
            precision="bf16-mixed" if native_bf16(args.device) else "32-true",
            log_every_n_steps=10,
            logger=pl.loggers.TensorBoardLogger(tmp),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[clock],
            default_root_dir=tmp,
        )
        trainer.fit(module, DataLoader(Batches(), batch_size=None))
    mem = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_rss_mb()
    return {"rate": clock.rate, "mem": mem, "loss": float("nan"), "wait_ms": float("nan")}


def run_lever(lever: str, args: argparse.Namespace) -> dict:
    """One lever in this process: steps/s, peak memory, loader wait and the first step's loss."""
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    style = torch.rand(1, 3, 384, 384, generator=torch.Generator().manual_seed(1))
    data = batches(args, cached=lever.endswith("+cache"))
    if lever.startswith(TRAINER):
        share = lever.partition("@")[2]
        return run_trainer(args, style, data, float(share) if share else None)
    loss = PerceptualLoss(weights=args.weights).to(device)
    loss.set_style(style.to(device))
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    step = make_step(lever, loss, device)
    first_loss = step(next(data).to(device))  # the same first batch and weights for every lever
    first = first_loss.item()
    for _ in range(args.warmup):
        step(next(data).to(device))
    if cuda:
        torch.cuda.synchronize()
    wait = 0.0
    losses = []  # every timed step's loss, read after the clock stops (no host sync inside the loop)
    t = time.perf_counter()
    for _ in range(args.steps):
        w = time.perf_counter()
        x = next(data)
        wait += time.perf_counter() - w
        losses.append(step(x.to(device, non_blocking=True)))
    if cuda:
        torch.cuda.synchronize()
    rate = args.steps / (time.perf_counter() - t)
    mem = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_rss_mb()
    finite = torch.isfinite(torch.stack([first_loss, *losses]).float().cpu())
    bad = None if bool(finite.all()) else int((~finite).nonzero()[0])  # 0: the first step, else warm-up + timed
    return {
        "rate": rate,
        "mem": mem,
        "loss": first,
        "wait_ms": 1000 * wait / args.steps,
        "nonfinite_step": None if bad is None else (bad if bad == 0 else bad + args.warmup),
    }


def loader_only(args: argparse.Namespace) -> None:
    """Images/s the data loader alone delivers with --workers processes, from the photos and from the cache."""
    for cached in (False, True) if args.cache_dir else (False,):
        data = batches(args, cached)
        for _ in range(args.warmup):
            next(data)
        t = time.perf_counter()
        for _ in range(args.steps):
            next(data)
        rate = args.steps * args.batch / (time.perf_counter() - t)
        print(
            f"{'cache' if cached else 'photos':>20} loader alone: {rate:.0f} img/s with {args.workers} workers "
            f"({rate / max(1, args.workers):.0f} per worker)",
            flush=True,
        )


def build_cache(args: argparse.Namespace) -> float:
    from fast_style.training.data import StyleDataModule

    t = time.perf_counter()
    StyleDataModule(args.data, image_size=args.size, num_workers=args.workers, cache_dir=args.cache_dir).prepare_data()
    return time.perf_counter() - t


def main() -> None:
    sys.exit(run_tool(benchmark, logging.WARNING))  # (the loader's INFO lines stay out, as before run_tool)


def benchmark() -> None:
    cuda = torch.cuda.is_available()
    p = ToolParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=positive(int), default=256)
    p.add_argument("--batch", type=positive(int), default=4)
    p.add_argument("--steps", type=positive(int), default=10, help="timed steps per lever (after the warm-up steps)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (compiling happens here)")
    default_levers = CHAIN if cuda else ["plain", "content-cut", "bf16", "vgg-nhwc", "channels-last", "compile"]
    p.add_argument("--levers", nargs="+", default=default_levers + [TRAINER], choices=CHAIN + list(SIDE) + [TRAINER])
    p.add_argument("--weights", default="caffe", help="VGG weights source (caffe, torchvision or a file)")
    p.add_argument("--device", default="cuda" if cuda else "cpu")
    p.add_argument("--data", help="a photo folder: real batches through the data loader instead of random ones")
    p.add_argument("--workers", type=int, default=2, help="data loader processes (with --data)")
    p.add_argument("--cache-dir", help="with --data: add a row reading the pre-resized cache made here")
    p.add_argument("--loader-only", action="store_true", help="with --data: time the data loader alone, no steps")
    p.add_argument(
        "--temporal",
        nargs="+",
        type=float,
        default=[],
        metavar="SHARE",
        help="after the trainer row, one with temporal=shift per share of the batch moved (1 = all of it)",
    )
    p.add_argument(
        "--trainer-compile",
        choices=["fastest", "auto", "true", "false"],
        default="fastest",
        help="the trainer rows' module.compile (fastest: CUDA graphs on a GPU, compile on a CPU)",
    )
    p.add_argument("--single", help=argparse.SUPPRESS)  # internal: run one lever, print JSON
    args = p.parse_args()
    if args.single:
        print(json.dumps(run_lever(args.single, args)))
        return
    # every mistake before the header and the cache's build (--data's said "set data.root=", not --data)
    pick_device(args.device)
    if args.warmup < 0 or args.workers < 0:  # (-1 warm-up steps went as 0, and were printed as -1)
        p.error(f"{'--warmup' if args.warmup < 0 else '--workers'} takes a number >= 0")
    if args.temporal and not all(0 < share <= 1 for share in args.temporal):
        p.error("--temporal takes shares within 0..1 (not 0)")
    if (args.loader_only or args.cache_dir) and not args.data:
        p.error(f"{'--loader-only' if args.loader_only else '--cache-dir'} needs --data")
    if args.data and not Path(args.data).is_dir():
        raise UserError(f"--data {args.data} is not a folder: give a folder of photos")
    if args.data and not find_images(args.data):
        raise UserError(f"--data {args.data} holds no photos: give a folder of photos")
    if args.cache_dir and Path(args.cache_dir).expanduser().is_file():  # (said after the header, as it was built)
        raise UserError(f"--cache-dir {args.cache_dir} is a file: give a folder for the pre-resized cache")
    threads = torch.get_num_threads()
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu, {threads} threads"
    source = f"photos from {args.data} ({args.workers} workers)" if args.data else "random batches"
    print(
        f"device: {name}, torch {torch.__version__}; batch {args.batch} at {args.size} px, {args.steps} timed "
        f"steps after {args.warmup} warm-up; {source}; each lever in a fresh process"
    )
    levers = list(args.levers)
    if args.data and args.cache_dir:
        print(f"pre-resized cache built in {build_cache(args):.1f} s ({args.cache_dir})")
        # the last lever again, from the cache: the trainer where it is the only one (its absence: an IndexError)
        levers.append(([lever for lever in levers if lever != TRAINER] or [TRAINER])[-1] + "+cache")
    levers += [f"{TRAINER}+temporal@{share:g}" for share in args.temporal]
    if args.loader_only:
        return loader_only(args)
    print(
        f"{'lever':>21} {'steps/s':>8} {'img/s':>7} {'peak MB':>8} {'wait ms':>8} {'speed-up':>9} {'loss ratio':>11}"
        "  losses"
    )
    base = None
    for lever in levers:
        cmd = [sys.executable, __file__, "--single", lever, *sys.argv[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{lever:>21} failed: {(proc.stderr.strip().splitlines() or ['?'])[-1][:90]}", flush=True)
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        base = base or r
        wait = "-" if lever.startswith(TRAINER) else f"{r['wait_ms']:.1f}"
        ratio = "-" if lever.startswith(TRAINER) else f"{r['loss'] / base['loss']:.4f}"
        bad = r.get("nonfinite_step")  # the trainer row stops itself on a NaN/inf loss (and fails above)
        finite = "all finite" if bad is None else f"NaN/inf from step {bad}: speed meaningless"
        print(
            f"{lever:>21} {r['rate']:>8.2f} {r['rate'] * args.batch:>7.1f} {r['mem']:>8.0f} {wait:>8} "
            f"{r['rate'] / base['rate']:>8.2f}x {ratio:>11}  {finite}",
            flush=True,
        )
    print(
        "peak MB: the process's peak RSS on a CPU (weights, data, activations), max allocated on a GPU; "
        "wait ms: time per step blocked on the data loader"
    )
    if args.device == "cuda" and base:
        print(f"projected time for the paper's 40,000 steps at the last row's rate: {40000 / r['rate'] / 60:.1f} min")


if __name__ == "__main__":
    main()
