import re
import resource
import signal
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from fast_style.errors import UserError
from fast_style.inference.tiling import receptive_margin
from fast_style.model.network import (
    SpaceToDepthConv,
    SubPixelUpsampleConv,
    TransformerNet,
    UpsampleConv,
    for_cpu_inference,
)
from fast_style.model.style_model import STYLE_MODEL_FORMAT, StyleModelError, load_style_model, save_style_model


@pytest.mark.parametrize("h,w", [(32, 32), (37, 53), (17, 9), (5, 7), (1, 1), (130, 67)])
def test_output_has_input_size_in_unit_range(h: int, w: int) -> None:
    net = TransformerNet(channels=(4, 8, 8), num_residual=2).eval()
    y = net(torch.rand(2, 3, h, w))
    assert y.shape == (2, 3, h, w)
    assert y.min() >= 0 and y.max() <= 1


def test_default_network_is_the_papers_size() -> None:
    net = TransformerNet()
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(1.68e6, rel=0.01)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in net.modules()) == 2


def test_gradients_reach_every_parameter() -> None:
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    net(torch.rand(1, 3, 20, 20)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize(
    "kwargs,said",
    [
        ({"channels": (0, 8, 8)}, "model.channels must be whole numbers >= 1, got 0"),
        ({"num_residual": -1}, "model.num_residual must be a whole number >= 0, got -1"),
        ({"kernel_outer": 4}, "model.kernel_outer must be an odd whole number >= 1, got 4"),
        ({"kernel_outer": -1}, "model.kernel_outer must be an odd whole number >= 1, got -1"),
        # a number it does not take, by every setting's rule: 2.5 had been a TypeError, -1 a ValueError
        ({"num_residual": 2.5}, "model.num_residual must be a whole number >= 0, got 2.5"),
    ],
)
def test_bad_shapes_are_refused(kwargs: dict, said: str) -> None:
    with pytest.raises(UserError, match=f"^{re.escape(said)}$"):
        TransformerNet(**kwargs)


def test_style_model_round_trip(tmp_path: Path) -> None:
    net = TransformerNet(channels=(4, 8, 16), num_residual=3, kernel_outer=5)
    path = save_style_model(net, tmp_path / "m" / "style.pt", {"style_image": "x.jpg"})
    loaded, meta = load_style_model(str(path))
    assert loaded.config == {"channels": [4, 8, 16], "num_residual": 3, "kernel_outer": 5}
    assert meta == {"style_image": "x.jpg"}
    x = torch.rand(1, 3, 21, 19)
    torch.testing.assert_close(loaded(x), net.eval()(x))
    assert not list(tmp_path.glob("m/*.tmp"))  # atomic write left nothing behind
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == STYLE_MODEL_FORMAT
    photo = tmp_path / "photo.jpg"  # an existing file (a photo passed by mistake) was replaced without a word
    photo.write_bytes(b"a photo")
    for force in (False, True):  # (a picture's name is refused, even with force: save_style_model's own test)
        with pytest.raises(UserError, match=r"photo.jpg: .jpg is a picture's extension"):
            save_style_model(net, photo, force=force)
    assert photo.read_bytes() == b"a photo"
    old = tmp_path / "old.pt"  # an existing file
    old.write_bytes(b"an earlier model")
    with pytest.raises(UserError, match=r"old.pt exists: use force=True to overwrite it$"):
        save_style_model(net, old)
    assert old.read_bytes() == b"an earlier model"
    assert load_style_model(str(save_style_model(net, old, force=True)))[0].config == loaded.config


def test_a_style_model_is_never_written_with_meta_that_loading_refuses(tmp_path: Path) -> None:
    # a Path in meta was saved without a word; loading then called the file "a file holding Python objects"
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    with pytest.raises(TypeError, match="meta holds PosixPath"):
        save_style_model(net, tmp_path / "odd.pt", {"runs": [{"style_image": Path("wave.jpg")}]})
    assert not (tmp_path / "odd.pt").exists()
    save_style_model(net, tmp_path / "plain.pt", {"style_image": "wave.jpg", "steps": [1, 2.5, None, True]})
    assert load_style_model(str(tmp_path / "plain.pt"))[1]["steps"] == [1, 2.5, None, True]


def test_style_model_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StyleModelError, match="not found"):
        load_style_model(str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(StyleModelError, match="not a fast-style model .not a PyTorch file.: pass the style .pt"):
        load_style_model(str(junk))
    (tmp_path / "empty.pt").write_bytes(b"")  # ('not a PyTorch file', where a picture says 'an empty file')
    with pytest.raises(StyleModelError, match="^.*empty.pt is an empty file .0 bytes.: get or train it again$"):
        load_style_model(str(tmp_path / "empty.pt"))
    onnx = tmp_path / "style.onnx"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch")
    with pytest.raises(StyleModelError, match="an ONNX export, for other programs: .*--backend onnxruntime runs that"):
        load_style_model(str(onnx))
    painting = tmp_path / "candy.JPG"  # a painting given to stylize in its style: "not a PyTorch file" alone
    painting.write_bytes(b"\xff\xd8\xff\xe0")
    with pytest.raises(StyleModelError, match=r"candy.JPG is a picture, not a style model: train one on the painting "):
        load_style_model(str(painting))
    with pytest.raises(StyleModelError, match=f"fast-style-train style.image={painting}\\), or paint one photo"):
        load_style_model(str(painting))
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(StyleModelError, match="a PyTorch file but not a fast-style model: pass the style .pt"):
        load_style_model(str(foreign))
    checkpoint = tmp_path / "last.ckpt"
    torch.save({"state_dict": {}, "pytorch-lightning_version": "2.5"}, checkpoint)
    with pytest.raises(StyleModelError, match="a training checkpoint: pass the style .pt its run wrote"):
        load_style_model(str(checkpoint))
    scripted = tmp_path / "exported.ts"
    from fast_style.model.export import to_torchscript

    torch.jit.save(to_torchscript(TransformerNet(channels=(4, 8, 8), num_residual=1)), str(scripted))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # torch's own notice on such a file is kept out
        with pytest.raises(StyleModelError, match="a TorchScript export, for other programs: pass the style .pt"):
            load_style_model(str(scripted))
    newer = tmp_path / "newer.pt"
    torch.save({"format": STYLE_MODEL_FORMAT, "version": 99, "config": {}, "state_dict": {}}, newer)
    with pytest.raises(StyleModelError, match="upgrade fast-style"):
        load_style_model(str(newer))
    torch.save({"format": STYLE_MODEL_FORMAT, "version": 1, "config": {}}, newer)  # "is damaged: 'state_dict'"
    with pytest.raises(StyleModelError, match=r"newer\.pt is damaged: it holds no weights \(no state_dict\)$"):
        load_style_model(str(newer))
    for version in ("1", None):  # "has style-model format version 1; this fast-style reads up to 1: upgrade"
        torch.save({"format": STYLE_MODEL_FORMAT, "version": version, "config": {}, "state_dict": {}}, newer)
        with pytest.raises(StyleModelError, match=rf"newer\.pt is damaged: its format version is {version!r}, not a"):
            load_style_model(str(newer))
    good = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:-500])
    with pytest.raises(StyleModelError, match=r"damaged \(cut short by a download or a full disk\?\): get or train"):
        load_style_model(str(truncated))


