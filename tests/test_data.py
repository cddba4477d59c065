import errno
import logging
import os
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style.errors import UserError
from fast_style.media.images import find_images, open_rgb
from fast_style.perceptual.style_image import load_style_image
from fast_style.training.data import StyleDataModule

from .conftest import make_photo


def _corrupt(root: Path) -> list[Path]:
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.png").write_text("this is not an image")
    good = make_photo(root / "tmp_full.jpg", size=(64, 64))
    (root / "truncated.jpg").write_bytes(good.read_bytes()[:200])
    good.unlink()
    return [root / "empty.jpg", root / "notes.png", root / "truncated.jpg"]


def test_batches_have_the_crop_size_and_unit_range(photo_dir: Path) -> None:
    dm = StyleDataModule(str(photo_dir), image_size=32, batch_size=3, num_workers=0, num_val=2)
    dm.setup("fit")
    assert len(dm.train_files) == 8 and len(dm.val_files) == 2
    assert not set(dm.train_files) & set(dm.val_files)
    images, skipped = next(iter(dm.train_dataloader()))
    assert images.shape == (3, 3, 32, 32) and skipped == ()
    assert images.dtype == torch.float32 and 0 <= images.min() and images.max() <= 1
    assert dm.val_images(5).shape == (2, 3, 32, 32)


def test_held_out_images_are_fixed_by_the_seed(photo_dir: Path) -> None:
    picks = []
    for seed in (0, 0, 1):
        dm = StyleDataModule(str(photo_dir), image_size=32, num_workers=0, num_val=3, seed=seed)
        dm.setup()
        picks.append(dm.val_files)
    assert picks[0] == picks[1] and picks[0] != picks[2]


def test_a_photo_and_its_link_are_one_photo_and_a_val_root_inside_the_root_is_not_trained_on(
    photo_dir: Path, tmp_path: Path
) -> None:
    """A link beside each photo had it counted twice (the held-out one trained under its other name); photos/val/
    as data.val_root was trained on too, while said held out; a val_root none of whose photos can be read trained
    on without validation, without a word."""
    for i, photo in enumerate(sorted(p for p in photo_dir.rglob("*") if p.is_file())):
        link = photo_dir / f"link_{photo.name}"
        link.symlink_to(photo) if i % 2 else os.link(photo, link)  # (a hard link too: the same photo)
    dm = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    dm.setup()
    real = [os.stat(f).st_ino for f in dm.train_files + dm.val_files]
    assert len(real) == len(set(real)) == 10
    same = StyleDataModule(str(photo_dir), image_size=32, num_workers=0, num_val=2, val_root=str(photo_dir))
    same.setup()  # val_root the root itself: its held-out photos are not trained on (all were left out: refused)
    assert len(same.val_files) == 2 and len(same.train_files) == 8
    assert not {os.stat(f).st_ino for f in same.train_files} & {os.stat(f).st_ino for f in same.val_files}
    (photo_dir / "val").mkdir()
    for i in range(3):
        make_photo(photo_dir / "val" / f"v{i}.jpg", size=(40, 40), seed=50 + i)
    dm = StyleDataModule(str(photo_dir), image_size=32, num_workers=0, num_val=2, val_root=str(photo_dir / "val"))
    dm.setup()
    assert len(dm.val_files) == 2 and len(dm.train_files) == 10
    assert not [f for f in dm.train_files if f.parent.name == "val"]
    bad = tmp_path / "bad_val"
    bad.mkdir()
    _corrupt(bad)
    dm = StyleDataModule(str(photo_dir), image_size=32, num_workers=0, num_val=2, val_root=str(bad))
    with pytest.raises(UserError, match=r"^none of the photos tried in data.val_root '.*bad_val' could be read"):
        dm.setup()


def test_a_val_root_holding_every_photo_of_the_root_is_refused_in_one_line(photo_dir: Path, tmp_path: Path) -> None:
    """data.root=photos data.val_root=photos/all, where photos/all holds them all: it said "0 training images, fewer
    than batch_size=1: add images or lower data.batch_size", at batch size 1 too."""
    root = tmp_path / "mine"
    root.mkdir()
    photo_dir.rename(root / "all")
    dm = StyleDataModule(str(root), image_size=32, batch_size=1, num_workers=0, num_val=2, val_root=str(root / "all"))
    with pytest.raises(UserError, match=r"^data.val_root '.*all' holds every photo of data.root '.*mine' \(a fold"):
        dm.setup()


