"""scripts/zoo_report.py (`make zoo-report`): the zoo's quality report, its flicker measured as fast-style-eval's,
and its mistakes in one line."""

import runpy
import sys
from pathlib import Path

import pytest

from fast_style.errors import UserError
from fast_style.evaluation import contact_sheets, evaluate
from fast_style.evaluation.photos import STABILITY_SIZE

from .conftest import make_photo

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "zoo_report.py"


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["zoo_report.py", *args])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    return done.value.code


def test_the_flicker_clips_are_read_at_one_size_whatever_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's flicker came from clips cut at --size (3.86 at 64 px for a model that fast-style-eval measures
    at 1.31), and --write-manifests would have stored it."""
    photos = tmp_path / "photos"
    for seed in range(2):
        make_photo(photos / f"p{seed}.png", size=(480, 360), seed=seed)
    seen: dict = {}

    def scored(models: list, photos: list, **kw: object) -> None:
        seen.update(kw, photos=photos)
        raise UserError("stopped here")

    monkeypatch.setattr(evaluate, "evaluate", scored)
    args = ["--photos", str(photos), "--style-dir", str(tmp_path), "--styles", "wave", "--out", str(tmp_path / "r")]
    assert _run(monkeypatch, *args, "--size", "64") == 2
    assert [max(p.shape[-2:]) for _, p in seen["photos"]] == [64, 64]
    assert [max(c.shape[-2:]) for _, c in seen["clip_photos"]] == [STABILITY_SIZE] * 2
    assert seen["stability_photos"] == 2 and not (tmp_path / "r").exists()  # nothing written before the figures


def test_mistakes_are_one_line_and_leave_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Each was a traceback (the COCO folder's named as a temporary folder), after an empty --out was made."""
    out = tmp_path / "r"
    (tmp_path / "empty").mkdir()
    cases = [
        (["--coco", str(tmp_path / "nodir"), "--style-dir", str(tmp_path)], "nodir is not a folder: give the COCO"),
        (["--coco", str(tmp_path / "empty"), "--style-dir", str(tmp_path)], "empty holds no photos"),
        (["--style-dir", str(tmp_path)], "no photos: give --coco"),
        (["--photos", str(tmp_path), "--style-dir", str(tmp_path / "nodir")], "nodir is not a folder: give the folder"),
        # (its contact sheet was scored as a photo by the next report)
        (
            ["--photos", str(tmp_path), "--style-dir", str(tmp_path)],
            f"--out is inside the --photos folder {tmp_path} (",
        ),
        (["--coco", str(tmp_path), "--style-dir", str(tmp_path)], f"--out is inside the --coco folder {tmp_path} ("),
        # options that went unread, or read as another (one row), without a word, as fast-style-eval refuses them
        (
            ["--photos", str(tmp_path), "--style-dir", str(tmp_path), "--no-judge", "--judge-weights", "torchvision"],
            "--judge-weights are the judge's, which --no-judge leaves out",
        ),
        (["--photos", str(tmp_path), "--style-dir", str(tmp_path), "--sheet-rows", "-1"], "--sheet-rows -1: give"),
    ]
    for args, said in cases:
        assert _run(monkeypatch, *args, "--out", str(out)) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and said in err, err
        assert not out.exists()


