"""scripts/build_zoo.py, which puts a trained run into the zoo: float16 weights and a manifest that says where the
model came from."""

import hashlib
import json
import runpy
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

from fast_style import zoo
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model, save_style_model
from fast_style.runs.config import compose

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_zoo.py"


def _run(tmp_path: Path, overrides: list[str]) -> Path:
    run = tmp_path / "run"
    cfg = compose([f"output_dir={run}", "style.image=wave.jpg", "experiment=fast_variant", *overrides])
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    net = TransformerNet(channels=[16, 32, 64], num_residual=3)
    save_style_model(net, run / "style.pt", {"step": 1600, "style_image": "/machine/wave.jpg"})
    return run


def _zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earlier: dict) -> Path:
    """A zoo folder in tmp_path holding wave-fast's earlier manifest; the script writes there."""
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path / "zoo")
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "wave-fast.json").write_text(json.dumps(earlier))
    return tmp_path / "zoo" / "wave-fast.json"


def _build(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["build_zoo.py", "wave", str(run), "--budget", "2 CPU cores", "--command", "c"])
    runpy.run_path(str(SCRIPT), run_name="__main__")


@pytest.mark.parametrize("init_from", ["wave", "wave-fast"])
def test_a_fast_variant_says_whether_it_was_narrowed_or_trained_on(
    init_from: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = {"training": {"steps": 1600, "budget": "the first phase"}, "metrics": {"sha256": "old"}}
    _zoo(tmp_path, monkeypatch, earlier)
    _build(_run(tmp_path, ["distill.teacher=wave", f"module.init_from={init_from}"]), monkeypatch)
    m = json.loads((tmp_path / "zoo" / "wave-fast.json").read_text())
    assert m["name"] == "wave-fast" and m["fast_variant_of"] == "wave" and m["dtype"] == "float16"
    assert m["training"]["steps"] == 1600 and m["training"]["config"]["distill"]["teacher"] == "wave"
    if init_from == "wave":  # began as its teacher cut down to the small shape
        assert m["training"]["started_from"] == "wave, narrowed to [16, 32, 64] channels, 3 residual blocks"
        assert "fine_tuned_from" not in m["training"]
    else:  # a second phase of the variant itself keeps the first phase's record
        assert m["training"]["fine_tuned_from"] == earlier["training"] and "started_from" not in m["training"]
    assert m["metrics"] == earlier["metrics"]  # stale until zoo_report.py --write-manifests measures the file
    _, meta = load_style_model(str(tmp_path / "zoo" / "wave-fast.pt"))
    assert meta["style_image"] == "wave.jpg" and meta["distilled_from"] == "wave"


def test_building_the_same_run_again_does_not_add_a_phase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = {"training": {"steps": 1600, "budget": "the first phase"}, "metrics": {}}
    manifest = _zoo(tmp_path, monkeypatch, first)
    run = _run(tmp_path, ["distill.teacher=wave", "module.init_from=wave-fast"])
    _build(run, monkeypatch)
    once = json.loads(manifest.read_text())
    _build(run, monkeypatch)  # again, say with its budget's words mended
    again = json.loads(manifest.read_text())
    assert again["sha256"] == once["sha256"]
    assert again["training"]["fine_tuned_from"] == first["training"]  # not the first build's own record


def test_a_run_started_from_a_file_records_the_files_name_and_the_phase_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = {"training": {"steps": 300, "budget": "the phase before"}, "metrics": {}}
    manifest = _zoo(tmp_path, monkeypatch, earlier)
    _build(_run(tmp_path, ["distill.teacher=wave", "module.init_from=/machine/runs/p5/wave-p5.pt"]), monkeypatch)
    m = json.loads(manifest.read_text())
    assert m["training"]["config"]["module"]["init_from"] == "wave-p5.pt"  # no folder of the training machine
    assert m["training"]["fine_tuned_from"] == earlier["training"] and "started_from" not in m["training"]
    assert "/machine" not in manifest.read_text()


def test_a_blend_with_the_model_it_started_from_is_built_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _zoo(tmp_path, monkeypatch, {"training": {"steps": 1600}, "metrics": {}})
    run = _run(tmp_path, ["distill.teacher=wave", "module.init_from=wave-fast"])
    start = TransformerNet(channels=[16, 32, 64], num_residual=3)
    save_style_model(start, tmp_path / "zoo" / "wave-fast.pt")  # the zoo's own file, which the build replaces
    started = hashlib.sha256((tmp_path / "zoo" / "wave-fast.pt").read_bytes()).hexdigest()
    argv = ["build_zoo.py", "wave", str(run), "--budget", "b", "--blend-with", "wave-fast", "--share", "0.25"]
    monkeypatch.setattr(sys, "argv", argv)  # (a built-in style's name: "style model not found", a traceback)
    runpy.run_path(str(SCRIPT), run_name="__main__")
    m = json.loads((tmp_path / "zoo" / "wave-fast.json").read_text())
    blend = m["training"]["blend"]
    assert blend["share_of_start"] == 0.25 and "0.75 of this run" in blend["how"]
    assert blend["start_sha256"] == started  # (it was the blended file's own, hashed after it was written)
    built, _ = load_style_model(str(tmp_path / "zoo" / "wave-fast.pt"))
    trained, _ = load_style_model(str(run / "style.pt"))
    for k, v in built.state_dict().items():
        want = 0.75 * trained.state_dict()[k] + 0.25 * start.state_dict()[k]
        torch.testing.assert_close(v, want, rtol=2e-3, atol=1e-4)  # stored in float16


def test_the_zoo_model_names_the_file_it_started_from_not_its_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _zoo(tmp_path, monkeypatch, {"training": {"steps": 1600}, "metrics": {}})
    run = _run(tmp_path, ["distill.teacher=wave", "module.init_from=/machine/runs/x/style.pt"])
    net, meta = load_style_model(str(run / "style.pt"))
    save_style_model(net, run / "style.pt", {**meta, "init_from": "/machine/runs/x/style.pt"}, force=True)
    _build(run, monkeypatch)
    assert load_style_model(str(tmp_path / "zoo" / "wave-fast.pt"))[1]["init_from"] == "style.pt"


def test_a_blend_with_a_model_of_another_shape_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _zoo(tmp_path, monkeypatch, {"training": {"steps": 1600}, "metrics": {}})
    run = _run(tmp_path, ["distill.teacher=wave", "module.init_from=wave-fast"])
    save_style_model(TransformerNet(channels=[8, 16, 32], num_residual=1), tmp_path / "other.pt")
    argv = ["build_zoo.py", "wave", str(run), "--budget", "b", "--blend-with", str(tmp_path / "other.pt")]
    monkeypatch.setattr(sys, "argv", [*argv, "--share", "0.3"])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("error: cannot blend a ") and "Traceback" not in err


@pytest.mark.parametrize(
    "extra", [["--share", "0.3"], ["--blend-with", "x.pt"], ["--blend-with", "x.pt", "--share", "1"]]
)
def test_a_blend_needs_a_model_and_a_share_below_1(
    extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["build_zoo.py", "wave", str(tmp_path), "--budget", "b", *extra])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert e.value.code == 2 and "--blend-with MODEL needs --share" in capsys.readouterr().err


@pytest.mark.parametrize(
    "case, said",
    [
        ("missing", "is neither a run folder holding style.pt nor a style.pt"),
        ("no .hydra", "has no .hydra/config.yaml: give --config"),
        ("a style.pt", "is a model file: give --config"),
        ("--config missing", "--config "),
        ("--config hydra.yaml", "hydra.yaml is not a training run's config (no data.batch_size)"),
        ("--config a picture", "p.png cannot be read as YAML ("),
        ("config.yaml for RUN", "config.yaml is not a fast-style model (not a PyTorch file)"),
    ],
)
def test_a_run_without_its_model_or_config_is_one_line(
    case: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FileNotFoundError's traceback (.hydra/config.yaml), or a NotADirectoryError's for a style.pt; a --config
    that is no run's config was a traceback after the zoo's model had been replaced (its manifest left as it was); a
    run's config.yaml given for RUN was called "a model file"."""
    zoo_file = _zoo(tmp_path, monkeypatch, {"training": {}, "metrics": {}})
    run = _run(tmp_path, [])
    if case == "no .hydra":
        (run / ".hydra" / "config.yaml").unlink()
    (run / ".hydra" / "hydra.yaml").write_text("hydra:\n  run:\n    dir: x\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "p.png")
    given = {"missing": tmp_path / "nonexist", "a style.pt": run / "style.pt"}.get(case, run)
    given = run / ".hydra" / "config.yaml" if case == "config.yaml for RUN" else given
    extra = {
        "--config missing": tmp_path / "nope.yaml",
        "--config hydra.yaml": run / ".hydra" / "hydra.yaml",
        "--config a picture": tmp_path / "p.png",
    }.get(case)
    extra = ["--config", str(extra)] if extra else []
    monkeypatch.setattr(sys, "argv", ["build_zoo.py", "wave", str(given), "--budget", "b", *extra])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("error: ") and said in err and err.count("\n") == 1
    assert json.loads(zoo_file.read_text()) == {"training": {}, "metrics": {}}  # nothing written
    assert not list(zoo_file.parent.glob("*.pt"))


def test_a_run_of_another_painting_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wave run built as udnie went into the zoo as udnie's, its painting renamed udnie.jpg, without a word."""
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path / "zoo")
    (tmp_path / "zoo").mkdir()
    run = _run(tmp_path, [])  # trained on /machine/wave.jpg
    monkeypatch.setattr(sys, "argv", ["build_zoo.py", "udnie", str(run), "--budget", "b"])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    err = capsys.readouterr().err
    assert (
        e.value.code == 2
        and err
        == f"error: {run} was trained on /machine/wave.jpg, not udnie.jpg: give "
        "the name of its painting, or a run of udnie\n"
    )
    assert not list((tmp_path / "zoo").iterdir())