def test_a_resume_with_other_crops_or_batches_says_so(photo_dir: Path, caplog) -> None:
    """A resume with another data.image_size or data.batch_size trained on at it without a word (and its style
    model recorded the new image_size, though the steps before trained at the old one)."""
    first = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    first.setup()
    state = first.state_dict()
    same = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    same.setup()
    same.load_state_dict(state)
    assert "resumed with" not in caplog.text
    other = StyleDataModule(str(photo_dir), image_size=48, batch_size=3, num_workers=0, num_val=2)
    other.setup()
    other.load_state_dict(state)
    assert (
        "resumed with data.image_size=48, data.batch_size=3 where the checkpoint's run trained with "
        "data.image_size=32, data.batch_size=2" in caplog.text
    )
    caplog.clear()
    size = StyleDataModule(str(photo_dir), image_size=64, batch_size=2, num_workers=0, num_val=2)
    size.setup()
    size.load_state_dict(state)
    assert "resumed with data.image_size=64 where the checkpoint's run trained with data.image_size=32:" in caplog.text
    caplog.clear()
    size.load_state_dict({k: v for k, v in state.items() if k not in ("image_size", "batch_size")})  # an older one
    assert "resumed with" not in caplog.text


def test_a_resume_holds_out_the_photos_the_checkpoint_held_out(photo_dir: Path, caplog) -> None:
    """The held-out set was drawn again from the photos there: one removed meanwhile held out photos already
    trained on (and the val/* curves changed photos mid-run)."""
    first = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    first.setup()
    state = first.state_dict()
    assert sorted(state["held_out"]) == sorted(f.relative_to(photo_dir).as_posix() for f in first.val_files)
    trained = next(f for f in sorted(first.train_files) if f.name != "img0.png")
    trained.unlink()
    again = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    again.setup()
    assert again.val_files != first.val_files  # (drawn again: the set the resume must not use)
    again.load_state_dict(state)
    assert again.val_files == first.val_files and not set(again.train_files) & set(again.val_files)
    assert len(again.train_files) == 7
    other = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=0)
    other.setup()  # another data.num_val asked for (0: validation off): this launch's, said
    other.load_state_dict(state)
    assert other.val_files == [] and len(other.train_files) == 9
    said = "data.num_val=0, the checkpoint held out 2: validation is off from here on, and those photos train too"
    assert said in caplog.text and "drawn again" not in caplog.text  # (none is drawn)
    first.val_files[0].unlink()  # one of them gone: the other stays held out, said
    last = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    last.setup()
    last.load_state_dict(state)
    assert last.val_files == first.val_files[1:] and "1 of the 2 photos held out for validation is gone" in caplog.text
    first.val_files[1].unlink()  # both gone: this launch's own draw, said so (it said "validating on the 0 left")
    gone = StyleDataModule(str(photo_dir), image_size=32, batch_size=2, num_workers=0, num_val=2)
    gone.setup()
    drawn = list(gone.val_files)
    gone.load_state_dict(state)
    assert gone.val_files == drawn and "validating on the 0 left" not in caplog.text
    assert "the 2 photos held out for validation are gone from data.root: the held-out photos are drawn again" in (
        caplog.text
    )