def test_a_model_whose_config_or_meta_is_no_table_is_damaged(tmp_path: Path) -> None:
    """A style model whose config or meta was not a table raised ValueError or TypeError: a traceback where
    `fast-style-serve --models` left other damaged files out with a warning."""
    good = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "good.pt")
    for key, value in (("config", "nonsense"), ("config", ["a"]), ("meta", None), ("meta", [1])):
        payload = torch.load(good, weights_only=True)
        payload[key] = value
        torch.save(payload, tmp_path / "bad.pt")
        if value is None:  # none at all: as an empty table
            assert load_style_model(str(tmp_path / "bad.pt"))[1] == {}
            continue
        with pytest.raises(StyleModelError, match=rf"bad\.pt is damaged: its {key} is no table"):
            load_style_model(str(tmp_path / "bad.pt"))


def test_a_model_with_nan_weights_is_neither_saved_nor_loaded(tmp_path: Path) -> None:
    """Stylize wrote all-black pictures (exit 0) with a model whose weights held NaN, which export refused; and such
    a model was saved without a word. A pickle of another protocol warned in two lines before its one line."""
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    good = save_style_model(net, tmp_path / "good.pt")
    with torch.no_grad():
        net.encoder[1][1].weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(UserError, match=r"weight encoder\.1\.1\.weight holds NaN or infinite values: not saved"):
        save_style_model(net, tmp_path / "nan.pt")
    assert not (tmp_path / "nan.pt").exists()
    with torch.no_grad():
        net.encoder[1][1].weight[0, 0, 0, 0] = 1e6  # finite, but past float16's range
    with pytest.raises(UserError, match=r"\(too large for float16\): not saved"):
        save_style_model(net, tmp_path / "half.pt", dtype=torch.float16)
    payload = torch.load(good, weights_only=True)  # a file damaged after it was written
    payload["state_dict"]["encoder.1.1.weight"][0, 0, 0, 0] = float("inf")
    torch.save(payload, tmp_path / "inf.pt")
    with pytest.raises(StyleModelError, match=r"inf\.pt is damaged: its weight encoder\.1\.1\.weight holds NaN"):
        load_style_model(str(tmp_path / "inf.pt"))
    torch.save({"state_dict": {}}, tmp_path / "protocol.pt", pickle_protocol=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(StyleModelError, match="not a fast-style model"):
            load_style_model(str(tmp_path / "protocol.pt"))


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/fast-style-pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    torch.save({"format": STYLE_MODEL_FORMAT, "version": 1, "payload": _Evil()}, evil)
    marker = Path("/tmp/fast-style-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(StyleModelError, match="Python objects, which are never loaded") as e:
        load_style_model(str(evil))
    assert "\n" not in str(e.value) and "weights_only" not in str(e.value)
    assert not marker.exists()


@contextmanager
def files_limited_to(size: int):
    """Real write failures from the OS: files may not grow past `size` bytes (EFBIG, like a full disk)."""
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


def test_style_model_and_torchscript_writes_that_fail_are_one_line(tmp_path: Path, capsys) -> None:
    from fast_style.atomic import DiskError, writing
    from fast_style.cli.export import main as export_main

    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    model = save_style_model(net, tmp_path / "m.pt")
    earlier = model.read_bytes()
    with files_limited_to(4096), pytest.raises(DiskError, match="cannot write .*m.pt: File too large"):
        with writing(model):
            save_style_model(net, model, {"step": 2}, force=True)
    assert model.read_bytes() == earlier and sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
    with files_limited_to(4096):
        code = export_main([str(model), "-o", str(tmp_path / "m.ts")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: cannot write") and "File too large" in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_float16_style_model_is_half_the_size_and_loads_as_float32(tmp_path: Path) -> None:
    net = TransformerNet(channels=(8, 16, 32), num_residual=2).eval()
    full = save_style_model(net, tmp_path / "full.pt")
    half = save_style_model(net, tmp_path / "half.pt", dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = load_style_model(str(half))
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.rand(1, 3, 24, 20)
    assert (loaded(x) - net(x)).abs().max() < 2e-3  # fp16 rounding of the weights only
    with pytest.raises(ValueError, match=r"^style models are stored as torch\.float32 or torch\.float16, not torch"):
        save_style_model(net, tmp_path / "b.pt", dtype=torch.bfloat16)
    for name in ("fp16", "float16", None):  # a wrong kind: it said "not float16" (the name printed as a dtype is)
        with pytest.raises(
            TypeError, match=rf"^dtype is torch\.float32 or torch\.float16 \(a torch\.dtype\), not {name!r}$"
        ):
            save_style_model(net, tmp_path / "b.pt", dtype=name)
    assert not (tmp_path / "b.pt").exists()


def test_load_style_model_takes_a_runs_folder_as_everything_else_does(tmp_path: Path) -> None:
    """load_style_model("runs/sea") said "cannot read style model runs/sea: Is a directory", where Stylizer.load and
    export take a run's folder for its style.pt."""
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(net, tmp_path / "run" / "style.pt")
    loaded, _ = load_style_model(tmp_path / "run")
    torch.testing.assert_close(loaded.state_dict(), net.state_dict())
    (tmp_path / "empty").mkdir()
    with pytest.raises(StyleModelError, match=r"empty is a folder without a style\.pt: give a style-model file"):
        load_style_model(tmp_path / "empty")


def test_save_style_model_says_a_wrong_argument_before_an_existing_file(tmp_path: Path) -> None:
    # it said "exists: use force=True", and then, forced, that the network was a path (the arguments swapped)
    model = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "style.pt")
    before = model.read_bytes()
    with pytest.raises(TypeError, match=r"^save_style_model takes a TransformerNet, not str .*: a file is copied as"):
        save_style_model(str(model), model)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^dtype is torch\.float32 or torch\.float16"):
        save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), model, dtype="fp16")
    assert model.read_bytes() == before


def test_save_style_model_refuses_a_path_that_is_none_or_empty() -> None:
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    for path in (None, 123):  # pathlib's "expected str, bytes or os.PathLike object, not NoneType"
        with pytest.raises(TypeError, match=r"^save_style_model writes to a file's path \(e\.g\. 'style\.pt'\), not "):
            save_style_model(net, path)
    for path in ("", " "):  # "cannot write .: it is a folder"
        with pytest.raises(
            UserError, match=r"^save_style_model's path is empty: give a file's name, e\.g\. style\.pt$"
        ):
            save_style_model(net, path)


def test_file_of_the_removed_input_skip_network_is_refused_in_one_line(tmp_path: Path) -> None:
    path = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "old.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["input_skip"] = True
    torch.save(payload, path)
    with pytest.raises(StyleModelError, match="input_skip=true.*train it again"):
        load_style_model(str(path))
    payload["config"]["input_skip"] = False  # 0.1's files of the paper's network still load
    torch.save(payload, path)
    assert load_style_model(str(path))[0].config["num_residual"] == 1


@pytest.mark.parametrize("h,w", [(32, 32), (37, 53), (5, 7), (130, 67)])
def test_the_antialiased_network_keeps_sizes_parameters_and_files(h: int, w: int, tmp_path: Path) -> None:
    from fast_style.model.network import BlurPool

    plain, smooth = TransformerNet(channels=(4, 8, 8), num_residual=1), TransformerNet((4, 8, 8), 1, antialias=True)
    assert smooth.state_dict().keys() == plain.state_dict().keys()  # the filters are fixed, not weights
    assert sum(isinstance(m, BlurPool) for m in smooth.modules()) == 2 and "antialias" not in plain.config
    y = smooth.eval()(torch.rand(2, 3, h, w))
    assert y.shape == (2, 3, h, w) and 0 <= y.min() and y.max() <= 1
    loaded, _ = load_style_model(str(save_style_model(smooth, tmp_path / "aa.pt")))
    assert loaded.config["antialias"] is True
    x = torch.rand(1, 3, h, w)
    torch.testing.assert_close(loaded(x), smooth(x))


@pytest.mark.parametrize("which,blurs,bilinear", [("down", 2, 0), ("up", 0, 2), ("both", 2, 2), ("none", 0, 0)])
def test_antialias_takes_either_part_alone(which: str, blurs: int, bilinear: int, tmp_path: Path) -> None:
    from fast_style.model.network import BlurPool

    net = TransformerNet((4, 8, 8), 1, antialias=which)
    assert sum(isinstance(m, BlurPool) for m in net.modules()) == blurs
    assert sum(isinstance(m, torch.nn.Upsample) and m.mode == "bilinear" for m in net.modules()) == bilinear
    loaded, _ = load_style_model(str(save_style_model(net, tmp_path / "net.pt")))
    assert loaded.config.get("antialias") == {"down": "down", "up": "up", "both": True, "none": None}[which]
    x = torch.rand(1, 3, 20, 28)
    torch.testing.assert_close(loaded.eval()(x), net.eval()(x))
    with pytest.raises(ValueError, match="antialias='sideways': use none, down"):
        TransformerNet((4, 8, 8), 1, antialias="sideways")


def test_blur_pool_is_a_normalised_blur_then_every_second_pixel() -> None:
    from fast_style.model.network import BlurPool

    flat = torch.full((1, 2, 8, 10), 0.7)
    torch.testing.assert_close(BlurPool(2)(flat), torch.full((1, 2, 4, 5), 0.7))  # a constant stays
    stripes = torch.zeros(1, 1, 8, 8)
    stripes[..., ::2] = 1.0  # the highest frequency: plain subsampling would keep 1s or 0s only
    assert BlurPool(1)(stripes)[..., 1:-1, 1:-1].std() < 1e-6


def test_the_channels_last_norm_is_instance_norm() -> None:
    """Channels-last CPU images take group norm's kernel (network.InstanceNorm): the same figures."""
    norm = TransformerNet().encoder[1][2]
    torch.nn.init.normal_(norm.weight), torch.nn.init.normal_(norm.bias)
    x = torch.randn(1, norm.num_features, 19, 23) * 3 + 1
    nhwc = x.contiguous(memory_format=torch.channels_last)
    expected = torch.nn.functional.instance_norm(x, weight=norm.weight, bias=norm.bias, eps=norm.eps)
    assert norm(nhwc).is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(norm(nhwc), expected, atol=1e-5, rtol=1e-5)
    both = torch.cat([x, -x])
    torch.testing.assert_close(norm(both.contiguous(memory_format=torch.channels_last)), norm(both), atol=1e-5, rtol=0)
    torch.testing.assert_close(norm(both), torch.cat([expected, norm(-x)]))


@pytest.mark.parametrize("cin,cout,k", [(16, 3, 9), (3, 16, 9), (8, 5, 3), (4, 2, 1)])
def test_space_to_depth_conv_is_the_convolution(cin: int, cout: int, k: int) -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(cin, cout, k)
    folded = SpaceToDepthConv(conv)
    for h, w in [(20, 26), (21, 17)]:  # odd sizes take the convolution itself
        x = torch.randn(2, cin, h, w)
        torch.testing.assert_close(folded(x), conv(x), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="stride-1"):
        SpaceToDepthConv(torch.nn.Conv2d(3, 3, 3, stride=2))


@pytest.mark.parametrize("h,w", [(6, 9), (1, 2), (2, 7)])
def test_sub_pixel_upsample_conv_is_the_upsampling_conv(h: int, w: int) -> None:
    torch.manual_seed(0)
    up = UpsampleConv(6, 5).eval()
    torch.nn.init.normal_(up[1][2].weight, 1.0, 0.3)  # the norm's affine, so its output depends on every phase
    sub = SubPixelUpsampleConv(up)
    x = torch.randn(1, 6, h, w)
    with torch.no_grad():
        expected = up(x)
        nhwc = sub(x.contiguous(memory_format=torch.channels_last))  # the folded path (channels-last images)
        assert nhwc.shape == (1, 5, 2 * h, 2 * w) and nhwc.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(nhwc, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(sub(x), expected)  # anything else runs the original
    with pytest.raises(ValueError, match="nearest"):
        SubPixelUpsampleConv(UpsampleConv(6, 5, antialias=True))


def test_the_cpu_inference_copy_computes_the_same_network() -> None:
    torch.manual_seed(0)
    net = TransformerNet(channels=(8, 16, 32), num_residual=2).eval()
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.05)
    x = torch.rand(1, 3, 37, 50)
    fast = for_cpu_inference(net, torch.float32)
    assert isinstance(fast.decoder[-1], SpaceToDepthConv) and isinstance(net.decoder[-1], torch.nn.Conv2d)
    assert [type(m) for m in fast.decoder[:2]] == [SubPixelUpsampleConv] * 2
    assert receptive_margin(fast) == receptive_margin(net)  # tiles keep their context
    with torch.no_grad():
        torch.testing.assert_close(fast(x.contiguous(memory_format=torch.channels_last)), net(x), atol=1e-5, rtol=0)
    assert next(for_cpu_inference(net).parameters()).dtype == torch.bfloat16


def test_channels_must_be_three_widths() -> None:
    with pytest.raises(ValueError, match=r"channels must be three widths, e.g. \[32, 64, 128\], got 32"):
        TransformerNet(channels=32)  # model.channels=32: it was "'int' object is not iterable"


def test_a_model_whose_weights_do_not_fit_its_network_says_which(tmp_path: Path) -> None:
    """'missing.pt is damaged: Error(s) in loading state_dict for TransformerNet:' ended at the colon: the line
    that says what is wrong was the exception's second."""
    from fast_style.errors import UserError

    path = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["decoder.3.weight"]
    torch.save(payload, tmp_path / "missing.pt")
    with pytest.raises(
        UserError, match=r"missing.pt is damaged: Error\(s\) in loading .*: Missing key\(s\) in state_dict"
    ):
        load_style_model(str(tmp_path / "missing.pt"))


def test_the_style_model_file_names_are_still_found_in_network() -> None:
    """They lived in fast_style.model.network (the README's API) before fast_style/model/style_model.py."""
    import fast_style.model.network as network
    from fast_style.model import style_model

    assert network.save_style_model is style_model.save_style_model
    assert network.StyleModelError is style_model.StyleModelError
    assert (network.STYLE_MODEL_FORMAT, network.STYLE_MODEL_VERSION) == (style_model.STYLE_MODEL_FORMAT, 1)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        network.nothing  # noqa: B018


def test_a_training_checkpoint_names_the_style_model_to_pass(tmp_path: Path) -> None:
    """A checkpoint given as the style model said "pass the style .pt its run wrote", where the one of its step lies
    beside it."""
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({"state_dict": {}, "pytorch-lightning_version": "2.5", "global_step": 400}, folder / "step=000400.ckpt")
    model = TransformerNet(channels=(4, 8, 8), num_residual=1)
    save_style_model(model, folder / "style-step=000400.pt")
    with pytest.raises(StyleModelError, match=r"training checkpoint: pass the style model written beside it at its "):
        load_style_model(str(folder / "step=000400.ckpt"))
    with pytest.raises(StyleModelError, match=r"at its step, .*run/checkpoints/style-step=000400\.pt$"):
        load_style_model(str(folder / "step=000400.ckpt"))
    (folder / "style-step=000400.pt").unlink()
    save_style_model(model, tmp_path / "run" / "style.pt")
    with pytest.raises(StyleModelError, match=r"training checkpoint: pass its run's style model, .*run/style\.pt$"):
        load_style_model(str(folder / "step=000400.ckpt"))


def test_a_shape_that_is_not_whole_numbers_is_refused_by_name() -> None:
    # num_residual="2" failed with "'<' not supported between instances of 'str' and 'int'"; 2.5 built 2 blocks.
    # By every setting's rule: no number a TypeError, a number it does not take a UserError (2.5 had been a TypeError)
    for kwargs, error, said in (
        ({"num_residual": "2"}, TypeError, "model.num_residual must be a whole number >= 0, not '2'"),
        ({"num_residual": True}, TypeError, "model.num_residual must be a whole number >= 0, not True"),
        ({"num_residual": 2.5}, UserError, "model.num_residual must be a whole number >= 0, got 2.5"),
        ({"kernel_outer": 9.5}, UserError, "model.kernel_outer must be an odd whole number >= 1, got 9.5"),
        ({"channels": (4, 8.5, 8)}, UserError, "model.channels must be whole numbers >= 1, got 8.5"),
    ):
        with pytest.raises(error, match=f"^{re.escape(said)}$"):
            TransformerNet(**kwargs)
    # a whole number's value whatever its type, as max_size takes 100.0 (9.0 had been refused here, 100.0 taken there)
    assert TransformerNet(channels=[4, 8, 8], num_residual=1.0, kernel_outer=9.0).config == {
        "channels": [4, 8, 8],
        "num_residual": 1,
        "kernel_outer": 9,
    }
    assert [type(v) for v in TransformerNet(channels=[4, 8.0, 8], num_residual=1.0).config.values()] == [list, int, int]
    numpy_s = TransformerNet(channels=np.array([4, 8, 8]), num_residual=np.int64(1)).config  # numpy's, as Python's
    assert (numpy_s["channels"], type(numpy_s["channels"][0]), numpy_s["num_residual"]) == ([4, 8, 8], int, 1)
