import errno
import io
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from fast_style.cli.stylize import main, rate
from fast_style.errors import UserError
from fast_style.inference.stylizer import Stylizer
from fast_style.media.images import encode_image, open_rgb, read_image, split_alpha
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model
from fast_style.outputs import check_output

from .conftest import make_photo
from .icc_profiles import cmyk_profile, grey_profile, rgb_profile


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)  # a visible, deterministic "style"
    return save_style_model(net, tmp_path / "wave.pt", {"style_image": "wave.jpg"})


def test_api_returns_the_kind_it_was_given(model_path: Path, tmp_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu")
    assert s.meta["style_image"] == "wave.jpg"
    batch = torch.rand(2, 3, 21, 34)
    out = s(batch)
    assert isinstance(out, torch.Tensor) and out.shape == batch.shape and 0 <= out.min() and out.max() <= 1
    assert s(batch[0]).shape == (3, 21, 34)
    photo = make_photo(tmp_path / "p.jpg", size=(37, 23))
    assert s(photo).size == (37, 23)
    assert s(Image.open(photo)).size == (37, 23)
    torch.testing.assert_close(s(batch, strength=0.0), batch)


def test_alpha_is_reattached_and_modes_accepted(model_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu")
    rgba = Image.new("RGBA", (20, 16), (200, 30, 30, 128))
    out = s(rgba)
    assert out.mode == "RGBA" and out.getchannel("A").getextrema() == (128, 128)
    for mode in ("L", "P", "CMYK", "I;16", "1"):
        assert s(Image.new("RGB", (20, 16), (90, 120, 200)).convert(mode)).mode == "RGB"
    assert s(Image.new("LA", (20, 16), (90, 128)).convert("La")).mode == "RGBA"  # premultiplied: it had raised
    for mode, key in (("RGB", (0, 0, 0)), ("L", 0)):  # a colour key (a PNG's tRNS chunk): it had been dropped
        keyed = Image.new(mode, (20, 16), key)
        keyed.paste((200, 30, 30) if mode == "RGB" else 200, (0, 0, 10, 16))
        keyed.info["transparency"] = key
        out = s(keyed)
        assert out.mode == "RGBA" and out.getpixel((15, 8))[3] == 0 and out.getpixel((5, 8))[3] == 255
    # a 2-bit grey PNG's key (Pillow scales its pixels to 0..255, not the key)
    two = Image.new("L", (20, 16), 0)
    two.paste(255, (0, 0, 10, 16))
    data = io.BytesIO()
    two.save(data, "PNG", bits=2, transparency=0)
    out = s(read_image(data))
    assert out.mode == "RGBA" and out.getpixel((15, 8))[3] == 0 and out.getpixel((5, 8))[3] == 255
    data = io.BytesIO()
    two.save(data, "PNG", bits=2, transparency=3)
    for out in (s(read_image(data)), s(Image.open(data))):  # from Python as from a path (it came out opaque)
        assert out.getpixel((15, 8))[3] == 255 and out.getpixel((5, 8))[3] == 0
    turned = Image.Exif()
    turned[0x0112] = 6  # and turned upright by its EXIF all the same
    data = io.BytesIO()
    two.save(data, "PNG", bits=2, transparency=3, exif=turned.tobytes())
    with Image.open(data) as opened:
        out = s(opened)
        assert out.size == (16, 20) and out.getpixel((8, 15))[3] == 255 and out.getpixel((8, 5))[3] == 0
        assert opened.info["transparency"] == 3  # (the caller's image as it was)
    # a 1-bit and a 16-bit grey PNG's keys (they came out opaque)
    one = Image.new("1", (20, 16), 0)
    one.paste(1, (0, 0, 10, 16))
    deep = Image.fromarray(np.where(np.arange(20)[None, :] < 10, 40000, 1000).repeat(16, 0).astype(np.uint16))
    for keyed, key in ((one, 0), (deep, 1000)):
        data = io.BytesIO()
        keyed.save(data, "PNG", transparency=key)
        out = s(Image.open(data))
        assert out.mode == "RGBA" and out.getpixel((15, 8))[3] == 0 and out.getpixel((5, 8))[3] == 255, keyed.mode
    # a 16-bit colour PNG's key (Pillow gives its pixels' high bytes, and matched the key's low bytes: the key's
    # pixels came out opaque, and those of another colour whose high bytes were the key's low ones see-through)
    deep = np.where(np.arange(20)[None, :, None] < 10, [0xE800, 0xE800, 0xE800], [0x03E8, 0x03E8, 0x03E8])
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in deep.repeat(16, 0))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (20).to_bytes(4, "big") + (16).to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])  # 16-bit RGB
    key = (0x03E8).to_bytes(2, "big") * 3  # 1000: high byte 3, low byte 232
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tRNS", key) + chunk(b"IDAT", zlib.compress(rows))
    png += chunk(b"IEND", b"")
    with Image.open(io.BytesIO(png)) as opened, Image.open(io.BytesIO(png)) as loaded:
        loaded.load()  # (its tile gone: read by its key, over 255)
        for given in (read_image(io.BytesIO(png)), opened, loaded, loaded.transpose(Image.Transpose.FLIP_TOP_BOTTOM)):
            out = s(given)  # from Python as from a path: the see-through and opaque halves had swapped
            assert out.mode == "RGBA" and out.getpixel((15, 8))[3] == 0 and out.getpixel((5, 8))[3] == 255
        assert opened.info["transparency"] == loaded.info["transparency"] == (1000, 1000, 1000)  # (theirs as it was)


def test_uint8_frames_resized_or_with_their_colours_kept_are_read_as_0_to_255(model_path: Path) -> None:
    # resized, they were clamped to 0..1 (a black frame stylized); with preserve_color, nearly white came back
    s = Stylizer.load(model_path, device="cpu", precision="fp32")
    frames = (torch.rand(2, 3, 24, 32) * 255).to(torch.uint8)
    unit = frames.float() / 255
    for options in ({"max_size": 16}, {"preserve_color": True}, {}):
        got = s.stylize_frames(frames, **options)
        torch.testing.assert_close(got.float(), s.stylize_frames(unit, **options).float(), atol=1e-4, rtol=0)


def test_a_transparent_picture_saved_as_jpeg_is_on_white(tmp_path: Path) -> None:
    # the colour hidden under the transparency showed instead (black, for most PNGs)
    from fast_style.media.images import save_image

    picture = Image.new("RGBA", (8, 4), (0, 0, 0, 0))
    picture.paste((200, 30, 30, 255), (0, 0, 4, 4))
    save_image(picture, tmp_path / "out.jpg")
    with Image.open(tmp_path / "out.jpg") as saved:
        left, right = saved.getpixel((1, 2)), saved.getpixel((6, 2))
    assert left[0] > 180 and left[1] < 60 and min(right) > 245
    save_image(picture, tmp_path / "out.png")  # PNG keeps the transparency itself
    assert Image.open(tmp_path / "out.png").getpixel((6, 2))[3] == 0


def test_a_scale_too_large_to_count_is_one_line(model_path: Path, tmp_path: Path, capsys) -> None:
    photo = make_photo(tmp_path / "p.jpg", size=(37, 23))  # 1e20 was refused by the pixel limit, 1e308 overflowed
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.jpg"), "--scale", "1e308", "-q"]) == 2
    assert "error: --scale 1e+308 makes the 37x23 image too large to count" in capsys.readouterr().err
    assert not (tmp_path / "o.jpg").exists()
    with pytest.raises(UserError, match=r"^scale=1e\+308 makes the 37x23 image"):  # Python's name from Python
        Stylizer.load(model_path, device="cpu")(str(photo), scale=1e308)


def test_a_picture_its_format_cannot_hold_is_one_line_and_the_folder_goes_on(
    model_path: Path, tmp_path: Path, capsys
) -> None:
    """An AVIF's RuntimeError or a GIF's OverflowError for a side over what they hold stopped a folder's run with a
    traceback; WebP's and JPEG's were one line, in Pillow's words."""
    from fast_style.media.images import encoding

    make_photo(tmp_path / "in" / "a.png", size=(40, 30))
    Image.new("RGB", (16_384, 1), (9, 90, 9)).save(tmp_path / "in" / "line.png")  # one pixel over a WebP's sides
    out = tmp_path / "out"
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(out), "--name", "{stem}.webp", "-q"]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot write {out / 'line.webp'}: a .webp holds at most 16,383 px a side, not 16384x1" in err
    assert "--max-size or --scale" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["a.webp"]
    with pytest.raises(UserError, match="cannot write x.avif: AVIF could not encode 4x4 pixels \\(Failed to"):
        with encoding((4, 4), "AVIF", "x.avif"):
            raise RuntimeError("Failed to encode image: Invalid argument")
    for fmt, side in (("GIF", 65_536), ("AVIF", 65_537), ("JPEG", 65_501)):  # each just over its limit
        with pytest.raises(UserError, match=f"holds at most {side - 1:,} px a side, not {side}x1: write a .png"):
            with encoding((side, 1), fmt, f"x.{fmt.lower()}"):
                pytest.fail("encoded")


def test_a_damaged_tiff_is_one_line_without_pillows_warning(model_path: Path, tmp_path: Path, capsys) -> None:
    import io
    import warnings

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 90, 9)).save(buffer, "TIFF")
    (tmp_path / "cut.tif").write_bytes(buffer.getvalue()[:40])
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert main([str(tmp_path / "cut.tif"), "-m", str(model_path), "-o", str(tmp_path / "o.jpg"), "-q"]) == 2
    assert [str(w.message) for w in said if "PIL" in w.filename] == []  # ("Corrupt EXIF data", its source line)
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_an_animation_comes_out_animated_and_a_still_output_says_it_keeps_one_frame(
    model_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a folder's GIFs were skipped without a word; then an animation came out as its first frame, as a .jpg
    from PIL import ImageSequence

    frames = [Image.new("RGB", (40, 30), (30, 90, 200)) for i in range(3)]
    for i, frame in enumerate(frames):  # a bar moving across
        frame.paste((230, 200, 40), (i * 12, 0, i * 12 + 14, 30))
    (tmp_path / "in").mkdir()
    frames[0].save(tmp_path / "in" / "anim.gif", save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=0)
    frames[0].save(tmp_path / "in" / "anim.webp", save_all=True, append_images=frames[1:], duration=80, loop=3)
    frames[0].save(tmp_path / "in" / "anim.png", save_all=True, append_images=frames[1:], duration=90)
    frames[0].save(tmp_path / "in" / "still.gif")
    logo = Image.new("RGBA", (40, 30), (0, 0, 0, 0))  # a transparent still GIF: a PNG (a JPEG filled it white)
    logo.paste((200, 30, 30, 255), (10, 5, 30, 25))
    logo.save(tmp_path / "in" / "logo.gif")
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0
    names = ["anim.gif", "anim.png", "anim.webp", "logo.png", "still.jpg"]  # a still GIF as a JPEG: 256 colours band
    with Image.open(tmp_path / "out" / "logo.png") as out:
        assert out.mode == "RGBA" and out.getpixel((2, 2))[3] == 0 and out.getpixel((20, 15))[3] == 255
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    for name, durations, loop in (("anim.gif", [50, 60, 70], 0), ("anim.webp", [80] * 3, 3), ("anim.png", [90] * 3, 0)):
        with Image.open(tmp_path / "out" / name) as out:
            got = [(f.convert("RGB").size, f.info["duration"]) for f in ImageSequence.Iterator(out)]
            assert got == [((40, 30), d) for d in durations] and out.info.get("loop") == loop, name
            out.seek(0)
            first = out.convert("RGB")
            out.seek(2)  # each frame stylized on its own: the third is not the first
            assert first.getpixel((5, 15)) != out.convert("RGB").getpixel((5, 15)), name
    assert "animation" not in caplog.text
    assert main([str(tmp_path / "in" / "anim.gif"), "-m", str(model_path), "-o", str(tmp_path / "a.jpg"), "-q"]) == 0
    assert Image.open(tmp_path / "a.jpg").size == (40, 30)
    kept = "(.gif, .png, .apng, .webp, .avif keep"
    assert f"anim.gif: an animation of 3 frames: only the first is written to .jpg {kept}" in caplog.text
    assert "JPEG holds no transparency" not in caplog.text  # (opaque)
    assert main([str(tmp_path / "in" / "logo.gif"), "-m", str(model_path), "-o", str(tmp_path / "l.jpg"), "-q"]) == 0
    assert "l.jpg: a JPEG holds no transparency: its see-through parts are on white (.png, .webp" in caplog.text
    logo.save(tmp_path / "in" / "logo.png")  # beside a PNG of its name, it stays a JPEG (their outputs had clashed)
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(tmp_path / "out2"), "-q"]) == 0
    assert {"logo.jpg", "logo.png"} <= {p.name for p in (tmp_path / "out2").iterdir()}
    # a multi-page TIFF (a scan of several sheets): its first page, said (the others went without a word)
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    assert main([str(tmp_path / "pages.tif"), "-m", str(model_path), "-o", str(tmp_path / "p.tif"), "-q"]) == 0
    assert "pages.tif: a TIFF of 3 pages: only the first is stylized" in caplog.text
    assert getattr(Image.open(tmp_path / "p.tif"), "n_frames", 1) == 1
    (tmp_path / "scan.jpg").write_bytes((tmp_path / "pages.tif").read_bytes())  # a TIFF named otherwise: said too
    assert main([str(tmp_path / "scan.jpg"), "-m", str(model_path), "-o", str(tmp_path / "s.jpg"), "-q"]) == 0
    assert "scan.jpg: a TIFF of 3 pages: only the first is stylized" in caplog.text
    # its second page's place past the file's end (a damaged later page): the first stylized all the same
    import struct

    frames[0].save(tmp_path / "damaged.tif")
    data = bytearray((tmp_path / "damaged.tif").read_bytes())
    first = struct.unpack("<I", data[4:8])[0]  # (little-endian: "II")
    after = first + 2 + 12 * struct.unpack("<H", data[first : first + 2])[0]  # the next page's offset
    data[after : after + 4] = struct.pack("<I", len(data) + 1000)
    (tmp_path / "damaged.tif").write_bytes(data)
    assert main([str(tmp_path / "damaged.tif"), "-m", str(model_path), "-o", str(tmp_path / "d.png"), "-q"]) == 0
    assert Image.open(tmp_path / "d.png").size == (40, 30)


