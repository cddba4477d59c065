"""The Python API used as a notebook user would, carelessly too: each mistake one UserError (or a TypeError for a
programming one) naming what to do, never a deep traceback from torch, Pillow, PyAV or omegaconf."""

import copy
import io
import math
import pickle
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style import zoo
from fast_style.errors import UserError
from fast_style.evaluation.evaluate import evaluate
from fast_style.evaluation.models import find_models
from fast_style.evaluation.photos import load_photos
from fast_style.evaluation.reports import write_reports
from fast_style.inference.stylizer import Stylizer
from fast_style.model.export import export
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model, save_style_model
from fast_style.serving.server import Limits, Styles
from fast_style.training.consistency import ConsistencyLoss

from .conftest import make_photo


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    return save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "m.pt")


def test_a_bool_is_no_strength_numpy_s_and_torch_s_included(model_path: Path, tmp_path: Path) -> None:
    """strength=True was refused, np.True_ and torch.tensor(True) taken as 1.0 (check_number's rule: no bools)."""
    import numpy as np

    s = Stylizer.load(model_path, device="cpu")
    for yes in (True, np.True_, torch.tensor(True)):
        with pytest.raises(TypeError, match=r"^strength must be within 0..1 .*, not (True|np.True_|tensor\(True\))$"):
            s(torch.rand(3, 16, 16), strength=yes)
        with pytest.raises(TypeError, match=r"^tile must be a whole number of pixels >= 64, not"):
            Stylizer(s.network, "cpu", "fp32", tile=yes)
    assert s(torch.rand(3, 16, 16), strength=np.float32(0.5)).shape == (3, 16, 16)
    # a number's value, not its type: a UserError, as check_number's (it had been a TypeError here alone)
    with pytest.raises(UserError, match=r"^strength must be within 0..1 \(0: the photo, 1: the full style\), got nan$"):
        s(torch.rand(3, 16, 16), strength=float("nan"))
    # one rule (numbers.check_number) for the options and every other setting: np.complex128(0.5+1j) had been taken
    # as strength 0.5 (its imaginary part dropped), a tensor's temporal.weight refused where a tensor's strength was not
    with pytest.raises(TypeError, match=r"^strength must be within 0..1 .*, not np.complex128\(0.5\+1j\)$"):
        s(torch.rand(3, 16, 16), strength=np.complex128(0.5 + 1j))
    term = ConsistencyLoss(torch.tensor(2.0), max_shift=np.array([3]))
    assert (term.weight, term.max_shift, type(term.max_shift)) == (2.0, 3, int)


def test_a_number_beyond_a_float_s_range_is_the_rule_s_user_error() -> None:
    """10**400 (or a Fraction of it) for a setting that is used as a float raised OverflowError: "int too large to
    convert to float"; it is beyond every finite range, as 1e400 is, and said by its power of ten (10**5000's digits
    are more than Python writes)."""
    from fractions import Fraction

    from fast_style.numbers import check_number
    from fast_style.options import as_number

    for huge, said in (
        (10**400, r"1e\+400$"),
        (-(10**5000), r"-1e\+5000$"),
        (9999 * 10**396, r"1e\+400$"),  # (9.999e+399 to 3 digits: it had been "10e+399")
        (Fraction(10**400), r"1e\+400$"),  # (its repr's 400 digits had been said; 10**5000's a ValueError)
        (Fraction(-(10**5000), 3), r"-3\.33e\+4999$"),
    ):
        with pytest.raises(UserError, match=f"^temporal.weight must be a finite number >= 0, got {said}"):
            ConsistencyLoss(huge)
        assert as_number("x", huge) in (math.inf, -math.inf)
    assert check_number("n", 10**400, lambda v: v >= 1, "a whole number >= 1", integer=True) == 10**400  # (exact)


def test_the_options_whole_numbers_are_the_rule_s(model_path: Path) -> None:
    """max_size, tile and max_pixels are whole numbers by fast_style.numbers' rule: 10**400 is larger than any
    picture, no limit (it had been refused as "got inf", and raised OverflowError before); 100.0 is 100."""
    import numpy as np

    s = Stylizer.load(model_path, device="cpu", max_pixels=10**400, tile=np.float32(64.0))
    assert (s.max_pixels, s.tile, type(s.tile)) == (10**400, 64, int)
    assert s.stylize_image(Image.new("RGB", (20, 10)), max_size=10**400).size == (20, 10)
    assert s.stylize_image(Image.new("RGB", (20, 10)), max_size=10.0).size == (10, 5)
    with pytest.raises(UserError, match=r"^strength must be within 0..1 .*, got 1e\+400$"):
        s(torch.rand(3, 16, 16), strength=10**400)
    with pytest.raises(UserError, match=r"^max_size must be a whole number of pixels >= 1, got -1e\+400$"):
        s(Image.new("RGB", (20, 10)), max_size=-(10**400))


def test_images_closed_truncated_or_given_alone_are_named(model_path: Path, tmp_path: Path) -> None:
    s = Stylizer.load(model_path, device=None)  # None: as "auto" (torch's multi-line TypeError)
    assert Stylizer(s.network, None, "fp32").device == s.device  # ("unknown device 'None'")
    photo = make_photo(tmp_path / "p.jpg")
    with Image.open(photo) as im:
        pass
    with pytest.raises(UserError, match="p.jpg: it was closed"):  # Pillow's bare AssertionError
        s(im)
    im = Image.open(photo)
    im.close()
    with pytest.raises(UserError, match="p.jpg: it was closed"):  # ("Operation on closed image")
        s(im)
    whole = make_photo(tmp_path / "whole.jpg", (300, 200))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])  # its header whole: Image.open reads it
    with pytest.raises(UserError, match=r"cannot read the image .*cut.jpg: the file ends early \(an unfinished copy"):
        s(Image.open(cut))
    for one in (str(photo), torch.rand(2, 3, 8, 8)):  # "cannot read p" (its letters), or "not Tensor"
        with pytest.raises(TypeError, match="stylize_images takes a list of images, not one"):
            s.stylize_images(one)
    for none in (None, 5):  # Python's "'NoneType' object is not iterable"
        with pytest.raises(TypeError, match=rf"^stylize_images takes a list of images .*, not {type(none).__name__}: "):
            s.stylize_images(none)  # type: ignore[arg-type]
    # tensors are not among what stylize_images takes (the line above had said they were), nor stylize_image: "a
    # Stylizer takes a path, a PIL image or a tensor, not Tensor", and how to make a PIL image of an array
    with pytest.raises(TypeError, match=r"^stylize_images takes a list of images \(paths or PIL images\), not None"):
        s.stylize_images(None)  # type: ignore[arg-type]
    said = r"^stylize_image and stylize_images take paths or PIL images, not a tensor: stylize_tensor \(or the styl"
    for call in (lambda: s.stylize_images([torch.rand(3, 8, 8)] * 2), lambda: s.stylize_image(torch.rand(3, 8, 8))):
        with pytest.raises(TypeError, match=said):
            call()
    with pytest.raises(TypeError, match="apply to images"):
        s(torch.rand(3, 8, 8), max_size=0)  # ignored before (0 is falsy)
    # yes-or-no options are bools: a string was true (preserve_color="false" kept the colours, tiled="no" tiled)
    with pytest.raises(TypeError, match="preserve_color must be True or False"):
        s(photo, preserve_color="false")
    with pytest.raises(TypeError, match="preserve_color must be True or False"):
        s.stylize_frames(torch.rand(1, 3, 8, 8), preserve_color="no")
    with pytest.raises(TypeError, match=r"tiled must be True or False \(or None\)"):
        s(torch.rand(3, 8, 8), tiled="no")
    assert s(photo, preserve_color=None, tiled=torch.tensor(False)).size == Image.open(photo).size
    # frames resized first: fp16 ones on the CPU, and int64 ones, failed in torch's words (NotImplementedError)
    assert s.stylize_frames(torch.rand(2, 3, 16, 16, dtype=torch.float16), max_size=8).shape == (2, 3, 8, 8)
    with pytest.raises(UserError, match="float images in .0, 1. or uint8 ones, got torch.int64"):
        s.stylize_frames(torch.zeros(2, 3, 16, 16, dtype=torch.int64), max_size=8)


