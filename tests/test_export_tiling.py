import errno
import logging
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from fast_style.cli.export import main as export_main
from fast_style.errors import UserError
from fast_style.inference import stylizer as stylizer_module
from fast_style.inference.stylizer import Stylizer
from fast_style.inference.tiling import receptive_margin, stylize_tiled
from fast_style.media.pixels import to_unit
from fast_style.model import export as export_module
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import save_style_model


def _net(**kwargs) -> TransformerNet:
    torch.manual_seed(0)
    net = TransformerNet(**kwargs)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    return net.eval()


def _photo_like(h: int, w: int) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.nn.functional.avg_pool2d(torch.rand(1, 3, h, w), 9, 1, 4)  # smooth, like a photo


def test_receptive_margin_of_the_papers_network() -> None:
    # 58 px of context (the upsamplings' neighbours counted: nearest's floor too), rounded up to a multiple of 4
    assert receptive_margin(TransformerNet()) == 60


@pytest.mark.parametrize("tile,margin", [(64, None), (100, None), (512, None), (64, 54)])
def test_tiles_match_the_whole_image(tile: int, margin: int | None) -> None:
    net = _net(channels=(8, 16, 32), num_residual=2)
    x = _photo_like(203, 157)
    with torch.no_grad():
        whole = net(x)
    tiled = stylize_tiled(net, x, tile=tile, margin=margin, always_tile=True)  # a margin not divisible by 4: rounded up
    assert (tiled - whole).abs().max().item() < 1e-4


@pytest.mark.parametrize("antialias", ["down", "up", "both"])
def test_tiles_match_the_whole_image_with_antialiasing(antialias: str) -> None:
    """The blurred downsampling and the bilinear upsampling widen the context: the margin left them out (the
    paper's network: 16 px for down and both instead of 64), and tiles joined with seams of up to 49 grey levels."""
    net = _net(channels=(8, 16, 32), num_residual=2, antialias=antialias)
    assert receptive_margin(net) == {"down": 40, "up": 36, "both": 40}[antialias]
    x = _photo_like(203, 157)
    with torch.no_grad():
        whole = net(x)
    assert (stylize_tiled(net, x, tile=64, always_tile=True) - whole).abs().max().item() < 1e-4


@pytest.mark.parametrize("kernel_outer,num_residual", [(5, 0), (7, 1)])
def test_tiles_match_the_whole_image_for_other_network_shapes(kernel_outer: int, num_residual: int) -> None:
    """The nearest upsampling's floor was left out of the margin: kernel_outer=5 seamed by 9 grey levels."""
    net = _net(channels=(8, 16, 32), num_residual=num_residual, kernel_outer=kernel_outer)
    x = _photo_like(300, 260)
    with torch.no_grad():
        whole = net(x)
    assert (stylize_tiled(net, x, tile=64, always_tile=True) - whole).abs().max().item() < 1e-4


def test_a_flat_picture_and_one_that_fits_one_tile_come_out_as_the_whole_pass() -> None:
    """A flat picture's norm layers have no variance: a tile's rounding differences from the statistics pass were
    multiplied by 316 at each layer, and it came out NaN (black) or white, without a word."""
    net = _net(channels=(8, 16, 32), num_residual=2)
    for flat in (torch.full((1, 3, 90, 130), 0.78), torch.full((1, 3, 90, 130), 200, dtype=torch.uint8)):
        with torch.no_grad():
            whole = net(to_unit(flat))
        tiled = to_unit(stylize_tiled(net, flat, tile=32, always_tile=True))
        assert torch.isfinite(tiled).all() and (tiled - whole).abs().max().item() < 1 / 255
    x = _photo_like(3, 2)  # one tile: the whole pass itself, its strength too
    with torch.no_grad():
        assert torch.equal(stylize_tiled(net, x, tile=64), net(x).clamp(0, 1))
        assert torch.equal(stylize_tiled(net, x, tile=64, strength=0.0), x)


