"""The maintainer scripts in scripts/: a mistake is one line (`error: ...` or `PROG: error: ...`, exit 2), said
before any work, never a traceback; an existing output is kept unless --force."""

import runpy
import sys
from pathlib import Path

import pytest

from .conftest import make_photo

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _one_line(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.syspath_prepend(str(SCRIPTS))  # (as when run as a file: scripts/ first on the path)
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPTS / argv[0]), run_name="__main__")
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "argv, said",
    [
        (["benchmark_colours.py", "nope"], "invalid choice: 'nope'"),
        (["benchmark_smoothing.py", "--photos", "{photos}", "--clips", "1"], "--clips 1 needs 2"),
        (["benchmark_smoothing.py", "--photos", "{broken}", "--clips", "1"], "b.jpg: cannot identify image file"),
        (["benchmark_smoothing.py", "--photos", "{photos}", "--models", "wave", "{broken}/m.pt"], "m.pt is not a"),
        (["benchmark_stylize.py", "--sizes", "0"], "each > 0, got '0'"),
        (["benchmark_video.py", "--size", "65x49"], "even numbers > 0"),
        (["benchmark_video.py", "--photo", "{broken}/b.jpg"], "b.jpg: cannot identify image file"),
        (["benchmark_train.py", "--data", "{missing}", "--loader-only"], "--data "),
        (["benchmark_train.py", "--warmup", "-1"], "--warmup takes a number >= 0"),
        (["benchmark_train.py", "--data", "{photos}", "--cache-dir", "{photo}", "--loader-only"], "is a file: give"),
        (["benchmark_train.py", "--data", "{photos}", "--workers", "-1"], "--workers takes a number >= 0"),
        (["coverage_calibration.py", "--coco", "{photos}", "--style-dir", "{photos}", "--styles", "nope"], "'nope'"),
        (["flicker_strip.py", "--photo", "{photo}", "--models", "wave", "-o", "{output}"], "use --force"),
        (["flicker_strip.py", "--photo", "{photo}", "--models", "wave", "-o", "x.xyz"], "give a .png picture"),
        (["flicker_strip.py", "--photo", "{photo}", "--models", "wave", "--smooth", "1.5", "-o", "x.png"], "1.5"),
        (["live_page_fps.py", "--style", "nope"], "unknown style 'nope'"),
        (["load_test_server.py", "--repeat", "0"], "--repeat: must be a finite number > 0"),
        (["run_summary.py", "{photos}", "--csv", "{output}"], "use --force"),
        (["run_summary.py", "{photos}", "--csv", "{photos}"], "it is a folder"),
        (["table_plot.py", "{table}", "--after", "Speed", "--x", "nope", "--y", "ms", "--label", "engine"], "'nope'"),
        (["table_plot.py", "{table}", "--after", "Speed", "--x", "px", "--y", "ms", "--label", "engine"], "'fast'"),
    ],
)
def test_a_scripts_mistake_is_one_line_before_any_work(
    argv: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    make_photo(photos / "a.jpg")
    output = tmp_path / "made.png"
    output.write_text("made before")
    table = tmp_path / "t.md"
    table.write_text("## Speed\n\n| engine | px | ms |\n| --- | --- | --- |\n| eager | fast | 3 |\n")
    broken = tmp_path / "broken"  # a photo and a file named as one that is none (PIL's traceback)
    make_photo(broken / "a.jpg")
    (broken / "b.jpg").write_text("not a picture")
    (broken / "m.pt").write_text("not a model")
    names = {"photos": photos, "photo": photos / "a.jpg", "missing": tmp_path / "nonexist", "output": output}
    argv = [a.format(**names, table=table, broken=broken) for a in argv]
    assert said in _one_line(argv, monkeypatch, capsys)
    assert output.read_text() == "made before"
