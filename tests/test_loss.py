import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from fast_style.errors import UserError
from fast_style.perceptual.loss import PerceptualLoss, VGGFeatures, gram_matrix, total_variation, vgg_layers


def test_gram_matches_hand_computation() -> None:
    f = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    g = gram_matrix(f)
    assert g.shape == (2, 3, 3)
    for b in range(2):
        for i in range(3):
            for j in range(3):
                expected = sum(f[b, i, y, x] * f[b, j, y, x] for y in range(2) for x in range(2)) / (3 * 2 * 2)
                assert g[b, i, j].item() == pytest.approx(expected.item())


def test_gram_scale_does_not_depend_on_image_size() -> None:
    small = torch.rand(1, 8, 16, 16)
    big = small.repeat(1, 1, 4, 4)  # the same statistics on 16x the pixels
    torch.testing.assert_close(gram_matrix(small), gram_matrix(big))


def test_gram_of_a_channels_last_tensor_is_the_same() -> None:
    f = torch.rand(2, 5, 6, 7)
    nhwc = f.contiguous(memory_format=torch.channels_last)
    assert not nhwc.is_contiguous()
    torch.testing.assert_close(gram_matrix(nhwc), gram_matrix(f))


def test_total_variation() -> None:
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., ::2] = 1  # columns alternate 1, 0: every horizontal step differs by 1
    assert total_variation(stripes).item() == pytest.approx(1.0)


@pytest.fixture
def loss(random_vgg: Path) -> PerceptualLoss:
    return PerceptualLoss(weights=str(random_vgg), style_weight=2.0, content_weight=3.0, tv_weight=0.5)


def test_losses_are_zero_on_identical_inputs(loss: PerceptualLoss) -> None:
    x = torch.rand(2, 3, 32, 32)
    loss.set_style(x[:1])
    terms = loss(x[:1], x[:1])
    assert terms["content"].item() == 0
    assert terms["style"].item() == pytest.approx(0, abs=1e-12)
    flat = torch.full((1, 3, 32, 32), 0.5)
    assert loss(flat, flat)["content"].item() == 0
    assert loss(flat, flat)["tv"].item() == 0


def test_style_is_measured_against_the_style_image_not_the_photo(loss: PerceptualLoss) -> None:
    style, photo = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    loss.set_style(style)
    painted_like_the_style = loss(style, photo)
    assert painted_like_the_style["style"].item() == pytest.approx(0, abs=1e-12)
    assert painted_like_the_style["content"] > 0
    unchanged_photo = loss(photo, photo)
    assert unchanged_photo["content"].item() == 0
    assert unchanged_photo["style"] > 0


def test_terms_are_the_weighted_per_layer_distances(random_vgg: Path) -> None:
    layers = {"relu1_2": np.float32(0.25), "relu3_3": 4.0}  # (numpy's float32 had been refused)
    loss = PerceptualLoss(
        weights=str(random_vgg),
        style_layers=layers,
        content_layers={"relu2_2": 1.0, "relu3_3": 0.5},
        style_weight=2.0,
        content_weight=3.0,
        tv_weight=0.5,
    )
    style = torch.rand(1, 3, 40, 48)
    loss.set_style(style)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    t = loss(x, y)
    assert t["content"] > 0 and t["style"] > 0 and t["tv"] > 0
    vgg = VGGFeatures(["relu1_2", "relu2_2", "relu3_3"], str(random_vgg))  # the same weights, computed afresh
    fx, fy = vgg(x, ["relu1_2", "relu2_2", "relu3_3"]), vgg(y, ["relu2_2", "relu3_3"])
    fs = vgg(style, ["relu1_2", "relu3_3"])

    def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ((a.float() - b.float()) ** 2).mean()

    content = 3.0 * (1.0 * mse(fx["relu2_2"], fy["relu2_2"]) + 0.5 * mse(fx["relu3_3"], fy["relu3_3"]))
    style_d = 2.0 * sum(w * mse(gram_matrix(fx[n]), gram_matrix(fs[n]).expand(2, -1, -1)) for n, w in layers.items())
    torch.testing.assert_close(t["content"], content, rtol=1e-4, atol=0)
    torch.testing.assert_close(t["style"], style_d, rtol=1e-4, atol=0)
    torch.testing.assert_close(t["tv"], 0.5 * total_variation(x))
    torch.testing.assert_close(t["total"], content + style_d + 0.5 * total_variation(x), rtol=1e-4, atol=0)