def test_no_pixel_limit_means_none_not_pillows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """data.max_image_pixels=null, which the refusal of a folder of large scans names, still applied Pillow's limit."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # (as Pillow's 89 MP is to a 9500x9500 scan)
    for i in range(3):
        make_photo(tmp_path / f"scan{i}.png", size=(64, 64), seed=i)
    for limit in (None, 0):
        dm = StyleDataModule(
            str(tmp_path), image_size=32, batch_size=2, num_workers=0, num_val=1, max_image_pixels=limit
        )
        dm.setup()
        assert len(dm.train_files) == 2 and dm.val_images(1).shape == (1, 3, 32, 32)


def test_unreadable_files_are_skipped_and_named(photo_dir: Path) -> None:
    bad = _corrupt(photo_dir)
    dm = StyleDataModule(str(photo_dir), image_size=32, batch_size=13, num_workers=0, num_val=0)
    dm.setup()  # (those met while looking for one readable photo are named and left out here)
    dm.train_files = find_images(photo_dir)  # the loader's own skipping
    assert len(dm.train_files) == 13
    batches = list(dm.train_dataloader())
    assert len(batches) == 1
    images, skipped = batches[0]  # each named with its reason: the training process warns once per file
    assert images.shape == (10, 3, 32, 32)
    assert sorted(u.path for u in skipped) == sorted(map(str, bad)) and all(u.reason for u in skipped)


def test_a_batch_of_only_bad_files_is_empty(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    _corrupt(root)
    make_photo(root / "ok.png")
    dm = StyleDataModule(str(root), image_size=16, batch_size=4, num_workers=0, num_val=0, seed=0)
    dm.setup()
    dm.train_files = [f for f in dm.train_files if f.name != "ok.png"] + [root / "ok.png"]  # bad ones first
    loader = dm.train_dataloader()
    loader = torch.utils.data.DataLoader(loader.dataset, batch_size=3, collate_fn=loader.collate_fn)  # in order
    (first, skipped_first), (second, skipped_second) = list(loader)
    assert first.numel() == 0 and len(skipped_first) == 3  # three bad files: an empty batch, the three named
    assert second.shape == (1, 3, 16, 16) and skipped_second == ()


def test_greyscale_palette_and_alpha_images_become_rgb(tmp_path: Path) -> None:
    for mode in ("L", "P", "RGBA", "LA", "CMYK"):
        path = make_photo(tmp_path / f"x_{mode}.{'jpg' if mode == 'CMYK' else 'png'}", mode=mode)
        img = open_rgb(path)
        assert img.mode == "RGB" and img.size == (48, 40)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    assert open_rgb(tmp_path / "rot.jpg").size == (20, 40)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no"),
    ],
)
def test_missing_or_empty_folder_is_one_line_error(tmp_path: Path, make, match: str) -> None:
    dm = StyleDataModule(str(make(tmp_path)), num_workers=0)
    with pytest.raises(UserError, match=match) as err:
        dm.setup()
    assert "\n" not in str(err.value)


def test_a_missing_coco_folder_names_the_tool_that_fills_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # data.root's default, data/coco/train2017, missing: it said to set data.root, not that fast-style-coco fills it
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        UserError,
        match=r"set data.root=.*, or download COCO's photos into it: fast-style-coco --out "
        r"data/coco$",
    ):
        StyleDataModule("data/coco/train2017", num_workers=0).setup()
    with pytest.raises(UserError, match=r"fast-style-coco --split val2017 --out 'my photos'$"):
        StyleDataModule("my photos/val2017", num_workers=0).setup()
    with pytest.raises(UserError, match=r"set data.root=path/to/photos \(a folder of photos\)$"):  # one's own folder
        StyleDataModule("photos", num_workers=0).setup()


@pytest.mark.parametrize("key", ["root", "val_root"])
def test_an_empty_folder_setting_is_one_line_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """data.root=$PHOTOS with the variable unset: Path("") is the current folder, whose photos trained."""
    for i in range(6):
        make_photo(tmp_path / f"{i}.png", seed=i)
    monkeypatch.chdir(tmp_path)
    folders = {"root": str(tmp_path), "val_root": None, key: " " if key == "val_root" else ""}
    with pytest.raises(UserError, match=rf"^data.{key} is empty \(an unset shell variable\?\): set data.{key}="):
        StyleDataModule(**folders, batch_size=1, num_workers=0, num_val=1).setup()


def test_too_few_images_for_a_batch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_photo(tmp_path / "a" / "one.png")
    make_photo(tmp_path / "two" / "one.png")
    make_photo(tmp_path / "two" / "two.png")
    with caplog.at_level(logging.INFO):  # no photo held out: said why TensorBoard's HParams tab stays empty
        StyleDataModule(str(tmp_path / "two"), batch_size=2, num_workers=0, num_val=0).setup()
    said = (
        "data: 2 training images, 0 held out for validation (none: TensorBoard gets no val/* curves, image grids or HP"
    )
    assert said in caplog.text
    dm = StyleDataModule(str(tmp_path / "a"), batch_size=4, num_workers=0, num_val=0)
    with pytest.raises(UserError, match="has 1 training image, fewer than batch_size=4"):  # (it said "1 ... images")
        dm.setup()
    dm = StyleDataModule(str(tmp_path / "a"), batch_size=2, num_workers=0, num_val=1)
    with pytest.raises(UserError, match="has 1 photo and data.num_val=1 holds it out for validation"):
        dm.setup()
    from types import SimpleNamespace

    dm = StyleDataModule(str(tmp_path / "a"), batch_size=1, num_workers=0, num_val=0)
    dm.trainer = SimpleNamespace(world_size=2)
    with pytest.raises(UserError, match="has 1 training image, fewer than one batch for each of the 2 processes"):
        dm.setup()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.png").write_text("this is not an image")
    with pytest.raises(UserError, match=r"^the only photo in '.*c' could not be read \(named in the warnings"):
        StyleDataModule(str(tmp_path / "c"), batch_size=1, num_workers=0, num_val=0).setup()
    from fast_style.media.images import OVER_LIMIT
    from fast_style.training.data import what_to_do

    assert what_to_do([f"big.jpg {OVER_LIMIT} 1 px", "damaged"]).endswith("(1 is larger than data.max_image_pixels)")
    for i in range(5):
        make_photo(tmp_path / "b" / f"{i}.png", seed=i)
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=2, num_workers=0, num_val=1000)
    # (it said not why those left were too few, nor that a smaller batch would do)
    with pytest.raises(UserError, match=r"num_val=1000 would hold out all but 0 of the 5 photos in '.*', fewer tha"):
        dm.setup()
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=2, num_workers=0, num_val=4)
    with pytest.raises(UserError, match=r"fewer than a batch \(data.batch_size=2\): lower data.num_val or data.batc"):
        dm.setup()
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=1000, num_workers=0, num_val=2)
    with pytest.raises(UserError, match="3 training images, fewer than batch_size=1000"):  # it blamed num_val
        dm.setup()
    # validation takes every photo and the batch is larger than the folder: lowering the batch alone, as the
    # message said, met the hold-out's refusal next
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=6, num_workers=0, num_val=5)
    with pytest.raises(UserError, match="has 5 photos and data.num_val=5 holds them all out .*lower data.num_val"):
        dm.setup()
    # DDP: a batch for each process (4 photos, batch 4, 2 processes trained nothing and exited 0)
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=4, num_workers=0, num_val=1)
    dm.trainer = SimpleNamespace(world_size=2)
    with pytest.raises(
        UserError, match="4 training images, fewer than one batch for each of the 2 processes .* at most 2"
    ):
        dm.setup()
    dm = StyleDataModule(str(tmp_path / "b"), batch_size=2, num_workers=0, num_val=1)
    dm.trainer = SimpleNamespace(world_size=8)  # fewer photos than processes: "at most 0", which is refused
    with pytest.raises(UserError, match=r"have at least 16 training images \(a batch for each process\), or train"):
        dm.setup()


def test_the_training_loader_says_nothing_of_torchdata_s_use_of_a_deprecated_torch_function() -> None:
    """(Left out where the loader is made: a filter set as fast_style.training.data was imported had changed the
    warning filters of every program importing it; test_layout holds the package to that.)"""
    import warnings

    from fast_style.training.data import _TrainLoader

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        _TrainLoader([torch.zeros(3)] * 2, batch_size=1)
        assert warnings.filters == before  # (as they were, once it is made)
    assert not [w for w in said if "set_vital" in str(w.message)]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(UserError, match="image_size"):
        StyleDataModule("x", image_size=-5)


def test_style_image_loading(tmp_path: Path, style_path: Path) -> None:
    x = load_style_image(str(style_path), size=32)
    assert x.shape == (1, 3, 24, 32) and 0 <= x.min() and x.max() <= 1
    assert load_style_image(str(style_path), size=None).shape == (1, 3, 48, 64)
    with pytest.raises(UserError, match="not found"):
        load_style_image(str(tmp_path / "nope.jpg"))
    with pytest.raises(UserError, match="^style image 'https://x.org/a.jpg' is a web address, .*save the painting"):
        load_style_image("https://x.org/a.jpg")  # (it was "not found")
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    with pytest.raises(UserError, match="cannot read"):
        load_style_image(str(bad))
    tiny = make_photo(tmp_path / "tiny.png", size=(8, 8))
    with pytest.raises(UserError, match="at least 16"):
        load_style_image(str(tiny))


def test_images_over_the_pixel_limit_are_skipped_unread(tmp_path: Path) -> None:
    make_photo(tmp_path / "d" / "small.png", size=(40, 40))
    make_photo(tmp_path / "d" / "huge.png", size=(200, 100))
    dm = StyleDataModule(
        str(tmp_path / "d"), image_size=32, batch_size=1, num_workers=0, num_val=0, max_image_pixels=5000
    )
    dm.setup()
    dm.batch_size, dm.train_files = 2, find_images(tmp_path / "d")  # the loader's own skipping
    images, skipped = next(iter(dm.train_dataloader()))
    assert len(skipped) == 1 and images.shape == (1, 3, 32, 32)
    assert "over the limit of 5000 pixels" in skipped[0].reason


def test_a_pixel_limit_above_pillows_is_the_one_that_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """data.max_image_pixels above Pillow's 89 megapixels had those photos skipped by Pillow's limit anyway."""
    from fast_style.training.data import ImageFolder

    photo = make_photo(tmp_path / "big.png", size=(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's guard, scaled down: 4096 pixels are over it
    assert ImageFolder([photo], 32, True, max_pixels=10_000)[0].shape == (3, 32, 32)
    assert Image.MAX_IMAGE_PIXELS == 1000  # (lifted while the header was read, then put back)
    assert "over the limit of 4000" in ImageFolder([photo], 32, True, max_pixels=4000)[0].reason


def test_cache_holds_resized_copies_and_training_reads_them(
    photo_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _corrupt(photo_dir)
    cache = tmp_path / "cache"
    dm = StyleDataModule(str(photo_dir), image_size=24, batch_size=2, num_workers=0, num_val=2, cache_dir=str(cache))
    dm.prepare_data()
    copies = sorted(cache.rglob("*.jpg"))
    assert len(copies) == 10  # the 10 good photos; the 3 broken files are left out
    assert all(min(Image.open(c).size) == 24 for c in copies)
    assert (cache / next(cache.iterdir()).name / "nested" / "img0.jpg.jpg") in copies  # the folder tree is mirrored
    assert len(list(cache.rglob("*.unreadable"))) == 3
    caplog.clear()
    with caplog.at_level(logging.INFO):
        dm.prepare_data()  # nothing changed: the broken files are not decoded again
    assert "caching" not in caplog.text
    dm.setup()
    assert sum(str(f).startswith(str(cache)) for f in dm.train_files + dm.val_files) == 10
    uncached = StyleDataModule(str(photo_dir), image_size=24, num_workers=0, num_val=2)
    uncached.setup()
    # the same held-out photos
    assert [f.name.removesuffix(".jpg") for f in dm.val_files] == [f.name for f in uncached.val_files]
    for images, skipped in dm.train_dataloader():  # broken photos have no copy: still skipped and counted
        assert (images.shape[1:] == (3, 24, 24) and len(images) + len(skipped) == 2) or (
            images.numel() == 0 and len(skipped) == 2
        )


def test_cache_is_made_once_and_refreshed_when_a_photo_changes(
    photo_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_photo(photo_dir / "img1.jpg", size=(30, 30), seed=7)  # img1.png and img1.jpg: two photos, two copies
    cache = tmp_path / "cache"
    dm = StyleDataModule(str(photo_dir), image_size=24, num_workers=0, cache_dir=str(cache))
    dm.prepare_data()
    before = {c: c.stat().st_mtime_ns for c in cache.rglob("*.jpg")}
    assert len(before) == 11
    photo = photo_dir / "img1.png"
    make_photo(photo, size=(90, 30), seed=5)
    os.utime(photo, ns=(0, 10**9))  # replaced by an older file (cp -p, rsync -a, tar): still a change
    dm.prepare_data()
    after = {c: c.stat().st_mtime_ns for c in cache.rglob("*.jpg")}
    assert [c.name for c in after if after[c] != before[c]] == ["img1.png.jpg"]
    assert Image.open(next(c for c in after if c.name == "img1.png.jpg")).size == (72, 24)
    dm.prepare_data()
    assert {c: c.stat().st_mtime_ns for c in cache.rglob("*.jpg")} == after  # nothing to do the second time
    photo.write_bytes(photo.read_bytes()[:100])  # damaged since: its old copy trained on, though said skipped
    dm.prepare_data()
    assert "1 unreadable photo was left out of the cache" in caplog.text  # (not "1 unreadable photos were")
    assert not [c for c in cache.rglob("img1.png.jpg")] and len(list(cache.rglob("img1.png.jpg.unreadable"))) == 1


def test_cache_inside_the_photo_folder_is_refused(photo_dir: Path) -> None:
    dm = StyleDataModule(str(photo_dir), image_size=24, num_workers=0, cache_dir=str(photo_dir / "cache"))
    with pytest.raises(UserError, match="is inside .*: its copies would be read as more photos"):
        dm.prepare_data()


def test_cache_on_a_full_disk_is_one_line_and_keeps_what_is_there(
    photo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    dm = StyleDataModule(str(photo_dir), image_size=24, num_workers=0, cache_dir=str(cache))
    dm.prepare_data()
    good = {c: c.read_bytes() for c in cache.rglob("*.jpg")}
    for c in list(good)[:3]:
        c.unlink()  # these must be written again, onto a full disk
    real_write = Path.write_bytes

    def full_disk(self: Path, data) -> int:  # the cached copy is encoded in memory, then written with this
        real_write(self, data)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(UserError, match="No space left on device: free some space or set data.cache_dir") as e:
        dm.prepare_data()
    assert "\n" not in str(e.value)
    left = {c: c.read_bytes() for c in cache.rglob("*.jpg")}
    assert all(good[c] == data for c, data in left.items()) and len(left) == len(good) - 3
    assert not [p for p in cache.rglob("*") if p.name.endswith(".tmp")]  # no half-written file left behind


def test_a_run_ended_by_a_traceback_exits_with_its_loader_workers_running(photo_dir: Path) -> None:
    """The workers ignore SIGTERM (init_worker), and multiprocessing ends its children at exit with SIGTERM and then
    waits: a crash in validation printed its traceback and then hung for ever (only SIGKILL ended it)."""
    import subprocess
    import sys

    crash = (
        "import sys; from fast_style.training.data import StyleDataModule\n"
        "dm = StyleDataModule(root=sys.argv[1], image_size=32, batch_size=2, num_workers=1, num_val=2)\n"
        "dm.setup(); loader = iter(dm.val_dataloader()); next(loader)  # persistent workers, left running\n"
        "raise RuntimeError('a crash in validation')\n"
    )
    done = subprocess.run([sys.executable, "-c", crash, str(photo_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.rstrip().endswith("RuntimeError: a crash in validation")
    assert "killed by signal" not in done.stderr  # torch's own report of a worker killed at exit: not shown


def test_unreadable_validation_photos_are_left_out_at_setup(
    photo_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Under DDP a rank whose validation batch came out empty logged nothing, and the others waited for ever:
    every process leaves them out alike, before the first step."""
    held = tmp_path / "held"
    make_photo(held / "good.jpg")
    bad = _corrupt(held)
    dm = StyleDataModule(str(photo_dir), image_size=32, num_workers=0, val_root=str(held))
    with caplog.at_level(logging.WARNING):
        dm.setup()
    assert dm.val_files == [held / "good.jpg"]
    assert all(f"skipping unreadable image {f}" in caplog.text for f in bad)
    # held out from the photos themselves: the first readable ones of the shuffled order (an unreadable one picked
    # left no validation at all), and what was found unreadable on the way is not trained on either
    mixed = tmp_path / "mixed"
    (mixed / "more").mkdir(parents=True)
    bad = _corrupt(mixed) + _corrupt(mixed / "more")
    good = [make_photo(mixed / f"g{i}.jpg", seed=i) for i in range(3)]
    caplog.clear()
    dm = StyleDataModule(str(mixed), image_size=32, batch_size=1, num_workers=0, num_val=2)
    with caplog.at_level(logging.WARNING):
        dm.setup()
    named = [f for f in bad if f"skipping unreadable image {f}" in caplog.text]
    assert named and len(dm.val_files) == 2 and set(dm.val_files) <= set(good)  # (the seed tries bad ones first)
    assert not set(dm.train_files) & set(named) and len(dm.train_files) == len(good) + len(bad) - 2 - len(named)
    (tmp_path / "none").mkdir()
    _corrupt(tmp_path / "none")  # all of them found unreadable there: said so (not "0 training images")
    with pytest.raises(UserError, match="none of the 3 photos in '.*none' could be read.*: point data.root at"):
        StyleDataModule(str(tmp_path / "none"), image_size=32, batch_size=1, num_workers=0, num_val=1).setup()
    # every one larger than data.max_image_pixels: that is what to change (it said "point data.root at ...")
    with pytest.raises(UserError, match=r"could be read .*: point data.root .* \(3 are larger than data.max_image_"):
        StyleDataModule(str(mixed), image_size=32, batch_size=1, num_workers=0, num_val=1, max_image_pixels=10).setup()
    for f in bad:
        f.unlink()
    with pytest.raises(UserError, match="could be read .*: each is larger than data.max_image_pixels allows: raise"):
        StyleDataModule(str(mixed), image_size=32, batch_size=1, num_workers=0, num_val=1, max_image_pixels=10).setup()
    make_photo(tmp_path / "none" / "good.jpg")  # the one readable photo held out: said so (not "holds them all")
    said = set()
    for seed in range(12):  # the seeds whose order meets the unreadable ones before the readable one
        dm = StyleDataModule(str(tmp_path / "none"), image_size=32, batch_size=1, num_workers=0, num_val=1, seed=seed)
        try:
            dm.setup()
        except UserError as e:
            said.add(re.sub(r"'.*'", "F", str(e)))
    assert said == {
        "data folder F has 4 photos, 3 of them unreadable (named in the warnings above), and data.num_val=1 holds out "
        "all the readable ones for validation: add photos, or lower data.num_val"
    }