def test_an_onnx_runtime_stylizer_is_copied_and_pickled(model_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    s = Stylizer.load(model_path, backend="onnxruntime")
    for cpu in (None, "cpu:0"):  # the CPU, as the torch backend takes them ("device=None needs backend='torch'")
        assert Stylizer.load(model_path, device=cpu, backend="onnxruntime").device == torch.device("cpu")
    with pytest.raises(UserError, match="runs on the CPU in fp32: device='cuda' needs backend='torch'"):
        Stylizer.load(model_path, device="cuda", backend="onnxruntime")
    x = torch.rand(1, 3, 24, 24)
    for other in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):  # "cannot pickle 'InferenceSession'"
        assert other.session is not s.session
        torch.testing.assert_close(other(x), s(x))


def test_evaluations_takes_one_folder_or_model_alone_and_refuses_nothing_to_do(
    model_path: Path, tmp_path: Path
) -> None:
    make_photo(tmp_path / "photos" / "a.jpg")
    folder = tmp_path / "photos"
    assert [n for n, _ in load_photos(str(folder), 64)] == ["a.jpg"]  # it walked '/' letter by letter
    assert find_models(str(model_path)) == [model_path]
    for size in (0, -1, 2.5):  # a ZeroDivisionError; a warning per photo
        with pytest.raises(UserError, match="the photos' size must be a whole number of pixels >= 16"):
            load_photos([str(folder)], size)
    with pytest.raises(TypeError, match="the photos' size must be a whole number of pixels >= 16, not '64'"):
        load_photos([str(folder)], "64")  # no number: a TypeError, as every setting's
    import numpy as np

    assert [n for n, _ in load_photos(str(folder), np.int64(64))] == ["a.jpg"]  # (numpy's int had been refused)
    with pytest.raises(UserError, match="nothing to evaluate: no photos given"):
        evaluate([model_path], [])
    with pytest.raises(UserError, match="nothing to evaluate: no models given"):
        evaluate([], load_photos([str(folder)], 64))
    for options, said in (
        ({"rank_by": "nope"}, "rank_by 'nope': choose one of"),
        ({"sheet_cell": -1}, r"^sheet_cell must be a whole number of pixels within 32..4096 \(0: full size\), got -1$"),
    ):
        with pytest.raises(UserError, match=said):
            write_reports(tmp_path / "out", [], [], [], "caffe", **options)
    with pytest.raises(TypeError, match=r"^sheet_cell must be a whole number of pixels .*, not '64'$"):
        write_reports(tmp_path / "out", [], [], [], "caffe", sheet_cell="64")
    from fast_style.evaluation.contact_sheets import check_sheet_cell

    # numpy's whole numbers are taken as Python's, as every setting's (np.int64(64) was "give 32 to 4096 px")
    assert [(check_sheet_cell(n), type(check_sheet_cell(n))) for n in (np.int64(64), np.uint16(0))] == [
        (64, int),
        (0, int),
    ]
    # fast_style.numbers' rule, in its words (a numpy number had been said by its repr, 10**5000 a ValueError)
    for number, said in ((64.5, "64.5"), (np.int64(8), "8"), (10**5000, "1e+5000")):
        with pytest.raises(UserError, match=f"^sheet_cell must be a whole number of pixels .*, got {re.escape(said)}$"):
            check_sheet_cell(number)


def test_a_video_given_to_a_stylizer_names_the_video_call(model_path: Path, tmp_path: Path) -> None:
    import av
    import numpy as np

    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:  # "cannot identify image file": what to do was not said
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(2):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")))
        container.mux(stream.encode())
    s = Stylizer.load(model_path, device="cpu")
    with pytest.raises(UserError, match=r"clip.mp4 is a video, and a Stylizer stylizes pictures: .*stylize_video"):
        s(clip)
    (tmp_path / "notes.txt").write_text("x")  # neither: Pillow's own reason stays
    with pytest.raises(UserError, match="cannot read .*notes.txt: cannot identify image file"):
        s(str(tmp_path / "notes.txt"))


