import shlex
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from fast_style.demo import DEMO_PHOTO, draw_mosaic_style, run_demo, training_config
from fast_style.errors import UserError


def test_procedural_style_is_colourful_and_textured() -> None:
    img = np.asarray(draw_mosaic_style(128), dtype=np.float32)
    assert img.shape == (128, 128, 3)
    assert img.std(axis=(0, 1)).min() > 30  # strong contrast in every channel
    assert np.abs(np.diff(img, axis=1)).mean() > 5  # edges everywhere, not flat
    np.testing.assert_array_equal(img, np.asarray(draw_mosaic_style(128), dtype=np.float32))  # deterministic


@pytest.mark.slow
@pytest.mark.download
def test_demo_end_to_end(tmp_path: Path, random_vgg: Path, recwarn: pytest.WarningsRecorder) -> None:
    """The `make demo` path with the sample photos fetched by pip (random VGG and a few steps, to stay fast)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mosaic_style.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # a write stopped by Ctrl-C: drawn again
    paths = run_demo(
        tmp_path,
        steps=3,
        image_size=32,
        overrides=[
            "loss=file",
            f"loss.weights={random_vgg}",
            "model=tiny",
            "module.init_from=null",
            "data.num_workers=0",
        ],
    )
    photos = sorted(p.name for p in (tmp_path / "data" / "photos").iterdir())
    assert DEMO_PHOTO in photos and len(photos) >= 10
    assert DEMO_PHOTO not in {p.name for p in (tmp_path / "data" / "train").iterdir()}  # held out
    with Image.open(paths["stylized image"]) as out, Image.open(tmp_path / "data" / "photos" / DEMO_PHOTO) as src:
        assert out.size == src.size
    assert paths["style model"].is_file() and any(paths["image grids"].glob("*.png"))
    with Image.open(tmp_path / "data" / "mosaic_style.png") as style:
        assert style.size[0] >= 64
    said = [str(w.message) for w in recwarn]  # Lightning's notices that are noise to the user: none printed
    assert not [m for m in said if "logging interval" in m or "model summary" in m], said


def test_the_demo_refuses_its_own_bad_arguments_before_any_work(tmp_path: Path, capsys) -> None:
    from fast_style.cli.demo import main as demo_main

    for args, said in ((["--steps", "0"], "--steps must be at least 1"), (["--image-size", "8"], "--image-size")):
        assert demo_main([*args, "--workdir", str(tmp_path / "d")]) == 2
        assert said in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # it had stylized with a built-in style and left a run folder each time
    (tmp_path / "f").write_text("mine")  # a file where the workdir (or a folder above it) would go
    for workdir in (tmp_path / "f", tmp_path / "f" / "d"):
        assert demo_main(["--workdir", str(workdir)]) == 2
        assert f"{tmp_path / 'f'} is a file, not a folder; choose another --workdir" in capsys.readouterr().err
    assert (tmp_path / "f").read_text() == "mine"


def test_an_empty_workdir_is_refused_not_taken_for_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset shell variable (--workdir "$DIR"): the demo's photos, runs and logs went into the current folder."""
    import fast_style.demo
    from fast_style.cli.demo import main as demo_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fast_style.demo, "run_demo", lambda *a: pytest.fail(f"the demo ran in {a[0]!r}"))
    for empty in ("", " "):
        assert demo_main(["--workdir", empty]) == 2
        assert capsys.readouterr().err == (
            "error: --workdir is empty (an unset shell variable?): give a folder, or leave it out (outputs/demo)\n"
        )
    assert not list(tmp_path.iterdir())


