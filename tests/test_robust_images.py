"""Property tests: whatever bytes sit in a photo folder, loading never crashes a run or the CLI."""

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from fast_style.cli.stylize import main as stylize_main
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model
from fast_style.training.data import ImageFolder, Unreadable

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PIL warns about the damaged files

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"]
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tif": "TIFF", "bmp": "BMP", "gif": "GIF", "avif": "AVIF"}


@st.composite
def image_files(draw) -> tuple[bytes, str, bool]:
    """(file contents, extension, whether it is intact)."""
    mode = draw(st.sampled_from(MODES))
    ext = draw(st.sampled_from(sorted(FORMATS)))
    w, h = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**16))
    arr = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr, "RGB").convert(mode)
    if mode == "F":  # 0..1, as float pictures hold (a dark one converted, 0..16 of 0..255, is refused as HDR's)
        img = Image.fromarray(np.asarray(img) / 255)
    buf = io.BytesIO()
    try:
        img.save(buf, FORMATS[ext])
    except (OSError, ValueError, KeyError):  # this format cannot hold this mode: store it as TIFF
        ext, buf = "tif", io.BytesIO()
        img.save(buf, "TIFF")
    data = buf.getvalue()
    damage = draw(st.sampled_from(["none", "truncate", "flip", "empty", "garbage"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    elif damage == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    elif damage == "empty":
        data = b""
    elif damage == "garbage":
        data = draw(st.binary(max_size=64))
    return data, ext, damage == "none"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=image_files())
def test_training_loader_returns_a_crop_or_skips(tmp_path: Path, file: tuple[bytes, str, bool]) -> None:
    data, ext, intact = file
    path = tmp_path / f"x.{ext}"
    path.write_bytes(data)
    sample = ImageFolder([path], image_size=16, train=True)[0]
    assert isinstance(sample, torch.Tensor) or not intact  # every intact image, whatever its mode, becomes a crop
    assert isinstance(sample, Unreadable) or (sample.shape == (3, 16, 16) and 0 <= sample.min() and sample.max() <= 1)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path_factory.mktemp("m") / "m.pt")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=image_files())
def test_cli_stylizes_or_reports_in_one_line(
    tmp_path: Path, model: Path, file: tuple[bytes, str, bool], capsys: pytest.CaptureFixture
) -> None:
    data, ext, intact = file
    src = tmp_path / f"in.{ext}"
    src.write_bytes(data)
    out = tmp_path / f"out.{ext}"
    code = stylize_main([str(src), "-m", str(model), "-o", str(out), "--force", "-q"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 0 or not intact, err  # every intact image, whatever its mode and size, is stylized
    if code == 0:
        with Image.open(out) as img:
            img.load()
    else:
        assert code == 2 and "error: " in err  # its only input failed: a mistake to fix, nothing written


def test_an_empty_file_is_called_empty_wherever_it_is_read(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    """A file of 0 bytes (a copy or download that failed) was "cannot identify image file" (Pillow) or "Invalid
    data found when processing input" (FFmpeg)."""
    from fast_style.errors import UserError
    from fast_style.evaluation.photos import load_photos
    from fast_style.inference.stylizer import Stylizer
    from fast_style.perceptual.style_image import load_style_image

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(folder / "a.jpg")
    for name in ("b.jpg", "c.png", "clip.mp4"):
        (folder / name).write_bytes(b"")
    assert stylize_main([str(folder), "-m", str(model), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    for name in ("b.jpg", "c.png"):
        assert f"error: {folder / name}: an empty file (0 bytes)" in err
    assert f"error: cannot read video {folder / 'clip.mp4'}: an empty file (0 bytes)" in err
    with pytest.raises(UserError, match=r"^cannot read .*b\.jpg: an empty file \(0 bytes\)$"):
        Stylizer.load(model)(folder / "b.jpg")
    with pytest.raises(UserError, match=r"^cannot read style image .*c\.png: an empty file \(0 bytes\)$"):
        load_style_image(str(folder / "c.png"), 32)
    assert ImageFolder([folder / "b.jpg"], image_size=16, train=True)[0].reason == "an empty file (0 bytes)"
    load_photos([str(folder)], 32)
    assert f"skipping {folder / 'c.png'}: an empty file (0 bytes)" in caplog.text


def test_a_cut_short_picture_is_called_one_and_the_remedy_named(tmp_path: Path, model: Path) -> None:
    """A JPEG or PNG cut short (an unfinished copy) was Pillow's "Truncated File Read" or "image file is truncated",
    naming no remedy."""
    from fast_style.errors import UserError
    from fast_style.inference.stylizer import Stylizer
    from fast_style.perceptual.style_image import load_style_image

    arr = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    for ext, keep in (("jpg", 200), ("jpg", 5000), ("png", 5000)):
        whole = io.BytesIO()
        Image.fromarray(arr).save(whole, FORMATS[ext])
        cut = tmp_path / f"cut{keep}.{ext}"
        cut.write_bytes(whole.getvalue()[:keep])
        remedy = r": the file ends early \(an unfinished copy or download\?\): copy it again$"
        with pytest.raises(UserError, match=r"^cannot read style image .*" + remedy):
            load_style_image(str(cut), 32)
        with pytest.raises(UserError, match=r"^cannot read .*" + remedy):
            Stylizer.load(model)(cut)
        assert (
            ImageFolder([cut], image_size=16, train=True)[0].reason
            == "the file ends early (an unfinished copy or download?): copy it again"
        )


def test_a_pytorch_file_where_a_picture_goes_is_called_one(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture
) -> None:
    """fast-style-optimize -s wave.pt (a style model for the painting) said "cannot identify image file 'wave.pt'"."""
    from fast_style.cli.optimize import main as optimize_main
    from fast_style.errors import UserError
    from fast_style.media.images import read_image
    from fast_style.perceptual.style_image import load_style_image

    photo = tmp_path / "p.jpg"
    Image.new("RGB", (40, 30), (200, 100, 50)).save(photo)
    said = "a PyTorch file (a style model, weights or a checkpoint), not a picture: give an image file"
    with pytest.raises(UserError, match=rf"^cannot read style image .*\.pt: {re.escape(said)}$"):
        load_style_image(str(model), 32)
    assert optimize_main([str(model), "-s", str(photo), "-o", str(tmp_path / "o.png"), "--size", "32"]) == 2
    assert capsys.readouterr().err == f"error: cannot read {model}: {said}\n"
    (tmp_path / "misnamed.pt").write_bytes(photo.read_bytes())  # a picture under that name: a picture
    assert read_image(tmp_path / "misnamed.pt").size == (40, 30)