def test_a_picture_within_the_statistics_pass_runs_whole_once() -> None:
    """Its statistics pass is the whole picture at full size: the tiles after it saved no memory and took 2x to 4x
    the time (a 1536 x 1024 photo with --tile 256: 2.29 GB either way), a video's frames 16x."""
    net = _net(channels=(8, 16, 32), num_residual=2)
    x = _photo_like(203, 157)
    calls = []
    net.register_forward_pre_hook(lambda module, inputs: calls.append(inputs[0].shape))
    with torch.no_grad():
        whole = net(x).clamp(0, 1)
        half = torch.lerp(x, whole, 0.5)
    calls.clear()
    assert torch.equal(stylize_tiled(net, x, tile=64), whole) and calls == [x.shape]
    assert torch.equal(stylize_tiled(net, x, tile=64, strength=0.5), half)
    calls.clear()  # over the statistics pass's pixels: the pass, then tiles
    y = stylize_tiled(net, x, tile=64, stats_size=128)
    assert y.shape == x.shape and len(calls) > 2 and calls[0] != x.shape


def test_naive_tiles_would_show_seams() -> None:
    """The reason for shared statistics: per-tile instance norm changes the result."""
    net = _net(channels=(8, 16, 32), num_residual=2)
    x = _photo_like(128, 128)
    x[..., :64] *= 0.3  # a dark half and a bright half
    with torch.no_grad():
        whole = net(x)
        naive = torch.cat([net(x[..., :64]), net(x[..., 64:])], dim=-1)
    assert (naive - whole).abs().max().item() > 0.05
    assert (stylize_tiled(net, x, tile=64, always_tile=True) - whole).abs().max().item() < 1e-4


def test_a_thin_image_whose_pixels_fit_the_statistics_pass_is_exact() -> None:
    """The statistics pass shrank an image until its longer side fitted: a 28000x152 banner's statistics came from
    an 8 px-high sliver, mostly padding, and its tiles came out washed out. It is bounded by pixels now."""
    net = _net(channels=(8, 16, 32), num_residual=2)
    x = _photo_like(24, 1200)  # 28,800 pixels: under 256 x 256, though far longer than 256
    with torch.no_grad():
        whole = net(x)
    assert (stylize_tiled(net, x, tile=64, stats_size=256, always_tile=True) - whole).abs().max().item() < 1e-4
    wide = _photo_like(40, 2400)  # over the bound: scaled down by area, its shape kept, not to a 5 px sliver (0.25
    with torch.no_grad():  # from the whole image so; 0.07 now, as a 310 px square's 0.05 scaled to 256 px)
        assert (stylize_tiled(net, wide, tile=128, stats_size=256) - net(wide)).abs().mean().item() < 0.1


def test_uint8_in_uint8_out_and_downscaled_statistics_stay_seamless() -> None:
    net = _net(channels=(8, 16, 32), num_residual=2)
    x = (_photo_like(256, 256) * 255).round().to(torch.uint8)
    y = stylize_tiled(net, x, tile=64, stats_size=96)
    assert y.dtype == torch.uint8 and y.shape == x.shape
    # no seam: the jump across a tile border is no larger than the jumps next to it
    col = y.float()[0, :, :, 62:67].mean(dim=(0, 1))
    steps = (col[1:] - col[:-1]).abs()
    assert steps[1] <= 3 * max(steps[0].item(), steps[2].item(), 1.0)


def test_stylizer_tiles_large_images_automatically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    s = Stylizer.load(path, device="cpu", precision="fp32", max_pixels=100 * 100, tile=64)
    x = _photo_like(150, 130)
    calls = []
    real = stylizer_module.stylize_tiled
    monkeypatch.setattr(stylizer_module, "stylize_tiled", lambda *a, **k: calls.append(1) or real(*a, **k))
    whole = Stylizer.load(path, device="cpu", precision="fp32", max_pixels=0)(x)
    assert not calls  # max_pixels=0: never tiled
    s(x[:, :, :90, :100])
    assert not calls  # under the limit: whole
    torch.testing.assert_close(s(x), whole, atol=1e-4, rtol=0)
    assert calls  # over it: tiled, and the same picture
    # a strength below 1 is blended a tile at a time (float copies of the whole picture grew with it), the same
    once = Stylizer.load(path, device="cpu", precision="fp32", max_pixels=0)
    torch.testing.assert_close(
        s.stylize_tensor(x, strength=0.3), once.stylize_tensor(x, strength=0.3), atol=1e-4, rtol=0
    )
    assert len(calls) == 2
    eight = (x * 255).round().to(torch.uint8)  # and uint8 in, uint8 out
    half = once.stylize_tensor(eight, strength=0.3)
    assert (s.stylize_tensor(eight, strength=0.3).int() - half.int()).abs().max() <= 1