def test_an_earlier_report_is_kept_without_force_and_a_missing_judge_is_shown_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """An earlier fast-style-eval report in --out was replaced without a word (its metrics.csv left beside the new
    files); without the judge (its weights not to be had) the table failed on its figures, after all the work, in a
    traceback; a bad --sheet-cell failed there too."""
    import torch

    from fast_style.evaluation.scores import ModelScore

    photos = tmp_path / "photos"
    make_photo(photos / "p.png", size=(64, 48))
    out = tmp_path / "r"
    out.mkdir()
    for name in ("metrics.csv", "metrics.json"):
        (out / name).write_text("an earlier evaluation")

    def scored(models: list, photos: list, **kw: object) -> tuple:
        score = ModelScore("wave", "wave.pt", "wave.jpg", 1.0, 2.0, flicker=1.0, flicker_zoom=1.0)
        return [score], [[torch.rand(1, 3, 48, 64) for _ in photos]]

    monkeypatch.setattr(evaluate, "evaluate", scored)
    args = ["--photos", str(photos), "--style-dir", str(tmp_path), "--styles", "wave", "--out", str(out)]
    for more, said in (
        ([], "metrics.json exist: "),
        (
            ["--sheet-cell", "-5"],
            "--sheet-cell must be a whole number of pixels within 32..4096 (0: full size), got -5",
        ),
        (["--write-manifests", "--no-judge"], "--write-manifests stores the judge's figures too"),
        (["--force", "--judge-weights", str(tmp_path / "none.pth")], "--judge-weights " + str(tmp_path / "none.pth")),
    ):
        assert _run(monkeypatch, *args, *more) == 2
        assert said in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == "an earlier evaluation"
    assert _run(monkeypatch, *args, "--force") == 0
    table = capsys.readouterr().out
    assert "| `wave` | " in table and " | - | - | 1.00 | 1.00 | " in table, table  # the judge's: not measured
    assert (out / "contact_sheet.png").is_file() and not (out / "metrics.csv").exists()
    assert '"judge_style": null' in (out / "metrics.json").read_text()


def test_a_style_given_twice_is_scored_and_labelled_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """--styles wave wave udnie scored wave and udnie, then paired the names with the scores in turn: udnie's
    figures came out as a second `wave` row, its column labelled wave (and --write-manifests wrote them to wave's)."""
    import torch

    from fast_style.evaluation.scores import ModelScore

    photos = tmp_path / "photos"
    make_photo(photos / "p.png", size=(64, 48))
    labels: list = []

    def scored(models: list, photos: list, **kw: object) -> tuple:
        figures = {"flicker": 1.0, "flicker_zoom": 1.0}
        scores = [ModelScore(Path(m).stem, str(m), "s.jpg", 1.0 + i, **figures) for i, m in enumerate(models)]
        return scores, [[torch.rand(1, 3, 48, 64) for _ in photos] for _ in models]

    def sheet(photos: list, columns: list, names: list, cell: int) -> object:
        labels.append((len(columns), names))
        return real_sheet(photos, columns, names, cell)

    real_sheet = contact_sheets.contact_sheet
    monkeypatch.setattr(evaluate, "evaluate", scored)
    monkeypatch.setattr(contact_sheets, "contact_sheet", sheet)
    args = ["--photos", str(photos), "--style-dir", str(tmp_path), "--out", str(tmp_path / "r"), "--no-judge"]
    assert _run(monkeypatch, *args, "--styles", "wave", "wave", "udnie") == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in rows] == ["| `wave`", "| `udnie`"]
    assert [row.split(" | ")[3] for row in rows] == ["1", "2"]  # each style's own content loss
    assert labels == [(2, ["wave", "udnie"])]


def test_coco_photos_of_one_name_in_two_sub_folders_are_both_held_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two held-out photos named alike in two sub-folders of --coco were a FileExistsError's traceback."""
    for folder in ("a", "b"):
        for i in range(12):
            make_photo(tmp_path / "coco" / folder / f"x{i:02d}.png", size=(20, 16), seed=i)
    seen: dict = {}

    def scored(models: list, photos: list, **kw: object) -> None:
        seen.update(photos=photos)
        raise UserError("stopped here")

    monkeypatch.setattr(evaluate, "evaluate", scored)
    args = ["--coco", str(tmp_path / "coco"), "--style-dir", str(tmp_path), "--styles", "wave"]
    assert _run(monkeypatch, *args, "--out", str(tmp_path / "r"), "--size", "20") == 2
    assert [name for name, _ in seen["photos"]] == ["a/x00.png", "b/x00.png"]
