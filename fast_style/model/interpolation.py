"""Weight-space interpolation between two style models of one shape.

A stability fine-tune (temporal=shift) and the model it started from lie in one basin of the loss: the straight
line between their weights trades the fine-tune's stability back for style loss smoothly, and on the zoo's models a
point on it beats the fine-tune's own checkpoints on both at once (benchmarks/README.md; the idea is Wortsman et
al.'s weight-space ensembles for fine-tuning, 2022). scripts/build_zoo.py --blend-with uses it.
"""

from __future__ import annotations

import copy
import numbers

import torch

from fast_style.model.network import TransformerNet, not_a_network
from fast_style.model.style_model import StyleModelError
from fast_style.numbers import check_number


def interpolate(start: TransformerNet, end: TransformerNet, share: float) -> TransformerNet:
    """A new network whose every parameter is `(1 - share) * start + share * end` (float32).

    share=0 gives `start`, share=1 gives `end`. The two must have one shape (the same `config` but for what holds no
    weights, `antialias`, which a fine-tune may change: the blend takes the nearer one's): a fine-tune and the model
    it was fine-tuned from."""
    for name, net in (("start", start), ("end", end)):  # a path, or load_style_model's pair: an AttributeError
        if not isinstance(net, TransformerNet):  # (a TypeError, as save_style_model's and a Stylizer's)
            load = "load it with load_style_model(path)[0]"
            raise TypeError(f"interpolate's {name} takes a TransformerNet, {not_a_network(net, load, load)}")
    if isinstance(share, torch.Tensor) and share.numel() == 1 and share.is_floating_point():
        share = share.item()  # torch.linspace's: "share must be a number from 0 to 1, got tensor(0.5000)"
    if isinstance(share, numbers.Real) and not isinstance(share, bool):  # numpy's float32 (np.linspace's) too:
        share = float(share)  # "share must be a number from 0 to 1, got np.float32(0.5)"
    share = check_number("share", share, lambda v: 0.0 <= v <= 1.0, "a number from 0 to 1")
    weightless = ("antialias",)
    if {k: v for k, v in dict(start.config).items() if k not in weightless} != {
        k: v for k, v in dict(end.config).items() if k not in weightless
    }:
        raise StyleModelError(
            f"cannot blend a {dict(start.config)} network with a {dict(end.config)} one: "
            "blend a fine-tune with the model it started from"
        )
    blended = copy.deepcopy(end if share > 0.5 else start).float()
    a, b = start.state_dict(), end.state_dict()
    with torch.no_grad():
        state = {k: torch.lerp(a[k].float(), v.float(), share) if v.is_floating_point() else v for k, v in b.items()}
    blended.load_state_dict(state)
    return blended.eval()
