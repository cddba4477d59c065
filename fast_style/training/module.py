"""The LightningModule that joins the transform network and the perceptual loss."""

from __future__ import annotations

import importlib.util
import logging
import math

import pytorch_lightning as pl
import torch

from fast_style.devices import compile_for
from fast_style.errors import UserError
from fast_style.model.network import TransformerNet, narrowed_state_dict
from fast_style.model.style_model import load_style_model
from fast_style.numbers import check_number
from fast_style.perceptual.loss import PerceptualLoss
from fast_style.training.consistency import ConsistencyLoss
from fast_style.training.data import Batch, what_to_do
from fast_style.training.distillation import Distillation
from fast_style.training.lightning_internals import is_logging_step
from fast_style.training.run_logging import EVERY_RANK

log = logging.getLogger(__name__)

LR_SCHEDULES = ("constant", "cosine")
COMPILE_MODES = ("auto", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
LR_MIN_RATIO = 0.1  # the cosine's floor, times lr (the constant schedule has none)


class StyleTransferModule(pl.LightningModule):
    """Trains `network` to minimise `loss` against one style image, (1, 3, H, W) in [0, 1].

    `lr_schedule`: "constant" (the paper) or "cosine" decay to `lr * lr_min_ratio` over the run: `trainer.max_steps`,
    or the steps of `trainer.max_epochs` in a run counted in epochs.
    `on_nonfinite`: a NaN/inf training loss "stop"s the run (the last checkpoint stays good) or "skip"s the step.
    `compile`: torch.compile the network and the loss for training steps: true, false, one of torch.compile's
    modes ("reduce-overhead" adds CUDA graphs on a GPU), or "auto": "reduce-overhead" on one GPU that Triton
    supports (2.3x the paper's fp32 step in a real H100 run at batch 4, after about 40 s of compiling); off
    on a CPU (no faster than the eager bf16 step there, though it uses less memory; inductor's AVX-512 code
    gave NaN gradients, so a CPU compiles 256-bit code: devices.compile_for) and with several processes (DDP;
    not measured). See benchmarks/README.md. Checkpoints are unaffected.
    On a GPU, Adam runs fused (one kernel for all parameters).
    `temporal`: a ConsistencyLoss (fast_style/training/consistency.py) trains for stable video: each training step also
    stylizes a moved copy (noisy with `temporal.noise`) of the batch, or of its first `temporal.share` (one
    network call on both), and adds the term `train/temporal`.
    `distill`: a Distillation (fast_style/training/distillation.py) trains the network to paint like a trained style
    model instead: the training loss is the term `train/distill` alone (pixels, and one shallow layer of the
    loss's VGG, against the teacher's picture); validation still logs the perceptual figures beside it.
    `init_from`: start from the weights of a style model (a file, or a built-in style's name) instead of random
    ones, to fine-tune it (for example for stability); its network must have the same model.* settings, or
    narrower model.channels and fewer model.num_residual blocks (network.narrowed_state_dict: a smaller network
    to distil from it). A resumed checkpoint's weights replace them.
    """

    def __init__(
        self,
        network: TransformerNet,
        loss: PerceptualLoss,
        style_image: torch.Tensor,
        lr: float = 1e-3,
        lr_schedule: str = "constant",
        lr_min_ratio: float = LR_MIN_RATIO,
        on_nonfinite: str = "stop",
        compile: bool | str = "auto",
        temporal: ConsistencyLoss | None = None,
        init_from: str | None = None,
        distill: Distillation | None = None,
    ) -> None:
        super().__init__()
        if lr_schedule not in LR_SCHEDULES:
            raise UserError(f"unknown module.lr_schedule '{lr_schedule}': choose one of {', '.join(LR_SCHEDULES)}")
        if on_nonfinite not in ("stop", "skip"):
            raise UserError(f"unknown module.on_nonfinite '{on_nonfinite}': choose stop or skip")
        if not isinstance(compile, bool) and compile not in COMPILE_MODES:
            raise UserError(
                f"unknown module.compile '{compile}': choose auto, true, false or one of "
                f"{', '.join(m for m in COMPILE_MODES if m != 'auto')}"
            )
        # (Python's numbers kept: save_hyperparameters reads these locals into hparams.yaml, where numpy's were
        # python/object tags)
        # (inf had been taken: NaN weights from the first step, said as a loss gone non-finite; as optimize_image's)
        lr = check_number("module.lr", lr, lambda v: 0 < v < math.inf, "a finite number > 0")
        lr_min_ratio = check_number(
            "module.lr_min_ratio", lr_min_ratio, lambda v: 0 <= v <= 1, "within 0..1 (the cosine's end, times lr)"
        )
        if lr_schedule == "constant" and lr_min_ratio != LR_MIN_RATIO:  # (it had been ignored without a word)
            log.warning(
                "module.lr_min_ratio=%g is the cosine schedule's floor: module.lr_schedule=constant trains "
                "at module.lr throughout; add module.lr_schedule=cosine to decay to it",
                lr_min_ratio,
            )
        self.save_hyperparameters(ignore=["network", "loss", "style_image", "temporal", "distill"], logger=False)
        if init_from is not None:
            self._start_from(network, init_from)
        self.network = network
        self.loss = loss
        self.temporal = temporal
        self.distill = distill
        self.register_buffer("style_image", style_image, persistent=False)
        self._cosine: dict | None = None  # the cosine schedule's stretch (configure_optimizers)
        self._resumed: tuple[int, dict | None] = (0, None)  # a checkpoint's step and stretch (on_load_checkpoint)
        self._unreadable: set[str] = set()  # every file named so far (training's and validation's)
        self._skipped_paths: set[str] = set()  # the training photos among them (skipped_images)
        self._skip_reasons: dict[str, str] = {}  # why each was skipped (what_to_do)
        self._read_batches = 0  # training batches with at least one readable photo, this epoch
        self._read_in_launch = 0  # and since this launch began
        self._whole_epoch: bool | None = None  # whether this launch met this epoch from its first batch
        self._start_step = 0  # the step this launch began at (a resumed run's network trained before it)
        self._batch_idx = -1  # the training batch's place in its epoch (_logging_now)
        self._first_nonfinite: torch.Tensor | None = None  # see _nonfinite
        self.cuda_graphs = False  # set by configure_model
        # plain functions, not submodules: compiling changes nothing in state_dict or checkpoints
        self.network_fn, self.loss_fn = self.network.forward, self.loss.forward

    @staticmethod
    def _start_from(network: TransformerNet, model: str) -> None:
        from fast_style import zoo

        try:  # the setting named, as every training mistake is (a checkpoint or a photo given had named none)
            trained, _ = load_style_model(str(zoo.resolve(model)))
        except UserError as e:
            raise UserError(f"module.init_from={model}: {e}") from None
        shape = ("channels", "num_residual")
        # model.antialias may change: it resamples with the same weights (blurred strides, bilinear upsampling), and
        # fine-tuning a trained model for video with it is the point (README: Training for video)
        free = (*shape, "antialias")
        others = {k: v for k, v in trained.config.items() if k not in free}
        if others == {k: v for k, v in network.config.items() if k not in free}:
            try:  # the same network, or a smaller one: it starts from the channels and blocks that matter most
                state = narrowed_state_dict(trained, network.config["channels"], network.config["num_residual"])
            except ValueError as e:
                raise UserError(f"module.init_from={model}: {e} (model.channels, model.num_residual)") from None
            network.load_state_dict(state)
            if (was := trained.config.get("antialias", "none")) != network.config.get("antialias", "none"):
                log.info(
                    "module.init_from=%s was trained with model.antialias=%s: the network starts from its weights "
                    "and learns to paint through the new resampling",
                    model,
                    was,
                )
            if any(network.config[k] != trained.config[k] for k in shape):
                log.info(
                    "module.init_from=%s: the network starts from the %s channels and %d residual blocks of it "
                    "that matter most",
                    model,
                    network.config["channels"],
                    network.config["num_residual"],
                )
            return
        keys = dict.fromkeys([*trained.config, *network.config])  # (a setting at its default is not written)
        diff = ", ".join(
            f"model.{k}={trained.config.get(k, 'none')}"
            for k in keys
            if k not in free and network.config.get(k) != trained.config.get(k)
        )
        raise UserError(
            f"module.init_from={model} holds a network with {diff}: set the same model settings, or "
            "module.init_from=null to start from random weights (experiment=demo and cpu_quick start from a built-in "
            "network, experiment=fast_variant from distill.teacher)"
        )

    def configure_model(self) -> None:
        mode = self.hparams.compile
        if mode == "auto":
            mode = "reduce-overhead" if self._graphs_pay(self.trainer.strategy.root_device) else False
        if mode:
            mode = None if mode is True else mode
            # dynamic=False: a static graph per batch shape (the last validation batch, a batch short of an
            # unreadable photo); torch's dynamic-shape path crashed on a second image size at inference
            device = self.trainer.strategy.root_device
            if device.type == "cpu" and mode in ("max-autotune", "max-autotune-no-cudagraphs"):
                # (inductor benchmarks its CPU kernels one by one: a 2-step run of model=tiny at 32 px had not
                # reached its second step after 3 minutes on 2 cores)
                log.warning(
                    "module.compile=%s is for GPUs: on a CPU it spends minutes autotuning before the first "
                    "steps, and a compiled step is no faster there than an uncompiled one; set module.compile=auto",
                    mode,
                )
            self.network_fn = compile_for(self.network.forward, device, mode)
            self.loss_fn = compile_for(self.loss.forward, device, mode)
            self.cuda_graphs = mode in ("reduce-overhead", "max-autotune")  # on a GPU

    def _graphs_pay(self, device: torch.device) -> bool:
        """compile="auto": CUDA graphs on one GPU that torch.compile's GPU backend (Triton) supports."""
        if device.type != "cuda" or self.trainer.world_size != 1:
            return False
        if importlib.util.find_spec("triton") is None or torch.cuda.get_device_capability(device) < (7, 0):
            log.info("module.compile=auto: no Triton for this GPU, training uncompiled")
            return False
        return True

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Inference: (B, 3, H, W) in [0, 1] -> stylized (B, 3, H, W) in [0, 1]."""
        return self.network(images)

    def on_fit_start(self) -> None:
        self.loss.set_style(self.style_image)  # on the training device, once

    @property
    def skipped_images(self) -> int:
        """Training photos that could not be read, each counted once (on this process, and before a resume)."""
        return len(self._skipped_paths)

    def _shared_step(self, batch: Batch, stage: str) -> torch.Tensor | None:
        images, unreadable = batch
        train = stage == "train"
        new = [u for u in unreadable if u.path not in self._unreadable]
        for u in new:  # named once, here in the training process (each loader worker named it before)
            self._unreadable.add(u.path)
            log.warning("skipping unreadable image %s (%s)", u.path, u.reason, extra=EVERY_RANK)
        if train and new:  # each file counted once, not each time an epoch meets it
            self._skipped_paths.update(u.path for u in new)
            self._skip_reasons.update((u.path, u.reason) for u in new)
        if train and (new or (not self._read_in_launch and (self._left_out() or self._skipped_paths))):  # (those
            # left out before training, or skipped before a resume: on the curve from the launch's first step, as in
            # the count at its end)
            skipped = float(len(self._skipped_paths | self._left_out()))
            self.log("train/skipped_images", skipped, on_step=True, on_epoch=False)
        if images.numel() == 0:  # every file of this batch was unreadable
            return self._no_step(train)
        self._read_batches += train
        self._read_in_launch += train
        graphs = self.cuda_graphs and images.is_cuda
        if graphs:  # each step replays the graphs, overwriting the last step's outputs
            torch.compiler.cudagraph_mark_step_begin()
        moved = None
        if train and self.temporal is not None and self.temporal.active(self.global_step):  # both in one call
            dy, dx, zoom = self.temporal.motion()
            n, k = len(images), self.temporal.count(len(images))
            both = self.network_fn(torch.cat([images, self.temporal.moved(images[:k], dy, dx, zoom)]))
            stylized, moved = both[:n], both[n:]
        else:
            stylized = self.network_fn(images)
        if graphs and not train:  # kept for the coverage below: a graph's output is overwritten by later replays
            stylized = stylized.clone()
        if self.distill is not None:  # the teacher's picture is the target; the perceptual loss only reports
            target = self.distill.target(images)
            terms = {} if train else self.loss_fn(stylized, images, common=True)
            terms |= self.distill(stylized, target, getattr(self.loss, "vgg", None))
            terms["total"] = terms["distill"]
        else:
            terms = self.loss_fn(stylized, images, common=not train)  # val/common/*: a sweep's runs compare on them
        if moved is not None:
            terms["temporal"] = self.temporal(stylized[: len(moved)], moved, dy, dx, zoom)
            terms["total"] = terms["total"] + terms["temporal"]
        if graphs:  # logged values must outlive the next replay
            terms = {name: value.clone() for name, value in terms.items()}
        if not train:  # the share of each picture the style covers (fast_style.perceptual.coverage), beside the losses
            terms["coverage"] = self.loss.coverage(stylized.float(), images).mean()
        log_now = not train or self._logging_now()  # values logged on other steps are never written
        if train and self._nonfinite(terms["total"], log_now):
            share = "this process's share of the step skipped (zero gradients)" if self._ddp else "step skipped"
            log.warning("non-finite loss at step %d: %s", self.global_step, share, extra=EVERY_RANK)
            return self._no_step(train)
        if log_now:
            self.log_dict(
                {f"{stage}/{name}": value for name, value in terms.items()},
                on_step=train,
                on_epoch=not train,
                prog_bar=False,
                batch_size=len(images),
                sync_dist=not train,
            )
            if train:
                self.log("loss", terms["total"], prog_bar=True, logger=False, batch_size=len(images))
        return terms["total"]

    def _logging_now(self) -> bool:
        """Whether Lightning writes step metrics after this step: every trainer.log_every_n_steps, and at the last
        step, where HParamsSummary stops the run (Lightning writes a stopping step's metrics: left unlogged, the
        train/* points of the logging step before were written again at the last step, and the bar showed their
        loss). Each self.log costs about 0.3 ms of Python, a few percent of a GPU step at batch 4."""
        trainer = self._trainer
        if trainer is not None and last_batch_of_the_run(trainer, self._batch_idx):  # a run counted in epochs
            return True
        return is_logging_step(trainer) or (trainer is not None and 0 < trainer.max_steps <= trainer.global_step + 1)

    def _no_step(self, train: bool) -> torch.Tensor | None:
        """What a step with nothing to learn from returns: None (Lightning skips it), or under DDP a loss of zero
        gradients: the other processes still exchange gradients this step, and a process that skipped it would
        pair its next step's exchange with their this one's."""
        if train and self._ddp:
            if self.hparams.on_nonfinite == "stop":  # (the other processes check their losses this step)
                self._stop_if_nonfinite(None, None, self._logging_now())
            return sum(p.sum() for p in self.network.parameters()) * 0.0
        return None

    @property
    def _ddp(self) -> bool:
        """Trained by several processes that exchange gradients every step."""
        return self._trainer is not None and self.trainer.world_size > 1

    def _nonfinite(self, total: torch.Tensor, logging_step: bool) -> bool:
        """True when this step must be skipped. A NaN/inf loss with on_nonfinite=stop raises UserError: at once
        on a CPU; on a GPU at the next logging step or before the next checkpoint or style model is written
        (`raise_if_nonfinite`), so that the GPU's queue is not drained every step just to look at the loss."""
        finite = torch.isfinite(total.detach())
        if self.hparams.on_nonfinite == "skip":
            return not bool(finite)  # the decision is needed now
        self._stop_if_nonfinite(total, finite, logging_step)
        return False

    def _stop_if_nonfinite(self, total: torch.Tensor | None, finite: torch.Tensor | None, logging_step: bool) -> None:
        """on_nonfinite=stop's check of a training step (`total`: None for a batch with nothing to learn from).
        Under DDP every process makes it each step and they stop together, at the step any one's loss went
        non-finite: one stopping alone left the others in the step's gradient exchange (a page of gloo's
        traceback and exit code 1, not one line)."""
        device = self.device if total is None else total.device
        if not self.defer_nonfinite_check(device):
            here = finite is not None and not bool(finite)
            if self.trainer.strategy.reduce_boolean_decision(here, all=False) if self._ddp else here:
                said = f"{total.item()}" if here and total is not None else "NaN or inf on another process"
                self._raise_nonfinite(said, self.global_step)
            return
        # the first step with a non-finite loss, kept on the device (inf: none yet): three kernels, no sync
        if self._first_nonfinite is None:
            self._first_nonfinite = torch.full((), math.inf, dtype=torch.float64, device=device)
        if finite is not None:
            step = torch.where(finite, math.inf, float(self.global_step))
            self._first_nonfinite = torch.minimum(self._first_nonfinite, step)
        if logging_step:  # Lightning waits for the GPU at these steps anyway
            self.raise_if_nonfinite()

    @staticmethod
    def defer_nonfinite_check(device: torch.device) -> bool:
        """Whether reading the loss on the host would stall `device`'s queue (GPUs: yes; CPU: no)."""
        return device.type != "cpu"

    def raise_if_nonfinite(self) -> None:
        """Stops training if a loss so far was NaN/inf (GPU); fast-style's checkpoint and style-model writers
        call it first, so that no file is written from broken weights. Under DDP every process calls it at once
        and they agree (one process's NaN since the last logging step: it alone stopped at a checkpoint, and rank 0,
        its losses finite and its weights NaN from the shared gradients, wrote the checkpoint, then crashed in
        gloo's or NCCL's words)."""
        if self.hparams.on_nonfinite == "stop" and self.defer_nonfinite_check(self.device) and self._ddp:
            mine = self._first_nonfinite
            if mine is None:  # (no step yet)
                mine = torch.full((), math.inf, dtype=torch.float64, device=self.device)
            self._first_nonfinite = self.trainer.strategy.reduce(mine, reduce_op="min")
        if self._first_nonfinite is not None and (step := self._first_nonfinite.item()) != math.inf:
            self._raise_nonfinite("NaN or inf", int(step))

    @staticmethod
    def _raise_nonfinite(value: str, step: int) -> None:
        raise UserError(
            f"the loss became {value} at step {step}: stopped, no file written from the broken weights (lower "
            "module.lr or a loss weight, or set module.on_nonfinite=skip)"
        )

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor | None:
        self._batch_idx = batch_idx
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._shared_step(batch, "val")

    def on_train_start(self) -> None:
        self._start_step = self.global_step

    def on_train_epoch_start(self) -> None:
        self._read_batches, self._whole_epoch = 0, None

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> None:
        if self._whole_epoch is None:  # (a resume mid-epoch starts at a later batch)
            self._whole_epoch = batch_idx == 0

    def on_validation_epoch_start(self) -> None:
        # said before the validation at the epoch's end or at the last step (it logged curves of an untrained
        # network, and the folder then held a run); not at one within the epoch, whose later batches may be read
        trainer = self.trainer
        if not trainer.sanity_checking and (trainer.is_last_batch or trainer.should_stop):
            self._refuse_when_nothing_was_read(epoch_end=trainer.is_last_batch)

    def on_train_epoch_end(self) -> None:
        self._refuse_when_nothing_was_read(epoch_end=True)

    def _refuse_when_nothing_was_read(self, epoch_end: bool) -> None:
        """At an epoch's end: none of its batches could be read, over the whole epoch, or in a run that began
        untrained and read nothing since (a resumed run's last few batches of an epoch, all of photos skipped, were
        refused so). At the last step within an epoch: the run began untrained and read nothing."""
        if not self.skipped_images:
            return
        untrained = self._start_step == 0 and not self._read_in_launch
        if (epoch_end and not self._read_batches and self._whole_epoch) or untrained:
            raise UserError(
                f"none of the training photos could be read ({self.skipped_images} skipped, named in the "
                f"warnings above): {what_to_do(self._skip_reasons.values())}"
            )

    def _left_out(self) -> set[str]:
        """The photos the data module found unreadable before training (choosing the held-out ones, the cache)."""
        return set(getattr(getattr(self._trainer, "datamodule", None), "left_out", ()))

    def on_train_end(self) -> None:
        skipped, named = self._skipped_paths | self._left_out(), self._unreadable | self._left_out()
        if self._ddp and torch.distributed.is_initialized():
            every: list = [None] * self.trainer.world_size  # under DDP each process met its own share, some alike:
            torch.distributed.all_gather_object(every, (sorted(skipped), sorted(named)))  # counted once, said once
            skipped, named = (set().union(*(e[i] for e in every)) for i in (0, 1))
        if skipped and (self._trainer is None or self.trainer.is_global_zero):
            n, earlier = len(skipped), len(skipped - named)  # (skipped before a resume: named in that launch's log)
            left = "1 unreadable image was" if n == 1 else f"{n} unreadable images were"
            where = (
                f"{n - earlier} named in the warnings above, {earlier} before the resume"
                if earlier
                else "named in the warnings above"
            )
            log.warning("%s left out of training (%s)", left, where)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        self.raise_if_nonfinite()  # before anything is written: no file holds broken weights
        checkpoint["network_config"] = dict(self.network.config)  # what a resume must build again
        if self._cosine is not None:  # the schedule's last stretch: a resume to more steps continues from it
            checkpoint["lr_cosine"] = dict(self._cosine)
        if self.temporal is not None:  # the moved copies' random streams: a resume moves them as before
            checkpoint["temporal_rng"] = self.temporal.rng_state()
        if self._skipped_paths:  # the photos skipped so far: a resume counts on from them (train/skipped_images)
            checkpoint["skipped_images"] = {p: self._skip_reasons.get(p, "") for p in sorted(self._skipped_paths)}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Before the weights are loaded: a checkpoint of another network (other model.* settings) is refused
        in one line, by its recorded settings, or by its tensors' shapes where it records none."""
        saved, ours = checkpoint.get("network_config"), dict(self.network.config)
        if saved is not None and saved != ours:
            diff = ", ".join(
                f"model.{k}={saved.get(k)}" for k in sorted(set(saved) | set(ours)) if saved.get(k) != ours.get(k)
            )
            raise UserError(
                f"the checkpoint holds a network with {diff}: resume with the same model settings as its run"
            )
        self._take_new_lr(checkpoint)
        self._resumed = (int(checkpoint.get("global_step", 0)), checkpoint.get("lr_cosine"))
        if self.temporal is not None and checkpoint.get("temporal_rng"):
            self.temporal.load_rng_state(checkpoint["temporal_rng"])
        skipped = checkpoint.get("skipped_images")
        if isinstance(skipped, dict):
            self._skipped_paths.update(skipped)
            self._skip_reasons.update(skipped)
        own = {k: v.shape for k, v in self.state_dict().items() if k.startswith("network.")}
        theirs = {k: v.shape for k, v in checkpoint.get("state_dict", {}).items() if k.startswith("network.")}
        if saved is None and own != theirs:
            raise UserError(
                "the checkpoint holds a network of other settings than model.* here: resume with the "
                "same model overrides as its run"
            )

    def _amp_refuses_fused(self) -> bool:
        precision = str(self.trainer.precision)
        return precision in ("16-mixed", "16") or (
            precision.endswith("-mixed") and bool(self.trainer.gradient_clip_val)
        )

    def _take_new_lr(self, checkpoint: dict) -> None:
        """A resume with another module.lr trains at it from the resumed step on (the optimizer's and the
        schedule's saved rates are scaled before Lightning restores them); else the saved rate would win."""
        saved = checkpoint.get("hyper_parameters", {}).get("lr")
        if saved is None or saved == self.hparams.lr:
            return
        scale = self.hparams.lr / saved
        for state in checkpoint.get("optimizer_states", []):
            for group in state.get("param_groups", []):
                for key in ("lr", "initial_lr"):
                    if key in group:
                        group[key] *= scale
        for state in checkpoint.get("lr_schedulers", []):
            for key in ("base_lrs", "_last_lr"):
                if key in state:
                    state[key] = [rate * scale for rate in state[key]]
        log.info("module.lr: %g in the checkpoint, %g from the resumed step on", saved, self.hparams.lr)

    def configure_optimizers(self):
        # one kernel for every parameter's update (Lightning refuses it with fp16's gradient scaling, and with
        # gradient clipping under any mixed precision)
        fused = self.device.type == "cuda" and not self._amp_refuses_fused()
        optimizer = torch.optim.Adam(self.network.parameters(), lr=self.hparams.lr, fused=fused)
        total = max(1, int(self.trainer.max_steps)) if self.trainer.max_steps and self.trainer.max_steps > 0 else None
        if self.hparams.lr_schedule == "cosine" and total is None:  # a run counted in epochs: the steps they make
            epochs = self.trainer.estimated_stepping_batches  # (Lightning's count: batches, accumulation, devices)
            total = max(1, int(epochs)) if math.isfinite(epochs) else None
        if self.hparams.lr_schedule == "cosine" and total is None:
            raise UserError("module.lr_schedule=cosine needs an end: trainer.max_steps or trainer.max_epochs")
        floor = self.hparams.lr_min_ratio
        # the cosine from `start` (its rate's factor there: `factor`) down to the floor at `total`: from 0 and 1 in
        # a new run; a resume to another trainer.max_steps goes on from where the rate was, down to the floor at
        # the new end (a rebuilt cosine had the rate jump back up, 2.3x)
        self._cosine = {"start": 0, "factor": 1.0, "total": total} if self.hparams.lr_schedule == "cosine" else None
        step, saved = self._resumed
        if self._cosine is not None and saved and saved.get("total") == total:
            self._cosine = dict(saved)  # the stretch it was on (a second resume to the same end)
        elif self._cosine is not None and saved and step < total:
            here = _cosine_factor(step, saved, floor)
            self._cosine = {"start": step, "factor": here, "total": total}
            log.info("module.lr_schedule=cosine: from step %d on, down to its floor at step %d", step, total)
        cosine = self._cosine

        def factor(step: int) -> float:
            return 1.0 if cosine is None else _cosine_factor(step, cosine, floor)

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        schedule = {"scheduler": scheduler, "interval": "step", "name": "train/lr"}
        return {"optimizer": optimizer, "lr_scheduler": schedule}


def last_batch_of_the_run(trainer: pl.Trainer, batch_idx: int) -> bool:
    """Whether the training batch `batch_idx` is the last of a run counted in epochs (trainer.max_epochs): the
    last of its last epoch, where HParamsSummary stops it for a last validation."""
    epochs = getattr(trainer, "max_epochs", None)  # (a test's stand-in trainer may have none)
    last_epoch = epochs is not None and 0 < epochs <= trainer.current_epoch + 1
    return last_epoch and 0 <= batch_idx and batch_idx + 1 >= trainer.num_training_batches


def _cosine_factor(step: int, cosine: dict, floor: float) -> float:
    """The learning rate's factor at `step` on a cosine stretch: `cosine["factor"]` at its start, the floor at
    its total and after."""
    start, top, total = cosine["start"], cosine["factor"], cosine["total"]
    t = min(max(step - start, 0), total - start) / max(1, total - start)
    return floor + (top - floor) * 0.5 * (1 + math.cos(math.pi * t))
