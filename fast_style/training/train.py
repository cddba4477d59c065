"""Training: `train(cfg)` builds the data, network, loss and Trainer a composed config describes and fits them
(the command line, `fast-style-train`, is fast_style/cli/train.py; `fast_style.runs.config.compose` makes a cfg)."""

from __future__ import annotations

import contextlib
import logging
import shlex
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue
from pytorch_lightning.accelerators import CPUAccelerator
from pytorch_lightning.callbacks import ProgressBar
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fast_style.devices import native_bf16
from fast_style.errors import UserError, first_line, out_of_memory, setting
from fast_style.memory import check_memory
from fast_style.outputs import check_writable, in_the_way
from fast_style.perceptual.loss import GRAD_BYTES_PER_PIXEL
from fast_style.perceptual.style_image import LOWER_STYLE_SIZE
from fast_style.runs import config, launch, ranks
from fast_style.runs.config_mistakes import (
    as_written,
    build,
    check_keys,
    check_typed,
    check_types,
    kind_refused,
    one_line,
)
from fast_style.runs.event_files import holds_a_loss
from fast_style.runs.resume import resume_from, run_in, step_of, trained_settings
from fast_style.runs.run_lock import claim_run_folder, lock_run_folder
from fast_style.training.checkpoint_files import AtomicCheckpointIO
from fast_style.training.hparams_summary import HParamsSummary
from fast_style.training.kept_launch import KeepLaunch
from fast_style.training.lightning_internals import stop_other_ranks
from fast_style.training.module import StyleTransferModule
from fast_style.training.resuming import ResumedStepCount, TrainedSettings
from fast_style.training.run_logging import one_copy_on_terminal, without_tips
from fast_style.training.stopping import GracefulStop

log = logging.getLogger(__name__)


def _started_by_rank_zero(trainer: pl.Trainer) -> bool:
    """Whether this process is a rank Lightning's own DDP launcher started (it watches them: one that ends with
    another exit code than 0 has every process killed at once, rank 0 too, mid-way through its clean stop)."""
    from lightning_fabric.plugins.environments import LightningEnvironment

    environment = getattr(trainer.strategy, "cluster_environment", None)  # (one process: none)
    return type(environment) is LightningEnvironment and trainer.local_rank > 0


def train(cfg: DictConfig) -> Path | None:
    """Train one style network as `cfg` says; returns the path of the style model it wrote (None where none is
    there: callbacks.style_model off). A new run that trains no step is refused (UserError), as trainer.max_steps=0."""
    # Ctrl-C's handler as the caller had it, however the run ends: Lightning ignores Ctrl-C from a KeyboardInterrupt
    # in fit on ("for shutdown") and left it so where that came before training (its set-up, the data's): a
    # program (a notebook) that called train() could no longer be interrupted
    main = threading.current_thread() is threading.main_thread()
    ctrl_c = signal.getsignal(signal.SIGINT) if main else None
    finished: list[bool] = []
    held: list[Any] = []  # the run folder's lock and claim, taken by _train (fast-style-train's lock: not again)
    try:
        return _train(cfg, finished, held)
    except KeyboardInterrupt as e:
        # a Ctrl-C as the run's last lines are said, or after them: raised all the same, marked as come after the
        # run (trained, its model written), which fast-style-train then called "interrupted" (exit code 130)
        e.run_finished = bool(finished)
        raise
    finally:
        for hold in held:  # (the folder's claim in this process, and its lock)
            hold.close()
        if ctrl_c is not None and signal.getsignal(signal.SIGINT) is not ctrl_c:
            signal.signal(signal.SIGINT, ctrl_c)


