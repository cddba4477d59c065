"""Many files through one Stylizer: each planned (input, output) pair in turn, images and videos, every failure
reported in one line and the rest carried on; a full disk stops the batch (every later file would fail too)."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from fast_style.atomic import DiskError
from fast_style.errors import UserError, first_line, out_of_memory, setting
from fast_style.file_kinds import is_video
from fast_style.inference_defaults import DEFAULT_TILE, RUNS_WHOLE_UP_TO
from fast_style.media.animation import ANIMATED_OUTPUTS, frame_count, stylize_animation
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import page_count, read_image, save_image, unreadable_because
from fast_style.media.video import stylize_video, video_or_sound_instead
from fast_style.outputs import check_output

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    images: int = 0  # still pictures
    videos: int = 0
    frames: int = 0  # of the videos
    animations: int = 0  # GIFs, WebPs, APNGs and AVIFs written as animations (they had been counted as images)
    animation_frames: int = 0
    megapixels: float = 0.0  # of every image, video frame and animation frame written
    seconds: float = 0.0
    failed: int = 0
    stopped: bool = False  # by a full disk (or quota, read-only): the files after it were not tried

    @property
    def written(self) -> int:
        """The inputs stylized and written: pictures, animations and videos."""
        return self.images + self.animations + self.videos


def stylize_files(
    plans: list[tuple[Path, Path]],
    stylize: Callable[[list[Image.Image]], list[Image.Image]],
    force: bool = False,
    quality: int = 95,
    on_error: Callable[[str], None] = print,
    progress: Callable[[list], list] = lambda items: items,
    stylize_frames: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str = "cpu",
    video_batch: int | None = None,
    smooth: float = 0.0,
    frame_progress: bool = False,
    video_preset: str = "medium",
    report: BatchReport | None = None,
) -> BatchReport:
    """Stylize each input of `plans` into its output (never over an input, nor over an existing file without
    `force`). `stylize` takes a list of images and returns as many; `stylize_frames` takes a video's frames on
    `device` (`video_batch` at a time; fast_style.media.video.stylize_video, whose `smooth`, `progress` and `preset` are
    `smooth`, `frame_progress` and `video_preset`); an animation's frames go to `stylize` `video_batch` at a time
    too (None: fast_style.media.animation's 8), under the same bar of frames (`frame_progress`). `on_error` gets one
    line per failure; `progress` may wrap the list (a progress bar). `report`: filled as the files are done (so a caller
    stopped by Ctrl-C can say how far it came), returned."""
    report = BatchReport() if report is None else report
    inputs = {src.resolve() for src, _ in plans}

    def count(width: int, height: int) -> None:
        report.megapixels += width * height / 1e6

    start = time.perf_counter()
    for src, dst in progress(plans):
        try:
            check_output(dst, force, inputs, named=False)  # (a file in a folder, as plan_outputs names it)
            if is_video(src):
                if stylize_frames is None:
                    raise ValueError("videos need stylize_frames")
                before = report.megapixels
                try:
                    report.frames += stylize_video(
                        src,
                        dst,
                        stylize_frames,
                        on_frame=count,
                        batch_size=video_batch,
                        smooth=smooth,
                        progress=frame_progress,
                        device=device,
                        preset=video_preset,
                        force=force,
                    )
                except BaseException:  # not written: its frames are not counted (a full disk's summary had them)
                    report.megapixels = before
                    raise
                report.videos += 1
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)  # over the limit: refuse
                if (frames := frame_count(src)) > 1 and dst.suffix.lower() in ANIMATED_OUTPUTS:
                    count_frames, width, height = stylize_animation(
                        src, dst, stylize, quality, force, smooth, video_batch, frame_progress
                    )
                    report.animations += 1
                    report.animation_frames += count_frames
                    count(width * height * count_frames, 1)
                    continue
                source = read_image(src)  # (an animation above reads its own frames)
            if frames > 1:
                log.warning(
                    "%s: an animation of %d frames: only the first is written to %s (%s keep the whole animation)",
                    src.name,
                    frames,
                    dst.suffix,
                    ", ".join(ANIMATED_OUTPUTS),
                )
            elif (pages := page_count(src)) > 1:  # (without a word; also a TIFF named otherwise)
                log.warning("%s: a TIFF of %d pages: only the first is stylized", src.name, pages)
            out = stylize([source])[0]
            save_image(out, dst, source, quality, overwrite=force)
            report.images += 1
            count(*out.size)
        except DiskError as e:
            report.failed += 1
            report.stopped = True
            on_error(f"error: {e}; stopped")
            break
        except (UserError, OSError, ValueError, *BOMB) as e:
            report.failed += 1
            if isinstance(e, BOMB):  # Pillow names 2x
                message = over_the_bomb_limit()
            else:
                message = first_line(e, 300) if isinstance(e, UserError) else unreadable_because(src, e, 300)
            if isinstance(e, UnidentifiedImageError) and (instead := video_or_sound_instead(src)):
                message = instead  # (not Pillow's "cannot identify image file")
            on_error(f"error: {message}" if isinstance(e, UserError) else f"error: {src}: {message}")
        except RuntimeError as e:
            if not out_of_memory(e):
                raise
            report.failed += 1
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # the next file starts with the memory this one held
            on_error(
                f"error: {src}: out of memory: stylize it in tiles ({setting('--tile', 'tile', DEFAULT_TILE)}: "
                f"pictures over {RUNS_WHOLE_UP_TO}), smaller ({setting('--max-size', 'max_size')}) or, for a video "
                "or an animation, fewer frames at a time "
                f"({setting('--batch-size', 'video_batch', 1)})"
            )
        finally:  # (so far: a caller stopped after the last file says how long they took)
            report.seconds = time.perf_counter() - start
    return report
