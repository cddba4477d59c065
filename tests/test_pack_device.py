"""scripts/pack_device.py, which packs what a lent GPU trains the zoo from: the split must be the zoo's, and the
cut-down VGG must give the training loss the full one gives."""

import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from fast_style.perceptual.loss import VGGFeatures
from fast_style.perceptual.weights import caffe_weights_path

from .conftest import make_photo

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pack_device.py"


def test_pack_training_splits_like_the_zoo_and_keeps_the_loss(tmp_path: Path, random_vgg: Path) -> None:
    coco = tmp_path / "coco"
    coco.mkdir()
    for i in range(14):  # every 12th of the sorted photos is held out: 0 and 12
        make_photo(coco / f"{i:03d}.jpg", size=(120, 90), seed=i)
    styles = tmp_path / "styles"
    styles.mkdir()
    make_photo(styles / "wave.jpg", size=(64, 64))
    caffe_weights_path().parent.mkdir(parents=True, exist_ok=True)
    full = torch.load(random_vgg, map_location="cpu", weights_only=True)
    torch.save({"arch": "vgg16", "normalization": "caffe", "state_dict": full}, caffe_weights_path())
    dest = tmp_path / "dev"
    for sub in ("train", "heldout", "styles"):
        (dest / sub).mkdir(parents=True)

    runpy.run_path(str(SCRIPT))["pack_training"](dest, coco, styles, 64)

    assert sorted(p.name for p in (dest / "heldout").iterdir()) == ["000.jpg", "012.jpg"]
    assert len(list((dest / "train").iterdir())) == 12
    from PIL import Image

    with Image.open(dest / "train" / "001.jpg") as im:
        assert min(im.size) == 64  # shorter side
    assert [p.name for p in (dest / "styles").iterdir()] == ["wave.jpg"]
    packed = torch.load(dest / "vgg16-fp16.pth", map_location="cpu", weights_only=True)
    assert packed["normalization"] == "caffe"
    assert all(v.dtype == torch.float16 for v in packed["state_dict"].values())
    assert "features.21.weight" in packed["state_dict"] and "features.24.weight" not in packed["state_dict"]
    torch.manual_seed(0)
    x, y = torch.rand(2, 1, 3, 64, 64).unbind(0)
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]  # the default loss's
    cut = VGGFeatures(layers, weights=str(dest / "vgg16-fp16.pth"))
    whole = VGGFeatures(layers, weights=str(caffe_weights_path()))
    fa, fb = cut(x), whole(x)
    assert fa.keys() == fb.keys() == set(layers)
    for k in layers:  # float16 weights: within a few parts in a thousand of the largest activation
        torch.testing.assert_close(fa[k], fb[k], rtol=0, atol=5e-3 * fb[k].abs().max().item())
    assert not torch.allclose(cut(y)["relu4_3"], fa["relu4_3"])


@pytest.mark.parametrize("args", [["--style-dir", "x"], []])
def test_pack_device_asks_for_the_photos_unless_video(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["pack_device.py", *args])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert e.value.code == 2


def _checkout(tmp_path: Path) -> Path:
    """A checkout of its own: were a guard gone, this one would be emptied."""
    import subprocess

    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "scripts" / "tool.py").write_text("")
    subprocess.run(["git", "init", "-q"], cwd=checkout, check=True)
    subprocess.run(["git", "add", "scripts/tool.py"], cwd=checkout, check=True)
    return checkout


def _refused(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setattr("sys.argv", ["pack_device.py", *args])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("dest", ["", ".", "..", ".git", "scripts"])
def test_pack_device_never_empties_the_checkout(
    dest: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dest "" (or ".") emptied the whole checkout, .git included: the folder is emptied before it is filled."""
    checkout = _checkout(tmp_path)
    monkeypatch.chdir(checkout)
    assert "--dest must name a folder of its own" in _refused(["--video", "--dest", dest], monkeypatch, capsys)
    assert (checkout / ".git").is_dir() and (checkout / "scripts" / "tool.py").is_file()


@pytest.mark.parametrize("case", ["no coco", "no style dir", "no photos", "a painting missing"])
def test_pack_device_checks_its_sources_before_emptying_dev(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--coco /nonexist --style-dir /nonexist emptied .dev, then packed 0 photos and 0 paintings, exit 0."""
    checkout = _checkout(tmp_path)
    (checkout / ".dev").mkdir()
    (checkout / ".dev" / "packed.jpg").write_text("an earlier pack")
    coco, styles = tmp_path / "coco", tmp_path / "styles"
    coco.mkdir()
    styles.mkdir()
    if case != "no photos":
        make_photo(coco / "000.jpg", size=(32, 32))
    for name in ("starry_night", "wave", "the_scream", "composition_vii", "udnie", "shipwreck"):
        if not (case == "a painting missing" and name == "udnie"):
            make_photo(styles / f"{name}.jpg", size=(32, 32))
    args = ["--coco", str(tmp_path / "nonexist" if case == "no coco" else coco)]
    args += ["--style-dir", str(tmp_path / "nonexist" if case == "no style dir" else styles)]
    monkeypatch.chdir(checkout)
    err = _refused(args, monkeypatch, capsys)
    expected = {
        "no coco": "is not a folder",
        "no style dir": "is not a folder",
        "no photos": "holds no photos",
        "a painting missing": "lacks udnie.jpg",
    }
    assert err.startswith("error: --") and expected[case] in err
    assert (checkout / ".dev" / "packed.jpg").read_text() == "an earlier pack"


def test_pack_device_help_gives_the_whole_first_paragraph(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["pack_device.py", "--help"])
    with pytest.raises(SystemExit):
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert "in 64 MiB with the tree)." in " ".join(capsys.readouterr().out.split())


def test_pack_device_keeps_its_folder_out_of_git_where_the_checkout_has_no_exclude_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone made without git's templates (no .git/info/exclude, as the project's own checkout) got a
    FileNotFoundError's traceback from the docstring's command before anything was packed."""
    if shutil.which("git") is None:
        pytest.skip("no git")
    run = subprocess.run
    run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".git" / "info" / "exclude").unlink(missing_ok=True)

    class Downloading(Exception):
        pass

    def no_download(cmd, *args, **kwargs):
        if "pip" in cmd:
            raise Downloading
        return run(cmd, *args, **kwargs)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(subprocess, "run", no_download)
    monkeypatch.setattr("sys.argv", ["pack_device.py", "--video"])
    with pytest.raises(Downloading):
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert run(["git", "check-ignore", "-q", ".dev/whl/av.whl"], cwd=tmp_path).returncode == 0