def test_a_batch_runs_in_parts_of_at_most_max_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    x = _photo_like(64, 72).expand(5, -1, -1, -1).contiguous()
    x = x + 0.05 * torch.arange(5).view(5, 1, 1, 1)
    whole = Stylizer.load(path, device="cpu", precision="fp32", max_pixels=0)(x)  # never split: one call of 5
    s = Stylizer.load(path, device="cpu", precision="fp32", max_pixels=2 * 64 * 72 + 10)
    sizes = []
    real = s._run
    monkeypatch.setattr(s, "_run", lambda net, t, eager=False: sizes.append(len(t)) or real(net, t, eager))
    torch.testing.assert_close(s(x), whole, atol=1e-5, rtol=0)
    assert sizes == [2, 2, 1]  # two frames fit under the limit together: the same pictures, a third of the memory
    sizes.clear()
    s(x[0])
    assert sizes == [1]


def test_onnx_and_torchscript_export_match(
    tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    assert export_main([str(model), "-o", str(tmp_path / "m.onnx")]) == 0
    assert "max abs difference" in capsys.readouterr().out
    assert export_main([str(model), "-o", str(tmp_path / "m.ts")]) == 0
    scripted = torch.jit.load(str(tmp_path / "m.ts"))
    x = torch.rand(2, 3, 45, 61)
    torch.testing.assert_close(scripted(x), TransformerNet.eval(_net(channels=(8, 16, 32), num_residual=2))(x))
    assert export_main([str(model), "-o", str(tmp_path / "m.onnx")]) == 2  # exists
    assert "use --force" in capsys.readouterr().err
    for opset in ("5", "99"):  # the exporter's own failures are tracebacks hundreds of lines long
        assert export_main([str(model), "-o", str(tmp_path / "o.onnx"), "--opset", opset]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "choose 11 to 23" in err
    # an export that does not match PyTorch is refused, and an earlier good export under --force stays as it was
    good = (tmp_path / "m.onnx").read_bytes()
    for fmt, where in (("onnx", "check_onnx"), ("ts", "_max_diff")):
        with monkeypatch.context() as m:
            m.setattr(export_module, where, lambda *a: float("nan"))
            assert export_main([str(model), "-o", str(tmp_path / f"m.{fmt}"), "--force"]) == 2
        assert "not written" in capsys.readouterr().err
    assert (tmp_path / "m.onnx").read_bytes() == good
    # a model that paints NaN matched its NaN export ("max abs difference 0.0e+00": max(0.0, nan) is 0.0); its
    # weights are finite (one whose weights hold NaN is refused as damaged when it loads: test_network.py)
    nan = _net(channels=(8, 16, 32), num_residual=2)
    nan.encoder[0][1].weight.data.fill_(3e38)  # the sums overflow: the norm's inf - inf is NaN
    for fmt in ("onnx", "ts"):
        assert (
            export_main([str(save_style_model(nan, tmp_path / "nan.pt", force=True)), "-o", str(tmp_path / f"n.{fmt}")])
            == 2
        )
        assert "the model paints NaN or infinite values" in capsys.readouterr().err
        assert not (tmp_path / f"n.{fmt}").exists()
    assert export_main([str(model), "-o", str(tmp_path / "m.xyz")]) == 2
    assert "ends in .xyz: an export goes to a .onnx (ONNX) or .ts (TorchScript) file" in capsys.readouterr().err
    assert export_main([str(model), "-o", str(tmp_path / "exported.pt")]) == 2  # it would pass for a style model
    assert ".pt is a style model's extension; an export goes to a .onnx (ONNX) or .ts (TorchScript) file" in (
        capsys.readouterr().err  # (no format given: it named TorchScript alone)
    )
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), "red").save(photo)
    for fmt in ("onnx", "torchscript"):  # an ONNX file named photo.png, written over the photo with --force
        assert export_main([str(model), "-o", str(photo), "--format", fmt, "--force"]) == 2
        assert ".png is a picture's extension; " in capsys.readouterr().err
    assert export_main([str(model), "-o", str(tmp_path / "clip.mp4")]) == 2
    assert ".mp4 is a video's extension; an export goes to a .onnx (ONNX)" in capsys.readouterr().err
    with Image.open(photo) as kept:
        assert kept.getpixel((0, 0)) == (255, 0, 0)
    assert export_main([str(model), "-o", str(tmp_path / "x.onnx"), "--format", "torchscript"]) == 2
    assert "format torchscript, but" in capsys.readouterr().err  # a TorchScript file named .onnx
    assert export_main([str(model), "-o", str(tmp_path / "x.ts"), "--opset", "13"]) == 2
    assert "--opset 13 is for ONNX exports" in capsys.readouterr().err  # it had been ignored
    assert export_main([str(model), "-o", ""]) == 2  # an unset shell variable: it wrote into the current folder
    (tmp_path / "sea").mkdir()  # a run's style.pt is named by its folder: two runs' exports no longer clash
    (tmp_path / "sea" / "style.pt").write_bytes(model.read_bytes())
    assert export_main([str(tmp_path / "sea" / "style.pt"), "-o", f"{tmp_path / 'exports'}/"]) == 0
    assert (tmp_path / "exports" / "sea.onnx").is_file()
    # a name without an extension is a folder, as fast-style-stylize reads -o ("cannot tell the format" said before)
    assert export_main([str(model), "-o", str(tmp_path / "new"), "--format", "torchscript"]) == 0
    assert (tmp_path / "new" / "m.ts").is_file()
    # the folder rule is the library's (it was the CLI's alone)
    assert "wrote " + str(tmp_path / "py" / "m.onnx") in export_module.export(str(model), f"{tmp_path / 'py'}/")
    with pytest.raises(UserError, match="^output is empty: give a file"):
        export_module.export(str(model), " ")
    assert "error: -o is empty: give a file" in capsys.readouterr().err
    assert export_main([str(tmp_path / "m.onnx"), "-o", str(tmp_path / "again.onnx")]) == 2  # an export as input
    assert "fast-style-stylize --backend onnxruntime" in capsys.readouterr().err
    assert not (tmp_path / "m.xyz").exists() and not (tmp_path / "x.onnx").exists()
    ort = Stylizer.load(model, backend="onnxruntime")
    torch_out = Stylizer.load(model, device="cpu", precision="fp32")(x)
    torch.testing.assert_close(ort(x), torch_out, atol=1e-4, rtol=0)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))  # the file written, as another runtime reads it
    (written,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(written).clamp(0, 1), torch_out, atol=1e-4, rtol=0)
    small_limit, large = Stylizer.load(model, backend="onnxruntime", max_pixels=64 * 64), torch.rand(1, 3, 70, 70)
    with caplog.at_level(logging.WARNING):
        small_limit(large), small_limit(large)
    assert sum("run whole with onnxruntime" in r.message for r in caplog.records) == 1  # said once, not per image


