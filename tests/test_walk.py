"""Walking a folder tree (fast_style/walk.py): links to folders followed once, an unreadable folder named."""

import logging
import os
from pathlib import Path

import pytest

from fast_style.evaluation.models import find_models
from fast_style.media.images import find_images
from fast_style.walk import files_below

from .conftest import make_photo


def test_links_to_folders_are_followed_each_real_folder_once(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    make_photo(elsewhere / "b.jpg")
    root = tmp_path / "photos"
    make_photo(root / "a.png")
    (root / "notes.txt").write_text("not a photo")
    (root / "linked").symlink_to(elsewhere)  # rglob left it out
    (root / "linked" / "up").symlink_to(root)  # a loop back up the tree
    (root / "gone.jpg").symlink_to(tmp_path / "missing.jpg")  # a broken link is not a file
    assert find_images(root) == [root / "a.png", root / "linked" / "b.jpg"]
    assert files_below(root, lambda name: name.endswith(".txt")) == [root / "notes.txt"]


def test_hidden_files_and_folders_are_not_taken(tmp_path: Path) -> None:
    """macOS's `._a.jpg` companions failed as images and ended a folder run in part (exit 1); `.thumbnails`
    were stylized into the output."""
    root = tmp_path / "photos"
    make_photo(root / "a.jpg")
    (root / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    make_photo(root / ".thumbnails" / "t.jpg")
    make_photo(root / "sub" / ".hidden.png")
    make_photo(root / "sub" / "b.png")
    assert find_images(root) == [root / "a.jpg", root / "sub" / "b.png"]
    assert find_images(root / ".thumbnails") == [root / ".thumbnails" / "t.jpg"]  # given outright: taken


def test_an_unreadable_folder_is_named_not_skipped_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    make_photo(tmp_path / "ok" / "a.jpg")
    make_photo(tmp_path / "locked" / "b.jpg")
    scandir = os.scandir

    def denied(path):  # what a folder without read permission gives (the tests run as root, which reads all)
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    with caplog.at_level(logging.WARNING):
        assert find_images(tmp_path) == [tmp_path / "ok" / "a.jpg"]
    assert f"{tmp_path / 'locked'}: cannot read this folder (Permission denied): skipped" in caplog.text


def test_eval_finds_the_runs_below_a_linked_folder(tmp_path: Path) -> None:
    run = tmp_path / "outputs" / "2026-12-04" / "10-00-00"
    run.mkdir(parents=True)
    (run / "style.pt").write_bytes(b"a model")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "wave").symlink_to(run)
    assert find_models([str(tmp_path / "runs")]) == [tmp_path / "runs" / "wave" / "style.pt"]


def test_a_folder_reached_twice_is_named_by_its_first_path_in_sorted_order(tmp_path: Path) -> None:
    # the listing order (a file system's own) decided it: serve's style names and the photos' paths could differ
    for real, link in (("z_real", "a_link"), ("a_real", "z_link")):
        root = tmp_path / real.split("_")[0]
        make_photo(root / real / "p.jpg")
        (root / link).symlink_to(root / real)
        first = min(real, link)
        assert find_images(root) == [root / first / "p.jpg"]
