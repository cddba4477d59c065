"""Videos through fast-style-stylize: frames, rate and audio kept, nothing overwritten, bad files in one line."""

import itertools
import os
import re
import struct
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style.cli.stylize import main
from fast_style.errors import UserError
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model

from .test_hdr import pq_code

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")


def make_video(
    path: Path,
    frames: int = 8,
    size: tuple[int, int] = (66, 50),
    rate: int = 12,
    audio: bool = True,
    codec: str = "libx264",
    sound_codec: str = "aac",
    rotation: int = 0,
    faststart: bool = False,
) -> Path:
    """A small H.264 clip (a bar growing across the frame from the left) with a second of 440 Hz tone.
    `rotation`: the display matrix's degrees counter-clockwise, as a phone writes (portrait: -90)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as out:
        video = out.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream(sound_codec, rate=16000) if audio else None
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
    assert "stylized 1 video of 8 frames," in capsys.readouterr().err  # no "0 images"
    with av.open(str(out)) as f:
        assert f.streams.video[0].average_rate == 12 and [s.type for s in f.streams] == ["video", "audio"]
        assert abs(f.duration / 1e6 - 1.0) < 0.15  # the sound's second, as in the input
    before, after = frames_of(clip), frames_of(out)
    assert len(after) == 8 and after[0].size == (66, 50)
    difference = np.abs(np.asarray(before[4], float) - np.asarray(after[4], float)).mean()
    assert difference > 2  # stylized, not copied
    # nothing is overwritten without --force; a format we do not write is refused before any work
    stamp = out.read_bytes()
    assert main([str(clip), "-m", str(model), "-o", str(out), "-q"]) == 2
    assert "exists: use --force" in capsys.readouterr().err and out.read_bytes() == stamp
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "x.gif"), "-q"]) == 2
    assert "a video is not written as '.gif'" in capsys.readouterr().err
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "x.webm"), "-q"]) == 2  # read, not written:
    assert "a video is not written as '.webm': use .mp4" in capsys.readouterr().err  # not an "unknown" format
    second = tmp_path / "second.mp4"
    second.write_bytes(clip.read_bytes())  # (the same file given twice is one input)
    assert main([str(clip), str(second), "-m", str(model), "-o", str(tmp_path / "two.mp4"), "-q"]) == 2
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


def test_an_h264_avi_with_b_frames_keeps_its_frames_in_order(tmp_path: Path) -> None:
    """AVI stores frames in decoding order and FFmpeg numbers them as stored: after B-frames are reordered their
    times were shuffled, and the encoder refused them at the end ("Invalid argument")."""
    from fast_style.media.video import stylize_video

    clip = make_video(tmp_path / "clip.avi", frames=16, size=(64, 48), audio=False)  # x264's default has B-frames
    with av.open(str(clip)) as f:
        assert any(a.pts > b.pts for a, b in itertools.pairwise(f.decode(video=0)))  # the shuffle is there
    out = tmp_path / "clip.mp4"
    own = make_video(tmp_path / "own.mp4", frames=2, audio=False)
    os.link(own, tmp_path / "linked.mp4")  # the same file by another name
    for dst in (tmp_path / "." / "own.mp4", tmp_path / "linked.mp4"):
        with pytest.raises(UserError, match="is the video being read"):  # it replaced its input
            stylize_video(own, dst, lambda x: x, force=True)
    assert stylize_video(clip, out, lambda x: x) == 16
    with av.open(str(out)) as f:
        frames = list(f.decode(video=0))
        assert f.streams.video[0].average_rate == 12
    assert len(frames) == 16 and all(b.pts > a.pts for a, b in itertools.pairwise(frames))
    step = frames[1].pts - frames[0].pts
    assert all(b.pts - a.pts == step for a, b in itertools.pairwise(frames))  # evenly spaced, as they were shown
    bars = [int((np.asarray(frame.to_image())[24, :, 0] > 115).sum()) for frame in frames]  # the growing bar
    assert bars == sorted(bars) and bars[-1] > bars[0] + 40


@pytest.mark.parametrize(
    ("by_decoding", "stamps", "expected"),
    [
        (False, [(0, None), (5, None), (5, None), (None, None), (30, None)], [0, 5, 7, 9, 30]),  # repeats, gaps
        (True, [(1, 2), (4, 3), (3, 4), (5, 5), (2, 6), (8, None), (7, None)], [1, 2, 3, 4, 5, 7, 9]),  # AVI
        (True, [(None, 0), (None, 1), (None, None)], [0, 1, 3]),
    ],
)
def test_frame_times_always_increase(by_decoding: bool, stamps: list, expected: list) -> None:
    from types import SimpleNamespace

    from fast_style.media.video import _FrameTimes

    times = _FrameTimes(by_decoding, step=2)
    assert [times(SimpleNamespace(pts=pts, dts=dts)) for pts, dts in stamps] == expected


@pytest.mark.parametrize("on_device", [False, True])
def test_batches_give_the_frames_of_one_at_a_time_and_keep_their_order(
    model: Path, tmp_path: Path, on_device: bool
) -> None:
    """`on_device`: the frames cross as Y'CbCr and are converted by fast_style.media.yuv, as on a GPU."""
    from functools import partial

    from fast_style.inference.stylizer import Stylizer
    from fast_style.media.video import stylize_video as run

    stylize_video = partial(run, convert_on_device=on_device)

    clip = make_video(tmp_path / "clip.mp4", frames=11)
    stylizer = Stylizer.load(model, device="cpu", precision="fp32")
    sizes = []

    def stylize(frames):
        sizes.append(len(frames))
        return stylizer.stylize_frames(frames)

    assert stylize_video(clip, tmp_path / "b3.mp4", stylize, batch_size=3) == 11
    assert sizes == [3, 3, 3, 2]
    assert stylize_video(clip, tmp_path / "b1.mp4", stylize, batch_size=1, crf=0) == 11
    assert stylize_video(clip, tmp_path / "b4.mp4", stylize, batch_size=4, crf=0) == 11
    one, four = frames_of(tmp_path / "b1.mp4"), frames_of(tmp_path / "b4.mp4")
    assert len(one) == len(four) == 11
    for a, b in zip(one, four):  # the same pictures, in the same order (a batch is not mixed up)
        assert np.abs(np.asarray(a, float) - np.asarray(b, float)).mean() < 1.0
    with pytest.raises(UserError, match="batch size"):
        stylize_video(clip, tmp_path / "b0.mp4", stylize, batch_size=0)