def test_bf16_inference_stays_close_to_fp32(tmp_path: Path) -> None:
    path = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    x = _photo_like(96, 80)
    fp32 = Stylizer.load(path, device="cpu", precision="fp32")(x)
    bf16 = Stylizer.load(path, device="cpu", precision="bf16")(x)
    assert bf16.dtype == torch.float32
    assert (bf16 - fp32).abs().mean().item() < 2e-2 and (bf16 - fp32).abs().max().item() < 0.15


def test_bf16_cpu_path_runs_a_channels_last_bf16_network_for_batches_and_tiles(tmp_path: Path) -> None:
    path = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    s = Stylizer.load(path, device="cpu", precision="bf16", max_pixels=0)
    weight = s._net.encoder[0][1].weight  # what runs: a bf16, channels-last copy
    assert weight.dtype == torch.bfloat16 and weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.cat([_photo_like(96, 80), _photo_like(96, 80).flip(-1)])
    fp32 = Stylizer.load(path, device="cpu", precision="fp32")(x)
    both = s(x)
    assert (both - fp32).abs().mean().item() < 2e-2  # what bf16 autocast gives too (0.012 here)
    torch.testing.assert_close(both[1:], s(x[1:]))  # a batch is the images one by one
    tiled = Stylizer.load(path, device="cpu", precision="bf16", max_pixels=64 * 64, tile=64)(x[:1])
    assert (tiled - fp32[:1]).abs().mean().item() < 2e-2