def test_channels_last_vgg_computes_the_same_losses_and_gradients(loss: PerceptualLoss) -> None:
    loss.set_style(torch.rand(1, 3, 40, 48))
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    results = {}
    for layout in (False, True, None):  # None: the default, channels-last on a CPU
        loss.vgg.channels_last = layout
        image = x.clone().requires_grad_(True)
        terms = loss(image, y)
        terms["total"].backward()
        results[layout] = ({k: v.detach() for k, v in terms.items()}, image.grad)
        feats = loss.vgg(x, ["relu2_2"])["relu2_2"]
        assert feats.is_contiguous(memory_format=torch.channels_last) == (layout is not False)
    for layout in (True, None):
        for name, value in results[False][0].items():
            torch.testing.assert_close(results[layout][0][name], value, rtol=1e-4, atol=0)
        torch.testing.assert_close(results[layout][1], results[False][1], rtol=1e-3, atol=1e-6)


def test_gradients_flow_to_the_image_only(loss: PerceptualLoss) -> None:
    loss.set_style(torch.rand(1, 3, 32, 32))
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    loss(x, torch.rand(1, 3, 32, 32))["total"].backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.vgg.parameters())


def test_vgg_is_frozen_truncated_and_out_of_state_dict(random_vgg: Path) -> None:
    vgg = VGGFeatures(["relu1_2", "relu2_2"], weights=str(random_vgg))
    assert len(vgg.features) == vgg_layers("vgg16")["relu2_2"] + 1
    vgg.train()
    assert not vgg.training and not vgg.features.training
    assert not any(p.requires_grad for p in vgg.parameters())
    outer = torch.nn.Sequential(torch.nn.Linear(2, 2), vgg)
    keys = list(outer.state_dict())
    assert keys == ["0.weight", "0.bias"]
    before = vgg.features[0].weight.clone()
    outer.load_state_dict(outer.state_dict(), strict=True)  # strict loading still works without VGG keys
    torch.testing.assert_close(vgg.features[0].weight, before)


def test_caffe_normalization_flips_to_bgr_and_scales(random_vgg: Path, tmp_path: Path) -> None:
    state = torch.load(random_vgg, weights_only=True)
    caffe_file = tmp_path / "caffe.pth"
    torch.save({"normalization": "caffe", "state_dict": state}, caffe_file)
    imagenet = VGGFeatures(["relu1_1"], weights=str(random_vgg))
    caffe = VGGFeatures(["relu1_1"], weights=str(caffe_file))
    assert caffe.bgr and not imagenet.bgr
    x = torch.zeros(1, 3, 4, 4)
    x[:, 0] = 1.0  # pure red
    normalized = caffe.normalize(x)
    assert normalized[0, 2, 0, 0].item() == pytest.approx(255 - 123.68)  # red lands in the last (R of BGR) channel
    assert normalized[0, 0, 0, 0].item() == pytest.approx(-103.939)
    assert imagenet.normalize(x)[0, 0, 0, 0].item() == pytest.approx((1 - 0.485) / 0.229)
    # the features are computed from exactly that input: the first conv layer, by hand, on the normalized pixels
    first = torch.nn.functional.conv2d(normalized, caffe.features[0].weight, caffe.features[0].bias, padding=1)
    torch.testing.assert_close(caffe(x)["relu1_1"], first.relu())


def test_a_files_default_loss_weights_follow_its_normalization(random_vgg: Path, tmp_path: Path) -> None:
    """loss=file with caffe's weights (the cache's file, copied for an offline machine) trained under torchvision's
    defaults (content 1e5, style 1e10): style outweighed content 20,000 times more than under caffe's."""
    state = torch.load(random_vgg, weights_only=True)
    torch.save({"normalization": "caffe", "state_dict": state}, tmp_path / "caffe.pth")
    caffe = PerceptualLoss(weights=str(tmp_path / "caffe.pth"), style_weight=7.0)
    assert (caffe.content_weight, caffe.style_weight, caffe.tv_weight) == (1.0, 7.0, 1.0e3)
    assert caffe.defaults["style_weight"] == 5.0
    from fast_style.perceptual.loss import default_loss_weights

    assert default_loss_weights(str(tmp_path / "caffe.pth")) == caffe.defaults  # eval's, for --weights FILE too
    imagenet = PerceptualLoss(weights=str(random_vgg))  # no entry: ImageNet's, torchvision's scale
    assert (imagenet.content_weight, imagenet.style_weight, imagenet.tv_weight) == (1.0e5, 1.0e10, 1.0e2)


