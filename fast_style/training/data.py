"""Training data: a folder of photos (COCO's train2017/ as it is), random crops, a fixed validation handful."""

from __future__ import annotations

import atexit
import logging
import math
import multiprocessing
import os
import random
import shlex
import signal
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pytorch_lightning as pl
import torch
from lightning_fabric.utilities.seed import pl_worker_init_function
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchdata.stateful_dataloader import StatefulDataLoader
from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler
from torchvision.transforms import v2

from fast_style.errors import UserError
from fast_style.file_kinds import IMAGE_EXTENSIONS
from fast_style.media.images import OVER_LIMIT, find_images, open_rgb, unreadable_because
from fast_style.plurals import counted
from fast_style.training.photo_cache import cached_copies, fill_cache

log = logging.getLogger(__name__)


class Unreadable(NamedTuple):
    """What a loader gives for a file it could not read: the training process names it once (a warning from each
    loader worker named it twice) and counts each file once (a count of skips read as several bad files)."""

    path: str
    reason: str


Batch = tuple[torch.Tensor, tuple[Unreadable, ...]]  # (images (B, 3, S, S) in [0, 1], the files it could not read)


class ImageFolder(Dataset):
    """Images under a folder, resized and cropped to `image_size`; an unreadable file yields Unreadable.

    Training crops are drawn from a random stream of the dataset's own, seeded from torch's seed where it first
    draws (a loader worker's: each worker's own), whose state a StatefulDataLoader keeps in each checkpoint with
    the rest of its place (`state_dict`): a resumed run trains on the crops an uninterrupted one does (they were
    drawn again from the seed, from the resumed step on)."""

    def __init__(self, files: list[Path], image_size: int, train: bool, max_pixels: int | None = None) -> None:
        self.files = files
        self.image_size = image_size
        self.max_pixels = max_pixels
        self.train = train
        self.resize = v2.Compose([v2.PILToTensor(), v2.Resize(image_size, antialias=True)])
        self.crops = torch.Generator()
        self._seeded = False

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor | Unreadable:
        path = self.files[i]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = open_rgb(path, draft_size=self.image_size, max_pixels=self.max_pixels)
                x = self.resize(img)  # (3, H, W) uint8, its shorter side image_size
        except Exception as e:  # truncated, corrupt, not an image, too large: skip it, never end the run
            return Unreadable(str(path), unreadable_because(path, e, 120))
        size = self.image_size
        if self.train:
            if not self._seeded:  # here, in the process that draws: a worker's seed is its own
                self.crops.manual_seed(torch.initial_seed())
                self._seeded = True
            top, left = (int(torch.randint(0, n - size + 1, (), generator=self.crops)) for n in x.shape[-2:])
            x = v2.functional.crop(x, top, left, size, size)
        else:
            x = v2.functional.center_crop(x, [size, size])
        return v2.functional.to_dtype(x, torch.float32, scale=True)  # (3, S, S)

    def state_dict(self) -> dict[str, Any]:
        return {"crops": self.crops.get_state(), "seeded": self._seeded}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "crops" in state:
            self.crops.set_state(state["crops"])
            self._seeded = bool(state.get("seeded", True))


_EXIT_GUARD: list = []  # _kill_workers_left, once registered


def init_worker(worker_id: int) -> None:
    """Loader workers leave SIGTERM, SIGINT and SIGHUP to the training process. A scheduler (Slurm's preemption),
    `kill -TERM -PGID`, a terminal's Ctrl-C or its closing signals the whole process group, and a worker stopped by
    it ended the run with a traceback before GracefulStop could write its checkpoint (SIGINT: sometimes, when the
    worker was mid-batch); an ignoring worker is shut down by its loader as usual."""
    for stop in ("SIGTERM", "SIGINT", "SIGHUP"):  # (SIGHUP: a closed terminal's; none on Windows)
        if hasattr(signal, stop):
            signal.signal(getattr(signal, stop), signal.SIG_IGN)
    if int(os.environ.get("PL_SEED_WORKERS", 0)):  # what Lightning adds by itself when no worker_init_fn is given
        pl_worker_init_function(worker_id)