def _train(cfg: DictConfig, finished: list[bool], held: list[Any]) -> Path | None:
    """train()'s work; `finished` gains True once the run is over, before its last lines ("style model: ..."), and
    `held` the run folder's claim and lock, which the caller lets go."""
    if not isinstance(cfg, DictConfig):  # (None failed in Python's words, a dict as a config of another's)
        raise TypeError(
            f"train takes the config fast_style.runs.config.compose gives, not {type(cfg).__name__}: "
            'train(compose(["style.image=wave.jpg", "output_dir=runs/wave"]))'
        )
    without_tips()
    one_copy_on_terminal()  # DDP: the other ranks' copies of the same messages stay in their log files
    if "output_dir" not in cfg:  # an own primary config (--config-name) that does not start from fast-style's
        raise UserError(
            f"the config {launch.config_name() or 'given'} does not build on fast-style's train config: begin its "
            "defaults with it, `defaults: [train, _self_]` (README, Configuration)"
        )
    _check_output_dir(cfg)
    try:
        given = cfg.output_dir
    except InterpolationResolutionError:  # ${run_folder:} outside a Hydra run: a config composed in Python
        given = None
    if given is None or not str(given).strip():  # (output_dir= wrote style.pt, checkpoints/ and images/ at the disk's
        raise UserError(  # root, from ${output_dir}/style.pt; null failed in pathlib's words)
            f"output_dir is {'empty' if given is not None else 'not set'}: outside fast-style-train, name the run's "
            'folder, e.g. compose(["style.image=wave.jpg", "output_dir=runs/wave"])'
        )
    if str(given).startswith("~"):  # (from Python: Lightning expanded it, the style model and the grids went to a
        cfg.output_dir = given = str(Path(str(given)).expanduser())  # folder named ~: a run in two places)
    hydra_dir = Path(given) / ".hydra"  # (the expanded folder's record, as everything below reads it)
    launch.set_run_folder(str(cfg.output_dir))  # how messages name it: hydra.run.dir, or from Python output_dir
    if said := in_the_way(Path(cfg.output_dir)):  # (it was blamed on callbacks.images, whose folder is made first)
        raise UserError(
            f"the run's folder {cfg.output_dir} cannot be made: {said}; choose another {launch.run_folder_key()}"
        )
    # one run at a time in a folder (fast-style-train holds it already): two programs (notebooks) training into one
    # folder had both trained, each writing over the other's checkpoints and style model. DDP: rank 0's alone. And
    # one train() at a time in it within this process (threads: the lock is the process's, taken once)
    held.append(claim_run_folder(Path(cfg.output_dir), f"{launch.run_folder_key()}={cfg.output_dir}"))
    if not ranks.another_rank():
        lock = lock_run_folder(Path(cfg.output_dir), f"{launch.run_folder_key()}={cfg.output_dir}")
        held.extend([lock] if lock is not None else [])
    made = [p for p in (Path(cfg.output_dir) / "tensorboard", Path(cfg.output_dir)) if not p.exists()]
    try:
        trainer, module, datamodule, callbacks, ckpt = _prepare(cfg)
    except BaseException as e:
        launch.restore_last_launch(hydra_dir)  # a refused launch leaves the run's own record as it was
        _remove_if_empty(made)
        if (said := _out_of_memory(e)) is not None:
            raise said from e
        # a ??? left in the config (distill=teacher without its teacher), or a ${...} whose setting is not there:
        # OmegaConf's three lines from Python, fast-style-train's one line ("distill.teacher has no value: ...")
        if isinstance(e, (MissingMandatoryValue, InterpolationResolutionError)) and e.full_key:
            raise UserError(one_line(e, [])) from e
        raise
    keeper = next(c for c in callbacks if isinstance(c, KeepLaunch))
    out = Path(cfg.output_dir)
    last = OmegaConf.select(cfg, "callbacks.checkpoint.dirpath")
    grids = OmegaConf.select(cfg, "callbacks.images.dirpath")
    events = set((out / "tensorboard").glob("events.out.tfevents.*"))  # the earlier launches'
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")  # the frozen VGG, on purpose
            # Lightning's own use of a torch API that torch 2.14 deprecates, printed on every run: not the user's
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
            # the model summary's size estimate in bf16, and an epoch shorter than the logging interval (a small
            # folder: steps are logged by the global step all the same): noise on every such run
            warnings.filterwarnings("ignore", message=r"Precision .* is not supported by the model summary")
            warnings.filterwarnings("ignore", message=r"The number of training batches .* logging interval")
            # data.num_val=0 on purpose (the data's line says "0 held out"): Lightning's "Total length of `DataLoader`
            # across ranks is zero. Please make sure this was your intention." named no loader or setting
            if OmegaConf.select(cfg, "data.num_val") == 0:
                warnings.filterwarnings("ignore", message=r"Total length of `DataLoader` across ranks is zero")
            # a batch of unreadable photos alone trains nothing: each is named in a warning of ours
            warnings.filterwarnings("ignore", message=r"`training_step` returned `None`")
            if ckpt is not None:  # resuming into the run's own folder: its checkpoints are expected there
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            if ckpt is not None and OmegaConf.select(cfg, "callbacks.checkpoint") is None:  # turned off on purpose
                warnings.filterwarnings("ignore", message=r"Be aware .*callbacks: \[\"FinalCheckpoint\{[^]]*\}\"\]\.$")
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt)
    except SIGTERMException:  # stopped by Ctrl-C/SIGTERM after writing a checkpoint: not a finished run
        stop = next((c for c in callbacks if isinstance(c, GracefulStop)), None)
        if _started_by_rank_zero(trainer):  # its stop is rank 0's to say (another code: every rank killed at once)
            raise SystemExit(0) from None
        raise SystemExit(stop.exit_code if stop else 128 + signal.SIGTERM) from None
    except SystemExit as e:  # Lightning ends a KeyboardInterrupt (a second Ctrl-C: abort at once) with exit code 1
        stop = e.__context__
        if not isinstance(stop, KeyboardInterrupt):
            raise
        if not keeper.kept:  # before training started (Lightning's set-up: DDP, the data): as while torch loads, a
            raise stop from None  # SIGTERM's 143 or SIGHUP's 129 (the tool's own stop, cli.Terminated), not 130
        log.warning("interrupted: the steps since the last checkpoint are not saved")
        raise SystemExit(128 + signal.SIGINT) from None
    except ValueError as e:  # Lightning's check of the interval against the epoch, made once the data is read
        stop_other_ranks(trainer)
        if "val_check_interval" not in str(e):
            raise
        raise UserError(
            f"{first_line(e)}: lower trainer.val_check_interval, or set trainer.check_val_every_n_epoch=null to "
            "count it in steps across epochs"
        ) from None
    except Exception as e:
        stop_other_ranks(trainer)  # DDP: an error on rank 0 alone must not leave the other ranks waiting
        said = _out_of_memory(e) or e
        if isinstance(said, UserError) and keeper.kept:  # (a loss gone NaN): not a launch refused before its start,
            said.after_training_started = True  # whose folder fast-style-train removes
        if said is not e:
            raise said from e
        raise
    finally:
        # no step trained (refused in setup or by the checkpoint's checks, stopped first, or already at
        # trainer.max_steps): the run's own record stays
        if not keeper.kept:
            launch.restore_last_launch(hydra_dir)
        # and no TensorBoard file of a launch that logged nothing, nor one without a loss of a new run stopped
        # before it wrote anything (no photo readable: the file then refused the corrected command as "holds a
        # run"); a curve that shows a failure (a loss gone NaN) stays
        if trainer.is_global_zero:
            nothing = ckpt is None and run_in(out, last, grids, logs=False) is None  # no checkpoint, model or grid
            for path in set((out / "tensorboard").glob("events.out.tfevents.*")) - events:
                if not keeper.kept or (nothing and not holds_a_loss(path)):
                    path.unlink(missing_ok=True)
            if not keeper.kept:
                _remove_if_empty(made)
    if ckpt is None and trainer.max_steps == 0:  # (after fit: the data's and settings' mistakes come first)
        # a new run of no step left a folder with no model, which was then refused as "holds a run"
        raise UserError("trainer.max_steps=0 trains nothing: give the steps to train, e.g. trainer.max_steps=2000")
    if ckpt is None and trainer.global_step == 0:  # no epoch or no batch: as well (exit 0, a folder without a model)
        remedies = {
            "max_epochs": "set trainer.max_epochs=-1 (no limit: trainer.max_steps counts the steps)",
            "limit_train_batches": "leave it out (every batch)",
        }
        for key, remedy in remedies.items():
            if OmegaConf.select(cfg, f"trainer.{key}") == 0:
                raise UserError(f"trainer.{key}=0 trains nothing: {remedy}")
        # (trainer.max_time spent before the first step: it returned the path of a style.pt never written)
        if (limit := OmegaConf.select(cfg, "trainer.max_time")) is not None:
            raise UserError(f"trainer.max_time={limit} ran out before the first step: give it more time (DD:HH:MM:SS)")
    finished.append(True)  # the run is over: its report (the lines below) is left
    style = OmegaConf.select(cfg, "callbacks.style_model.path")
    style_path = Path(style) if style else None
    if trainer.is_global_zero:
        if style_path is None:
            log.info("style model: not written (callbacks.style_model is off)")
        elif style_path.is_file():
            log.info("style model: %s", style_path)
        else:
            log.info("style model: none written (no step was trained)")
        if not keeper.kept and 0 <= trainer.max_steps <= trainer.global_step:  # a finished run resumed
            at = f"the checkpoint is at step {trainer.global_step} and " if ckpt is not None else ""
            log.warning("nothing trained: %strainer.max_steps=%d; raise it to train on", at, trainer.max_steps)
        elif not keeper.kept and 0 < (epochs := trainer.max_epochs or 0) <= trainer.current_epoch:  # (in epochs:
            # a run stopped at its max_steps mid-epoch counts that epoch as done, and had resumed without a word)
            log.warning(
                "nothing trained: the checkpoint is at step %d and epoch %d (an epoch cut short by trainer.max_steps "
                "counts) and trainer.max_epochs=%d; raise it (or set trainer.max_steps) to train on",
                trainer.global_step,
                trainer.current_epoch,
                epochs,
            )
        if any((out / "tensorboard").glob("events.out.tfevents.*")):
            log.info("TensorBoard: tensorboard --logdir %s", shlex.quote(str(out / "tensorboard")))
    return style_path if style_path is not None and style_path.is_file() else None  # never a path to nothing