def test_a_stylizer_leaves_the_callers_network_alone_and_its_network_saves_in_any_precision(tmp_path: Path) -> None:
    net = _net(channels=(8, 16, 32), num_residual=2).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = _photo_like(64, 48)
    for precision in ("bf16", "fp32"):
        s = Stylizer(net, torch.device("cpu"), torch.bfloat16 if precision == "bf16" else torch.float32)
        assert net.training and all(p.requires_grad for p in net.parameters())  # the caller's: untouched
        path = save_style_model(s.network, tmp_path / f"{precision}.pt")  # a bf16 one was read as damaged
        again = Stylizer.load(path, device="cpu", precision=precision)
        torch.testing.assert_close(again(x), s(x))
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    named = Stylizer(net, "cpu", "bf16")  # as Stylizer.load and the command line name them ('str' has no .type)
    assert (named.device, named.dtype) == (torch.device("cpu"), torch.bfloat16)
    torch.testing.assert_close(named(x), Stylizer(net, torch.device("cpu"), torch.bfloat16)(x))
    with pytest.raises(UserError, match="unknown device 'gpu'"):
        Stylizer(net, "gpu", torch.float32)


def test_export_names_its_model_as_stylize_does(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    assert export_main(["--model", str(model), "-o", str(tmp_path / "a.ts")]) == 0  # 'unrecognized arguments' before
    assert export_main(["--style", "wave-fast", "-o", f"{tmp_path}/"]) == 0
    assert (tmp_path / "a.ts").is_file() and (tmp_path / "wave-fast.onnx").is_file()
    capsys.readouterr()
    for args, message in (
        (["--style", "nope"], "unknown style 'nope': the built-in styles are "),
        ([str(model), "--style", "wave"], "say which model once: MODEL, --style NAME or --model FILE"),
        ([], "say which model: a built-in style's name (composition_vii"),
        (["wave", "udnie"], "one model at a time: udnie after wave: run it once per model"),  # "unrecognized"
    ):
        with pytest.raises(SystemExit) as stop:
            export_main([*args, "-o", str(tmp_path / "b.onnx")])
        assert stop.value.code == 2 and message in capsys.readouterr().err, args
    assert not (tmp_path / "b.onnx").exists()
    # `--output=~/x.onnx`: the home folder, as the shell gives `-o ~/x.onnx` (a folder named `~` was made); Python too
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert export_main([str(model), "--output=~/e.onnx"]) == 0 and (tmp_path / "home" / "e.onnx").is_file()
    assert (
        "home/py/m.onnx" in export_module.export(str(model), "~/py/")
        and (tmp_path / "home" / "py" / "m.onnx").is_file()
    )
    assert not (tmp_path / "~").exists()
    # a name too long for the disk: one line before the work (a traceback; at 250 bytes, after it at the temporary
    # file), for the output and for the model
    capsys.readouterr()
    for args, words in (
        ([str(model), "-o", "a" * 260 + ".onnx"], "File name too long; choose another -o"),
        ([str(model), "-o", "b" * 240 + ".onnx"], "its name is 245 bytes; give one of at most 241"),
        (["c" * 260 + ".pt", "-o", "x.onnx"], "File name too long: give a style-model file"),
    ):
        assert export_main(args) == 2 and words in capsys.readouterr().err, args
    # in Python, the format as ONNX spells itself ('name it .ts' for an .onnx file before), and a wrong one named
    assert "onnx" in export_module.export("wave-fast", str(tmp_path / "c.onnx"), fmt="ONNX").lower()
    with pytest.raises(UserError, match="format 'tflite': choose onnx or torchscript"):
        export_module.export("wave-fast", str(tmp_path / "d.onnx"), fmt="tflite")


@pytest.mark.slow
def test_compiled_stylizer_matches_eager_and_takes_a_second_image_size(tmp_path: Path) -> None:
    """Each size gets its own static graph: torch's dynamic-shape path crashed on the second size. (One network
    for both checks: each compile costs about 12 s on two CPU cores.)"""
    path = save_style_model(_net(channels=(4, 8, 8), num_residual=1, kernel_outer=3), tmp_path / "m.pt")
    compiled = Stylizer.load(path, device="cpu", precision="fp32", compile=True)
    eager = Stylizer.load(path, device="cpu", precision="fp32")
    for h, w in [(48, 64), (43, 64)]:  # an odd size after an even one: the case that crashed
        x = _photo_like(h, w)
        torch.testing.assert_close(compiled(x), eager(x), atol=1e-4, rtol=0)
    torch.testing.assert_close(compiled(x, tiled=True), eager(x), atol=1e-4, rtol=0)  # tiles run eagerly


def test_export_onto_a_full_disk_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        real(self, data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    assert export_main([str(model), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot write") and "No space left on device" in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # no partial file


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_export(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file in the way, or a link to a folder that is not there, was found after the whole export and its check,
    and the link was called "a file, not a folder"; --format torchscript wrote a .pt, which passes for a style
    model."""
    from fast_style.cli.stylize import main as stylize_main

    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    monkeypatch.setattr(export_module, "to_onnx_bytes", lambda *a: pytest.fail("exported before the check"))
    for output, said in (
        ("afile/w.onnx", f"error: -o {tmp_path / 'afile' / 'w.onnx'}: {tmp_path / 'afile'} is a file, not a folder"),
        ("gone/", f"{tmp_path / 'gone'} is a link to {tmp_path / 'nowhere'}, which does not exist"),
    ):
        assert export_main([str(model), "-o", str(tmp_path / output)]) == 2
        assert said in capsys.readouterr().err
    assert export_main([str(model), "-o", str(tmp_path / "up.pt"), "--format", "torchscript"]) == 2
    assert ".pt is a style model's extension" in capsys.readouterr().err
    photo = tmp_path / "p.png"
    Image.new("RGB", (32, 24)).save(photo)
    assert stylize_main([str(photo), "--model", str(model), "-o", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'gone'} is a link to {tmp_path / 'nowhere'}, which does not exist: choose another" in err
    assert not list(tmp_path.glob("*/p.png"))


def test_a_compiled_cpu_stylizer_leaves_out_torchs_no_cuda_notice(caplog: pytest.LogCaptureFixture) -> None:
    """'No CUDA runtime is found, using CUDA_HOME=...' came with every CPU --compile; torch's other notices stay."""
    Stylizer(_net(channels=(8, 16, 32), num_residual=2), "cpu", "fp32", compile=True)
    notices = logging.getLogger("torch.utils.cpp_extension")
    with caplog.at_level(logging.WARNING):
        notices.warning("No CUDA runtime is found, using CUDA_HOME='%s'", "/usr/local")
        notices.warning("another notice")
    assert "No CUDA runtime" not in caplog.text and "another notice" in caplog.text


def test_an_export_that_paints_nan_at_one_size_fails_its_check() -> None:
    """A NaN on the first check size was overwritten by the next size's finite difference: the export was written."""
    net = _net(channels=(8, 16, 32), num_residual=2)
    calls = []

    def exported(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape)
        return torch.full_like(x, float("nan")) if len(calls) == 1 else net(x)

    assert math.isnan(export_module._max_diff(net, exported))


@pytest.mark.parametrize("force", ["no", "false", 0.5, None])
def test_a_force_that_is_not_a_bool_overwrites_nothing(tmp_path: Path, force: object) -> None:
    # force="no" (a non-empty string, so true) had replaced an earlier export, and save_style_model's file too
    model = tmp_path / "m.pt"
    save_style_model(_net(channels=(4, 8, 8), num_residual=1), model)
    kept = tmp_path / "kept.onnx"
    kept.write_bytes(b"an earlier export")
    with pytest.raises(TypeError, match="force must be True or False"):
        export_module.export(str(model), str(kept), force=force)
    with pytest.raises(TypeError, match="force must be True or False"):
        save_style_model(_net(channels=(4, 8, 8), num_residual=1), model, force=force)
    assert kept.read_bytes() == b"an earlier export"


def test_export_given_a_network_or_no_output_says_what_it_takes(tmp_path: Path) -> None:
    # pathlib's "expected str, bytes or os.PathLike object, not TransformerNet" had said nothing of what to pass
    with pytest.raises(TypeError, match=r"not TransformerNet: save_style_model\(net, 'style.pt'\) first"):
        export_module.export(_net(channels=(4, 8, 8), num_residual=1), str(tmp_path / "a.onnx"))
    with pytest.raises(TypeError, match="output is a file's or a folder's path, not NoneType"):
        export_module.export("wave", None)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("size", [(3, 50), (5, 30), (50, 7), (1, 1), (11, 3), (2, 200)])
def test_onnxruntime_matches_torch_on_a_thin_image(tmp_path: Path, size: tuple[int, int]) -> None:
    # a side under 12 px and the other not a multiple of 4 (5x30): the graph reflected the 30 px side to 32 where
    # the torch network, padding a thin image, replicates both (0.3 apart)
    pytest.importorskip("onnxruntime")
    net = _net(channels=(8, 16, 16), num_residual=1)
    torch_, ort_ = Stylizer(net, "cpu", torch.float32), Stylizer(net, "cpu", torch.float32, backend="onnxruntime")
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    assert (torch_(x) - ort_(x)).abs().max().item() < 1e-4


def test_a_checkpoints_name_is_refused_for_an_export(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o last.ckpt --format onnx wrote an ONNX file named as a training checkpoint (and .pth as PyTorch weights):
    only .pt was refused."""
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    monkeypatch.setattr(export_module, "to_onnx_bytes", lambda *a: pytest.fail("exported before the check"))
    monkeypatch.setattr(export_module, "to_torchscript", lambda *a: pytest.fail("exported before the check"))
    for name, said in (("last.ckpt", ".ckpt is a training checkpoint's extension"), ("w.PTH", ".PTH is PyTorch")):
        for fmt, goes in (("onnx", "an ONNX export goes to a .onnx file"), ("torchscript", "goes to a .ts file")):
            assert export_main([str(model), "-o", str(tmp_path / name), "--format", fmt]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"error: '{tmp_path / name}': {said}") and goes in err and err.count("\n") == 1, err
        assert export_main([str(model), "-o", str(tmp_path / name)]) == 2  # not "cannot tell the format"
        assert "an export goes to a .onnx (ONNX) or .ts (TorchScript) file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_an_extension_alone_is_refused_as_an_exports_name(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o .onnx was taken for a hidden folder's name: .onnx/wave.onnx was written. A folder that exists, or one
    said with its /, stays a folder."""
    from fast_style.model.export import output_file

    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export_module, "to_onnx_bytes", lambda *a: pytest.fail("exported before the check"))
    for given, said in (
        ([".onnx"], "error: -o .onnx is an extension alone: give a file name, e.g. m.onnx, or a folder\n"),
        ([".ts"], "error: -o .ts is an extension alone: give a file name, e.g. m.ts, or a folder\n"),
        (
            ["out/.onnx", "--format", "torchscript"],
            "error: -o out/.onnx is an extension alone: give a file name, e.g. out/m.ts",
        ),
        (["out/.ckpt"], "error: -o out/.ckpt is an extension alone: give a file name, e.g. out/m.onnx, or a folder\n"),
    ):
        assert export_main([str(model), "-o", *given]) == 2
        assert capsys.readouterr().err.startswith(said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
    with pytest.raises(UserError, match=r"^output='\.onnx' is an extension alone"):
        output_file(".onnx", "wave")
    assert output_file(".onnx/", "wave") == Path(".onnx/wave.onnx")
    (tmp_path / ".onnx").mkdir()
    assert output_file(".onnx", "wave", "torchscript") == Path(".onnx/wave.ts")


def test_an_exports_name_must_end_in_its_formats_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o x.txt --format onnx wrote an ONNX file named x.txt, without a word (--format is for a folder's file)."""
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "m.pt")
    monkeypatch.setattr(export_module, "to_onnx_bytes", lambda *a: pytest.fail("exported before the check"))
    monkeypatch.setattr(export_module, "to_torchscript", lambda *a: pytest.fail("exported before the check"))
    for name, fmt, said in (
        ("x.txt", ["--format", "onnx"], "'{}' ends in .txt: an ONNX export goes to a .onnx file: name it {}"),
        ("x.TXT", ["--format=torchscript"], "'{}' ends in .TXT: a TorchScript export goes to a .ts file: name it {}"),
        # --format in capitals, as export() takes it from Python (argparse refused "invalid choice: 'ONNX'")
        ("z.txt", ["--format", "ONNX"], "'{}' ends in .txt: an ONNX export goes to a .onnx file: name it {}"),
        ("x.bin", [], "'{}' ends in .bin: an export goes to a .onnx (ONNX) or .ts (TorchScript) file: name it {}"),
    ):
        out = tmp_path / name
        assert export_main([str(model), "-o", str(out), *fmt]) == 2
        named = out.with_suffix(".ts" if "--format=torchscript" in fmt else ".onnx")
        assert capsys.readouterr().err == f"error: {said.format(out, named)}, or give a folder\n"
    with pytest.raises(UserError, match=r"ends in \.txt: an ONNX export goes to a \.onnx file"):
        export_module.export(str(model), str(tmp_path / "y.txt"), fmt="onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_an_export_without_output_goes_to_the_current_folder_named_after_its_model(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast-style-export MODEL without -o said only "the following arguments are required: -o/--output"; it now
    writes ./<model>.onnx (or .ts), as -o . names it, and never over an existing file unasked."""
    (tmp_path / "runs" / "sea").mkdir(parents=True)
    model = save_style_model(_net(channels=(8, 16, 32), num_residual=2), tmp_path / "runs" / "sea" / "style.pt")
    monkeypatch.chdir(tmp_path)
    assert export_main([str(model)]) == 0
    assert capsys.readouterr().out.startswith("wrote sea.onnx (onnx, ")
    assert export_main(["--model", str(model), "--format", "torchscript"]) == 0
    assert (tmp_path / "sea.ts").is_file()
    kept = (tmp_path / "sea.onnx").read_bytes()
    assert export_main([str(model)]) == 2
    assert capsys.readouterr().err == "error: sea.onnx exists: use --force to overwrite it\n"
    assert (tmp_path / "sea.onnx").read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "sea.onnx", "sea.ts"]


def test_an_output_given_without_its_option_is_said_to_go_with_o(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast-style-export wave out.onnx (as cp takes it) said "one model at a time: out.onnx after wave: run it once per
    model", and --style wave out.onnx "say which model once"; a second model still gets those words."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "sea").mkdir(parents=True)
    save_style_model(_net(channels=(4, 8, 8), num_residual=1), tmp_path / "runs" / "sea" / "style.pt")
    for args, said in (
        (["wave", "out.onnx"], "out.onnx names an output: give it with -o out.onnx"),
        (["wave", "Out.TS"], "Out.TS names an output: give it with -o Out.TS"),
        (["--style", "wave", "exports/"], "exports/ names an output: give it with -o exports/"),
        (["--model", "runs/sea/style.pt", "my out.onnx"], "my out.onnx names an output: give it with -o 'my out.onnx'"),
        (["wave", "udnie"], "one model at a time: udnie after wave: run it once per model"),
        (["wave", "runs/sea/"], "one model at a time: runs/sea/ after wave: run it once per model"),  # a run's folder
        (["wave", "a.onnx", "b.onnx"], "one model at a time: a.onnx (and 1 more) after wave"),
    ):
        with pytest.raises(SystemExit) as stop:
            export_main(args)
        assert stop.value.code == 2 and capsys.readouterr().err.startswith(f"fast-style-export: error: {said}"), args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_export_helpers_check_their_arguments_in_one_line() -> None:
    """to_onnx_bytes("wave") failed inside torch ("'str' object has no attribute 'modules'"), with opset=17.0 after
    printing torch's graph; check_onnx(net, "m.onnx") in onnx's words, to_torchscript(path) in TorchScript's."""
    net = _net(channels=(4, 8, 8), num_residual=1)
    for call, said in (
        (lambda: export_module.to_onnx_bytes("wave"), r"^to_onnx_bytes takes a fast_style TransformerNet, not str: "),
        (lambda: export_module.to_onnx_bytes(torch.nn.Linear(2, 2)), r"TransformerNet, not Linear$"),
        (
            lambda: export_module.to_torchscript(Path("m.pt")),
            r"^to_torchscript takes a fast_style TransformerNet, not ",
        ),
        (lambda: export_module.check_onnx("m.pt", b""), r"^check_onnx takes a fast_style TransformerNet, not str"),
        (lambda: export_module.check_onnx(net, "m.onnx"), r"^check_onnx takes the ONNX model's bytes .*, not str$"),
    ):
        with pytest.raises(TypeError, match=said):
            call()
    for opset in (17.5, 5):
        with pytest.raises(UserError, match=r"^opset.* 11 to 23"):
            export_module.to_onnx_bytes(net, opset)