def _kill_workers_left() -> None:
    """At the process's exit, loader workers still running are killed. They ignore SIGTERM (init_worker), and
    multiprocessing's own exit handler ends its children with SIGTERM and then waits for them: a run ended by a
    traceback (its loaders never shut down) waited for ever, and ignored a scheduler's SIGTERM too. (Registered
    after multiprocessing's handler, so it runs first.)"""
    if hasattr(signal, "SIGCHLD"):  # torch's handler would report each killed worker as an error of its own
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    children = [c for c in multiprocessing.active_children() if c.daemon]  # the loaders' workers, a pool's
    for child in children:  # a daemon of a caller's own that ends on SIGTERM still does so, cleaning up
        child.terminate()
    deadline = time.monotonic() + 1.0
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():  # ours, ignoring it
            child.kill()


def _identity(path: Path) -> tuple[int, int] | Path:
    """What one photo is, whatever its name: its file's device and inode (a symbolic or a hard link to it is the
    same photo), or its resolved path where it cannot be read."""
    try:
        stat = path.stat()
        return (stat.st_dev, stat.st_ino)
    except OSError:
        return path.resolve()


def _one_name_each(files: list[Path]) -> list[Path]:
    """`files` with each photo once, by its first name: a photo and a link to it were counted twice (one held out
    for validation was trained on under its other name)."""
    seen: set = set()
    return [f for f in files if not ((key := _identity(f)) in seen or seen.add(key))]


def what_to_do(reasons: Iterable[str], key: str = "data.root") -> str:
    """What to do when no training (validation: `key` data.val_root) photo could be read, by why they could not."""
    reasons = list(reasons)
    large = sum(OVER_LIMIT in r for r in reasons)
    if large and large == len(reasons):  # (a folder of large scans or panoramas)
        return "each is larger than data.max_image_pixels allows: raise it (null: no limit)"
    if large:
        are = "is" if large == 1 else "are"
        return f"point {key} at a folder of JPEG/PNG/WebP photos ({large} {are} larger than data.max_image_pixels)"
    return f"point {key} at a folder of JPEG/PNG/WebP photos"


def _coco_hint(path: Path) -> str:
    """How to fill a missing COCO split's folder (data/coco/train2017, data.root's default): fast-style-coco, which
    writes OUT/SPLIT/ (it said to set data.root alone, as if the default folder were one's own to make)."""
    from fast_style.training.coco import MAX_IDS

    if path.exists() or path.name not in MAX_IDS:
        return ""
    split = f" --split {path.name}" if path.name != "train2017" else ""
    return f", or download COCO's photos into it: fast-style-coco{split} --out {shlex.quote(str(path.parent))}"


_PHOTOS = "fast_style_photos"  # the training photos' count, in the loader's state
_RANKS = "fast_style_ranks"  # the processes the photos were shared among (DDP's world size; 1: one process)