def _check_output_dir(cfg: DictConfig) -> None:
    """Under Hydra, output_dir is the run's folder, hydra.run.dir: set on its own, the checkpoints, style model and
    TensorBoard went there while .hydra/ and train.log went to the run's folder."""
    from hydra.core.hydra_config import HydraConfig

    # (a config composed in Python sets output_dir itself; a test's Hydra may have no run folder)
    if not HydraConfig.initialized() or OmegaConf.is_missing(HydraConfig.get().runtime, "output_dir"):
        return
    run_dir = HydraConfig.get().runtime.output_dir
    if Path(str(cfg.output_dir)).absolute() != Path(run_dir).absolute():
        key = "hydra.sweep.dir" if launch.in_multirun() else "hydra.run.dir"  # (said under a Hydra run only)
        raise UserError(f"output_dir follows the run's folder: set {key}={cfg.output_dir} instead")


def _check_in_the_way(cfg: DictConfig, out: Path, checkpoints: str | None) -> None:
    """A folder where the run writes its style model or its last.ckpt, a file where its checkpoints' or
    TensorBoard's folder goes, or a folder no file can be made in, was found only once written to: at the run's
    end, after every step ("cannot write .../style.pt: it is a folder; give a file's name", exit code 2; a last.ckpt
    that is a folder lost the steps since the last periodic checkpoint), or as Hydra's "Error executing job" and a
    crash in the run's log (a file named tensorboard). Refused before training."""
    style = OmegaConf.select(cfg, "callbacks.style_model.path")
    if style and Path(style).expanduser().is_dir():
        raise UserError(
            f"callbacks.style_model.path={style} is a folder: give the style model a file's name (or move that folder)"
        )
    if style and (said := in_the_way(Path(style).expanduser().parent)):
        raise UserError(f"callbacks.style_model.path={style} cannot be written: {said} (move it, or give another path)")
    if checkpoints and (said := in_the_way(Path(checkpoints).expanduser())):
        raise UserError(
            f"callbacks.checkpoint.dirpath={checkpoints} cannot be a folder: {said}; give a folder for the checkpoints "
            "(or move that file)"
        )
    if checkpoints and (last := Path(checkpoints).expanduser() / "last.ckpt").is_dir():
        raise UserError(
            f"{last} is a folder, where the run's last checkpoint goes: move it, or set callbacks.checkpoint.dirpath "
            "to another folder"
        )
    if said := in_the_way(out / "tensorboard"):
        raise UserError(
            f"the run's TensorBoard logs go in {out / 'tensorboard'}: {said}; move it, or choose another "
            f"{launch.run_folder_key()}"
        )
    # a folder no file can be made in (read-only, no rights): the style model and checkpoints failed at the run's
    # end, after every step, and TensorBoard's log at the start with a traceback from its writer's thread
    check_writable(out / "tensorboard", f"the run's TensorBoard folder {out / 'tensorboard'}")
    if checkpoints:
        check_writable(Path(checkpoints).expanduser(), f"callbacks.checkpoint.dirpath={checkpoints}")
    if style:
        check_writable(Path(style).expanduser().parent, f"callbacks.style_model.path={style}")


