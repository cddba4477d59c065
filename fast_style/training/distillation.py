"""Distillation: train a smaller, faster network to paint like a trained style model, its teacher (the config
group `distill`; the zoo's `-fast` styles for live video on a CPU).

Each training step stylizes the batch with the frozen teacher; the term `distill` is `weight` x the mean absolute
difference between the student's picture and the teacher's (0-255 units) plus `feature_weight` x the mean
absolute difference of their features at one shallow layer of the loss's VGG (`feature_layer`). Pixels alone
give the palette and the shapes but blur the strokes; the shallow features bring the strokes back. Neither
the style's Gram matrices nor the deep layers are computed in a training step, so a step costs less than a
perceptual-loss step. Validation still reports the perceptual figures (style, content, coverage) beside the
term, so a student can be compared with its teacher (benchmarks/README.md).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fast_style.devices import native_bf16
from fast_style.errors import UserError
from fast_style.model.network import for_cpu_inference
from fast_style.numbers import check_number
from fast_style.perceptual.loss import VGGFeatures

FAST_CHANNELS, FAST_RESIDUAL = [16, 32, 64], 3  # configs/model/fast.yaml: the zoo's -fast styles' network


class Distillation(nn.Module):
    """`teacher`: a style-model file or a built-in style's name. Its weights stay out of `state_dict` (and so
    out of checkpoints): they come from that file."""

    def __init__(
        self, teacher: str, weight: float = 1.0, feature_weight: float = 0.5, feature_layer: str = "relu2_2"
    ) -> None:
        super().__init__()
        from fast_style import zoo
        from fast_style.model.style_model import load_style_model

        weight = check_number("distill.weight", weight, lambda v: 0 < v < math.inf, "a finite number > 0")
        feature_weight = check_number(
            "distill.feature_weight", feature_weight, lambda v: 0 <= v < math.inf, "a finite number >= 0"
        )
        self.feature_weight, self.feature_layer = float(feature_weight), str(feature_layer)
        try:  # the setting named, as module.init_from's are (the file's words alone named neither)
            net, meta = load_style_model(str(zoo.resolve(teacher)))
        except UserError as e:
            raise UserError(f"distill.teacher={teacher}: {e}") from None
        self.teacher_name, self.weight = str(teacher), float(weight)
        self.teacher_painting: str | None = meta.get("style_image")  # its file name, as training recorded it
        # in a dict, not as submodules, so never in state_dict; "fast": the teacher's bf16 channels-last copy
        self._nets: dict[str, nn.Module] = {"teacher": net.requires_grad_(False)}

    @property
    def teacher(self) -> nn.Module:
        return self._nets["teacher"]

    def larger_student(self, student: nn.Module) -> str | None:
        """The warning for a `student` at least as large as the teacher everywhere (model left at johnson for a -fast
        teacher): it runs slower than its teacher and paints no better; None for a smaller one."""
        mine = [*student.config["channels"], student.config["num_residual"]]
        theirs = [*self.teacher.config["channels"], self.teacher.config["num_residual"]]
        if mine == theirs or not all(m >= t for m, t in zip(mine, theirs, strict=True)):
            return None
        # model=fast where it is no larger than the teacher (a student already model=fast was told to use it)
        fast = [*FAST_CHANNELS, FAST_RESIDUAL]
        smaller = "model=fast, or " if fast != mine and all(f <= t for f, t in zip(fast, theirs)) else ""
        return (
            f"the student (model.channels={mine[:3]}, model.num_residual={mine[3]}) is larger than "
            f"distill.teacher={self.teacher_name} ({theirs[:3]}, {theirs[3]}): it runs slower than its teacher and "
            f"paints no better; give a smaller model ({smaller}model.channels and model.num_residual at most the "
            "teacher's)"
        )

    def _apply(self, fn, recurse: bool = True):  # .to(device) moves the teacher along
        self._nets = {"teacher": self.teacher._apply(fn, recurse)}
        return super()._apply(fn, recurse)

    @torch.no_grad()
    def target(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> the teacher's stylization, the same shape."""
        if images.device.type == "cpu" and native_bf16("cpu"):
            # as the Stylizer runs it on such a CPU: its bf16 channels-last copy, image by image (1.6x autocast's
            # speed)
            if "fast" not in self._nets:
                self._nets["fast"] = for_cpu_inference(self.teacher)
            with torch.autocast("cpu", enabled=False):
                x = images.to(torch.bfloat16, memory_format=torch.channels_last)
                return torch.cat([self._nets["fast"].eval()(xi[None]) for xi in x]).float()
        return self.teacher.eval()(images)

    def forward(
        self, stylized: torch.Tensor, target: torch.Tensor, vgg: VGGFeatures | None = None
    ) -> dict[str, torch.Tensor]:
        """stylized, target: (B, 3, H, W) in [0, 1]; `vgg` computes the features (needed if feature_weight > 0).
        Returns the terms `distill_pixels`, `distill_features` (when weighted) and their sum `distill`."""
        terms = {"distill_pixels": self.weight * (stylized.float() - target.float()).abs().mean() * 255}
        if self.feature_weight:
            if vgg is None or self.feature_layer not in vgg.index:
                raise UserError(
                    f"distill.feature_layer={self.feature_layer} is not a layer of the loss's VGG "
                    f"({', '.join(vgg.index) if vgg is not None else 'none'}): choose one of them"
                )
            with torch.no_grad():
                theirs = vgg(target, [self.feature_layer])[self.feature_layer]
            ours = vgg(stylized, [self.feature_layer])[self.feature_layer]
            terms["distill_features"] = self.feature_weight * (ours.float() - theirs.float()).abs().mean()
        terms["distill"] = sum(terms.values())
        return terms