def test_a_damaged_sample_photo_is_fetched_again_and_two_demos_get_their_own_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sample photo cut short (a full disk, a killed copy) failed every later demo ("Truncated File Read"): it was
    taken as there because a file of its name was; and two demos started in the same second wrote into one run
    folder, one's model over the other's."""
    import io
    import zipfile

    import fast_style.demo as demo

    wheel = tmp_path / "scikit_image.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for i, name in enumerate(demo.SAMPLE_PHOTOS):
            png = io.BytesIO()
            Image.new("RGB", (24, 16), (10 * i, 80, 160)).save(png, format="PNG")
            zf.writestr(f"skimage/data/{name}", png.getvalue())
    fetched: list[Path] = []
    monkeypatch.setattr(demo, "pip_download", lambda spec, dest: fetched.append(dest) or wheel)
    photos = tmp_path / "data" / "photos"
    assert len(demo.fetch_sample_photos(photos)) == len(demo.SAMPLE_PHOTOS) and len(fetched) == 1
    assert len(demo.fetch_sample_photos(photos)) == len(demo.SAMPLE_PHOTOS) and len(fetched) == 1  # kept
    damaged = photos / demo.SAMPLE_PHOTOS[0]
    damaged.write_bytes(damaged.read_bytes()[:40])
    demo.fetch_sample_photos(photos)
    assert len(fetched) == 2 and Image.open(damaged).size == (24, 16)
    assert not [p for p in photos.iterdir() if p.name.startswith(".")]  # no temporary files left
    monkeypatch.setattr(demo.time, "strftime", lambda fmt: "2026-12-06_01-20-12")  # one second for both
    first, second = demo._new_run_folder(tmp_path / "runs"), demo._new_run_folder(tmp_path / "runs")
    assert (first.name, second.name) == ("2026-12-06_01-20-12", "2026-12-06_01-20-12-2")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "runs").write_text("mine")  # a file where runs/ goes: one line (a traceback)
    with pytest.raises(UserError, match=r"runs is a file, not a folder: move it, or choose another workdir"):
        demo._new_run_folder(tmp_path / "elsewhere" / "runs")
    real = Path.mkdir

    def closed(self: Path, *args, **kwargs) -> None:  # runs/ not writable (as root, modes are not enforced)
        if self.parent == tmp_path / "runs":
            raise PermissionError(1, "Operation not permitted", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", closed)  # a traceback
    with pytest.raises(UserError, match=r"^cannot make a run folder in .*runs \(Operation not permitted\): choose"):
        demo._new_run_folder(tmp_path / "runs")


def test_a_refused_workdir_is_the_one_line_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    """The crop size for a CPU without native bf16 ("Training at 96 px crops ...") came before the refusal."""
    import fast_style.demo as demo
    from fast_style.cli.demo import main as demo_main

    monkeypatch.setattr(demo, "native_bf16", lambda device="cpu": False)
    monkeypatch.setattr(demo, "pick_device", lambda name: __import__("torch").device("cpu"))

    def refuse(folder: Path, label: str) -> None:
        raise UserError(f"{label}: cannot write in {folder} (Read-only file system): choose another place")

    monkeypatch.setattr(demo, "check_writable", refuse)
    with caplog.at_level("INFO"):
        assert demo_main(["--workdir", str(tmp_path / "w")]) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.count("\n") == 1 and "Read-only file system" in said.err
    assert "Training at" not in caplog.text


def test_a_stopped_demo_names_the_fast_style_train_command_that_resumes_it(tmp_path: Path) -> None:
    # the stop line said "run the same command with ckpt_path=last ...": fast-style-demo takes neither
    from fast_style.runs.config import compose

    run = tmp_path / "runs" / "r"
    cfg = training_config(tmp_path / "train", tmp_path / "style.png", run, 7, 32, ["model=tiny"])
    resume = cfg.callbacks.graceful_stop.resume
    args = shlex.split(resume)
    assert args[0] == "fast-style-train" and args[-2:] == ["ckpt_path=last", f"hydra.run.dir={run}"]
    assert instantiate(cfg.callbacks.graceful_stop).resume == resume
    again = compose([*args[1:-1], f"output_dir={run}"])  # what fast-style-train composes from it
    cfg.callbacks.graceful_stop.resume = None
    assert OmegaConf.to_container(again) == {**OmegaConf.to_container(cfg), "ckpt_path": "last"}


@pytest.mark.parametrize(
    ("bf16", "asked", "trained"), [(False, [], 96), (True, [], 128), (False, ["--image-size", "128"], 128)]
)
def test_the_demo_trains_smaller_crops_on_a_cpu_without_native_bf16(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    bf16: bool,
    asked: list,
    trained: int,
) -> None:
    # fp32 steps on such a CPU are ~1.8x slower: 128 px crops took the demo 8 minutes there, 96 px about 5
    import fast_style.demo
    from fast_style.cli.demo import main as demo_main

    got = []
    monkeypatch.setattr(fast_style.demo, "native_bf16", lambda device_type=None: bf16)
    monkeypatch.setattr(fast_style.demo, "pick_device", lambda device="auto": __import__("torch").device("cpu"))
    monkeypatch.setattr(
        fast_style.demo,
        "run_demo",  # (as run_demo takes its default: after its checks)
        lambda workdir, steps, size: (
            got.append(size or fast_style.demo.default_image_size()) or {"tensorboard logs": workdir}
        ),
    )
    with caplog.at_level("INFO"):
        assert demo_main(["--workdir", str(tmp_path / "d"), *asked]) == 0
    assert got == [trained]
    assert ("no native bf16" in caplog.text) == (trained == 96 and not asked)