def _check_end(cfg: DictConfig) -> None:
    """A run that would never end: trainer.max_steps=-1 (Lightning's "no step limit") beside the default
    trainer.max_epochs=-1 and no trainer.max_time trained on without a word until stopped by hand, and
    trainer.max_steps=-5 was Lightning's MisconfigurationException traceback."""
    steps, epochs, time = (OmegaConf.select(cfg, f"trainer.{key}") for key in ("max_steps", "max_epochs", "max_time"))
    if isinstance(steps, int) and steps < -1:
        raise UserError(f"trainer.max_steps={steps}: give the steps to train, e.g. trainer.max_steps=2000")
    if steps == -1 and epochs == -1 and time is None:
        raise UserError(
            "trainer.max_steps=-1 with trainer.max_epochs=-1 trains without end: give trainer.max_steps=N, "
            "trainer.max_epochs=N or trainer.max_time=DD:HH:MM:SS"
        )


def _remove_if_empty(made: list[Path]) -> None:
    """The folders a refused run made, where they are still empty (train() from Python left tensorboard/, and the
    run's folder around it; fast-style-train removes a refused launch's folder itself), innermost first."""
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _out_of_memory(error: BaseException) -> UserError | None:
    """A batch or size that does not fit (the GPU's or the CPU's memory) as one line; None for another error (a
    Python caller of train() had torch's traceback: only fast-style-train said it)."""
    if not isinstance(error, (RuntimeError, MemoryError)) or not out_of_memory(error):
        return None
    return UserError(
        f"out of memory ({first_line(error, 120)}): lower data.batch_size or data.image_size (or style.size)"
    )