def test_a_folder_whose_every_photo_tried_is_unreadable_is_refused_before_training(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Holding out validation photos tries up to data.num_val + 20 of them: where none of those could be read, the
    rest went on to training, whose first epoch ended in "none of the training photos could be read" after steps
    that trained nothing had been counted and checkpointed (a resume's step count moved on)."""
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(30):
        (folder / f"x{i:02d}.jpg").write_text("not a picture")
    make_photo(folder / "one_good.jpg")  # one readable among them: still refused where none of those tried is it
    said = set()
    for seed in range(12):  # (the seeds whose order tries the readable one within 21 hold it out)
        dm = StyleDataModule(str(folder), image_size=32, batch_size=1, num_workers=0, num_val=1, seed=seed)
        try:
            dm.setup()
        except UserError as e:
            said.add(str(e))
    assert said and all(f"photos tried in '{folder}' (of 31, in a random order) could be read" in m for m in said)
    assert all(m.startswith("none of the 21 photos tried") for m in said)
    # without validation photos held out (none, or a folder of their own) one readable photo is looked for alike:
    # they went on to training, which refused at the first epoch's end
    held = tmp_path / "held"
    make_photo(held / "v.jpg")
    for kwargs in ({"num_val": 0}, {"val_root": str(held)}):
        said = set()
        for seed in range(12):
            dm = StyleDataModule(str(folder), image_size=32, batch_size=1, num_workers=0, seed=seed, **kwargs)
            try:
                dm.setup()
            except UserError as e:
                said.add(str(e))
            else:
                assert dm.train_files and len(dm.train_files) < 31  # those met on the way left out
        assert said and all(m.startswith("none of the 21 photos tried") for m in said), kwargs


def test_under_ddp_the_training_order_is_one_a_checkpoint_keeps(photo_dir: Path, tmp_path: Path) -> None:
    """Lightning's own distributed wrapper keeps no state: a resume drew a new order and skipped as many photos
    of it (some seen twice in the epoch, others never). The stateful sampler's order resumes where it was."""
    import torch.distributed as dist
    from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler

    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        dm = StyleDataModule(str(photo_dir), image_size=16, batch_size=2, num_workers=0, num_val=2)
        dm.setup()
        loader = dm.train_dataloader()
        assert isinstance(loader.sampler, StatefulDistributedSampler)
        batches = iter(loader)
        next(batches)
        state = loader.state_dict()
        rest = [b[0] for b in batches]
        resumed = dm.train_dataloader()
        resumed.load_state_dict(state)  # the same photos, and the same crops of them (the state holds both)
        again = iter(resumed)
        torch.manual_seed(1)  # (torch's own stream is not what crops draw from)
        assert all(torch.equal(a, b) for a, b in zip(rest, (b[0] for b in again), strict=True))
    finally:
        dist.destroy_process_group()


def test_a_resume_on_another_number_of_processes_draws_the_epoch_afresh(caplog: pytest.LogCaptureFixture) -> None:
    """A DDP run resumed on one process (or the reverse) ended in torchdata's AssertionError, a page of traceback:
    DDP's sampler and one process's shuffle keep different states."""
    from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler

    from fast_style.training.data import _TrainLoader

    photos = [torch.full((3, 4, 4), float(i)) for i in range(8)]

    def loader(ranks: int) -> _TrainLoader:
        if ranks == 1:
            return _TrainLoader(photos, batch_size=2, shuffle=True, drop_last=True)
        sampler = StatefulDistributedSampler(photos, num_replicas=ranks, rank=0, shuffle=True, drop_last=True)
        return _TrainLoader(photos, batch_size=2, sampler=sampler, drop_last=True)

    for saved, resumed in ((2, 1), (1, 2), (2, 4)):
        first = loader(saved)
        it = iter(first)
        next(it)
        state = first.state_dict()
        for old in (state, {k: v for k, v in state.items() if not k.startswith("fast_style")}):  # (saved before)
            again = loader(resumed)
            caplog.clear()
            again.load_state_dict(old)
            if old is not state and {saved, resumed} == {2, 4}:
                continue  # (an older DDP state does not say on how many processes: taken as it is)
            assert f"resumed on {resumed} process" in caplog.text and "shuffled afresh" in caplog.text
            assert len(list(again)) == 4 // resumed  # a whole epoch
    same = loader(2)
    it = iter(same)
    next(it)
    again = loader(2)
    caplog.clear()
    again.load_state_dict(same.state_dict())
    assert "afresh" not in caplog.text and len(list(again)) == 1  # its place kept: one batch of two left


def test_a_style_size_that_is_not_a_number_is_refused_by_name(tmp_path: Path) -> None:
    # size="32" failed with "'<' not supported between instances of 'str' and 'int'"
    painting = tmp_path / "painting.png"
    Image.new("RGB", (40, 30), (200, 80, 20)).save(painting)
    with pytest.raises(TypeError, match="the style size must be a number, not '32'"):
        load_style_image(str(painting), "32")  # type: ignore[arg-type]
    assert load_style_image(str(painting), 32).shape == (1, 3, 24, 32)
    # no finite size: OverflowError "cannot convert float infinity to integer" from the resize; one line for every size
    # out of range (a small one had its own words), the number as %g
    for wrong, said in ((float("inf"), "inf"), (10**400, "1e+400"), (-(10**400), "-1e+400"), (8.0, "8"), (-5, "-5")):
        with pytest.raises(UserError, match=rf"^style size {re.escape(said)}: give a number of pixels, at least 16 "):
            load_style_image(str(painting), wrong)


def test_a_cameras_mpo_jpeg_is_decoded_at_a_reduced_scale_for_training(tmp_path: Path) -> None:
    """A camera's JPEG with its preview after it, which Pillow opens as MPO, was decoded at its full size for every
    training crop (a JPEG's draft mode, several times faster, was asked of "JPEG" alone)."""
    photo = Image.new("RGB", (800, 600), (200, 60, 30))
    photo.save(tmp_path / "cam.jpg", "MPO", save_all=True, append_images=[Image.new("RGB", (80, 60))])
    photo.save(tmp_path / "plain.jpg")
    assert (
        open_rgb(tmp_path / "cam.jpg", draft_size=100).size == open_rgb(tmp_path / "plain.jpg", 100).size == (200, 150)
    )
