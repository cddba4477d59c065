"""The model zoo shipped in the package: names, manifests, files, and every way a user reaches a style."""

import hashlib
import json
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style import zoo
from fast_style.cli.export import main as export_main
from fast_style.cli.stylize import main as stylize_main
from fast_style.errors import UserError
from fast_style.inference.stylizer import Stylizer
from fast_style.model.style_model import load_style_model

PAINTINGS = {"starry_night", "wave", "the_scream", "composition_vii", "udnie", "shipwreck"}


def test_zoo_holds_the_six_paintings_with_complete_manifests() -> None:
    assert set(zoo.names()) >= PAINTINGS
    for name in zoo.names():
        m = zoo.manifest(name)
        data = (zoo.ZOO_DIR / m["file"]).read_bytes()
        assert m["name"] == name and m["sha256"] == hashlib.sha256(data).hexdigest() and m["bytes"] == len(data)
        assert len(data) < 4e6 and m["dtype"] == "float16"
        assert {"title", "artist", "year", "licence"} <= set(m["painting"])
        fast = m.get("fast_variant_of")
        assert m["training"]["steps"] > 0
        assert fast or m["training"]["config"]["model"]["channels"] == [32, 64, 128]  # the paper's network
        assert m["metrics"]["sha256"] == m["sha256"]  # figures of this very file, not a replaced one
        assert 0 < m["metrics"]["coverage"] <= 1 and m["metrics"]["judge_style"] > 0
        assert m["metrics"]["flicker"] > 0 and m["metrics"]["flicker_zoom"] > 0  # zoo_report.py: the pans
        net, meta = load_style_model(str(zoo.resolve(name)))
        assert meta["style_image"] == f"{fast or name}.jpg" and meta["step"] == m["training"]["steps"]
        if fast:
            assert name == f"{fast}-fast" and meta["distilled_from"] == fast
            assert m["training"]["config"]["distill"]["teacher"] == fast
            teacher = load_style_model(str(zoo.resolve(fast)))[0]
            # half the width at full resolution, where a CPU forward spends most of its time (benchmarks/README.md)
            assert net.config["channels"][0] <= teacher.config["channels"][0] // 2
        assert next(net.parameters()).dtype == torch.float32


def test_the_paintings_have_fast_variants_for_live_use() -> None:
    assert {f"{name}-fast" for name in PAINTINGS} <= set(zoo.names())
    assert all(zoo.manifest(f"{name}-fast")["fast_variant_of"] == name for name in PAINTINGS)


def test_resolve_prefers_files_and_explains_unknown_names(tmp_path: Path, monkeypatch) -> None:
    assert zoo.resolve("wave") == zoo.ZOO_DIR / "wave.pt"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wave").write_bytes(b"x")  # a file of that name in the working folder wins
    assert zoo.resolve("wave") == Path("wave")
    with pytest.raises(UserError, match="neither a style-model file nor a built-in style .*wave"):
        zoo.resolve("vawe")
    with pytest.raises(UserError, match="style model not found: models/x.pt"):
        zoo.resolve("models/x.pt")
    (tmp_path / "runs").mkdir()
    with pytest.raises(UserError, match="runs is a folder without a style.pt: give a style-model file"):
        zoo.resolve("runs")
    # a sweep's folder: "a folder without a style.pt", though its runs' are below it
    for run in ("0", "1"):
        (tmp_path / "multirun" / "2026-12-07" / "09-00-00" / run).mkdir(parents=True)
        (tmp_path / "multirun" / "2026-12-07" / "09-00-00" / run / "style.pt").write_bytes(b"")
    with pytest.raises(UserError, match=r"^multirun holds no style.pt of its own, but 2 runs below it do \(a "):
        zoo.resolve("multirun")
    with pytest.raises(UserError, match=r"e\.g\. multirun/2026-12-07/09-00-00/0/style\.pt \(fast-style-eval multirun "):
        zoo.resolve("multirun")
    # a run stopped before its style.pt ("a folder without a style.pt", where fast-style-eval says what to do)
    (tmp_path / "runs" / "checkpoints").mkdir()
    (tmp_path / "runs" / "checkpoints" / "last.ckpt").write_bytes(b"")
    stopped = "runs is a run's folder with checkpoints but no style.pt yet (still training, or killed): resume it "
    with pytest.raises(UserError, match=f"^{re.escape(stopped)}with ckpt_path=last, or give one of its checkpoints/"):
        zoo.resolve("runs")
    for step in ("000100", "000200"):
        (tmp_path / "runs" / "checkpoints" / f"style-step={step}.pt").write_bytes(b"")
    with pytest.raises(UserError, match="ckpt_path=last, or give runs/checkpoints/style-step=000200.pt$"):
        zoo.resolve("runs")
    (tmp_path / "runs" / "style.pt").write_bytes(b"a run's model")  # a run's folder: its style.pt
    assert zoo.resolve("runs") == Path("runs") / "style.pt" and zoo.model_name("runs") == "runs"
    assert zoo.model_name("runs/style.pt") == "runs" and zoo.model_name("wave") == "wave"
    with pytest.raises(UserError, match="unknown style 'vawe'"):
        zoo.manifest("vawe")