def test_each_batch_is_launched_before_the_one_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GPU gets batch k+1 before batch k's frames are read back, so it is not idle while the host hands
    frames to the encoder; every frame still arrives once, in order."""
    import fast_style.media.video as video

    events = []

    class Download(video._Download):
        def __init__(self, frames: torch.Tensor, planes: bool = False) -> None:
            super().__init__(frames, planes)
            self.batch = len([e for e in events if e[0] == "launch"]) - 1

        def arrays(self):
            events.append(("read", self.batch))
            return super().arrays()

    def stylize(frames):
        events.append(("launch", len(frames)))
        return frames

    monkeypatch.setattr(video, "_Download", Download)
    clip = make_video(tmp_path / "clip.mp4", frames=7, audio=False)
    assert video.stylize_video(clip, tmp_path / "out.mp4", stylize, batch_size=3, crf=0) == 7
    assert events == [("launch", 3), ("launch", 3), ("read", 0), ("launch", 1), ("read", 1), ("read", 2)]
    got = [np.asarray(f, float) for f in frames_of(tmp_path / "out.mp4")]
    want = [np.asarray(f, float) for f in frames_of(clip)]
    assert len(got) == 7 and all(np.abs(a - b).mean() < 2 for a, b in zip(got, want))


@pytest.mark.parametrize("on_device", [False, True])
@pytest.mark.parametrize("size,tagged", [((64, 48), True), ((1280, 720), False), ((64, 48), False)])
def test_colours_are_written_as_bt709_and_say_so(
    tmp_path: Path, size: tuple[int, int], tagged: bool, on_device: bool
) -> None:
    """Players take an untagged HD video for BT.709: the encoder's default BT.601 matrix, untagged, showed a
    green (40, 180, 60) as (28, 158, 56). Frames are converted with BT.709 and the stream is tagged so; an
    untagged HD source is read as BT.709 too, as players show it, and an untagged SD one as BT.601. Converted by
    swscale or, `on_device`, by fast_style.media.yuv."""
    from av.video.reformatter import Colorspace

    from fast_style.media.video import stylize_video

    green = (40, 180, 60)
    src = tmp_path / "green.mp4"
    with av.open(str(src), "w") as out:  # a phone's clip (BT.709, tagged), or an HD one that does not say
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        if tagged:
            video.codec_context.colorspace = Colorspace.ITU709
        video.options = {"crf": "0", "preset": "ultrafast"}
        for i in range(3):
            rgb = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), green, np.uint8), format="rgb24")
            matrix = Colorspace.ITU709 if tagged or size[1] >= 720 else Colorspace.ITU601
            frame = rgb.reformat(format="yuv420p", dst_colorspace=matrix)
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
    assert stylize_video(src, tmp_path / "out.mp4", lambda frames: frames, crf=0, convert_on_device=on_device) == 3
    with av.open(str(tmp_path / "out.mp4")) as f:
        tags = f.streams.video[0].codec_context
        assert (tags.colorspace, tags.color_primaries, tags.color_trc) == (1, 1, 1)  # BT.709 (AVCOL_*_BT709)
        frame = next(f.decode(video=0))
        as_709 = frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU709).to_ndarray()
    assert np.abs(as_709[size[1] // 2, size[0] // 2].astype(int) - green).max() <= 4


def make_hdr_video(
    path: Path, rgb16: np.ndarray, transfer: int, frames: int = 3, hdr10: str = "", tag_matrix: bool = True
) -> Path:
    """A 10-bit BT.2020 H.264 clip of one still picture, given as R'G'B' code values (16 bits) in `transfer`'s
    signal (PQ or HLG), tagged as a phone tags its HDR clips. `hdr10`: x265's HDR10 metadata options (an HEVC
    clip then, as HDR10 files are). `tag_matrix=False`: the YUV matrix (BT.2020's) is not stated."""
    from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx265" if hdr10 else "libx264", rate=10)
        video.width, video.height, video.pix_fmt = rgb16.shape[1], rgb16.shape[0], "yuv420p10le"
        tags = video.codec_context
        tags.color_primaries, tags.color_range, tags.color_trc = ColorPrimaries.BT2020, ColorRange.MPEG, transfer
        if tag_matrix:
            tags.colorspace = Colorspace.BT2020
        video.options = {"qp": "0", "preset": "ultrafast"}
        if hdr10:
            video.options = {"preset": "ultrafast", "x265-params": f"log-level=error:lossless=1:hdr10=1:{hdr10}"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(rgb16, format="rgb48le").reformat(
                format="yuv420p10le", dst_colorspace=Colorspace.BT2020, dst_color_range=ColorRange.MPEG
            )
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
    return path


@pytest.mark.parametrize("transfer", ["HLG", "PQ"])
def test_hdr_video_is_tone_mapped_to_sdr(tmp_path: Path, transfer: str, caplog: pytest.LogCaptureFixture) -> None:
    from fast_style.media import hdr
    from fast_style.media.video import stylize_video

    # HDR's reference white (HLG's 75% signal, PQ's 203 nits) on the left, a saturated BT.2020 red on the right
    white = {"HLG": 0.75, "PQ": 0.5807}[transfer]
    picture = np.zeros((32, 64, 3), np.uint16)
    picture[:, :32] = round(white * 65535)
    picture[:, 32:] = (round(white * 65535), round(0.2 * 65535), round(0.1 * 65535))
    code = {"HLG": hdr.HLG, "PQ": hdr.PQ}[transfer]
    src = make_hdr_video(tmp_path / f"{transfer}.mp4", picture, code)
    with caplog.at_level("INFO"):
        assert stylize_video(src, tmp_path / "out.mp4", lambda frames: frames, crf=0) == 3
    assert f"{transfer}.mp4: HDR ({transfer}, 1000 nits) tone-mapped to SDR" in caplog.text
    got = np.asarray(frames_of(tmp_path / "out.mp4")[1]).astype(int)
    want = hdr.tone_map(picture, code).astype(int)
    assert np.abs(got[16, 8] - 234).max() <= 3  # white as SDR's 92%, not the flat 191 (75%) read untouched
    assert np.abs(got[16, 56] - want[16, 56]).max() <= 4 and got[16, 56, 0] > got[16, 56, 1] + 100  # still red


MASTERING = "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(40000000,50)"  # 4000 nits


@pytest.mark.parametrize("metadata", ["max-cll=4000,400", MASTERING])
def test_an_hdr10_clip_keeps_highlights_up_to_the_peak_it_says(
    tmp_path: Path, metadata: str, caplog: pytest.LogCaptureFixture
) -> None:
    from fast_style.media import hdr
    from fast_style.media.video import stylize_video

    code = {nits: pq_code(nits) for nits in (1000, 3000)}
    picture = np.zeros((32, 64, 3), np.uint16)
    picture[:, :32], picture[:, 32:] = code[1000], code[3000]
    src = make_hdr_video(tmp_path / "hdr10.mp4", picture, hdr.PQ, hdr10=metadata)
    with caplog.at_level("INFO"):
        assert stylize_video(src, tmp_path / "out.mp4", lambda frames: frames, crf=0) == 3
    assert "hdr10.mp4: HDR (PQ, 4000 nits) tone-mapped to SDR" in caplog.text
    got = np.asarray(frames_of(tmp_path / "out.mp4")[2]).astype(int)
    assert 240 <= got[16, 8, 0] <= 253 and got[16, 56, 0] >= got[16, 8, 0] + 2  # 1000 nits below white, 3000 above
    assert hdr.tone_map(picture, hdr.PQ)[16, 8, 0] == 255  # where the default 1000-nit peak puts 1000 nits


@pytest.mark.parametrize("transfer", ["HLG", "PQ"])
def test_an_hdr_clip_that_does_not_state_its_matrix_is_read_as_bt2020(tmp_path: Path, transfer: str) -> None:
    from fast_style.media import hdr
    from fast_style.media.video import stylize_video

    picture = np.zeros((32, 64, 3), np.uint16)
    picture[:, :, 1] = round(0.6 * 65535)  # a green: where BT.601 and BT.2020's matrices differ most
    code = {"HLG": hdr.HLG, "PQ": hdr.PQ}[transfer]
    outputs = []
    for tagged in (True, False):
        src = make_hdr_video(tmp_path / f"{tagged}.mp4", picture, code, tag_matrix=tagged)
        assert stylize_video(src, tmp_path / f"out{tagged}.mp4", lambda frames: frames, crf=0) == 3
        outputs.append(np.asarray(frames_of(tmp_path / f"out{tagged}.mp4")[1])[16, 32].astype(int))
    assert np.abs(outputs[0] - outputs[1]).max() <= 3, outputs


def test_sdr_video_is_not_tone_mapped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from fast_style.media.video import stylize_video

    with caplog.at_level("INFO"):
        clip = make_video(tmp_path / "sdr.mp4", frames=3, audio=False)
        assert stylize_video(clip, tmp_path / "o.mp4", lambda frames: frames) == 3
    assert "HDR" not in caplog.text
    assert np.abs(np.asarray(frames_of(tmp_path / "o.mp4")[2])[25, 2].astype(int) - (200, 80, 30)).max() <= 6


def test_a_phone_video_comes_out_upright_and_any_sound_is_kept(model: Path, tmp_path: Path) -> None:
    phone = make_video(tmp_path / "phone.mp4", rotation=-90)  # landscape frames a player turns clockwise
    assert main([str(phone), "-m", str(model), "-o", str(tmp_path / "up.mp4"), "-q"]) == 0
    with av.open(str(tmp_path / "up.mp4")) as f:
        first = next(f.decode(video=0))
        assert (first.width, first.height, first.rotation) == (50, 66, 0)  # turned, and no tag left to turn it again
    from fast_style.media.video import stylize_video

    for on_device in (False, True):  # the frames as the network got them
        stylize_video(phone, tmp_path / f"copy{on_device}.mp4", lambda frames: frames, convert_on_device=on_device)
        red = np.asarray(frames_of(tmp_path / f"copy{on_device}.mp4")[3], float)[..., 0]  # the bar: the top half
        assert red[:25].mean() > red[-25:].mean() + 80
    # PCM sound from an .avi cannot go into an .mp4 as it is: it is kept as AAC, not lost with the video (16-bit
    # PCM, the usual camera's, is on MP4's list, but FFmpeg's muxer refused it at the end: "Invalid argument")
    for sound_codec in ("pcm_s16le", "pcm_u8"):
        camera = make_video(tmp_path / "camera.avi", codec="mpeg4", sound_codec=sound_codec)
        assert main([str(camera), "-m", str(model), "-o", str(tmp_path / "camera.mp4"), "-q", "--force"]) == 0
        with av.open(str(tmp_path / "camera.mp4")) as f:
            assert [s.codec_context.name for s in f.streams] == ["h264", "aac"]
            assert abs(sum(frame.samples for frame in f.decode(audio=0)) / 16000 - 1.0) < 0.1
    # odd sides after --max-size: H.264 needs even ones (33x25 -> 32x24)
    assert main([str(camera), "-m", str(model), "-o", str(tmp_path / "odd.mp4"), "--max-size", "33", "-q"]) == 0
    assert {image.size for image in frames_of(tmp_path / "odd.mp4")} == {(32, 24)}
    # a size with nothing left once the sides are even: one line, not an IndexError from the encoder
    assert main([str(camera), "-m", str(model), "-o", str(tmp_path / "dot.mp4"), "--max-size", "1", "-q"]) == 2
    assert not list(tmp_path.glob("*dot.mp4*"))


@pytest.mark.parametrize("degrees", [0, 90, 180, -90])
def test_every_display_orientation_comes_out_as_a_player_shows_it(tmp_path: Path, degrees: int) -> None:
    """The eight orientations a display matrix states (four turns, each mirrored or not): a left-right mirror
    came out turned upside down (PyAV reads its rotation as -180)."""
    from fast_style.media.video import stylize_video

    picture = np.zeros((32, 48, 3), np.uint8)
    picture[:8, :16] = 255  # a white block at the top left, a grey one along the bottom: no symmetry
    picture[-8:, 8:] = 120
    for hflip in (False, True):
        clip = tmp_path / f"m{hflip}.mp4"
        with av.open(str(clip), "w") as out:
            video = out.add_stream("libx264", rate=10, options={"qp": "0"})
            video.width, video.height, video.pix_fmt = 48, 32, "yuv444p"
            video.set_display_rotation(degrees, hflip=hflip)  # as PyAV writes it: the turn, then the mirror
            for i in range(2):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = i
                out.mux(video.encode(frame))
            out.mux(video.encode())
        shown = np.rot90(picture, degrees // 90)
        shown = shown[:, ::-1] if hflip else shown
        stylize_video(clip, tmp_path / f"out{hflip}.mp4", lambda frames: frames)
        got = np.asarray(frames_of(tmp_path / f"out{hflip}.mp4")[0], float)
        assert got.shape == shown.shape and np.abs(got - shown).mean() < 12, (degrees, hflip)


def test_a_file_with_sound_only_is_one_line(model: Path, tmp_path: Path, capsys) -> None:
    sound = tmp_path / "sound.mp4"
    with av.open(str(sound), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate = 16000
        out.mux(stream.encode(chunk))
        out.mux(stream.encode())
    assert main([str(sound), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 2  # its only input
    err = capsys.readouterr().err
    # in the words a song named as one gets (below): it had its own, "holds no video stream, sound alone ..."
    assert "sound.mp4: it holds sound alone (a song, a recording), no picture or video: nothing to" in err, err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("out*"))
    # named as sound (a song's .m4a, .mp3): "cannot identify image file", as if a picture were damaged
    for name in ("song.m4a", "song.mp3"):
        (tmp_path / name).write_bytes(sound.read_bytes())
        assert main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / "out"), "-q"]) == 2
        err = capsys.readouterr().err
        assert f"{name}: it holds sound alone (a song, a recording), no picture or video: nothing to" in err, err


def test_a_video_with_transparency_says_it_is_not_kept(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A QuickTime Animation (or ProRes 4444) clip with see-through parts lost them without a word: H.264 holds no
    alpha. One whose alpha channel is opaque throughout, or that has none, says nothing."""
    for name, transparent in (("overlay.mov", 0), ("opaque.mov", 255)):
        with av.open(str(tmp_path / name), "w") as out:
            video = out.add_stream("qtrle", rate=12)
            video.width, video.height, video.pix_fmt = 32, 24, "argb"
            for i in range(3):
                pixels = np.full((24, 32, 4), (200, 80, 30, 255), np.uint8)
                pixels[:, : 8 * (i + 1), 3] = transparent
                out.mux(video.encode(av.VideoFrame.from_ndarray(pixels, format="rgba")))
            out.mux(video.encode())
    clip = make_video(tmp_path / "clip.mp4", frames=3, audio=False)
    for name in ("opaque.mov", "clip.mp4"):
        assert main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / "out" / name), "-q"]) == 0
    assert "transparency" not in caplog.text
    assert main([str(tmp_path / "overlay.mov"), "-m", str(model), "-o", str(tmp_path / "out.mov"), "-q"]) == 0
    said = "overlay.mov: its transparency is not kept: H.264 holds none, so its see-through parts show the colours"
    assert said in caplog.text and len(frames_of(tmp_path / "out.mov")) == 3 and clip.is_file()


def test_tiles_for_a_video_are_said_to_be_slow_where_its_frames_are_tiled(
    model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--tile tiles video frames over 2.4 MP, many times slower (unsaid, it had been 16x slower): said once, at the
    first frames it tiles. It had been said for any video, a 64x48 clip too, whose frames run whole as fast as
    without it."""
    import fast_style.cli.stylize

    tiny = make_video(tmp_path / "tiny.mp4", frames=3, size=(64, 48), audio=False)
    args = [str(tiny), "-m", str(model), "-q", "--tile", "64", "--batch-size", "1"]
    assert main([*args, "-o", str(tmp_path / "whole.mp4")]) == 0
    assert "--tile" not in capsys.readouterr().err
    monkeypatch.setattr(fast_style.cli.stylize, "STATS_SIZE", 40)  # frames over 1600 pixels: these are tiled
    assert main([*args, "-o", str(tmp_path / "tiled.mp4")]) == 0
    warned = "warning: --tile stylizes video frames over 2.4 MP (64x48 here) in tiles, each with a margin around it: "
    assert capsys.readouterr().err.count(warned + "many times slower;") == 1


def test_frames_too_small_for_h264_name_the_option_that_enlarges_them(model: Path, tmp_path: Path, capsys) -> None:
    """Frames under 2x2 pixels said "give a larger size", naming no option: --max-size or --scale where they
    shrank them, --scale where the video's own are (a 1x1 clip)."""
    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "o.mp4"), "--max-size", "1", "-q"]) == 2
    said = "clip.mp4: 1x1 frames are too small for H.264 (2x2 at least): give a larger --max-size or --scale\n"
    assert capsys.readouterr().err.endswith(said)
    dot = tmp_path / "dot.mov"
    with av.open(str(dot), "w") as out:  # a 1x1 clip (of PNG frames)
        stream = out.add_stream("png", rate=12)
        stream.width, stream.height, stream.pix_fmt = 1, 1, "rgb24"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((1, 1, 3), 50 * i, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    assert main([str(dot), "-m", str(model), "-o", str(tmp_path / "dot.mp4"), "-q"]) == 2
    assert capsys.readouterr().err.endswith(
        "1x1 frames are too small for H.264 (2x2 at least): enlarge them with --scale (2 doubles their sides)\n"
    )
    assert main([str(dot), "-m", str(model), "-o", str(tmp_path / "dot.mp4"), "-q", "--scale", "2"]) == 0


def test_a_video_cut_short_says_so_and_a_damaged_one_in_plain_words(
    model: Path, tmp_path: Path, capsys, caplog: pytest.LogCaptureFixture
) -> None:
    whole = make_video(tmp_path / "whole.mp4", frames=48, size=(64, 48), audio=False, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])  # the index first: it says 48 frames
    assert main([str(cut), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    capsys.readouterr()  # it had said "1 video(s) of N frames" and no more
    shown = len(frames_of(tmp_path / "out.mp4"))
    assert 0 < shown < 46 and f"cut.mp4: the video ended after {shown} of the 48 frames it declares" in caplog.text
    # damaged packets in the middle: left out, and not also said to have ended the video early
    data = bytearray(whole.read_bytes())
    with av.open(str(whole)) as c:
        packets = [(p.pos, p.size) for p in c.demux(c.streams.video[0]) if p.size]
    noise = np.random.default_rng(0)
    for pos, size in packets[20:30]:
        data[pos + 4 : pos + size] = noise.integers(0, 255, size - 4, dtype=np.uint8).tobytes()
    (tmp_path / "damaged.mp4").write_bytes(bytes(data))
    caplog.clear()
    assert main([str(tmp_path / "damaged.mp4"), "-m", str(model), "-o", str(tmp_path / "out3.mp4"), "-q"]) == 0
    assert " damaged video packet" in caplog.text and "ended after" not in caplog.text, caplog.text
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    assert main([str(junk), "-m", str(model), "-o", str(tmp_path / "out2.mp4"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot read video" in err and "Errno" not in err and "Traceback" not in err


def test_a_matroska_file_cut_before_its_first_frame_says_so(
    model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut within its header (an unfinished download), a .mkv was "Input/output error", as if the disk were failing;
    one ending before its first frame (a recording that never got one) "End of file". A file too large to be cut
    within its header is not read through to tell: FFmpeg's words."""
    import fast_style.media.video

    whole = make_video(tmp_path / "whole.mkv", frames=4, audio=False)
    (tmp_path / "cut.mkv").write_bytes(whole.read_bytes()[:300])
    with av.open(str(tmp_path / "empty.webm"), "w") as out:
        video = out.add_stream("libvpx-vp9", rate=12)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()  # its header alone
    for name in ("cut.mkv", "empty.webm"):
        assert main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 2
        said = f"error: cannot read video {tmp_path / name}: it ends before its first frame (an unfinished copy or "
        assert capsys.readouterr().err.startswith(said), name
    monkeypatch.setattr(fast_style.media.video, "_HEADER_BYTES", 299)
    assert main([str(tmp_path / "cut.mkv"), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 2
    assert capsys.readouterr().err == f"error: cannot read video {tmp_path / 'cut.mkv'}: Input/output error\n"


def test_a_picture_named_as_a_video_is_told_how_to_stylize_it(model: Path, tmp_path: Path, capsys) -> None:
    """It said "a still image, not a video: stylize it as an image" of an animated WebP named .mp4 (and of a PNG
    named .mov), which the name makes a video again: renaming is what to do."""
    frames = [Image.new("RGB", (32, 32), (40 * i, 0, 0)) for i in range(4)]
    frames[0].save(tmp_path / "clip.mp4", format="WEBP", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "still.mov", format="PNG")
    for name, said in (
        ("clip.mp4", "is an animation of 4 frames (WEBP), not a video: rename it clip.webp to stylize it as one"),
        ("still.mov", "is a still picture (PNG), not a video: rename it still.png to stylize it as one"),
    ):
        assert main([str(tmp_path / name), "-m", str(model), "-o", str(tmp_path / "out"), "-q"]) == 2
        assert capsys.readouterr().err == f"error: {tmp_path / name} {said}\n"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_a_stop_midway_leaves_no_file_and_no_thread(model: Path, tmp_path: Path, error: type) -> None:
    import threading

    from fast_style.media.video import stylize_video

    clip = make_video(tmp_path / "clip.mp4", frames=12)
    calls = []

    def stylize(frames):
        calls.append(len(frames))
        if len(calls) == 2:
            raise error("stop")
        return frames

    out = tmp_path / "out.mp4"
    with pytest.raises(error):
        stylize_video(clip, out, stylize, batch_size=2)
    assert not out.exists() and not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*"))
    assert not [t for t in threading.enumerate() if t.name in ("fast-style-decode", "fast-style-encode")]


def test_smoothing_calms_a_still_scene_and_follows_a_moving_one(tmp_path: Path) -> None:
    from fast_style.media.smoothing import TemporalSmoother

    gen = torch.Generator().manual_seed(0)
    frame = torch.rand(3, 32, 32, generator=gen)
    flicker = [frame.clone() * 0.5 + 0.5 * torch.rand(3, 32, 32, generator=gen) for _ in range(6)]  # swimming
    smoother = TemporalSmoother(0.8)
    out = [smoother.step(frame, y) for y in flicker]  # a still input: the outputs settle
    raw = np.mean([(b - a).abs().mean().item() for a, b in zip(flicker, flicker[1:])])
    calm = np.mean([(b - a).abs().mean().item() for a, b in zip(out, out[1:])])
    assert calm < 0.5 * raw
    other = torch.rand(3, 32, 32, generator=gen)  # the input changed everywhere: the new output is taken as it is
    fresh = torch.rand(3, 32, 32, generator=gen)
    assert (smoother.step(other, fresh) - fresh).abs().max() < 0.05
    assert TemporalSmoother(0.0).step(frame, flicker[0]) is flicker[0]
    small = torch.rand(3, 16, 24, generator=gen)  # a stream whose frames change size: begun afresh, no past
    assert smoother.step(small, small) is small and smoother.step(frame, fresh) is fresh
    half = TemporalSmoother(0.8)  # bf16 frames (a caller's own): lerp refused the float32 history
    assert [half.step(frame, y.bfloat16()).dtype for y in flicker[:2]] == [torch.bfloat16] * 2
    with pytest.raises(UserError, match="^smooth must be within 0..1"):
        TemporalSmoother(1.0)


def test_smoothing_follows_a_camera_pan_without_blurring(tmp_path: Path) -> None:
    """A pan moves every pixel: the gate let the frames through unsmoothed where the picture has detail and
    averaged the pan's positions into a blur where it is flat. The past frames are now moved with the picture."""
    import torch.nn.functional as F

    from fast_style.media.smoothing import TemporalSmoother, shift, warped

    def moved(x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:  # out(y, x) = x(y - dy, x - dx)
        return warped(x, torch.tensor([[1.0, 0.0, -d[1]], [0.0, 1.0, -d[0]]]))

    gen = torch.Generator().manual_seed(0)
    scene = F.avg_pool2d(torch.rand(1, 3, 96, 96, generator=gen), 3, 1, 1)[0]  # a photo with detail
    texture = torch.rand(3, 96, 96, generator=gen)  # the painted strokes on it
    pan = [torch.tensor([0.0, 3.0 * k]) for k in range(6)]  # 3 px a frame to the right
    frames = [moved(scene, d) for d in pan]
    swimming = [(moved(texture, d) + 0.3 * torch.rand(3, 96, 96, generator=gen)) / 1.3 for d in pan]
    assert shift(frames[0], frames[1]).tolist() == pytest.approx([0.0, 3.0], abs=0.05)
    smoother = TemporalSmoother(0.8)
    out = [smoother.step(f, y) for f, y in zip(frames, swimming)]

    def aligned(clip: list) -> float:  # frame k+1 against frame k moved 3 px, inside the strip both show
        return np.mean([(b[:, 8:-8, 24:-8] - a[:, 8:-8, 21:-11]).abs().mean().item() for a, b in zip(clip, clip[1:])])

    def sharpness(x: torch.Tensor) -> float:
        return (x[:, :, 24:] - x[:, :, 23:-1]).abs().mean().item()

    assert aligned(out) < 0.6 * aligned(swimming)  # calmer along the motion (1x before: let through)
    assert sharpness(out[-1]) > 0.9 * sharpness(moved(texture, pan[-1]) / 1.3)  # the strokes kept, not averaged


def test_smoothing_leaves_no_trail_inside_a_flat_moving_object() -> None:
    """The inside of a flat object barely changes as it moves, so the gate took it for still and blended the
    painted texture it carries with its last positions: copies trailed it (15 grey levels off, starry_night)."""
    import torch.nn.functional as F

    from fast_style.media.smoothing import TemporalSmoother

    gen = torch.Generator().manual_seed(0)
    scene = F.avg_pool2d(torch.rand(1, 3, 128, 128, generator=gen), 3, 1, 1)[0]
    y, x = torch.meshgrid(torch.arange(128.0), torch.arange(128.0), indexing="ij")
    smoother, off = TemporalSmoother(0.8), []
    for k in range(6):
        centre = 40 + 5 * k
        disc = (y - 64) ** 2 + (x - centre) ** 2 < 14**2  # within MOTION_REACH of its moving edges
        frame = torch.where(disc, torch.tensor([0.9, 0.85, 0.8])[:, None, None], scene)
        strokes = 0.5 + 0.4 * torch.sin((x - centre) / 1.5)  # the painting moves with the disc
        stylized = torch.where(disc, strokes.expand(3, -1, -1), scene)
        off.append((smoother.step(frame, stylized) - stylized).abs().mean(0)[disc].mean().item())
    assert max(off[1:]) < 0.02, off  # 0.15-0.2 before: the last positions' strokes blended in


def test_smoothing_leaves_no_trail_of_an_objects_painted_surroundings_on_a_flat_background() -> None:
    """A network paints a halo around an object, wider than the gate's reach; over a flat, still background (a
    cartoon, a screen recording) the history held it and it trailed the object as fading copies (24 grey levels on
    its path with wave-fast)."""
    from fast_style.media.smoothing import TemporalSmoother

    y, x = torch.meshgrid(torch.arange(144.0), torch.arange(256.0), indexing="ij")
    background = torch.tensor([0.35, 0.55, 0.8])[:, None, None].expand(3, 144, 256)
    smoother = TemporalSmoother(0.8)
    for k in range(14):
        left = 10 + 8 * k
        square = (y >= 40) & (y < 64) & (x >= left) & (x < left + 24)
        frame = torch.where(square, torch.tensor([0.85, 0.1, 0.1])[:, None, None], background)
        near = ((y - 52).abs() < 40) & ((x - left - 12).abs() < 40)  # its painted halo: 28 px around it
        stylized = torch.where(near, 0.2 * torch.ones(3, 1, 1), background).clone()
        stylized[:, square] = 0.9
        out = smoother.step(frame, stylized)
    path = (out - stylized).abs().mean(0)[20:85, : left - 40]  # where it went by, past its halo now
    assert path.max() < 0.01, path.max()  # 0.2-0.4 before
    import torch.nn.functional as F

    from fast_style.media.smoothing import within_neighbours

    history, stylized = torch.rand(3, 37, 53), torch.rand(3, 37, 53)  # its windows as max_pool2d's (7 x 7)
    low, high = -F.max_pool2d(-stylized[None], 7, 1, 3)[0], F.max_pool2d(stylized[None], 7, 1, 3)[0]
    assert torch.equal(within_neighbours(history, stylized, 7), history.clamp(low, high))


def test_smoothing_comes_back_gradually_around_a_moving_object() -> None:
    """Around a moving object the smoothing was cut off at once along the edges of 4 px blocks: where the smoothed
    texture differs from the frame's (a swimming flat sky), a straight seam showed."""
    from fast_style.media.smoothing import near_motion

    weight = torch.ones(1, 256, 256)
    weight[:, 100:140, 60:100] = 0  # what moved this frame
    near = near_motion(weight)
    assert near[:, 86:154, 46:114].max() == 0  # nor within the reach around it (16 px at 256, to half a cell)
    assert near[:, :20, :].min() > 0.99 and near[:, :, 200:].min() > 0.99  # far from it: smoothed as before
    steps = torch.cat([(near[..., 1:] - near[..., :-1]).flatten(), (near[:, 1:] - near[:, :-1]).flatten()])
    assert steps.abs().max() < 0.1  # 1 before: a seam of the whole smoothing's size


def _similar(scene: torch.Tensor, zoom: float, degrees: float, size: int = 128) -> torch.Tensor:
    """The centre of `scene` (3, S, S), magnified `zoom` and turned `degrees` about it, size px."""
    import math

    import torch.nn.functional as F

    a = math.radians(degrees)
    c, s = math.cos(a) * size / scene.shape[-1] / zoom, math.sin(a) * size / scene.shape[-1] / zoom
    theta = torch.tensor([[[c, -s, 0.0], [s, c, 0.0]]])
    grid = F.affine_grid(theta, [1, 3, size, size], align_corners=False)
    return F.grid_sample(scene[None], grid, mode="bicubic", align_corners=False)[0].clamp(0, 1)


@pytest.mark.parametrize("motion", ["zoom", "roll"])
def test_smoothing_follows_a_zoom_and_a_roll(motion: str) -> None:
    """Only a shift was followed: on a zoom or a camera roll every pixel moves a little, the gate let the strokes
    through where the picture has detail and smeared them where it is flat (starry_night on a 2%-a-frame zoom:
    flicker 3.59 -> 2.77 only). `align` fits a zoom and a roll, and the history is moved with them."""
    import math

    import torch.nn.functional as F

    from fast_style.media.smoothing import TemporalSmoother, align, shift

    gen = torch.Generator().manual_seed(0)
    scene = F.avg_pool2d(torch.rand(1, 3, 256, 256, generator=gen), 5, 1, 2)[0]  # a photo with detail
    texture = torch.rand(3, 256, 256, generator=gen)  # the painted strokes, fixed to the scene
    zoom, degrees = (1.02, 0.0) if motion == "zoom" else (1.0, 1.5)
    steps = [(zoom**k, degrees * k) for k in range(6)]
    frames = [_similar(scene, z, r) for z, r in steps]
    swimming = [(_similar(texture, z, r) + 0.4 * torch.rand(3, 128, 128, generator=gen)) / 1.4 for z, r in steps]
    m = align(frames[0], frames[1], shift(frames[0], frames[1]))  # frame 1 at p shows frame 0 at m p
    assert math.hypot(m[0, 0], m[1, 0]) == pytest.approx(1 / zoom, abs=0.002)
    assert math.degrees(math.atan2(m[1, 0], m[0, 0])) == pytest.approx(degrees, abs=0.05)
    assert m[:, 2].abs().max() < 0.1
    smoother = TemporalSmoother(0.8)
    out = [smoother.step(f, y) for f, y in zip(frames, swimming)]

    y, x = torch.meshgrid(torch.arange(128.0) - 63.5, torch.arange(128.0) - 63.5, indexing="ij")
    inside = (y**2 + x**2) < 48**2

    def aligned(clip: list) -> float:  # frame k+1 resampled onto frame k's view of the scene
        diffs = []
        for k in range(len(clip) - 1):
            b = _similar(clip[k + 1], 1 / zoom, -degrees)  # (frame k+1's scale and angle undone)
            diffs.append((b - clip[k]).abs().mean(0)[inside].mean().item())
        return float(np.mean(diffs))

    def sharpness(x: torch.Tensor) -> float:
        return ((x[:, 1:] - x[:, :-1]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean()).item()

    assert aligned(out) < 0.6 * aligned(swimming)  # calmer along the motion (0.9x and more before: let through)
    assert sharpness(out[-1]) > 0.8 * sharpness(_similar(texture, *steps[-1]) / 1.4)  # the strokes kept


def test_a_pan_is_followed_exactly_at_any_frame_size() -> None:
    """Frames shrunk for the fit by a factor that is not whole (640x360 to 256 px) came out bent (uneven "area"
    bins): a pan over sharp edges was fitted as a zoom, and painting fixed to the scene came out 2-4 grey levels off.
    The history's bicubic resampling read zeros past the frame's edge: a flat picture brightened beside a pan's new
    strip. A frame a pixel high failed."""
    import torch.nn.functional as F

    from fast_style.media.smoothing import TemporalSmoother, warped

    gen = torch.Generator().manual_seed(2)
    scene = torch.full((3, 600, 900), 0.5)
    for _ in range(40):  # sharp-edged blocks: buildings, windows
        y0, x0, hh, ww = torch.randint(0, 400, (4,), generator=gen).tolist()
        scene[:, y0 : y0 + hh // 2 + 10, x0 : x0 + ww // 2 + 10] = torch.rand(3, 1, 1, generator=gen)
    strokes = F.avg_pool2d(torch.rand(1, 3, 600, 900, generator=gen), 3, 1, 1)[0]  # painted on the scene
    smoother, off = TemporalSmoother(0.8), []
    for k in range(4):  # 3 px a frame at 640x360
        frame, painted = scene[:, 100:460, 3 * k : 3 * k + 640], strokes[:, 100:460, 3 * k : 3 * k + 640]
        off.append((smoother.step(frame, painted) - painted)[:, 8:-8, 8:-8].abs().mean().item() * 255)
    assert max(off) < 0.05, off
    flat = warped(torch.full((3, 16, 16), 0.5), torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]), "bicubic")
    assert flat.sub(0.5).abs().max() < 1e-4  # (0.547 beside the edge)
    thin = TemporalSmoother(0.8)
    for _ in range(2):
        assert thin.step(torch.rand(3, 1, 16), torch.rand(3, 1, 16)).shape == (3, 1, 16)


def test_a_pans_shift_is_found_to_a_fraction_of_a_pixel_without_waiting_on_the_device() -> None:
    """A parabola through the phase correlation's peak read 0.25 px as 0.12 (and 0.125 as none); its five reads,
    r[y, x] with 0-dim tensors, were .item()s: twelve GPU-to-host waits a frame, undoing the video pipeline."""
    import math

    from torch.utils._python_dispatch import TorchDispatchMode

    from fast_style.media.smoothing import align, shift

    gen = torch.Generator().manual_seed(0)
    fy, fx = torch.fft.fftfreq(256)[:, None], torch.fft.rfftfreq(256)[None]
    spectrum = torch.fft.rfft2(torch.randn(3, 256, 256, generator=gen)) / (fy**2 + fx**2).sqrt().clamp(min=1 / 256)

    def frame(dy: float, dx: float) -> torch.Tensor:  # a photo-like 1/f scene moved exactly by (dy, dx) px
        x = torch.fft.irfft2(spectrum * torch.exp(-2j * math.pi * (fy * dy + fx * dx)), s=(256, 256))
        return (x - x.min()) / (x.max() - x.min())

    before = frame(0, 0)
    for d in ((0.25, 0), (0, 0.5), (0.75, -0.25), (-0.5, 1.25), (2.25, 1.5), (0.125, 0), (3, 0)):
        assert shift(before, frame(*d)).tolist() == pytest.approx(d, abs=0.02), d

    class Waits(TorchDispatchMode):  # .item() and friends: where a GPU would make the host wait
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            Waits.count += "_local_scalar_dense" in str(func)
            return func(*args, **(kwargs or {}))

    with Waits():
        d = shift(before, frame(1, 2))
        m = align(before, frame(1, 2), d)  # the zoom and roll fitted after it, on the device too
    assert Waits.count == 0
    # a pan alone: no zoom or roll found, the shift kept (after(p) = before(p - d))
    assert m.flatten().tolist() == pytest.approx([1, 0, -2, 0, 1, -1], abs=0.02)


def test_smooth_and_batch_size_options(model: Path, tmp_path: Path, capsys) -> None:
    clip = make_video(tmp_path / "clip.mp4", audio=False)
    out = tmp_path / "smooth.mp4"
    assert main([str(clip), "-m", str(model), "-o", str(out), "--smooth", "0.5", "--batch-size", "3", "-q"]) == 0
    assert len(frames_of(out)) == 8
    # a still, noisy scene: --smooth calms the stylized frames' change from one to the next
    still = tmp_path / "still.mp4"
    rng = np.random.default_rng(0)
    scene = rng.integers(40, 215, (48, 64, 3))
    with av.open(str(still), "w") as f:
        video = f.add_stream("libx264", rate=12, options={"crf": "0"})
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(8):
            frame = av.VideoFrame.from_ndarray((scene + rng.normal(0, 12, scene.shape)).clip(0, 255).astype(np.uint8))
            frame.pts = i
            f.mux(video.encode(frame))
        f.mux(video.encode())
    change = {}
    for smooth in ("0", "0.8"):
        assert (
            main([str(still), "-m", str(model), "-o", str(tmp_path / f"s{smooth}.mp4"), "--smooth", smooth, "-q"]) == 0
        )
        frames = [np.asarray(image, float) for image in frames_of(tmp_path / f"s{smooth}.mp4")]
        change[smooth] = np.mean([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])
    assert change["0.8"] < 0.75 * change["0"], change  # measured 0.59x; without the smoothing 1x
    for flag, value in (("--smooth", "1"), ("--smooth", "-0.1"), ("--batch-size", "0")):
        assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "x.mp4"), flag, value, "-q"]) == 2
        assert flag in capsys.readouterr().err
    from fast_style.media.video import stylize_video

    with pytest.raises(
        UserError, match="^smooth must be within 0..1"
    ):  # said before the video is opened (it was "cannot read video")
        stylize_video(tmp_path / "missing.mp4", tmp_path / "y.mp4", lambda frames: frames, smooth=1.0)


def test_the_encoder_preset_is_the_one_asked_for(model: Path, tmp_path: Path, capsys) -> None:
    clip = make_video(tmp_path / "clip.mp4", audio=False)
    for preset, subme in (("ultrafast", b"subme=0 "), ("medium", b"subme=7 ")):  # x264 writes its settings in
        out = tmp_path / f"{preset}.mp4"
        assert main([str(clip), "-m", str(model), "-o", str(out), "--video-preset", preset, "-q"]) == 0
        assert subme in out.read_bytes() and len(frames_of(out)) == 8
    with pytest.raises(SystemExit) as stop:  # argparse's one line, before anything is loaded
        main([str(clip), "-m", str(model), "-o", str(tmp_path / "x.mp4"), "--video-preset", "quick"])
    assert stop.value.code == 2 and "invalid choice: 'quick'" in capsys.readouterr().err
    from fast_style.media.video import stylize_video

    with pytest.raises(UserError, match="unknown video preset 'quick': use one of ultrafast"):
        stylize_video(clip, tmp_path / "y.mp4", lambda frames: frames, preset="quick")
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "y.mp4").exists()


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv444p", "yuvj420p"])
def test_frames_the_yuv_path_does_not_take_are_converted_by_swscale(tmp_path: Path, pix_fmt: str) -> None:
    """On a GPU 8-bit 4:2:0 frames cross as Y'CbCr; a 10-bit or 4:4:4 one goes through swscale instead, a JPEG-range
    one (a webcam's yuvj420p) through fast_style.media.yuv read as full range: each keeps its colours."""
    from av.video.reformatter import ColorRange, Colorspace

    from fast_style.media.video import stylize_video

    colour, src = (200, 80, 30), tmp_path / f"{pix_fmt}.mkv"
    with av.open(str(src), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, pix_fmt
        video.codec_context.colorspace = Colorspace.ITU709
        video.options = {"qp": "0", "preset": "ultrafast"}
        for i in range(3):
            rgb = av.VideoFrame.from_ndarray(np.full((48, 64, 3), colour, np.uint8), format="rgb24")
            full = ColorRange.JPEG if pix_fmt == "yuvj420p" else ColorRange.MPEG
            frame = rgb.reformat(format=pix_fmt, dst_colorspace=Colorspace.ITU709, dst_color_range=full)
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
    with av.open(str(src)) as f:
        assert next(f.decode(video=0)).format.name == pix_fmt
    assert stylize_video(src, tmp_path / "out.mp4", lambda frames: frames, crf=0, convert_on_device=True) == 3
    assert np.abs(np.asarray(frames_of(tmp_path / "out.mp4")[1])[24, 32].astype(int) - colour).max() <= 4


def test_nvdec_decoding_falls_back_to_software_and_its_nv12_frames_keep_their_colours(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`decode_on_device` decodes with a CUDA device's NVDEC where FFmpeg opens one (its frames come back as nv12),
    else in software with a log line; nv12 frames cross as Y'CbCr and convert to the clip's colours."""
    from fast_style.media.video import frame_array, frames_to_tensor, open_source, stylize_video

    clip = make_video(tmp_path / "clip.mp4", audio=False, size=(64, 48))
    with caplog.at_level("WARNING"), open_source(clip, nvdec=0) as source:
        frames = list(source.decode(video=0))
    assert len(frames) == 8
    if frames[0].format.name != "nv12":  # no NVIDIA GPU here: decoded in software, and said so
        assert "clip.mp4: no NVDEC decoder" in caplog.text and "decoding in software" in caplog.text
    array, layout = frame_array(frames[3].reformat(format="nv12"), planes=True)  # the bar half way across
    assert array.shape == (72, 64) and layout[2] is True  # (H * 3/2, W), read as interleaved chroma
    rgb = frames_to_tensor([array], layout, (0, False), torch.device("cpu"))[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(rgb[24, 8] - (200, 80, 30)).max() <= 5 and np.abs(rgb[24, 56] - 30).max() <= 5
    with pytest.raises(UserError, match="needs a CUDA device"):
        stylize_video(clip, tmp_path / "out.mp4", lambda frames: frames, decode_on_device=True)
    assert not (tmp_path / "out.mp4").exists()


def _clip(
    path: Path, times_ms: list[int], sounds: tuple[tuple, ...] = (), tags: dict | None = None, sound_ms: int = 0
) -> Path:
    """H.264 frames at `times_ms` (time base 1/1000), and a second of tone from `sound_ms` per (codec,
    language[, rate]) in `sounds` (48 kHz unless given)."""
    with av.open(str(path), "w") as out:
        out.metadata.update(tags or {})
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        tracks = []
        for codec, language, *rate in sounds:
            sound = out.add_stream(codec, rate=rate[0] if rate else 48000)
            sound.options = {"strict": "experimental"}  # FFmpeg's own Vorbis encoder (stereo only)
            sound.layout = "stereo" if codec == "vorbis" else "mono"
            sound.metadata["language"] = language
            tracks.append(sound)
        held = []  # MPEG-TS refused sound before the video's first packet: muxed after the video there
        for sound in tracks:
            tone = np.sin(np.linspace(0, 880 * np.pi, sound.rate, dtype=np.float32))[None].repeat(sound.channels, 0)
            chunk = av.AudioFrame.from_ndarray(tone, format="fltp", layout=sound.layout.name)
            chunk.sample_rate = sound.rate
            if sound_ms:
                chunk.pts, chunk.time_base = sound_ms * sound.rate // 1000, Fraction(1, sound.rate)
            held += [*sound.encode(chunk), *sound.encode()]
        if path.suffix != ".ts":
            out.mux(held)
            held = []
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, video.time_base
            out.mux(video.encode(frame))
        out.mux(video.encode())
        out.mux(held)
    return path


def _flat_frames(out, video, count: int, step: int) -> None:
    """`count` flat grey frames (0, step, 2 step, ...) encoded into `video`, a stream of `out`, then its encoder
    flushed."""
    for i in range(count):
        frame = av.VideoFrame.from_ndarray(np.full((video.height, video.width, 3), step * i, np.uint8), format="rgb24")
        frame.pts = i
        out.mux(video.encode(frame))
    out.mux(video.encode())


def _times_ms(path: Path) -> list[int]:
    with av.open(str(path)) as f:
        stream = f.streams.video[0]
        return sorted(round(float(p.pts * stream.time_base) * 1000) for p in f.demux(stream) if p.pts is not None)


def test_uneven_frame_times_are_kept(model: Path, tmp_path: Path) -> None:
    # a phone's dropped frames, a screen recording: the encoder counted in 1/average rate, so two frames fell on
    # one time: an .mp4 failed at the end ("Invalid argument"), an .mkv paired frames up (0, 0, 167, 167, ...)
    times = [0, 40, 140, 200, 400, 440, 540, 600, 800, 840]
    for suffix in (".mkv", ".mp4"):
        clip = _clip(tmp_path / f"vfr{suffix}", times)
        for out in ("out.mp4", "out.mkv"):
            assert main([str(clip), "-m", str(model), "-o", str(tmp_path / out), "-q", "--force"]) == 0
            assert _times_ms(tmp_path / out) == times, (suffix, out)


def _timed_clip(path: Path, times_ms: list[int], last_ms: int) -> Path:
    """H.264 frames (no B-frames) at `times_ms`, each packet lasting until the next, the last `last_ms`."""
    from fractions import Fraction

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.codec_context.options = {"bf": "0"}
        video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        packets = []
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * (i % 12), np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            packets += video.encode(frame)
        packets += video.encode()
        ends = [*times_ms[1:], times_ms[-1] + last_ms]
        for packet in packets:
            packet.duration = ends[times_ms.index(packet.pts)] - packet.pts
            out.mux(packet)
    return path


def test_a_video_ending_on_a_held_frame_keeps_its_length(model: Path, tmp_path: Path) -> None:
    """A recording ending on a frame held 3 s (a slideshow, a screen recording) came out 0.79 s long: the encoder
    timed the last frame at the average rate. Review: Matroska grew where the last frames are further apart than the
    first (the B-frame last in decoding order was given the rest of the video), and held first frames left the last
    one a tick long. A clip of even frames keeps its length as before."""
    even = list(range(0, 660, 33))
    clips = {
        "held last": _timed_clip(tmp_path / "held_last.mp4", [0, 40, 80, 120, 160], 3000),
        "slower at the end": _timed_clip(tmp_path / "slower.mkv", [*even[:20], 1627, 2627, 3627, 4627], 33),
        "held first": _timed_clip(tmp_path / "held_first.mp4", [0, 3000, 6000, *range(6033, 6660, 33)], 33),
        "even": make_video(tmp_path / "even.mp4", frames=10, size=(64, 48), audio=False),
    }

    def seconds(path: Path) -> float:
        with av.open(str(path)) as c:
            return c.duration / 1e6

    for what, source in clips.items():
        for suffix in (".mp4", ".mkv", ".mov"):
            out = tmp_path / f"out{suffix}"
            assert main([str(source), "-m", str(model), "-o", str(out), "-q", "--force"]) == 0
            assert seconds(out) == pytest.approx(seconds(source), abs=0.002), (what, suffix)


def test_every_sound_track_its_language_and_the_files_tags_are_kept(model: Path, tmp_path: Path) -> None:
    tags = {"title": "Holiday", "creation_time": "2024-05-01T10:00:00.000000Z"}
    clip = _clip(tmp_path / "film.mkv", list(range(0, 400, 40)), (("aac", "eng"), ("libopus", "fra")), tags)
    # .mov's muxer refuses Opus though it lists it ("opus only supported in MP4"): re-encoded as AAC there
    for out, codecs in (("out.mkv", ["aac", "opus"]), ("out.mov", ["aac", "aac"]), ("out.mp4", ["aac", "opus"])):
        # (Vorbis, which MP4 players do not read, below)
        assert main([str(clip), "-m", str(model), "-o", str(tmp_path / out), "-q"]) == 0, out
        with av.open(str(tmp_path / out)) as f:
            assert [s.codec_context.name for s in f.streams.audio] == codecs, out
            assert [s.metadata.get("language") for s in f.streams.audio] == ["eng", "fra"], out
            assert {k: f.metadata.get(k) for k in tags} == tags, out
            samples = [0, 0]
            for packet in f.demux(*f.streams.audio):
                samples[f.streams.audio.index(packet.stream)] += sum(frame.samples for frame in packet.decode())
            assert min(samples) >= 47000, (out, samples)  # a second of each


def test_a_language_quicktime_knows_by_its_twin_code_is_kept_in_a_mov(model: Path, tmp_path: Path) -> None:
    """An MP4's German sound (deu) came out of a .mov without its language: FFmpeg's .mov writer keeps only the
    codes of QuickTime's list, which has German as "ger" (Matroska's code, which was kept)."""
    clip = _clip(tmp_path / "de.mp4", list(range(0, 200, 40)), (("aac", "deu"), ("aac", "ger"), ("aac", "eng")))
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "out.mov"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mov")) as f:
        assert [s.metadata.get("language") for s in f.streams.audio] == ["ger", "ger", "eng"]


def test_chapters_and_default_tracks_are_kept_and_tracks_left_out_are_named(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Chapters and which sound track plays by default were lost without a word, and so were subtitles."""
    clip = _clip(tmp_path / "film.mp4", list(range(0, 400, 40)), (("aac", "eng"), ("aac", "eng")))
    (tmp_path / "s.srt").write_text("1\n00:00:00,000 --> 00:00:00,300\nHello\n")
    Image.new("RGB", (16, 16), (200, 30, 30)).save(tmp_path / "cover.jpg")
    jpeg = (tmp_path / "cover.jpg").read_bytes()
    with av.open(str(clip)) as video, av.open(str(tmp_path / "s.srt")) as subs:
        with av.open(str(tmp_path / "full.mkv"), "w") as out:
            streams = {}
            for source in (video, subs):
                for stream in source.streams:
                    streams[(id(source), stream.index)] = made = out.add_stream_from_template(stream)
                    if stream.index == 2 and source is video:  # the second sound: the default, a commentary
                        made.disposition = av.stream.Disposition.default | av.stream.Disposition.comment
                    if source is subs:
                        made.metadata["language"] = "eng"
            out.set_chapters([{"id": 1, "start": 0, "end": 200, "time_base": Fraction(1, 1000), "metadata": {}}])
            out.add_attachment("Sub Font.ttf", "font/ttf", b"\0\1\0\0 a font")  # the subtitles' own font
            out.add_attachment("cover.jpg", "image/jpeg", jpeg)  # read back as a video
            for source in (video, subs):
                for packet in source.demux():
                    if packet.dts is not None:
                        packet.stream = streams[(id(source), packet.stream.index)]
                        out.mux(packet)
    assert main([str(tmp_path / "full.mkv"), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mkv")) as f:
        assert len(f.chapters()) == 1
        marks = [s.disposition for s in f.streams.audio]
        assert not marks[0] & av.stream.Disposition.default and marks[1] & av.stream.Disposition.comment
        # the subtitles too, Matroska into Matroska (they were dropped with a warning)
        assert [s.codec_context.name for s in f.streams.subtitles] == ["srt"]
        text = [(p.pts, bytes(p)) for p in f.demux(f.streams.subtitles[0]) if p.size]
        assert text == [(0, b"Hello")]
        # and the font they are drawn in (they showed in another: it was "1 attachment track not kept")
        assert [(a.name, a.mimetype, a.data) for a in f.streams.attachments] == [
            ("Sub Font.ttf", "font/ttf", b"\0\1\0\0 a font")
        ]
    with av.open(str(tmp_path / "out.mkv")) as f:  # and its cover picture (a video of one frame to FFmpeg)
        (cover,) = [s for s in f.streams.video if s.disposition & av.stream.Disposition.attached_pic]
        assert cover.metadata["filename"] == "cover.jpg"
        assert [bytes(p) for p in f.demux(cover) if p.size] == [jpeg]
    assert "not kept" not in caplog.text
    # an .mp4 holds no SRT: written as MP4's own text subtitles (they were dropped with a warning), with their
    # language and times; and back into .mkv as SRT
    assert main([str(tmp_path / "full.mkv"), "-m", str(model), "-o", str(tmp_path / "sub.mp4"), "-q"]) == 0
    said = "full.mkv: 1 attached file (Sub Font.ttf) not kept: .mp4 holds no attachments (write .mkv to keep them)"
    assert said in caplog.messages and "attachment track" not in caplog.text  # named: .mp4 holds none
    caplog.clear()
    assert main([str(tmp_path / "sub.mp4"), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    assert main([str(tmp_path / "out.mp4"), "-m", str(model), "-o", str(tmp_path / "again.mp4"), "-q"]) == 0
    assert main([str(tmp_path / "again.mp4"), "-m", str(model), "-o", str(tmp_path / "back.mkv"), "-q"]) == 0
    assert "not kept" not in caplog.text  # (MP4's chapters are a text track of their own, read back as data)
    for name, codec in (("sub.mp4", "mov_text"), ("again.mp4", "mov_text"), ("back.mkv", "srt")):
        with av.open(str(tmp_path / name)) as f:
            assert len(f.chapters()) == 1, name
            (sub,) = f.streams.subtitles
            assert (sub.codec_context.name, sub.metadata.get("language")) == (codec, "eng"), name
            events = [(p, sub.codec_context.decode2(p)) for p in f.demux(sub) if p.size]
            said = [
                (float(p.pts * p.time_base), float(p.duration * p.time_base), e.rects[0].dialogue) for p, e in events
            ]
            assert [event for event in said if event[2]] == [(0.0, 0.3, b"Hello")], name  # (MP4 fills gaps: empty)
        # the cover picture too: MP4's own (its covr), and attached to an .mkv again (it was "not kept" in .mp4)
        with av.open(str(tmp_path / name)) as f:
            (cover,) = [s for s in f.streams.video if s.disposition & av.stream.Disposition.attached_pic]
            assert [bytes(p) for p in f.demux(cover) if p.size] == [jpeg], name


def test_picture_subtitles_are_kept_in_matroska(model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A film's Blu-ray (PGS) and DVD subtitles are pictures, not text: copied into .mkv like SRT; PGS named as left
    out of an .mp4, which does not hold it."""
    # a PGS stream as a .sup file holds it: two display sets (a composition segment, then the set's end)
    sup = b"".join(
        b"PG" + struct.pack(">IIBH", pts, 0, kind, len(data)) + data
        for pts in (18000, 54000)  # 0.2 s and 0.6 s at 90 kHz
        for kind, data in ((0x16, struct.pack(">HHBHBBBB", 64, 48, 0x10, 1, 0x80, 0, 0, 0)), (0x80, b""))
    )
    (tmp_path / "film.sup").write_bytes(sup)
    clip = _clip(tmp_path / "clip.mkv", list(range(0, 800, 40)))
    with av.open(str(clip)) as video, av.open(str(tmp_path / "film.sup")) as pgs:
        with av.open(str(tmp_path / "film.mkv"), "w") as out:
            made = {id(s): out.add_stream_from_template(s) for s in (*video.streams, *pgs.streams)}
            dvd = out.add_stream("dvdsub")  # FFmpeg writes DVD subtitles: a packet's bytes are not checked
            dvd.time_base = Fraction(1, 1000)
            for packet in itertools.chain(video.demux(), pgs.demux()):
                if packet.size:  # (not the demuxers' empty last packets)
                    packet.stream = made[id(packet.stream)]
                    out.mux(packet)
            for t in (100, 500):
                packet = av.Packet(bytes(range(40)))
                packet.stream, packet.pts, packet.dts, packet.duration = dvd, t, t, 200
                out.mux(packet)
    assert main([str(tmp_path / "film.mkv"), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mkv")) as f:
        assert [s.codec_context.name for s in f.streams.subtitles] == ["pgssub", "dvdsub"]
        counts = [0, 0]
        for packet in f.demux(*f.streams.subtitles):
            counts[f.streams.subtitles.index(packet.stream)] += packet.size > 0
        assert counts == [2, 2]
    assert "not kept" not in caplog.text
    assert main([str(tmp_path / "film.mkv"), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mp4")) as f:  # MP4 holds DVD subtitles, not PGS
        assert [s.codec_context.name for s in f.streams.subtitles] == ["dvdsub"]
    assert "film.mkv: 1 subtitle track not kept (the subtitles' format is not one .mp4 holds" in caplog.text


def test_a_matroska_video_cut_short_says_so_and_camera_containers_are_videos(
    model: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Matroska states a length, not a frame count: half a file came out half as long, exit 0, without a word;
    .ts/.mts/.3gp were read as images ('cannot identify image file')."""
    whole = _clip(tmp_path / "whole.mkv", list(range(0, 2000, 40)))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert main([str(cut), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    assert "cut.mkv: the video ended at " in caplog.text and "of the 2.00 s it declares" in caplog.text
    caplog.clear()
    late = _clip(tmp_path / "late.mkv", list(range(500, 1500, 40)))  # whole, its video starting at 0.5 s
    for clip in (whole, late):
        assert main([str(clip), "-m", str(model), "-o", str(tmp_path / f"{clip.stem}_out.mkv"), "-q"]) == 0
    assert "ended at" not in caplog.text  # whole ones: no warning
    (tmp_path / "cam").mkdir()
    camera = _clip(tmp_path / "cam" / "cam.ts", list(range(0, 400, 40)))
    (tmp_path / "cam" / "wave.ts").write_bytes(b"PK\x03\x04 a TorchScript export, a zip")  # fast-style-export's
    assert main([str(tmp_path / "cam"), "-m", str(model), "-o", str(tmp_path / "from_camera"), "-q"]) == 0
    assert len(frames_of(tmp_path / "from_camera" / "cam.mp4")) == 10 and camera.is_file()
    assert sorted(p.name for p in (tmp_path / "from_camera").iterdir()) == ["cam.mp4"]  # the export: not a video
    assert "cam: left out 1 file that is not an image or video (.ts)" in caplog.text  # (had gone without a word)
    import fast_style.inference.plan as plan

    looked: list[str] = []  # each .ts file's first bytes read once in the search (they were read twice)
    monkeypatch.setattr(plan, "is_video", lambda f, real=plan.is_video: looked.append(Path(f).name) or real(f))
    assert [f.name for f, _ in plan.expand_inputs([str(tmp_path / "cam")])] == ["cam.ts"]
    assert sorted(looked) == ["cam.ts", "wave.ts"]
    assert [f.name for f, _ in plan.expand_inputs([str(tmp_path / "cam" / "*.ts")])] == ["cam.ts"]  # a glob too
    (tmp_path / "cam" / "notes.ts").write_text("export const a = 1;\n")  # a TypeScript source
    for name, said in (("wave.ts", "is a TorchScript export"), ("notes.ts", "is not a video: no MPEG")):
        capsys.readouterr()
        assert main([str(tmp_path / "cam" / name), "-m", str(model), "-o", str(tmp_path / "x"), "-q"]) == 2
        assert said in capsys.readouterr().err  # (had been "cannot identify image file")


def test_a_matroska_video_ending_on_a_held_frame_is_not_said_cut_short(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A whole .mkv whose last frame is held 3 s (a slideshow, a screen recording) was said to be cut short: "the
    video ended at 0.16 s of the 3.16 s it declares" (the last frame's start was compared with the video's end)."""
    clip = _timed_clip(tmp_path / "held.mkv", [0, 40, 80, 120, 160], 3000)
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    assert main([str(tmp_path / "out.mkv"), "-m", str(model), "-o", str(tmp_path / "again.mkv"), "-q"]) == 0
    assert "ended at" not in caplog.text


def test_a_warning_during_a_video_is_printed_above_the_progress_bar(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warning logged while a video's bar was drawn ("the video ended after 23 of the 96 frames it declares") was
    glued to the end of the bar's line: it now goes through tqdm.write, which prints it above the bars."""
    import logging
    import sys

    import tqdm

    written: list[str] = []
    monkeypatch.setattr(tqdm.tqdm, "write", classmethod(lambda cls, line, *args, **kwargs: written.append(line)))
    whole = _clip(tmp_path / "whole.mkv", list(range(0, 2000, 40)))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    console = logging.StreamHandler(sys.stderr)  # the command line's (logging.basicConfig: pytest has its own)
    logging.getLogger().addHandler(console)
    try:
        assert main([str(cut), "-m", str(model), "-o", str(tmp_path / "out.mkv")]) == 0
    finally:
        logging.getLogger().removeHandler(console)
    assert any(line.startswith("cut.mkv: the video ended at ") for line in written)


def test_a_program_logging_to_a_file_alone_gets_no_warning_on_its_terminal(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """main() called from a program whose log has no console (a file's handler alone): the warnings went to its
    terminal all the same, through tqdm.write (its redirection adds a console handler where there is none)."""
    import logging

    import tqdm

    written: list[str] = []
    monkeypatch.setattr(tqdm.tqdm, "write", classmethod(lambda cls, line, *args, **kwargs: written.append(line)))
    whole = _clip(tmp_path / "whole.mkv", list(range(0, 2000, 40)))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    # the program's log: a file alone, beside pytest's own handlers (a console one an earlier test's basicConfig left,
    # bound to that test's closed stream, taken out: it printed a "Logging error" with the message)
    root, log_file = logging.getLogger(), logging.FileHandler(tmp_path / "program.log")
    kept = [h for h in root.handlers if type(h).__module__.startswith("_pytest")]
    monkeypatch.setattr(root, "handlers", [*kept, log_file])
    try:
        assert main([str(cut), "-m", str(model), "-o", str(tmp_path / "out.mkv")]) == 0
    finally:
        log_file.close()
    assert not [line for line in written if "the video ended at" in line]
    assert "the video ended at" not in capsys.readouterr().err
    assert "cut.mkv: the video ended at" in (tmp_path / "program.log").read_text()


def test_a_transport_streams_clock_is_no_lead_in_and_joined_streams_play_on(model: Path, tmp_path: Path) -> None:
    """A TV recording's or a camera's .ts starts wherever its clock stood: the output began with as long an empty
    lead-in (an hour's, exit 0); two joined with `cat` jump back in time, and their sound failed the video
    ("cannot write: Invalid argument"); a Blu-ray-style stream (192-byte packets) and one cut mid-packet were
    'not a video'."""
    tone = (("mp2", "eng"),)
    late = _clip(tmp_path / "late.ts", [3_600_000 + 40 * i for i in range(25)], tone, sound_ms=3_600_000)
    for suffix in (".mp4", ".mkv"):
        out = tmp_path / f"late{suffix}"
        assert main([str(late), "-m", str(model), "-o", str(out), "-q"]) == 0
        with av.open(str(out)) as f:
            assert f.duration / 1e6 < 1.5, suffix  # the second of sound, not 3601 s
            assert [round(float(f.start_time) / 1e6, 1)] == [0.0]
        assert len(_times_ms(out)) == 25 and _times_ms(out)[0] < 100, suffix
    first = _clip(tmp_path / "a.ts", [1000 + 40 * i for i in range(10)], tone, sound_ms=1000)
    second = _clip(tmp_path / "b.ts", [40 * i for i in range(10)], tone)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    for suffix in (".mp4", ".mkv"):
        out = tmp_path / f"joined{suffix}"
        assert main([str(joined), "-m", str(model), "-o", str(out), "-q"]) == 0, suffix
        assert len(frames_of(out)) == 20
        with av.open(str(out)) as f:
            sound = [float(p.pts * p.time_base) for p in f.demux(f.streams.audio[0]) if p.pts is not None]
        assert sound == sorted(sound) and 1.9 < sound[-1] < 2.2, suffix  # both seconds of tone, one after the other
    for name, options in (("bd.ts", {"mpegts_m2ts_mode": "1"}), ("long.ts", {})):
        with av.open(str(tmp_path / name), "w", format="mpegts", options=options) as out:
            video = out.add_stream("libx264", rate=25, options={"g": "5"})  # a key frame every 5
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            _flat_frames(out, video, 40, 5)
    cut = tmp_path / "cut.ts"
    cut.write_bytes((tmp_path / "long.ts").read_bytes()[1000:])  # mid-packet, before a key frame
    for clip in (tmp_path / "bd.ts", cut):
        assert main([str(clip), "-m", str(model), "-o", str(tmp_path / f"{clip.stem}.mp4"), "-q"]) == 0, clip.name
        assert 30 <= len(frames_of(tmp_path / f"{clip.stem}.mp4")) <= 40


def test_cues_starting_together_and_chapters_keep_their_times(model: Path, tmp_path: Path) -> None:
    """Two subtitle cues starting together were taken for a jump back in time: every later cue moved by the first
    one's length (past the video's end); the chapters of a video starting late stayed where they were while the
    picture moved to 0."""
    (tmp_path / "s.srt").write_text(
        "1\n00:00:00,500 --> 00:00:02,500\nA\n\n2\n00:00:00,500 --> 00:00:02,500\nB\n\n"
        "3\n00:00:03,000 --> 00:00:03,200\nC\n"
    )
    for name, start in (("full.mkv", 0), ("late.mkv", 2000)):
        clip = _clip(tmp_path / f"v{start}.mkv", list(range(start, start + 3840, 40)))
        with av.open(str(clip)) as video, av.open(str(tmp_path / "s.srt")) as subs:
            with av.open(str(tmp_path / name), "w") as out:
                made = {id(s): out.add_stream_from_template(s) for s in (*video.streams, *subs.streams)}
                marks = [(0, 2000, "before"), (2000, 5840, "scene")] if start else []
                out.set_chapters(
                    [
                        {"id": i + 1, "start": a, "end": b, "time_base": Fraction(1, 1000), "metadata": {"title": t}}
                        for i, (a, b, t) in enumerate(marks)
                    ]
                )
                for source in (video, subs) if not start else (video,):
                    for packet in source.demux():
                        if packet.dts is not None:
                            packet.stream = made[id(packet.stream)]
                            out.mux(packet)
    assert main([str(tmp_path / "full.mkv"), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mkv")) as f:
        cues = [(float(p.pts * p.time_base), bytes(p)) for p in f.demux(f.streams.subtitles[0]) if p.size]
    # (the input's own start, its B-frames' lead, moved every time back alike); B was 2.0 s after A, C 4.5
    assert [text for _, text in cues] == [b"A", b"B", b"C"] and cues[1][0] == cues[0][0]
    assert cues[2][0] - cues[0][0] == pytest.approx(2.5)
    assert main([str(tmp_path / "late.mkv"), "-m", str(model), "-o", str(tmp_path / "late_out.mkv"), "-q"]) == 0
    with av.open(str(tmp_path / "late_out.mkv")) as f:
        chapters = [(float(c["start"] * c["time_base"]), c["metadata"].get("title")) for c in f.chapters()]
    assert chapters == [(0.0, "scene")]  # the picture starts at 0: "before" ended before it


def test_an_iphones_quicktime_tags_and_a_sound_of_unknown_codec(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An iPhone's location, make and date (QuickTime keys) were dropped from .mov/.mp4; a sound track whose codec
    FFmpeg does not know ended the run with an AttributeError's traceback."""
    tags = {"com.apple.quicktime.location.ISO6709": "+37.3349-122.0090+010.000/", "com.apple.quicktime.make": "Apple"}
    phone = tmp_path / "phone.mov"
    with av.open(str(phone), "w", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update(tags)
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        _flat_frames(out, video, 3, 50)
    for suffix in (".mov", ".mp4"):
        assert main([str(phone), "-m", str(model), "-o", str(tmp_path / f"out{suffix}"), "-q"]) == 0
        with av.open(str(tmp_path / f"out{suffix}")) as f:
            assert {k: f.metadata.get(k) for k in tags} == tags, suffix
    clip = make_video(tmp_path / "clip.avi", frames=4, codec="mpeg4", sound_codec="pcm_s16le")
    data = bytearray(clip.read_bytes())
    at = data.find(b"strf", data.find(b"auds")) + 8  # the sound's format tag: one no codec has
    data[at : at + 2] = (0x9999).to_bytes(2, "little")
    (tmp_path / "odd.avi").write_bytes(bytes(data))
    assert main([str(tmp_path / "odd.avi"), "-m", str(model), "-o", str(tmp_path / "odd.mp4"), "-q"]) == 0
    assert "odd.avi: 1 sound of an unknown codec track not kept" in caplog.text
    assert len(frames_of(tmp_path / "odd.mp4")) == 4


@pytest.mark.parametrize(
    "fmt,suffix,rate,layout", [("matroska", ".mkv", 48000, "5.1"), ("mov", ".mov", 192000, "stereo")]
)
def test_sound_made_aac_keeps_its_channels_and_any_rate(
    model: Path, tmp_path: Path, fmt: str, suffix: str, rate: int, layout: str
) -> None:
    """PCM with six channels in no named order came out as two; at 192 kHz the whole video failed ('Invalid
    argument': AAC has no such rate)."""
    src = tmp_path / f"pcm{suffix}"
    with av.open(str(src), "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        sound = out.add_stream("pcm_s16le", rate=rate)
        sound.layout = layout
        chunk = np.zeros((sound.channels, 1024), np.float32)
        for k in range(0, rate // 4, 1024):
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate, frame.pts = rate, k
            out.mux(sound.encode(frame))
        out.mux(sound.encode())
        _flat_frames(out, video, 4, 60)
    assert main([str(src), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mp4")) as f:
        (track,) = f.streams.audio
        assert track.codec_context.name == "aac" and track.channels == (6 if layout == "5.1" else 2)
        assert track.rate == min(rate, 96000)


def test_wide_pixels_are_shown_as_wide(model: Path, tmp_path: Path) -> None:
    """A DVD's 720x480 frames shown at 16:9 (pixels 32:27 wide) came out squeezed to 3:2."""
    src = tmp_path / "dvd.mpg"
    with av.open(str(src), "w", format="mpeg") as out:
        video = out.add_stream("mpeg2video", rate=25)
        video.width, video.height, video.pix_fmt = 96, 64, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(32, 27)
        _flat_frames(out, video, 6, 40)
    assert main([str(src), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    with av.open(str(tmp_path / "out.mp4")) as f:
        stream = f.streams.video[0]
        assert (stream.width, stream.height, stream.sample_aspect_ratio) == (96, 64, Fraction(32, 27))
        assert stream.display_aspect_ratio == Fraction(16, 9)


def test_vorbis_sound_becomes_aac_in_mp4_and_mov(model: Path, tmp_path: Path) -> None:
    """An .mkv's Vorbis track was copied into .mp4, where Safari and QuickTime do not play it."""
    clip = _clip(tmp_path / "film.mkv", list(range(0, 400, 40)), (("vorbis", "eng"),))
    for out, codec in (("out.mp4", "aac"), ("out.mov", "aac"), ("out.mkv", "vorbis")):
        assert main([str(clip), "-m", str(model), "-o", str(tmp_path / out), "-q"]) == 0, out
        with av.open(str(tmp_path / out)) as f:
            assert [s.codec_context.name for s in f.streams.audio] == [codec], out


def test_low_rate_mp3_a_colon_in_a_name_a_trimmed_mp4_and_a_second_camera(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An old camera's 11 kHz MP3 failed the whole video into .mp4 ("Invalid argument"); "12:30.mp4" was "Protocol
    not found"; an MP4 trimmed by an edit list (a lossless trimmer's) was "cut short or damaged?"; a second camera
    angle was named a cover picture."""
    monkeypatch.chdir(tmp_path)
    _clip(tmp_path / "12:30.mkv", list(range(0, 400, 40)), (("libmp3lame", "eng", 11025),))
    assert main(["12:30.mkv", "-m", str(model), "-o", "low.mp4", "-q"]) == 0
    with av.open("low.mp4") as f:
        assert [(s.codec_context.name, s.metadata.get("language")) for s in f.streams.audio] == [("aac", "eng")]
        assert sum(frame.samples for packet in f.demux(f.streams.audio[0]) for frame in packet.decode()) > 10000
    # an edit list that plays 0.8-1.6 s of 2 s: 20 of the 50 frames stored
    clip = make_video(tmp_path / "whole.mp4", frames=50, size=(64, 48), audio=False, rate=25)
    data = bytearray(clip.read_bytes())
    at = data.find(b"elst")
    with av.open(str(clip)) as f:
        ticks = 1 / f.streams.video[0].time_base  # the track's own
    (entries,) = struct.unpack_from(">I", data, at + 8)
    for entry in range(at + 12, at + 12 + 12 * entries, 12):  # (an empty edit first, the encoder's delay: none)
        movie, media = struct.unpack_from(">Ii", data, entry)
        struct.pack_into(">Ii", data, entry, *((0, media) if media < 0 else (800, media + int(0.8 * ticks))))
    (tmp_path / "trim.mp4").write_bytes(data)
    caplog.clear()
    assert main(["trim.mp4", "-m", str(model), "-o", "trimmed.mp4", "-q"]) == 0
    assert len(frames_of(tmp_path / "trimmed.mp4")) == 20 and "cut short" not in caplog.text
    with av.open(str(clip)) as a, av.open(str(tmp_path / "angles.mkv"), "w") as out:
        for _ in range(2):
            out.add_stream_from_template(a.streams.video[0])
        for packet in a.demux(a.streams.video[0]):
            if packet.size:
                for stream in out.streams.video:
                    copy = av.Packet(bytes(packet))
                    copy.pts, copy.dts, copy.time_base, copy.stream = packet.pts, packet.dts, packet.time_base, stream
                    copy.is_keyframe = packet.is_keyframe
                    out.mux(copy)
    assert main(["angles.mkv", "-m", str(model), "-o", "angles_out.mkv", "-q"]) == 0
    said = "angles.mkv: 1 other video track not kept (one video is stylized: its 64x48 one, stream 0, the first of"
    assert said in caplog.text


def test_the_progress_bar_counts_the_frames_played(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar's total was the container's count: an MP4 trimmed by an edit list (50 frames stored, 20 played) ended
    at 40%, and a Matroska or WebM video (no count, a length) had no total, so no time left."""
    import tqdm

    from fast_style.media.video import stylize_video

    totals = []

    class Bar(tqdm.tqdm):
        def __init__(self, *args, **kwargs) -> None:
            totals.append(kwargs["total"])
            super().__init__(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    clip = make_video(tmp_path / "whole.mp4", frames=50, size=(64, 48), audio=False, rate=25)
    data = bytearray(clip.read_bytes())  # an edit list that plays 0.8-1.6 s of 2 s, as in the test above
    at = data.find(b"elst")
    with av.open(str(clip)) as f:
        ticks = 1 / f.streams.video[0].time_base
    (entries,) = struct.unpack_from(">I", data, at + 8)
    for entry in range(at + 12, at + 12 + 12 * entries, 12):
        movie, media = struct.unpack_from(">Ii", data, entry)
        struct.pack_into(">Ii", data, entry, *((0, media) if media < 0 else (800, media + int(0.8 * ticks))))
    (tmp_path / "trim.mp4").write_bytes(data)
    mkv = _clip(tmp_path / "clip.mkv", list(range(0, 480, 40)))
    sources = (clip, tmp_path / "trim.mp4", mkv)
    played = [stylize_video(src, tmp_path / f"{src.stem}_out.mp4", lambda x: x, progress=True) for src in sources]
    assert played == [50, 20, 12] and totals == played


def test_an_avi_of_uneven_frame_times_is_whole(model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An AVI keeps a frame's place for each frame left out (a screen recording's, FFmpeg's for uneven times): its
    count of 41 for 20 frames said a whole file was cut short or damaged."""
    ticks = [0, 1, 2, 3, 5, 8, 9, 10, 15, 16, 17, 18, 20, 21, 22, 30, 31, 32, 33, 40]  # in 1/30 s
    with av.open(str(tmp_path / "vfr.avi"), "w") as out:
        video = out.add_stream("mjpeg", rate=30)
        video.width, video.height, video.pix_fmt = 64, 48, "yuvj420p"
        for i, t in enumerate(ticks):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 30)
            out.mux(video.encode(frame))
        out.mux(video.encode())
    with av.open(str(tmp_path / "vfr.avi")) as f:
        assert f.streams.video[0].frames > 2 * len(ticks)  # (as the container counts them)
    assert main([str(tmp_path / "vfr.avi"), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    assert len(frames_of(tmp_path / "out.mp4")) == len(ticks) and "cut short" not in caplog.text


def test_a_video_named_as_a_picture_says_to_rename_it(model: Path, tmp_path: Path, capsys) -> None:
    """-o x.mp4 said it was no video ("an image is written as ..."), -o x.jpg "cannot identify image file"."""
    from .conftest import make_photo

    clip = make_video(tmp_path / "clip.mp4", frames=4, size=(64, 48), audio=False)
    clip.rename(tmp_path / "clip.jpg")
    for out in ("x.mp4", "x.jpg"):
        assert main([str(tmp_path / "clip.jpg"), "-m", str(model), "-o", str(tmp_path / out), "-q"]) == 2, out
        assert "clip.jpg: it is a video named as a picture: rename it clip.mp4" in capsys.readouterr().err, out
    make_photo(tmp_path / "photo.jpg")  # pictures FFmpeg reads too (an AVIF in an MP4's boxes): not videos
    Image.open(tmp_path / "photo.jpg").save(tmp_path / "photo.avif")
    for photo in ("photo.jpg", "photo.avif"):
        assert main([str(tmp_path / photo), "-m", str(model), "-o", str(tmp_path / "x.mp4"), "-q"]) == 2
        assert "is not a video: an image is written as" in capsys.readouterr().err, photo


def test_cover_art_is_not_taken_for_the_film() -> None:
    """FFmpeg shows an attached cover picture as a video stream, sometimes the first: that one-frame 'video' was
    stylized instead of the film, or a song with a cover taken for a video."""
    from types import SimpleNamespace

    from fast_style.media.video import main_video

    def stream(width: int, height: int, disposition: int = 0) -> SimpleNamespace:
        return SimpleNamespace(disposition=av.stream.Disposition(disposition), width=width, height=height)

    cover = stream(600, 600, av.stream.Disposition.attached_pic)
    film = stream(64, 48, av.stream.Disposition.default)
    assert main_video([cover, film]) is film and main_video([film]) is film
    assert main_video([cover]) is None and main_video([]) is None
    # the video FFmpeg picks (ffmpeg -i in.mkv out.mp4), not the first: a small preview before the film was stylized
    preview, big = stream(320, 180), stream(1920, 1080)
    assert main_video([preview, big]) is big
    default = stream(320, 180, av.stream.Disposition.default)  # a default one counts 5,000,000 pixels more
    assert main_video([big, default]) is default and main_video([default, stream(3840, 2160)]).width == 3840
    twin = stream(1920, 1080)
    assert main_video([big, twin]) is big  # alike: the first
    from fast_style.media.video import _which_video

    # and the warning naming the others says why it is the one stylized (only "the first of" had been tested)
    poster = stream(3000, 3000, av.stream.Disposition.attached_pic)  # a cover of more pixels: no film, not counted
    small = stream(32, 32)
    for index, s in enumerate((cover, film, preview, big, default, twin, poster, small)):
        s.index = index
    reasons = [
        _which_video(big, [preview, poster]),
        _which_video(default, [big]),
        _which_video(big, [twin]),
        _which_video(preview, [small], [big]),  # an empty larger track passed over: FFmpeg would have taken it
        _which_video(big, [preview], [small]),  # a smaller empty one: FFmpeg picks the same
    ]
    assert reasons == [
        "its 1920x1080 one, stream 3, the largest, as FFmpeg picks",
        "its 320x180 one, stream 4, the one marked default, as FFmpeg picks",
        "its 1920x1080 one, stream 3, the first of the largest, as FFmpeg picks",
        "its 320x180 one, stream 2, the largest of the tracks with frames, not FFmpeg's pick, stream 3, which holds "
        "none",
        "its 1920x1080 one, stream 3, the largest, as FFmpeg picks",
    ]


def test_a_damaged_subtitle_cue_is_left_out_not_the_video(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # one cut-short mov_text sample failed the whole video ("cannot decode bad.mp4 (frame 2)")
    clip = make_video(tmp_path / "clip.mp4", frames=12, audio=False)
    with av.open(str(clip)) as a, av.open(str(tmp_path / "bad.mp4"), "w") as out:
        video = out.add_stream_from_template(a.streams.video[0])
        text = out.add_stream("mov_text")
        text.time_base = Fraction(1, 1000)
        text.codec_context.subtitle_header = b"[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
        for packet in a.demux(a.streams.video[0]):
            if packet.size:
                packet.stream = video
                out.mux(packet)
        for t, sample in ((0, b"\x00\x02hi"), (300, b"\x00"), (600, b"\x00\x02yo")):
            cue = av.Packet(sample)
            cue.stream, cue.pts, cue.dts, cue.duration = text, t, t, 200
            out.mux(cue)
    assert main([str(tmp_path / "bad.mp4"), "-m", str(model), "-o", str(tmp_path / "out.mkv"), "-q"]) == 0
    assert caplog.text.count("subtitles at 0.3 s cannot be decoded") == 1
    with av.open(str(tmp_path / "out.mkv")) as f:
        (sub,) = f.streams.subtitles
        said = [sub.codec_context.decode2(p).rects[0].dialogue for p in f.demux(sub) if p.size]
        assert [re.sub(rb"\{[^}]*\}", b"", line) for line in said] == [b"hi", b"yo"]  # (less its font tags)


def test_frames_that_change_size_part_way_are_fitted_whole_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two transport streams of different sizes joined with `cat`: the second's 96x48 frames had been stretched to
    the first's 64x48 without a word (a centred square came out as a narrow oblong)."""
    from fast_style.media.video import stylize_video

    def clip(path: Path, width: int, start: int) -> bytes:
        with av.open(str(path), "w", format="mpegts") as out:
            video = out.add_stream("libx264", rate=25)
            video.width, video.height, video.pix_fmt = width, 48, "yuv420p"
            for i in range(4):
                img = np.full((48, width, 3), 40, np.uint8)
                img[12:36, width // 2 - 12 : width // 2 + 12] = (220, 220, 220)  # a 24 px square in the middle
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = start + i
                out.mux(video.encode(frame))
            out.mux(video.encode())
        return path.read_bytes()

    joined = tmp_path / "joined.ts"
    joined.write_bytes(clip(tmp_path / "a.ts", 64, 0) + clip(tmp_path / "b.ts", 96, 4))
    assert stylize_video(joined, tmp_path / "out.mp4", lambda x: x, batch_size=3) == 8
    assert "joined.ts: the frames change size at 0.16 s (joined clips?): 96x48 ones are fitted into the video's " in (
        caplog.text
    )
    last = np.asarray(frames_of(tmp_path / "out.mp4")[-1], float)
    assert last.shape == (48, 64, 3)
    assert last[:6].mean() < 25 and last[-6:].mean() < 25  # black bars above and below, none at the sides
    row = last[24, :, 0] > 130  # the square, at 2/3 of its size: 16 px wide, in the middle, not 10 px
    assert 14 <= row.sum() <= 18 and row[30:34].all()


def test_a_matroska_video_damaged_part_way_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Zeros over the middle of an .mkv: FFmpeg skips to the next cluster and conceals the rest, raising nothing; the
    video came out 8 frames short and smeared, exit 0, without a word."""
    from fast_style.media.video import stylize_video

    rng = np.random.default_rng(0)
    whole = tmp_path / "whole.mkv"
    with av.open(str(whole), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        video.codec_context.options = {"g": "10"}
        for i in range(40):  # noise: frames of some size, the damage inside one
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
    data = bytearray(whole.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 1500] = bytes(1500)
    (tmp_path / "damaged.mkv").write_bytes(data)
    assert stylize_video(whole, tmp_path / "whole.mp4", lambda x: x) == 40
    assert "damaged" not in caplog.text
    assert stylize_video(tmp_path / "damaged.mkv", tmp_path / "out.mp4", lambda x: x) < 40
    # (x264's threads make the encoded file differ run to run: the zeros land on another frame)
    said = r"damaged\.mkv is damaged: (1 frame|\d+ frames) decoded from broken data, the first at \d+\.\d\d s \("
    assert re.search(said, caplog.text), caplog.text


def test_a_tag_too_long_for_a_mov_is_left_out_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """FFmpeg's .mov writer counts a tag's bytes in 16 bits: a 70,000-byte description came out as its first 4,464
    bytes without a word. An .mp4 keeps it whole; so does a .mov of an iPhone's clip, whose tags are written as
    QuickTime keys."""
    from fast_style.media.video import stylize_video

    long = "x" * 70_000
    clip = _clip(tmp_path / "long.mkv", [0, 40, 80], tags={"title": "short", "comment": long})
    iphone = tmp_path / "iphone.mov"
    with av.open(str(iphone), "w", options={"movflags": "use_metadata_tags"}) as out:  # as an iPhone writes them
        out.metadata.update({"com.apple.quicktime.make": "Apple", "comment": long})
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        _flat_frames(out, video, 3, 10)

    def tags(path: Path) -> dict:
        with av.open(str(path)) as f:
            return {k.lower(): v for k, v in f.metadata.items()}

    assert stylize_video(clip, tmp_path / "out.mov", lambda x: x) == 3
    assert "comment" not in tags(tmp_path / "out.mov") and tags(tmp_path / "out.mov")["title"] == "short"
    assert "long.mkv: its COMMENT tag (70000 bytes) is not kept: .mov holds tags of up to 65535 bytes" in caplog.text
    caplog.clear()
    assert stylize_video(clip, tmp_path / "out.mp4", lambda x: x) == 3
    assert stylize_video(iphone, tmp_path / "iphone_out.mov", lambda x: x) == 3
    assert tags(tmp_path / "out.mp4")["comment"] == long == tags(tmp_path / "iphone_out.mov")["comment"]
    assert "not kept" not in caplog.text
    # tags not of the MP4 or MOV writer's list were lost without a word (an .mkv's CUSTOM_KEY, DESCRIPTION in a .mov)
    own = _clip(tmp_path / "own.mkv", [0, 40], tags={"title": "t", "CUSTOM_KEY": "c", "DESCRIPTION": "d"})
    for out, said in (
        ("own.mp4", "own.mkv: 1 tag not kept (CUSTOM_KEY): .mp4 holds only tags of its own list (write .mkv to keep"),
        ("own.mov", "own.mkv: 2 tags not kept (CUSTOM_KEY, DESCRIPTION): .mov holds only tags of its own list (write "),
    ):
        assert stylize_video(own, tmp_path / out, lambda x: x) == 2
        assert said in caplog.text
    assert tags(tmp_path / "own.mp4")["description"] == "d"
    caplog.clear()
    assert stylize_video(own, tmp_path / "own_out.mkv", lambda x: x) == 2
    assert tags(tmp_path / "own_out.mkv")["custom_key"] == "c" and "not kept" not in caplog.text
    avi = make_video(tmp_path / "w.avi", frames=2, size=(32, 32), audio=False, codec="mpeg4")  # its writer's software
    assert stylize_video(avi, tmp_path / "w.mp4", lambda x: x) == 2 and "not kept" not in caplog.text
    # an Android phone's OS version and capture rate were said lost from every phone video; its camera is said
    phone = tmp_path / "pixel.mp4"
    with av.open(str(phone), "w", options={"movflags": "use_metadata_tags"}) as out:  # as a phone writes them
        out.metadata.update({"com.android.version": "14", "com.android.capture.fps": "30.000000"})
        out.metadata.update({"com.android.manufacturer": "Google", "com.android.model": "Pixel 8"})
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        _flat_frames(out, video, 2, 10)
    assert stylize_video(phone, tmp_path / "pixel_out.mp4", lambda x: x) == 2
    said = "pixel.mp4: 2 tags not kept (com.android.manufacturer, com.android.model): .mp4 holds only tags of its own "
    assert said + "list (write .mkv or .mov to keep them)" in caplog.text
    caplog.clear()  # a .mov holds them as its make and model (they were lost there too)
    assert stylize_video(phone, tmp_path / "pixel_out.mov", lambda x: x) == 2 and "not kept" not in caplog.text
    camera = tags(tmp_path / "pixel_out.mov")
    assert (camera["make"], camera["model"]) == ("Google", "Pixel 8")
    # an MXF's clip name was lost without a word, and its date (its writer's name and ids are not said)
    mxf = tmp_path / "cam.mxf"
    with av.open(str(mxf), "w") as out:
        out.metadata.update({"material_package_name": "A001C003", "creation_time": "2024-05-01T10:00:00Z"})
        video = out.add_stream("mpeg2video", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        _flat_frames(out, video, 2, 10)
    caplog.clear()
    assert stylize_video(mxf, tmp_path / "mxf_out.mov", lambda x: x) == 2
    assert "cam.mxf: 1 tag not kept (material_package_name): .mov holds only tags" in caplog.text
    assert tags(tmp_path / "mxf_out.mov")["creation_time"].startswith("2024-05-01T10:00:00")
    # an MP4's location is read back as location and location-eng too: that twin was said not kept
    from fast_style.media.video import _held

    twins = {"location": "+48.85+002.29/", "location-eng": "+48.85+002.29/", "title": "a", "title-fra": "b"}
    assert [_held(k, twins, "mp4") for k in twins] == [True, True, True, False]


def test_a_folder_as_the_output_is_refused_before_the_work(tmp_path: Path) -> None:
    # it failed after the whole video, in os.replace's words naming a temporary file
    from fast_style.media.video import stylize_video

    clip = make_video(tmp_path / "clip.mp4", frames=4, audio=False)
    (tmp_path / "d.mp4").mkdir()
    calls = []
    with pytest.raises(UserError, match="d.mp4: it is a folder; give a file's name"):
        stylize_video(clip, tmp_path / "d.mp4", lambda frames: calls.append(len(frames)) or frames)
    assert not calls


def test_the_default_batch_follows_the_device(tmp_path: Path) -> None:
    """The video batch's default (1 frame a call on the CPU, 4 on a GPU) was the CLI's alone: from Python
    stylize_video and stylize_files batched 4 frames a call on the CPU too."""
    from fast_style.inference.batch import stylize_files
    from fast_style.media.video import default_batch, stylize_video

    assert default_batch(torch.device("cuda", 1)) == 4 and default_batch(torch.device("cpu")) == 1

    clip = make_video(tmp_path / "clip.mp4", frames=5, audio=False)
    calls: list[int] = []

    def stylize(frames: torch.Tensor) -> torch.Tensor:
        calls.append(len(frames))
        return frames

    assert stylize_video(clip, tmp_path / "a.mp4", stylize) == 5 and calls == [1] * 5
    calls.clear()
    stylize_files([(clip, tmp_path / "b.mp4")], lambda images: images, stylize_frames=stylize)
    assert calls == [1] * 5
    calls.clear()
    assert stylize_video(clip, tmp_path / "c.mp4", stylize, batch_size=4) == 5 and calls == [4, 1]
    calls.clear()  # 2.5 never filled a batch: the whole video in one call, however long; '3' a TypeError inside
    for odd in (2.5, 0):
        with pytest.raises(UserError, match=rf"video batch size .* must be a whole number >= 1, got {odd!r}"):
            stylize_video(clip, tmp_path / "e.mp4", stylize, batch_size=odd)
    with pytest.raises(TypeError, match=r"video batch size .* must be a whole number >= 1, not '3'"):  # no number
        stylize_video(clip, tmp_path / "e.mp4", stylize, batch_size="3")
    assert not calls and not (tmp_path / "e.mp4").exists()


def test_a_video_that_failed_counts_no_pixels_in_the_summary(tmp_path: Path) -> None:
    """A full disk stopped the second video after its frames were handed to the encoder: the summary counted them
    ("1 video(s) of 5 frames, 0.07 MP" for the first's 0.02 MP)."""
    from fast_style.inference.batch import stylize_files

    clips = [make_video(tmp_path / f"{name}.mp4", frames=5, audio=False) for name in "ab"]
    seen: list[int] = []

    def stylize(frames: torch.Tensor) -> torch.Tensor:
        seen.append(len(frames))
        if len(seen) == 8:  # the second video's third frame
            raise RuntimeError("can't allocate memory")  # (a failure that goes on to the next file)
        return frames

    errors: list[str] = []
    plans = [(c, tmp_path / "out" / c.name) for c in clips]
    report = stylize_files(plans, lambda images: images, stylize_frames=stylize, on_error=errors.append)
    assert report.videos == 1 and report.failed == 1 and report.frames == 5 and len(errors) == 1
    assert report.megapixels == pytest.approx(5 * 66 * 50 / 1e6)  # the first video's frames alone


def test_a_damaged_sound_packet_of_a_file_cut_short_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A download stopped halfway (an MP4 with its index first): its last sound packet, marked damaged by FFmpeg,
    was copied as a good one, and the output's sound failed to decode there; decoded (PCM into .mp4, written as
    AAC), it failed the whole video."""
    for clip, written in (
        (make_video(tmp_path / "clip.mp4", frames=40, audio=True), ".mp4"),  # the sound copied
        (_clip(tmp_path / "pcm.mov", list(range(0, 1600, 40)), (("pcm_s16le", "eng"),)), ".mp4"),  # decoded
    ):
        _cut_short_stylized(clip, written, tmp_path, caplog)


def _cut_short_stylized(clip: Path, written: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from fast_style.media.video import stylize_video

    caplog.clear()
    whole = tmp_path / f"index_first{clip.suffix}"
    with av.open(str(clip)) as src, av.open(str(whole), "w", options={"movflags": "faststart"}) as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    cut = tmp_path / f"cut{clip.suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with av.open(str(cut)) as c:
        if not any(p.is_corrupt for p in c.demux() if p.stream.type == "audio"):  # (PyAV 18's FFmpeg marks it)
            pytest.skip("this FFmpeg marks no sound packet of the cut file damaged")
    out = tmp_path / f"out{written}"
    stylize_video(cut, out, lambda frames: frames, force=True)  # (decoded, it failed the whole video)
    assert "audio at" in caplog.text and "is damaged (a file cut short?): left out" in caplog.text
    with av.open(str(out)) as c:
        for frame in c.decode(audio=0):  # every packet decodes (it raised InvalidDataError at the last)
            assert frame.samples > 0


def test_windows_media_flash_and_dvd_videos_are_videos(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    """A .wmv, .flv or .vob, which FFmpeg reads, was said to be "not images or videos" in a folder and, named
    outright, "cannot identify image file"; one named as a picture was not told its name either."""
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, codec, fmt in (("a.wmv", "wmv2", "asf"), ("b.flv", "flv", "flv"), ("c.vob", "mpeg2video", "vob")):
        with av.open(str(clips / name), "w", format=fmt) as out:
            video = out.add_stream(codec, rate=25)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            for i in range(3):
                out.mux(video.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * i, np.uint8))))
            out.mux(video.encode())
    assert main([str(clips / "a.wmv"), "-m", str(model), "-o", str(tmp_path / "one"), "-q"]) == 0
    assert len(frames_of(tmp_path / "one" / "a.mp4")) == 3
    assert main([str(clips), "-m", str(model), "-o", str(tmp_path / "all"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    assert "left out" not in caplog.text
    (clips / "b.flv").rename(clips / "b.jpg")
    capsys.readouterr()
    assert main([str(clips / "b.jpg"), "-m", str(model), "-o", str(tmp_path / "b_out.jpg"), "-q"]) == 2
    assert "rename it b.flv" in capsys.readouterr().err


def test_a_camcorders_mod_and_tod_files_are_videos_and_a_music_module_is_not(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    """A JVC or Panasonic camcorder's .MOD (MPEG program stream) and .TOD (transport stream) were "not images or
    videos" in a folder and, named outright, "a video named as a picture: rename it"; a tracker's music module
    (.mod) beside them stays no video."""
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, fmt in (("MOV001.MOD", "vob"), ("MOV002.TOD", "mpegts")):
        with av.open(str(clips / name), "w", format=fmt) as out:
            video = out.add_stream("mpeg2video", rate=25)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            _flat_frames(out, video, 10, 20)  # (3 in a transport stream: too few packets for FFmpeg to read)
    (clips / "song.mod").write_bytes(b"a tracker module".ljust(1084, b"\0") + b"M.K.")
    assert main([str(clips / "MOV001.MOD"), "-m", str(model), "-o", str(tmp_path / "one"), "-q"]) == 0
    assert len(frames_of(tmp_path / "one" / "MOV001.mp4")) == 10
    assert main([str(clips), "-m", str(model), "-o", str(tmp_path / "all"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["MOV001.mp4", "MOV002.mp4"]
    assert "clips: left out 1 file that is not an image or video (.mod)" in caplog.text
    capsys.readouterr()
    assert main([str(clips / "song.mod"), "-m", str(model), "-o", str(tmp_path / "x"), "-q"]) == 2
    assert "song.mod is not a video: no MPEG program stream in it" in capsys.readouterr().err
    for name in ("empty.ts", "empty.mod"):  # (a recording that failed: "no MPEG transport stream packets in it")
        (clips / name).write_bytes(b"")
        assert main([str(clips / name), "-m", str(model), "-o", str(tmp_path / "x"), "-q"]) == 2
        assert capsys.readouterr().err == f"error: cannot read video {clips / name}: an empty file (0 bytes)\n"
    # in a folder too, as an empty .mp4 beside them: they had been left out as "not an image or video"
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("a.mp4", "b.ts", "c.mod"):
        (empty / name).write_bytes(b"")
    caplog.clear()
    assert main([str(empty), "-m", str(model), "-o", str(tmp_path / "y"), "-q"]) == 2
    assert "left out" not in caplog.text
    err = capsys.readouterr().err
    for name in ("a.mp4", "b.ts", "c.mod"):
        assert f"error: cannot read video {empty / name}: an empty file (0 bytes)" in err


def test_a_dv_camera_file_keeps_its_frame_rate(model: Path, tmp_path: Path) -> None:
    """A raw DV file's average rate is its time base's 60000: the MP4 muxer refused it ("Invalid argument: ... .tmp
    returned 22"), and a .dv file was "not images or videos" besides."""
    with av.open(str(tmp_path / "tape.dv"), "w", format="dv") as out:
        video = out.add_stream("dvvideo", rate=25)
        video.width, video.height, video.pix_fmt = 720, 576, "yuv420p"  # (DV's own size)
        for i in range(3):
            out.mux(video.encode(av.VideoFrame.from_ndarray(np.full((576, 720, 3), 60 * i, np.uint8))))
        out.mux(video.encode())
    args = ["-m", str(model), "--max-size", "96", "-q"]
    assert main([str(tmp_path / "tape.dv"), "-o", str(tmp_path / "tape.mp4"), *args]) == 0
    with av.open(str(tmp_path / "tape.mp4")) as f:
        assert f.streams.video[0].average_rate == 25
        assert [round(float(frame.time), 2) for frame in f.decode(video=0)] == [0, 0.04, 0.08]


def test_a_fast_clips_timecode_does_not_fail_an_mp4(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A clip over 255 frames/s with a timecode (a slow-motion camera's) failed as its .mp4 closed, after all the
    work: "Invalid argument: '...tmp' returned 22" (MP4's timecode track counts at most 255 frames a second)."""
    with av.open(str(tmp_path / "fast.mkv"), "w") as out:
        out.metadata["timecode"] = "01:00:00:00"
        video = out.add_stream("libx264", rate=300)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            out.mux(video.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * i, np.uint8))))
        out.mux(video.encode())
    for name in ("fast.mp4", "fast.mov"):
        assert main([str(tmp_path / "fast.mkv"), "-m", str(model), "-o", str(tmp_path / name), "-q"]) == 0
        assert len(frames_of(tmp_path / name)) == 3
    assert "fast.mkv: its timecode is not kept: .mp4 holds none over 255 frames/s" in caplog.text
    assert main([str(tmp_path / "fast.mkv"), "-m", str(model), "-o", str(tmp_path / "fast_out.mkv"), "-q"]) == 0
    with av.open(str(tmp_path / "fast_out.mkv")) as f:
        assert f.metadata.get("TIMECODE") == "01:00:00:00"  # kept where it can be


def test_a_cameras_timecode_track_is_kept(model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A .mov's or .mp4's timecode is a track of its own (tmcd), read as a tag of the video, not of the file: it was
    lost, said as "1 data track not kept"."""
    with av.open(str(tmp_path / "camera.mov"), "w") as out:
        out.metadata["timecode"] = "01:00:00:00"  # (FFmpeg writes it as its own track)
        video = out.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _flat_frames(out, video, 3, 60)
    with av.open(str(tmp_path / "camera.mov")) as f:
        assert "timecode" not in f.metadata and [s.type for s in f.streams] == ["video", "data"]
    for name in ("out.mp4", "out.mov", "out.mkv"):
        assert main([str(tmp_path / "camera.mov"), "-m", str(model), "-o", str(tmp_path / name), "-q"]) == 0
        with av.open(str(tmp_path / name)) as f:
            tags = {**f.metadata, **f.streams.video[0].metadata}
            assert tags.get("timecode", tags.get("TIMECODE")) == "01:00:00:00", name
    assert "not kept" not in caplog.text


def test_a_file_ffmpeg_cannot_finish_is_said_of_the_output(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure as FFmpeg closed the output (here MP4's timecode of a 300 frames/s clip, kept on purpose) was said
    of the input, by the output's temporary name: "fast.mkv: Invalid argument: '.../.fast.mp4.x1y2.tmp'"."""
    import fast_style.media.video

    monkeypatch.setattr(fast_style.media.video, "_key", lambda tags, name: None)  # the timecode kept: MP4 refuses it
    with av.open(str(tmp_path / "fast.mkv"), "w") as out:
        out.metadata["timecode"] = "01:00:00:00"
        video = out.add_stream("libx264", rate=300)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        out.mux(video.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8))))
        out.mux(video.encode())
    assert main([str(tmp_path / "fast.mkv"), "-m", str(model), "-o", str(tmp_path / "fast.mp4"), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot write {tmp_path / 'fast.mp4'}: FFmpeg could not finish it (Invalid argument)" in err
    assert ".tmp" not in err and sorted(p.name for p in tmp_path.iterdir()) == ["fast.mkv", "style.pt"]


def test_a_stylize_that_returns_other_than_three_channels_is_named(tmp_path: Path) -> None:
    # one channel back failed in the encoder's words: "Unexpected numpy array shape `(50, 66, 1)`"
    from fast_style.media.video import stylize_video

    clip = make_video(tmp_path / "clip.mp4", frames=2, audio=False)
    with pytest.raises(RuntimeError, match=r"stylize returned \(1, 1, 50, 66\) for \(1, 3, 50, 66\) frames"):
        stylize_video(clip, tmp_path / "out.mp4", lambda x: x[:, :1], batch_size=1)
    assert not (tmp_path / "out.mp4").exists()


def test_numpy_whole_numbers_are_taken_for_crf_batch_size_and_quality(tmp_path: Path) -> None:
    """np.int64 (a sweep's np.arange) had been refused: "crf must be a whole number within 0..51, got np.int64(0)";
    numpy's bools are not numbers."""
    from fast_style.media.animation import stylize_animation
    from fast_style.media.video import stylize_video

    clip = make_video(tmp_path / "clip.mp4", frames=3, audio=False)
    sizes = []

    def stylize(frames):
        sizes.append(len(frames))
        return frames

    assert stylize_video(clip, tmp_path / "out.mp4", stylize, crf=np.int64(0), batch_size=np.int64(2)) == 3
    assert sizes == [2, 1]
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("black", "red")]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    got = stylize_animation(
        tmp_path / "a.gif", tmp_path / "o.webp", stylize, quality=np.uint8(80), batch_size=np.int32(1)
    )
    assert got == (2, 8, 8)
    with pytest.raises(TypeError, match=r"crf must be a whole number within 0\.\.51 .*, not np\.True_"):
        stylize_video(clip, tmp_path / "b.mp4", stylize, crf=np.True_)


def test_y4m_and_raw_h264_and_hevc_streams_are_videos_timed_at_their_own_rate(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A .y4m, .h264 or .hevc (an encoder's raw output) was "not an image or video" in a folder and, named outright,
    "cannot identify image file"; a raw stream's rate is its own (FFmpeg's average is its default 25: a 30 frames/s
    clip came out 1.2x as long), or FFmpeg's guess where it states none, said so."""
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, fmt, codec, options in (
        ("a.y4m", "yuv4mpegpipe", "rawvideo", {}),
        ("b.h264", "h264", "libx264", {}),
        ("c.hevc", "hevc", "libx265", {"x265-params": "vui-timing-info=0:log-level=none"}),  # no rate stated
    ):
        with av.open(str(clips / name), "w", format=fmt) as out:
            video = out.add_stream(codec, rate=30, options=options)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            _flat_frames(out, video, 6, 30)
    assert main([str(clips), "-m", str(model), "-o", str(tmp_path / "all"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["a.mp4", "b.mp4", "c.mp4"]
    for name, rate in (("a", 30), ("b", 30), ("c", 25)):
        with av.open(str(tmp_path / "all" / f"{name}.mp4")) as f:
            assert (f.streams.video[0].average_rate, f.streams.video[0].frames) == (rate, 6), name
    assert "c.hevc: the stream states no frame rate: it is timed at 25 frames/s, FFmpeg's guess" in caplog.text
    assert "b.h264: the stream states" not in caplog.text
    from fast_style.media.video import stylize_video

    (clips / "b.h264").write_bytes(b"")  # (a raw stream's demuxer opens an empty file: "holds no decodable frames")
    with pytest.raises(UserError, match=r"cannot read video .*b\.h264: an empty file \(0 bytes\)$"):
        stylize_video(clips / "b.h264", tmp_path / "b.mp4", lambda x: x)
    # a .y4m cut inside its header was "Invalid argument", one cut inside its first frame "holds no decodable frames"
    y4m = (clips / "a.y4m").read_bytes()
    (clips / "head.y4m").write_bytes(y4m[:20])
    with pytest.raises(UserError, match=r"head\.y4m: it ends inside its Y4M header: the file looks cut short"):
        stylize_video(clips / "head.y4m", tmp_path / "h.mp4", lambda x: x)
    (clips / "frame.y4m").write_bytes(y4m[: y4m.index(b"FRAME") + 100])
    with pytest.raises(UserError, match=r"frame\.y4m holds no whole frame: it ends inside its first one, the file"):
        stylize_video(clips / "frame.y4m", tmp_path / "f.mp4", lambda x: x)
    # cut inside a later frame: the frames before it, said (FFmpeg drops the part frame without a word)
    assert "a.y4m: the video ended" not in caplog.text  # (whole)
    (clips / "later.y4m").write_bytes(y4m[: y4m.index(b"FRAME", y4m.index(b"FRAME", 100) + 5) + 100])
    assert stylize_video(clips / "later.y4m", tmp_path / "l.mp4", lambda x: x) == 2
    said = "later.y4m: the video ended inside its frame 3 (cut short or damaged?); the 2 whole frames before it were"
    assert said in caplog.text
    # an .m2v's parser times its frames from one frame in: the stylized video started a frame late, at 33 ms
    with av.open(str(clips / "d.m2v"), "w", format="mpeg2video") as out:
        video = out.add_stream("mpeg2video", rate=30)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _flat_frames(out, video, 6, 30)
    assert stylize_video(clips / "d.m2v", tmp_path / "d.mp4", lambda x: x) == 6
    with av.open(str(tmp_path / "d.mp4")) as f:
        assert (f.start_time, f.streams.video[0].average_rate, f.streams.video[0].frames) == (0, 30, 6)
    # a raw stream cut inside a frame, which FFmpeg decodes from what is left: it was said "damaged ... frames around
    # them may be lost or smeared", as if in the middle
    with av.open(str(clips / "d.m2v")) as f:
        pos, size = [(p.pos, p.size) for p in f.demux() if p.size][3]
    (clips / "cut.m2v").write_bytes((clips / "d.m2v").read_bytes()[: pos + size // 2])
    assert stylize_video(clips / "cut.m2v", tmp_path / "c.mp4", lambda x: x) == 4
    said = "cut.m2v: the video ended inside its frame 4 (cut short or damaged?); the frames up to it were stylized"
    assert said in caplog.text and "cut.m2v is damaged" not in caplog.text


def test_an_empty_larger_video_track_is_not_taken_for_the_film(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A Matroska file whose largest video track holds no frames (a recorder's unused input): it was picked all the
    same, and the video failed, "holds no decodable frames"; FFmpeg's header does not say which tracks have any."""
    clip = tmp_path / "two.mkv"
    with av.open(str(clip), "w") as out:
        unused = out.add_stream("libx264", rate=25)
        unused.width, unused.height, unused.pix_fmt = 320, 240, "yuv420p"
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _flat_frames(out, video, 4, 40)
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    frames = frames_of(tmp_path / "out.mp4")
    assert len(frames) == 4 and frames[0].size == (64, 48)
    assert "two.mkv: its 320x240 video track (stream 0) holds no frames: the 64x48 one (stream 1) is stylized" in (
        caplog.text
    )
    assert "not kept" not in caplog.text  # (the empty track is no other video left out)
    # stopped at its packet limit well inside 10 s: it said "in the file's first 10 s" all the same
    import fast_style.media.video

    monkeypatch.setattr(fast_style.media.video, "_LOOK_PACKETS", 2)
    caplog.clear()
    assert fast_style.media.video.stylize_video(clip, tmp_path / "few.mp4", lambda x: x) == 4
    assert "holds no frames in the file's first 2 packets: the 64x48 one" in caplog.text
    monkeypatch.undo()
    # two videos with frames, their times from an hour in (a transport stream's clock): neither is empty (the
    # larger one, whose first packet comes second, was taken for one)
    from fast_style.media.video import _empty_films

    with av.open(str(tmp_path / "late.mkv"), "w") as out:
        streams = [out.add_stream("libx264", rate=25) for _ in range(2)]
        for stream, width in zip(streams, (32, 64)):
            stream.width, stream.height, stream.pix_fmt = width, 32, "yuv420p"
        for i in range(2):
            for stream in streams:
                frame = av.VideoFrame.from_ndarray(np.zeros((32, stream.width, 3), np.uint8), format="rgb24")
                frame.pts = 90_000 + i + (stream is streams[1])
                out.mux(stream.encode(frame))
        for stream in streams:
            out.mux(stream.encode())
    with av.open(str(tmp_path / "late.mkv")) as f:
        assert next(p.stream.index for p in f.demux() if p.size) == 0
        assert _empty_films(tmp_path / "late.mkv", f.streams.video) == ([], "")


def test_a_cover_an_mp4_cannot_hold_beside_quicktime_tags_is_said_not_kept(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """FFmpeg writes no MP4 cover where it writes every tag as QuickTime's keys (an iPhone's tags): the cover was
    lost without a word; it is said not kept."""
    import fast_style.media.video

    clip = tmp_path / "covered.mp4"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(tmp_path / "cover.jpg")
    with av.open(str(tmp_path / "cover.jpg")) as picture, av.open(str(clip), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        cover = out.add_stream_from_template(picture.streams.video[0])
        cover.disposition = av.stream.Disposition.attached_pic
        for packet in picture.demux():
            if packet.size:
                packet.stream, packet.pts, packet.dts = cover, 0, 0
                out.mux(packet)
        _flat_frames(out, video, 3, 40)
    monkeypatch.setattr(fast_style.media.video, "_quicktime_keys", lambda source, fmt: fmt in ("mp4", "mov"))
    assert main([str(clip), "-m", str(model), "-o", str(tmp_path / "out.mp4"), "-q"]) == 0
    said = "covered.mp4: 1 cover picture track not kept (an .mp4 of QuickTime's tags holds no cover picture: write "
    assert said in caplog.text
