"""Videos through fast-style-stylize: frames, rate and audio kept, nothing overwritten, bad files in one line."""

from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style.cli.stylize import main
from fast_style.network import TransformerNet, save_style_model

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")


def make_video(
    path: Path,
    frames: int = 8,
    size: tuple[int, int] = (66, 50),
    rate: int = 12,
    audio: bool = True,
    codec: str = "libx264",
) -> Path:
    """A small H.264 clip (a bar growing across the frame) with a second of 440 Hz tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        sound = out.add_stream("aac", rate=16000) if audio else None
        if sound is not None:
            tone = np.sin(np.linspace(0, 880 * np.pi, 16000, dtype=np.float32))
            for k in range(0, 16000, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, k : k + 1024], format="fltp", layout="mono")
                chunk.sample_rate = 16000
                out.mux(sound.encode(chunk))
            out.mux(sound.encode())
        for i in range(frames):
            img = np.full((size[1], size[0], 3), 30, np.uint8)
            img[:, : (i + 1) * size[0] // frames] = (200, 80, 30)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i + 2  # the picture starts a little after the sound: sound packets come first
            out.mux(video.encode(frame))
        out.mux(video.encode())
    return path


def frames_of(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as f:
        return [frame.to_image() for frame in f.decode(video=0)]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)  # a visible "style"
    return save_style_model(net, tmp_path / "style.pt", {"style_image": "wave.jpg"})


def test_a_video_keeps_its_frames_rate_and_sound(model: Path, tmp_path: Path, capsys) -> None:
    clip = make_video(tmp_path / "clip.mp4")
    out = tmp_path / "clip_wave.mp4"
    assert main([str(clip), "-m", str(model), "-o", str(out), "-q"]) == 0
    assert "1 video(s) of 8 frames" in capsys.readouterr().err
    with av.open(str(out)) as f:
        assert f.streams.video[0].average_rate == 12 and [s.type for s in f.streams] == ["video", "audio"]
        assert abs(f.duration / 1e6 - 1.0) < 0.15  # the sound's second, as in the input
    before, after = frames_of(clip), frames_of(out)
    assert len(after) == 8 and after[0].size == (66, 50)
    difference = np.abs(np.asarray(before[4], float) - np.asarray(after[4], float)).mean()
    assert difference > 2  # stylized, not copied
    # nothing is overwritten without --force; a format we do not write is refused before any work
    stamp = out.read_bytes()
    assert main([str(clip), "-m", str(model), "-o", str(out), "-q"]) == 1
    assert "exists: use --force" in capsys.readouterr().err and out.read_bytes() == stamp
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "x.gif"), "-q"]) == 2
    assert "unknown video format '.gif'" in capsys.readouterr().err
    assert main([str(clip), str(clip), "-m", str(model), "-o", str(tmp_path / "two.mp4"), "-q"]) == 2
    assert "names one file, but there are 2 inputs" in capsys.readouterr().err
    # a name pattern that cannot suit a video is refused before anything is stylized
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "d"), "--name", "{stem}.jpg", "-q"]) == 2
    assert "videos need one of .mp4" in capsys.readouterr().err and not (tmp_path / "d").exists()


def test_a_folder_of_photos_and_videos(model: Path, tmp_path: Path, capsys) -> None:
    from .conftest import make_photo

    make_photo(tmp_path / "in" / "a.jpg")
    make_video(tmp_path / "in" / "sub" / "b.avi", audio=False, size=(40, 30), codec="mpeg4")
    (tmp_path / "in" / "broken.mov").write_bytes(b"not a video")
    code = main([str(tmp_path / "in"), "-m", str(model), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "broken.mov" in err and "1 failed" in err and "Traceback" not in err
    assert (tmp_path / "out" / "a.jpg").is_file()
    assert len(frames_of(tmp_path / "out" / "sub" / "b.mp4")) == 8  # AVI in, H.264 MP4 out
    assert not (tmp_path / "out" / "broken.mov").exists()
    assert not list((tmp_path / "out").rglob("*.tmp"))  # no half-written file left behind
