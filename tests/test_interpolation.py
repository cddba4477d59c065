"""fast_style.model.interpolation: the straight line between two style models' weights."""

import numpy as np
import pytest
import torch

from fast_style.errors import UserError
from fast_style.model.interpolation import interpolate
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import StyleModelError, load_style_model, save_style_model


def _pair() -> tuple[TransformerNet, TransformerNet]:
    torch.manual_seed(0)
    a = TransformerNet(channels=[8, 16, 32], num_residual=1)
    torch.manual_seed(1)
    return a, TransformerNet(channels=[8, 16, 32], num_residual=1)


def test_the_ends_are_the_two_models_and_a_share_between_is_their_weighted_mean() -> None:
    a, b = _pair()
    sa, sb = a.state_dict(), b.state_dict()
    assert any(not torch.equal(sa[k], sb[k]) for k in sa)  # two different networks
    for share in (0.0, 1.0, 0.3):
        blended = interpolate(a, b, share).state_dict()
        assert blended.keys() == sa.keys()
        for k in sa:
            torch.testing.assert_close(blended[k], (1 - share) * sa[k] + share * sb[k], rtol=0, atol=1e-6)
    # numpy's numbers (np.linspace(0, 1, 5, dtype=np.float32)) are numbers: "must be a number from 0 to 1, got
    # np.float32(0.5)"
    torch.testing.assert_close(interpolate(a, b, np.float32(0.5)).state_dict(), interpolate(a, b, 0.5).state_dict())


def test_the_inputs_are_left_as_they_were_and_the_blend_runs() -> None:
    a, b = _pair()
    before = {k: v.clone() for k, v in b.state_dict().items()}
    out = interpolate(a, b, 0.5)(torch.rand(1, 3, 20, 24))
    assert out.shape == (1, 3, 20, 24) and torch.isfinite(out).all()
    assert all(torch.equal(before[k], v) for k, v in b.state_dict().items())


def test_networks_of_two_shapes_or_a_share_outside_0_to_1_are_refused() -> None:
    a, _ = _pair()
    with pytest.raises(StyleModelError, match="blend a fine-tune with the model it started from"):
        interpolate(a, TransformerNet(channels=[8, 16, 32], num_residual=2), 0.5)
    for share in (1.5, float("nan")):  # (a ValueError, which no tool turned into one line)
        with pytest.raises(UserError, match="share must be a number from 0 to 1, got"):
            interpolate(a, a, share)


def test_a_path_or_load_style_models_pair_is_refused_in_one_line_and_a_torch_number_blends(tmp_path) -> None:
    """A file's name, or load_style_model's (network, metadata) pair, was an AttributeError ("'str' object has no
    attribute 'config'"); torch.linspace's numbers were refused as no number ("got tensor(0.5000)")."""
    a, b = _pair()
    path = save_style_model(a, tmp_path / "a.pt")
    # (a TypeError in save_style_model's and a Stylizer's words: it was a UserError of its own wording)
    with pytest.raises(TypeError, match="^interpolate's start takes a TransformerNet, not str .*: load it with load_"):
        interpolate(str(path), b, 0.5)
    with pytest.raises(TypeError, match=r"^interpolate's end .*not tuple: load_style_model gives \(network, meta\)"):
        interpolate(a, load_style_model(str(path)), 0.5)
    torch.testing.assert_close(
        interpolate(a, b, torch.linspace(0, 1, 3)[1]).state_dict(), interpolate(a, b, 0.5).state_dict()
    )


def test_a_fine_tune_with_another_upsampling_blends_and_keeps_the_nearer_ones() -> None:
    """antialias holds no weights, and fine-tuning may change it (module.init_from with model.antialias=up): the
    blend with the model it started from was refused, saying to do just that."""
    a, _ = _pair()
    torch.manual_seed(2)
    tuned = TransformerNet(channels=[8, 16, 32], num_residual=1, antialias="up")
    assert interpolate(tuned, a, 0.3).config.get("antialias") == "up"
    assert interpolate(tuned, a, 0.7).config.get("antialias") is None