def test_stylize_cli_takes_a_style_name_and_lists_styles(tmp_path: Path, capsys) -> None:
    Image.new("RGB", (40, 30), (200, 120, 40)).save(tmp_path / "p.png")
    assert stylize_main(["--list-styles"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in zoo.names()) and "Hokusai" in listed
    assert (
        stylize_main(
            [
                "--style",
                "wave",
                str(tmp_path / "p.png"),
                "-o",
                str(tmp_path / "out/"),
                "--name",
                "{stem}_{style}.{ext}",
                "-q",
            ]
        )
        == 0
    )
    out = Image.open(tmp_path / "out" / "p_wave.png")
    assert out.size == (40, 30) and out.getpixel((5, 5)) != (200, 120, 40)
    assert stylize_main(["--style", "vawe", str(tmp_path / "p.png")]) == 2
    assert "unknown style 'vawe'" in capsys.readouterr().err
    assert stylize_main([str(tmp_path / "p.png")]) == 2
    assert "--style NAME" in capsys.readouterr().err


def test_style_and_model_are_exclusive(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        stylize_main(["--style", "wave", "--model", "x.pt", "p.png"])
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_python_api_and_export_take_a_style_name(tmp_path: Path) -> None:
    stylizer = Stylizer.load("udnie", device="cpu", precision="fp32")
    x = torch.rand(1, 3, 32, 48)
    y = stylizer(x)
    assert y.shape == x.shape and not torch.allclose(x, y)
    assert export_main(["udnie", "-o", str(tmp_path / "udnie.ts")]) == 0
    assert torch.jit.load(str(tmp_path / "udnie.ts"))(x).shape == x.shape
    # a folder as -o: the model's name in it, in the format asked for (a folder that does not exist yet: a /)
    assert export_main(["udnie-fast", "-o", str(tmp_path), "--format", "torchscript"]) == 0
    assert export_main(["udnie-fast", "-o", f"{tmp_path / 'new'}/", "--format", "torchscript"]) == 0
    assert torch.jit.load(str(tmp_path / "new" / "udnie-fast.ts"))(x).shape == x.shape
    before = (tmp_path / "udnie-fast.ts").read_bytes()
    assert export_main(["udnie-fast", "-o", str(tmp_path), "--format", "torchscript"]) == 2  # there: --force
    assert (tmp_path / "udnie-fast.ts").read_bytes() == before


def test_load_style_model_takes_a_style_name_as_the_readme_blend_does(tmp_path: Path, monkeypatch) -> None:
    """The README's blend (load_style_model, interpolate) with a built-in style had been "style model not found:
    wave"; a file of that name in the working folder still wins, and a missing file is still said."""
    net, meta = load_style_model("wave")
    assert meta["style_image"] == "wave.jpg" and sum(p.numel() for p in net.parameters()) > 1_000_000
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="style model not found: wav"):
        load_style_model("wav")
    for typed, meant in (("Wave", "wave"), ("starry-night", "starry_night"), ("wave_fast", "wave-fast")):
        with pytest.raises(UserError, match=f"^style model not found: {typed} \\(did you mean {meant}\\?\\)$"):
            load_style_model(typed)
    with pytest.raises(UserError, match="^style model not found: models/Wave$"):  # a path: no name to mean
        load_style_model("models/Wave")
    (tmp_path / "wave").write_bytes(b"x")
    with pytest.raises(UserError, match="wave is not a fast-style model"):
        load_style_model("wave")


def test_load_style_model_takes_a_style_name_beside_a_folder_of_that_name(tmp_path: Path, monkeypatch) -> None:
    """load_style_model("wave") in a folder holding a wave/ folder (its photos, a run) said "cannot read style model
    wave: Is a directory", where every tool (zoo.resolve) takes the built-in style."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wave").mkdir()
    net, meta = load_style_model("wave")
    assert meta["style_image"] == "wave.jpg" and zoo.resolve("wave") == zoo.ZOO_DIR / "wave.pt"


def test_manifest_names_its_model_file() -> None:
    assert json.loads((zoo.ZOO_DIR / "wave.json").read_text())["file"] == "wave.pt"


def test_list_styles_counts_the_steps_of_the_model_a_style_was_fine_tuned_from(tmp_path, monkeypatch) -> None:
    from fast_style.model.network import TransformerNet
    from fast_style.model.style_model import save_style_model

    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "p.pt")
    training = {"steps": 600, "image_size": 256, "fine_tuned_from": {"steps": 1000}}
    (tmp_path / "p.json").write_text(json.dumps({"name": "p", "painting": {"title": "P"}, "training": training}))
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    assert "; 1600 steps (1000 + 600 fine-tuning) at 256 px" in zoo.describe()
    training["fine_tuned_from"]["fine_tuned_from"] = {"steps": 400}  # a fine-tuned model fine-tuned again
    (tmp_path / "p.json").write_text(json.dumps({"name": "p", "painting": {"title": "P"}, "training": training}))
    assert "; 2000 steps (400 + 1000 + 600 fine-tuning) at 256 px" in zoo.describe()
    assert zoo.phase_steps(zoo.manifest("p")) == [400, 1000, 600]  # what zoo_report.py sums


def test_a_reader_that_stops_early_ends_the_listing_quietly() -> None:
    import subprocess
    import sys

    code = "import sys; from fast_style.cli.stylize import main; sys.exit(main(['--list-styles']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `| head` does once it has its lines: here before the first
    error = proc.stderr.read().decode()
    assert proc.wait() == 0 and error == ""


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Wave", "wave"), ("wave_fast", "wave-fast"), ("wav", "wave"), ("starry-night", "starry_night")],
)
def test_a_mistyped_style_name_is_answered_with_the_one_meant(typed: str, meant: str, tmp_path: Path, capsys) -> None:
    """--style Wave or wave_fast listed the twelve styles, leaving the user to spot the one they had mistyped."""
    Image.new("RGB", (40, 30), (200, 120, 40)).save(tmp_path / "p.png")
    assert stylize_main(["--style", typed, str(tmp_path / "p.png")]) == 2
    assert f"unknown style '{typed}' (did you mean {meant}?): the built-in styles are " in capsys.readouterr().err
    with pytest.raises(UserError, match="did you mean"):
        zoo.check_name(typed)
    with pytest.raises(UserError) as e:
        zoo.check_name("nope")  # nothing near: the list alone
    assert "did you mean" not in str(e.value)


@pytest.mark.parametrize(
    ("typed", "meant"), [("Wave", "wave"), ("wave_fast", "wave-fast"), ("starry-night", "starry_night")]
)
def test_a_mistyped_style_name_as_the_model_is_answered_with_the_one_meant(
    typed: str, meant: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    """fast-style-export starry-night (MODEL, as the README gives it), fast-style-eval and -stylize -m listed the twelve
    styles where --style NAME said which was meant; wave.pt sent the user to --list-styles."""
    monkeypatch.chdir(tmp_path)
    assert export_main([typed, "-o", "x.onnx"]) == 2
    said = capsys.readouterr().err
    assert f"'{typed}' is neither a style-model file nor a built-in style (did you mean {meant}?) (" in said, said
    assert export_main([f"{meant}.pt", "-o", "x.onnx"]) == 2
    assert f"not found: {meant}.pt (the built-in style is given by its name alone: {meant})" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_a_run_given_from_below_its_folder_is_named_by_that_folder(tmp_path: Path, monkeypatch) -> None:
    """`fast-style-export .. -o exports/` from a run's checkpoints/ wrote exports/...onnx (a hidden file)."""
    run = tmp_path / "sea"
    (run / "checkpoints").mkdir(parents=True)
    (run / "style.pt").write_bytes(zoo.resolve("wave-fast").read_bytes())
    monkeypatch.chdir(run / "checkpoints")
    for given in ("..", "../", "../style.pt", "../checkpoints/../style.pt"):
        assert zoo.model_name(given) == "sea", given
    assert export_main(["..", "-o", str(tmp_path / "exports") + "/"]) == 0
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["sea.onnx"]