def test_a_turned_uncompressed_tiff_is_read_upright(tmp_path: Path) -> None:
    """An uncompressed grey, 16-bit or RGBA TIFF on its side (orientation 5 to 8) was read scrambled from a path:
    Pillow memory-maps its one strip as if it were its turned size."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate on display: shown 30 wide, 40 high
    for mode in ("L", "I;16", "RGBA", "RGB"):
        stored = Image.new(mode, (40, 30))
        stored.paste(Image.new(mode, (8, 8), 255 if mode != "RGBA" else (255, 255, 255, 255)), (0, 0))  # top left
        stored.save(tmp_path / "side.tif", exif=exif.tobytes())
        read = read_image(tmp_path / "side.tif")
        shown = stored.transpose(Image.Transpose.ROTATE_270)  # (its square at the top right)
        assert read.size == (30, 40) and read.tobytes() == shown.tobytes(), mode


def test_an_animated_webp_or_apng_with_an_exif_orientation_comes_out_upright(model_path: Path, tmp_path: Path) -> None:
    """Its first frame alone (-o x.jpg) was turned upright, the animation stayed on its side."""
    frames = [Image.new("RGB", (80, 40), (40, 90, 30)) for i in range(3)]
    for i, frame in enumerate(frames):  # a bar moving across (flat frames all stylize alike: merged into one)
        frame.paste((250, 250, 200), (20 * i, 0, 20 * i + 16, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate on display: shown 40 wide, 80 high
    exif[0x010F] = "TestCam"
    for name in ("turned.webp", "turned.png"):
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:], duration=100, exif=exif.tobytes())
        out = tmp_path / "out" / name
        assert main([str(tmp_path / name), "-m", str(model_path), "-o", str(out), "-q"]) == 0
        with Image.open(out) as animated:
            assert (animated.size, animated.n_frames) == ((40, 80), 3), name
            assert animated.getexif().get(0x010F) == "TestCam" and animated.getexif().get(0x0112) == 1, name
    # an APNG whose EXIF chunk comes after its frames (Pillow reads it only once they are all read): it stayed on
    # its side, its copy saying upright; its first frame alone (-o x.jpg) lost the orientation and the camera, and
    # the copyright of a text chunk there
    data = (tmp_path / "turned.png").read_bytes()
    at = data.index(b"eXIf") - 4
    end = at + 12 + int.from_bytes(data[at : at + 4], "big")
    text = b"tEXtCopyright\x00Ann"
    text = len(text[4:]).to_bytes(4, "big") + text + zlib.crc32(text).to_bytes(4, "big")
    (tmp_path / "late.png").write_bytes(data[:at] + data[end:-12] + data[at:end] + text + data[-12:])
    assert Image.open(tmp_path / "late.png").getexif().get(0x0112) is None  # (as Pillow opens it)
    for name, frames_out in (("late.png", 3), ("late.jpg", 1)):
        out = tmp_path / "out" / name
        assert main([str(tmp_path / "late.png"), "-m", str(model_path), "-o", str(out), "-q"]) == 0
        with Image.open(out) as written:
            assert (written.size, getattr(written, "n_frames", 1)) == ((40, 80), frames_out), name
            assert written.getexif().get(0x010F) == "TestCam" and written.getexif().get(0x0112, 1) == 1, name
            written.load()
            assert (written.getexif().get(0x8298) if name.endswith(".jpg") else written.text["Copyright"]) == "Ann"


def test_an_animation_keeps_its_transparency_and_a_huge_one_is_one_line(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from fast_style.media import animation

    frames = [Image.new("RGBA", (32, 24), (0, 0, 0, 0)) for _ in range(3)]
    for i, frame in enumerate(frames):
        frame.paste((200, 50, 50, 255), (i * 8, 4, i * 8 + 12, 16))
    frames[0].save(tmp_path / "sticker.gif", save_all=True, append_images=frames[1:], duration=100, disposal=2)
    assert main([str(tmp_path / "sticker.gif"), "-m", str(model_path), "-o", str(tmp_path / "out.gif"), "-q"]) == 0
    with Image.open(tmp_path / "out.gif") as out:
        out.seek(1)
        rgba = out.convert("RGBA")
        assert rgba.getpixel((1, 1))[3] == 0 and rgba.getpixel((12, 10))[3] == 255  # clear around, the shape not
        assert rgba.getpixel((2, 10))[3] == 0  # where the shape was a frame before: no trail of it left
    # how many times it plays, across formats: a GIF counts repeats (none: once), APNG and WebP count plays
    once = tmp_path / "once.gif"
    frames[0].save(once, save_all=True, append_images=frames[1:], duration=100, disposal=2)  # no loop: once
    frames[0].save(tmp_path / "thrice.webp", save_all=True, append_images=frames[1:], duration=100, loop=3)
    for src, dst, said in ((once, "once.webp", 1), (once, "once.png", 1), (tmp_path / "thrice.webp", "t.gif", 2)):
        assert main([str(src), "-m", str(model_path), "-o", str(tmp_path / dst), "-q"]) == 0
        assert Image.open(tmp_path / dst).info.get("loop") == said, dst
    monkeypatch.setattr(animation, "MAX_PIXELS", 2 * 32 * 24)
    assert main([str(tmp_path / "sticker.gif"), "-m", str(model_path), "-o", str(tmp_path / "big.gif"), "-q"]) == 2
    assert "an animation of 3 frames of 32x24 is over" in capsys.readouterr().err
    assert not (tmp_path / "big.gif").exists()


def test_an_animated_webp_whose_transparency_is_a_strip_along_a_border_stays_transparent(tmp_path: Path) -> None:
    """libwebp cropped the frames to the opaque part and left the file's alpha flag clear: read back as RGB, the
    transparent strip black."""
    from fast_style.media.animation import save_frames

    rng = np.random.default_rng(0)
    frames = []
    for _ in range(3):
        pixels = rng.integers(0, 255, (48, 64, 4), dtype=np.uint8)
        pixels[..., 3] = 255
        pixels[:12, :, 3] = 0  # the top strip clear
        frames.append(Image.fromarray(pixels, "RGBA"))
    save_frames(frames, [100] * 3, 0, tmp_path / "strip.webp")
    with Image.open(tmp_path / "strip.webp") as out:
        assert out.mode == "RGBA" and out.n_frames == 3
        out.seek(2)
        assert out.getpixel((5, 3))[3] == 0 and out.getpixel((30, 30))[3] == 255
    save_frames([f.convert("RGB") for f in frames], [100] * 3, 0, tmp_path / "opaque.webp")
    assert Image.open(tmp_path / "opaque.webp").mode == "RGB"  # opaque frames: no alpha said


def test_an_apngs_still_for_old_viewers_is_not_a_frame(tmp_path: Path) -> None:
    """An APNG may carry a default image that is not part of its animation: it had become the output's frame 1;
    written as a still, the output was that hidden picture and the warning counted it as a frame."""
    from fast_style.media.animation import frame_count, read_frames
    from fast_style.media.images import read_image

    still = Image.new("RGB", (16, 12), (0, 255, 0))
    frames = [Image.new("RGB", (16, 12), (40 * i, 0, 0)) for i in range(3)]
    still.save(tmp_path / "a.png", save_all=True, append_images=frames, default_image=True, duration=[50, 60, 70])
    read, durations, _ = read_frames(tmp_path / "a.png")
    assert [f.getpixel((0, 0)) for f in read] == [(0, 0, 0), (40, 0, 0), (80, 0, 0)] and durations == [50, 60, 70]
    assert frame_count(tmp_path / "a.png") == 3 and read_image(tmp_path / "a.png").getpixel((0, 0)) == (0, 0, 0)


def test_the_animation_api_refuses_its_own_input_as_output_and_unreadable_files(tmp_path: Path) -> None:
    """stylize_animation(a, a) replaced the animation with its stylized copy; a missing file, a text file or a
    still JPEG raised FileNotFoundError, UnidentifiedImageError or AttributeError ('n_frames'); a folder as
    the output failed after all the work, naming a temporary file; str paths raised AttributeError."""
    from fast_style.media.animation import read_frames, save_frames, stylize_animation

    frames = [Image.new("RGB", (16, 12), (60 * i, 0, 0)) for i in range(3)]
    save_frames(frames, [100] * 3, 0, str(tmp_path / "a.gif"))  # a str path
    before = (tmp_path / "a.gif").read_bytes()
    calls = []

    def stylize(images):
        calls.append(len(images))
        return images

    os.link(tmp_path / "a.gif", tmp_path / "linked.gif")  # the same file by another name
    for dst in (tmp_path / "a.gif", str(tmp_path / "." / "a.gif"), tmp_path / "linked.gif"):
        with pytest.raises(UserError, match="is the animation being read"):
            stylize_animation(tmp_path / "a.gif", dst, stylize)
    assert (tmp_path / "a.gif").read_bytes() == before and not calls
    (tmp_path / "text.gif").write_text("not a picture")
    make_photo(tmp_path / "still.jpg")
    for path in (tmp_path / "none.gif", tmp_path / "text.gif"):
        with pytest.raises(UserError, match=f"cannot read {re.escape(str(path))}: "):
            read_frames(path)
    assert len(read_frames(tmp_path / "still.jpg")[0]) == 1
    Image.new("RGB", (4, 4)).save(tmp_path / "huge.bmp")  # its header says 30000x20000: over the limit, in one line
    data = bytearray((tmp_path / "huge.bmp").read_bytes())
    data[18:26] = (30000).to_bytes(4, "little") + (20000).to_bytes(4, "little")
    (tmp_path / "huge.bmp").write_bytes(data)
    with pytest.raises(UserError, match="huge.bmp: more pixels than Pillow's guard against decompression bombs"):
        read_frames(tmp_path / "huge.bmp")  # (PIL's own error came out)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's guard off: fast-style's own limit still holds
        with pytest.raises(UserError, match="an animation of 1 frames of 30000x20000 is over"):
            read_frames(tmp_path / "huge.bmp")  # (AttributeError: 'BmpImageFile' object has no attribute 'n_frames')
    (tmp_path / "out.gif").mkdir()
    with pytest.raises(UserError, match="out.gif: it is a folder; give a file's name"):
        stylize_animation(tmp_path / "a.gif", tmp_path / "out.gif", stylize)
    assert not calls  # refused before any frame was stylized


def test_the_animation_module_names_every_format_it_writes() -> None:
    # its docstring said "GIF, animated PNG and WebP": AVIF, which it reads and writes, was left out
    import fast_style.media.animation as animation

    said = animation.__doc__.split(":")[0].lower()
    assert all(fmt.lower() in said for fmt in set(animation.ANIMATED_OUTPUTS.values())), said


def test_an_apng_stays_an_apng_and_an_animated_avif_an_animated_avif(
    model_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """.apng came out as a still .jpg (and a folder's were not found); an animated AVIF lost its frames unsaid,
    then kept its first with a warning (Pillow 13 writes animated AVIF: it stays one, its timing kept)."""
    frames = [Image.new("RGB", (32, 24), (20, 40, 60)) for _ in range(3)]
    for i, frame in enumerate(frames):  # a moving shape: frames alike would be merged by Pillow's writers
        frame.paste((200, 50, 50), (i * 8, 4, i * 8 + 12, 16))
    (tmp_path / "in").mkdir()
    frames[0].save(tmp_path / "in" / "a.apng", "PNG", save_all=True, append_images=frames[1:], duration=80)
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0
    with Image.open(tmp_path / "out" / "a.apng") as out:
        assert out.format == "PNG" and out.n_frames == 3
    try:
        frames[0].save(tmp_path / "a.avif", save_all=True, append_images=frames[1:], duration=80)
    except (OSError, ValueError, KeyError):
        pytest.skip("this Pillow writes no AVIF")
    assert main([str(tmp_path / "a.avif"), "-m", str(model_path), "-o", str(tmp_path / "b.avif"), "-q"]) == 0
    assert "only the first" not in caplog.text
    with Image.open(tmp_path / "b.avif") as out:
        durations = []
        for i in range(out.n_frames):
            out.seek(i)
            out.load()  # (an AVIF frame's duration is known once it is loaded)
            durations.append(out.info.get("duration"))
        assert durations == [80, 80, 80]
    assert main([str(tmp_path / "a.avif"), "-m", str(model_path), "-o", str(tmp_path / "b.gif"), "-q"]) == 0
    with Image.open(tmp_path / "b.gif") as out:
        assert out.n_frames == 3


def test_deep_greyscale_is_scaled_to_8_bits_by_its_range() -> None:

    cases = [("F", 0.5, 128), ("F", 100.0, 100), ("I;16", 32768, 128), ("I", 40000, 156), ("I", 200, 200)]
    for mode, value, grey in cases:  # float in 0..1 (HDR, scientific TIFFs), 16-bit, 32-bit in 8 or 16 bits
        rgb, alpha = split_alpha(Image.new(mode, (4, 3), value))
        assert rgb.mode == "RGB" and alpha is None and rgb.getpixel((1, 1)) == (grey,) * 3, (mode, value)
    # float: one pixel over 1 (a resampling's overshoot) made a 0..1 picture 0..255, black; whole numbers are 8 or
    # 16 bits; an HDR picture's 0..4 (or 0..1000) is refused, not read as 0..255 (black, without a word)
    ramp = np.linspace(0, 1, 200, dtype=np.float32).reshape(10, 20)
    for values, grey in ((np.where(ramp == 1, 1.01, ramp), 141), (ramp * 255, 141), (np.round(ramp * 65535), 141)):
        rgb, _ = split_alpha(Image.fromarray(values.astype(np.float32)))
        assert abs(rgb.getpixel((10, 5))[0] - grey) <= 1 and rgb.getpixel((19, 9)) == (255,) * 3
    dark = np.zeros((100, 100), np.float32)  # 0..255 on black, mostly 0 (a logo): grey stays grey, not white
    dark[:5, :5], dark[50, 50] = 128.4, 255
    assert split_alpha(Image.fromarray(dark))[0].getpixel((0, 0)) == (128,) * 3
    turned = Image.fromarray(ramp * 255).rotate(10, Image.BICUBIC)  # a resampling's overshoot past 255
    assert float(np.asarray(turned).max()) > 255 and split_alpha(turned)[0].getpixel((10, 5))[0] > 100
    for values in (ramp * 4, ramp * 1000):
        with pytest.raises(
            ValueError,
            match=r"^a float picture of values up to (4|1000) \(an HDR picture\?\): read are 0\.\.1, 0\.\.255",
        ):
            split_alpha(Image.fromarray(values))
    with pytest.raises(ValueError, match=r"^a 32-bit integer picture of values up to 400000: read are 0\.\.255 and"):
        split_alpha(Image.fromarray((ramp * 400_000).astype(np.int32)))  # (it came out white, clipped at 65535)


def test_cmyk_photos_are_read_through_their_icc_profile(model_path: Path, tmp_path: Path) -> None:
    # a press whose cyan ink prints yellow: only the profile can know; Pillow's formula gives cyan
    icc = cmyk_profile(lambda c, m, y, k: tuple(round(255 * (1 - v) * (1 - k)) for v in (m, y, c)))
    cyan_ink = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    cyan_ink.save(tmp_path / "profiled.jpg", quality=100, icc_profile=icc)
    cyan_ink.save(tmp_path / "plain.jpg", quality=100)
    cyan_ink.save(tmp_path / "damaged.tif", icc_profile=icc[:200])
    r, g, b = open_rgb(tmp_path / "profiled.jpg").getpixel((8, 8))
    assert r > 230 and g > 230 and b < 40
    for name in ("plain.jpg", "damaged.tif"):  # no profile, or one littlecms cannot read: Pillow's formula
        r, g, b = open_rgb(tmp_path / name).getpixel((8, 8))
        assert r < 25 and g > 230 and b > 230, name
    out = tmp_path / "out.jpg"
    assert main([str(tmp_path / "profiled.jpg"), "-m", str(model_path), "-o", str(out), "-q"]) == 0
    with Image.open(out) as stylized:  # sRGB now, and tagged so: the CMYK profile would misdescribe it
        assert stylized.mode == "RGB" and _description(stylized).startswith("sRGB")


def _description(img: Image.Image) -> str:
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"])))


def test_wide_gamut_photos_are_read_as_srgb_and_saved_so(model_path: Path, tmp_path: Path) -> None:
    # a display whose red primary is sRGB's green: (255, 0, 0) in it looks green; read as numbers, red
    swapped = rgb_profile("green", "blue", "red")
    Image.new("RGB", (16, 16), (255, 0, 0)).save(tmp_path / "wide.png", icc_profile=swapped)
    Image.new("RGBA", (16, 16), (255, 0, 0, 77)).save(tmp_path / "wide_alpha.png", icc_profile=swapped)
    assert open_rgb(tmp_path / "wide.png").getpixel((8, 8)) == (0, 255, 0)
    rgb, alpha = split_alpha(Image.open(tmp_path / "wide_alpha.png"))
    assert rgb.getpixel((8, 8)) == (0, 255, 0) and alpha.getextrema() == (77, 77)
    palette = Image.new("RGB", (16, 16), (255, 0, 0)).convert("P")
    palette.save(tmp_path / "wide_palette.png", icc_profile=swapped)
    assert open_rgb(tmp_path / "wide_palette.png").getpixel((8, 8)) == (0, 255, 0)
    # the name is not the test: linear light named sRGB is converted (mid grey 128 is sRGB's 188)
    linear = rgb_profile("red", "green", "blue", gamma=1.0, name="Linear sRGB")
    Image.new("RGB", (16, 16), (128, 128, 128)).save(tmp_path / "linear.png", icc_profile=linear)
    assert all(abs(v - 188) <= 2 for v in open_rgb(tmp_path / "linear.png").getpixel((8, 8)))
    Image.new("L", (16, 16), 128).save(tmp_path / "grey.png", icc_profile=grey_profile(1.0))
    assert all(abs(v - 188) <= 2 for v in open_rgb(tmp_path / "grey.png").getpixel((8, 8)))
    # grey with alpha, and 16-bit grey, through their profile too (read as plain numbers: 128 stayed 128)
    Image.new("LA", (16, 16), (128, 255)).save(tmp_path / "grey_alpha.png", icc_profile=grey_profile(1.0))
    deep = Image.fromarray(np.full((16, 16), 128 * 257, np.uint16))
    deep.save(tmp_path / "grey16.png", icc_profile=grey_profile(1.0))
    for name in ("grey_alpha.png", "grey16.png"):
        assert all(abs(v - 188) <= 2 for v in open_rgb(tmp_path / name).getpixel((8, 8))), name
    # an animation's frames too (16-bit grey clipped white, the profile left out, while its first frame as a
    # still was read right)
    from fast_style.media.animation import read_frames

    frames = [Image.fromarray(np.full((16, 16), v * 257, np.uint16)) for v in (128, 64)]
    frames[0].save(tmp_path / "grey16.apng", save_all=True, append_images=frames[1:], icc_profile=grey_profile(1.0))
    read, _, _ = read_frames(tmp_path / "grey16.apng")
    assert [abs(f.getpixel((8, 8))[0] - grey) <= 2 for f, grey in zip(read, (188, 137))] == [True, True]
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(tmp_path / "srgb.png", icc_profile=srgb)
    assert open_rgb(tmp_path / "srgb.png").getpixel((8, 8)) == (255, 0, 0)  # sRGB already: untouched
    for name in ("wide.png", "srgb.png", "linear.png"):
        out = tmp_path / f"out_{name}"
        assert main([str(tmp_path / name), "-m", str(model_path), "-o", str(out), "-q"]) == 0
        with Image.open(out) as stylized:  # the swapped profile would misdescribe the sRGB output
            assert _description(stylized).startswith("sRGB"), name
            assert name != "srgb.png" or stylized.info["icc_profile"] == srgb  # a source's sRGB profile kept


def test_a_cameras_adobe_rgb_jpeg_without_a_profile_is_read_as_adobe_rgb(model_path: Path, tmp_path: Path) -> None:
    """A camera set to Adobe RGB (Canon, Sony) embeds no profile: its EXIF says so (ColorSpace uncalibrated,
    interoperability index "R03", the DCF option file; or ColorSpace 2). Read as sRGB numbers, its colours came out
    flat and its stylized ones off (the README's "a third more saturated" the other way round); now through Adobe
    RGB, as an embedded profile is read, and the output tagged sRGB."""
    from fast_style.media.images import opened_in_srgb

    r03 = Image.Exif()
    r03.get_ifd(0x8769).update({0xA001: 0xFFFF, 0xA005: {1: "R03"}})
    two = Image.Exif()
    two.get_ifd(0x8769)[0xA001] = 2
    uncalibrated = Image.Exif()  # without the index: nothing said of the colours, sRGB as before
    uncalibrated.get_ifd(0x8769)[0xA001] = 0xFFFF
    for name, exif in (("r03.jpg", r03), ("two.tif", two), ("plain.jpg", uncalibrated)):
        Image.new("RGB", (16, 16), (200, 100, 50)).save(tmp_path / name, exif=exif.tobytes(), quality=100)
    expected = (227, 100, 42)  # Adobe RGB's (200, 100, 50) in sRGB (its matrices and curves, worked by hand)
    for name in ("r03.jpg", "two.tif"):
        got = open_rgb(tmp_path / name).getpixel((8, 8))
        assert max(abs(a - b) for a, b in zip(got, expected)) <= 2, (name, got)
        with Image.open(tmp_path / name) as opened:  # from Python, an image from Image.open as its path
            rgb, _ = split_alpha(opened_in_srgb(opened, tmp_path / name))
            assert rgb.getpixel((8, 8)) == got and "icc_profile" not in opened.info, name  # (the caller's untouched)
    assert max(abs(a - b) for a, b in zip(open_rgb(tmp_path / "plain.jpg").getpixel((8, 8)), (200, 100, 50))) <= 2
    out = tmp_path / "out.jpg"
    assert main([str(tmp_path / "r03.jpg"), "-m", str(model_path), "-o", str(out), "-q"]) == 0
    with Image.open(out) as stylized:
        assert _description(stylized).startswith("sRGB") and stylized.getexif().get_ifd(0x8769)[0xA001] == 1
        assert stylized.getexif().get_ifd(0xA005) == {1: "R98"}


def test_phone_photos_in_heic_and_avif_are_read(model_path: Path, tmp_path: Path, capsys) -> None:
    import pillow_heif  # writes HEIC (the product reads it with pi-heif, which only decodes)

    photos = tmp_path / "phone"
    photos.mkdir()
    photo = Image.new("RGB", (40, 30), (200, 40, 40))
    pillow_heif.from_pillow(photo).save(photos / "IMG_0001.HEIC", quality=95)
    photo.save(photos / "pic.avif", quality=95)
    r, g, b = open_rgb(photos / "IMG_0001.HEIC").getpixel((20, 15))
    assert abs(r - 200) < 12 and g < 60 and b < 60
    out = tmp_path / "out"
    assert main([str(photos), "-m", str(model_path), "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["IMG_0001.jpg", "pic.avif"]  # HEIC is read, not written
    with Image.open(out / "IMG_0001.jpg") as stylized:
        assert stylized.format == "JPEG" and stylized.size == (40, 30)
    capsys.readouterr()
    assert main([str(photos / "IMG_0001.HEIC"), "-m", str(model_path), "-o", str(tmp_path / "x.heic")]) == 2
    assert "an image is not written as '.heic'" in capsys.readouterr().err


def test_preserve_color_keeps_the_photos_chroma(model_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu")
    photo = Image.new("RGB", (24, 16), (200, 40, 40))
    kept = np.asarray(s.stylize_image(photo, preserve_color=True).convert("YCbCr")).astype(int)
    plain = np.asarray(s.stylize_image(photo).convert("YCbCr")).astype(int)
    _, pcb, pcr = photo.convert("YCbCr").getpixel((0, 0))
    assert np.abs(plain[..., 1:] - (pcb, pcr)).max() > 5  # the style changed the colours, ...
    assert np.abs(kept[..., 1:] - (pcb, pcr)).max() <= 2  # which come back the photo's (8-bit rounding)
    assert np.abs(kept[..., 0] - plain[..., 0]).max() <= 2  # over the stylized picture's light
    # in bands of rows (bounded memory for a huge photo), joined exactly
    y, photo_t = torch.rand(3, 37, 20), torch.randint(0, 256, (3, 37, 20), dtype=torch.uint8)
    assert torch.equal(Stylizer._colours_kept(y, photo_t, rows=5), Stylizer._colours_kept(y, photo_t))


def test_cli_folder_mirrors_tree_and_never_overwrites(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    src = tmp_path / "in"
    make_photo(src / "a.jpg")
    make_photo(src / "sub" / "b.png", mode="RGBA")
    out = tmp_path / "out"
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q"]) == 0
    assert (out / "a.jpg").is_file() and (out / "sub" / "b.png").is_file()
    assert Image.open(out / "sub" / "b.png").mode == "RGBA"
    assert "stylized 2 images," in capsys.readouterr().err
    before = (out / "a.jpg").read_bytes()
    # all there already: one line before any work (not one per file), exit 2; some there: each one, exit 1
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--strength", "0.5"]) == 2
    assert "2 outputs exist (e.g. " in capsys.readouterr().err
    (out / "sub" / "b.png").unlink()
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--strength", "0.5"]) == 1
    err = capsys.readouterr().err
    assert (
        "a.jpg exists: use --force" in err and "1 failed (1 because its output exists: --skip-existing leaves it" in err
    )
    assert (out / "a.jpg").read_bytes() == before and (out / "sub" / "b.png").is_file()
    # a stopped run resumed: the inputs done are left, quietly, and the rest stylized
    (out / "sub" / "b.png").unlink()
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert "skipping 1 of 2 inputs: its output exists (--skip-existing)" in err and "error" not in err
    assert (out / "a.jpg").read_bytes() == before and (out / "sub" / "b.png").is_file()
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--skip-existing"]) == 0
    assert "nothing to do: the 2 outputs exist already" in capsys.readouterr().err
    original = (src / "a.jpg").read_bytes()  # an output that is its input is still refused, not skipped
    assert main([str(src / "a.jpg"), "-m", str(model_path), "-o", str(src), "-q", "--skip-existing"]) == 2
    assert "written over its input" in capsys.readouterr().err and (src / "a.jpg").read_bytes() == original
    with pytest.raises(SystemExit):
        main([str(src), "-m", str(model_path), "--skip-existing", "--force"])
    assert "argument --force: not allowed with argument --skip-existing" in capsys.readouterr().err
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--force", "--strength", "0.5"]) == 0
    assert (out / "a.jpg").read_bytes() != before
    # writing into the input folder under the input's own name is refused
    original = (src / "a.jpg").read_bytes()
    assert main([str(src / "a.jpg"), "-m", str(model_path), "-o", str(src), "--force", "-q"]) == 2
    assert "the output would be written over its input" in capsys.readouterr().err
    assert main([str(src / "a.jpg"), "-m", str(model_path), "-o", str(src / "a.jpg"), "--force", "-q"]) == 2
    # a file name to try, not --name (refused where -o names the file itself)
    assert capsys.readouterr().err.strip().endswith(f"give another -o, e.g. -o {src / 'a_stylized.jpg'}")
    assert (src / "a.jpg").read_bytes() == original
    # ... and so is an output that is the input by another path (a link; on macOS, a name in another case)
    (tmp_path / "linked").mkdir()
    os.link(src / "a.jpg", tmp_path / "linked" / "A.JPG")
    assert main([str(tmp_path / "linked" / "A.JPG"), "-m", str(model_path), "-o", str(src / "a.jpg"), "--force"]) == 2
    assert "written over its input" in capsys.readouterr().err and (src / "a.jpg").read_bytes() == original
    # the output's name in capitals, the input's not: it is found among the inputs by its name in any case too
    assert main([str(src / "a.jpg"), "-m", str(model_path), "-o", str(tmp_path / "linked" / "A.JPG"), "--force"]) == 2
    assert "written over its input" in capsys.readouterr().err and (src / "a.jpg").read_bytes() == original
    # an output where a folder stands: refused before any work too
    make_photo(tmp_path / "more" / "c.jpg")
    (out / "c.jpg").mkdir()
    assert main([str(tmp_path / "more" / "c.jpg"), "-m", str(model_path), "-o", str(out), "-q"]) == 2
    said = "c.jpg: a folder of that name is in the way; move it, or write elsewhere (-o or --name)"
    assert said in capsys.readouterr().err and not any((out / "c.jpg").iterdir())


def test_a_folder_search_leaves_out_the_output_folder_inside_it(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    make_photo(tmp_path / "a.jpg")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # `fast-style-stylize . --style NAME` twice: the second run redoes a.jpg only
        assert main([".", "-m", str(model_path), "--force", "-q"]) == 0
        assert "stylized 1 image," in capsys.readouterr().err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.jpg")) == ["a.jpg", "stylized/a.jpg"]
    assert main(["**/*.jpg", "-m", str(model_path), "--force", "-q"]) == 0  # a recursive glob leaves it out too
    assert "stylized 1 image," in capsys.readouterr().err
    assert main(["stylized", "-m", str(model_path), "-o", "stylized/again", "-q"]) == 0  # named outright: taken
    assert (tmp_path / "stylized" / "again" / "a.jpg").is_file()


def test_running_out_of_memory_is_one_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    from fast_style.inference.batch import stylize_files

    plans = [(make_photo(tmp_path / f"{n}.png", seed=n), tmp_path / "out" / f"{n}.png") for n in (1, 2)]
    errors: list[str] = []

    def stylize(images: list[Image.Image]) -> list[Image.Image]:
        if not errors:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return images

    report = stylize_files(plans, stylize, on_error=errors.append)
    assert report.failed == 1 and report.images == 1
    hint = "out of memory: stylize it in tiles (tile=512: pictures over 2.4 MP), smaller (max_size)"
    assert len(errors) == 1 and hint in errors[0]
    with pytest.raises(RuntimeError, match="a bug"):  # any other RuntimeError is a bug, raised as one
        stylize_files(plans[1:], lambda images: (_ for _ in ()).throw(RuntimeError("a bug")), force=True)


def test_an_output_through_a_symlink_loop_is_one_line(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """pathlib's resolve raises RuntimeError("Symlink loop from ...") on Python 3.11 and 3.12: a traceback, exit 1,
    from stylize and export alike."""
    from fast_style.cli.export import main as export

    photo = make_photo(tmp_path / "p.png")
    (tmp_path / "loop_a").symlink_to("loop_b")
    (tmp_path / "loop_b").symlink_to("loop_a")
    for run in (
        lambda: main([str(photo), "-m", str(model_path), "-o", f"{tmp_path / 'loop_a'}/", "-q"]),
        lambda: main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "loop_a" / "x.jpg"), "-q"]),
        lambda: export([str(model_path), "-o", f"{tmp_path / 'loop_a'}/"]),
    ):
        assert run() == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and "leads back to itself" in err, err
    assert {p.name for p in tmp_path.iterdir()} >= {"loop_a", "loop_b"} and not list(tmp_path.glob("*.onnx"))


def test_after_a_double_dash_a_name_beginning_with_a_dash_is_an_input(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`fast-style-stylize --style wave -- -draft.jpg`: Python 3.11's intermixed parse took it for an unknown option
    ("unrecognized arguments: -draft.jpg", after the usage)."""
    monkeypatch.chdir(tmp_path)
    make_photo(tmp_path / "-draft.png")
    make_photo(tmp_path / "b.png", seed=2)
    assert main(["-m", str(model_path), "-o", "out", "-q", "--", "-draft.png", "b.png"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["-draft.png", "b.png"]
    assert main(["-m", str(model_path), "-o", "out2", "-q", "--", "-missing.png"]) == 2  # still a file's name
    assert "no such file" in capsys.readouterr().err


def test_an_input_that_is_there_but_no_file_says_so(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A pipe, a link to nothing and a link to itself were each "no such file", though `ls` shows them."""
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "moved.jpg")
    (tmp_path / "self.jpg").symlink_to("self.jpg")
    for name, said in (
        ("pipe.jpg", "pipe.jpg is not a regular file (a pipe, a socket or a device): give a picture or video file"),
        ("gone.jpg", f"gone.jpg is a link to {tmp_path / 'moved.jpg'}, which does not exist"),
        ("self.jpg", "self.jpg is a link to self.jpg, which does not exist (or leads back to the link)"),
    ):
        assert main([str(tmp_path / name), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, err
    assert main([str(tmp_path / "nothing.jpg"), "-m", str(model_path), "-q"]) == 2
    assert "no such file, folder or matching images" in capsys.readouterr().err


def test_a_refusal_names_the_option_on_the_command_line_and_the_argument_from_python(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The command line said "use --force (from Python: force=True)": a command's user has no Python argument, and a
    Python caller no option. A too-large picture likewise names --max-image-pixels or PIL.Image.MAX_IMAGE_PIXELS."""
    photo = make_photo(tmp_path / "p.png", size=(40, 30))
    out = tmp_path / "out.png"
    out.write_text("mine")
    assert main([str(photo), "-m", str(model_path), "-o", str(out), "-q"]) == 2
    assert capsys.readouterr().err == f"error: {out} exists: use --force to overwrite it\n"
    with pytest.raises(UserError, match=r"out.png exists: use force=True to overwrite it$"):  # after it: Python's
        check_output(out, force=False)
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o2.png"), "--max-image-pixels", "600"]) == 2
    assert "(600: --max-image-pixels): raise it if you trust this file" in capsys.readouterr().err
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, 500  # (Pillow refuses twice the limit)
    try:
        with pytest.raises(UserError, match=re.escape("(500: PIL.Image.MAX_IMAGE_PIXELS): raise it")):
            Stylizer.load(model_path)(photo)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_a_link_to_nothing_at_the_output_is_refused_before_the_work(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """It passed the check before the work (it does not "exist") and was then refused after it, as a file "made while
    this one was being written"."""
    photo = make_photo(tmp_path / "p.png")
    out = tmp_path / "out.png"
    out.symlink_to(tmp_path / "gone" / "x.png")
    assert main([str(photo), "-m", str(model_path), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"error: {out} exists (a link to {tmp_path / 'gone' / 'x.png'}, which does not exist): use --force "
        "to overwrite it\n"  # (a command's message names its option, not the Python argument)
    ), err
    assert main([str(photo), "-m", str(model_path), "-o", str(out), "-q", "--force"]) == 0  # the link replaced
    assert not out.is_symlink() and Image.open(out).size == Image.open(photo).size


def test_cli_options_and_bad_inputs(model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    photo = make_photo(tmp_path / "p.png", size=(300, 200))
    out = tmp_path / "o.webp"
    assert main([str(photo), "-m", str(model_path), "-o", str(out), "--max-size", "90", "--preserve-color"]) == 0
    assert Image.open(out).size == (90, 60)
    (tmp_path / "bad.jpg").write_text("nope")
    code = main([str(photo), str(tmp_path / "bad.jpg"), "-m", str(model_path), "-o", str(tmp_path / "d"), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "bad.jpg" in err and "1 failed" in err and "Traceback" not in err
    assert main([str(photo), "-m", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "x.png")]) == 2
    assert main([str(tmp_path / "nothing*.jpg"), "-m", str(model_path)]) == 2
    assert main([str(photo), "-m", str(model_path), "--strength", "2"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)


@pytest.mark.parametrize(
    "flag,value,said",
    [
        ("--strength", "2", "--strength must be within 0..1 (0: the photo, 1: the full style), got 2"),
        ("--strength", "nan", "--strength must be within 0..1 (0: the photo, 1: the full style), got nan"),
        # a number said exactly, in one wording ("%g" had said "got 1", within 0..1; "--max-pixels 4096 is a count of
        # pixels, not megapixels: ... give at least 4096")
        ("--strength", "1.0000001", "--strength must be within 0..1 (0: the photo, 1: the full style), got 1.0000001"),
        (
            "--max-pixels",
            "4095.9999999",
            "--max-pixels 4095.9999999 is a count of pixels, not megapixels: 4.2 MP is 4.2e6; give at least 4096 "
            "(64 x 64), or 0: never tile",
        ),
        ("--max-size", "0", "--max-size must be a whole number of pixels >= 1, got 0"),
        ("--scale", "inf", "--scale must be a finite number > 0, got inf"),  # (it said "a number > 0" of inf)
        ("--scale", "nan", "--scale must be a finite number > 0, got nan"),
        ("--smooth", "1", "--smooth must be within 0..1 (1 excluded; 0: none), got 1"),
        # the rule's words, as the library's for a Python caller ("--quality must be within 1..100", no number)
        ("--quality", "0", "--quality must be a whole number within 1..100, got 0"),
        ("--batch-size", "-1", "--batch-size must be a whole number >= 1, got -1"),
    ],
)
def test_the_cli_says_the_librarys_rule_in_its_flags_words(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, flag: str, value: str, said: str
) -> None:
    photo = tmp_path / "p.png"
    Image.new("RGB", (20, 16)).save(photo)
    assert main([str(photo), "-m", str(model_path), flag, value]) == 2
    assert capsys.readouterr().err.strip() == f"error: {said}"


def test_when_every_input_fails_nothing_is_written_and_the_exit_is_a_mistakes(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff")
    assert main([str(tmp_path / "notes.txt"), "-m", str(model_path), "-o", str(tmp_path / "n.jpg")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("error", "stylized"))]
    assert len(err) == 1 and "notes.txt: cannot identify image file" in err[0]  # no 'stylized 0 image(s) -> n.jpg'
    files = [str(tmp_path / "notes.txt"), str(tmp_path / "cut.jpg")]
    assert main([*files, "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "error: none of the 2 inputs could be stylized; nothing written" in err and "stylized 0" not in err
    assert not (tmp_path / "n.jpg").exists() and not list((tmp_path / "out").glob("*"))


def test_a_cut_short_avif_or_gif_is_one_line_and_the_others_are_written(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    """Pillow reports these with SyntaxError and IndexError, not OSError: the run stopped with a traceback
    (the GIF's at planning, before anything was written), or a GIF over the pixel limit did. The GIF's first frames
    are whole: they are stylized, said (test_an_animation_cut_short_is_stylized_as_far_as_it_reads)."""
    frame = Image.linear_gradient("L").convert("RGB").resize((40, 30))
    (tmp_path / "in").mkdir()
    more = {"save_all": True, "append_images": [frame.rotate(10), frame.rotate(20)], "duration": 50}
    for name, fmt, extra in (("b.avif", "AVIF", {}), ("c.gif", "GIF", more)):
        data = io.BytesIO()
        frame.save(data, fmt, **extra)
        cut = len(data.getvalue()) - 10 if fmt == "AVIF" else len(data.getvalue()) * 3 // 5  # (IndexError)
        (tmp_path / "in" / name).write_bytes(data.getvalue()[:cut])
    for name in ("a.png", "d.png"):
        frame.save(tmp_path / "in" / name)
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: {tmp_path / 'in' / 'b.avif'}: damaged or cut short" in err
    assert "c.gif: the animation ended after 2 frames (cut short or damaged?)" in caplog.text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.gif", "d.png"]
    whole = tmp_path / "whole.gif"
    frame.save(whole, save_all=True, append_images=[frame.rotate(10)], duration=50)
    assert main([str(whole), "-m", str(model_path), "-o", str(tmp_path / "w"), "--max-image-pixels", "500"]) == 2
    assert "decompression bombs allows (500: --max-image-pixels" in capsys.readouterr().err


def test_an_animation_cut_short_is_stylized_as_far_as_it_reads(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    """A GIF or APNG cut short (a download that stopped) was refused whole ("the file ends early") though its first
    frames read, where a video cut short is stylized as far as it goes, with a warning: an animation now is too, its
    loop kept; one whose first frame is cut is refused as before."""
    from fast_style.media.animation import read_frames

    frames = [Image.linear_gradient("L").convert("RGB").resize((64, 64)).rotate(10 * i) for i in range(10)]
    for name, fmt, keep, read in (("g.gif", "GIF", 0.5, 4), ("h.gif", "GIF", 0.3, 3), ("p.png", "PNG", 0.5, 5)):
        data = io.BytesIO()
        frames[0].save(data, fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)
        (tmp_path / name).write_bytes(data.getvalue()[: int(len(data.getvalue()) * keep)])  # h.gif: an IndexError
        caplog.clear()
        assert main([str(tmp_path / name), "-m", str(model_path), "-o", str(tmp_path / f"out_{name}"), "-q"]) == 0
        said = [r.getMessage() for r in caplog.records if "ended after" in r.getMessage()]
        assert said == [f"{name}: the animation ended after {read} frames (cut short or damaged?); those were stylized"]
        assert f"stylized 1 animation of {read} frames" in capsys.readouterr().err
        with Image.open(tmp_path / f"out_{name}") as out:
            assert out.n_frames == read and out.info["loop"] == 0
        caplog.clear()
        assert len(read_frames(tmp_path / name)[0]) == read
        assert f"{name}: the animation ended after {read} frames (cut short or damaged?); only those were read" in (
            caplog.text
        )
    data = io.BytesIO()
    frames[0].save(data, "GIF", save_all=True, append_images=frames[1:], duration=50)
    (tmp_path / "first.gif").write_bytes(data.getvalue()[: len(data.getvalue()) * 3 // 100])  # within frame 1
    assert main([str(tmp_path / "first.gif"), "-m", str(model_path), "-o", str(tmp_path / "out_first.gif")]) == 2
    assert "first.gif: the file ends early (an unfinished copy or download?)" in capsys.readouterr().err
    assert not (tmp_path / "out_first.gif").exists()


def test_a_cut_short_webp_or_avif_is_said_to_end_early(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Pillow reads no frame of a cut WebP or AVIF: a WebP was "could not create decoder object", an animated AVIF
    (which FFmpeg reads as a video) "a video named as a picture: rename it x.mp4"."""
    from fast_style.file_kinds import cut_short

    frames = [Image.linear_gradient("L").convert("RGB").resize((64, 64)).rotate(10 * i) for i in range(4)]
    for name, fmt, more in (
        ("still.webp", "WEBP", {}),
        ("moving.webp", "WEBP", {"save_all": True, "append_images": frames[1:], "duration": 50}),
        ("still.avif", "AVIF", {}),
        ("moving.avif", "AVIF", {"save_all": True, "append_images": frames[1:], "duration": 50}),
    ):
        data = io.BytesIO()
        frames[0].save(data, fmt, **more)
        (tmp_path / f"whole_{name}").write_bytes(data.getvalue())
        (tmp_path / name).write_bytes(data.getvalue()[: len(data.getvalue()) // 2])
        assert cut_short(tmp_path / name) and not cut_short(tmp_path / f"whole_{name}")
        out = tmp_path / f"out_{name}"
        assert main([str(tmp_path / name), "-m", str(model_path), "-o", str(out), "-q"]) == 2
        said = "the file ends early (an unfinished copy or download?): copy it again"
        assert capsys.readouterr().err == f"error: {tmp_path / name}: {said}\n"
    assert not cut_short(make_photo(tmp_path / "p.jpg"))


def test_images_over_the_pixel_limit_are_refused(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    photo = make_photo(tmp_path / "big.png", size=(120, 100))
    code = main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.png"), "--max-image-pixels", "5000"])
    assert code == 2 and "decompression bombs allows (5000: --max-image-pixels" in capsys.readouterr().err
    code = main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.png"), "--max-image-pixels", "1000"])
    assert code == 2 and "(1000: --max-image-pixels" in capsys.readouterr().err  # Pillow's own message says 2000
    assert not (tmp_path / "o.png").exists()
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.png"), "--max-image-pixels", "20000"]) == 0
    # the guard holds for the size after --scale too (--scale 100 had the kernel kill the process for its memory)
    big = ["-m", str(model_path), "-o", str(tmp_path / "o2.png"), "--max-image-pixels", "20000", "--scale", "10"]
    assert main([str(photo), *big]) == 2
    assert "--scale 10.0 makes a 1200x1000 image (1,200,000 pixels), more than the 20,000" in capsys.readouterr().err
    assert not (tmp_path / "o2.png").exists()
    assert main([str(photo), *big, "--max-size", "140"]) == 0  # a max size keeps it within the guard


def test_api_misuse_is_a_clear_error(model_path: Path) -> None:
    import numpy as np

    s = Stylizer.load(model_path, device="cpu")
    with pytest.raises(TypeError, match=r"not ndarray: Image\.fromarray"):
        s(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="a path, a PIL image or a tensor, not bytes"):
        s(b"photo")
    with pytest.raises(TypeError, match="path or a built-in style's name, not None"):
        Stylizer.load(None)
    for empty in (Image.new("RGB", (0, 5)), torch.rand(3, 0, 8)):
        with pytest.raises(UserError, match="an empty image"):
            s(empty)
    assert s(torch.rand(0, 3, 8, 8)).shape == (0, 3, 8, 8)  # no images in, none out
    for dtype in (torch.int64, torch.int32, torch.bool):  # an int64 batch had come back all black
        with pytest.raises(UserError, match=f"float images in \\[0, 1\\] or uint8 ones, got {dtype}"):
            s(torch.zeros(1, 3, 8, 8, dtype=dtype))
    for device in ("xpu", "meta", "hpu", "bogus"):  # torch's other device types crashed at load or first call
        with pytest.raises(UserError, match="use auto, cpu, cuda, cuda:N or mps"):
            Stylizer.load(model_path, device=device)
    for size, said in (  # each gave a 1x1 image
        ({"max_size": -5}, r"max_size must be a whole number of pixels >= 1, got -5"),
        ({"max_size": 0}, r"max_size must be a whole number of pixels >= 1, got 0"),
        # one rule for Python, the command line and the server, whose live view alone refused 100.5
        ({"max_size": 100.5}, r"^max_size must be a whole number of pixels >= 1, got 100.5$"),
        ({"scale": -1.0}, r"scale must be a finite number > 0, got -1"),
        ({"scale": 0.0}, r"scale must be a finite number > 0, got 0"),
    ):
        with pytest.raises(UserError, match=said):
            s(Image.new("RGB", (20, 16)), **size)
    for bad, said in (  # the command line's rules: a 300x200 picture in 1 px tiles took 80 s, whole a few ms
        ({"tile": 0}, r"tile must be a whole number of pixels >= 64, got 0"),
        ({"tile": 8}, r"tile must be a whole number of pixels >= 64, got 8"),
        ({"tile": 100.5}, "got 100.5"),
        ({"max_pixels": -1}, r"max_pixels must be a whole number of pixels, at least 4096 \(0: never tile\)"),
        ({"max_pixels": 5000.5}, "got 5000.5"),
        ({"max_pixels": 10}, r"max_pixels 10 is a count of pixels, not megapixels"),
        # 4095 was told only that it is "a count of pixels, not megapixels", never the least it takes
        ({"max_pixels": 4095}, r"max_pixels 4095 is a count .*; give at least 4096 \(64 x 64\), or 0: never tile$"),
    ):
        with pytest.raises(UserError, match=said):
            Stylizer.load(model_path, device="cpu", **bad)
    assert Stylizer.load(model_path, device="cpu", tile=64, max_pixels=0).tile == 64


def test_api_mistakes_in_values_files_and_types_are_named(model_path: Path, tmp_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu")
    photo = Image.new("RGB", (20, 16))
    # floats outside 0..1 came back as values up to 128 (0..255 input at strength 0.5), or below 0 (-1..1 input)
    for images, hint in ((torch.rand(1, 3, 8, 8) * 255, "divide them by 255"), (torch.rand(3, 8, 8) * 2 - 1, "0..1")):
        with pytest.raises(UserError, match=f"float images must be in \\[0, 1\\], got values from .*{hint}"):
            s(images, strength=0.5)
    assert s(torch.rand(3, 8, 8) * 1.005).shape == (3, 8, 8)  # rounding just past 1 is no mistake
    for value in ("nan", "inf", "-inf"):  # NaN came back all NaN; inf was told to divide by 255
        with pytest.raises(UserError, match="NaN or infinite values"):
            s(torch.full((1, 3, 8, 8), float(value)))
    (tmp_path / "text.jpg").write_text("not a picture")
    make_photo(tmp_path / "whole.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:300])
    for path in (tmp_path / "text.jpg", tmp_path / "cut.jpg", tmp_path, tmp_path / "none.jpg"):
        for call in (s, s.stylize_image, lambda p: s.stylize_images([photo, p])):
            with pytest.raises(UserError, match=f"cannot read {re.escape(str(path))}: "):
                call(path)
    import zlib

    Image.new("L", (20, 20)).save(tmp_path / "bomb.png")
    data = bytearray((tmp_path / "bomb.png").read_bytes())
    data[16:24] = (20_000).to_bytes(4, "big") * 2  # 400 MP: past Pillow's error limit (PIL's own error came out)
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    (tmp_path / "bomb.png").write_bytes(data)
    for call in (s, lambda p: s.stylize_images([p])):
        with pytest.raises(UserError, match="bomb.png: more pixels than Pillow's guard against decompression bombs"):
            call(tmp_path / "bomb.png")
    photo.save(tmp_path / "p.png")
    assert s.stylize_image(str(tmp_path / "p.png")).size == (20, 16)  # a path is read
    for options, said in (
        ({"strength": "0.5"}, "strength must be within 0..1 (0: the photo, 1: the full style), not '0.5'"),
        ({"max_size": "100"}, "max_size must be a whole number of pixels >= 1, not '100'"),
    ):
        with pytest.raises(TypeError, match=f"^{re.escape(said)}$"):  # no number: the wrong type
            s(photo, **options)
    for name in ("scale", "strength"):  # NaN passed every range check: a number the setting does not take
        with pytest.raises(UserError, match=f"^{name} must be .*, got nan$"):  # (in its range's words, as 2's)
            s(photo, **{name: float("nan")})
    # numpy's numbers and a 0-d tensor are numbers (a tensor's max_size or scale failed in round())
    assert s(photo, strength=np.float32(0.5), max_size=np.int64(10)).size == (10, 8)
    assert s(photo, max_size=torch.tensor(10)).size == (10, 8)
    assert s(photo, scale=torch.tensor(0.5)).size == (10, 8)
    assert s(torch.rand(3, 8, 8), strength=torch.tensor(0.5)).shape == (3, 8, 8)
    with pytest.raises(UserError, match=r"frames of shape \(N, 3, H, W\), got \(3, 8, 12\)"):
        s.stylize_frames(torch.rand(3, 8, 12), max_size=6)
    import fast_style

    assert fast_style.Stylizer is Stylizer  # `from fast_style import Stylizer` (an ImportError)
    assert "Stylizer" in dir(fast_style) and "Stylizer" in fast_style.__all__  # (completion, help(), import *)
    from fast_style.media.video import stylize_video
    from fast_style.model.interpolation import interpolate
    from fast_style.model.style_model import load_style_model

    # the API's other names, from wherever their modules live (README: `from fast_style import interpolate`)
    assert (fast_style.stylize_video, fast_style.interpolate) == (stylize_video, interpolate)
    assert fast_style.load_style_model is load_style_model and set(fast_style.__all__) <= set(dir(fast_style))
    assert all(getattr(fast_style, name) is not None for name in fast_style.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'stylizer'"):
        fast_style.stylizer  # noqa: B018 (a module's old place is no name of the package's)
    with pytest.raises(TypeError, match=r"use Stylizer\.load"):
        Stylizer("wave", "cpu", "fp32")
    with pytest.raises(UserError, match="dtype must be one of"):
        Stylizer(s.network, "cpu", torch.int32)
    with pytest.raises(UserError, match="fp16 is not supported on the CPU"):  # as Stylizer.load(precision="fp16")
        Stylizer(s.network, "cpu", torch.float16)
    assert Stylizer(s.network, "cpu", torch.float32).dtype == torch.float32


def test_an_emulated_bf16_is_warned_once(model_path: Path, monkeypatch, caplog) -> None:
    import fast_style.devices as devices

    monkeypatch.setattr(devices, "native_bf16", lambda kind: False)
    Stylizer.load(model_path, device="cpu", precision="bf16")  # load picks it, the constructor took it again
    assert sum("no native bf16" in r.getMessage() for r in caplog.records) == 1


def test_a_quoted_home_folder_glob_is_expanded_as_a_quoted_file_is(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # '~/pics/*.png' said "no such file, folder or matching images"
    make_photo(tmp_path / "pics" / "c.png")
    assert main(["~/pics/*.png", "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["c.png"]


def test_two_inputs_never_share_an_output(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fast_style.inference import plan

    make_photo(tmp_path / "a" / "x.jpg")
    make_photo(tmp_path / "b" / "x.jpg", seed=3)
    code = main([str(tmp_path / "*" / "x.jpg"), "-m", str(model_path), "-o", str(tmp_path / "out"), "--force"])
    err = capsys.readouterr().err  # the advice fits: the names are alike, so {stem} could not tell them apart
    assert (
        code == 2 and f"would both be written to {tmp_path / 'out' / 'x.jpg'}: give the folder that holds both (" in err
    )
    assert not (tmp_path / "out").exists()
    assert main([str(tmp_path), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0  # and it works
    assert {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.jpg")} == {
        "a/x.jpg",
        "b/x.jpg",
    }
    monkeypatch.setattr(plan.os.path, "commonpath", lambda paths: (_ for _ in ()).throw(ValueError("two drives")))
    code = main([str(tmp_path / "*" / "x.jpg"), "-m", str(model_path), "-o", str(tmp_path / "o2"), "--force"])
    assert code == 2 and "stylize them into separate -o folders" in capsys.readouterr().err  # Windows: a traceback
    # one file given twice (its folder, and itself) is one input, not a clash
    assert (
        main([str(tmp_path / "a"), str(tmp_path / "a" / "x.jpg"), "-m", str(model_path), "-o", str(tmp_path / "o")])
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["x.jpg"]
    # one name, two extensions (a phone's IMG_1.HEIC beside IMG_1.JPG): no --name with {stem} tells them apart
    from fast_style.inference.plan import plan_outputs

    items = [(tmp_path / "c" / "y.heic", tmp_path / "c"), (tmp_path / "c" / "y.jpg", tmp_path / "c")]  # both .jpg out
    with pytest.raises(UserError, match="-o is empty: give a file or a folder"):  # not the current folder
        plan_outputs(items, "", "{stem}.{ext}", "wave")
    (tmp_path / "notes").write_text("a file without an extension, where -o names a folder")
    with pytest.raises(UserError, match="is an existing file without an extension: give a folder, or .* notes.jpg"):
        plan_outputs(items[1:], str(tmp_path / "notes"), "{stem}.{ext}", "wave")
    with pytest.raises(UserError, match=r"use name with the input's own extension, \{suffix\}"):
        plan_outputs(items, str(tmp_path / "p"), "{stem}.{ext}", "wave")
    plans = plan_outputs(items, str(tmp_path / "p"), "{stem}_{suffix}.{ext}", "wave")
    assert [dst.name for _, dst in plans] == ["y_heic.jpg", "y_jpg.jpg"]


def test_an_output_folder_blocked_by_a_file_is_one_line(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from fast_style.atomic import atomic_write

    photo = make_photo(tmp_path / "p.jpg")
    (tmp_path / "afile").write_text("mine")
    for out in ("afile/x.jpg", "afile/deeper/"):  # it had been blamed on the input, as [Errno 17], exit 1
        assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / out)]) == 2
        assert "afile is a file, not a folder: choose another output" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "mine"
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / ".jpg")]) == 2  # had made a hidden folder
    assert "is an extension alone: give a file name, e.g. out.jpg" in capsys.readouterr().err
    assert not (tmp_path / ".jpg").exists()
    with pytest.raises(UserError, match="cannot write .*afile/x.png: .*afile is a file, not a folder"):
        with atomic_write(tmp_path / "afile" / "x.png"):
            pass
    if Path("/proc/self").exists():  # a folder that takes no files: the target named, not a temporary file
        with pytest.raises(UserError, match=r"^cannot write /proc/x.png: No such file or directory$"):
            with atomic_write(Path("/proc/x.png")):
                pass


def test_a_folder_run_leaves_out_an_earlier_runs_output_and_names_what_it_skips(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A run with -o after one without stylized the first run's stylized/ copies again (a level deeper each run),
    and a RAW+JPEG shooter's .CR2 files were left out without a word."""
    tmp_path = tmp_path / "shoot"
    make_photo(tmp_path / "a.jpg")
    (tmp_path / "IMG_1.CR2").write_bytes(b"raw")
    (tmp_path / "IMG_1.xmp").write_text("<x:xmpmeta/>")
    monkeypatch.chdir(tmp_path)
    assert main([".", "-m", str(model_path), "-q"]) == 0  # into ./stylized
    assert "left out 2 files that are not images or videos (.cr2, .xmp)" in caplog.text
    caplog.clear()
    assert main([".", "-m", str(model_path), "-o", "again", "-q"]) == 0
    assert sorted(p.relative_to(tmp_path / "again").as_posix() for p in (tmp_path / "again").rglob("*")) == ["a.jpg"]
    assert "left out 1 file in stylized/ (an earlier run's output: name that folder to stylize it)" in caplog.text
    assert main(["stylized", "-m", str(model_path), "-o", "restyled", "-q"]) == 0  # named: taken
    assert (tmp_path / "restyled" / "a.jpg").is_file()


def test_output_names_say_what_they_will_do(model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = make_photo(tmp_path / "a.jpg"), make_photo(tmp_path / "b.jpg", seed=2)
    gif = tmp_path / "anim.gif"
    Image.new("RGB", (8, 8)).save(
        gif, save_all=True, append_images=[Image.new("RGB", (8, 8), (k * 90, 0, 0)) for k in (1, 2)]
    )
    run = lambda *args: main([*map(str, args), "-m", str(model_path), "-q"])  # noqa: E731
    cases = [
        ((a, "-o", tmp_path / "x.jpeg2"), "an image is not written as '.jpeg2'"),
        ((a, "-o", tmp_path / "x.mp4"), "x.mp4 names a video, but " + str(a) + " is not a video: an image is written"),
        # an animation: "an image is written as .jpg, .jpeg, .png, .apng, ...", none that keeps it moving
        ((gif, "-o", tmp_path / "x.mp4"), f"{gif} is an animation of 3 frames, not a video: it is written as an "),
        ((gif, "-o", tmp_path / "x.webm"), ".gif, .png, .apng, .webp, .avif (-o " + str(tmp_path / "x.gif)")),
        ((a, b, "-o", tmp_path / "two.jpg"), "names one file, but there are 2 inputs: give a folder"),
        ((a, b, "-o", tmp_path / "out.v1"), "names one file, but there are 2 inputs: for a folder, end it with /"),
        ((a, "-o", tmp_path / "one.png", "--name", "{stem}_x.{ext}"), "-o folder; -o " + str(tmp_path / "one.png")),
        ((a, b, "-o", a, "--force"), "names one file, but there are 2 inputs"),
        ((a, "-o", tmp_path / "d", "--name", "../../{stem}.png"), "leads outside the output folder"),
        ((a, "-o", tmp_path / "d", "--name", "{stem.upper}.{ext}"), "bad --name pattern"),  # named a method's repr
        ((a, "-o", tmp_path / "d", "--name", "{stem!r}.{ext}"), "bad --name pattern"),
        ((a, "-o", tmp_path / "d", "--name", "{foo}.{ext}"), "{stem}, {ext}, {suffix}, {style}, {model}"),
        ((a, "-o", tmp_path / "d", "--name", "{stem.{ext}"), "bad --name pattern"),
        ((a, "-o", tmp_path / "o.png", "--backend", "onnxruntime", "--tile", "128"), "--tile needs --backend torch"),
        (
            (a, "-o", tmp_path / "o.png", "--backend", "onnxruntime", "--device", "cuda"),
            "--device cuda needs --backend torch",
        ),
        (
            (a, "-o", tmp_path / "o.png", "--backend", "onnxruntime", "--precision", "bf16"),
            "--precision bf16 needs --backend torch",
        ),
        ((a, "-o", tmp_path / "o.png", "--scale", "inf"), "--scale must be a finite number > 0, got inf"),
        ((a, "-o", tmp_path / "o.png", "--max-pixels", "inf"), "--max-pixels must be a whole number of pixels, at"),
        ((a, "-o", tmp_path / "o.png", "--tile", "32"), "--tile must be a whole number of pixels >= 64, got 32"),
        ((a, "-o", tmp_path / "o.png", "--max-pixels", "4.2"), "--max-pixels 4.2 is a count of pixels, not megapixels"),
        (
            (a, "-o", tmp_path / "o.png", "--max-image-pixels", "nan"),
            "--max-image-pixels must be a whole number of pixels >= 1 (inf: no limit), got nan",
        ),
        # (0.5 was taken as 0, which refused every picture: "more pixels than ... allows (0: --max-image-pixels)")
        ((a, "-o", tmp_path / "o.png", "--max-image-pixels", "0.5"), "--max-image-pixels must be a whole number of"),
    ]
    for args, message in cases:
        assert run(*args) == 2, args
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "x.jpeg2").exists() and not (tmp_path / "two.jpg").exists()
    assert not (tmp_path / "o.png").exists()
    assert run(a, "-o", tmp_path / "o.png", "--max-image-pixels", "inf") == 0  # no limit
    # a folder name with a dot, made explicit by a trailing slash; {style} is the painting the model learnt
    trained = tmp_path / "style.pt"  # the name fast-style-train gives every model
    trained.write_bytes(model_path.read_bytes())
    assert main([str(a), "-m", str(trained), "-o", f"{tmp_path / 'v1.2'}/", "--name", "{stem}_{style}.png"]) == 0
    assert (tmp_path / "v1.2" / "a_wave.png").is_file()
    # {model}: the model's own name, which tells a style from its fast variant ({style} is the same for both)
    assert main([str(a), "-m", str(trained), "-o", str(tmp_path / "m"), "--name", "{stem}_{model}.png", "-q"]) == 0
    assert (tmp_path / "m" / f"a_{tmp_path.name}.png").is_file()  # a run's style.pt: named by its run's folder
    (tmp_path / "sea").mkdir()
    trained.rename(tmp_path / "sea" / "style.pt")  # and the run's folder itself is taken for its style.pt
    assert main([str(a), "-m", str(tmp_path / "sea"), "-o", str(tmp_path / "n"), "--name", "{stem}_{model}.png"]) == 0
    assert (tmp_path / "n" / "a_sea.png").is_file()
    assert not (tmp_path / "d").exists()


def test_video_frames_are_stylized_as_photos_are(model_path: Path, tmp_path: Path) -> None:
    """`stylize_frames` (a video's frames on the device) resizes and keeps colours as `stylize_images` does."""
    from fast_style.media.pixels import pil_to_tensor

    s = Stylizer.load(model_path, device="cpu", precision="fp32")
    photos = [open_rgb(make_photo(tmp_path / f"{n}.png", size=(90, 60), seed=n)) for n in (1, 2)]
    frames = torch.stack([pil_to_tensor(p) for p in photos]).float() / 255
    for options in (
        {},
        {"max_size": 45},
        {"scale": 0.5, "preserve_color": True},
        {"strength": 0.5},
        {"preserve_color": True},
    ):
        got = s.stylize_frames(frames, **options)
        want = torch.stack([pil_to_tensor(im) for im in s.stylize_images(photos, **options)]).float() / 255
        assert got.shape == want.shape and got.dtype == torch.float32, options
        assert (got - want).abs().mean() < (0.015 if options.keys() & {"max_size", "scale"} else 0.006), options
    assert s.stylize_frames(frames, max_size=45).shape == (2, 3, 30, 45)


def test_tensor_dtype_is_kept(model_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu", precision="fp32")
    x = torch.rand(1, 3, 20, 24, dtype=torch.float64)
    assert s(x).dtype == torch.float64 and s(x, strength=0.5).dtype == torch.float64
    u = (x * 255).to(torch.uint8)
    assert s(u).dtype == torch.uint8 and s(u, strength=0.5).dtype == torch.uint8
    assert s(u, tiled=True).dtype == torch.uint8


def test_damaged_exif_a_tiffs_exif_and_xmp_and_a_gifs_soft_edges(
    model_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A photo whose EXIF block is damaged stopped a folder's run with a traceback (SyntaxError, struct.error);
    a TIFF's EXIF (its own tags) and XMP were dropped in every output; a GIF made partly transparent pixels opaque
    in their own colour (a soft edge's dark fringe)."""
    photos = tmp_path / "in"
    photos.mkdir()
    for name, block in (("a_bad.jpg", b"Exif\x00\x00garbage-garbage"), ("b_cut.jpg", b"Exif\x00\x00MM\x00*")):
        Image.open(make_photo(tmp_path / "plain.png")).save(photos / name, exif=block)
    make_photo(photos / "c_good.jpg")
    assert main([str(photos), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_bad.jpg", "b_cut.jpg", "c_good.jpg"]
    assert caplog.text.count("the EXIF metadata is damaged: not kept") == 2
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "TiffCam", 6
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"  # DateTimeOriginal
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Ann</dc:creator></x:xmpmeta>'
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "cam.tif", exif=exif.tobytes())
    for out in ("o.jpg", "o.png", "o.webp", "o.tif"):
        assert main([str(tmp_path / "cam.tif"), "-m", str(model_path), "-o", str(tmp_path / "t" / out), "-q"]) == 0
        with Image.open(tmp_path / "t" / out) as kept:
            got = kept.getexif()
            assert kept.size == (20, 40) and (got.get(0x010F), got.get(0x0112)) == ("TiffCam", 1), out
            assert got.get_ifd(0x8769).get(0x9003) == "2024:01:02 03:04:05", out
    artist = Image.Exif()
    artist[0x013B] = "Zo\u00eb".encode()  # in UTF-8, as phones and exiftool write it: it came out "Zo??"
    Image.new("RGB", (40, 20)).save(tmp_path / "artist.tif", exif=artist)
    copy = encode_image(Image.new("RGB", (8, 4)), "o.jpg", read_image(tmp_path / "artist.tif"))
    with Image.open(io.BytesIO(copy)) as kept:
        assert kept.getexif()[0x013B].encode("latin-1") == "Zo\u00eb".encode()  # (Pillow reads it as Latin-1)
    Image.new("RGB", (40, 20)).save(tmp_path / "credits.jpg", xmp=xmp)
    exif[700] = xmp  # (Pillow writes a TIFF's tags from one table)
    Image.new("RGB", (40, 20)).save(tmp_path / "both.tif", exif=exif)
    for source in ("credits.jpg", "both.tif"):  # XMP into a TIFF (it was left out), beside its EXIF
        out = tmp_path / "x" / f"{source}.tif"
        assert main([str(tmp_path / source), "-m", str(model_path), "-o", str(out), "-q"]) == 0
        with Image.open(out) as kept:
            assert b"<dc:creator>Ann</dc:creator>" in kept.info["xmp"], source
            assert source != "both.tif" or kept.getexif().get(0x010F) == "TiffCam"
    phone = Image.Exif()  # a phone's EXIF that states its photo's size and compression among the TIFF's own tags
    phone[0x010F], phone[0x0100], phone[0x0101], phone[0x0103], phone[0x0106] = "Phone", 4000, 3000, 6, 6
    phone[0x011C] = 2  # PlanarConfiguration, planes apart: kept in the copy (interleaved), it read back black
    Image.new("RGB", (40, 20)).save(tmp_path / "phone.jpg", exif=phone.tobytes())
    tif = encode_image(Image.new("RGB", (20, 10), (0, 200, 0)), "o.tif", read_image(tmp_path / "phone.jpg"))
    with Image.open(io.BytesIO(tif)) as kept:  # (a 4000x3000 TIFF of 20x10 pixels: "image file is truncated")
        kept.load()
        assert kept.size == (20, 10) and kept.getpixel((5, 5)) == (0, 200, 0) and kept.getexif()[0x010F] == "Phone"
        assert (kept.tag_v2[0x0106], kept.tag_v2[0x011C]) == (2, 1)  # RGB, interleaved: the copy's, not the photo's
    jpg = encode_image(Image.new("RGB", (20, 10)), "o.jpg", read_image(tmp_path / "phone.jpg"))
    with Image.open(io.BytesIO(jpg)) as kept:  # its EXIF's size the copy's, as its PixelXDimension (4000x3000 stayed)
        assert (kept.getexif()[0x0100], kept.getexif()[0x0101]) == (20, 10)
    soft = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    soft.paste((0, 0, 200, 128), (16, 16, 48, 48))  # half transparent
    soft.paste((0, 0, 200, 40), (0, 0, 8, 8))  # mostly transparent
    soft.save(tmp_path / "half.png")
    assert main([str(tmp_path / "half.png"), "-m", str(model_path), "-o", str(tmp_path / "half.gif"), "--strength",
                 "0", "-q"]) == 0  # fmt: skip
    with Image.open(tmp_path / "half.gif") as out:
        rgba = out.convert("RGBA")
        assert abs(rgba.getpixel((32, 32))[0] - 127) <= 8 and rgba.getpixel((32, 32))[3] == 255  # on white
        assert rgba.getpixel((4, 4))[3] == 0 and rgba.getpixel((60, 60))[3] == 0


def test_a_tiff_is_written_compressed_without_loss(tmp_path: Path) -> None:
    """A stylized TIFF was written uncompressed, several times its photo's size (2.5 times a PNG of the same pixels):
    it is compressed without loss (Deflate, differenced), the pixels read back the same in every mode, 16-bit and
    float too, and its EXIF's and GPS's IFDs kept (Pillow's compressing writer refuses them)."""
    exif = Image.Exif()
    exif[0x010F] = "Cam"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)
    Image.new("RGB", (96, 64)).save(tmp_path / "cam.jpg", exif=exif.tobytes(), dpi=(300, 300))
    photo = Image.open(make_photo(tmp_path / "p.png", size=(96, 64)))
    grey = np.asarray(photo.convert("L"), dtype=np.uint16)
    pictures = [photo, photo.convert("RGBA"), photo.convert("L"), photo.convert("P"), photo.convert("1")]
    pictures += [Image.fromarray(grey * 257 + 3), Image.fromarray(grey.astype(np.float32) / 255)]  # (I;16, F)
    for picture in pictures:
        plain = io.BytesIO()
        picture.save(plain, "TIFF")
        tif = encode_image(picture, "o.tif", read_image(tmp_path / "cam.jpg"))
        assert len(tif) < len(plain.getvalue()) or picture.mode == "1", picture.mode  # (dithered: noise)
        with Image.open(io.BytesIO(tif)) as kept:
            kept.load()
            assert kept.tag_v2[0x0103] == 8 and kept.mode == picture.mode, picture.mode  # Deflate
            assert np.array_equal(np.asarray(kept), np.asarray(picture)), picture.mode
            got = kept.getexif()
            assert got[0x010F] == "Cam" and got.get_ifd(0x8769)[0x9003] == "2024:01:02 03:04:05", picture.mode
            assert got.get_ifd(0x8825)[2] == (48.0, 51.0, 24.0) and kept.info["dpi"] == (300, 300), picture.mode
    photo.save(tmp_path / "lzw.tif", compression="tiff_lzw")  # (read with its compression: it went to libtiff)
    tif = encode_image(read_image(tmp_path / "lzw.tif"), "o.tif", read_image(tmp_path / "cam.jpg"))
    with Image.open(io.BytesIO(tif)) as kept:
        assert kept.tag_v2[0x0103] == 8 and kept.getexif().get_ifd(0x8769)[0x9003] == "2024:01:02 03:04:05"


def test_an_opaque_frame_of_an_animated_gif_keeps_the_next_ones_transparency(tmp_path: Path) -> None:
    """Left to Pillow, a frame without a transparent pixel had no transparent index: its clearing painted the canvas
    in an opaque colour, which the next frame's transparent half showed (in Pillow and FFmpeg alike)."""
    import av

    from fast_style.media.animation import save_frames

    noise = np.random.default_rng(0).integers(0, 256, (120, 180, 3), dtype=np.uint8)  # every colour of a palette
    photo = Image.fromarray(noise).convert("RGBA")
    half = np.asarray(photo).copy()
    half[:, :90, 3] = 0
    frames = [photo, Image.fromarray(half, "RGBA")] * 2
    save_frames(frames, [100] * 4, 0, tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as gif:
        for i in range(4):
            gif.seek(i)
            alpha = np.asarray(gif.convert("RGBA"))[..., 3]
            assert (alpha[:, :90] == 0).all() == bool(i % 2) and (alpha[:, 90:] == 255).all(), i
    with av.open(str(tmp_path / "a.gif")) as clip:
        seen = [f.to_ndarray(format="rgba")[:, :90, 3].max() for f in clip.decode(video=0)]
    assert seen == [255, 0, 255, 0]


def test_smoothing_an_animation_sees_transparency_and_its_loop(model_path: Path, tmp_path: Path) -> None:
    """A square turning from transparent to opaque black looked still (the colour hidden under transparent pixels
    is black too): it came out grey and faded in over seconds. A looping animation's first frame, never smoothed,
    jumped once a play."""
    from fast_style.inference.stylizer import Stylizer
    from fast_style.media.animation import read_frames, stylize_animation

    stylizer = Stylizer.load(str(model_path))
    frames = []
    for i in range(10):
        frame = Image.new("RGBA", (64, 48), (255, 255, 255, 255))
        frame.paste((0, 0, 0, 0 if i < 5 else 255), (20, 12, 44, 36))
        frame.putpixel((i, 0), (250, 250, 250, 255))  # (every frame its own)
        frames.append(frame)
    frames[0].save(tmp_path / "fill.png", save_all=True, append_images=frames[1:], duration=100, loop=0)
    plain, calm = tmp_path / "plain.png", tmp_path / "calm.png"
    stylize_animation(tmp_path / "fill.png", plain, stylizer.stylize_images)
    stylize_animation(tmp_path / "fill.png", calm, stylizer.stylize_images, smooth=0.8)
    square = [np.asarray(f.convert("RGB"), dtype=np.float32)[14:34, 22:42] for f in read_frames(calm)[0]]
    unsmoothed = [np.asarray(f.convert("RGB"), dtype=np.float32)[14:34, 22:42] for f in read_frames(plain)[0]]
    assert abs(square[5].mean() - unsmoothed[5].mean()) < 3  # as painted at once, not a blend with the hole
    still = [Image.fromarray(np.asarray(frames[0].convert("RGB"))) for _ in range(6)]
    rng = np.random.default_rng(0)
    still = [Image.fromarray(np.clip(np.asarray(f, np.float32) + rng.normal(0, 3, (48, 64, 3)), 0, 255).astype(
        np.uint8)) for f in still]  # fmt: skip
    still[0].save(tmp_path / "still.png", save_all=True, append_images=still[1:], duration=100, loop=0)
    stylize_animation(tmp_path / "still.png", tmp_path / "s.png", stylizer.stylize_images, smooth=0.8)
    out = [np.asarray(f.convert("RGB"), dtype=np.float32) for f in read_frames(tmp_path / "s.png")[0]]
    steps = [np.abs(a - b).mean() for a, b in zip(out, out[1:] + out[:1])]  # the last one: the loop's wrap
    assert steps[-1] < 1.5 * max(steps[:-1]), steps
    with pytest.raises(ValueError, match="stylize returned 7 images for 8 frames: it must return one for each"):
        stylize_animation(tmp_path / "fill.png", tmp_path / "x.png", lambda images: images[:-1] if len(images) > 2
                          else images)  # fmt: skip


def test_exif_is_kept_with_orientation_applied(model_path: Path, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = 6  # rotate on display
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "cam.jpg", exif=exif.tobytes())
    assert main([str(tmp_path / "cam.jpg"), "-m", str(model_path), "-o", str(tmp_path / "out.jpg"), "-q"]) == 0
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == (20, 40)
        assert out.getexif()[0x010F] == "TestCam" and out.getexif()[0x0112] == 1
    # a PNG's EXIF as ImageMagick writes it (a text chunk of hex): it turned the picture, then was dropped
    from PIL.PngImagePlugin import PngInfo

    raw = exif.tobytes()
    chunk = PngInfo()
    chunk.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n")
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "magick.png", pnginfo=chunk)
    assert main([str(tmp_path / "magick.png"), "-m", str(model_path), "-o", str(tmp_path / "m.jpg"), "-q"]) == 0
    with Image.open(tmp_path / "m.jpg") as out:
        assert out.size == (20, 40) and out.getexif()[0x010F] == "TestCam" and out.getexif()[0x0112] == 1
    frames = [Image.new("RGB", (40, 20), (120, 80, 60 + 100 * i)) for i in range(2)]  # an animation's too
    frames[0].save(tmp_path / "magick_anim.png", save_all=True, append_images=frames[1:], pnginfo=chunk)
    anim_out = tmp_path / "ma.png"
    assert main([str(tmp_path / "magick_anim.png"), "-m", str(model_path), "-o", str(anim_out), "-q"]) == 0
    with Image.open(anim_out) as out:
        assert out.size == (20, 40) and out.getexif()[0x010F] == "TestCam" and out.getexif()[0x0112] == 1
    # XMP (a photographer's credits), resolution and a JPEG comment kept too (they were dropped), the XMP's own
    # orientation removed (the pixels are upright)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        b'tiff:Orientation="6"><dc:creator>Ann</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    Image.new("RGB", (40, 20)).save(
        tmp_path / "credits.jpg", exif=exif.tobytes(), xmp=xmp, dpi=(300, 300), comment=b"c"
    )
    for out in ("credits.jpg", "credits.png", "credits.webp"):
        assert main([str(tmp_path / "credits.jpg"), "-m", str(model_path), "-o", str(tmp_path / "o" / out), "-q"]) == 0
        with Image.open(tmp_path / "o" / out) as kept:
            kept.load()
            got = kept.info.get("xmp") or kept.info.get("XML:com.adobe.xmp").encode()
            assert b"<dc:creator>Ann</dc:creator>" in got and b"Orientation" not in got, out
            assert out.endswith(".webp") or round(kept.info["dpi"][0]) == 300, out
            assert not out.endswith(".jpg") or kept.info["comment"] == b"c"
    # an XMP too long for a JPEG (an edit history) is left out with a warning (the photo was not written), and a
    # resolution a JPEG cannot hold is left out (254000 dpi came back as 57392)

    long = PngInfo()
    long.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + "h" * 70_000 + "</x:xmpmeta>")
    Image.new("RGB", (16, 16)).save(tmp_path / "edited.png", pnginfo=long, dpi=(254000, 254000))
    assert main([str(tmp_path / "edited.png"), "-m", str(model_path), "-o", str(tmp_path / "e.jpg"), "-q"]) == 0
    with Image.open(tmp_path / "e.jpg") as kept:
        assert "xmp" not in kept.info and kept.info.get("dpi", (72, 72)) != (57392, 57392)
    # EXIF too long for a JPEG ('EXIF data is too long': not written): the maker's notes left out, else all of it
    notes, text = Image.Exif(), Image.Exif()
    notes[0x010F] = text[0x010F] = "TestCam"
    notes.get_ifd(0x8769)[0x927C] = b"n" * 70_000  # MakerNote
    text[0x010E] = "d" * 70_000  # ImageDescription
    for name, exif, make in (("notes", notes, "TestCam"), ("text", text, None)):
        Image.new("RGB", (16, 16)).save(tmp_path / f"{name}.png", exif=exif.tobytes())
        out = tmp_path / f"{name}.jpg"
        assert main([str(tmp_path / f"{name}.png"), "-m", str(model_path), "-o", str(out), "-q"]) == 0, name
        with Image.open(out) as kept:
            assert kept.getexif().get(0x010F) == make and 0x927C not in kept.getexif().get_ifd(0x8769), name
    # the API: a photo from Image.open as from its path (it came out on its side); one the caller turned already
    # (transpose keeps the EXIF tag) is taken as it is
    s = Stylizer.load(model_path, device="cpu")
    with Image.open(tmp_path / "cam.jpg") as photo:
        assert s.stylize_image(photo).size == s.stylize_image(tmp_path / "cam.jpg").size == (20, 40)
        assert [im.size for im in s.stylize_images([photo, photo])] == [(20, 40)] * 2
        turned = photo.transpose(Image.Transpose.ROTATE_270)
        assert turned.getexif().get(0x0112) == 6 and s.stylize_image(turned).size == (20, 40)


def test_kept_exif_says_what_is_true_of_the_stylized_copy(model_path: Path, tmp_path: Path) -> None:
    """A wide-gamut photo's EXIF said "uncalibrated" colour (and Adobe RGB by its DCF index "R03") over the copy's
    sRGB pixels, and its pixel dimensions were the photo's (landscape for an upright portrait, unscaled): they are
    the copy's now; the camera, dates and GPS position are kept, the orientation reset (a TIFF's interoperability
    IFD too: it was lost). Its XMP's profile name, colour space and size are left out."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "TestCam", 6  # Make; rotate on display
    exif[0x013B] = "Zo\u00eb".encode()  # Artist, in UTF-8 (as phones and exiftool write it; it came out "Zo??")
    exif.get_ifd(0x8769).update({0x9003: "2024:05:06 07:08:09", 0xA001: 0xFFFF, 0xA002: 40, 0xA003: 20})
    exif.get_ifd(0x8769)[0xA005] = {1: "R03"}  # the interoperability IFD's index: Adobe RGB
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0)})  # GPS
    wide = rgb_profile("green", "blue", "red", name="wide")
    xmp = (  # the same said in XMP, as Lightroom writes it (a catalogue showed the copy as "Adobe RGB (1998)")
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" photoshop:ICCProfile="Adobe RGB (1998)" photoshop:ColorMode="3" '
        b'exif:PixelXDimension="40"><dc:creator>Ann</dc:creator><exif:ColorSpace>65535</exif:ColorSpace>'
        b"<tiff:ImageWidth>40</tiff:ImageWidth></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "cam.jpg", exif=exif.tobytes(), icc_profile=wide, xmp=xmp)
    frames = [Image.new("RGB", (40, 20), (120, 80, 60 + 100 * i)) for i in range(2)]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:], exif=exif.tobytes())
    for source, out, scale, size in (
        ("cam.jpg", "out.jpg", "1", (20, 40)),
        ("cam.jpg", "out.png", "0.5", (10, 20)),
        ("cam.jpg", "out.webp", "1", (20, 40)),
        ("cam.jpg", "out.avif", "1", (20, 40)),
        ("cam.jpg", "out.tif", "1", (20, 40)),  # (its interoperability IFD's pointer was the EXIF block's, stale)
        ("anim.png", "anim_out.png", "1", (20, 40)),
    ):
        args = [str(tmp_path / source), "-m", str(model_path), "-o", str(tmp_path / out), "--scale", scale, "-q"]
        assert main(args) == 0, out
        with Image.open(tmp_path / out) as kept:
            got = kept.getexif()
            tags = got.get_ifd(0x8769)
            assert kept.size == size and got[0x010F] == "TestCam" and got.get(0x0112, 1) == 1, out
            assert got[0x013B].encode("latin-1") == "Zo\u00eb".encode(), out  # (Pillow reads it as Latin-1)
            assert tags[0x9003] == "2024:05:06 07:08:09" and got.get_ifd(0x8825)[2] == (48.0, 51.0, 24.0), out
            assert tags[0xA001] == 1 and (tags[0xA002], tags[0xA003]) == size, out  # sRGB; the copy's size
            assert got.get_ifd(0xA005) == {1: "R98"}, out
            if source == "cam.jpg":
                kept.load()
                said = kept.info.get("xmp") or kept.info["XML:com.adobe.xmp"].encode()
                assert b"<dc:creator>Ann</dc:creator>" in said, out
                assert not re.search(rb"ICCProfile|ColorMode|ColorSpace|Dimension|ImageWidth", said), out


def test_what_is_under_a_transparent_hole_does_not_change_the_visible_picture(model_path: Path) -> None:
    """The colour under fully transparent pixels (black, white: whatever an editor left) went into the network,
    which changed the visible picture by 45 grey levels on average and drew a halo round a cut-out's hole."""
    gen = torch.Generator().manual_seed(0)
    pixels = (torch.rand(48, 64, 4, generator=gen) * 255).to(torch.uint8).numpy()
    pixels[..., 3] = 255
    pixels[12:36, 16:40, 3] = 0  # a hole
    pixels[0, :, 3] = 128  # a half-seen row keeps its own colour
    s = Stylizer.load(model_path, device="cpu")
    outs = []
    for hidden in (0, 255):
        variant = pixels.copy()
        variant[12:36, 16:40, :3] = hidden
        outs.append(np.asarray(s.stylize_image(Image.fromarray(variant, "RGBA"))))
    assert outs[0].shape == (48, 64, 4) and (outs[0][..., 3] == pixels[..., 3]).all()
    assert (outs[0] == outs[1]).all()


def test_auto_precision_follows_the_measurements(monkeypatch: pytest.MonkeyPatch) -> None:
    from fast_style import devices

    monkeypatch.setattr(devices, "native_bf16", lambda device_type=None: True)
    gpu, cpu = torch.device("cuda"), torch.device("cpu")
    assert devices.pick_precision("auto", gpu) == torch.float16  # bf16 autocast is slower than fp32 eagerly
    assert devices.pick_precision("auto", gpu, compile=True) == torch.bfloat16
    assert devices.pick_precision("auto", cpu) == torch.bfloat16
    monkeypatch.setattr(devices, "native_bf16", lambda device_type=None: False)
    assert devices.pick_precision("auto", cpu) == torch.float32
    assert devices.pick_precision("auto", gpu, compile=True) == torch.float16
    with pytest.raises(UserError, match="fp16 is not supported on the CPU"):
        devices.pick_precision("fp16", cpu)


def test_bf16_asked_for_on_a_cpu_without_it_warns(monkeypatch: pytest.MonkeyPatch, caplog, capsys) -> None:
    from fast_style import devices

    monkeypatch.setattr(devices, "native_bf16", lambda device_type=None: False)
    assert devices.pick_precision("bf16", torch.device("cpu")) == torch.bfloat16  # as asked, but said: 2x slower
    assert "no native bf16" in caplog.text
    assert main(["--list-styles", "photo.jpg"]) == 2  # the inputs had been ignored without a word
    assert "--list-styles takes no inputs" in capsys.readouterr().err


def test_full_disk_stops_the_cli_with_one_line(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in"
    for name in ("a.png", "b.png", "c.png"):
        make_photo(src / name)
    out = tmp_path / "out"
    make_photo(out / "b.png", seed=3)  # an earlier result, to be replaced with --force
    earlier = (out / "b.png").read_bytes()
    real_write = Path.write_bytes
    saved: list[str] = []

    def write_bytes(self: Path, data) -> int:  # images are encoded in memory, then written with this
        if saved:  # room for one image only
            real_write(self, b"\x89PNG half")
            raise OSError(errno.ENOSPC, "No space left on device")
        saved.append(str(self))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    assert main([str(src), "-m", str(model_path), "-o", str(out), "-q", "--force"]) == 2  # stopped: fix, rerun
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(err) == 1 and "No space left on device" in err[0] and err[0].endswith("stopped")
    assert Image.open(out / "a.png").size == (48, 40)  # written before the disk filled
    assert (out / "b.png").read_bytes() == earlier  # the earlier file is intact
    assert not (out / "c.png").exists() and sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_ctrl_c_in_a_batch_says_how_many_were_done(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for k in range(3):
        make_photo(tmp_path / "in" / f"{k}.jpg", seed=k)
    real, calls = Stylizer.stylize_images, []

    def stopped_at_the_second(self, images, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, images, *args)

    monkeypatch.setattr(Stylizer, "stylize_images", stopped_at_the_second)
    assert main([str(tmp_path / "in"), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 130
    assert capsys.readouterr().err.endswith("1 of 3 inputs were stylized before the stop\ninterrupted\n")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["0.jpg"]  # kept, and nothing half-written beside it
    # stopped after the last file was written (the loop ending): "1 of 1 inputs were stylized before the stop", 130
    import tqdm

    class StoppedAtTheEnd(tqdm.tqdm):
        def __iter__(self):
            yield from super().__iter__()
            raise KeyboardInterrupt

    monkeypatch.setattr(Stylizer, "stylize_images", real)
    monkeypatch.setattr(tqdm, "tqdm", StoppedAtTheEnd)
    assert main([str(tmp_path / "in" / "0.jpg"), "-m", str(model_path), "-o", str(tmp_path / "all"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "before the stop" not in err and "interrupted" not in err
    # the file's time is counted (a tiny picture may take under 0.05 s: its rate says it was not left at 0)
    said = re.search(r"stylized 1 image, .* in [0-9.]+ s \(([^)]*)\)", err)
    assert said and not re.fullmatch(r"0[.0]* MP/s", said[1]), err
    assert [p.name for p in (tmp_path / "all").iterdir()] == ["0.jpg"]
    from fast_style.atomic import atomic_write

    # stopped while writing the first file: the folders made for it are not left behind, empty
    with pytest.raises(KeyboardInterrupt), atomic_write(tmp_path / "made" / "deeper" / "x.png"):
        raise KeyboardInterrupt
    assert not (tmp_path / "made").exists()
    with atomic_write(tmp_path / "made" / "deeper" / "x.png") as tmp:
        tmp.write_bytes(b"kept")
    assert (tmp_path / "made" / "deeper" / "x.png").read_bytes() == b"kept"


def test_a_ctrl_c_after_the_summary_does_not_call_the_work_interrupted(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A Ctrl-C (or SIGTERM) between the summary line and the tool's end said "interrupted", exit code 130, though
    every output was written; a program that calls main() gets its handlers back."""
    import signal

    import fast_style.cli.stylize as tool

    make_photo(tmp_path / "a.jpg")

    def said_then_stopped(*args, **kwargs) -> None:
        print(*args, **kwargs)
        if str(args[0]).startswith("stylized"):
            for stop in (signal.SIGINT, signal.SIGTERM):
                os.kill(os.getpid(), stop)

    monkeypatch.setattr(tool, "print", said_then_stopped, raising=False)
    handlers = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    assert main([str(tmp_path / "a.jpg"), "-m", str(model_path), "-o", str(tmp_path / "out.jpg"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "stylized 1 image" in err and "interrupted" not in err and "stopped" not in err
    assert (tmp_path / "out.jpg").is_file()
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == handlers


@pytest.mark.parametrize("tool", ["export", "demo", "optimize"])
def test_a_ctrl_c_after_a_tools_work_does_not_call_it_interrupted(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """fast-style-export, -demo and -optimize as fast-style-stylize above: a Ctrl-C as they print what they wrote
    made it "interrupted", exit code 130."""
    import importlib
    import signal

    import fast_style.demo
    import fast_style.model.export
    import fast_style.perceptual.loss
    import fast_style.perceptual.optimize

    cli = importlib.import_module(f"fast_style.cli.{tool}")
    monkeypatch.setattr(fast_style.model.export, "export", lambda *args: tmp_path / "wave.onnx")  # written
    monkeypatch.setattr(fast_style.demo, "run_demo", lambda *args: {"tensorboard logs": tmp_path / "logs"})
    monkeypatch.setattr(fast_style.perceptual.loss, "PerceptualLoss", lambda **kwargs: torch.nn.Identity())  # (no VGG)
    monkeypatch.setattr(torch.nn.Identity, "set_style", lambda self, style: None, raising=False)
    monkeypatch.setattr(
        fast_style.perceptual.optimize, "optimize_image", lambda *args, **kw: (torch.rand(1, 3, 8, 8), [2, 1])
    )
    monkeypatch.setattr(
        fast_style.perceptual.optimize, "write_result", lambda *args: (tmp_path / "r.png", "r.csv", "tb")
    )
    make_photo(tmp_path / "photo.jpg")

    def said_then_stopped(*args, **kwargs) -> None:
        print(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli, "print", said_then_stopped, raising=False)
    argv = {
        "export": ["--style", "wave", "-o", str(tmp_path)],
        "demo": ["--workdir", str(tmp_path / "demo")],
        "optimize": [str(tmp_path / "photo.jpg"), "-s", str(tmp_path / "photo.jpg"), "-o", str(tmp_path / "r.png")],
    }[tool]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "interrupted" not in captured.err
    assert {"export": "wave.onnx", "demo": "tensorboard --logdir", "optimize": "wrote"}[tool] in captured.out


def test_ctrl_c_while_a_tool_loads_is_one_line() -> None:
    # torch's import takes seconds before run_tool can catch a Ctrl-C: it printed 50-60 lines of import frames
    import signal
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import fast_style.cli.stylize\nraise KeyboardInterrupt"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr == "interrupted\n" and done.returncode == -signal.SIGINT  # a shell's 130
    other = subprocess.run([sys.executable, "-c", "import fast_style.cli\n1 / 0"], capture_output=True, text=True)
    assert "Traceback" in other.stderr and "ZeroDivisionError" in other.stderr  # other errors as before


def test_sigterm_stops_a_tool_like_ctrl_c_and_leaves_no_file(tmp_path: Path) -> None:
    # it killed the tool outright: no line, exit -15, and the half-written video's temporary file stayed behind
    import subprocess
    import sys

    body = f"""
import os, signal, sys, time
from pathlib import Path
from fast_style.atomic import atomic_write
from fast_style.cli import run_tool

def body():
    with atomic_write(Path({str(tmp_path / "out.mp4")!r})) as tmp:
        Path(tmp).write_bytes(b"half a video")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)

sys.exit(run_tool(body))
"""
    done = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (143, "stopped (SIGTERM)\n")
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file
    # a terminal closed, an SSH connection lost: the hidden temporary file had stayed
    hangup = body.replace("signal.SIGTERM)", "signal.SIGHUP)")
    done = subprocess.run([sys.executable, "-c", hangup], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (129, "stopped (SIGHUP)\n")
    assert list(tmp_path.iterdir()) == []
    # started with SIGTERM ignored on purpose, a tool keeps ignoring it
    ignoring = body.replace("time.sleep(30)", "time.sleep(1)").replace(
        "sys.exit(run_tool(body))", "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsys.exit(run_tool(body))"
    )
    done = subprocess.run([sys.executable, "-c", ignoring], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "") and (tmp_path / "out.mp4").read_bytes() == b"half a video"


def test_sigterm_is_left_to_a_handler_that_took_its_place() -> None:
    """Lightning's handler, during a training run (fast-style-demo), calls the one it replaced as well: that must
    not abort the graceful stop (a checkpoint first) that Lightning's starts."""
    import signal

    from fast_style.cli import _on_sigterm

    called = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: called.append(_on_sigterm(signum, frame)))
    try:
        signal.raise_signal(signal.SIGTERM)  # no Terminated
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert called == [None]


def test_a_stylizer_checks_a_torch_device_and_the_onnxruntime_backends_settings(model_path: Path) -> None:
    from fast_style.model.style_model import load_style_model

    net, meta = load_style_model(str(model_path))
    # a torch.device: checked as its name is (no GPU: torch's "Found no NVIDIA driver"; meta: at the first image)
    with pytest.raises(UserError, match="no CUDA GPU is available"):
        Stylizer(net, torch.device("cuda"), torch.float32)
    with pytest.raises(UserError, match="use auto, cpu, cuda"):
        Stylizer(net, torch.device("meta"), torch.float32)
    assert Stylizer(net, torch.device("cpu"), torch.float32).device == torch.device("cpu")
    # onnxruntime runs fp32 on the CPU: bf16 asked for was reported as the dtype, and warned of as emulated
    with pytest.raises(UserError, match="precision='bf16' needs backend='torch'"):
        Stylizer(net, "cpu", "bf16", backend="onnxruntime")
    with pytest.raises(UserError, match="precision=torch.bfloat16 needs backend='torch'"):
        Stylizer(net, "cpu", torch.bfloat16, backend="onnxruntime")
    pytest.importorskip("onnxruntime")
    ort = Stylizer(net, "auto", "auto", backend="onnxruntime")
    assert (ort.device, ort.dtype) == (torch.device("cpu"), torch.float32)


def test_a_stylizer_is_copied_and_pickled(model_path: Path) -> None:
    # (the lock that lets threads take turns is not copied: a new one for the copy)
    import copy
    import pickle

    s = Stylizer.load(model_path, device="cpu", precision="fp32")
    x = torch.rand(1, 3, 24, 24)
    for other in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert torch.equal(other(x), s(x)) and other._lock is not s._lock


def test_one_stylizer_serves_several_threads(model_path: Path) -> None:
    """A tiled call hooks the shared network's norm layers: another thread's whole-image calls meanwhile fed its
    statistics ("ValueError: 52 statistics for 11 norm layers") or ran with the tile's patched layers."""
    import threading

    s = Stylizer.load(model_path, device="cpu", precision="fp32", tile=64)
    big, small = torch.rand(1, 3, 160, 160), torch.rand(1, 3, 40, 40)
    want_big, want_small = s(big, tiled=True), s(small)
    errors, results = [], []

    def tiles() -> None:
        try:
            results.extend(s(big, tiled=True) for _ in range(6))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    thread = threading.Thread(target=tiles)
    thread.start()
    wholes = [s(small) for _ in range(30)]
    thread.join()
    assert not errors
    assert all(torch.equal(r, want_big) for r in results) and all(torch.equal(w, want_small) for w in wholes)


def test_onnxruntime_takes_images_smaller_than_the_exported_graph(model_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    ort = Stylizer.load(model_path, device="cpu", backend="onnxruntime")
    eager = Stylizer.load(model_path, device="cpu", precision="fp32")
    for h, w in [(1, 1), (3, 200), (8, 8), (11, 30)]:  # the graph's reflection pads had refused them
        x = torch.rand(1, 3, h, w)
        y = ort(x)
        assert y.shape == x.shape and torch.isfinite(y).all() and 0 <= y.min() and y.max() <= 1
        if h * w > 1:  # a single pixel pads to a flat image: instance norm then scales each engine's rounding noise
            assert (y - eager(x)).abs().mean() < 0.05  # the same picture (the padding differs at the edges)


def test_the_python_api_checks_what_it_is_given(model_path: Path) -> None:
    s = Stylizer.load(model_path, device="cpu", precision="fp32")
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(UserError, match=r"^strength must be within 0..1"):
        s(x, strength=2)  # it returned values in -0.7..1.95
    with pytest.raises(TypeError):
        s(x, strenght=0)  # a misspelt option had been ignored
    with pytest.raises(TypeError, match="apply to images"):
        s(x, preserve_color=True)
    photo = Image.new("RGB", (20, 16), (200, 30, 30))
    assert s(photo, preserve_color=True, max_size=10).size == (10, 8)  # the name the CLI and HTTP API use
    rgba = Image.new("RGBA", (20, 16), (10, 20, 30, 128))
    one, (a, b) = s.stylize_images([rgba]), s.stylize_images([rgba, rgba.copy()])
    assert one[0].mode == a.mode == b.mode == "RGBA"  # two had come back RGB, their transparency dropped
    assert a.getchannel("A").getextrema() == (128, 128)


def test_a_rerun_leaves_out_what_the_run_before_wrote_beside_the_photos(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """-o the photos' own folder with a --name (as that refusal suggests) stylized its outputs again on every rerun
    (a_wave_wave.jpg, exit 1); a shell's * that takes the output folder (`fast-style-stylize *`) could not be run twice
    ("would both be written", even with --skip-existing)."""
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg"), make_photo(photos / "b.png", seed=1)
    args = [str(photos), "-m", str(model_path), "-o", str(photos), "--name", "{stem}_{model}.{ext}", "-q"]
    assert main(args) == 0 and sorted(p.name for p in photos.iterdir()) == [
        "a.jpg",
        "a_wave.jpg",
        "b.png",
        "b_wave.png",
    ]
    assert main(args) == 2  # the outputs exist: said, nothing stylized again
    assert main([*args, "--skip-existing"]) == 0
    assert main([*args, "--force"]) == 0
    assert sorted(p.name for p in photos.iterdir()) == ["a.jpg", "a_wave.jpg", "b.png", "b_wave.png"]
    assert "left out 2 files this run writes (an earlier run's outputs, such as " in caplog.text
    caplog.clear()  # one: said as one (it said "1 file ... (an earlier run's outputs, such as ...): ... them")
    one = tmp_path / "one"
    make_photo(one / "a.jpg")
    one_args = [str(one), "-m", str(model_path), "-o", str(one), "--name", "{stem}_{model}.{ext}", "-q"]
    assert main(one_args) == 0 and main([*one_args, "--force"]) == 0
    said = f"left out 1 file this run writes (an earlier run's output, {one / 'a_wave.jpg'}): --force replaces it"
    assert said in caplog.text
    monkeypatch.chdir(tmp_path / "photos")
    for p in photos.glob("*_wave.*"):
        p.unlink()
    assert main(["a.jpg", "b.png", "-m", str(model_path), "-q"]) == 0  # `fast-style-stylize *`, first run
    shell_star = ["a.jpg", "b.png", "stylized", "-m", str(model_path), "-q"]  # its second: the output folder too
    assert main([*shell_star, "--skip-existing"]) == 0 and main([*shell_star, "--force"]) == 0
    assert sorted(p.name for p in (photos / "stylized").iterdir()) == ["a.jpg", "b.png"]


def test_an_animations_frame_times_add_up_to_its_length_in_every_format(tmp_path: Path) -> None:
    """A 30 fps APNG's 33.33 ms frames were cut to 33 ms, and to 30 in a GIF (which counts hundredths): 1% and 10%
    fast."""
    from fast_style.media.animation import read_frames, save_frames

    frames = [Image.new("RGB", (8, 8), (i * 8, 0, 0)) for i in range(30)]
    frames[0].save(tmp_path / "in.png", save_all=True, append_images=frames[1:], duration=1000 / 30)
    read, durations, plays = read_frames(tmp_path / "in.png")
    assert sum(durations) == pytest.approx(1000)
    for name, unit in (("out.gif", 10), ("out.png", 1), ("out.webp", 1)):
        save_frames(read, durations, plays, tmp_path / name)
        written = read_frames(tmp_path / name)[1]
        assert sum(written) == pytest.approx(1000, abs=unit / 2), name
        assert all(abs(d - 1000 / 30) < unit for d in written), name  # each as near as the format allows


def test_a_photo_beside_one_of_the_same_name_is_never_taken_for_an_earlier_output(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """IMG_1.jpg beside a still IMG_1.gif (whose output is a .jpg), stylized into their own folder with --force: the
    JPEG was left out as "an earlier run's output" and the GIF's result written over it, exit 0."""
    photos = tmp_path / "photos"
    make_photo(photos / "IMG_1.jpg")
    Image.new("RGB", (40, 32), (10, 200, 30)).save(photos / "IMG_1.gif")
    before = (photos / "IMG_1.jpg").read_bytes()
    for named in ([str(photos)], [str(photos / "IMG_1.gif"), str(photos / "IMG_1.jpg")]):
        assert main([*named, "-m", str(model_path), "-o", str(photos), "--force", "-q"]) == 2
        assert "would both be written to" in capsys.readouterr().err
        assert (photos / "IMG_1.jpg").read_bytes() == before
    args = [str(photos), "-m", str(model_path), "-o", str(photos), "--name", "{stem}_{suffix}.{ext}", "-q"]
    assert main(args) == 0  # as the error suggests
    assert sorted(p.name for p in photos.iterdir()) == ["IMG_1.gif", "IMG_1.jpg", "IMG_1_gif.jpg", "IMG_1_jpg.jpg"]


def test_smoothing_asked_for_photos_alone_is_said_to_do_nothing(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--smooth blends a video's or an animation's frames: on photos it did nothing, without a word."""
    photo = make_photo(tmp_path / "p.png")
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.png"), "--smooth", "0.5", "-q"]) == 0
    assert "warning: --smooth works on videos and on animations written as animations" in capsys.readouterr().err
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o2.png"), "-q"]) == 0
    assert "--smooth" not in capsys.readouterr().err


def test_a_batch_size_asked_for_pictures_alone_is_said_to_do_nothing(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--batch-size is the number of video frames per network call: on pictures (one at a time) it did nothing,
    without a word; with a video among the inputs it is not warned about."""
    from .test_video import make_video

    photo = make_photo(tmp_path / "p.png")
    args = [str(photo), "-m", str(model_path), "--batch-size", "4", "-q"]
    assert main([*args, "-o", str(tmp_path / "o.png")]) == 0
    said = "warning: --batch-size is how many frames of a video or animation go through the network at once: "
    assert said + "pictures go one at a time; it does nothing here\n" in capsys.readouterr().err
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    assert main([*args, str(clip), "-o", str(tmp_path / "out")]) == 0
    assert "--batch-size" not in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.mp4", "p.png"]


def test_an_animations_frames_go_through_the_network_batch_size_at_a_time(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An animation went 8 frames at a time whatever --batch-size said, and was told it did nothing there (pictures
    go one at a time), though --batch-size 1 is what the out-of-memory error names; its first frame alone (-o x.jpg)
    still goes one at a time, and is told so."""
    from fast_style.inference.stylizer import Stylizer

    frames = [Image.new("RGB", (16, 16), (20 * i, 40, 90)) for i in range(7)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    calls: list[int] = []
    real = Stylizer.stylize_images
    monkeypatch.setattr(
        Stylizer, "stylize_images", lambda self, images, *a: calls.append(len(images)) or real(self, images, *a)
    )
    args = [str(tmp_path / "a.gif"), "-m", str(model_path), "-q"]
    assert main([*args, "-o", str(tmp_path / "b3.gif"), "--batch-size", "3"]) == 0
    assert calls == [3, 3, 1] and "--batch-size" not in capsys.readouterr().err
    calls.clear()
    assert main([*args, "-o", str(tmp_path / "default.gif")]) == 0
    assert calls == [7]  # (8 at a time unless told)
    assert main([*args, "-o", str(tmp_path / "first.jpg"), "--batch-size", "3"]) == 0
    assert "--batch-size is how many frames" in capsys.readouterr().err  # its first frame alone: one picture


def test_a_video_preset_for_pictures_alone_and_a_quality_for_videos_alone_are_said_to_do_nothing(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--video-preset (x264's speed) on pictures alone and --quality (Pillow's) on videos alone did nothing, without
    a word: one line each; with both kinds among the inputs neither is warned about."""
    from .test_video import make_video

    photo = make_photo(tmp_path / "p.jpg")
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    args = ["-m", str(model_path), "--video-preset", "ultrafast", "--quality", "80", "-q"]
    assert main([str(photo), *args, "-o", str(tmp_path / "o.jpg")]) == 0
    err = capsys.readouterr().err
    said = "warning: --video-preset is x264's speed for videos, and none is among the inputs: it does nothing here\n"
    assert err.count(said) == 1 and "--quality" not in err
    assert main([str(clip), *args, "-o", str(tmp_path / "o.mp4")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: --quality is for JPEG, WebP and AVIF pictures: videos keep a fixed high quality") == 1
    assert "--video-preset" not in err
    assert main([str(photo), str(clip), *args, "-o", str(tmp_path / "out")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main([str(photo), "-m", str(model_path), "--quality", "80", "-q", "-o", str(tmp_path / "o.png")]) == 0
    assert (
        "PNG, TIFF and BMP lose nothing, a GIF holds 256 colours whatever it says; it does nothing here\n"
        in capsys.readouterr().err
    )
    assert main([str(photo), str(clip), "-m", str(model_path), "-o", str(tmp_path / "out"), "--force", "-q"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_smoothing_calms_an_animations_flicker_as_a_videos(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--smooth was silently left out for animated GIF/WebP/PNG (said to do nothing where no video was among the
    inputs): a still picture under light noise, frame to frame, flickers less smoothed; alpha stays as stylized."""
    from fast_style.media.animation import read_frames, stylize_animation

    base = np.asarray(Image.open(make_photo(tmp_path / "p.png", size=(64, 48))), dtype=np.float32)
    rng = np.random.default_rng(0)
    frames = [Image.fromarray(np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)) for _ in range(6)]
    frames = [f.convert("RGBA") for f in frames]
    for f in frames:
        f.putpixel((0, 0), (0, 0, 0, 0))  # one transparent pixel: the frames stay RGBA
    frames[0].save(tmp_path / "a.png", save_all=True, append_images=frames[1:], duration=100)

    def flicker(path: Path) -> float:
        out = [np.asarray(f, dtype=np.float32) for f in read_frames(path)[0]]
        assert all(f.shape == (48, 64, 4) and f[0, 0, 3] == 0 and f[1:, 1:, 3].min() == 255 for f in out)
        return float(np.mean([np.abs(a[..., :3] - b[..., :3]).mean() for a, b in zip(out, out[1:])]))

    assert main([str(tmp_path / "a.png"), "-m", str(model_path), "-o", str(tmp_path / "plain.png"), "-q"]) == 0
    args = [str(tmp_path / "a.png"), "-m", str(model_path), "-o", str(tmp_path / "calm.png"), "--smooth", "0.8", "-q"]
    assert main(args) == 0
    assert "--smooth" not in capsys.readouterr().err
    plain, calm = flicker(tmp_path / "plain.png"), flicker(tmp_path / "calm.png")
    assert calm < 0.5 * plain, (calm, plain)
    with pytest.raises(UserError, match="smooth"):
        stylize_animation(tmp_path / "a.png", tmp_path / "x.png", lambda images: images, smooth=1)


def test_outputs_refused_for_different_reasons_name_the_first_and_count_the_rest(tmp_path: Path) -> None:
    """Before any work: every output refused, not all for existing (one is a folder), is one line naming the first
    reason and how many more."""
    from fast_style.inference.plan import refuse_if_nothing_to_write

    (tmp_path / "out" / "b.png").mkdir(parents=True)
    (tmp_path / "out" / "a.png").write_bytes(b"kept")
    plans = [(tmp_path / f"{n}.jpg", tmp_path / "out" / f"{n}.png") for n in ("a", "b")]
    with pytest.raises(UserError, match=r"^none of the 2 outputs can be written: .*a\.png.* \(and 1 more\)$"):
        refuse_if_nothing_to_write(plans, force=False)
    assert (tmp_path / "out" / "a.png").read_bytes() == b"kept"


def test_the_summary_megapixels_of_a_thumbnail_are_not_zero(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A 48x40 thumbnail's summary said "stylized 1 image(s), 0.00 MP in ...", as if nothing had been done (its rate
    already had two figures)."""
    photo = make_photo(tmp_path / "p.png", size=(48, 40))
    assert main([str(photo), "-m", str(model_path), "-o", str(tmp_path / "o.png")]) == 0
    assert "stylized 1 image, 0.0019 MP in " in capsys.readouterr().err


def test_a_folder_where_an_output_in_the_folder_goes_is_said_to_be_in_the_way(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A folder where a photo's output goes in -o's folder was refused with "it is a folder; give a file's name",
    though the user had given a folder (-o) and no file's name: it is said to be in the way, the others written."""
    photos = tmp_path / "photos"
    for name in "ab":
        make_photo(photos / f"{name}.jpg", size=(40, 32))
    (tmp_path / "out" / "a.jpg").mkdir(parents=True)
    assert main([str(photos), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    said = f"error: cannot write {tmp_path / 'out' / 'a.jpg'}: a folder of that name is in the way; move it, or "
    assert said + "write elsewhere (-o or --name)\n" in err and "file's name" not in err
    assert (tmp_path / "out" / "b.jpg").is_file()


def test_the_summary_counts_in_words_one_or_more(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary said "stylized 1 image(s) and 1 video(s) of 1 frames": one is singular, more plural."""
    import fast_style.inference.batch

    from .test_video import make_video

    photos = [make_photo(tmp_path / f"p{i}.png", size=(40, 32)) for i in range(2)]
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    args = ["-m", str(model_path), "-q", "-o", str(tmp_path / "out")]
    assert main([str(photos[0]), str(clip), *args]) == 0
    assert "stylized 1 image and 1 video of 2 frames, " in capsys.readouterr().err

    def one_frame_written(src, dst, stylize, on_frame, **_) -> int:  # (a clip that ended after its first frame)
        on_frame(66, 50)
        return 1

    monkeypatch.setattr(fast_style.inference.batch, "stylize_video", one_frame_written)
    assert main([*map(str, photos), str(clip), *args, "--force"]) == 0
    assert "stylized 2 images and 1 video of 1 frame, " in capsys.readouterr().err


def test_an_animation_has_a_videos_bar_of_frames_unless_quiet(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long GIF on a CPU ran for minutes in silence, where a video shows a bar of frames with frames per second:
    an animation has the same bar (none with -q, nor where stderr is not a terminal: tqdm's disable=None)."""
    import tqdm

    bars: list[dict] = []

    class Bar(tqdm.tqdm):
        def __init__(self, *args, **kwargs) -> None:
            self.said = {**kwargs, "done": 0}
            if kwargs.get("unit") == "frame":
                bars.append(self.said)
            super().__init__(*args, **{**kwargs, "disable": True})

        def update(self, n=1):
            self.said["done"] += n
            return super().update(n)

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    frames = [Image.new("RGB", (24, 16), (25 * i, 40, 90)) for i in range(5)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=80)
    args = [str(tmp_path / "a.gif"), "-m", str(model_path), "-o", str(tmp_path / "out.gif"), "--batch-size", "2"]
    assert main(args) == 0
    assert [(b["total"], b["done"], b["desc"], b["disable"]) for b in bars] == [(5, 5, "a.gif", None)]
    bars.clear()
    assert main([*args, "--force", "-q"]) == 0
    assert not bars


def test_the_summary_counts_an_animation_as_one_with_its_frames(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """An animation of 3 frames was "stylized 1 image, 0.0036 MP": one picture of its frames' pixels summed."""
    from .test_video import make_video

    frames = [Image.new("RGB", (40, 30), (30, 90, 200)) for _ in range(3)]
    for i, frame in enumerate(frames):
        frame.paste((230, 200, 40), (i * 12, 0, i * 12 + 14, 30))
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    args = ["-m", str(model_path), "-q"]
    assert main([str(tmp_path / "anim.gif"), *args, "-o", str(tmp_path / "a.gif")]) == 0
    assert "stylized 1 animation of 3 frames, 0.0036 MP in " in capsys.readouterr().err
    photo = make_photo(tmp_path / "p.png", size=(40, 32))
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    assert main([str(photo), str(tmp_path / "anim.gif"), str(clip), *args, "-o", str(tmp_path / "out")]) == 0
    said = "stylized 1 image, 1 animation of 3 frames and 1 video of 2 frames, "
    assert said in capsys.readouterr().err


def test_messages_count_in_words_one_or_more(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages beside the summary said "the 1 output(s) exist already", "left out 1 file(s) that are not images"
    (and optimize's, eval's, train's, serve's alike): one is singular, more plural."""
    from fast_style.plurals import counted

    assert (counted(1, "run"), counted(0, "run"), counted(2, "run")) == ("1 run", "0 runs", "2 runs")
    make_photo(tmp_path / "shoot" / "a.jpg")
    (tmp_path / "shoot" / "IMG_1.CR2").write_bytes(b"raw")
    args = [str(tmp_path / "shoot"), "-m", str(model_path), "-o", str(tmp_path / "out"), "-q"]
    assert main(args) == 0
    assert "left out 1 file that is not an image or video (.cr2)" in caplog.text
    assert main([*args, "--skip-existing"]) == 0
    assert "nothing to do: the 1 output exists already (--skip-existing)" in capsys.readouterr().err


def test_the_summary_rate_of_a_small_photo_is_not_zero() -> None:
    """A 200 px photo on a CPU (0.03 MP in 5.6 s) was said to go at '0.00 MP/s', as if nothing had been done."""
    assert rate(0.03, 5.6) == "0.0054 MP/s"
    assert rate(0.96, 7.9) == "0.12 MP/s"  # from 0.1 up: two decimals, as before
    assert rate(6.0, 62.0) == "0.097 MP/s"
    assert rate(0.0, 0.0) == "0.00 MP/s"
    assert rate(8e-6, 2.0) == "4 px/s"  # under 0.001 MP/s: pixels (it had said "0.0000040 MP/s")
    assert rate(1e-6, 3.2) == "0.31 px/s"  # a 1 px picture (it had said "0 px/s", as if nothing was done)


def test_the_summary_counts_a_tiny_pictures_pixels(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A 2x4 picture's summary said "stylized 1 image, 0.0000080 MP in ...": under 0.001 MP it counts pixels."""
    Image.new("RGB", (2, 4), (10, 200, 30)).save(tmp_path / "tiny.png")
    assert main([str(tmp_path / "tiny.png"), "-m", str(model_path), "-o", str(tmp_path / "o.png")]) == 0
    said = capsys.readouterr().err  # (the rate in px/s or MP/s as fast as the machine was: 8 px in 5 ms, 0.0016 MP/s)
    assert re.search(r"^stylized 1 image, 8 px in [0-9.]+ s \(([0-9,]+ px|[0-9.]+ MP)/s\) -> ", said, re.M), said
    from fast_style.cli.stylize import pixels

    assert [pixels(v) for v in (6.4e-5, 0.001, 0.0019, 0.96, 12.345)] == [
        "64 px",
        "0.0010 MP",
        "0.0019 MP",
        "0.96 MP",
        "12.3 MP",
    ]


def test_a_file_given_to_style_is_said_to_be_a_file_and_where_it_goes(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--style x.pt said "unknown style 'x.pt': the built-in styles are ... (a style model you trained is given by its
    file's path)", though a path had been given; a painting there the same."""
    from fast_style.cli.export import main as export_main

    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    painting = make_photo(tmp_path / "candy.jpg", size=(40, 32))
    for style, said in (
        (
            model_path,
            f"--style takes a built-in style's name; {model_path} is a file: give a style model file with "
            f"--model {model_path}",
        ),
        (
            painting,
            f"--style takes a built-in style's name; {painting} is a picture, not a style model: train one on "
            f"the painting (fast-style-train style.image={painting}), or paint one photo in its style with "
            f"fast-style-optimize PHOTO -s {painting}",
        ),
    ):
        assert main([str(photo), "--style", str(style), "-o", str(tmp_path / "out.jpg")]) == 2
        assert capsys.readouterr().err == f"error: {said}\n"
        with pytest.raises(SystemExit) as stop:  # (an argument's mistake, as argparse ends on it)
            export_main(["--style", str(style), "-o", str(tmp_path / "out.onnx")])
        assert stop.value.code == 2
        assert f"fast-style-export: error: {said} (fast-style-export --help" in capsys.readouterr().err
    assert not (tmp_path / "out.jpg").exists() and not (tmp_path / "out.onnx").exists()


def test_a_path_to_no_file_given_to_style_is_said_to_be_none_and_where_a_file_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--style runs/sea/style.pt (mistyped, or not there yet) said "unknown style ...: the built-in styles are ... (a
    style model you trained is given by its file's path)", though a path had been given; --style wave.pt or ./wave
    were not said to be the built-in style, nor a run's folder to go with --model."""
    from fast_style.cli.export import main as export_main

    monkeypatch.chdir(tmp_path)
    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    (tmp_path / "runs" / "sea").mkdir(parents=True)  # a run's folder: --model takes it
    for style, said in (
        ("runs/sea/style.pt", "--style runs/sea/style.pt: no such file, and --style takes a built-in style's name ("),
        ("sea.pt", "--style sea.pt: no such file, and --style takes a built-in style's name ("),
        ("wave.pt", "--style takes a built-in style's name alone: --style wave\n"),
        ("./udnie", "--style takes a built-in style's name alone: --style udnie\n"),
        ("nope", "unknown style 'nope': the built-in styles are "),
        (
            "runs/sea",
            "--style takes a built-in style's name; runs/sea is a folder: a run's folder goes with --model runs/sea\n",
        ),
    ):
        assert main([str(photo), "--style", style]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
        assert ("--model FILE" in err) == (style not in ("wave.pt", "./udnie", "runs/sea")), err
        with pytest.raises(SystemExit) as stop:
            export_main(["--style", style, "-o", str(tmp_path / "out.onnx")])
        assert stop.value.code == 2 and f"fast-style-export: error: {said.rstrip(chr(10))}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jpg", "runs"]


def test_a_model_among_the_inputs_is_said_to_go_to_style_or_model(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """fast-style-stylize wave p.jpg (the model first, as fast-style-export and -eval take it) said only "say which
    style: --style NAME (built in: ...) or --model FILE.pt"."""
    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    for inputs, said in (
        (["wave", str(photo)], "say which style: wave is a built-in style, not an input: give it as --style wave"),
        ([str(photo), str(model_path)], f"say which style: {model_path} is a style model, not an input: give it as "),
    ):
        assert main([*inputs, "-o", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.startswith(f"error: {said}")
    assert main([str(photo), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: say which style: --style NAME (built in: ")
    assert not (tmp_path / "out").exists()


def test_an_empty_input_is_refused_not_taken_for_the_current_folder(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset shell variable ("$PHOTOS"): Path("") is the current folder, and every picture below it was
    stylized, as the other tools refuse an empty name."""
    make_photo(tmp_path / "here" / "a.jpg", size=(40, 32))
    monkeypatch.chdir(tmp_path / "here")
    for empty in ("", " "):
        assert main([empty, "--model", str(model_path), "-q"]) == 2
        said = "error: an input given is empty (an unset shell variable?): give files, folders or globs of images or "
        assert capsys.readouterr().err.startswith(said)
    assert [p.name for p in (tmp_path / "here").iterdir()] == ["a.jpg"]


def test_an_export_named_as_a_picture_is_said_to_be_one(
    model_path: Path, tmp_path: Path, style_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """-s wave p.jpg wave.onnx: the photo was stylized, then "wave.onnx: cannot identify image file", exit 1; and
    fast-style-optimize -s wave.onnx (or wave.ts, or either as the photo) said "cannot identify image file"."""
    from fast_style.cli.evaluate import main as eval_main
    from fast_style.cli.optimize import main as optimize_main

    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    onnx, ts = tmp_path / "wave.onnx", tmp_path / "wave.ts"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch an ONNX export")
    ts.write_bytes(b"PK\x03\x04 a TorchScript export, a zip")
    for export, kind in ((onnx, "an ONNX"), (ts, "a TorchScript")):
        assert main([str(photo), str(export), "--style", "wave", "-o", str(tmp_path / "out"), "-q"]) == 2
        assert capsys.readouterr().err == (
            f"error: {export} is {kind} export (fast-style-export's), not a picture or video: stylize with the style "
            "it was exported from (--style or --model) and give photos or videos\n"
        )
        assert eval_main(["wave", "--photos", str(photo), str(export), "--out", str(tmp_path / "e")]) == 2
        assert capsys.readouterr().err.startswith(
            f"error: {export} is {kind} export (fast-style-export's), not a picture: give held-out pictures (--photos)"
        )
        said = f"{kind} export (fast-style-export's), not a picture: give an image file\n"
        for args, where in (
            ([str(photo), "-s", str(export)], "style image "),
            ([str(export), "-s", str(style_path)], ""),
        ):
            assert optimize_main([*args, "-o", str(tmp_path / "o.png"), "--size", "32"]) == 2
            assert capsys.readouterr().err == f"error: cannot read {where}{export}: {said}"
    assert not any((tmp_path / name).exists() for name in ("out", "e", "o.png"))


def test_a_style_model_named_among_the_inputs_is_refused_before_any_work(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """-s wave p.jpg other.pt: the photo was stylized, then "other.pt: cannot identify image file", exit 1."""
    photo = make_photo(tmp_path / "p.jpg", size=(40, 32))
    assert main([str(photo), str(model_path), "--style", "wave", "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    said = f"error: {model_path} is a PyTorch file (a style model, weights or a checkpoint), not a picture or video: "
    assert err.startswith(said) and err.endswith("and a style model as the model (--model)\n"), err
    assert not (tmp_path / "out").exists()
    misnamed = tmp_path / "misnamed.pt"  # a picture under that name is read as one
    misnamed.write_bytes(photo.read_bytes())
    assert main([str(misnamed), "--model", str(model_path), "-o", str(tmp_path / "out"), "-q"]) == 0


@pytest.mark.parametrize("tool", ["stylize", "export"])
def test_the_model_options_help_says_a_runs_folder_is_taken(
    tool: str, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # --model was "a style model file (.pt)" alone, where a training run's folder is taken for its style.pt too
    from fast_style.cli import export

    tool_main = main if tool == "stylize" else export.main
    with pytest.raises(SystemExit):
        tool_main(["--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert re.search(r"-m (MODEL|FILE), --model (MODEL|FILE) a style model.{0,60}? its run's folder", said), said
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "style.pt").write_bytes(model_path.read_bytes())
    out = tmp_path / ("a.png" if tool == "stylize" else "a.onnx")
    args = [str(make_photo(tmp_path / "p.png"))] if tool == "stylize" else []
    assert tool_main([*args, "-m", str(tmp_path / "run"), "-o", str(out), *(["-q"] if tool == "stylize" else [])]) == 0
    assert out.is_file()


def test_a_photos_xmp_in_single_quotes_loses_what_is_not_true_of_the_copy(tmp_path: Path) -> None:
    """XMP in single quotes (valid XML, as some writers make it) kept the photo's profile name, colour space and
    size over the copy's sRGB pixels (only double quotes were looked for); spaces round an "=" and an element with
    attributes of its own too. Its resolution is left out (a scaled copy's is not the photo's). Damaged XMP is kept
    as it is, without an error."""
    xmp = (
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        b"<rdf:Description rdf:about='' photoshop:ICCProfile='Adobe RGB (1998)' photoshop:ColorMode = '3' "
        b"tiff:Orientation='6' tiff:XResolution='300/1'><dc:creator>Ann</dc:creator><tiff:ResolutionUnit>2"
        b"</tiff:ResolutionUnit><exif:PixelXDimension rdf:parseType='Literal'>40"
        b"</exif:PixelXDimension ></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "cam.jpg", xmp=xmp)
    with Image.open(tmp_path / "cam.jpg") as photo:
        for out in ("out.jpg", "out.png", "out.webp"):
            with Image.open(io.BytesIO(encode_image(Image.new("RGB", (40, 20)), out, photo))) as kept:
                kept.load()
                said = kept.info.get("xmp") or kept.info["XML:com.adobe.xmp"].encode()
                assert b"<dc:creator>Ann</dc:creator>" in said and b"rdf:about=''" in said, out
                assert not re.search(rb"ICCProfile|ColorMode|Orientation|Dimension|Resolution", said), out
    damaged = b"<x:xmpmeta><tiff:Orientation>6</tiff:Orient"
    photo = Image.new("RGB", (40, 20))
    photo.info["xmp"] = damaged
    with Image.open(io.BytesIO(encode_image(photo, "out.jpg", photo))) as kept:
        assert kept.info["xmp"] == damaged


def test_a_scaled_copy_keeps_the_photos_print_size(model_path: Path, tmp_path: Path) -> None:
    """A 300 dpi photo halved by --scale or --max-size kept its 300 dpi, and printed at half the size: its
    resolution is scaled as its pixels are, the EXIF's too. A photo turned a quarter by its EXIF swaps its
    resolution across and down (a fax's 204x196 dpi), from a path as from Python's Image.open. A TIFF without a
    resolution, which Pillow gives as 1 dpi, had its copy say 1 dpi (printed 40 inches wide): it states none."""
    exif = Image.Exif()
    exif[0x011A], exif[0x011B], exif[0x0128] = 300.0, 300.0, 2  # the EXIF's resolution, in inches, too
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "print.jpg", dpi=(300, 300), exif=exif.tobytes())
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "print.tif", dpi=(300, 300))  # (IFDRational)
    for out, option in (("half.jpg", "--scale"), ("half.png", "--max-size"), ("half.tif", "--scale")):
        value = "20" if option == "--max-size" else "0.5"
        photo = "print.tif" if out == "half.png" else "print.jpg"
        args = [str(tmp_path / photo), "-m", str(model_path), "-o", str(tmp_path / out), option, value, "-q"]
        assert main(args) == 0, out
        with Image.open(tmp_path / out) as kept:
            assert kept.size == (20, 10) and [round(d) for d in kept.info["dpi"]] == [150, 150], out
            assert kept.getexif().get(0x011A, 150) == kept.getexif().get(0x011B, 150) == 150, out
    assert main([str(tmp_path / "print.jpg"), "-m", str(model_path), "-o", str(tmp_path / "same.jpg"), "-q"]) == 0
    with Image.open(tmp_path / "same.jpg") as kept:
        assert kept.info["dpi"] == (300, 300)
    bmp = encode_image(Image.new("RGB", (20, 10)), "half.bmp", read_image(tmp_path / "print.jpg"))
    with Image.open(io.BytesIO(bmp)) as kept:
        assert [round(d) for d in kept.info["dpi"]] == [150, 150]  # (Pillow's 96 dpi, not the photo's)
    for out in ("half.webp", "half.avif"):  # its EXIF's, where the photo's EXIF said none (they stated none)
        copy = encode_image(Image.new("RGB", (20, 10)), out, read_image(tmp_path / "print.tif"))
        assert read_image(io.BytesIO(copy)).info["dpi"] == (150, 150), out
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate on display
    Image.new("RGB", (40, 20)).save(tmp_path / "fax.jpg", dpi=(204, 196), exif=exif.tobytes())
    Image.new("1", (40, 20)).save(tmp_path / "fax.tif", dpi=(204, 196), exif=exif.tobytes())  # (Pillow turns it)
    with Image.open(tmp_path / "fax.jpg") as photo:
        for source in (read_image(tmp_path / "fax.jpg"), photo, read_image(tmp_path / "fax.tif")):
            with Image.open(io.BytesIO(encode_image(Image.new("RGB", (10, 20)), "out.jpg", source))) as kept:
                assert kept.info["dpi"] == (98, 102), source.format
    Image.new("RGB", (40, 20)).save(tmp_path / "plain.tif")  # no resolution (Pillow says 1 dpi): none stated
    assert main([str(tmp_path / "plain.tif"), "-m", str(model_path), "-o", str(tmp_path / "plain.jpg"), "-q"]) == 0
    with Image.open(tmp_path / "plain.jpg") as kept:
        assert "dpi" not in kept.info
    # a JPEG whose resolution is only in its EXIF: Pillow gives 72 dpi where that has none, or no unit (inches)
    stated, unstated = Image.Exif(), Image.Exif()
    stated[0x011A], stated[0x011B], unstated[0x010F] = 300.0, 200.0, "TestCam"
    for name, exif, dpi in (("unit.jpg", stated, (150, 100)), ("none.jpg", unstated, None)):
        Image.new("RGB", (40, 20)).save(tmp_path / name, exif=exif.tobytes())
        args = [str(tmp_path / name), "-m", str(model_path), "-o", str(tmp_path / "o" / name), "--scale", "0.5", "-q"]
        assert main(args) == 0, name
        assert read_image(tmp_path / "o" / name).info.get("dpi") == dpi, name  # (Pillow's 72 not said, nor read)
        preview = [Image.new("RGB", (20, 10))]  # a camera's JPEG with its preview after it (Pillow's MPO): the same
        Image.new("RGB", (40, 20)).save(tmp_path / "mpo.jpg", "MPO", save_all=True, append_images=preview, exif=exif)
        assert read_image(tmp_path / "mpo.jpg").info.get("dpi") == (dpi and (300, 200)), name
    for name in ("unit.webp", "unit.png"):  # a format that states none, or a PNG without pHYs: its EXIF's, scaled
        Image.new("RGB", (40, 20)).save(tmp_path / name, exif=stated.tobytes())  # (a halved copy said 300 dpi still)
        copy = encode_image(Image.new("RGB", (20, 10)), "o.png", read_image(tmp_path / name))
        with Image.open(io.BytesIO(copy)) as kept:
            assert kept.getexif()[0x011A] == 150 and [round(d) for d in kept.info["dpi"]] == [150, 100], name
    tiny = Image.new("RGB", (400, 200))  # 1 dpi scaled down to less than a JPEG holds: left out
    tiny.info["dpi"] = (1, 1)
    with Image.open(io.BytesIO(encode_image(Image.new("RGB", (40, 20)), "out.jpg", tiny))) as kept:
        assert kept.info.get("dpi", (72, 72)) != (0, 0)
    tiny.info["dpi"] = (1e9, 1e9)  # more than a PNG holds (a damaged TIFF's): the copy without it ("could not encode")
    with Image.open(io.BytesIO(encode_image(Image.new("RGB", (400, 200)), "out.png", tiny))) as kept:
        assert "dpi" not in kept.info


def test_a_pngs_text_chunks_and_a_comment_are_kept(model_path: Path, tmp_path: Path) -> None:
    """A PNG photo's text chunks (tEXt, zTXt, iTXt: its Copyright, Author, Description) were dropped from its
    stylized PNG, and a JPEG's comment from a PNG (which holds it as a "Comment" text); an iTXt keeps its language.
    ImageMagick's raw EXIF profile (the photo's orientation, which would turn the copy again) is not copied as a
    text, and a format without text chunks gets none, without a word."""
    from PIL.PngImagePlugin import PngInfo

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate on display: the picture read is no longer a PNG to Pillow
    raw = exif.tobytes()
    chunks = PngInfo()
    chunks.add_text("Copyright", "Ann 2026")
    chunks.add_text("Author", "Ann", zip=True)
    chunks.add_itxt("Description", "a lake, \u00fc", lang="en")
    chunks.add_text("Comment", "seen from the north")
    chunks.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n")
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "lake.png", pnginfo=chunks)
    frames = [Image.new("RGB", (40, 20), (120, 80, 60 + 100 * i)) for i in range(2)]  # an animation's too
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:], pnginfo=chunks)
    for source, out in (("lake.png", "lake_out.png"), ("anim.png", "anim_out.png")):
        assert main([str(tmp_path / source), "-m", str(model_path), "-o", str(tmp_path / out), "-q"]) == 0
        with Image.open(tmp_path / out) as kept:
            kept.load()
            assert kept.size == (20, 40) and kept.getexif().get(0x0112, 1) == 1, out
            assert {k: kept.text.get(k) for k in ("Copyright", "Author", "Description", "Comment")} == {
                "Copyright": "Ann 2026",
                "Author": "Ann",
                "Description": "a lake, \u00fc",
                "Comment": "seen from the north",
            }, out
            assert kept.text["Description"].lang == "en" and "Raw profile type exif" not in kept.text, out
    for out in ("lake_out.jpg", "lake_out.webp"):
        assert main([str(tmp_path / "lake.png"), "-m", str(model_path), "-o", str(tmp_path / out), "-q"]) == 0
    with Image.open(tmp_path / "lake_out.jpg") as kept:  # its comment where a JPEG holds one
        assert kept.info["comment"] == b"seen from the north"
    described = {0x010E: "a lake, \u00fc".encode().decode("latin-1"), 0x013B: "Ann", 0x8298: "Ann 2026"}
    for out in ("lake_out.jpg", "lake_out.webp", "lake_out.avif"):  # the EXIF's tags, as a TIFF's (they were lost)
        copy = encode_image(Image.new("RGB", (20, 40)), out, read_image(tmp_path / "lake.png"))
        with Image.open(io.BytesIO(copy)) as kept:
            assert {tag: kept.getexif().get(tag) for tag in described} == described, out
    turned_only = PngInfo()  # its raw EXIF profile alone, of an orientation alone: an AVIF had an empty EXIF box
    turned_only.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n")
    Image.new("RGB", (40, 20)).save(tmp_path / "turned.png", pnginfo=turned_only)
    copy = encode_image(Image.new("RGB", (20, 40)), "turned.avif", read_image(tmp_path / "turned.png"))
    with Image.open(io.BytesIO(copy)) as kept:
        assert "exif" not in kept.info
    tif = encode_image(Image.new("RGB", (20, 40)), "lake_out.tif", read_image(tmp_path / "lake.png"))
    with Image.open(io.BytesIO(tif)) as kept:  # a TIFF's own tags (they were lost): UTF-8 beyond ASCII
        tags = {tag: kept.tag_v2.get(tag) for tag in (0x010E, 0x013B, 0x8298)}  # Description, Artist, Copyright
        assert tags == {0x010E: "a lake, \u00fc".encode().decode("latin-1"), 0x013B: "Ann", 0x8298: "Ann 2026"}
    artist = PngInfo()
    artist.add_text("Artist", "Bob")  # (as some writers name the author)
    Image.new("RGB", (8, 4)).save(tmp_path / "artist.png", pnginfo=artist)
    tif = encode_image(Image.new("RGB", (8, 4)), "artist.tif", read_image(tmp_path / "artist.png"))
    with Image.open(io.BytesIO(tif)) as kept:
        assert kept.tag_v2[0x013B] == "Bob"
    camera = Image.Exif()
    camera[0x013B] = "Ann (the EXIF's)"  # the photo's EXIF names its artist: kept over the PNG's Author text
    both = PngInfo()
    both.add_text("Author", "Ann")
    both.add_text("Copyright", "  ")  # a blank text: no tag of nothing
    Image.new("RGB", (8, 4)).save(tmp_path / "both.png", pnginfo=both, exif=camera.tobytes())
    tif = encode_image(Image.new("RGB", (8, 4)), "both.tif", read_image(tmp_path / "both.png"))
    with Image.open(io.BytesIO(tif)) as kept:
        assert kept.tag_v2[0x013B] == "Ann (the EXIF's)" and 0x8298 not in kept.tag_v2
    Image.new("RGB", (40, 20), (120, 80, 60)).save(tmp_path / "cam.jpg", comment="caf\u00e9".encode())
    for out in ("cam.png", "cam.jpg"):
        assert main([str(tmp_path / "cam.jpg"), "-m", str(model_path), "-o", str(tmp_path / "o" / out), "-q"]) == 0
    with Image.open(tmp_path / "o" / "cam.png") as kept, Image.open(tmp_path / "o" / "cam.jpg") as kept_jpeg:
        assert kept.text["Comment"] == "caf\u00e9" and kept_jpeg.info["comment"] == "caf\u00e9".encode()
        assert 0x010E not in kept_jpeg.getexif()  # (a JPEG's comment is its own)
    for out in ("cam.tif", "cam.webp"):  # a format without a comment: its description (the comment was lost)
        with Image.open(
            io.BytesIO(encode_image(Image.new("RGB", (8, 4)), out, read_image(tmp_path / "cam.jpg")))
        ) as kept:
            assert kept.getexif()[0x010E] == "caf\u00e9".encode().decode("latin-1"), out
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], comment=b"note")  # a GIF's too
    assert main([str(tmp_path / "anim.gif"), "-m", str(model_path), "-o", str(tmp_path / "o" / "anim.gif"), "-q"]) == 0
    with Image.open(tmp_path / "o" / "anim.gif") as kept:
        assert kept.info["comment"] == b"note"
    with Image.open(tmp_path / "anim.gif") as gif:
        with Image.open(io.BytesIO(encode_image(Image.new("RGB", (8, 4)), "anim.tif", gif))) as kept:
            assert kept.tag_v2[0x010E] == "note"
    tif = encode_image(Image.new("RGB", (8, 4)), "lake.tif", read_image(tmp_path / "lake.png"))
    with Image.open(io.BytesIO(tif)) as kept:  # a description of its own: not the comment
        assert kept.tag_v2[0x010E] == described[0x010E]


def test_an_animations_metadata_after_its_first_frame_is_kept(tmp_path: Path) -> None:
    """What an animation says after its first frame's pixels was lost in its stylized copy (only its header was
    read for it): an APNG's text chunks and EXIF after its frames, a GIF's comment before a later frame."""
    import struct

    from fast_style.media.animation import stylize_animation

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    frames = [Image.new("RGB", (16, 8), (100, 50 * i, 30)) for i in range(3)]
    apng, gif = io.BytesIO(), io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:])
    exif = Image.Exif()
    exif[0x010F] = "Cam"
    late = chunk(b"tEXt", b"Copyright\x00Ann") + chunk(b"eXIf", exif.tobytes()[6:])  # (without "Exif\0\0")
    (tmp_path / "late.png").write_bytes(apng.getvalue()[:-12] + late + apng.getvalue()[-12:])  # before IEND
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    second = gif.getvalue().index(b"\x21\xf9", gif.getvalue().index(b"\x21\xf9") + 1)  # (its control extension)
    (tmp_path / "late.gif").write_bytes(gif.getvalue()[:second] + b"\x21\xfe\x04note\x00" + gif.getvalue()[second:])

    def same(images: list[Image.Image]) -> list[Image.Image]:  # (a stylizer's part: the metadata is what counts)
        return [image.convert("RGB") for image in images]

    for out in ("o.png", "o.webp"):
        stylize_animation(tmp_path / "late.png", tmp_path / out, same)
        with Image.open(tmp_path / out) as kept:
            kept.load()
            assert kept.getexif().get(0x010F) == "Cam", out
            assert (kept.text if out == "o.png" else {"Copyright": kept.getexif().get(0x8298)}) == {"Copyright": "Ann"}
    stylize_animation(tmp_path / "late.gif", tmp_path / "o.gif", same)
    with Image.open(tmp_path / "o.gif") as kept:
        assert kept.info.get("comment") == b"note"


def test_a_comment_too_long_for_a_jpeg_is_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A GIF's comment (or a PNG's Comment text) longer than a JPEG's 64 KB segment: the JPEG was not written
    ("Comment is too long"); it is written without the comment, with a warning, as a too long XMP is."""
    Image.new("RGB", (40, 20)).save(tmp_path / "long.gif", comment=b"c" * 70_000)
    with Image.open(tmp_path / "long.gif") as photo:
        with Image.open(io.BytesIO(encode_image(Image.new("RGB", (40, 20)), "out.jpg", photo))) as kept:
            assert "comment" not in kept.info
        assert "the comment (70000 bytes) is too long for a JPEG: not kept" in caplog.text
        with Image.open(io.BytesIO(encode_image(Image.new("RGB", (40, 20)), "out.gif", photo))) as kept:
            assert len(kept.info["comment"]) == 70_000  # (a GIF holds it)
    from PIL.PngImagePlugin import PngInfo

    texts, exif = PngInfo(), Image.Exif()
    texts.add_text("Description", "d" * 70_000)
    texts.add_text("Author", "Ann")
    exif[0x010F] = "Cam"
    Image.new("RGB", (40, 20)).save(tmp_path / "long.png", pnginfo=texts, exif=exif.tobytes())
    with Image.open(
        io.BytesIO(encode_image(Image.new("RGB", (40, 20)), "out.jpg", read_image(tmp_path / "long.png")))
    ) as kept:
        got = kept.getexif()  # the long text alone left out of its EXIF (the JPEG had lost the camera's EXIF too)
        assert (got.get(0x010F), got.get(0x013B), got.get(0x010E)) == ("Cam", "Ann", None)
    assert "the description (70000 bytes) is too long for a JPEG's EXIF: not kept" in caplog.text