def test_an_animation_given_to_a_stylizer_says_one_frame_is_stylized(
    model_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The command line says "only the first is written"; the Python API returned the first frame without a word."""
    frames = [Image.new("RGB", (24, 24), c) for c in ("red", "green", "blue")]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "still.gif")
    s = Stylizer.load(model_path, device="cpu")
    with caplog.at_level("WARNING", logger="fast_style"):
        assert s(tmp_path / "a.gif").size == (24, 24)
        with Image.open(tmp_path / "a.gif") as opened:
            s(opened)
        s(tmp_path / "still.gif")
    said = [r.getMessage() for r in caplog.records if "animation" in r.getMessage()]
    assert len(said) == 2 and all("a.gif: an animation of 3 frames: a Stylizer stylizes one" in m for m in said)
    assert "stylize_animation(src, dst, stylizer.stylize_images)" in said[0]
    caplog.clear()  # a multi-page TIFF's pages went unsaid (fast-style-stylize, -optimize and -eval say them)
    frames[0].save(tmp_path / "scan.tif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "one.tif")
    with caplog.at_level("WARNING", logger="fast_style"):
        s(tmp_path / "scan.tif")
        with Image.open(tmp_path / "scan.tif") as opened:
            s(opened)
        s(tmp_path / "one.tif")
    said = [r.getMessage() for r in caplog.records]
    assert said == ["scan.tif: a TIFF of 3 pages: a Stylizer stylizes one (the first from a path)"] * 2, said


def test_export_takes_any_integral_opset(model_path: Path, tmp_path: Path) -> None:
    """numpy's int64 (a value read from an array, a config) was "opset must be a whole number, 11 to 23, got
    np.int64(17)"; any integral number is taken (not a bool), and checked against the range as an int."""
    import numpy as np

    with pytest.raises(UserError, match=r"^opset=5: choose 11 to 23"):
        export(str(model_path), str(tmp_path / "m.onnx"), opset=np.int32(5))
    assert export(str(model_path), str(tmp_path / "m.onnx"), opset=np.int64(17)).startswith("wrote ")
    assert (tmp_path / "m.onnx").stat().st_size


def test_server_limits_take_numpy_whole_numbers_as_pythons() -> None:
    """Limits(max_size=np.int64(600)) had been refused: "Limits.max_size must be a whole number >= 16, got
    np.int64(600)"; the limits are kept as Python's ints, numpy's bools refused."""
    import numpy as np

    limits = Limits(max_size=np.int64(600), waiting=np.uint8(2))
    assert (limits.max_size, limits.waiting) == (600, 2)
    assert (type(limits.max_size), type(limits.waiting)) == (int, int)
    with pytest.raises(TypeError, match="Limits.running must be a whole number >= 1, not np.True_"):
        Limits(running=np.True_)


def test_export_video_animation_server_and_zoo_settings_are_checked_first(model_path: Path, tmp_path: Path) -> None:
    from fast_style.media.animation import stylize_animation
    from fast_style.media.video import stylize_video

    # torch printed its whole graph, then an internal TypeError; no number is a TypeError, as every setting's
    for opset, error in ((17.5, UserError), ("17", TypeError), (True, TypeError)):
        with pytest.raises(error, match="^opset must be a whole number, 11 to 23"):
            export(str(model_path), str(tmp_path / "m.onnx"), opset=opset)
    clip = tmp_path / "c.mp4"
    clip.write_bytes(b"")
    for options, said in (
        ({"crf": 99}, "crf must be a whole number within 0..51"),  # x264's own limit; taken silently
        ({"device": "gpu"}, "unknown device 'gpu'"),  # torch's "Expected one of cpu, cuda, ipu, ..."
    ):
        with pytest.raises(UserError, match=said):
            stylize_video(clip, tmp_path / "o.mp4", lambda frames: frames, **options)
    with pytest.raises(TypeError, match="crf must be a whole number within 0..51 .*, not 'x'"):  # "cannot write: ..."
        stylize_video(clip, tmp_path / "o.mp4", lambda frames: frames, crf="x")
    make_photo(tmp_path / "still.jpg")  # a one-frame .mp4 was written without a word
    with pytest.raises(UserError, match=r"still.jpg is a still picture \(JPEG\), not a video: stylize it as one"):
        stylize_video(tmp_path / "still.jpg", tmp_path / "o.mp4", lambda frames: frames, device=None)  # None: auto
    assert not (tmp_path / "o.mp4").exists()
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF", save_all=True, append_images=[Image.new("RGB", (8, 8), "red")])
    (tmp_path / "a.gif").write_bytes(gif.getvalue())
    with pytest.raises(UserError, match="quality must be a whole number within 1..100"):  # after every frame
        stylize_animation(tmp_path / "a.gif", tmp_path / "o.webp", lambda frames: frames, quality=500)
    # an animation is one whatever its format: a GIF or an animated PNG had become an MP4 (FFmpeg reads them), an
    # animated WebP was refused (FFmpeg does not), and fast-style-stylize refuses all three as videos
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("black", "red")]
    frames[0].save(tmp_path / "a.webp", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "a.png", save_all=True, append_images=frames[1:])
    for name in ("a.gif", "a.webp", "a.png"):
        with pytest.raises(UserError, match=f"{name} is an animation of 2 frames .* not a video: .*stylize_animation"):
            stylize_video(tmp_path / name, tmp_path / "o.mp4", lambda frames: frames)
        assert not (tmp_path / "o.mp4").exists()
    for limits, said in (({"max_size": -5}, "Limits.max_size"), ({"running": 0}, "Limits.running")):
        with pytest.raises(UserError, match=f"{said} must be a whole number >="):  # a 500 per request; a ValueError
            Limits(**limits)
    (tmp_path / "models").mkdir()
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "models" / "mine.pt")
    assert "mine" in Styles(str(tmp_path / "models"), device="cpu").files  # a str: an AttributeError
    for empty in ("", " "):  # read as the current folder: " is a folder without a style.pt"
        with pytest.raises(UserError, match="no style model given"):
            zoo.resolve(empty)


def test_optimize_image_refuses_a_learning_rate_it_would_not_use(random_vgg) -> None:
    from fast_style.perceptual.loss import PerceptualLoss
    from fast_style.perceptual.optimize import optimize_image

    loss = PerceptualLoss(weights=str(random_vgg))
    loss.set_style(torch.rand(1, 3, 32, 32))
    for lr in (0, -1.0, float("nan"), math.inf):  # 0 stood for the default; -1 was torch's ValueError
        # (inf was refused as "a number > 0", fast-style-optimize's --lr inf as "a finite number > 0")
        with pytest.raises(UserError, match=r"^lr must be a finite number > 0, or None for the method's default"):
            optimize_image(torch.rand(1, 3, 32, 32), loss, 1, lr=lr)
    # the command's rule: 0 iterations gave the photo back, unoptimized, where fast-style-optimize refused 0
    with pytest.raises(UserError, match=r"^iterations must be a whole number >= 1, got 0$"):
        optimize_image(torch.rand(1, 3, 32, 32), loss, 0)
    image, history = optimize_image(torch.rand(1, 3, 32, 32), loss, 1, method="adam", lr=0.1)
    assert image.shape == (1, 3, 32, 32) and len(history) == 2