def _prepare(cfg: DictConfig) -> tuple[pl.Trainer, StyleTransferModule, Any, list, str | None]:
    """Everything a run needs, checked and built: (trainer, module, datamodule, callbacks, ckpt_path)."""
    config.register()  # a cfg composed by hand may still hold ${best_precision:} and ${mul:...}
    check_typed(cfg)
    check_keys(cfg)
    if OmegaConf.is_missing(cfg.style, "image"):
        raise UserError("no style image: add style.image=path/to/painting.jpg")
    seed, seeds = cfg.seed, f"a whole number from 0 to {2**32 - 1}"  # (NumPy's range: -1 was a traceback)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:  # (seed=1.0: how to write it)
        in_range = isinstance(seed, float) and 0 <= seed < 2**32
        raise UserError(
            kind_refused("seed", seeds, seed) if in_range else f"seed must be {seeds}, got {as_written(seed)}"
        )
    out = Path(cfg.output_dir)
    checkpoints = OmegaConf.select(cfg, "callbacks.checkpoint") is not None
    # (without checkpoints, where a run's would be: its own .ckpt was taken for another run's)
    last = OmegaConf.select(cfg, "callbacks.checkpoint.dirpath") if checkpoints else str(out / "checkpoints")
    _check_in_the_way(cfg, out, last if checkpoints else None)
    ckpt = resume_from(cfg, out, last, checkpoints)
    for key in ("root", "val_root"):
        folder = OmegaConf.select(cfg, f"data.{key}")
        if folder and out.resolve().is_relative_to(Path(folder).expanduser().resolve()):
            raise UserError(
                f"the run's folder {out} is inside data.{key}={folder}: its image grids would become training "
                f"photos; set {launch.run_folder_key()} outside it (or point data.root at the photos' own folder)"
            )
    check_types(cfg.trainer, "trainer")  # the other groups are typed by their schemas (fast_style/runs/config.py)
    for name, node in cfg.callbacks.items():  # as the trainer (every_n_train_steps=abc: "'<' not supported between
        if isinstance(node, DictConfig) and _locatable(node):  # instances of 'str' and 'int'", from Lightning)
            check_types(node, f"callbacks.{name}")
    precision = str(OmegaConf.select(cfg, "trainer.precision", default=None) or "32-true")  # null: Lightning's
    if precision not in TRAINED_PRECISIONS:  # bf16-true, 64-true: the image grids and val/coverage run in float32
        raise UserError(
            f"trainer.precision={precision} is not a precision fast-style trains in: use bf16-mixed, 16-mixed "
            "(on a GPU) or 32-true; the weights stay float32 in each"
        )
    interval = OmegaConf.select(cfg, "trainer.val_check_interval", default=None)
    if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval <= 0:  # (ZeroDivisionError)
        raise UserError(
            f"trainer.val_check_interval={interval}: give the training steps between validations (at least 1), or "
            "+trainer.limit_val_batches=0 to validate never"
        )
    if isinstance(interval, float) and OmegaConf.select(cfg, "trainer.check_val_every_n_epoch", default=None) is None:
        # (2.0 was told to be given "as a whole number")
        whole = f" without a decimal point, trainer.val_check_interval={int(interval)}" if interval.is_integer() else ""
        raise UserError(  # Lightning's "should be an integer or a time-based duration ... when check_val_every_n_epoch
            f"trainer.val_check_interval={interval}: give the training steps between validations as a whole number"
            f"{whole} (a fraction of an epoch, such as 0.5, needs trainer.check_val_every_n_epoch=1)"  # =None" named
        )  # no remedy
    accumulate = OmegaConf.select(cfg, "trainer.accumulate_grad_batches", default=None)
    if accumulate is not None and not isinstance(accumulate, bool) and accumulate < 1:
        raise UserError(f"trainer.accumulate_grad_batches={accumulate}: give at least 1 (batches per step)")
    every = OmegaConf.select(cfg, "trainer.log_every_n_steps", default=None)  # (-1 logged every step, as 1 does)
    if isinstance(every, int) and not isinstance(every, bool) and every < 0:
        raise UserError(
            f"trainer.log_every_n_steps={every}: give the steps between logged points, e.g. "
            "trainer.log_every_n_steps=10 (0: none)"
        )
    _check_end(cfg)
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data, "data")
    network = build(cfg.model, "model")
    # the painting before the VGG: its mistakes said before a first run fetches the weights (a download)
    try:
        style_image = build(cfg.style, "style")
    except UserError as e:  # style.size left to follow data.image_size: "lower the style size" named no setting given
        if not OmegaConf.is_interpolation(cfg.style, "size") or LOWER_STYLE_SIZE not in str(e):
            raise
        crop = setting("--image-size", "data.image_size")
        remedy = f"lower {crop} (the style size follows it: twice the crop), or set style.size"
        raise UserError(str(e).replace(LOWER_STYLE_SIZE, remedy)) from None
    loss = build(cfg.loss, "loss")
    for key in ("content_weight", "style_weight", "tv_weight", "style_layers", "content_layers"):
        cfg.loss[key] = getattr(loss, key)  # null: the default the loss chose, recorded as used
    log.info(
        "loss: content weight %g, style weight %g, tv weight %g; style layers %s; content layers %s",
        loss.content_weight,
        loss.style_weight,
        loss.tv_weight,
        loss.style_layers,
        loss.content_layers,
    )
    temporal = build(cfg.temporal, "temporal") if cfg.get("temporal") is not None else None
    if temporal is not None:
        temporal.check_crops(datamodule.image_size, datamodule.image_size)
        if late := temporal.never_starts(OmegaConf.select(cfg, "trainer.max_steps")):
            log.warning(late)
    distill = build(cfg.distill, "distill") if cfg.get("distill") is not None else None
    if distill is not None and distill.feature_weight:  # its layer computed by the loss's VGG (loss=vgg19 had
        try:  # none of relu2_2, the default: the run failed at its first step)
            loss.vgg.add(distill.feature_layer)
        except UserError as e:
            raise UserError(f"distill.feature_layer={distill.feature_layer}: {e}") from None
    if distill is not None:
        log.info(
            "distill: teacher %s, pixel weight %g, feature weight %g at %s; the loss above only reports (validation)",
            distill.teacher_name,
            distill.weight,
            distill.feature_weight,
            distill.feature_layer,
        )
        if larger := distill.larger_student(network):  # distillation is for a smaller, faster network
            log.warning(larger)
        painting, ours = distill.teacher_painting, Path(str(cfg.style.image)).name
        if painting and Path(painting).name != ours:  # a name of its own for the same file passes: warn only
            log.warning(
                "distill.teacher=%s was trained on %s, style.image is %s: the student paints like its teacher "
                "whatever style.image says (its name in the style model, and val/style's reference); set style.image "
                "to the teacher's painting unless %s is that painting",
                distill.teacher_name,
                Path(painting).name,
                ours,
                ours,
            )
    # resuming: the checkpoint's weights replace those it started from (a start moved since refused the resume)
    start = {"init_from": None} if ckpt is not None else {}
    module = StyleTransferModule(
        network, loss, style_image, temporal=temporal, distill=distill, **{**cfg.module, **start}
    )
    callbacks = [build(c, f"callbacks.{name}") for name, c in cfg.callbacks.items() if c is not None]
    if OmegaConf.select(cfg, "trainer.enable_progress_bar") is False:  # Lightning refuses a bar that is off
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    settings = OmegaConf.to_container(cfg, resolve=True)  # as used (the loss weights above)
    steps, every = (OmegaConf.select(cfg, f"trainer.{key}") for key in ("max_steps", "log_every_n_steps"))
    short = isinstance(steps, int) and isinstance(every, int) and 0 < steps < every  # shorter than the interval
    if short:  # logs its last step (it had no train/* curve at all); the caller's cfg is left as it was
        settings["trainer"]["log_every_n_steps"] = steps
    callbacks.insert(0, ResumedStepCount())  # before any callback that logs at the count (LearningRateMonitor)
    callbacks.append(HParamsSummary(settings))  # the HParams tab
    callbacks.append(TrainedSettings(trained_settings(settings)))  # kept in the checkpoints, compared on a resume
    callbacks.append(KeepLaunch(out / ".hydra"))
    callbacks.append(after_the_data := AfterTheData())
    # a resume forgets what the stopped run logged past its checkpoint (a kill after it: those steps run again, and
    # their points and grids had been in TensorBoard twice); TensorBoard drops them from the earlier event files.
    # A sweep's run started again from the beginning (stopped before its first checkpoint) forgets all of it.
    if ckpt:
        purge = step_of(Path(last) / "last.ckpt" if ckpt == "last" and last else Path(ckpt)) or None
    else:
        purge = 0 if any((out / "tensorboard").glob("events.out.tfevents.*")) else None
    logger = TensorBoardLogger(
        save_dir=str(out), name="tensorboard", version="", default_hp_metric=False, purge_step=purge
    )
    with warnings.catch_warnings():  # said below in one line (Lightning's came first, with its source's path)
        warnings.filterwarnings("ignore", message=".*AMP with fp16 is not supported on CPU")
        trainer: pl.Trainer = build(
            cfg.trainer,
            "trainer",
            callbacks=callbacks,
            logger=logger,
            default_root_dir=str(out),
            plugins=[AtomicCheckpointIO()],
            **({"log_every_n_steps": steps} if short else {}),
            **({} if checkpoints else {"enable_checkpointing": False}),  # (not Lightning's own checkpoints instead)
        )
    asked = {"32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"}.get(precision, precision)  # Lightning's names
    if isinstance(trainer.accelerator, CPUAccelerator):  # before any photo is read: each was "unreadable" at 100000 px
        size, batch = datamodule.image_size, datamodule.batch_size
        check_memory(
            batch * size * size * GRAD_BYTES_PER_PIXEL,
            f"training at {setting('--image-size', 'data.image_size', size)} with data.batch_size={batch}",
            f"lower {setting('--image-size', 'data.image_size')} or data.batch_size",
        )
    advice = after_the_data.lines  # said once the data is found: a data error comes first, and alone
    if every == 0:  # Lightning's "never": every train/* curve was gone without a word
        advice.append(
            "trainer.log_every_n_steps=0 logs no step: TensorBoard gets no train/* curves (the losses, the learning "
            "rate); give the steps between points to have them, e.g. trainer.log_every_n_steps=10"
        )
    if isinstance(trainer.accelerator, CPUAccelerator) and trainer.max_steps >= LONG_FOR_A_CPU and ckpt is None:
        advice.append(  # the paper's 40,000 steps at 256 px: about a day on two cores, with no word of a shorter way
            f"{trainer.max_steps} steps on the CPU take many hours (the progress bar shows the time left): "
            "experiment=cpu_quick trains a style worth keeping in about 10 minutes on two cores"
        )
    if isinstance(trainer.accelerator, CPUAccelerator) and asked != "32-true":
        if asked == "16-mixed":  # Lightning trains bf16-mixed instead, saying only "Using bfloat16 AMP"
            advice.append(f"trainer.precision={precision} is for GPUs: on the CPU it trains as bf16-mixed")
        if not native_bf16("cpu"):  # as fast-style-stylize says for --precision bf16
            advice.append(
                f"this CPU has no native bf16 (AVX512-BF16 or AMX): {precision} runs emulated, several times "
                "slower than trainer.precision=32-true"
            )
    logger.log_hyperparams(settings)
    return trainer, module, datamodule, callbacks, ckpt


class AfterTheData(pl.Callback):
    """Advice on a run's settings (the CPU's hours for trainer.max_steps, a precision the CPU runs slowly), said
    once the data is found: Lightning sets a callback up after the datamodule, which refuses a folder without
    photos. Said before, the advice came first and the data error after it (an empty data.root)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for line in self.lines:
            log.warning(line)
        self.lines = []


def _locatable(node: DictConfig) -> bool:
    """Whether `node` names a `_target_` that can be imported (one that cannot: build's own words say it)."""
    from hydra.utils import get_object

    try:
        get_object(str(node["_target_"]))
    except Exception:
        return False
    return True


LONG_FOR_A_CPU = 10_000  # trainer.max_steps from which a CPU run is pointed at experiment=cpu_quick
TRAINED_PRECISIONS = ("32-true", "32", "bf16-mixed", "bf16", "16-mixed", "16")  # Lightning's names (and aliases)
