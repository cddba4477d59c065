import gc
import json
import logging
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style.cli.evaluate import main as eval_main
from fast_style.cli.optimize import main as optimize_main
from fast_style.errors import UserError
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model

from .conftest import make_photo


@pytest.fixture
def sweep(tmp_path: Path, style_path: Path) -> Path:
    """Two 'runs' of a sweep, each with its style.pt, as a Hydra multirun folder holds them."""
    for i, std in enumerate((0.0, 0.3)):
        torch.manual_seed(i)
        net = TransformerNet(channels=(4, 8, 8), num_residual=1)
        torch.nn.init.normal_(net.decoder[-1].weight, std=std)
        save_style_model(net, tmp_path / "multirun" / str(i) / "style.pt", {"style_image": str(style_path)})
        hydra = tmp_path / "multirun" / str(i) / ".hydra"
        hydra.mkdir()
        (hydra / "overrides.yaml").write_text(f"- style.image=s.jpg\n- loss.style_weight={i + 1}\n")
    return tmp_path / "multirun"


def test_the_table_shows_a_sweeps_long_labels_whole(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    """Labels were cut at 30 characters: two runs of a sweep over two settings read alike in the table."""
    for i in range(2):
        (sweep / str(i) / ".hydra" / "overrides.yaml").write_text(
            f"- style.image=starry_night.jpg\n- loss.style_weight={i + 1}\n- loss.tv_weight={i + 1}\n"
        )
    make_photo(tmp_path / "held_out" / "p.jpg", size=(40, 32))
    args = [str(sweep), "--photos", str(tmp_path / "held_out"), "--out", str(tmp_path / "eval"), "--no-judge"]
    args += ["--weights", str(random_vgg), "--size", "32", "--style-size", "32", "--stability-photos", "0"]
    assert eval_main(args) == 0
    table = capsys.readouterr().out
    for i in (1, 2):
        assert f" loss.style_weight={i},loss.tv_weight={i} " in table


def test_eval_ranks_a_sweep_and_writes_table_files_and_sheet(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="fast_style.evaluation.evaluate")
    photos = tmp_path / "held_out"
    for i in range(3):
        make_photo(photos / f"p{i}.jpg", size=(40 + 8 * i, 32), seed=10 + i)
    out = tmp_path / "eval"
    code = eval_main(
        [
            str(sweep),
            "--photos",
            str(photos),
            "--out",
            str(out),
            "--weights",
            str(random_vgg),
            "--size",
            "32",
            "--style-size",
            "32",
            "--no-judge",
            "--reference",
            "optimize:3",
            "--sheet-cell",
            "0",
        ]
    )
    assert code == 0
    # what it does as it goes: a reference optimization takes minutes a photo on a CPU, and it looked hung
    said = caplog.text
    assert "scoring loss.style_weight=1 (1 of 2) on 3 photos" in said and "(2 of 2)" in said
    assert said.count("'s reference for photo ") == 3 and "reference for photo 3 of 3: 3 L-BFGS iterations" in said
    report = json.loads((out / "metrics.json").read_text())
    models = report["models"]
    names = {"0": "loss.style_weight=1", "1": "loss.style_weight=2"}  # runs are labelled by what differs
    assert sorted(m["name"] for m in models) == sorted(names.values())
    assert models[0]["total"] <= models[1]["total"]  # ranked
    for m in models:
        assert m["content"] >= 0 and m["style"] > 0 and m["vs_reference"] > 0 and len(m["per_photo_total"]) == 3
    flat = next(m for m in models if m["name"] == names["0"])  # std 0: a flat grey picture, no texture at all
    assert flat["coverage"] == 0.0 and all(0.0 <= m["coverage"] <= 1.0 for m in models)
    assert flat["flicker"] == 0.0  # a flat picture never changes (resampling it for zoom: rounding); others do
    assert flat["flicker_zoom"] == pytest.approx(0.0, abs=1e-5)
    assert all(m["flicker"] > 0 and m["flicker_zoom"] > 0 for m in models if m is not flat)
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("rank,name,total") and "coverage" in rows[0] and len(rows) == 3
    assert "flicker,flicker_zoom" in rows[0]
    assert [r.split(",")[:2] for r in rows[1:]] == [["1", models[0]["name"]], ["2", models[1]["name"]]]  # ranked
    with Image.open(out / "contact_sheet.png") as sheet:
        # 3 columns (input + 2 models) of 32 px (--sheet-cell 0: the photos' size at --size 32), 4 px apart, under
        # a header of labels wrapped at 5 characters (loss.style_weight=1: 4 lines of 11 px, and 7 px);
        # each row as tall as its photo (40x32 -> 32x26, 48x32 -> 32x21, 56x32 -> 32x18)
        assert sheet.size == (3 * (32 + 4) + 4, 7 + 4 * 11 + (26 + 4) + (21 + 4) + (18 + 4) + 4)
    table = capsys.readouterr().out.splitlines()
    first = next(i for i, line in enumerate(table) if line.lstrip().startswith("rank"))
    ranked = [[str(i), m["name"]] for i, m in enumerate(models, 1)]
    assert [line.split()[:2] for line in table[first + 1 : first + 3]] == ranked
    before = (out / "metrics.json").read_text()
    assert (
        eval_main(
            [
                str(sweep),
                "--photos",
                str(photos),
                "--out",
                str(out),
                "--weights",
                str(random_vgg),
                "--size",
                "32",
                "--no-judge",
            ]
        )
        == 2
    )  # an earlier evaluation is never overwritten silently
    assert "use --force" in capsys.readouterr().err and (out / "metrics.json").read_text() == before


def test_an_empty_model_photo_folder_or_painting_is_refused(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset shell variable: a model '' scored every style.pt below the current folder, --photos '' its pictures
    (or was called a model that went to --photos), --style '' each model's own painting, all without a word."""
    from fast_style.evaluation.models import find_models
    from fast_style.evaluation.photos import load_photos

    monkeypatch.chdir(sweep.parent)  # a sweep below the current folder
    make_photo(tmp_path / "held_out" / "p.jpg", size=(40, 32))
    photos = str(tmp_path / "held_out")
    out = str(tmp_path / "out")
    for args, said in (
        (["", "--photos", photos], "error: a model given is empty (an unset shell variable?): give style models"),
        (["wave", "--photos", ""], "error: --photos is empty (an unset shell variable?): give a folder of held-out"),
        (["wave", "--photos", photos, "--style", " "], "error: --style is empty (an unset shell variable?): give"),
        (["wave", "--photos", photos, "--style-dir", ""], "error: --style-dir is empty (an unset shell variable?)"),
    ):
        assert eval_main([*args, "--out", out, "--no-judge"]) == 2
        assert said in capsys.readouterr().err, args
    assert not Path(out).exists()
    with pytest.raises(UserError, match="^a model given is empty"):
        find_models([str(sweep), ""])
    with pytest.raises(UserError, match="^a photo folder given is empty"):
        load_photos([photos, ""], 64)


def test_a_style_dir_that_is_no_folder_is_said_before_any_model_is_scored(
    tmp_path: Path, sweep: Path, style_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--style-dir paitings/ (a typo) went without a word where every model's painting was where it was trained."""
    make_photo(tmp_path / "held_out" / "p.jpg", size=(40, 32))
    args = [str(sweep), "--photos", str(tmp_path / "held_out"), "--out", str(tmp_path / "e"), "--no-judge"]
    for given, said in (
        (tmp_path / "paitings", f"error: --style-dir {tmp_path / 'paitings'} does not exist: give a folder holding "),
        (style_path, f"error: --style-dir {style_path} is a file: give the folder holding the paintings, or --style "),
    ):
        assert eval_main([*args, "--style-dir", str(given)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(said) and err.count("\n") == 1, err
    # with --style, which every model is scored against: --style-dir went unread without a word
    assert eval_main([*args, "--style-dir", str(tmp_path), "--style", str(style_path)]) == 2
    said = "error: --style scores every model against one painting, --style-dir finds each model's own: give one of"
    assert capsys.readouterr().err.startswith(said)
    assert not (tmp_path / "e").exists()


def test_a_quoted_home_out_is_checked_where_the_reports_go(
    tmp_path: Path, sweep: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # --out '~/held/eval' (quoted: no shell expanded it) was checked as ./~/held/eval, where the reports went to the
    # home folder's held/eval: inside the --photos folder, its sheet scored as a photo on the next run
    monkeypatch.setenv("HOME", str(tmp_path))
    held = make_photo(tmp_path / "held" / "p.jpg", size=(40, 32)).parent
    assert eval_main([str(sweep), "--photos", str(held), "--out", "~/held/eval"]) == 2
    assert "error: --out is inside a --photos folder" in capsys.readouterr().err
    (tmp_path / "notes").write_text("x")
    assert eval_main([str(sweep), "--photos", str(held), "--out", "~/notes"]) == 2
    assert "error: --out ~/notes is a file: give a folder for the reports" in capsys.readouterr().err


def test_eval_errors_are_one_line(tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture) -> None:
    assert eval_main([str(tmp_path / "nope.pt"), "--photos", str(tmp_path)]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path / "empty")]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--reference", "lbfgs"]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--size", "0"]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--sheet-cell", "8"]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--judge-weights", str(tmp_path / "typo.pth")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 6 and all(line.startswith("error: ") for line in err)
    assert "empty' does not exist: give a folder of held-out images" in err[1]
    # each by fast_style.numbers' rule, in its words: it had said "--size and --style-size must be >= 16"
    assert err[3] == "error: --size must be a whole number >= 16, got 0" and "typo.pth not found" in err[5]
    for option, given, said in (
        ("--style-size", "8", "a whole number >= 16, got 8"),
        ("--sheet-rows", "-1", "a whole number >= 0 (0: all), got -1"),
        ("--stability-photos", "-2", "a whole number >= 0 (0: skip), got -2"),
    ):
        assert eval_main([str(sweep), "--photos", str(tmp_path), option, given]) == 2
        assert capsys.readouterr().err == f"error: {option} must be {said}\n"
    assert err[4] == "error: --sheet-cell must be a whole number of pixels within 32..4096 (0: full size), got 8"
    (tmp_path / "file").write_text("x")
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--out", str(tmp_path / "file")]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert eval_main([str(sweep), "--photos", str(tmp_path), "--out", str(tmp_path / "reports")]) == 2
    held = make_photo(tmp_path / "held" / "p.jpg", size=(40, 32)).parent
    assert eval_main([str(sweep), "--photos", str(held), "--out", str(tmp_path / "e"), "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert "is a file: give a folder for the reports" in err and err.count("--out is inside a --photos folder") == 2
    assert "unknown device 'gpu': use auto, cpu" in err and "Traceback" not in err
    # ranking by a figure that is not measured (every model 'inf') had given the arguments' order as a rank
    args = [str(sweep), "--photos", str(held), "--out", str(tmp_path / "e")]
    assert eval_main([*args, "--rank-by", "flicker", "--stability-photos", "0"]) == 2
    assert eval_main([*args, "--rank-by", "judge_style", "--no-judge"]) == 2
    err = capsys.readouterr().err
    assert "--rank-by flicker needs the flicker measured" in err and "--rank-by judge_style needs the judge" in err
    # an --out below a file was found only once every model had been scored
    assert eval_main([str(sweep), "--photos", str(held), "--out", str(tmp_path / "file" / "e")]) == 2
    assert f"{tmp_path / 'file'} is a file, not a folder" in capsys.readouterr().err
    # a folder where a report goes: found once every model had been scored (and without --force, called a report)
    (tmp_path / "taken" / "contact_sheet.png").mkdir(parents=True)
    for force in ([], ["--force"]):
        assert eval_main([str(sweep), "--photos", str(held), "--out", str(tmp_path / "taken"), *force]) == 2
        said = f"error: {tmp_path / 'taken' / 'contact_sheet.png'} is a folder, where the report contact_sheet.png goes"
        assert capsys.readouterr().err.startswith(said)
    # --photos takes every name after it: the models given after it were taken for photo folders
    assert eval_main(["--photos", str(held), "wave"]) == 2
    assert "wave went to --photos, which takes every name after it: name the models first" in capsys.readouterr().err
    # and with a model before it: "photo folder 'udnie' does not exist"
    assert eval_main(["wave", "--photos", str(held), "udnie", str(tmp_path / "run.pt")]) == 2
    err = capsys.readouterr().err
    assert f"error: udnie, {tmp_path / 'run.pt'} went to --photos, which takes every name after it" in err, err
    # a sweep's folder after --photos: its image grids were scored as photos, its models never; a run stopped
    # before its style.pt too
    (tmp_path / "stopped" / "checkpoints").mkdir(parents=True)
    make_photo(tmp_path / "stopped" / "images" / "step_000100.png")
    for folder in (sweep, tmp_path / "stopped"):
        assert eval_main(["wave", "--photos", str(held), str(folder)]) == 2
        assert f"error: {folder} went to --photos, which takes every name after it" in capsys.readouterr().err
    # photos all too small at --size: they were read (the warnings said so); "could not be read" misled
    assert eval_main([str(sweep), "--photos", str(held), "--size", "16", "--out", str(tmp_path / "e")]) == 2
    assert "could be used (see the warnings above): give --size 20 or more" in capsys.readouterr().err


def test_a_folder_given_for_the_judges_weights_is_called_a_folder(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture
) -> None:
    """--judge-weights run1, a folder, said "run1 not found"."""
    make_photo(tmp_path / "held" / "p.jpg", size=(40, 32))
    run = tmp_path / "run1"
    run.mkdir()
    args = [str(sweep), "--photos", str(tmp_path / "held"), "--out", str(tmp_path / "e"), "--judge-weights", str(run)]
    assert eval_main(args) == 2
    said = f"error: --judge-weights {run} is a folder, not a file: a VGG19 state_dict file, oxford or torchvision\n"
    assert capsys.readouterr().err == said
    (run / "vgg19.pth").write_bytes(b"")
    assert eval_main(args) == 2
    assert f"{run} is a folder, not a file (it holds {run / 'vgg19.pth'}): a VGG19" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_caffe_for_the_judge_says_whose_weights_those_are(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture
) -> None:
    """--judge-weights caffe (the training VGG's, as --weights takes them) said "caffe not found"; with --no-judge, any
    --judge-weights went unread without a word."""
    from fast_style.evaluation.evaluate import check_judge_weights

    make_photo(tmp_path / "held" / "p.jpg", size=(40, 32))
    args = [str(sweep), "--photos", str(tmp_path / "held"), "--out", str(tmp_path / "e"), "--judge-weights", "caffe"]
    assert eval_main(args) == 2
    assert capsys.readouterr().err == (
        "error: --judge-weights caffe: caffe weights are VGG16's (the training VGG's, --weights) and the judge is a "
        "VGG19: use oxford, torchvision or a VGG19 state_dict file\n"
    )
    with pytest.raises(UserError, match=r"^judge_weights='caffe': caffe weights are VGG16's \(the training VGG's, "):
        check_judge_weights("caffe")
    # with --no-judge: the weights went unread without a word
    assert eval_main([*args, "--no-judge"]) == 2
    said = "error: --judge-weights are the judge's, which --no-judge leaves out: give one of them\n"
    assert capsys.readouterr().err == said
    assert not (tmp_path / "e").exists()


def test_contact_sheet_cells_are_never_wider_than_the_pictures() -> None:
    from fast_style.evaluation.contact_sheets import contact_sheet

    photos = [("p.jpg", torch.rand(1, 3, 48, 64))]
    for cell, width in ((192, 2 * (64 + 4) + 4), (32, 2 * (32 + 4) + 4), (0, 2 * (64 + 4) + 4)):
        # a 192 px cell for 64 px pictures left wide white gaps between them
        assert contact_sheet(photos, [[torch.rand(1, 3, 48, 64)]], ["m"], cell).width == width, cell


def test_a_model_given_twice_is_evaluated_once(sweep: Path) -> None:
    from fast_style import zoo
    from fast_style.evaluation.models import find_models

    runs = sorted(sweep.rglob("style.pt"))
    assert find_models(["wave", str(zoo.resolve("wave")), str(sweep), str(runs[0])]) == [zoo.resolve("wave"), *runs]


def test_a_run_without_its_style_pt_yet_is_named_not_silently_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A sweep with a run still training (or killed: checkpoints, no style.pt) was ranked without it and not a
    word said; that run's folder alone was 'no style.pt below it: give ... a training run's folder'."""
    from fast_style import zoo
    from fast_style.evaluation.models import find_models

    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "style.pt").write_bytes(zoo.resolve("wave-fast").read_bytes())
    (tmp_path / "sweep" / "1" / "checkpoints").mkdir(parents=True)
    (tmp_path / "sweep" / "1" / "checkpoints" / "last.ckpt").write_bytes(b"a checkpoint")
    caplog.set_level("WARNING", logger="fast_style.evaluation.models")
    assert find_models([str(tmp_path / "sweep")]) == [tmp_path / "sweep" / "0" / "style.pt"]
    assert f"{tmp_path / 'sweep' / '1'} left out: its run has checkpoints but no style.pt yet" in caplog.text
    with pytest.raises(UserError, match="'s run has checkpoints but no style model yet .*: resume it with ckpt_path"):
        find_models([str(tmp_path / "sweep" / "1")])


def test_a_finished_runs_checkpoints_folder_is_not_called_a_run_without_its_style_pt(tmp_path: Path) -> None:
    """fast-style-eval RUN/checkpoints of a finished run (its style.pt beside that folder) said the run 'has
    checkpoints but no style model yet (still training, or killed): resume it with ckpt_path=last'."""
    from fast_style import zoo
    from fast_style.evaluation.models import find_models

    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "style.pt").write_bytes(zoo.resolve("wave-fast").read_bytes())
    (tmp_path / "run" / "checkpoints" / "last.ckpt").write_bytes(b"a checkpoint")
    with pytest.raises(UserError, match="no style.pt below") as e:
        find_models([str(tmp_path / "run" / "checkpoints")])
    assert "no style model yet" not in str(e.value)


def test_photos_too_thin_to_score_are_skipped_with_a_warning(tmp_path: Path) -> None:
    from fast_style.evaluation.photos import load_photos

    make_photo(tmp_path / "p" / "photo.jpg", size=(40, 32))
    Image.new("RGB", (2000, 30)).save(tmp_path / "p" / "strip.png")  # 128x2 at --size 128: the VGG's pools failed
    Image.new("RGB", (8, 8)).save(tmp_path / "p" / "tiny.png")
    assert [name for name, _ in load_photos([str(tmp_path / "p")], 128)] == ["photo.jpg"]


def test_an_animation_among_the_photos_is_said_to_be_scored_on_its_first_frame(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # an animated GIF (or a multi-page TIFF) was scored on its first picture without a word
    from fast_style.evaluation.photos import load_photos

    frames = [Image.new("RGB", (40, 30), (60 * i, 100, 50)) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "scan.tif", save_all=True, append_images=frames[1:])
    make_photo(tmp_path / "photo.jpg", size=(40, 32))
    assert len(load_photos([str(tmp_path)], 32)) == 3
    # as fast-style-optimize and -stylize say it: fast-style-eval's alone began "warning: "
    assert sorted(r.getMessage() for r in caplog.records) == [
        f"{tmp_path / 'anim.gif'}: an animation of 3 frames: only the first is scored",
        f"{tmp_path / 'scan.tif'}: a TIFF of 3 pages: only the first is scored",
    ]
    assert "photo.jpg" not in caplog.text


def test_stability_photos_beyond_the_photos_there_are_is_said(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    # --stability-photos 5 with 2 photos measured the flicker on those 2 without a word
    make_photo(tmp_path / "held" / "a.jpg", size=(40, 32))
    make_photo(tmp_path / "held" / "b.jpg", size=(40, 32), seed=1)
    args = [str(sweep), "--photos", str(tmp_path / "held"), "--weights", str(random_vgg), "--no-judge"]
    args += ["--size", "32", "--style-size", "32", "--sheet-rows", "0"]
    assert eval_main([*args, "--out", str(tmp_path / "a"), "--stability-photos", "5"]) == 0
    said = "warning: --stability-photos 5, but 2 photos to make clips of: the flicker is measured on those"
    assert said in capsys.readouterr().err
    assert eval_main([*args, "--out", str(tmp_path / "b")]) == 0  # the default, 4: not asked for, not said
    assert "--stability-photos" not in capsys.readouterr().err


def test_the_default_stability_photos_is_one_number_for_python_and_the_command_line(
    capsys: pytest.CaptureFixture,
) -> None:
    """The default, 4, was written three times (evaluate()'s argument, the CLI's constant and its --help): one
    source now, fast_style.evaluation.evaluation_defaults, which the torch-free command line reads."""
    import inspect

    from fast_style.evaluation.evaluate import evaluate
    from fast_style.evaluation.evaluation_defaults import STABILITY_PHOTOS

    assert inspect.signature(evaluate).parameters["stability_photos"].default == STABILITY_PHOTOS
    with pytest.raises(SystemExit):
        eval_main(["--help"])
    assert f"(default {STABILITY_PHOTOS}; 0:" in " ".join(capsys.readouterr().out.split())


def test_a_photo_folder_under_the_home_folder_is_read_as_that_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """load_photos(["~/held"]) took the folder for a glob: its photos were named without their subfolders ("b.jpg"
    for sub/b.jpg), and its other files said to be left out, where load_photos(["/home/me/held"]) did neither."""
    from fast_style.evaluation.photos import load_photos

    monkeypatch.setenv("HOME", str(tmp_path))
    make_photo(tmp_path / "held" / "a.jpg", size=(40, 32))
    make_photo(tmp_path / "held" / "sub" / "b.jpg", size=(40, 32), seed=1)
    (tmp_path / "held" / "notes.txt").write_text("x")
    for given in (str(tmp_path / "held"), "~/held"):
        assert [name for name, _ in load_photos([given], 32)] == ["a.jpg", "sub/b.jpg"], given
    assert "left out" not in caplog.text


def test_photos_are_picture_files_folders_or_globs_as_stylize_takes_them(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture
) -> None:
    """--photos took folders only ("photo folder 'a.jpg' is a file, not a folder"), while fast-style-stylize takes
    files, folders and globs."""
    from fast_style.evaluation.photos import load_photos

    make_photo(tmp_path / "p" / "a.jpg", size=(40, 32))
    make_photo(tmp_path / "p" / "b.png", size=(40, 32))
    make_photo(tmp_path / "q" / "c.jpg", size=(40, 32))
    (tmp_path / "p" / "notes.txt").write_text("x")
    photos = [str(tmp_path / "p" / "a.jpg"), str(tmp_path / "p" / "*.png"), str(tmp_path / "q")]
    assert [name for name, _ in load_photos(photos, 32)] == ["a.jpg", "b.png", "c.jpg"]
    assert [name for name, _ in load_photos([str(tmp_path / "p" / "*")], 32)] == ["a.jpg", "b.png"]  # not notes.txt
    # a glob over the reports' folder: its contact sheet was scored as a photo on the next run
    make_photo(tmp_path / "p" / "eval" / "contact_sheet.png", size=(40, 32))
    names = [name for name, _ in load_photos([str(tmp_path / "p" / "**" / "*.png")], 32, out=tmp_path / "p" / "eval")]
    assert names == ["b.png"]
    for given, said in (
        (tmp_path / "p" / "nope.jpg", f"error: photo '{tmp_path / 'p' / 'nope.jpg'}' does not exist: give a folder"),
        (tmp_path / "p" / "*.webp", f"error: no such file, folder or matching images: {tmp_path / 'p' / '*.webp'}"),
    ):
        assert eval_main([str(sweep), "--photos", str(given), "--out", str(tmp_path / "e"), "--no-judge"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(said) and err.count("\n") == 1, err


def test_a_video_named_among_the_photos_is_said_to_be_one(tmp_path: Path) -> None:
    """--photos clip.mp4 (a file, as --photos now takes them): "skipping clip.mp4: cannot identify image file"."""
    from fast_style.evaluation.photos import load_photos

    from .test_video import make_video

    make_photo(tmp_path / "p" / "a.jpg", size=(40, 32))
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    with pytest.raises(UserError, match=r"clip\.mp4 is a video: give held-out photos \(the flicker is measured on "):
        load_photos([str(tmp_path / "p"), str(clip)], 32)


def test_a_model_or_ts_file_among_the_photos_is_said_not_to_be_a_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--photos wave.ts (fast-style-export's) had stylize's words: "not a video: stylize with the style it was exported
    from (--style)", where --style is the painting; a .ckpt "not a picture or video: give pictures and videos"."""
    from fast_style.evaluation.photos import load_photos

    make_photo(tmp_path / "p" / "a.jpg", size=(40, 32))
    (tmp_path / "wave.ts").write_bytes(b"PK\x03\x04 a TorchScript export, a zip")
    (tmp_path / "notes.ts").write_text("export const a = 1;\n")  # a TypeScript source
    (tmp_path / "song.mod").write_bytes(b"a tracker module".ljust(1084, b"\0") + b"M.K.")  # no camcorder's video
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "last.ckpt")
    for name, said in (
        (
            "wave.ts",
            "is a TorchScript export (fast-style-export's), not a picture: give held-out pictures (--photos), "
            "and score the style model it was exported from (its .pt or a built-in style's name)",
        ),
        (
            "notes.ts",
            "is not a picture (a .ts file, and no video: no MPEG transport stream packets in it): give "
            "held-out pictures (--photos)",
        ),
        (  # (said in a .ts file's words: it was "not a picture: no MPEG program stream in it", with no remedy)
            "song.mod",
            "is not a picture (a .mod file, and no video: no MPEG program stream in it): give held-out pictures "
            "(--photos)",
        ),
        (
            "last.ckpt",
            "is a PyTorch file (a style model, weights or a checkpoint), not a picture: give held-out "
            "pictures (--photos), and a style model as a model to score",
        ),
    ):
        given = tmp_path / name
        args = ["wave", "--photos", str(tmp_path / "p"), str(given), "--out", str(tmp_path / "e"), "--no-judge"]
        assert eval_main(args) == 2
        assert capsys.readouterr().err == f"error: {given} {said}\n"
        with pytest.raises(UserError, match=re.escape(f"{given} {said.replace(' (--photos)', '')}")):  # from Python
            load_photos([str(tmp_path / "p"), str(given)], 32)
    assert not (tmp_path / "e").exists()


def test_a_photo_too_small_at_any_size_is_not_blamed_on_the_size(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An 8x8 photo was skipped as "8x8 at size=128, under 16 px a side", as though --size had made it so."""
    from fast_style.evaluation.photos import load_photos

    make_photo(tmp_path / "p" / "photo.jpg", size=(40, 32))
    Image.new("RGB", (2000, 30)).save(tmp_path / "p" / "strip.png")  # made too thin by the size: said so
    Image.new("RGB", (8, 8)).save(tmp_path / "p" / "tiny.png")
    Image.new("RGB", (400, 10)).save(tmp_path / "p" / "thin.png")  # too thin at any size: its own size said (it
    caplog.set_level(
        "WARNING", logger="fast_style.evaluation.photos"
    )  # was "128x3, under 16 px a side", neither's size)
    load_photos([str(tmp_path / "p")], 128)
    assert "strip.png: 128x2 at size=128, under 16 px a side" in caplog.text
    assert "tiny.png: 8x8, under 16 px a side" in caplog.text
    assert "thin.png: 400x10, under 16 px a side" in caplog.text


def test_photos_all_too_small_at_the_size_asked_say_the_size_that_keeps_them(tmp_path: Path) -> None:
    from fast_style.evaluation.photos import load_photos

    make_photo(tmp_path / "p" / "photo.jpg", size=(64, 48))  # 16x12 at size 16; 22x16 at 22
    with pytest.raises(UserError, match=r"could be used \(see the warnings above\): give size=22 or more$"):
        load_photos([str(tmp_path / "p")], 16)  # (it asked for readable photos of 16 px a side: they were)
    assert len(load_photos([str(tmp_path / "p")], 22)) == 1
    Image.new("RGB", (8, 8)).save(tmp_path / "p" / "photo.jpg")  # too small at any size
    with pytest.raises(UserError, match="give readable photos at least 16 px a side at size=16"):
        load_photos([str(tmp_path / "p")], 16)


def test_an_unreadable_painting_is_said_before_any_model_is_scored(
    tmp_path: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from fast_style.evaluation.evaluate import evaluate

    (tmp_path / "text.jpg").write_text("not a painting")
    models = []
    for i, painting in enumerate((style_path, tmp_path / "text.jpg")):
        models.append(tmp_path / f"m{i}.pt")
        save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), models[-1], {"style_image": str(painting)})
    photos = [("p", torch.rand(1, 3, 32, 32))]
    with caplog.at_level("INFO"), pytest.raises(UserError, match="text.jpg"):
        evaluate(models, photos, weights=str(random_vgg), style_size=32, judge=False, stability_photos=0)
    assert "scoring" not in caplog.text  # (the first model was scored, references and all, before the error)


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_optimize_lowers_the_loss_and_writes_image_and_curve(
    tmp_path: Path, style_path: Path, random_vgg: Path, method: str
) -> None:
    photo = make_photo(tmp_path / "photo.png", size=(40, 30))
    out = tmp_path / "opt.png"
    assert (
        optimize_main(
            [
                str(photo),
                "-s",
                str(style_path),
                "-o",
                str(out),
                "--iterations",
                "5",
                "--size",
                "40",
                "--style-size",
                "48",
                "--weights",
                str(random_vgg),
                "--method",
                method,
            ]
        )
        == 0
    )
    with Image.open(out) as img:
        assert img.size == (40, 30)
    rows = [line.split(",") for line in (tmp_path / "opt_loss.csv").read_text().splitlines()[1:]]
    assert [int(i) for i, _ in rows] == list(range(6))  # 0: the photo, then after each iteration
    values = [float(v) for _, v in rows]
    assert values[-1] < values[0]
    if method == "lbfgs":  # a real descent: the line search once had no evaluation and stalled after 2 steps
        assert values[-1] < 0.5 * values[0] and values[2] < 0.99 * values[1]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = EventAccumulator(str(tmp_path / "opt_tensorboard"))
    board.Reload()
    assert [e.value for e in board.Scalars("optimize/total")] == pytest.approx(values)
    assert optimize_main([str(photo), "-s", str(style_path), "-o", str(out), "--weights", str(random_vgg)]) == 2


def test_optimize_without_an_output_or_given_a_folder_names_its_picture_after_the_photo_and_painting(
    tmp_path: Path, style_path: Path, random_vgg: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o was required (argparse's "the following arguments are required: -o/--output") and a folder refused, where
    fast-style-stylize and -export name their outputs themselves; never over an existing picture unasked."""
    photo = make_photo(tmp_path / "photo.png", size=(40, 30))
    base = [str(photo), "-s", str(style_path), "--iterations", "1", "--size", "32", "--style-size", "32"]
    base += ["--weights", str(random_vgg)]
    named = f"photo_{style_path.stem}.png"
    (tmp_path / "work").mkdir()
    (tmp_path / "results").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert optimize_main(base) == 0
    assert capsys.readouterr().out.startswith(f"wrote {named} (total loss ")
    assert (tmp_path / "work" / named).is_file() and (tmp_path / "work" / f"photo_{style_path.stem}_loss.csv").is_file()
    assert optimize_main(base) == 2  # there already
    assert f"{named} exists: use --force" in capsys.readouterr().err
    assert optimize_main([*base, "-o", str(tmp_path / "results")]) == 0
    assert (tmp_path / "results" / named).is_file()
    # a folder not there yet, said so by its slash ("has no extension: ... e.g. new.png"): made, the picture in it
    assert optimize_main([*base, "-o", f"{tmp_path / 'new'}/"]) == 0
    assert (tmp_path / "new" / named).is_file() and (tmp_path / "new" / f"photo_{style_path.stem}_loss.csv").is_file()


def test_optimize_keeps_a_photos_transparency_as_stylize_does(
    tmp_path: Path, style_path: Path, random_vgg: Path, caplog
) -> None:
    """A photo with transparency (a cut-out PNG) came out on white: fast-style-stylize keeps its alpha."""
    photo = Image.new("RGBA", (40, 30), (200, 120, 40, 255))
    photo.paste((0, 0, 0, 0), (0, 0, 20, 30))  # its left half see-through
    photo.save(tmp_path / "cut.png")
    base = [str(tmp_path / "cut.png"), "-s", str(style_path), "--iterations", "1", "--style-size", "32"]
    base += ["--weights", str(random_vgg)]
    assert optimize_main([*base, "-o", str(tmp_path / "out.png")]) == 0
    with Image.open(tmp_path / "out.png") as out:
        assert out.mode == "RGBA" and out.size == (40, 30)
        assert out.getchannel("A").getpixel((5, 15)) == 0 and out.getchannel("A").getpixel((35, 15)) == 255
    assert optimize_main([*base, "-o", str(tmp_path / "flat.jpg")]) == 0  # a JPEG holds none: on white, said
    assert "a JPEG holds no transparency" in caplog.text
    Image.new("RGBA", (40, 30), (200, 120, 40, 255)).save(tmp_path / "opaque.png")  # alpha, all of it opaque
    assert optimize_main([str(tmp_path / "opaque.png"), *base[1:], "-o", str(tmp_path / "o.png")]) == 0
    with Image.open(tmp_path / "o.png") as out:
        assert out.mode == "RGB"


def test_optimize_keeps_a_photos_metadata_as_stylize_does(tmp_path: Path, style_path: Path, random_vgg: Path) -> None:
    """The picture had no EXIF (camera, date), XMP or colour profile: a wide-gamut photo's, read into sRGB, came
    out untagged, where fast-style-stylize's is tagged sRGB."""
    import io

    from PIL import ImageCms

    from .icc_profiles import rgb_profile

    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "TestCam", 6  # Make; rotate on display
    exif.get_ifd(0x8769).update({0x9003: "2024:05:06 07:08:09", 0xA001: 0xFFFF})  # DateTimeOriginal; uncalibrated
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Ann</dc:creator></x:xmpmeta>'
    wide = rgb_profile("green", "blue", "red", name="wide")
    photo = make_photo(tmp_path / "plain.png", size=(40, 30))
    Image.open(photo).save(tmp_path / "cam.jpg", exif=exif.tobytes(), icc_profile=wide, xmp=xmp, dpi=(300, 300))
    base = ["-s", str(style_path), "--iterations", "1", "--size", "40", "--weights", str(random_vgg)]
    base += ["--style-size", "32"]
    assert optimize_main([str(tmp_path / "cam.jpg"), *base, "-o", str(tmp_path / "out.jpg")]) == 0
    with Image.open(tmp_path / "out.jpg") as out:
        got = out.getexif()
        assert out.size == (30, 40) and got[0x010F] == "TestCam" and got[0x0112] == 1
        assert got.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09" and got.get_ifd(0x8769)[0xA001] == 1  # sRGB
        assert b"<dc:creator>Ann</dc:creator>" in out.info["xmp"]
        profile = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
        assert ImageCms.getProfileDescription(profile).strip() == "sRGB built-in"
    # read smaller (32 px of 40): its resolution scaled so, as fast-style-stylize's --scale scales it (its print size)
    assert (
        optimize_main(
            [str(tmp_path / "cam.jpg"), *base[:4], "--size", "32", *base[6:], "-o", str(tmp_path / "smaller.jpg")]
        )
        == 0
    )
    with Image.open(tmp_path / "smaller.jpg") as out:
        assert out.size == (24, 32) and out.info["dpi"] == (240, 240)
    assert optimize_main([str(photo), *base, "-o", str(tmp_path / "plain_out.png")]) == 0  # none: none written
    with Image.open(tmp_path / "plain_out.png") as out:
        assert "icc_profile" not in out.info and not out.getexif()


def test_optimize_says_it_takes_an_animations_first_frame(
    tmp_path: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An animated GIF or a multi-page TIFF gave its first picture without a word (fast-style-stylize says it)."""
    frames = [Image.new("RGB", (40, 30), (60 * i, 100, 50)) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "scan.tif", save_all=True, append_images=frames[1:])
    base = ["-s", str(style_path), "--iterations", "1", "--style-size", "32", "--weights", str(random_vgg)]
    assert optimize_main([str(tmp_path / "anim.gif"), *base, "-o", str(tmp_path / "a.png")]) == 0
    assert "anim.gif: an animation of 3 frames: only the first is optimized" in caplog.text
    assert optimize_main([str(tmp_path / "scan.tif"), *base, "-o", str(tmp_path / "s.png")]) == 0
    assert "scan.tif: a TIFF of 3 pages: only the first is optimized" in caplog.text


def test_optimize_never_writes_over_its_inputs_or_an_existing_curve(
    tmp_path: Path, style_path: Path, random_vgg: Path, capsys
) -> None:
    photo = make_photo(tmp_path / "photo.png", size=(40, 30))
    before = photo.read_bytes()
    base = [str(photo), "-s", str(style_path), "--iterations", "2", "--size", "32", "--weights", str(random_vgg)]
    (tmp_path / "folder").mkdir()
    (tmp_path / "taken_loss.csv").write_text("mine")
    (tmp_path / "kept_loss.csv").mkdir()  # the curve's place, not named by the user ("give a file's name")
    (tmp_path / "board_tensorboard").mkdir()
    (tmp_path / "board_tensorboard" / "events.out.tfevents.1.host").write_text("an earlier curve")
    cases = [
        (["-o", str(photo), "--force"], "is an input"),
        (["-o", str(style_path), "--force"], "is an input"),
        (["-o", str(tmp_path / "x.xyz")], "unknown image format"),
        (["-o", str(tmp_path / "taken.png")], "taken_loss.csv exists"),
        (
            ["-o", str(tmp_path / "kept.png")],
            "kept_loss.csv: a folder of that name is in the way; move it, or write elsewhere (-o)",
        ),
        (["-o", str(tmp_path / "board.png")], "board_tensorboard holds an earlier loss curve: use --force"),
        (["-o", str(tmp_path / "a.png"), "--lr", "-1"], "--lr"),
        (["-o", str(tmp_path / "a.svg")], "unknown image format '.svg'"),  # before the work, not after it
        # "unknown image format ''"
        (["-o", str(tmp_path / ".png")], f"--output {tmp_path / '.png'} is an extension alone: give a file name"),
        (["-o", str(tmp_path / "out")], f"--output {tmp_path / 'out'} has no extension: end it with .jpg, .jpeg, "),
        # fast_style.numbers' rule, in its words (the hand-made checks had said "--size must be >= 16")
        (
            ["-o", str(tmp_path / "a.png"), "--style-weight", "nan"],
            "--style-weight must be a finite number >= 0, got nan",
        ),
        (["-o", str(tmp_path / "a.png"), "--tv-weight", "-1"], "--tv-weight must be a finite number >= 0, got -1"),
        (["-o", str(tmp_path / "a.png"), "--lr", "inf"], "--lr must be a finite number > 0, got inf"),
        # the library's rule and words (fast_style.perceptual.optimize.check_lr), as the command's; a number as it is
        # typed, as every option's (argparse's 0.0 had been said "got 0.0" here, "got 0" by --strength)
        (["-o", str(tmp_path / "a.png"), "--lr", "0"], "--lr must be a finite number > 0, got 0\n"),
        (["-o", str(tmp_path / "a.png"), "--style-size", "8"], "--style-size must be a whole number >= 16, got 8"),
    ]
    for extra, message in cases:
        assert optimize_main(base + extra) == 2, extra
        assert message in capsys.readouterr().err, extra
    # a photo of 1,200 pixels over a limit of 1,000: refused (Pillow lets up to twice its limit through, warning)
    small = make_photo(tmp_path / "small_style.png", size=(30, 30), seed=5)
    args = [str(photo), "-s", str(small), *base[3:], "-o", str(tmp_path / "a.png"), "--max-image-pixels", "1000"]
    assert optimize_main(args) == 2
    assert f"cannot read {photo}: more pixels than Pillow's guard" in capsys.readouterr().err
    assert photo.read_bytes() == before and (tmp_path / "taken_loss.csv").read_text() == "mine"
    assert not (tmp_path / "photo_loss.csv").exists() and not (tmp_path / "taken.png").exists()


def test_optimize_checks_an_output_under_the_home_folder_before_the_work(
    tmp_path: Path, style_path: Path, random_vgg: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o '~/out.png' (quoted) was checked as ./~/out.png: an existing ~/out.png was refused after every iteration,
    and with --force the photo itself, named another way, was written over by its stylized copy."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    photo = make_photo(tmp_path / "photo.png", size=(40, 30))
    before = photo.read_bytes()
    base = [str(photo), "-s", str(style_path), "--iterations", "1", "--size", "32", "--style-size", "32"]
    base += ["--weights", str(random_vgg)]
    assert optimize_main([*base, "-o", "~/photo.png", "--force"]) == 2
    assert "photo.png is an input" in capsys.readouterr().err
    assert photo.read_bytes() == before
    (tmp_path / "taken.png").write_bytes(b"mine")
    monkeypatch.setattr(
        "fast_style.perceptual.optimize.optimize_image", lambda *a, **k: pytest.fail("the work was begun")
    )
    assert optimize_main([*base, "-o", "~/taken.png"]) == 2
    assert f"{tmp_path / 'taken.png'} exists: use --force" in capsys.readouterr().err
    assert not (tmp_path / "work" / "~").exists()


def test_a_thin_painting_too_small_at_the_style_size_is_given_the_size_that_keeps_it(
    tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    """A 400x20 painting at --style-size 32 (32x2) said "raise the style size (style.size=, --style-size) to at least
    16 px on each side", naming no size, where a photo too thin at --size is told the --size that keeps it."""
    from fast_style.perceptual.style_image import load_style_image

    photo = make_photo(tmp_path / "photo.png", size=(40, 32))
    Image.new("RGB", (400, 20), (20, 100, 50)).save(tmp_path / "thin.png")
    args = [str(photo), "-s", str(tmp_path / "thin.png"), "-o", str(tmp_path / "out.png"), "--size", "32"]
    assert optimize_main([*args, "--style-size", "32", "--iterations", "1", "--weights", str(random_vgg)]) == 2
    assert capsys.readouterr().err == (
        f"error: style image {tmp_path / 'thin.png'} is 32x2 at --style-size 32, under 16 px a side: give "
        "--style-size 320 or more\n"
    )
    with pytest.raises(UserError, match=r"is 32x2 at style.size=32, under 16 px a side: give style.size=320 or more$"):
        load_style_image(str(tmp_path / "thin.png"), 32)  # (training's setting)
    assert load_style_image(str(tmp_path / "thin.png"), 320).shape == (1, 3, 16, 320)
    assert not (tmp_path / "out.png").exists()


def test_a_video_given_for_the_photo_or_the_painting_is_said_to_be_one(
    tmp_path: Path, style_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """fast-style-optimize clip.mp4 -s wave.jpg (or -s clip.mp4, or style.image=clip.mp4) said Pillow's "cannot
    identify image file 'clip.mp4'"."""
    from fast_style.perceptual.style_image import load_style_image

    from .test_video import make_video

    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    photo = make_photo(tmp_path / "photo.png", size=(40, 32))
    said = ".mp4 is a video's extension, not a picture's: give an image file (a frame of it)"
    for args, where in (([str(clip), "-s", str(style_path)], ""), ([str(photo), "-s", str(clip)], "style image ")):
        assert optimize_main([*args, "-o", str(tmp_path / "out.png"), "--size", "32", "--iterations", "1"]) == 2
        assert capsys.readouterr().err == f"error: cannot read {where}{clip}: {said}\n"
    with pytest.raises(UserError, match=re.escape(f"cannot read style image {clip}: {said}")):
        load_style_image(str(clip), 32)
    (tmp_path / "noise.png").write_bytes(b"not a picture at all")  # a damaged picture keeps Pillow's words
    with pytest.raises(UserError, match="cannot identify image file"):
        load_style_image(str(tmp_path / "noise.png"), 32)
    assert not (tmp_path / "out.png").exists()


def test_a_full_disk_keeps_the_earlier_loss_curve_and_leaves_no_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The curve's events were written in place: a full disk left an empty events file (a rerun then said 'holds
    an earlier loss curve'), with TensorBoard's thread's traceback, after the earlier curve had been deleted; and
    the image was kept without its curve (a rerun then asked for --force)."""
    import errno
    import shutil

    from fast_style.atomic import DiskError
    from fast_style.perceptual import optimize

    image, history = torch.rand(1, 3, 8, 8), [3.0, 2.0]
    board = tmp_path / "a_tensorboard"
    for earlier in (False, True):
        if earlier:
            board.mkdir()
            (board / "events.out.tfevents.1.host").write_text("an earlier curve")

        def full(src: str, dst: str) -> None:
            Path(dst).write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(shutil, "copyfile", full)
        with pytest.raises(DiskError, match="No space left on device"):
            optimize.write_result(image, history, tmp_path / "a.png", force=True)
        assert (
            sorted(p.name for p in board.iterdir()) == ["events.out.tfevents.1.host"] if earlier else not board.exists()
        )
        assert not (tmp_path / "a.png").exists() and not (tmp_path / "a_loss.csv").exists()  # all three or none
    monkeypatch.undo()
    optimize.write_result(image, history, tmp_path / "a.png", force=True)  # and with room: the new curve alone
    assert [p.name.startswith("events.out.tfevents.") and p.stat().st_size > 20 for p in board.iterdir()] == [True]


def test_optimize_stops_when_the_loss_is_lost() -> None:
    from fast_style.perceptual.optimize import optimize_image

    def loss(image: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": (image * float("nan")).sum()}  # a picture gone (a black image was written, exit 0)

    with pytest.raises(UserError, match="^the loss is nan for the starting image: lower the weights$"):
        optimize_image(torch.rand(1, 3, 8, 8), loss, iterations=3, method="adam")  # (no step: no learning rate)


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_a_learning_rate_past_float32_is_one_line(method: str) -> None:
    """--lr 1e39 (1e300 with L-BFGS) ended in torch's "value cannot be converted to type float without overflow",
    a traceback."""
    from fast_style.perceptual.optimize import optimize_image

    def loss(image: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": ((image - 0.3) ** 2).sum()}

    with pytest.raises(UserError, match=r"^the step overflowed after \d iterations?: lower the learning rate \(lr="):
        optimize_image(torch.rand(1, 3, 8, 8), loss, iterations=2, method=method, lr=1e300)


def test_optimize_given_a_built_in_styles_name_for_its_painting_says_what_to_give(
    tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    """-s wave said only "style image 'wave' not found": -s takes a painting's file; a built-in style is a model."""
    from fast_style.perceptual.style_image import load_style_image

    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    args = [str(photo), "-s", "wave", "-o", str(tmp_path / "out.png"), "--weights", str(random_vgg), "--size", "32"]
    assert optimize_main(args) == 2
    err = capsys.readouterr().err
    said = (
        "error: style image 'wave' not found: wave is a built-in style (a trained model), not a painting; the style "
        "image (--style) is a painting's image file (.jpg, .png, ...), and built-in styles are used with "
        "fast-style-stylize --style wave\n"
    )
    assert err == said, err
    with pytest.raises(UserError, match=r"not a painting; the style image is a painting's image file"):
        load_style_image("udnie")  # (from Python: no option named)
    with pytest.raises(UserError, match=r"^style image 'nowave' not found: give the path of a painting"):
        load_style_image("nowave")


def test_optimize_given_several_photos_says_it_takes_one(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A shell's photos/*.jpg: "unrecognized arguments: photos/b.jpg", without a word of what to do."""
    a, b = (make_photo(tmp_path / f"{n}.jpg", size=(40, 32)) for n in "ab")
    with pytest.raises(SystemExit) as stop:
        optimize_main([str(a), str(b), "-s", str(a), "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"error: one photo at a time: {b} after {a}: run it once per photo" in err, err
    with pytest.raises(SystemExit):  # (the hidden rest is never said to be required)
        optimize_main(["-s", str(a), "-o", str(tmp_path / "out.png")])
    assert "the following arguments are required: content (" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_optimize_given_an_empty_photo_or_output_says_it_is_empty(tmp_path: Path, capsys, monkeypatch) -> None:
    """An unset shell variable: the photo '' was "'' is a folder, not a photo", the output '' "'.' is a folder"."""
    monkeypatch.chdir(tmp_path)
    make_photo(tmp_path / "p.jpg", size=(40, 32))
    for args, said in (
        (["", "-s", "p.jpg", "-o", "out.png"], "error: the photo's path is empty (an unset shell variable?): give"),
        (["p.jpg", "-s", "p.jpg", "-o", " "], "error: --output is empty: give a file name, e.g. result.png"),
    ):
        assert optimize_main(args) == 2 and said in capsys.readouterr().err, args
    assert [p.name for p in tmp_path.iterdir()] == ["p.jpg"]


def test_optimize_refuses_nothing_to_optimize_and_a_photo_that_is_not_there(tmp_path: Path) -> None:
    """All three weights 0 wrote the photo unchanged with exit 0; a missing photo said only '[Errno 2] No such
    file or directory' where a missing style image says what to give."""
    from types import SimpleNamespace

    from fast_style.perceptual.optimize import optimize_image, read_content

    zero = SimpleNamespace(content_weight=0.0, style_weight=0, tv_weight=0.0)
    with pytest.raises(UserError, match="content_weight, style_weight, tv_weight are all 0: nothing to optimize"):
        optimize_image(torch.rand(1, 3, 8, 8), zero, iterations=1)
    with pytest.raises(UserError, match=r"^photo '.*gone.jpg' not found: give the path of one photo \(.jpg"):
        read_content(tmp_path / "gone.jpg", 64)
    with pytest.raises(UserError, match=r"^photo '.*' is a folder, not a photo: give the path of one photo"):
        read_content(tmp_path, 64)


def test_optimize_image_refuses_content_it_cannot_use() -> None:
    # uint8 came out all white, 0..255 floats gave a loss of 2.5e10, (3, H, W) only a broadcasting warning
    from fast_style.perceptual.optimize import optimize_image

    def loss(image: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": ((image - content) ** 2).sum()}

    for content, said in (
        (
            torch.randint(0, 255, (1, 3, 8, 8), dtype=torch.uint8),
            "content must be float in \\[0, 1\\], got torch.uint8",
        ),
        (torch.rand(1, 3, 8, 8) * 255, "content must be in \\[0, 1\\], got values from"),
        (torch.full((1, 3, 8, 8), float("nan")), "content must be in \\[0, 1\\]"),
        (torch.rand(3, 8, 8), "one image of shape \\(1, 3, H, W\\), got \\(3, 8, 8\\)"),
        (torch.rand(2, 3, 8, 8), "got \\(2, 3, 8, 8\\)"),
    ):
        with pytest.raises(UserError, match=said):
            optimize_image(content, loss, iterations=1)


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_the_loss_curve_ends_with_the_loss_of_the_image_returned(method: str) -> None:
    """A step returns the loss it started from: the curve was one step behind (1 iteration reported the untouched
    photo's loss, and eval's optimize:1 reference was no optimization at all)."""
    from fast_style.perceptual.optimize import optimize_image

    def loss(image: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"total": ((image - 0.3) ** 2).sum()}

    content = torch.rand(1, 3, 8, 8)
    image, history = optimize_image(content, loss, iterations=2, method=method)
    assert len(history) == 3  # the start, then after each iteration
    assert history[0] == pytest.approx(float(loss(content.clamp(0.01, 0.99), content)["total"]), rel=1e-5)
    assert history[-1] == pytest.approx(float(loss(image, content)["total"]), rel=1e-5)
    assert history[-1] < history[1] < history[0]


@pytest.mark.parametrize("tool", ["optimize", "eval"])
@pytest.mark.parametrize("style", ["tiny", "missing", "not_an_image"])
def test_bad_style_images_are_one_line(
    tool: str, style: str, sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / f"{style}.png"
    if style == "tiny":
        make_photo(path, size=(12, 9))
    elif style == "not_an_image":
        path.write_text("a painting, honestly")
    photo = make_photo(tmp_path / "photos" / "p.jpg", size=(40, 32))
    if tool == "optimize":
        code = optimize_main(
            [
                str(photo),
                "-s",
                str(path),
                "-o",
                str(tmp_path / "o.png"),
                "--weights",
                str(random_vgg),
                "--iterations",
                "1",
                "--size",
                "32",
            ]
        )
    else:
        code = eval_main(
            [
                str(sweep),
                "--photos",
                str(photo.parent),
                "--out",
                str(tmp_path / "e"),
                "--style",
                str(path),
                "--weights",
                str(random_vgg),
                "--size",
                "32",
                "--no-judge",
            ]
        )
    err = capsys.readouterr().err.strip().splitlines()
    expected = {"tiny": "is 12x9: use one at least 16 px", "missing": "not found", "not_an_image": "cannot read"}[style]
    assert code != 0 and len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "e" / "metrics.csv").exists()


def test_the_vgg19_judge_from_a_local_file(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    import torchvision

    torch.manual_seed(0)
    vgg19 = tmp_path / "vgg19.pth"
    torch.save(torchvision.models.vgg19(weights=None).features[:30].state_dict(), vgg19)  # to relu5_1
    photos = tmp_path / "held_out"
    make_photo(photos / "p.jpg", size=(40, 32))
    args = [str(sweep), "--photos", str(photos), "--weights", str(random_vgg), "--size", "32", "--style-size", "32"]
    assert eval_main([*args, "--out", str(tmp_path / "a"), "--judge-weights", str(vgg19)]) == 0
    models = json.loads((tmp_path / "a" / "metrics.json").read_text())["models"]
    assert all(m["judge_style"] > 0 and m["judge_content"] >= 0 for m in models)
    assert "judge: VGG19 relu1_1..relu5_1 / relu4_2" in capsys.readouterr().out
    # the judge's figures are its own: the same whatever the training VGG's scale (they took its loss weights:
    # 2e9 times the style figure with --weights at torchvision's scale against caffe's)
    caffe_scale = tmp_path / "vgg16-caffe.pth"
    torch.save({"state_dict": torch.load(random_vgg), "normalization": "caffe"}, caffe_scale)
    other = [*args[:3], "--weights", str(caffe_scale), *args[5:], "--out", str(tmp_path / "c")]
    assert eval_main([*other, "--judge-weights", str(vgg19)]) == 0
    again = json.loads((tmp_path / "c" / "metrics.json").read_text())["models"]
    first, second = ({m["path"]: m for m in ms} for ms in (models, again))  # (ranked by the training VGG's)
    assert {k: m["judge_style"] for k, m in second.items()} == pytest.approx(
        {k: m["judge_style"] for k, m in first.items()}, rel=1e-4
    )
    assert second.keys() == first.keys() and all(second[k]["style"] != first[k]["style"] for k in first)
    assert eval_main([*args, "--out", str(tmp_path / "b"), "--judge-weights", str(tmp_path / "none.pth")]) == 2
    assert "none.pth not found" in capsys.readouterr().err  # a typo is an error, not a silently skipped judge
    (tmp_path / "junk.pth").write_bytes(b"junk")  # weights named that cannot be used: an error too (it was a
    assert eval_main([*args, "--out", str(tmp_path / "b"), "--judge-weights", str(tmp_path / "junk.pth")]) == 2
    err = capsys.readouterr().err  # warning, then reports without the judge and exit code 0)
    assert "cannot read VGG weights" in err and "not a state_dict saved with torch.save" in err
    assert not (tmp_path / "b").exists()


def test_a_ranking_by_the_judge_without_it_ranks_by_total_and_says_so(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge's weights not to be had: the table said it ranked by judge_style, every judge figure '-'."""
    from fast_style.evaluation import evaluate as ev

    given = ev.Scorer.__init__
    monkeypatch.setattr(ev.Scorer, "__init__", lambda self, *a: given(self, *a[:3], False, *a[4:]))  # no judge
    photos = tmp_path / "held_out"
    make_photo(photos / "p.jpg", size=(40, 32))
    args = [str(sweep), "--photos", str(photos), "--weights", str(random_vgg), "--size", "32", "--style-size", "32"]
    assert eval_main([*args, "--out", str(tmp_path / "a"), "--rank-by", "judge_style"]) == 0
    assert "the judge could not be loaded (above): ranked by total instead of judge_style" in capsys.readouterr().err
    totals = [m["total"] for m in json.loads((tmp_path / "a" / "metrics.json").read_text())["models"]]
    assert totals == sorted(totals) and totals[0] < totals[-1]


def test_runs_are_labelled_by_their_differing_overrides_with_short_paths(tmp_path: Path) -> None:
    from fast_style.evaluation.models import model_names

    paths = []
    for i, style in enumerate(["/data/styles/wave.jpg", "/data/styles/candy.jpg"]):
        run = tmp_path / f"run{i}"
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(f"- style.image={style}\n- trainer.max_steps=50\n")
        paths.append(run / "style.pt")
    assert model_names(paths) == ["style.image=wave.jpg", "style.image=candy.jpg"]
    # a resume's and a validation folder's overrides say nothing about the model: left out of its label
    with (tmp_path / "run1" / ".hydra" / "overrides.yaml").open("a") as f:
        f.write("- ckpt_path=last\n- data.val_root=/data/heldout\n- trainer.val_check_interval=2\n")
    assert model_names(paths) == ["style.image=wave.jpg", "style.image=candy.jpg"]


def test_built_in_styles_are_labelled_by_name_beside_runs_and_win_over_a_folder_of_their_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fast_style import zoo
    from fast_style.evaluation.models import find_models, model_names

    runs = []
    for i, weight in enumerate((2, 5)):
        run = tmp_path / "sweep" / str(i)
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(f"- loss.style_weight={weight}\n")
        runs.append(run / "style.pt")
    # beside a sweep, a built-in style was labelled 'zoo' and the runs 0 and 1; two built-in ones by their paths
    assert model_names([zoo.resolve("wave-fast"), *runs]) == ["wave-fast", "loss.style_weight=2", "loss.style_weight=5"]
    assert model_names([zoo.resolve("wave"), zoo.resolve("wave-fast")]) == ["wave", "wave-fast"]
    assert model_names([runs[0]]) == ["0"]  # a run by its folder (was 'style')
    (tmp_path / "other" / "0").mkdir(parents=True)
    assert model_names([runs[0], tmp_path / "other" / "0" / "style.pt"]) == ["sweep/0", "other/0"]
    # a plain file beside a sweep leaves the runs their overrides; one named as a built-in style takes its folder
    mine = tmp_path / "wave.pt"
    assert model_names([*runs, mine]) == ["loss.style_weight=2", "loss.style_weight=5", "wave"]
    assert model_names([zoo.resolve("wave"), mine]) == ["wave", f"{tmp_path.name}/wave"]
    # a folder named as a built-in style (fast-style-export wave-fast -o wave-fast makes one): the style, said
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wave-fast" / "run").mkdir(parents=True)
    (tmp_path / "wave-fast" / "run" / "style.pt").write_bytes(b"a run")
    assert find_models(["wave-fast"]) == [zoo.resolve("wave-fast")]
    assert "wave-fast: the built-in style (the folder wave-fast/ is ./wave-fast)" in caplog.text
    assert find_models(["./wave-fast"]) == [Path("wave-fast/run/style.pt")]


def test_copies_of_one_painting_share_a_scorer_and_other_paintings_are_flagged(
    tmp_path: Path, style_path: Path, random_vgg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from fast_style.evaluation.evaluate import evaluate

    copy = tmp_path / "elsewhere" / "wave.png"
    copy.parent.mkdir()
    copy.write_bytes(style_path.read_bytes())
    other = make_photo(tmp_path / "other.png", size=(64, 48), seed=5)
    models = []
    for i, painting in enumerate((style_path, copy, other)):
        models.append(tmp_path / f"m{i}.pt")
        save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), models[-1], {"style_image": str(painting)})
    photos = [("p", torch.rand(1, 3, 32, 32))]
    args = dict(weights=str(random_vgg), style_size=32, judge=False, stability_photos=0)
    with caplog.at_level("WARNING"):
        evaluate(models[:2], photos, **args)
    assert "paintings" not in caplog.text  # the same picture in two folders: one painting
    with caplog.at_level("WARNING"):
        evaluate(models, photos, **args)
    assert "trained on 2 paintings (other, style)" in caplog.text


def test_the_style_dir_asked_for_wins_over_a_file_of_the_name_here_and_a_missing_painting_is_said_first(
    tmp_path: Path, style_path: Path, random_vgg: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """A built-in style names only its painting's file (wave.jpg): a wave.jpg in the current folder, another
    painting, was scored against without a word, though --style-dir was given; and a model whose painting is
    missing, or a damaged model, was said once the models before it had been scored."""
    from fast_style.evaluation import evaluate as ev
    from fast_style.evaluation.paintings import find_style_image

    paintings = tmp_path / "paintings"
    paintings.mkdir()
    (paintings / "wave.jpg").write_bytes(style_path.read_bytes())
    here = tmp_path / "here"
    make_photo(here / "wave.jpg", size=(64, 48), seed=7)
    monkeypatch.chdir(here)
    assert find_style_image("wave.jpg", [str(paintings)]) == str(paintings / "wave.jpg")
    assert find_style_image("wave.jpg", []) == "wave.jpg"  # where it was, without a --style-dir
    assert find_style_image(str(style_path), [str(paintings)]) == str(style_path)  # a full path: as recorded
    make_photo(here / "mine" / "wave.jpg", size=(64, 48), seed=8)
    assert find_style_image("mine/wave.jpg", [str(paintings)]) == "mine/wave.jpg"  # a relative one too
    scored = []
    monkeypatch.setattr(ev, "Scorer", lambda *a, **k: scored.append(a) or pytest.fail("scored before the check"))
    options = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    with pytest.raises(UserError, match="the painting udnie.jpg is not there"):
        ev.evaluate(["wave-fast", "udnie-fast"], photos, style_dirs=[str(paintings)], **options)
    (tmp_path / "bad.pt").write_text("not a model")
    with pytest.raises(UserError, match="bad.pt"):
        ev.evaluate(["wave-fast", tmp_path / "bad.pt"], photos, style_dirs=[str(paintings)], **options)
    assert not scored
    # a painting found by its file name is said: the wave.jpg here (a stylized photo of the user's) had been scored
    # as a built-in style's painting without a word; a warning where it is the current folder's, no one's choice

    class Scored(Exception):
        pass

    monkeypatch.setattr(ev, "Scorer", lambda *a, **k: (_ for _ in ()).throw(Scored))
    tiny = TransformerNet(channels=(4, 8, 8), num_residual=1)
    bare = save_style_model(tiny, tmp_path / "bare.pt", {"style_image": "wave.jpg"})  # as a built-in style's
    mine = save_style_model(tiny, tmp_path / "mine.pt", {"style_image": str(style_path)})
    for model, dirs, said in (
        (bare, [], ("WARNING", "bare is scored against wave.jpg in the current folder, the file of its painting's")),
        (bare, [str(paintings)], ("INFO", f"bare is scored against {paintings / 'wave.jpg'}, its painting found by")),
        (mine, [str(paintings)], None),  # by the path its model records: nothing to say
    ):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="fast_style.evaluation.evaluate"), pytest.raises(Scored):
            ev.evaluate([model], photos, style_dirs=dirs, **options)
        cut = len(said[1]) if said else None
        assert [(r.levelname, r.getMessage()[:cut]) for r in caplog.records] == ([said] if said else [])


def test_contact_sheet_labels_wrap_rather_than_cut_in_narrow_columns() -> None:
    """At --size 64 the labels were cut to 10 characters: the_scream headed both the_scream and the_scream-fast."""
    import numpy as np

    from fast_style.evaluation.contact_sheets import contact_sheet

    photos = [("p.jpg", torch.zeros(1, 3, 48, 64))]
    white = [[torch.ones(1, 3, 48, 64)]]

    def ink_rows(name: str) -> int:  # rows with text in the model's column (its picture is white)
        sheet = np.asarray(contact_sheet(photos, white, [name], 64).convert("L"))
        return int((sheet[:, 4 + 68 : 4 + 68 + 64] < 128).any(axis=1).sum())

    assert ink_rows("the_scream-fast") > ink_rows("the_scream")  # a second line: '-fast'


def _eval_args(models: Path, photos: list[Path], out: Path, vgg: Path, *extra: str) -> list[str]:
    folders = [str(p) for p in photos]
    return [str(models), "--photos", *folders, "--out", str(out), "--weights", str(vgg), "--size", "32",
            "--style-size", "32", "--no-judge", *extra]  # fmt: skip


def test_photos_of_one_name_in_two_folders_keep_their_own_reference_and_name(
    sweep: Path, tmp_path: Path, random_vgg: Path
) -> None:
    """The reference was keyed by file name: the second x.jpg was divided by the first one's optimized loss."""
    a = make_photo(tmp_path / "pa" / "x.jpg", size=(40, 32), seed=1).parent
    b = make_photo(tmp_path / "pb" / "x.jpg", size=(40, 32), seed=7).parent
    make_photo(tmp_path / "pb" / "sub" / "y.jpg", size=(40, 32), seed=8)
    args = _eval_args(sweep, [a, b], tmp_path / "e", random_vgg, "--reference", "optimize:2", "--stability-photos", "0")
    assert eval_main(args) == 0
    report = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert report["photos"] == [str(a / "x.jpg"), "sub/y.jpg", str(b / "x.jpg")]
    swapped = _eval_args(
        sweep, [b, a], tmp_path / "f", random_vgg, "--reference", "optimize:2", "--stability-photos", "0"
    )
    assert eval_main(swapped) == 0
    again = json.loads((tmp_path / "f" / "metrics.json").read_text())
    for m, n in zip(report["models"], again["models"]):  # the same figures whichever folder comes first
        assert m["vs_reference"] == pytest.approx(n["vs_reference"], rel=1e-4)


def test_skipped_photos_make_the_run_done_in_part(
    sweep: Path, tmp_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    photos = make_photo(tmp_path / "mixed" / "good.jpg", size=(40, 32)).parent
    (photos / "text.jpg").write_text("not a photo")
    with caplog.at_level("INFO", logger="fast_style.evaluation.evaluate"):
        assert eval_main(_eval_args(sweep, [photos], tmp_path / "e", random_vgg, "--reference", "optimize:1")) == 1
    # warned once: the flicker's photos (at 384 px) are the ones scored, not the folder read again
    assert sum("skipping" in r.getMessage() for r in caplog.records) == 1
    said = capsys.readouterr()
    assert "1 photo skipped (see above); scored on 1" in said.err  # after the warning
    assert said.out.startswith("1 photo; losses under the ")  # (it said "1 photos", and "on 1 photos" as it went)
    assert "(1 of 2) on 1 photo" in caplog.text and "1 photos" not in caplog.text
    assert "reference for photo 1 of 1: 1 L-BFGS iteration\n" in caplog.text  # (not "1 L-BFGS iterations")
    assert (tmp_path / "e" / "metrics.json").exists()


def test_the_flicker_clips_do_not_depend_on_size(
    sweep: Path, tmp_path: Path, random_vgg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clips were cut from the photos at --size: flicker 1.3 at 384 px, 4.2 at 64 for one model."""
    import fast_style.evaluation.evaluate as evaluate
    from fast_style.evaluation.photos import STABILITY_SIZE

    photos = make_photo(tmp_path / "p" / "big.jpg", size=(600, 450)).parent
    seen = {}

    def spy(models, photos, *args, **kwargs):
        seen["scored"] = [p.shape[-2:] for _, p in photos]
        seen["clips"] = [p.shape[-2:] for _, p in args[-1]]
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "evaluate", spy)
    assert eval_main(_eval_args(sweep, [photos], tmp_path / "e", random_vgg)) == 130
    assert seen == {"scored": [(24, 32)], "clips": [(288, STABILITY_SIZE)]}


def test_a_ctrl_c_once_the_reports_are_written_is_no_interruption(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A Ctrl-C as the table was printed, the reports written, said "interrupted", exit code 130 (as
    fast-style-stylize's, -export's and -optimize's had): the tool calls fast_style.cli.finished() first."""
    import builtins
    import os
    import signal

    import fast_style.cli.evaluate as cli
    import fast_style.evaluation.evaluate as evaluate
    import fast_style.evaluation.reports as reports

    def print_then_ctrl_c(*args, **kwargs):
        builtins.print(*args, **kwargs)
        if "file" not in kwargs:  # the table, on stdout
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(evaluate, "evaluate", lambda *args, **kwargs: ([], []))
    monkeypatch.setattr(reports, "write_reports", lambda out, *args, **kwargs: [out / "metrics.csv"])
    monkeypatch.setattr(cli, "print", print_then_ctrl_c, raising=False)
    photos = make_photo(tmp_path / "p" / "a.jpg", size=(40, 32)).parent
    assert eval_main(_eval_args(sweep, [photos], tmp_path / "e", Path("caffe"), "--stability-photos", "0")) == 0
    said = capsys.readouterr()
    assert "metrics.csv" in said.out and "interrupted" not in said.err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the caller's Ctrl-C back


def test_a_first_call_is_not_timed(
    tmp_path: Path, style_path: Path, random_vgg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import fast_style.evaluation.evaluate as evaluate

    class SlowFirst(torch.nn.Module):  # a network's first call sets itself up (oneDNN, allocations)
        calls = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            SlowFirst.calls += 1
            if SlowFirst.calls == 1:
                time.sleep(1.0)
            return x

    monkeypatch.setattr(evaluate, "load_style_model", lambda path: (SlowFirst(), {"style_image": str(style_path)}))
    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    (tmp_path / "m.pt").write_bytes(b"read by the stand-in above")
    options = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    scores, _ = evaluate.evaluate([tmp_path / "m.pt"], photos, **options)
    assert scores[0].ms_per_image < 500


def test_evaluate_in_python_takes_a_built_in_styles_name(style_path: Path, random_vgg: Path) -> None:
    from fast_style.evaluation.evaluate import evaluate

    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]  # 'str' object has no attribute 'parent' before
    options = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    scores, _ = evaluate(["wave-fast"], photos, style_image=str(style_path), **options)
    assert [s.name for s in scores] == ["wave-fast"]


def test_evaluate_in_python_checks_reference_iterations_first() -> None:
    # -1 failed once the first photo was scored, as optimize_image's "iterations must be a whole number >= 0"
    from fast_style.evaluation.evaluate import evaluate

    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    # before any model is read (wave-fast's painting is not given here): a wrong number a UserError, a value of
    # the wrong type (a bool, a string) a TypeError, as every setting's check
    for wrong, error in ((-1, UserError), (0.5, UserError), (True, TypeError), ("3", TypeError)):
        with pytest.raises(error, match=r"^reference_iterations must be a whole number of L-BFGS iterations >= 0"):
            evaluate(["wave-fast"], photos, judge=False, stability_photos=0, reference_iterations=wrong)


def test_a_failed_rewrite_of_a_report_leaves_the_earlier_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the contact sheet had left the new tables beside the old sheet: a report that looked whole."""
    import errno

    from fast_style.atomic import DiskError
    from fast_style.evaluation.reports import write_reports
    from fast_style.evaluation.scores import ModelScore

    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    score = ModelScore("m", "m.pt", "s.jpg", total=1.0, content=1.0, style=1.0, tv=0.0, coverage=0.5)
    write_reports(tmp_path, [score], [[torch.rand(1, 3, 32, 32)]], photos, "caffe")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full(self, fp, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    score.name = "another"
    with monkeypatch.context() as patch:
        patch.setattr(Image.Image, "save", full)
        with pytest.raises(DiskError, match="contact_sheet.png: No space left on device"):
            write_reports(tmp_path, [score], [[torch.rand(1, 3, 32, 32)]], photos, "caffe", force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left either
    import fast_style.atomic as atomic

    synced = []

    def fsync(fd: int) -> None:  # a late full disk (delayed allocation, NFS) at the second file's sync
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(DiskError, match="metrics.json: No space left on device"):
        write_reports(tmp_path, [score], [[torch.rand(1, 3, 32, 32)]], photos, "caffe", force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the first was not renamed alone


@pytest.mark.parametrize("tool", ["eval", "optimize"])
def test_an_unwritable_destination_is_refused_before_the_work(
    tool: str, sweep: Path, tmp_path: Path, style_path: Path, random_vgg: Path, monkeypatch, capsys
) -> None:
    """A read-only folder was found only when the results were written (a whole evaluation, every iteration)."""
    import errno

    import fast_style.atomic as atomic
    import fast_style.outputs as outputs

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    photo = make_photo(tmp_path / "photos" / "p.jpg", size=(40, 32))
    out = tmp_path / "ro"
    out.mkdir()
    monkeypatch.setattr(outputs, "mkstemp", read_only)  # the check before the work
    monkeypatch.setattr(atomic, "mkstemp", read_only)  # and the write after it
    if tool == "eval":
        code = eval_main(_eval_args(sweep, [photo.parent], out, random_vgg))
    else:
        code = optimize_main(
            [str(photo), "-s", str(style_path), "-o", str(out / "x.png"), "--weights", str(random_vgg)]
        )
    assert code == 2
    assert f"cannot write in {out} (Read-only file system): choose another place" in capsys.readouterr().err


def test_a_destination_through_a_link_to_nothing_is_refused_before_the_work(
    tmp_path: Path, style_path: Path, random_vgg: Path, capsys
) -> None:
    """A dangling link passed the check (its parent was probed) and failed after every iteration: 'is a file'."""
    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    (tmp_path / "dang").symlink_to(tmp_path / "nowhere" / "dir")
    code = optimize_main(
        [
            str(photo),
            "-s",
            str(style_path),
            "-o",
            str(tmp_path / "dang" / "x.png"),
            "--weights",
            str(random_vgg),
            "--iterations",
            "1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"dang is a link to {tmp_path / 'nowhere' / 'dir'}, which does not exist" in err


def test_optimize_refuses_a_photo_too_thin_for_the_vgg(
    tmp_path: Path, style_path: Path, random_vgg: Path, capsys: pytest.CaptureFixture
) -> None:
    """900x150 at --size 16 (16x3) ended in a RuntimeError's traceback from the VGG's poolings."""
    base = ["-s", str(style_path), "-o", str(tmp_path / "o.png"), "--weights", str(random_vgg)]
    thin = make_photo(tmp_path / "thin.jpg", size=(180, 30))
    assert optimize_main([str(thin), *base, "--size", "40"]) == 2
    assert "thin.jpg is 40x7 at --size 40, under 16 px a side: give --size 96 or more" in capsys.readouterr().err
    tiny = make_photo(tmp_path / "tiny.png", size=(10, 10))
    assert optimize_main([str(tiny), *base]) == 2
    assert "tiny.png is 10x10: under 16 px a side, too small" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_a_photo_over_pillows_limit_or_a_size_that_does_not_fit_is_one_line(
    sweep: Path,
    tmp_path: Path,
    style_path: Path,
    random_vgg: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pillow's DecompressionBombError and an allocation that fails (--style-size 16000) ended in tracebacks."""
    from PIL import Image

    from fast_style.perceptual import optimize

    photos = make_photo(tmp_path / "p" / "big.jpg", size=(200, 160)).parent
    make_photo(photos / "small.jpg", size=(20, 16))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3100)  # big.jpg is over it (the painting, 3,072 px, is not)
    assert eval_main(_eval_args(sweep, [photos], tmp_path / "e", random_vgg)) == 1  # skipped, the other scored
    assert "1 photo skipped (see above); scored on 1" in capsys.readouterr().err
    base = ["-s", str(style_path), "-o", str(tmp_path / "o.png"), "--weights", str(random_vgg), "--style-size", "32"]
    assert optimize_main([str(photos / "big.jpg"), *base]) == 2
    assert "cannot read " in capsys.readouterr().err
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)

    def no_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 36298752000 bytes.")

    monkeypatch.setattr(optimize, "optimize_image", no_memory)
    assert optimize_main([str(photos / "big.jpg"), *base]) == 2
    err = capsys.readouterr().err
    assert "error: out of memory (DefaultCPUAllocator: can't allocate memory" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_the_library_writers_keep_an_existing_file_unless_forced(tmp_path: Path) -> None:
    """From Python, stylize_video, stylize_animation, optimize.write_result and write_reports replaced an
    existing file silently (only the CLIs refused without --force): each refuses before any work now, and replaces
    it with force=True."""
    import fast_style.perceptual.optimize as optimize
    from fast_style.evaluation.reports import write_reports
    from fast_style.evaluation.scores import ModelScore
    from fast_style.media.animation import save_frames, stylize_animation
    from fast_style.media.video import stylize_video

    from .test_video import make_video

    calls: list[int] = []

    def same(frames):
        calls.append(len(frames))
        return frames

    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    save_frames([Image.new("RGB", (16, 12), (60 * i, 0, 0)) for i in range(2)], [100] * 2, 0, tmp_path / "a.gif")
    photos = [("p.jpg", torch.rand(1, 3, 32, 32))]
    score = ModelScore("m", "m.pt", "s.jpg", total=1.0, content=1.0, style=1.0, tv=0.0, coverage=0.5)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "metrics.json").write_text("mine")
    writers = {
        tmp_path / "out.mp4": lambda **kw: stylize_video(clip, tmp_path / "out.mp4", same, **kw),
        tmp_path / "out.gif": lambda **kw: stylize_animation(tmp_path / "a.gif", tmp_path / "out.gif", same, **kw),
        tmp_path / "o.png": lambda **kw: optimize.write_result(
            torch.rand(1, 3, 8, 8), [2.0, 1.0], tmp_path / "o.png", **kw
        ),
        reports / "metrics.json": lambda **kw: write_reports(
            reports, [score], [[torch.rand(1, 3, 32, 32)]], photos, "caffe", **kw
        ),
    }
    for path, write in writers.items():
        if not path.exists():
            path.write_text("mine")
        with pytest.raises(UserError, match=f"{re.escape(str(path))} exist.*use force=True"):
            write()
        assert path.read_text() == "mine" and not calls
        write(force=True)
        assert path.stat().st_size > 4 and path.read_bytes() != b"mine"
        calls.clear()
    for made in ("o.png", "o_loss.csv"):  # the curve beside an image: kept alone too
        (tmp_path / made).unlink()
    with pytest.raises(UserError, match="o_tensorboard holds an earlier loss curve: use force=True"):
        optimize.write_result(torch.rand(1, 3, 8, 8), [2.0, 1.0], tmp_path / "o.png")


def test_a_model_scored_nan_is_ranked_last() -> None:
    """sorted() with a NaN key left the others out of order (the best model ranked last behind a NaN one)."""
    from fast_style.evaluation.scores import ModelScore, ranked

    scores = [
        ModelScore(n, n, "s", total=t, coverage=c)
        for n, t, c in (("a", 3.0, 0.2), ("b", float("nan"), 0.9), ("c", 1.0, float("nan")), ("d", 2.0, 0.5))
    ]
    assert ranked(scores) == [2, 3, 0, 1]
    assert ranked(scores, "coverage") == [1, 3, 0, 2]
    # each --rank-by by its own figure (only total and coverage had been ranked by: the others could rank by any),
    # lower first, a figure not measured (None) last
    four = [
        ModelScore("a", "a", "s", total=1, style=4, content=2, flicker=None, judge_style=3),
        ModelScore("b", "b", "s", total=2, style=1, content=4, flicker=2.0, judge_style=None),
        ModelScore("c", "c", "s", total=3, style=3, content=1, flicker=1.0, judge_style=1),
        ModelScore("d", "d", "s", total=4, style=2, content=3, flicker=3.0, judge_style=2),
    ]
    orders = {by: ranked(four, by) for by in ("total", "style", "content", "flicker", "judge_style")}
    assert orders == {
        "total": [0, 1, 2, 3],
        "style": [1, 3, 2, 0],
        "content": [2, 0, 3, 1],
        "flicker": [2, 1, 3, 0],
        "judge_style": [2, 3, 0, 1],
    }


def test_eval_takes_overlapping_folders_damaged_records_and_says_what_to_give(
    sweep: Path,
    tmp_path: Path,
    random_vgg: Path,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--photos a a/sub scored a/sub's photos twice; a damaged .hydra/overrides.yaml was a YAML traceback; --out ''
    wrote the reports into the current folder; a photo folder given as a model said 'no style.pt below' alone;
    a painting over the bomb guard named Pillow's setting alone (now --max-image-pixels, which eval takes too)."""
    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", before)  # (in case the tool leaves it set)
    photos = tmp_path / "held_out"
    make_photo(photos / "p0.jpg", size=(40, 32), seed=1)
    make_photo(photos / "sub" / "p1.jpg", size=(40, 32), seed=2)
    (sweep / "1" / ".hydra" / "overrides.yaml").write_text("{{{ not yaml: [\n")
    common = ["--weights", str(random_vgg), "--size", "32", "--style-size", "32", "--no-judge"]
    common += ["--stability-photos", "0"]
    out = tmp_path / "eval"
    assert eval_main([str(sweep), "--photos", str(photos), str(photos / "sub"), "--out", str(out), *common]) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["photos"] == ["p0.jpg", "sub/p1.jpg"] and len(report["models"]) == 2
    assert "overrides.yaml cannot be read (while parsing a flow node): its run is named by its folder" in caplog.text
    assert eval_main([str(sweep), "--photos", str(photos), "--out", "", *common]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert eval_main([str(photos), "--photos", str(photos), "--out", str(tmp_path / "e2"), *common]) == 2
    assert "the photos go after --photos" in capsys.readouterr().err
    assert (
        eval_main(
            [str(sweep), "--photos", str(photos), "--out", str(tmp_path / "e3"), *common, "--max-image-pixels", "1300"]
        )
        == 2
    )
    assert (
        "style.png: more pixels than Pillow's guard against decompression bombs allows (1300: --max-image-pixels"
        in (capsys.readouterr().err)
    )
    assert Image.MAX_IMAGE_PIXELS == before  # Pillow's own limit again (it stayed 1300 for the rest of the process)
    # a photo over the limit but not twice it is skipped as one over it (it was scored, with Pillow's warning)
    painting = make_photo(tmp_path / "painting.png", size=(30, 30), seed=4)
    make_photo(photos / "sub" / "p2.png", size=(30, 30), seed=3)
    args = [str(sweep), "--photos", str(photos), "--out", str(tmp_path / "e4"), *common, "--style", str(painting)]
    assert eval_main([*args, "--max-image-pixels", "1000"]) == 1
    said = "more pixels than Pillow's guard against decompression bombs allows (1000: --max-image-pixels)"
    assert (
        f"skipping {photos / 'p0.jpg'}: {said}" in caplog.text
        and f"skipping {photos / 'sub' / 'p1.jpg'}" in caplog.text
    )
    assert json.loads((tmp_path / "e4" / "metrics.json").read_text())["photos"] == ["sub/p2.png"]


def test_evaluate_holds_one_network_at_a_time_and_only_the_kept_pictures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, style_path: Path, random_vgg: Path
) -> None:
    import weakref

    from fast_style.evaluation import evaluate

    alive: weakref.WeakSet[torch.nn.Module] = weakref.WeakSet()
    most = []

    class Counted(torch.nn.Module):  # how many networks are in memory while one stylizes
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if len(alive) > 1:  # (only then: garbage collection, ~0.1 s a call, only ever lowers the count)
                gc.collect()
            most.append(len(alive))
            return x

    def load(path: str) -> tuple[torch.nn.Module, dict]:
        net = Counted()
        alive.add(net)
        return net, {"style_image": str(style_path)}

    monkeypatch.setattr(evaluate, "load_style_model", load)
    photos = [(f"p{i}.jpg", torch.rand(1, 3, 32, 32)) for i in range(5)]
    models = [tmp_path / f"m{i}.pt" for i in range(3)]
    for m in models:
        m.write_bytes(b"read by the stand-in above")
    options = {"weights": str(random_vgg), "judge": False, "stability_photos": 0, "style_size": 32}
    _, outputs = evaluate.evaluate(models, photos, keep=[0, 4], **options)
    assert [sorted(o) for o in outputs] == [[0, 4]] * 3  # the contact sheet's rows only, by photo number
    assert torch.equal(outputs[2][4], photos[4][1])
    assert max(most) == 1  # all three had been held from the start


def test_photos_all_over_the_pixel_limit_are_told_to_raise_it_not_to_be_larger(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every photo over --max-image-pixels ended in "give readable photos at least 16 px a side": they were."""
    make_photo(tmp_path / "p" / "a.jpg", size=(40, 32), seed=1)
    make_photo(tmp_path / "p" / "b.jpg", size=(40, 32), seed=2)
    args = [str(sweep), "--photos", str(tmp_path / "p"), "--out", str(tmp_path / "e"), "--no-judge", "--size", "32"]
    assert eval_main([*args, "--max-image-pixels", "100"]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        "could be used (see the warnings above): raise --max-image-pixels if you trust them, or give smaller copies\n"
    )
    assert not (tmp_path / "e").exists()