def test_a_rerun_of_a_large_folder_names_runs_and_limits_as_given(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from fast_style.outputs import is_an_input

    run = tmp_path / "runs" / "myrun"
    run.mkdir(parents=True)
    (run / "style.pt").write_bytes(model_path.read_bytes())
    monkeypatch.chdir(run)  # from inside the run's folder: {model} was "style"
    assert zoo.model_name(".") == zoo.model_name("style.pt") == "myrun"
    many = Stylizer.load(model_path, device="cpu", max_pixels=10**30)  # overflowed torch's split for every file
    assert many(torch.rand(2, 3, 16, 16)).shape == (2, 3, 16, 16)
    for folder in ("in", "out", "other"):
        (tmp_path / folder).mkdir()
    (tmp_path / "in" / "a.jpg").write_bytes(b"a")
    (tmp_path / "other" / "b.jpg").write_bytes(b"b")
    os.link(tmp_path / "in" / "a.jpg", tmp_path / "out" / "a.jpg")  # the input by another path
    os.link(tmp_path / "other" / "b.jpg", tmp_path / "out" / "b.jpg")
    first, second = {(tmp_path / "in" / "a.jpg").resolve()}, {(tmp_path / "other" / "b.jpg").resolve()}
    assert is_an_input(tmp_path / "out" / "a.jpg", first) and not is_an_input(tmp_path / "out" / "b.jpg", first)
    assert is_an_input(tmp_path / "out" / "b.jpg", second)  # another set: its own names (looked up, not scanned)


def test_folders_closed_to_the_user_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """A folder whose names can be read but not its files (mode 600), an input or -o inside a folder closed to
    the user: PermissionError tracebacks (as root here: the permission is refused by a stand-in for the kernel)."""
    from fast_style.inference.plan import expand_inputs, plan_outputs
    from fast_style.walk import files_below

    make_photo(tmp_path / "in" / "a.jpg")
    make_photo(tmp_path / "in" / "closed" / "b.jpg")
    real_is_file, real_is_dir = Path.is_file, Path.is_dir

    def closed(path: Path) -> bool:
        if "closed" in path.parts:
            raise PermissionError(13, "Permission denied", str(path))
        return False

    monkeypatch.setattr(Path, "is_file", lambda p: closed(p) or real_is_file(p))
    assert [f.name for f in files_below(tmp_path / "in", lambda name: True)] == ["a.jpg"]
    assert "closed: cannot read this folder (Permission denied): skipped" in caplog.text
    monkeypatch.setattr(Path, "is_dir", lambda p: closed(p) or real_is_dir(p))
    with pytest.raises(UserError, match="cannot read .*b.jpg: Permission denied \\(a folder above it is closed"):
        expand_inputs([str(tmp_path / "in" / "closed" / "b.jpg")])
    with pytest.raises(UserError, match="-o .*out: Permission denied: give a folder you can write in"):
        plan_outputs(
            [(tmp_path / "in" / "a.jpg", tmp_path / "in")], str(tmp_path / "closed" / "out"), "{stem}.{ext}", "s"
        )


def test_messages_name_the_python_argument_in_python_and_the_option_in_a_command(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The library's messages named command-line options to Python callers ("(--lr)", "use --force", "--name
    '{x}'"), to whom they mean nothing; a command still names its own options, as they are typed."""
    from fast_style.cli.stylize import main as stylize_main
    from fast_style.errors import setting
    from fast_style.inference.plan import check_name_pattern
    from fast_style.perceptual.optimize import optimize_image

    assert setting("--name", "name", "{stem} x.png") == "name='{stem} x.png'"
    assert setting("-o", "output", tmp_path) == f"output={str(tmp_path)!r}"  # a path as typed, not PosixPath(...)
    with pytest.raises(UserError, match=r"^lr must be a finite number > 0, or None"):
        optimize_image(torch.rand(1, 3, 16, 16), None, lr=-1)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"^bad name pattern '\{stem.upper\}'"):
        check_name_pattern("{stem.upper}")
    with pytest.raises(UserError, match=r"^strength must be within 0..1"):
        Stylizer.load(model_path, device="cpu")(make_photo(tmp_path / "p.jpg"), strength=2)
    photo = make_photo(tmp_path / "q.jpg")
    assert stylize_main([str(photo), "--model", str(model_path), "--name", "{stem.upper}", "-o", str(tmp_path)]) == 2
    assert "bad --name pattern '{stem.upper}'" in capsys.readouterr().err
    assert stylize_main([str(photo), "--model", str(model_path), "--name", "{stem}.txt", "-o", str(tmp_path)]) == 2
    assert "error: --name '{stem}.txt' gives q.txt for q.jpg" in capsys.readouterr().err
    assert stylize_main([str(photo), "--model", str(model_path), "--strength", "2", "-o", str(tmp_path)]) == 2
    assert "error: --strength must be within 0..1" in capsys.readouterr().err
    assert setting("--name", "name", "{stem} x.png") == "name='{stem} x.png'"  # the command's options are gone
    # (a review: "--force True replaces them", a flag given a value; ONNX told of TorchScript's .ts; "also takes")
    (tmp_path / "d").mkdir()
    make_photo(tmp_path / "d" / "a.png"), make_photo(tmp_path / "d" / "a_w.png")
    d = str(tmp_path / "d")
    assert stylize_main([d, "--model", str(model_path), "-o", d, "--name", "{stem}_w.{ext}", "--force", "-q"]) == 0
    assert "(an earlier run's output, " in caplog.text and "): --force replaces it\n" in caplog.text  # (one file)
    from fast_style.serving.host_names import allowed_hosts

    with pytest.raises(UserError, match="x.pt': .pt is a style model's extension; an ONNX export goes to a .onnx file"):
        export(str(model_path), str(tmp_path / "x.pt"), fmt="onnx")
    with pytest.raises(
        UserError, match=r"ends in \.xyz: an export goes to a \.onnx \(ONNX\) or \.ts \(TorchScript\) file: "
    ):
        export(str(model_path), str(tmp_path / "x.xyz"))  # (no fmt to name: an .xyz file is refused in either)
    with pytest.raises(UserError, match="^allowed_hosts takes a name, not a URL: give 'x.org'"):
        allowed_hosts("127.0.0.1", ["https://x.org"])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_picture_of_one_colour_comes_out_of_one_colour(precision: str) -> None:
    """Each norm layer multiplies a flat channel's rounding by up to 316: in bf16 a black frame or a blank page came
    out as coloured noise (channels spread over 100+ levels), and in float32 below 13 px."""
    s = Stylizer.load("wave", device="cpu", precision=precision)
    reference = Stylizer.load("wave", device="cpu", precision="fp32")(Image.new("RGB", (96, 64), "black"))
    for colour, size in [("white", (96, 64)), ((200, 30, 10), (96, 64)), ("black", (5, 4))]:
        out = torch.as_tensor(list(s(Image.new("RGB", size, colour)).getdata()))
        assert (out.amax(0) == out.amin(0)).all()  # one colour
        assert out[0].tolist() == list(reference.getpixel((0, 0)))  # the network's, whatever the colour in
    frames = torch.zeros(3, 3, 32, 48, dtype=torch.uint8)
    frames[1] = torch.randint(0, 256, (3, 32, 48))  # a batch with a picture among flat frames
    out = s.stylize_frames(frames, strength=0.5)
    assert (out[0] == out[0, :, :1, :1]).all() and (out[2] == out[0]).all() and out[1].float().std() > 0.02
    half = s.stylize_image(Image.new("RGB", (96, 64), "black"), strength=0.5).getpixel((0, 0))
    assert all(abs(h - r / 2) <= 1 for h, r in zip(half, reference.getpixel((0, 0))))  # halfway to black


def test_stylize_frames_reads_no_pixel_on_the_host() -> None:
    """A video's batch is launched while the one before still runs on the GPU (fast_style.media.video._Download): a
    value of its pixels read on the host (.tolist(), .item(), a tensor's truth) waits for that one. The check for
    pictures of one colour read the list of them, each batch."""
    from torch.overrides import TorchFunctionMode

    host = {"tolist", "item", "__bool__", "__int__", "__float__", "__index__", "nonzero", "numpy"}
    seen = []

    class Reads(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if getattr(func, "__name__", "") in host:
                seen.append(func.__name__)
            return func(*args, **(kwargs or {}))

    s = Stylizer.load("wave", device="cpu", precision="fp32")
    frames = torch.rand(3, 3, 24, 32)
    frames[1] = 0.25  # a flat frame among pictures
    reference = s.stylize_frames(frames, strength=0.5)
    with Reads():
        out = s.stylize_frames(frames, strength=0.5)
    assert not seen, seen
    assert torch.equal(out, reference) and (out[1] == out[1, :, :1, :1]).all() and out[0].std() > 0.02


def test_compile_and_meta_of_the_wrong_kind_are_refused(model_path: Path) -> None:
    # compile="no" had compiled (a string is truthy); meta=[1] failed in dict()'s words
    with pytest.raises(TypeError, match="compile must be True or False"):
        Stylizer.load(str(model_path), device="cpu", compile="no")
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    with pytest.raises(TypeError, match="compile must be True or False"):
        Stylizer(net, "cpu", "fp32", compile="no")
    with pytest.raises(TypeError, match="meta must be a dict"):
        Stylizer(net, "cpu", "fp32", meta=[1])
    assert Stylizer(net, "cpu", "fp32", compile=0, meta=None).meta == {}
    # Stylizer.load checks its settings in the constructor it passes them to, as Stylizer(...) does
    for bad, error, said in (
        ({"compile": "no"}, TypeError, "compile must be True or False"),
        ({"backend": "tensorrt"}, UserError, "unknown backend 'tensorrt': use torch or onnxruntime"),
        ({"backend": "onnxruntime", "device": "cuda"}, UserError, "device='cuda' needs backend='torch'"),
    ):
        with pytest.raises(error, match=said):
            Stylizer(net, **{"device": "cpu", "dtype": "auto", **bad})
        with pytest.raises(error, match=said):
            Stylizer.load(model_path, **bad)


def test_save_style_model_names_what_it_was_given_instead_of_a_network(tmp_path: Path) -> None:
    # each failed with an AttributeError ('tuple' object has no attribute 'state_dict') or in dict()'s words
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    path = save_style_model(net, tmp_path / "m.pt")
    loaded = load_style_model(str(path))
    # in a Stylizer's and interpolate's words (network.not_a_network: it said "save its [0]", "a Stylizer's is
    # stylizer.network" where a Stylizer said "pass its [0]", "pass its .network")
    with pytest.raises(
        TypeError, match=r"^save_style_model takes a TransformerNet, not tuple: load_style_model gives "
    ):
        save_style_model(loaded, tmp_path / "pair.pt")
    with pytest.raises(TypeError, match="not Stylizer: pass its .network$"):
        save_style_model(Stylizer(net, "cpu", "fp32"), tmp_path / "stylizer.pt")
    with pytest.raises(TypeError, match="not str 'wave': a file is copied as it is"):
        save_style_model("wave", tmp_path / "name.pt")
    with pytest.raises(TypeError, match="meta must be a dict"):
        save_style_model(net, tmp_path / "meta.pt", [1])
    assert not any(p.name != "m.pt" for p in tmp_path.iterdir())


def test_a_list_given_to_a_stylizer_names_stylize_images(model_path: Path, tmp_path: Path) -> None:
    # stylizer([img]) and stylize_animation(src, dst, stylizer) said "not list" and no more
    from fast_style.media.animation import stylize_animation

    stylizer = Stylizer.load(str(model_path), device="cpu", precision="fp32")
    frames = [Image.new("RGB", (16, 12), (i * 60, 90, 40)) for i in range(2)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(TypeError, match=r"not list: stylizer.stylize_images\(images\) takes a list"):
        stylizer(frames)
    with pytest.raises(TypeError, match=r"not list: stylizer.stylize_images\(images\) takes a list"):
        stylize_animation(tmp_path / "a.gif", tmp_path / "out.gif", stylizer)
    assert not (tmp_path / "out.gif").exists()


def test_evaluate_given_a_folder_for_its_photos_names_load_photos(model_path: Path) -> None:
    # a folder's path failed with "IndexError: string index out of range"
    for photos in ("photos/", ["photo.jpg"]):
        with pytest.raises(TypeError, match=r"photos must be a list of \(name, image tensor\) pairs, as load_photos"):
            evaluate([str(model_path)], photos, judge=False)  # type: ignore[arg-type]


def test_compile_with_the_onnxruntime_backend_is_refused(model_path: Path) -> None:
    # Stylizer.load(path, backend="onnxruntime", compile=True) left compile unused without a word (the CLI refuses it)
    pytest.importorskip("onnxruntime")
    with pytest.raises(UserError, match="compile=True needs backend='torch'"):
        Stylizer.load(str(model_path), backend="onnxruntime", compile=True)


def test_a_stylize_that_returns_tensors_for_an_animation_is_named(tmp_path: Path) -> None:
    # tensors back failed in the saving: "cannot unpack non-iterable builtin_function_or_method object"
    from torchvision.transforms.functional import pil_to_tensor

    from fast_style.media.animation import stylize_animation

    frames = [Image.new("RGB", (16, 12), (i * 60, 90, 40)) for i in range(2)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(TypeError, match="stylize returned a Tensor for a frame: it must return PIL images"):
        stylize_animation(tmp_path / "a.gif", tmp_path / "out.gif", lambda images: [pil_to_tensor(i) for i in images])
    assert not (tmp_path / "out.gif").exists()


def test_video_and_animation_check_their_callables_and_paths_first(tmp_path: Path) -> None:
    # stylize=None, on_frame=1: "'NoneType' object is not callable" once the file was open; a path of None: pathlib's
    # "expected str, bytes or os.PathLike object"; a stylize returning None: "object of type 'NoneType' has no len()"
    import numpy as np

    from fast_style.media.animation import stylize_animation
    from fast_style.media.video import stylize_video

    missing = tmp_path / "missing.mp4"  # never opened: the arguments are checked first
    for options, said in (
        ({"stylize": None}, r"^stylize must be a function taking \(N, 3, H, W\) frames .*, not None$"),
        ({"stylize": 1}, r"^stylize must be a function .*, not 1$"),
        ({"on_frame": 1}, r"^on_frame must be a function taking \(width, height\) \(or None\), not 1$"),
        ({"src": None}, r"^src is the video's path \(a str or a Path\), not None$"),
        ({"dst": None}, r"^dst is the stylized video's path \(a str or a Path\), not None$"),
        # said as every number is (fast_style.numbers.shown): 10**5000's repr was Python's ValueError, not this one
        ({"src": 10**5000}, r"^src is the video's path \(a str or a Path\), not 1e\+5000$"),
        ({"stylize": 10**400}, r"^stylize must be a function .*, not 1e\+400$"),
        # in fast_style.numbers.shown's words, as every setting's: a string as written (it had said "not str"), a
        # number as its value ("not float32"), anything else by its kind
        ({"stylize": "wave"}, r"^stylize must be a function .*, not 'wave'$"),
        ({"on_frame": np.float32(0.5)}, r"^on_frame must be a function .*, not 0.5$"),
        ({"src": [missing]}, r"^src is the video's path \(a str or a Path\), not list$"),
    ):
        given = {"src": missing, "dst": tmp_path / "o.mp4", "stylize": lambda frames: frames, **options}
        with pytest.raises(TypeError, match=said):
            stylize_video(**given)
    for options, said in (
        ({"stylize": None}, r"^stylize must be a function taking a list of images .*stylize_images\), not None$"),
        ({"src": None}, r"^src is the animation's path \(a str or a Path\), not None$"),
        ({"dst": 3}, r"^dst is the stylized animation's path \(a str or a Path\), not 3$"),
    ):
        given = {
            "src": tmp_path / "missing.gif",
            "dst": tmp_path / "o.gif",
            "stylize": lambda images: images,
            **options,
        }
        with pytest.raises(TypeError, match=said):
            stylize_animation(**given)
    frames = [Image.new("RGB", (16, 12), (i * 60, 90, 40)) for i in range(2)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(TypeError, match=r"^stylize returned None for 2 frames: it must return a list of PIL images"):
        stylize_animation(tmp_path / "a.gif", tmp_path / "out.gif", lambda images: None)
    assert not (tmp_path / "out.gif").exists()


def test_a_stylizer_refuses_a_module_that_is_no_style_network(model_path: Path) -> None:
    # torch.nn.Linear(3, 3) was taken, and failed at the first image in torch's words ("Expected size for first two
    # dimensions of batch2 tensor")
    net, _ = load_style_model(str(model_path))
    for module, said in (
        (torch.nn.Linear(3, 3), r"not Linear: build one \(fast_style.model.network.TransformerNet\)"),
        (torch.compile(net), r"not OptimizedModule: pass the network before torch.compile"),
        (Stylizer(net, "cpu", "fp32"), r"not Stylizer: pass its .network"),
        ((net, {}), r"not tuple: load_style_model gives \(network, meta\): pass its \[0\]"),
    ):
        with pytest.raises(TypeError, match=f"^Stylizer takes a fast_style TransformerNet, {said}"):
            Stylizer(module, "cpu", "fp32")


def test_a_style_model_is_not_written_under_a_picture_or_video_name(tmp_path: Path) -> None:
    # save_style_model(net, "x.png") wrote a model where a picture was expected (and callbacks.style_model.path=x.png
    # trained a whole run to write one)
    from fast_style.training.style_model_writer import StyleModelWriter

    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    # and under an export's (a torch file named x.onnx passed for an ONNX export, where fast-style-export refuses x.pt)
    exports = (("x.onnx", "an ONNX export"), ("x.ts", "a TorchScript export"))
    for name, kind in (("x.png", "a picture"), ("x.JPG", "a picture"), ("x.mp4", "a video"), *exports):
        # (in fast-style-export's words for an export so named: one predicate, one wording)
        said = f"x.{name[2:]}: .{name[2:]} is {kind}'s extension; "
        made = r" \(fast_style.model.export.export makes an export of it\)" if name in dict(exports) else ""
        with pytest.raises(UserError, match=f"{said}a style model goes to a .pt file, e.g. .*x.pt{made}$"):
            save_style_model(net, tmp_path / name)
        with pytest.raises(UserError, match=f"^callbacks.style_model.path: .*{said}"):
            StyleModelWriter(str(tmp_path / name))  # (said as callbacks.style_model.path)
    assert not any(tmp_path.iterdir())
    assert load_style_model(str(save_style_model(net, tmp_path / "x.pth")))[0].config == net.config


def test_stylizer_and_its_load_take_the_same_devices_and_precisions(model_path: Path) -> None:
    # Stylizer.load(precision=torch.float32) was "unknown precision 'torch.float32'" where Stylizer(...) took it, and
    # Stylizer(net, 0, ...) "unknown device '0'" where Stylizer.load(device=0) took it
    net, _ = load_style_model(str(model_path))

    def outcome(make, *args, **kwargs) -> tuple:
        try:
            s = make(*args, **kwargs)
        except (TypeError, UserError) as e:
            return type(e), str(e)
        return s.device, s.dtype

    for device, precision in (
        (torch.device("cpu"), torch.float32),
        ("cpu:0", torch.bfloat16),
        (None, "fp32"),
        (0, "fp32"),  # a GPU's index, as torch takes it (here: no CUDA GPU, said so by both)
        (True, "fp32"),
        ("cpu", torch.float16),
        ("cpu", torch.int32),
        ("cpu", None),
    ):
        made = outcome(Stylizer, net, device, precision)
        assert made == outcome(Stylizer.load, model_path, device=device, precision=precision), made
    assert outcome(Stylizer, net, "cpu", torch.float32) == (torch.device("cpu"), torch.float32)
    assert "unknown" not in str(outcome(Stylizer, net, 0, "fp32")[-1])
    with pytest.raises(TypeError, match=r"^device must be a name \(auto, cpu, cuda, cuda:N or mps\), a torch.device"):
        Stylizer(net, ["cpu"], "fp32")
    with pytest.raises(TypeError, match=r"^dtype must be one of torch.float32, .* \(or auto, fp32, bf16, fp16\), not"):
        Stylizer.load(model_path, device="cpu", precision=32)


def test_stylize_images_refuses_a_dict_or_a_set(model_path: Path, tmp_path: Path) -> None:
    # stylize_images({"a": img}) read the dict's keys as paths ("cannot read a"); a set's results came back in an
    # order of its own
    s = Stylizer.load(model_path, device="cpu")
    photo = Image.new("RGB", (20, 16))
    with pytest.raises(TypeError, match=r"not dict: keep the names with dict\(zip\(images, stylizer.stylize_images"):
        s.stylize_images({"a": photo})
    paths = {make_photo(tmp_path / "a.jpg"), make_photo(tmp_path / "b.jpg")}
    with pytest.raises(TypeError, match=r"not set \(in no order: .*\): pass a list, e.g. sorted\(paths\)"):
        s.stylize_images(paths)
    named = {"a": photo, "b": photo.resize((10, 8))}
    kept = dict(zip(named, s.stylize_images(list(named.values()))))  # the way the message gives
    assert [im.size for im in kept.values()] == [(20, 16), (10, 8)]
    assert len(s.stylize_images(im for im in named.values())) == 2  # any other iterable is taken
    assert len(s.stylize_images({str(p): 1 for p in sorted(paths)}.keys())) == 2  # a dict's keys, in order, too


def test_load_style_model_takes_paths_and_says_a_bad_map_location(model_path: Path) -> None:
    # load_style_model(5) read the open file descriptor 5; map_location="gpu" (or "cuda" with no GPU) was said to be
    # a damaged file ("cut short by a download or a full disk?")
    for bad in (999_999, None, TransformerNet(channels=(4, 8, 8), num_residual=1)):  # (no such descriptor here)
        with pytest.raises(TypeError, match=r"^load_style_model takes a style model's path or a built-in style's name"):
            load_style_model(bad)
    for location in ("gpu", "meta"):
        with pytest.raises(UserError, match=f"device '{location}'.*use auto, cpu, cuda, cuda:N or mps"):
            load_style_model(model_path, map_location=location)
    net, _ = load_style_model(model_path, map_location=torch.device("cpu"))  # a Path, a torch.device
    assert net.config["channels"] == [4, 8, 8]


def test_evaluate_takes_one_folder_of_paintings_and_names_arguments_of_the_wrong_kind(
    tmp_path: Path, random_vgg: Path
) -> None:
    # style_dirs="paintings" was searched letter by letter ("not there nor in p, a, i, ..."); a network given as the
    # models was "'TransformerNet' object is not iterable", stability_photos="2" "slice indices must be integers"
    make_photo(tmp_path / "paintings" / "sea.jpg", size=(64, 48))
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    model = save_style_model(net, tmp_path / "sea.pt", {"style_image": "/elsewhere/sea.jpg"})
    photos = [("p", torch.rand(1, 3, 32, 32))]
    light = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    scores, _ = evaluate(model, photos, style_dirs=str(tmp_path / "paintings"), **light)
    assert scores[0].style_image == str(tmp_path / "paintings" / "sea.jpg")
    with pytest.raises(TypeError, match=r"^models must be style models' paths .*, not TransformerNet: save_style_"):
        evaluate(net, photos, **light)
    with pytest.raises(TypeError, match=r"^style_dirs must be folders' paths, not int"):
        evaluate(model, photos, style_dirs=[3], **light)
    with pytest.raises(TypeError, match=r"^stability_photos must be a whole number of photos >= 0, not '2'"):
        evaluate(model, photos, **{**light, "stability_photos": "2"})
    with pytest.raises(TypeError, match=r"^keep must be the photos' numbers \(a list of ints\) or None"):
        evaluate(model, photos, keep=["0"], **light)


def test_a_network_given_to_stylizer_load_is_said_in_one_line(model_path: Path) -> None:
    # its message held the network's repr, dozens of lines
    net, _ = load_style_model(str(model_path))
    with pytest.raises(TypeError) as said:
        Stylizer.load(net)
    assert str(said.value) == (
        "Stylizer.load takes a style model's path or a built-in style's name, not TransformerNet: "
        "Stylizer(network, device, precision) takes a network"
    )
    with pytest.raises(TypeError, match=r"name, not b'wave'$"):
        Stylizer.load(b"wave")
    from fast_style.model.export import export

    # in the words of the others that take a style model's file (Stylizer.load had put the name first)
    for call in (load_style_model, Stylizer.load, lambda model: export(model, "out.onnx")):
        with pytest.raises(
            TypeError, match=r"takes a style model's path or a built-in style's name, not TransformerNet"
        ):
            call(net)


def test_a_gpu_index_past_the_machines_gpus_is_refused(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stylizer.load(path, device="cuda:3") on a machine of one GPU failed at the network's first move there, in torch's
    # words ("CUDA error: invalid device ordinal", several lines)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for device in ("cuda:3", 1, torch.device("cuda", 1)):
        with pytest.raises(UserError, match=r"^device cuda:\d asked for, but this machine has 1 CUDA GPU: use cuda:0$"):
            Stylizer.load(model_path, device=device)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(UserError, match=r"has 2 CUDA GPUs: use cuda:0 to cuda:1$"):
        Stylizer.load(model_path, device="cuda:2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # no GPU at all: the one asked for is named
    for device, named in (("cuda:1", "cuda:1"), (2, "cuda:2"), ("cuda", "cuda")):  # (all said "device cuda")
        with pytest.raises(UserError, match=rf"^device {named} asked for, but no CUDA GPU is available: use cpu"):
            Stylizer.load(model_path, device=device)


def test_write_reports_says_which_pictures_its_contact_sheet_lacks(tmp_path: Path, random_vgg: Path) -> None:
    # evaluate(..., keep=[0]) then write_reports: a bare "KeyError: 1" at the contact sheet; outputs of the wrong
    # length an IndexError
    model = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "m.pt")
    photos = [(f"p{i}", torch.rand(1, 3, 32, 32)) for i in range(3)]
    light = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    scores, outputs = evaluate(model, photos, style_image=str(make_photo(tmp_path / "s.jpg")), keep=[0], **light)
    with pytest.raises(UserError, match=r"^outputs lacks m's picture of photo 1, a row of the contact sheet \(photos "):
        write_reports(tmp_path / "out", scores, outputs, photos, "caffe")
    with pytest.raises(UserError, match=r"^outputs holds pictures of 0 models and scores of 1 model: pass evaluate's"):
        write_reports(tmp_path / "out", scores, [], photos, "caffe")
    assert not (tmp_path / "out").exists()
    assert len(write_reports(tmp_path / "out", scores, outputs, photos, "caffe", sheet_rows=1)) == 3


def test_a_style_model_under_the_home_folder_is_written_where_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # save_style_model(net, "~/m.pt") wrote ./~/m.pt, where Stylizer.load("~/m.pt") looked in the home folder
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    assert save_style_model(net, "~/m.pt") == tmp_path / "home" / "m.pt"
    assert not (tmp_path / "~").exists()
    assert load_style_model("~/m.pt")[0].config == net.config
    assert Stylizer.load("~/m.pt", device="cpu").network.config == net.config


def test_photos_videos_and_animations_under_the_home_folder_are_read_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stylizer.load("~/m.pt") read the home folder, but s("~/photo.png"), stylize_video("~/in.mp4", ...),
    # stylize_animation and read_content said "not found" (or wrote ./~/out.gif)
    from fast_style.media.animation import stylize_animation
    from fast_style.media.video import stylize_video
    from fast_style.perceptual.optimize import read_content, write_result

    from .test_video import make_video

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    s = Stylizer(TransformerNet(channels=(4, 8, 8), num_residual=1), "cpu", torch.float32)
    Image.new("RGB", (20, 16), "red").save(home / "photo.png")
    frames = [Image.new("RGB", (20, 16), c) for c in ("red", "blue")]
    frames[0].save(home / "in.gif", save_all=True, append_images=frames[1:], duration=100)
    make_video(home / "in.mp4", frames=2, size=(32, 32), audio=False)
    assert s("~/photo.png").size == (20, 16)
    assert s.stylize_images(["~/photo.png"])[0].size == (20, 16)
    assert read_content("~/photo.png", 32).shape == (1, 3, 16, 20)
    written = write_result(  # (it went to ./~/out.png, its curve too)
        read_content("~/photo.png", 32), [2.0, 1.0], "~/out.png"
    )
    assert written[0] == home / "out.png" and all(p.parent == home for p in written) and written[0].is_file()
    assert stylize_animation("~/in.gif", "~/out.gif", s.stylize_images) == (2, 20, 16)
    assert stylize_video("~/in.mp4", "~/out.mp4", s.stylize_frames) == 2
    assert (home / "out.gif").is_file() and (home / "out.mp4").is_file()
    assert not (tmp_path / "~").exists()


def test_channels_last_images_are_told_how_to_turn(model_path: Path) -> None:
    # (H, W, 3), as numpy and PIL hold a picture, was "expected images of shape (B, 3, H, W) or (3, H, W)" alone
    s = Stylizer.load(model_path, device="cpu")
    for shape, order in (((16, 12, 3), "2, 0, 1"), ((2, 16, 12, 3), "0, 3, 1, 2")):
        with pytest.raises(
            UserError, match=f"got {re.escape(str(shape))}: channels last\\? images.permute\\({order}\\)$"
        ):
            s(torch.rand(shape))
        assert s(torch.rand(shape).permute(*map(int, order.split(", ")))).shape[-3] == 3


def test_reports_under_the_home_folder_go_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # write_reports("~/reports", ...) wrote ./~/reports, where evaluate reads "~/style.pt" and "~/photos" at home
    from fast_style.evaluation.scores import ModelScore

    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    score = ModelScore("m", "m.pt", "s.jpg", total=1.0, content=1.0, style=1.0, tv=0.0, coverage=0.5)
    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    written = write_reports("~/reports", [score], [[torch.rand(1, 3, 32, 32)]], photos, "caffe")
    assert {p.parent for p in written} == {tmp_path / "home" / "reports"} and all(p.is_file() for p in written)
    assert not (tmp_path / "~").exists()


def test_check_number_gives_back_pythons_own_number_and_tells_a_wrong_type_from_a_wrong_value() -> None:
    """fast_style.numbers' rule, which every setting's check follows, had no test of its own: NaN taken as a number
    (then refused only where a range's comparison fails it) passed the settings' tests."""
    import enum
    from fractions import Fraction

    import numpy as np

    from fast_style.numbers import check_number

    class Level(enum.IntEnum):
        HIGH = 3

    anything = lambda v: True  # noqa: E731 (a setting of no range: NaN passes no comparison to be caught by)
    for given, integer, wanted in (
        (Level.HIGH, True, 3),
        (np.int64(4), True, 4),
        (torch.tensor(5), True, 5),
        (np.float32(0.5), False, 0.5),
        (Fraction(1, 4), False, 0.25),
        (7, False, 7),
        (np.float64(2.0), True, 2),  # a whole number's value is whole whatever its type
    ):
        got = check_number("x", given, anything, "a number", integer)
        assert got == wanted and type(got) is type(wanted), given
    for wrong in ("3", None, True, np.True_, torch.tensor(True), [3]):
        with pytest.raises(TypeError, match=r"^x must be a number, not "):
            check_number("x", wrong, anything, "a number")
    # in one line: a tensor's or a list's repr had been its many lines, or hundreds of characters
    # (by its kind, as fast_style.options said a value of the wrong type, and the project's other calls do)
    for wrong, said in ((torch.zeros(20, 20), "Tensor of shape (20, 20)"), (list(range(100)), "list")):
        with pytest.raises(TypeError, match=f"^x must be a number, not {re.escape(said)}$"):
            check_number("x", wrong, anything, "a number")
    for number, integer in ((float("nan"), False), (np.float32("nan"), False), (2.5, True), (np.float64(2.5), True)):
        with pytest.raises(UserError, match=r"^x must be a number, got "):
            check_number("x", number, anything, "a number", integer)
    with pytest.raises(UserError, match=r"^x must be a number >= 1, got -1$"):
        check_number("x", -1, lambda v: v >= 1, "a number >= 1")
    # a number said as its value, exactly, in one wording for every setting (the options' "%g" had said
    # np.float32(2.0) as 2 and 1.0000001 as 1; check_number np.float32(2.0) and a command line's 2.0 as written)
    for number, said in (
        (2.0, "2"),
        (np.float32(2.0), "2"),
        (np.float32(0.1), "0.1"),
        (np.int64(-4), "-4"),
        (torch.tensor(-1.5), "-1.5"),
        (1.0000001, "1.0000001"),
        (1e20, "1e+20"),
        (Fraction(-1, 4), "-0.25"),
    ):
        with pytest.raises(UserError, match=f"^x must be a number > 1e30, got {re.escape(said)}$"):
            check_number("x", number, lambda v: v > 1e30, "a number > 1e30")
