"""Y'CbCr 4:2:0 <-> RGB on the tensors' device (fast_style.media.yuv), checked against FFmpeg's swscale."""

import pytest
import torch

from fast_style.media import yuv

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")


def picture(h: int = 48, w: int = 64) -> np.ndarray:
    """Smooth colour ramps and a few flat patches: (H, W, 3) uint8."""
    ys, xs = np.mgrid[0:h, 0:w]
    rgb = np.stack([xs * 255 / w, ys * 255 / h, (xs + ys) * 255 / (w + h)], -1)
    rgb[4:12, 4:20] = (40, 180, 60)
    rgb[20:36, 30:50] = (230, 30, 90)
    return rgb.round().astype(np.uint8)


@pytest.mark.parametrize("fmt", ["yuv420p", "nv12"])  # nv12: what NVDEC decodes to
@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize("space,matrix", [("ITU709", yuv.BT709), ("ITU601", yuv.BT601)])
def test_to_rgb_reads_yuv420p_as_swscale_does(space: str, matrix: tuple, full_range: bool, fmt: str) -> None:
    from av.video.reformatter import ColorRange, Colorspace

    rgb = picture()
    colours = {"src_colorspace": getattr(Colorspace, space)}
    colours["src_color_range"] = ColorRange.JPEG if full_range else ColorRange.MPEG
    planes = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format=fmt, dst_colorspace=colours["src_colorspace"], dst_color_range=colours["src_color_range"]
    )
    ours = yuv.to_rgb(torch.from_numpy(planes.to_ndarray())[None], matrix, full_range, interleaved=fmt == "nv12")
    assert ours.shape == (1, 3, 48, 64) and ours.dtype == torch.float32
    theirs = planes.reformat(format="rgb24", **colours).to_ndarray().astype(float)
    got = ours[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(got - rgb)[8, 10].max() <= 3 and np.abs(got - rgb)[28, 40].max() <= 3  # flat patches: the picture
    assert np.abs(got - theirs).mean() < 4  # their chroma filters differ at the edges of the patches
    assert np.abs(got - rgb).mean() < np.abs(theirs - rgb).mean() + 0.5  # as close to the picture as swscale


def test_each_stated_matrix_reads_as_swscale_reads_it() -> None:
    """matrix_of's table for the matrices a stream states: BT.2020's (non-constant luminance) could be mapped to
    BT.709, an HDR video's colours shifted by 10 code values, with the tests above passing (they give the matrix
    themselves). (FCC's and SMPTE 240M's differ from BT.601's and BT.709's by less than 8-bit rounding here.)"""
    from av.video.reformatter import ColorRange, Colorspace

    rgb = picture()
    for space in (Colorspace.FCC, Colorspace.SMPTE240M, Colorspace.BT2020, Colorspace.ITU601, Colorspace.ITU709):
        planes = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
            format="yuv420p", dst_colorspace=space, dst_color_range=ColorRange.MPEG
        )
        ours = yuv.to_rgb(torch.from_numpy(planes.to_ndarray())[None], yuv.matrix_of(int(space), 480))
        got = ours[0].permute(1, 2, 0).numpy() * 255
        assert np.abs(got - rgb)[8, 10].max() <= 3 and np.abs(got - rgb)[28, 40].max() <= 3, space  # flat patches


def test_to_yuv420_writes_what_swscale_writes_and_comes_back() -> None:
    from av.video.reformatter import ColorRange, Colorspace

    rgb = picture()
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    ours = yuv.to_yuv420(torch.cat([x, x.flip(-1)]))
    assert ours.shape == (2, 72, 64) and ours.dtype == torch.uint8
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    diff = np.abs(ours[0].numpy().astype(int) - theirs.to_ndarray().astype(int))
    assert diff[:48].max() <= 1 and diff[48:].mean() < 1.5  # luma exact but for rounding; chroma filtered alike
    frame = av.VideoFrame.from_ndarray(ours[1].numpy(), format="yuv420p")  # PyAV takes the layout as it is
    back = frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU709).to_ndarray().astype(int)
    assert np.abs(back[8, 64 - 11] - (40, 180, 60)).max() <= 4  # the second frame (mirrored) kept its own
    again = yuv.to_rgb(ours, yuv.BT709)
    assert (again - torch.cat([x, x.flip(-1)])).abs().mean() < 2 / 255
    with pytest.raises(ValueError, match="even sides"):
        yuv.to_yuv420(torch.rand(1, 3, 5, 6))


def test_matrix_of_a_frame_and_kept_colours() -> None:
    assert yuv.matrix_of(1, 480) == yuv.BT709 and yuv.matrix_of(6, 1080) == yuv.BT601
    assert yuv.matrix_of(2, 1080) == yuv.BT709 and yuv.matrix_of(0, 720) == yuv.BT709  # unstated: by its height
    assert yuv.matrix_of(2, 576) == yuv.BT601 and yuv.matrix_of(10, 1080) is None  # BT.2020 CL: not converted here
    from PIL import Image

    from fast_style.media.pixels import pil_to_tensor

    content, stylized = picture(), np.roll(picture(), 17, axis=1)[..., ::-1]
    y, _, _ = Image.fromarray(np.ascontiguousarray(stylized)).convert("YCbCr").split()
    _, cb, cr = Image.fromarray(content).convert("YCbCr").split()
    want = Image.merge("YCbCr", (y, cb, cr)).convert("RGB")  # Gatys et al.'s colour keeping in Pillow's terms
    unit = lambda a: pil_to_tensor(Image.fromarray(np.ascontiguousarray(a))).float() / 255  # noqa: E731
    got = yuv.keep_colours(unit(stylized), unit(content))
    assert got.shape == (3, 48, 64)
    assert (got * 255 - pil_to_tensor(want).float()).abs().max() <= 4  # as Pillow does it, but for its 8-bit steps