def test_layer_and_source_errors(random_vgg: Path, tmp_path: Path) -> None:
    # each weight by every setting's rule: inf and NaN had been taken (the run then stopped at its first step)
    for given, said in (
        ({"style_layers": {"relu2_2": math.inf}}, "loss.style_layers.relu2_2 must be a finite number >= 0, got inf"),
        ({"content_layers": {"relu2_2": -1}}, "loss.content_layers.relu2_2 must be a finite number >= 0, got -1"),
        ({"style_weight": math.nan}, "loss.style_weight must be a finite number >= 0, got nan"),
        ({"tv_weight": -5}, "loss.tv_weight must be a finite number >= 0, got -5"),
    ):
        with pytest.raises(UserError, match=f"^{re.escape(said)}$"):
            PerceptualLoss(weights=str(random_vgg), **given)
    with pytest.raises(TypeError, match="loss.content_weight must be a finite number >= 0, not 'x'"):
        PerceptualLoss(weights=str(random_vgg), content_weight="x")  # (float()'s words)
    with pytest.raises(UserError, match="unknown vgg16 layers"):
        VGGFeatures(["relu9_9"], weights=str(random_vgg))
    with pytest.raises(UserError, match="not found"):
        VGGFeatures(["relu1_1"], weights="no/such/file.pth")
    with pytest.raises(UserError, match="vgg16 only"):
        VGGFeatures(["relu1_1"], weights="caffe", arch="vgg19")
    with pytest.raises(UserError, match="unknown VGG arch"):
        VGGFeatures(["relu1_1"], weights=str(random_vgg), arch="vgg11")
    state = torch.load(random_vgg)
    state["2.weight"] = torch.zeros(64, 64, 5, 5)  # another network's layer
    torch.save(state, tmp_path / "other.pth")
    with pytest.raises(UserError, match=r"other.pth' are not vgg16's: size mismatch for 2.weight: .*\[64, 64, 5, 5\]"):
        VGGFeatures(["relu1_2"], weights=str(tmp_path / "other.pth"))


def test_vgg19_layers_from_a_file(tmp_path: Path) -> None:
    import torchvision

    path = tmp_path / "vgg19.pth"
    torch.save(torchvision.models.vgg19(weights=None).features[:30].state_dict(), path)
    vgg = VGGFeatures(["relu5_1", "relu4_2"], weights=str(path), arch="vgg19")
    out = vgg(torch.rand(1, 3, 32, 32))
    assert out["relu5_1"].shape == (1, 512, 2, 2) and out["relu4_2"].shape == (1, 512, 4, 4)


def test_loss_needs_a_style_first(loss: PerceptualLoss) -> None:
    with pytest.raises(RuntimeError, match="set_style"):
        loss(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))


def test_an_image_too_small_for_the_vgg_is_one_line(loss: PerceptualLoss) -> None:
    """optimize_image from Python with a 12 px photo (fast-style-optimize's own check is in the CLI) ended in
    PyTorch's RuntimeError from a pooling deep in the VGG."""
    from fast_style.perceptual.optimize import optimize_image

    loss.set_style(torch.rand(1, 3, 32, 32))
    with pytest.raises(UserError, match="an image of 20x12 is under 16 px a side: too small for the VGG loss"):
        optimize_image(torch.rand(1, 3, 12, 20), loss, iterations=1)
    assert loss(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))["total"].isfinite()  # the least it takes


def test_sizes_the_memory_cannot_hold_are_refused_before_the_work(
    loss: PerceptualLoss, style_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast-style-optimize --style-size 100000 was killed by the kernel (exit 137, no word): Linux does not fail an
    allocation too large, it kills the process. What the style image and the VGG need is compared with the free
    memory first."""
    from fast_style import memory
    from fast_style.perceptual.style_image import load_style_image

    monkeypatch.setattr(memory, "free_memory", lambda: 50 * 2**20)  # 50 MB free
    with pytest.raises(UserError, match=r"the style image at size 4000 \(4000x\d+\) needs about .* GB of memory, "):
        load_style_image(str(style_path), 4000)  # the picture alone: 24 B a pixel (its VGG features may be a GPU's)
    assert load_style_image(str(style_path), 1000).shape[-1] == 1000  # 18 MB
    assert load_style_image(str(style_path), 64).shape[-1] == 64  # a small one fits
    with pytest.raises(UserError, match="a 300x300 style image needs about 0.1 GB of memory, 0.0 GB are free"):
        loss.set_style(torch.rand(1, 3, 300, 300))
    loss.set_style(torch.rand(1, 3, 32, 32))
    big = torch.rand(1, 3, 1500, 1500)
    with pytest.raises(UserError, match="the VGG loss of 2 MP needs about 5.9 GB"):
        loss(big.clone().requires_grad_(True), big)
    monkeypatch.setattr(memory, "free_memory", lambda: None)  # unknown (not Linux): not refused
    loss.set_style(torch.rand(1, 3, 300, 300))
