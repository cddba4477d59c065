"""Temporal smoothing at inference, for style models trained without stability (`fast-style-stylize --smooth`).

Each stylized frame is blended with the previous smoothed frame, by `strength`, where the input picture is still:
a pixel's weight falls off with how much the input changed there since the last frame (averaged over a 5x5
neighbourhood, so sensor noise counts as still and a moving edge does not), so moving objects are not dragged
behind (ghosting) while the texture on still parts stops swimming.

A camera that pans, zooms or rolls moves every pixel: the previous frames are first moved as the whole picture
moved since then (`shift`: phase correlation, to a fraction of a pixel; `align`: the scale and angle fitted to it),
so the texture is smoothed along the motion instead of being let through unsmoothed (where the picture changed)
or averaged across the motion's positions into a blur (in flat regions, where it did not). What that motion does
not explain (objects moving on their own, parallax) is gated as before; the strip a pan brings into view has no
past and is taken as stylized. The history is kept within the colours the new stylized frame has around each pixel
(`within_neighbours`), so what a moving object's painting reaches beyond the gate cannot trail it. The gate sees
change, not motion, so it also lets through the surroundings of what
moved (`near_motion`: a flat object's inside barely changes); where a fade changes the picture slowly, it blends
(README: what --smooth does not follow).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from fast_style.options import check_smoothing

SHIFT_SIDE = 512  # the longest side at which `shift` compares two frames
ALIGN_SIDE = 256  # the longest side at which `align` fits a zoom and a roll
ALIGN_STEPS = 6  # Gauss-Newton steps of `align`
ALIGN_GAIN = 0.98  # `align` keeps the pan alone unless the fit leaves less than this share of its residual
STILL = 0.04  # a mean input change (in [0, 1] units) at which a pixel counts as moving (weight e^-1 of strength)
MOVING = 0.1  # a weight under which a pixel has surely moved (change 1.5 STILL): its surroundings are let through too
MOTION_REACH = 1 / 16  # how far around a moving pixel, as a share of the frame's short side (16 px at 256)
NEIGHBOURS = 7  # the side of the square around each pixel whose colours bound the history (within_neighbours)


class TemporalSmoother:
    """Feed frames in order: `smoother.step(frame, stylized)` returns the smoothed stylized frame."""

    def __init__(self, strength: float, still: float = STILL) -> None:
        self.strength, self.still = check_smoothing(strength), still
        self._frame: torch.Tensor | None = None  # the last input frame, at the output's size
        self._out: torch.Tensor | None = None  # the last smoothed output

    def step(self, frame: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        """frame, stylized: (3, H, W) float in [0, 1] (the frame at the output's size) -> smoothed (3, H, W)."""
        if self._out is None or self._out.shape != stylized.shape or self.strength == 0:
            out = stylized
        else:
            # the last frame, its smoothed output and where they are known, moved as the picture moved since (a pan,
            # a zoom, a roll: `align`); that motion is taken only where it explains more of the picture than a still
            # camera does (an object moving over a flat, still background can have the stronger correlation: the
            # background then stays). The output's history is resampled again at every frame of a zoom or a roll:
            # bicubic, or it blurs (0.68 of the unsmoothed sharpness against 0.81; benchmarks/README.md)
            m = align(self._frame, frame, shift(self._frame, frame))
            seen = warped(torch.cat([self._frame, torch.ones_like(frame[:1])]), m)
            known = seen[3:] > 0.999  # (1, H, W): not the strip a pan brought into view
            still, panned = self._weight(frame, self._frame), self._weight(frame, seen[:3] * known)
            pan = (panned * known).mean() > still.mean()
            history = torch.where(pan, warped(self._out, m, "bicubic"), self._out)
            weight = near_motion(torch.where(pan, panned, still)) * (known | ~pan)  # the new strip: no past
            history = within_neighbours(history.to(stylized.dtype), stylized)
            out = torch.lerp(stylized, history, (self.strength * weight).to(stylized.dtype))
        self._frame, self._out = frame, out
        return out

    def _weight(self, frame: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        """(1, H, W) in [0, 1]: how still `frame` (3, H, W) is against the last frame as `past` (3, H, W) holds it,
        0 where it moved."""
        change = (frame - past).abs().mean(0, keepdim=True)  # (1, H, W)
        change = F.avg_pool2d(change[None], 5, stride=1, padding=2, count_include_pad=False)[0]
        return torch.exp(-((change / self.still) ** 2))


def within_neighbours(history: torch.Tensor, stylized: torch.Tensor, side: int = NEIGHBOURS) -> torch.Tensor:
    """`history` (3, H, W) held within the range of colours `stylized` has around each pixel (side x side px, each
    channel): where a moving object's painted surroundings reach past the gate's reach over a flat, still
    background (a cartoon, a screen recording), the history held them and they trailed the object as fading copies
    (22-25 grey levels on its path, 1.6-2.3 now); the texture of still and panned pictures stays within it, smoothed
    about as before (the temporal anti-aliasing of games clamps its history so)."""
    low = _neighbours(_neighbours(stylized, side, -1, torch.minimum), side, -2, torch.minimum)
    high = _neighbours(_neighbours(stylized, side, -1, torch.maximum), side, -2, torch.maximum)
    return torch.minimum(torch.maximum(history, low), high)


def _neighbours(x: torch.Tensor, side: int, dim: int, op: Callable) -> torch.Tensor:
    """`op` (torch.minimum or maximum) of the `side` (odd) pixels around each pixel of (C, H, W) along `dim` (-1, -2),
    the edges repeated: by windows doubling in width (max_pool2d took 0.9 s a 1080p frame on the CPU, this 0.08)."""
    p = side // 2
    m, width = F.pad(x[None], (p, p, 0, 0) if dim == -1 else (0, 0, p, p), mode="replicate")[0], 1
    while width < side:
        step = min(width, side - width)
        m = op(m.narrow(dim, 0, m.shape[dim] - step), m.narrow(dim, step, m.shape[dim] - step))
        width += step
    return m


def near_motion(weight: torch.Tensor, moving: float = MOVING) -> torch.Tensor:
    """`weight` (1, H, W), 0 also within about MOTION_REACH of the short side (to half a cell of the grid below)
    around where it has moved (under `moving` over 4x4 blocks: a thin edge alone, a warp's residue on a pan, is not
    motion): the flat inside of a moving object barely changes, so it looked still and trailed copies of its
    painted texture, while the flicker of still and panned pictures is smoothed as before (noise alone never brings
    a block under `moving`). Past the reach the weight comes back gradually, over half as far again: cut off at
    once, the line between smoothed and unsmoothed texture showed as a straight seam in flat sky. The reach is
    spread on a coarse grid of (1080p) 16 px blocks, so it stays cheap."""
    h, w = weight.shape[-2:]
    blocks = F.avg_pool2d(weight[None], 4, ceil_mode=True) < moving  # (1, 1, H/4, W/4): these moved
    reach = min(h, w) * MOTION_REACH / 4  # in 4 px blocks
    group = max(1, int(reach // 4))  # coarser cells, so that the reach is a few of them
    cells = F.max_pool2d(blocks.float(), group, ceil_mode=True)  # any block in the cell moved
    r = max(1, math.ceil(reach / group))
    fade = max(1, r // 4)  # cells over which the weight comes back
    # 1 within r cells of one that moved, falling to 0 at r + 2 fade + 1 (the pixels' interpolation below takes half
    # a cell off the inside: a whole cell more held back the smoothing of pans, 0.52 -> 0.57, for a fuller reach)
    for kernel in ((1, 2 * (r + fade) + 1), (2 * (r + fade) + 1, 1)):  # within r + fade cells
        cells = F.max_pool2d(cells, kernel, stride=1, padding=(kernel[0] // 2, kernel[1] // 2))
    for kernel in ((1, 2 * fade + 1), (2 * fade + 1, 1)):
        cells = F.avg_pool2d(cells, kernel, stride=1, padding=(kernel[0] // 2, kernel[1] // 2), count_include_pad=False)
    near = F.interpolate(cells, scale_factor=4 * group, mode="bilinear")[0, :, :h, :w]  # (1, H, W) in [0, 1]
    return weight * (1 - near)


def shift(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """How far the whole picture moved from `before` to `after` ((3, H, W) each): a (2,) tensor (dy, dx) in pixels,
    after(y, x) ~ before(y - dy, x - dx), by phase correlation of the grey frames (a Hann window against the edges'
    wrap-around), refined to a fraction of a pixel from the peak's neighbours; shifts under 0.1 px count as
    none. Larger frames are compared on their central SHIFT_SIDE x SHIFT_SIDE px (a pan moves all of the picture;
    at full resolution, as precise as the whole frame: 1080p in 0.2 s on two CPU cores, its centre in 0.02).
    Tensor operations only: on a GPU nothing waits for it."""
    h, w = before.shape[-2:]
    if max(h, w) > SHIFT_SIDE:
        top, left = max(0, (h - SHIFT_SIDE) // 2), max(0, (w - SHIFT_SIDE) // 2)
        centre = (..., slice(top, top + SHIFT_SIDE), slice(left, left + SHIFT_SIDE))
        return shift(before[centre], after[centre])
    window = torch.outer(
        torch.hann_window(h, periodic=False, device=before.device),
        torch.hann_window(w, periodic=False, device=before.device),
    )
    a, b = (x.float().mean(0) for x in (before, after))
    fa, fb = (torch.fft.rfft2((x - x.mean()) * window) for x in (a, b))
    cross = fb * fa.conj()
    r = torch.fft.irfft2(cross / (cross.abs() + 1e-12), s=(h, w))  # (H, W): a peak at the shift
    flat = r.flatten()
    peak = flat.argmax()
    py, px = peak // w, peak % w
    # the peak's neighbours along each axis, read with index tensors (a 0-dim one, r[y, x], is an .item(): a sync)
    steps = torch.arange(-1, 2, device=r.device)  # (made there: a copy from the host would wait on the GPU too)
    rows = flat.index_select(0, (py + steps) % h * w + px)  # (3,): above, at, below
    cols = flat.index_select(0, py * w + (px + steps) % w)  # (3,): left, at, right

    def refined(at: torch.Tensor, size: int, lo: torch.Tensor, mid: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        # phase correlation's peak is a sinc, not a parabola: for a sinc moved by f, q = (hi - lo) / mid is
        # 2f / (1 - f^2), so f = (sqrt(1 + q^2) - 1) / q; the difference of the two sides cancels the noise they
        # share (a parabola read 0.25 px as 0.12 and 0.125 as none; the larger side alone read noise as a move)
        q = (hi - lo) / mid.where(mid.abs() > 1e-12, 1)
        fraction = ((1 + q * q).sqrt() - 1) / q.where(q.abs() > 1e-9, 1)
        return torch.where(at > size // 2, at - size, at) + fraction.clamp(-0.5, 0.5)

    dy = refined(py, h, *rows)
    dx = refined(px, w, *cols)
    d = torch.stack([dy, dx]).float()
    return torch.where(d.abs() < 0.1, 0, d)


def align(before: torch.Tensor, after: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """How the whole picture moved from `before` to `after` ((3, H, W) each) as a zoom, a roll and a shift: a (2, 3)
    affine M in pixels about the frame's centre c, after(p) ~ before(M[:, :2] (p - c) + c + M[:, 2]) for p = (x, y).
    Fitted by Gauss-Newton on the grey frames (at most ALIGN_SIDE px), starting from `shift`'s (dy, dx) `d`, to a
    similarity (scale, angle, shift); the pan alone is kept where the fit does not explain the picture better
    (ALIGN_GAIN), so a pan is followed as precisely as `shift` finds it. Tensor operations only, like `shift`."""
    h, w = before.shape[-2:]
    f = min(1.0, ALIGN_SIDE / max(h, w))
    one, zero = d.new_ones(()), d.new_zeros(())
    if min(h, w) < 9:  # too small to fit anything but the shift
        return torch.stack([torch.stack([one, zero, -d[1]]), torch.stack([zero, one, -d[0]])]).float()
    a, b = (x.float().mean(0)[None, None] for x in (before, after))  # (1, 1, H, W)
    if f < 1:  # (not "area": at a factor that is not whole its uneven bins bent the picture, a pan fitted as a zoom)
        size = (max(8, round(h * f)), max(8, round(w * f)))
        a, b = (F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False) for x in (a, b))
    hs, ws = a.shape[-2:]
    fy, fx = hs / h, ws / w
    gy = F.pad(a[..., 2:, :] - a[..., :-2, :], (0, 0, 1, 1)) / 2  # central differences, 0 at the border
    gx = F.pad(a[..., :, 2:] - a[..., :, :-2], (1, 1, 0, 0)) / 2
    ones = torch.ones_like(a)
    source = torch.cat([a, gx, gy, ones], 1)  # (1, 4, hs, ws): sampled together
    ys = torch.arange(hs, device=a.device, dtype=torch.float32) - (hs - 1) / 2
    xs = torch.arange(ws, device=a.device, dtype=torch.float32) - (ws - 1) / 2
    py, px = torch.meshgrid(ys, xs, indexing="ij")  # (hs, ws): pixel positions about the centre
    half = max(hs, ws) / 2  # scale and angle in units of the half side: the four unknowns alike in size
    inside = torch.zeros(hs, ws, dtype=torch.bool, device=a.device)
    inside[4:-4, 4:-4] = True
    target = b[0, 0]

    def sample(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """For p = (scale - 1, angle) x half and the shift (tx, ty): the residual against `after`, before's
        gradients at the warped points, and where those points lie inside before."""
        s_, r_, tx, ty = p[0] / half, p[1] / half, p[2], p[3]
        qx = (1 + s_) * px - r_ * py + tx
        qy = r_ * px + (1 + s_) * py + ty
        grid = torch.stack([(qx + (ws - 1) / 2 + 0.5) * 2 / ws - 1, (qy + (hs - 1) / 2 + 0.5) * 2 / hs - 1], -1)
        out = F.grid_sample(source, grid[None], mode="bilinear", padding_mode="zeros", align_corners=False)[0]
        valid = (out[3] > 0.999) & inside
        return out[0] - target, out[1], out[2], valid.float()

    def cost(r: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (r * r * v).sum() / v.sum().clamp(min=1)

    start = torch.stack([zero, zero, -d[1] * fx, -d[0] * fy]).float()
    p, first = start, None
    for _ in range(ALIGN_STEPS):
        r, gxs, gys, v = sample(p)
        first = cost(r, v) if first is None else first
        jac = torch.stack([(gxs * px + gys * py) / half, (gys * px - gxs * py) / half, gxs, gys])  # (4, hs, ws)
        jv = jac * v
        hess = jv.flatten(1) @ jac.flatten(1).T  # (4, 4)
        grad = jv.flatten(1) @ r.flatten()
        damp = 1e-3 * torch.diagonal(hess).clamp(min=1e-6)
        p = p - torch.linalg.solve_ex(hess + torch.diag(damp), grad)[0]  # (_ex: no check, no wait on a GPU)
    r, _, _, v = sample(p)
    better = cost(r, v) < ALIGN_GAIN * first
    p = torch.where(better & torch.isfinite(p).all(), p, start)
    s_, r_ = p[0] / half, p[1] / half
    m = torch.stack(
        [torch.stack([1 + s_, -r_, p[2] / fx]), torch.stack([r_, 1 + s_, p[3] / fy])]
    )  # (2, 3) at full size: the scale and angle hold at any size, the shift grows back
    return m


def warped(x: torch.Tensor, m: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """(C, H, W) sampled through `align`'s affine m: out(p) = x(m[:, :2] (p - c) + c + m[:, 2]), zeros where it has
    no pixel. `mode` "bicubic" for what is resampled frame after frame (a zoom's history: bilinear blurred it)."""
    h, w = x.shape[-2:]
    # in grid_sample's [-1, 1] units u = p / S, S = diag(w/2, h/2): theta = S^-1 A S, its shift S^-1 t (made from
    # Python numbers: a tensor of them copied to a GPU would make the host wait)
    row_x = torch.stack([m[0, 0], m[0, 1] * (h / w), m[0, 2] * (2 / w)])
    row_y = torch.stack([m[1, 0] * (w / h), m[1, 1], m[1, 2] * (2 / h)])
    theta = torch.stack([row_x, row_y])[None].float()
    grid = F.affine_grid(theta, [1, x.shape[0], h, w], align_corners=False)
    # the history's own border pixels where bicubic reaches past it (zeros brightened the column beside a new strip)
    padding = "border" if mode == "bicubic" else "zeros"
    return F.grid_sample(x[None].float(), grid, mode=mode, padding_mode=padding, align_corners=False)[0]
