"""Training: `train(cfg)` builds the data, network, loss and Trainer a composed config describes and fits them
(the command line, `fast-style-train`, is fast_style/cli/train.py; `fast_style.config.compose` makes a cfg)."""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import shlex
import signal
import types
import typing
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError
from pytorch_lightning.accelerators import CPUAccelerator
from pytorch_lightning.callbacks import ProgressBar
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import SIGTERMException

from fast_style import config, launch
from fast_style.callbacks import AtomicCheckpointIO, GracefulStop, HParamsSummary, KeepLaunch, ResumedStepCount
from fast_style.devices import check_memory, native_bf16
from fast_style.errors import UserError, first_line, out_of_memory, setting
from fast_style.event_files import holds_a_loss
from fast_style.lightning_internals import started_by_rank_zero, stop_other_ranks
from fast_style.loss import GRAD_BYTES_PER_PIXEL
from fast_style.module import StyleTransferModule
from fast_style.rank_logging import one_copy_on_terminal
from fast_style.style_model import load_style_model

log = logging.getLogger(__name__)


class _NoTips(logging.Filter):
    """Lightning's advertisements for its cloud services ("💡 Tip: ... try installing litlogger"), printed on every
    run, are left out of a run's output; its other messages stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip:")


def train(cfg: DictConfig) -> Path | None:
    """Train one style network as `cfg` says; returns the path of the style model it wrote."""
    tips = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if not any(isinstance(f, _NoTips) for f in tips.filters):
        tips.addFilter(_NoTips())
    one_copy_on_terminal()  # DDP: the other ranks' copies of the same messages stay in their log files
    if "output_dir" not in cfg:  # an own primary config (--config-name) that does not start from fast-style's
        raise UserError(
            f"the config {launch.config_name() or 'given'} does not build on fast-style's train config: begin its "
            "defaults with it, `defaults: [train, _self_]` (README, Configuration)"
        )
    _check_output_dir(cfg)
    try:
        hydra_dir = Path(cfg.output_dir) / ".hydra"
    except InterpolationResolutionError:  # ${run_folder:} outside a Hydra run: a config composed in Python
        raise UserError(
            "output_dir is not set: outside fast-style-train, name the run's folder, e.g. "
            'compose(["style.image=wave.jpg", "output_dir=runs/wave"])'
        ) from None
    launch.set_run_folder(str(cfg.output_dir))  # how messages name it: hydra.run.dir, or from Python output_dir
    made = [p for p in (Path(cfg.output_dir) / "tensorboard", Path(cfg.output_dir)) if not p.exists()]
    try:
        trainer, module, datamodule, callbacks, ckpt = _prepare(cfg)
    except BaseException as e:
        launch.restore_last_launch(hydra_dir)  # a refused launch leaves the run's own record as it was
        _remove_if_empty(made)
        if (said := _out_of_memory(e)) is not None:
            raise said from e
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
            if ckpt is not None:  # resuming into the run's own folder: its checkpoints are expected there
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            if ckpt is not None and OmegaConf.select(cfg, "callbacks.checkpoint") is None:  # turned off on purpose
                warnings.filterwarnings("ignore", message=r"Be aware .*callbacks: \[\"FinalCheckpoint\{[^]]*\}\"\]\.$")
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt)
    except SIGTERMException:  # stopped by Ctrl-C/SIGTERM after writing a checkpoint: not a finished run
        stop = next((c for c in callbacks if isinstance(c, GracefulStop)), None)
        if started_by_rank_zero(trainer):  # its stop is rank 0's to say (another code: every rank killed at once)
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
            nothing = ckpt is None and _run_in(out, last, grids, logs=False) is None  # no checkpoint, model or grid
            for path in set((out / "tensorboard").glob("events.out.tfevents.*")) - events:
                if not keeper.kept or (nothing and not holds_a_loss(path)):
                    path.unlink(missing_ok=True)
            if not keeper.kept:
                _remove_if_empty(made)
    if ckpt is None and trainer.max_steps == 0:  # (after fit: the data's and settings' mistakes come first)
        # a new run of no step left a folder with no model, which was then refused as "holds a run"
        raise UserError("trainer.max_steps=0 trains nothing: give the steps to train, e.g. trainer.max_steps=2000")
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
        if any((out / "tensorboard").glob("events.out.tfevents.*")):
            log.info("TensorBoard: tensorboard --logdir %s", shlex.quote(str(out / "tensorboard")))
    return style_path


def _check_typed(cfg: DictConfig) -> None:
    """Refuse, in one line, a group whose option file does not start from the group's schema (an own
    `model/wide.yaml` without `defaults: [schema, _self_]`): without the schema's `_target_` it would build a
    dict, not the object. (A config read back from a run's .hydra/config.yaml is untyped, but names its targets.)"""
    for group, (_, _, with_target) in config.SCHEMAS.items():
        node = OmegaConf.select(cfg, group)
        if with_target and isinstance(node, DictConfig) and "_target_" not in node:
            option = launch.choice(group)
            named = f"{group}={option}" if option else f"the {group} group's option"
            raise UserError(
                f"{named} does not start from the group's schema: begin its file with "
                "`defaults: [schema, _self_]` (README, Configuration)"
            )


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
    _check_typed(cfg)
    if OmegaConf.is_missing(cfg.style, "image"):
        raise UserError("no style image: add style.image=path/to/painting.jpg")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or not 0 <= cfg.seed < 2**32:  # (NumPy's range:
        raise UserError(f"seed must be an integer from 0 to {2**32 - 1}, got {cfg.seed!r}")  # -1 was a traceback)
    ckpt = None if cfg.ckpt_path is None else str(cfg.ckpt_path)  # Hydra reads ckpt_path=123 as a number
    if ckpt in ("best", "hpc", "registry"):  # Lightning's other names: runs here keep none of those checkpoints
        raise UserError(
            f"ckpt_path={ckpt}: fast-style resumes from ckpt_path=last (with the run's {launch.run_folder_key()}) or a "
            ".ckpt file"
        )
    if ckpt is not None and ckpt != "last":
        check_checkpoint(Path(ckpt).expanduser())
    out = Path(cfg.output_dir)
    checkpoints = OmegaConf.select(cfg, "callbacks.checkpoint") is not None
    if ckpt == "last" and not checkpoints:  # (Lightning warned, trained from the start and wrote over the run)
        raise UserError(
            "ckpt_path=last resumes from the run's checkpoints, and callbacks.checkpoint=null writes none: leave "
            "callbacks.checkpoint as it was, or pass a .ckpt file"
        )
    # (without checkpoints, where a run's would be: its own .ckpt was taken for another run's)
    last = OmegaConf.select(cfg, "callbacks.checkpoint.dirpath") if checkpoints else str(out / "checkpoints")
    held = _run_in(out, last, OmegaConf.select(cfg, "callbacks.images.dirpath"))
    if ckpt not in (None, "last") and held and not _within(Path(ckpt).expanduser(), last):
        raise UserError(  # another run's checkpoint, continued here, would write over this folder's run
            f"{out} holds a run ({held}) and ckpt_path={ckpt} is another run's: continue that one in a folder of its "
            f"own ({launch.run_folder_key()}=...), or resume this one with ckpt_path=last"
        )
    elsewhere = launch.run_folder_key()  # (a sweep's runs: run.dir is not read; from Python, output_dir)
    asked_last = ckpt == "last"
    if asked_last and last and (newest := newest_checkpoint(last)):
        # no last.ckpt (callbacks.checkpoint.save_last=false, or removed: the run was called one stopped before its
        # first checkpoint, "delete that folder"), or one older than a periodic checkpoint (save_last=false since a
        # stop wrote it, and the run killed since: a resume went back to it)
        kept = Path(last) / "last.ckpt"
        if not kept.is_file():
            log.warning("ckpt_path=last: %s holds no last.ckpt: resuming from %s, its newest checkpoint", last, newest)
            ckpt = str(newest)
        elif (at := _step_of(newest)) is not None and at > (_step_of(kept) or 0):
            log.warning("ckpt_path=last: %s is older than %s: resuming from that, the run's newest", kept, newest)
            ckpt = str(newest)
    if ckpt == "last" and last and not (Path(last) / "last.ckpt").is_file():
        if launch.in_multirun() and not (out / "style.pt").is_file():
            # rerunning a stopped sweep: a run it had not reached, or stopped before its first checkpoint (its
            # logs and grids are written over), starts from the beginning
            log.info("ckpt_path=last: no checkpoint in %s yet: this run starts from the beginning", last)
            ckpt, held = None, None
        elif held:
            raise UserError(
                f"ckpt_path=last: {out} holds a run stopped before its first checkpoint ({held}): nothing to "
                f"resume; delete that folder, or train into another ({elsewhere}=...)"
            )
        else:
            raise UserError(
                f"ckpt_path=last: no {Path(last) / 'last.ckpt'}: set {elsewhere} to the folder of the run "
                "to resume (nothing was trained)"
            )
    if ckpt not in (None, "last") and not asked_last and last and _within(Path(ckpt).expanduser(), last):
        at, reached = _step_of(Path(ckpt).expanduser()), _steps_reached(last, style_model_path(cfg))
        if at is not None and reached is not None and at < reached:  # its later files were written over unsaid
            raise UserError(
                f"ckpt_path={ckpt} is at step {at}, and this run went on to step {reached}: resumed here it would "
                f"write over the later steps' style models and grids; continue from it in a folder of its own "
                f"({elsewhere}=... ckpt_path={ckpt}), or resume the run where it ended with ckpt_path=last"
            )
    if asked_last and (changed := launch.swept_elsewhere(out / ".hydra")):
        raise UserError(
            f"run {out.name} of the sweep was trained with other settings than this rerun gives it "
            f"({'; '.join(changed)}): list the swept values in the order of the sweep's first launch "
            "(or sweep into a new hydra.sweep.dir)"
        )
    if ckpt is None and held and not held.resolve().is_relative_to(out.resolve()):  # a folder set elsewhere
        key = "callbacks.images.dirpath" if held.suffix == ".png" else "callbacks.checkpoint.dirpath"
        raise UserError(
            f"{key}={held.parent} holds another run's files ({held.name}): a new run does not write over them; "
            "give another folder (or move them)"
        )
    if ckpt is None and held:  # training from scratch would write over that run
        resume = "resume it with ckpt_path=last" if held.suffix == ".ckpt" else "nothing to resume in it"
        raise UserError(f"{out} holds a run ({held}): {resume}; or train into another folder ({elsewhere}=...)")
    style_model = OmegaConf.select(cfg, "callbacks.style_model.path")
    if ckpt is None and style_model and Path(style_model).expanduser().is_file():  # a file outside the run's folder
        raise UserError(
            f"callbacks.style_model.path={style_model} exists: a new run does not write over it; give another path "
            "(or move that file)"
        )
    for key in ("root", "val_root"):
        folder = OmegaConf.select(cfg, f"data.{key}")
        if folder and out.resolve().is_relative_to(Path(folder).expanduser().resolve()):
            raise UserError(
                f"the run's folder {out} is inside data.{key}={folder}: its image grids would become training "
                f"photos; set {launch.run_folder_key()} outside it (or point data.root at the photos' own folder)"
            )
    check_types(cfg.trainer, "trainer")  # the other groups are typed by their schemas (fast_style/config.py)
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
    accumulate = OmegaConf.select(cfg, "trainer.accumulate_grad_batches", default=None)
    if accumulate is not None and not isinstance(accumulate, bool) and accumulate < 1:
        raise UserError(f"trainer.accumulate_grad_batches={accumulate}: give at least 1 (batches per step)")
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data, "data")
    network = build(cfg.model, "model")
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
    style_image = build(cfg.style, "style")
    temporal = build(cfg.temporal, "temporal") if cfg.get("temporal") is not None else None
    if temporal is not None:
        temporal.check_crops(datamodule.image_size, datamodule.image_size)
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
    callbacks.append(KeepLaunch(out / ".hydra"))
    # a resume forgets what the stopped run logged past its checkpoint (a kill after it: those steps run again, and
    # their points and grids had been in TensorBoard twice); TensorBoard drops them from the earlier event files.
    # A sweep's run started again from the beginning (stopped before its first checkpoint) forgets all of it.
    if ckpt:
        purge = _step_of(Path(last) / "last.ckpt" if ckpt == "last" and last else Path(ckpt)) or None
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
    if isinstance(trainer.accelerator, CPUAccelerator) and asked != "32-true":
        if asked == "16-mixed":  # Lightning trains bf16-mixed instead, saying only "Using bfloat16 AMP"
            log.warning("warning: trainer.precision=%s is for GPUs: on the CPU it trains as bf16-mixed", precision)
        if not native_bf16("cpu"):  # as fast-style-stylize says for --precision bf16
            log.warning(
                "warning: this CPU has no native bf16 (AVX512-BF16 or AMX): %s runs emulated, several times "
                "slower than trainer.precision=32-true",
                precision,
            )
    logger.log_hyperparams(settings)
    return trainer, module, datamodule, callbacks, ckpt