class _TrainLoader(StatefulDataLoader):
    """The training loader, whose place in its epoch a resume with another data.num_workers cannot take (its state
    holds a snapshot per worker, and torchdata asserts the count: a page of traceback), nor one where the photos
    changed in number (photos removed: the saved place lay past the new epoch's end, a traceback), nor one on
    another number of processes (DDP's sampler and one process's shuffle keep different states: a traceback either
    way): there the epoch is drawn afresh, with a warning."""

    # set by the data module where Lightning restores the place of an epoch that had ended (its restart then reads
    # that epoch's rest): the rest trainer.limit_train_batches had left out is passed over, not trained on
    pass_over_the_rest = False
    _empty_once = False  # (and the pass Lightning makes over that rest finds none)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # torchdata's loader calls a torch function that torch 2.14 deprecates, on every construction: left out here,
        # not by a filter set at import (which had changed the warning filters of every program importing this)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'set_vital' is deprecated", category=UserWarning)
            super().__init__(*args, **kwargs)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), _PHOTOS: len(self.dataset), _RANKS: self._ranks()}

    def __iter__(self) -> Any:
        if self._empty_once:
            self._empty_once = False
            return iter(())
        return super().__iter__()

    def finish_the_epoch(self) -> None:
        """The rest of the epoch whose place was loaded read and dropped: the next pass is the next epoch, drawn on
        from the saved order as in a run never stopped, with its crops (the rest's not drawn from their stream)."""
        rest = iter(self)  # (the loaded place taken, its crops' stream with it)
        crops = self.dataset.state_dict()  # (this process's stream; each loader worker keeps its own)
        for _ in rest:
            pass
        self.dataset.load_state_dict(crops)

    def _ranks(self) -> int:
        return getattr(self.sampler, "num_replicas", 1)  # (StatefulDistributedSampler's; else one process's)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        photos, now = state_dict.pop(_PHOTOS, None), len(self.dataset)
        main = state_dict.get("_snapshot", {}).get("_main_snapshot", state_dict)
        drawn = (main.get("_sampler_iter_state") or {}).get("samples_yielded", 0)  # (a state saved before the count)
        ranks = state_dict.pop(_RANKS, None)
        if ranks is None and main.get("_sampler_iter_state"):  # (saved before the count: which sampler saved it)
            ranks = "several" if "sampler_state" in main["_sampler_iter_state"] else 1
        if ranks is not None and ranks != self._ranks() and not (ranks == "several" and self._ranks() > 1):
            log.warning(
                "resumed on %d process%s where the run had %s: its place in the epoch cannot be carried over, so "
                "this epoch's photos are shuffled afresh",
                self._ranks(),
                "" if self._ranks() == 1 else "es",
                ranks if ranks != 1 else "1",
            )
            return
        if (photos is not None and photos != now) or drawn > now:
            log.warning(
                "resumed with %s where the run had %s: its place in the epoch cannot be carried "
                "over, so this epoch's photos are shuffled afresh",
                counted(now, "training photo"),
                photos if photos is not None else f"at least {drawn}",
            )
            return
        if "_snapshot" in state_dict:
            saved = state_dict["_snapshot"].get("_main_snapshot", {}).get("_num_workers")
        else:
            saved = 0 if "_num_yielded" in state_dict else None  # (a single process's state; {}: none)
        if saved is not None and saved != self.num_workers:
            log.warning(
                "resumed with data.num_workers=%d where the run had %d: its place in the epoch cannot be carried "
                "over, so this epoch's photos are shuffled afresh (resume with data.num_workers=%d to keep it)",
                self.num_workers,
                saved,
                saved,
            )
            return
        super().load_state_dict(state_dict)
        if self.pass_over_the_rest and _batches_given(self.state_dict()) < len(self):
            self.pass_over_the_rest = False
            self.finish_the_epoch()
            self._empty_once = True


def collate_skipping(samples: list[torch.Tensor | Unreadable]) -> Batch:
    good = [s for s in samples if isinstance(s, torch.Tensor)]
    images = torch.stack(good) if good else torch.empty(0)
    return images, tuple(s for s in samples if isinstance(s, Unreadable))


def _batches_given(state: dict[str, Any]) -> int:
    """The batches of its epoch a StatefulDataLoader's state says it has given (in one process, or from workers)."""
    if "_snapshot" in state:
        return state["_snapshot"].get("_snapshot_step", 0) + state.get("_steps_since_snapshot", 0)
    return state.get("_num_yielded", 0)