def check_checkpoint(path: Path) -> None:
    """`ckpt_path` must be a Lightning checkpoint: a style model, another file or a damaged one is refused in
    one line here (Lightning's own reports were a KeyError or an OSError traceback). Read from the archive's
    pickle alone (small: the tensors are stored beside it), not by loading the checkpoint."""
    if path.is_dir():  # a run's folder, or its checkpoints/: it said "not found"
        run = path.parent if path.name == "checkpoints" else path
        found = next(filter(None, (_last_or_newest(f) for f in (path, path / "checkpoints"))), None)
        said = f"checkpoint '{path}' is a folder: pass {f'a .ckpt in it ({found})' if found else 'a .ckpt file'}"
        if (run / "checkpoints").is_dir() or (run / ".hydra").is_dir():  # a training run's
            said += f", or resume the run with ckpt_path=last {launch.run_folder_key()}={run}"
        raise UserError(said)
    if not path.is_file():
        raise UserError(
            f"checkpoint '{path}' not found: pass a .ckpt path, or ckpt_path=last with the run's "
            f"{launch.run_folder_key()}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            lightning = bool(pickles) and b"pytorch-lightning_version" in archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, KeyError):
        lightning = False
    if lightning:
        return
    try:
        load_style_model(str(path))
    except UserError:
        raise UserError(f"{path} is not a Lightning checkpoint (or is cut short): pass a run's .ckpt") from None
    raise UserError(
        f"{path} is a style model, not a checkpoint: resume from the run's checkpoints/last.ckpt, or start from "
        f"the model with module.init_from={path}"
    )


_STEP = re.compile(r"step=(\d+)")  # a checkpoint's or style model's step in its name (step=000400.ckpt)


def style_model_path(cfg: DictConfig) -> Path | None:
    path = OmegaConf.select(cfg, "callbacks.style_model.path")
    return Path(path).expanduser() if path else None


def _step_of(checkpoint: Path) -> int | None:
    """A checkpoint's step: by its name (step=000400.ckpt), else as it holds it (None where it cannot be read)."""
    if found := _STEP.search(checkpoint.name):
        return int(found.group(1))
    try:
        import torch

        return int(torch.load(checkpoint, map_location="cpu", mmap=True, weights_only=False)["global_step"])
    except Exception:
        return None


def _steps_reached(checkpoints: str, style_model: Path | None) -> int | None:
    """The furthest step a run's files show: its checkpoints' and style models' names, its style model's own."""
    folder = Path(checkpoints).expanduser()
    steps = [int(m.group(1)) for p in folder.glob("*") if (m := _STEP.search(p.name))]
    if (last := folder / "last.ckpt").is_file() and (step := _step_of(last)) is not None:
        steps.append(step)
    if style_model is not None and style_model.is_file():
        try:
            steps.append(int(load_style_model(str(style_model))[1].get("step", 0)))
        except (UserError, TypeError, ValueError):
            pass
    return max(steps) if steps else None


def _last_or_newest(folder: Path) -> Path | None:
    return folder / "last.ckpt" if (folder / "last.ckpt").is_file() else newest_checkpoint(folder)


def newest_checkpoint(folder: str | Path) -> Path | None:
    """The checkpoint of the highest step in a run's checkpoint folder (named by step, e.g. step=000400.ckpt; the
    newest file among those of one step), or None."""
    found = []
    for path in Path(folder).expanduser().glob("*.ckpt"):
        if (step := _STEP.search(path.name)) and path.is_file():
            found.append((int(step.group(1)), path.stat().st_mtime, path))
    return max(found)[2] if found else None


def _within(path: Path, folder: str | None) -> bool:
    """Whether `path` lies in `folder` (a run's checkpoints: resuming from one of its own)."""
    return folder is not None and path.resolve().is_relative_to(Path(folder).expanduser().resolve())


def _run_in(out: Path, checkpoints: str | None, images: str | None, logs: bool = True) -> Path | None:
    """A file showing that `out` holds a run (a checkpoint, a style model, an image grid, a TensorBoard log, unless
    not `logs`), even one stopped before its first checkpoint, also where its checkpoints' or grids' folders are set
    elsewhere; None for a new folder."""
    candidates = [out / "style.pt", *(Path(images).expanduser().glob("step_*.png") if images else [])]
    candidates += (out / "tensorboard").glob("events.*") if logs else []
    if checkpoints:
        candidates.insert(0, Path(checkpoints) / "last.ckpt")
    return next((p for p in candidates if p.is_file()), None)


def build(node: DictConfig, where: str, **kwargs: Any) -> Any:
    """instantiate(node), a constructor's complaint as one line naming the config node it came from."""
    from hydra.errors import InstantiationException

    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        raise UserError(f"bad setting under {where}: {first_line(cause or e, 300)}") from None


TRAINED_PRECISIONS = ("32-true", "32", "bf16-mixed", "bf16", "16-mixed", "16")  # Lightning's names (and aliases)


_KINDS = config.KIND_WORDS


def check_types(node: DictConfig, where: str) -> None:
    """UserError for a setting whose value does not fit its constructor argument's simple annotation
    (int, float, bool, str, None and unions of them), e.g. `trainer.max_steps=abc`, before anything is built.
    For the Trainer node, which has no schema (it stays open to any Lightning argument)."""
    target = get_object(node["_target_"])
    signature, hints = config.constructor_signature(target)
    params = {p.name: p for p in signature}
    if params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # `+trainer.foo=1` adds a key Hydra cannot check: refused here, not after the loss network is built
        for key in (str(k) for k in node if not str(k).startswith("_")):
            if key not in params:
                close = difflib.get_close_matches(key, list(params), n=1)
                hint = f" (did you mean {where}.{close[0]}?)" if close else ""
                raise UserError(
                    f"{where}.{key} is not a setting of {target.__name__}{hint}: it takes {', '.join(sorted(params))}"
                )
    for key, value in node.items():
        hint = hints.get(str(key))
        kinds = (
            typing.get_args(hint)
            if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            else (hint,)
        )
        if hint is None or not all(k in _KINDS for k in kinds) or isinstance(value, (DictConfig, ListConfig)):
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = any(isinstance(value, k) and not (k is not bool and isinstance(value, bool)) for k in kinds) or (
            number and (float in kinds or str in kinds)
        )  # data.root=2024 is a folder name Hydra read as a number
        if not fits:
            wanted = " or ".join(_KINDS[k] for k in kinds if not (k is int and float in kinds))
            raise UserError(f"{where}.{key} must be {wanted}, got {value!r}")