class StyleDataModule(pl.LightningDataModule):
    """Photos under `root` (recursive: jpg, png, webp, ...). `num_val` of them, chosen once by `seed`, are held out
    for validation (losses and the logged image grid) unless `val_root` names a folder of its own. Images with
    more than `max_image_pixels` pixels are skipped unread (decompression bombs; Pillow's limit by default).

    `cache_dir`: keep a copy of every photo with its shorter side resized to `image_size` there (JPEG, quality
    95), made once by `prepare_data` in parallel and refreshed when a photo changes; training then decodes
    those small files (2.5x less CPU per image for COCO at 256 px, see benchmarks/README.md).
    """

    # whether a resume with another image_size or batch_size says so itself (`load_state_dict`); off where the run's
    # TrainedSettings names them in its own line, with the settings that follow them (style.size)
    says_resumed_sizes = True

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        batch_size: int = 4,
        num_workers: int = 2,
        num_val: int = 4,
        val_root: str | None = None,
        seed: int = 0,
        max_image_pixels: int | None = 89_478_485,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        limits = {"image_size": (image_size, 16), "batch_size": (batch_size, 1)}
        limits |= {"num_workers": (num_workers, 0), "num_val": (num_val, 0)}
        limits |= {"max_image_pixels": (max_image_pixels or 0, 0)}  # (a negative one refused every photo as over it)
        bad = [f"data.{k}={v} (at least {least})" for k, (v, least) in limits.items() if v < least]
        if bad:
            raise UserError(f"bad data settings: {', '.join(bad)}")
        for key, folder in (("root", root), ("val_root", val_root)):  # (data.root=$PHOTOS, the variable unset)
            if folder is not None and not str(folder).strip():  # Path("") is the current folder: its photos trained
                other = ", or leave it out to hold out photos of data.root" if key == "val_root" else ""
                raise UserError(
                    f"data.{key} is empty (an unset shell variable?): set data.{key}=path/to/photos (a folder of "
                    f"photos){other}"
                )
        self.root, self.val_root = root, val_root
        self.image_size, self.batch_size, self.num_workers = image_size, batch_size, num_workers
        self.num_val, self.seed = num_val, seed
        # null or 0: no limit at all (Pillow's own, 89 MP, had applied: a folder of scans was skipped all the same)
        self.max_image_pixels = max_image_pixels or math.inf
        self.cache_dir = cache_dir
        self.train_files: list[Path] = []
        self.val_files: list[Path] = []
        self._train_loader: DataLoader | None = None  # the loader training iterates (its place kept in checkpoints)
        self._loader_state: dict[str, Any] | None = None  # a checkpoint's copy of that place, for the next loader

    @staticmethod
    def _images_in(folder: str, what: str) -> list[Path]:
        path = Path(folder).expanduser()
        key = "data.root" if what == "data" else "data.val_root"
        if not path.is_dir():
            problem = "is a file, not a folder" if path.exists() else "does not exist"
            raise UserError(
                f"{what} folder '{folder}' {problem}: set {key}=path/to/photos (a folder of photos){_coco_hint(path)}"
            )
        files = find_images(path)
        if not files:
            raise UserError(
                f"{what} folder '{folder}' holds no photos ({', '.join(IMAGE_EXTENSIONS)}): set {key} to a "
                "folder of photos"
            )
        return _one_name_each(files)

    def _readable(self, candidates: list[Path], count: int) -> tuple[list[Path], set[Path]]:
        """The first `count` of `candidates` that can be read, and those found unreadable on the way (each named).
        Checked here, on every process alike: under DDP, a rank whose validation batch came out empty logged
        nothing and the others waited for it for ever. At most `count` + 20 are tried."""
        readable: list[Path] = []
        unreadable: dict[Path, str] = {}  # each with why
        check = ImageFolder(candidates[: count + 20], 16, False, self.max_image_pixels)
        for i in range(len(check)):
            if len(readable) == count:
                break
            if isinstance(item := check[i], Unreadable):
                log.warning("skipping unreadable image %s (%s)", item.path, item.reason)
                unreadable[candidates[i]] = item.reason
            else:
                readable.append(candidates[i])
        return readable, unreadable

    def _cache_pairs(self, train: list[Path] | None = None, val: list[Path] | None = None) -> list[tuple[Path, Path]]:
        args = (self.cache_dir, self.image_size)
        pairs = cached_copies(self.root, self._images_in(self.root, "data") if train is None else train, *args)
        if self.val_root:
            val = self._images_in(self.val_root, "validation")[: self.num_val] if val is None else val
            pairs += cached_copies(self.val_root, val, *args)
        return pairs

    def prepare_data(self) -> None:
        """Fill the resized-photo cache (Lightning calls this on one process per node before `setup`)."""
        if not self.cache_dir:
            return
        fill_cache(self._cache_pairs(), self.image_size, self.max_image_pixels, self.num_workers, self.cache_dir)

    def setup(self, stage: str | None = None) -> None:
        if self.train_files:
            return
        files = self._images_in(self.root, "data")
        order = list(range(len(files)))
        random.Random(self.seed).shuffle(order)
        if not self.val_root and self.num_val and len(files) - self.num_val < self.batch_size <= len(files):
            kept = max(0, len(files) - self.num_val)  # (else: batch_size's own message below)
            raise UserError(
                f"data.num_val={self.num_val} would hold out all but {kept} of the {counted(len(files), 'photo')} "
                f"in '{self.root}', fewer than a batch (data.batch_size={self.batch_size}): lower data.num_val or "
                "data.batch_size, or set data.val_root to a folder of validation photos"  # (it said not why)
            )
        # the first readable photos of the shuffled order (at least one is looked for, held out or not): an
        # unreadable one picked had left no validation at all; an unreadable one is left out of training too (it
        # was named once); every one tried unreadable was found only at the first epoch's end, after steps that
        # trained nothing were counted and checkpointed
        held_out = 0 if self.val_root else self.num_val
        picked, unreadable = self._readable([files[i] for i in order], max(held_out, 1))
        if not picked and unreadable and len(unreadable) < len(files):  # every one tried (at random) unreadable
            raise UserError(
                f"none of the {len(unreadable)} photos tried in '{self.root}' (of {len(files)}, in a random "
                f"order) could be read (named in the warnings above): {what_to_do(unreadable.values())}"
            )
        chosen = set(picked[:held_out])
        if self.val_root:
            candidates = self._images_in(self.val_root, "validation")
            self.val_files, unreadable_val = self._readable(candidates, self.num_val)
            if not self.val_files and self.num_val:  # (it trained on, without validation or a word)
                raise UserError(
                    f"none of the photos tried in data.val_root '{self.val_root}' could be read (named in the "
                    f"warnings above): {what_to_do(unreadable_val.values(), 'data.val_root')}"
                )
            # not trained on: a val_root inside root (photos/val/) whole, else (root itself, or a folder above it)
            # the photos it holds out
            val, root = (Path(folder).expanduser().resolve() for folder in (self.val_root, self.root))
            held = {_identity(f) for f in (candidates if val != root and val.is_relative_to(root) else self.val_files)}
            files = [f for f in files if _identity(f) not in held]
            if not files:  # (it said "0 training images, fewer than batch_size=1: lower data.batch_size")
                raise UserError(
                    f"data.val_root '{self.val_root}' holds every photo of data.root '{self.root}' (a folder inside "
                    "data.root is held out whole): point data.val_root at a folder beside the training photos "
                    "(photos/val beside photos/train), or leave it out to hold out data.num_val photos of data.root"
                )
        else:
            self.val_files = [f for f in files if f in chosen]
        self.train_files = [f for f in files if f not in chosen and f not in unreadable]
        if not self.train_files and unreadable and len(unreadable) == len(files):
            none = "the only photo" if len(files) == 1 else f"none of the {len(files)} photos"
            could = "could not" if len(files) == 1 else "could"
            raise UserError(
                f"{none} in '{self.root}' {could} be read (named in the warnings above): "
                f"{what_to_do(unreadable.values())}"
            )
        if not self.train_files and unreadable:
            raise UserError(
                f"data folder '{self.root}' has {len(files)} photos, {len(unreadable)} of them unreadable (named in "
                f"the warnings above), and data.num_val={self.num_val} holds out all the readable ones for "
                "validation: add photos, or lower data.num_val"
            )
        if len(self.train_files) < self.batch_size:
            if not self.train_files and not self.val_root:  # lowering the batch alone met the hold-out's refusal
                raise UserError(
                    f"data folder '{self.root}' has {counted(len(files), 'photo')} and data.num_val={self.num_val} "
                    f"holds {'it' if len(files) == 1 else 'them all'} out for validation: lower data.num_val (and "
                    "data.batch_size to at most the photos left for training), or add photos"
                )
            left_out = f" ({len(unreadable)} unreadable left out, named in the warnings above)" if unreadable else ""
            raise UserError(
                f"data folder '{self.root}' has {counted(len(self.train_files), 'training image')}{left_out}, fewer "
                f"than batch_size={self.batch_size}: add images or lower data.batch_size"
            )
        world = self.trainer.world_size if self.trainer is not None else 1
        if len(self.train_files) < self.batch_size * world:  # DDP: each process a batch of its own (it trained none)
            fewer = (
                f"add images or lower data.batch_size to at most {len(self.train_files) // world}"
                if len(self.train_files) >= world
                else f"have at least {world * self.batch_size} training images (a batch for each process), or "
                "train on fewer processes (trainer.devices)"
            )
            raise UserError(
                f"data folder '{self.root}' has {counted(len(self.train_files), 'training image')}, fewer than one "
                f"batch for each of the {world} processes (data.batch_size={self.batch_size} each): {fewer}"
            )
        self._photos, self._held_out = [f for f in files if f not in unreadable], list(self.val_files)
        self.left_out = {str(f) for f in unreadable}  # found unreadable here: in the count at the run's end too
        self._read_cached_copies()
        log.info(
            "data: %s, %d held out for validation%s",
            counted(len(self.train_files), "training image"),
            len(self.val_files),
            # (the HParams tab's figures are the held-out photos' under common weights: the training batches' own,
            # under each run's weights and of one batch, would rank a sweep's runs by their weights)
            ""
            if self.val_files
            else " (none: TensorBoard gets no val/* curves, image grids or HParams; data.num_val=N holds N out)",
        )

    def _read_cached_copies(self) -> None:
        if self.cache_dir:  # read the cached copy where there is one (unreadable photos have none)
            copies = dict(self._cache_pairs(self._photos, self.val_files if self.val_root else None))
            self.train_files = [c if (c := copies[f]).exists() else f for f in self.train_files]
            self.val_files = [c if (c := copies[f]).exists() else f for f in self.val_files]

    def state_dict(self) -> dict[str, Any]:
        """The photos of data.root held out for validation, kept in the checkpoint: a resume holds out the same
        ones (a photo added or removed meanwhile drew another set, photos already trained on among it). And the
        training loader's place, which Lightning keeps too but restores only within an unfinished epoch: a run of
        trainer.max_epochs continued to more trained its next epoch on epoch 0's order and crops again. And the
        crops' size and the batch size, which a resume with others is told of (`load_state_dict`)."""
        state: dict[str, Any] = {"image_size": self.image_size, "batch_size": self.batch_size}
        if self._train_loader is not None:
            state["loader"] = self._train_loader.state_dict()
        if self.val_root or not getattr(self, "_held_out", None):
            return state
        root = Path(self.root).expanduser()
        return {**state, "held_out": [f.relative_to(root).as_posix() for f in self._held_out]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """After `setup` (Lightning restores a datamodule then): the checkpoint's held-out photos, those still
        there; the others train. The loader's place waits for the loader (`_loader`). Another data.image_size or
        data.batch_size than the checkpoint's trains on at the new one, said (the style model written records the
        new image_size alone, though the steps before trained at the old one)."""
        self._loader_state = state.get("loader")
        changed = [k for k in ("image_size", "batch_size") if state.get(k) is not None and state[k] != getattr(self, k)]
        if changed and self.says_resumed_sizes:
            log.warning(
                "resumed with %s where the checkpoint's run trained with %s: the steps from here train with "
                "the new one%s (resume with the old to keep %s)",
                ", ".join(f"data.{k}={getattr(self, k)}" for k in changed),
                ", ".join(f"data.{k}={state[k]}" for k in changed),
                "s" if len(changed) > 1 else "",
                "them" if len(changed) > 1 else "it",
            )
        names = state.get("held_out")
        if not names or self.val_root or not getattr(self, "_photos", None):
            return
        if not self.num_val:  # validation off: none held out, none drawn (it said "the held-out photos are drawn")
            log.warning(
                "data.num_val=0, the checkpoint held out %d: validation is off from here on, and %s train too",
                len(names),
                "that photo" if len(names) == 1 else "those photos",
            )
            return
        if len(names) != self.num_val:  # asked for another count: this launch's own draw
            log.warning(
                "data.num_val=%d, the checkpoint held out %d: the held-out photos are drawn again (some of them may "
                "have been trained on)",
                self.num_val,
                len(names),
            )
            return
        root = Path(self.root).expanduser()
        by_name = {f.relative_to(root).as_posix(): f for f in self._photos}
        held = [by_name[n] for n in names if n in by_name]
        if held == self._held_out:
            return
        if not held:  # (none left: this launch's own choice; it said "validating on the 0 left")
            log.warning(
                "%s gone from data.root: the held-out photos are drawn again (some of them may have been trained on)",
                "the photo held out for validation is"
                if len(names) == 1
                else f"the {len(names)} photos held out for validation are",
            )
            return
        if len(held) < len(names):  # (one: "1 of the 2 photos ... are gone")
            log.warning(
                "%d of the %d photos held out for validation %s gone from data.root: validating on the %d left",
                len(names) - len(held),
                len(names),
                "is" if len(names) - len(held) == 1 else "are",
                len(held),
            )
        self._held_out, self.val_files = held, list(held)
        self.train_files = [f for f in self._photos if f not in set(held)]
        self._read_cached_copies()
        n = len(self.train_files)
        log.info("data: %d training images, %d held out for validation (the checkpoint's)", n, len(held))

    def _loader(self, dataset: Dataset, train: bool) -> DataLoader:
        # the training loader's place in its epoch (the shuffled order and how far it got) is saved in every
        # checkpoint, so a run resumed mid-epoch trains on that epoch's remaining photos, not the first ones again
        loader = _TrainLoader if train else DataLoader
        if self.num_workers > 0 and not _EXIT_GUARD:
            _EXIT_GUARD.append(atexit.register(_kill_workers_left))
        sampler = None
        if train and torch.distributed.is_available() and torch.distributed.is_initialized():
            # several processes (DDP): a sampler whose shuffled order the checkpoint keeps (Lightning's own
            # distributed wrapper keeps none: a resume drew a new order and skipped as many photos of it)
            sampler = StatefulDistributedSampler(dataset, shuffle=True, seed=self.seed, drop_last=True)
        made = loader(
            dataset,
            batch_size=self.batch_size,
            shuffle=train and sampler is None,
            sampler=sampler,
            drop_last=train,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
            collate_fn=collate_skipping,
            worker_init_fn=init_worker,
        )
        if train:
            self._train_loader, saved, self._loader_state = made, self._loader_state, None
            fit = self.trainer.fit_loop if self.trainer is not None else None
            # (a checkpoint's counts, on a resume: its epoch ended at its last batch, not at trainer.max_steps)
            epochs = fit.epoch_progress.total if fit is not None else None
            ended = epochs is not None and epochs.ready == epochs.started == epochs.processed == epochs.completed + 1
            ended = ended and fit.epoch_loop.batch_progress.is_last_batch
            # an ended epoch's place, which Lightning restores itself: a rest trainer.limit_train_batches left out
            # was trained on after a resume (and the epoch curve fell one behind)
            made.pass_over_the_rest = ended and fit.restarting
            # a finished epoch's place (a run counted in epochs): Lightning restores it only within an epoch
            if saved is not None and fit is not None and not fit.restarting:
                made.load_state_dict(saved)  # (refused with a warning where it cannot fit: fewer photos, ...)
                if ended or _batches_given(made.state_dict()) >= len(made):  # its rest (empty, or left out by
                    made.finish_the_epoch()  # trainer.limit_train_batches) read and dropped
        return made

    def train_dataloader(self) -> DataLoader:
        return self._loader(ImageFolder(self.train_files, self.image_size, True, self.max_image_pixels), train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(ImageFolder(self.val_files, self.image_size, False, self.max_image_pixels), train=False)

    def val_images(self, count: int) -> torch.Tensor:
        """The first `count` validation images, (N, 3, S, S): the fixed set shown in image grids."""
        ds = ImageFolder(self.val_files[:count], self.image_size, False, self.max_image_pixels)
        images = [x for x in (ds[i] for i in range(len(ds))) if isinstance(x, torch.Tensor)]
        return torch.stack(images) if images else torch.empty(0, 3, self.image_size, self.image_size)
