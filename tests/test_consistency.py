"""The stability term (temporal=shift): exact motion, zero for a network that moves with its input, positive for
one that does not, and wired into training."""

import re

import pytest
import torch
from torch import nn

from fast_style.errors import UserError
from fast_style.model.network import TransformerNet
from fast_style.runs.config import compose
from fast_style.training.consistency import ConsistencyLoss
from fast_style.training.module import StyleTransferModule
from fast_style.training.train import train

from .conftest import tiny_run
from .test_module import ConstantLoss


@pytest.mark.parametrize("dy,dx", [(1, 3), (-2, 0), (0, -3), (3, -1)])
def test_moved_shows_the_scene_moved_by_the_shift(dy: int, dx: int) -> None:
    term = ConsistencyLoss(noise=0.0, margin=0)
    images = torch.rand(2, 3, 36, 40)
    moved = term.moved(images, dy, dx)
    assert moved.shape == images.shape
    s = term.max_shift  # moved[p] == images[p + d] wherever p + d is inside the picture
    torch.testing.assert_close(moved[..., s:-s, s:-s], images[..., s + dy : 36 - s + dy, s + dx : 40 - s + dx])
    noisy = ConsistencyLoss(noise=0.05).moved(images, dy, dx)
    assert 0.02 < (noisy - moved).std() < 0.06 and noisy.min() >= 0 and noisy.max() <= 1


def test_zero_for_a_network_that_moves_with_its_input_positive_for_one_that_does_not() -> None:
    term = ConsistencyLoss(weight=2.0, noise=0.0)
    images = torch.rand(2, 3, 40, 40)
    dy, dx = 1, -2
    moved = term.moved(images, dy, dx)
    pointwise = nn.Conv2d(3, 3, 1)  # the same at every position: moves with its input
    assert term(pointwise(images), pointwise(moved), dy, dx).item() == pytest.approx(0, abs=1e-6)
    # stride 2 then nearest upsampling: the output depends on where a pixel falls on the grid (aliasing)
    aliased = nn.Sequential(nn.AvgPool2d(2), nn.Upsample(scale_factor=2))
    value = term(aliased(images), aliased(moved), dy, dx).item()
    assert value > 0
    assert ConsistencyLoss(weight=4.0, noise=0.0)(aliased(images), aliased(moved), dy, dx).item() == pytest.approx(
        2 * value
    )
    shifts = {term.shift() for _ in range(200)}
    assert (0, 0) not in shifts and all(max(abs(a), abs(b)) <= 3 for a, b in shifts) and len(shifts) > 20


@pytest.mark.parametrize("zoom", [1.03, 0.97])
def test_zoom_pairs_show_the_scene_zoomed_and_are_zero_for_a_network_that_moves_with_it(zoom: float) -> None:
    term = ConsistencyLoss(weight=2.0, noise=0.0, max_zoom=0.05)
    h, w = 40, 48
    ramp = torch.arange(w, dtype=torch.float32).expand(1, 3, h, w) / w  # image[x] = x / w
    dy, dx = 2, -1
    moved = term.moved(ramp, dy, dx, zoom)
    m = term._border(h, w, zoom)
    expected = ((w - 1) / 2 + (torch.arange(w) - (w - 1) / 2) / zoom + dx) / w  # ramp[c + (p - c) / zoom + d]
    torch.testing.assert_close(moved[0, 0, m:-m, m:-m], expected[m:-m].expand(h - 2 * m, -1), atol=1e-5, rtol=0)
    images = torch.rand(2, 3, h, w)
    moved = term.moved(images, dy, dx, zoom)
    pointwise = nn.Conv2d(3, 3, 1)  # commutes with resampling
    assert term(pointwise(images), pointwise(moved), dy, dx, zoom).item() == pytest.approx(0, abs=1e-4)
    aliased = nn.Sequential(nn.AvgPool2d(2), nn.Upsample(scale_factor=2))
    assert term(aliased(images), aliased(moved), dy, dx, zoom).item() > 1.0
    # without a zoom the resampled path is the exact shift
    torch.testing.assert_close(term._warp(images, dy, dx, 1.0)[..., 4:-4, 4:-4], images[..., 6:-2, 3:-5])


def test_motion_draws_zooms_within_the_bound_only_when_asked() -> None:
    assert {ConsistencyLoss().motion()[2] for _ in range(20)} == {1.0}
    term = ConsistencyLoss(max_zoom=0.04)  # (its own stream: a new one starts again from the seed)
    zooms = [term.motion()[2] for _ in range(200)]
    assert all(1 / 1.04 - 1e-9 <= z <= 1.04 + 1e-9 for z in zooms)
    assert min(zooms) < 0.98 and max(zooms) > 1.02  # both ways


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"max_zoom": 0.5}, "max_zoom"),
        ({"weight": -1}, "weight"),
        ({"max_shift": 0}, "max_shift"),
        ({"noise": -0.1}, "noise"),
        ({"margin": 1.5}, "margin"),
        ({"share": 0}, "share"),
        ({"share": 1.5}, "share"),
        ({"start": -1}, "start"),
        ({"start": 2.5}, "start"),
        # NaN passed every comparison (temporal.weight=nan): the loss then went NaN at the first step
        ({"weight": float("nan")}, "temporal.weight must be a finite number >= 0, got nan"),
        ({"max_zoom": float("nan")}, "temporal.max_zoom must be a number within 0..0.25, got nan"),
        # inf too: the weight stopped the run at its first step ("the loss became inf"), after everything was built;
        # the noise trained on copies of pure noise and wrote the model, without a word
        ({"weight": float("inf")}, "temporal.weight must be a finite number >= 0, got inf"),
        ({"noise": float("inf")}, "temporal.noise must be a finite number >= 0, got inf"),
    ],
)
def test_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match):
        ConsistencyLoss(**kwargs)


def test_crops_too_small_for_the_shift_say_so() -> None:
    with pytest.raises(UserError, match="too small for temporal.max_shift=3"):
        ConsistencyLoss().moved(torch.rand(1, 3, 20, 20), 1, 1)


@pytest.mark.parametrize("max_zoom", [0.0, 0.03])
def test_the_training_step_adds_the_term_and_runs_the_network_once(max_zoom: float) -> None:
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    calls = []

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return net(x)

    plain = StyleTransferModule(net, ConstantLoss(1.0), torch.rand(1, 3, 16, 16))
    term = ConsistencyLoss(5.0, max_zoom=max_zoom)
    stable = StyleTransferModule(net, ConstantLoss(1.0), torch.rand(1, 3, 16, 16), temporal=term)
    plain.network_fn = stable.network_fn = counted
    batch = (torch.rand(2, 3, 40, 40), ())
    assert plain.training_step(batch, 0).item() == pytest.approx(1.0)
    total = stable.training_step(batch, 0)
    assert calls == [2, 4]  # the batch and its moved copy in one call
    assert total.item() > 1.0
    total.backward()
    assert any(p.grad.abs().sum() > 0 for p in net.parameters())  # the term trains the network (the loss cannot)
    assert set(stable.hparams) == set(plain.hparams)


def test_a_share_of_the_batch_gets_a_moved_copy() -> None:
    assert [ConsistencyLoss(share=s).count(4) for s in (1.0, 0.5, 0.3, 0.25, 0.01)] == [4, 2, 2, 1, 1]
    assert ConsistencyLoss(share=0.3).count(10) == 3
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    calls = []

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return net(x)

    term = ConsistencyLoss(5.0, share=0.5)
    half = StyleTransferModule(net, ConstantLoss(1.0), torch.rand(1, 3, 16, 16), temporal=term)
    half.network_fn = counted
    total = half.training_step((torch.rand(4, 3, 40, 40), ()), 0)
    assert calls == [6]  # the batch of 4 and moved copies of 2 of its photos, in one call
    assert total.item() > 1.0
    total.backward()
    assert any(p.grad.abs().sum() > 0 for p in net.parameters())


def test_the_term_starts_at_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    net = TransformerNet(channels=(4, 8, 8), num_residual=1)
    calls = []

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return net(x)

    late = StyleTransferModule(net, ConstantLoss(1.0), torch.rand(1, 3, 16, 16), temporal=ConsistencyLoss(5.0, start=3))
    late.network_fn = counted
    batch = (torch.rand(2, 3, 40, 40), ())
    for step, (called, more) in enumerate([(2, False), (2, False), (2, False), (4, True), (4, True)]):
        monkeypatch.setattr(StyleTransferModule, "global_step", property(lambda self, step=step: step))
        calls.clear()
        total = late.training_step(batch, 0)
        assert calls == [called] and (total.item() > 1.0) == more, step  # no extra network pass before it
    # temporal.weight=0: a second network pass each step for a term of 0; none, and said before training
    off = ConsistencyLoss(0.0)
    unweighted = StyleTransferModule(net, ConstantLoss(1.0), torch.rand(1, 3, 16, 16), temporal=off)
    unweighted.network_fn = counted
    calls.clear()
    assert unweighted.training_step(batch, 0).item() == pytest.approx(1.0) and calls == [2]
    assert off.never_starts(4).startswith("temporal.weight=0 trains nothing: the run trains as with temporal=none")
    off.check_crops(16, 16)  # no copy is moved: a crop too small for the motion is not refused for it


@pytest.mark.slow
def test_temporal_shift_trains_end_to_end(tmp_path, photo_dir, style_path, random_vgg) -> None:
    cfg = compose(
        [
            *tiny_run(photo_dir, style_path, random_vgg),
            "temporal=shift",
            "temporal.max_shift=2",
            "temporal.margin=2",
            "temporal.max_zoom=0.02",
            "trainer=fast_dev",
            f"output_dir={tmp_path / 'run'}",
        ]
    )
    assert cfg.temporal.weight == 1000.0 and cfg.temporal.max_shift == 2
    assert train(cfg).is_file()
    assert compose(["temporal=none"]).temporal is None
    # in one line, by its setting (any exception naming max_shift passed: OmegaConf's 3-line "Error merging ...")
    with pytest.raises(UserError, match=r"^temporal\.max_shift must be a whole number, got 'abc'$"):
        compose(["temporal=shift", "temporal.max_shift=abc"])


def test_a_crop_too_small_for_the_widest_zoom_is_refused_at_every_step() -> None:
    # checked against each step's random zoom, a 34 px crop passed the first steps and failed at a later one
    loss = ConsistencyLoss(max_zoom=0.25)
    x = torch.rand(1, 3, 34, 34)
    said = "too small for temporal.max_shift=3, margin=8 and max_zoom=0.25: give data.image_size=(\\d+) or more"
    for zoom in (1.0, 1.25, 0.8):
        with pytest.raises(UserError, match=said) as refused:
            loss.moved(x, 1, 1, zoom)
    least = int(re.search(said, str(refused.value)).group(1))  # the size it names is the least that works
    assert loss.moved(torch.rand(1, 3, least, least), 1, 1, 0.8).shape == (1, 3, least, least)
    with pytest.raises(UserError, match=said):
        loss.moved(torch.rand(1, 3, least - 1, least - 1), 1, 1, 0.8)


def test_a_crop_too_small_for_the_motion_is_refused_before_training(
    tmp_path, photo_dir, style_path, random_vgg
) -> None:
    """Said only when the term first ran (`temporal.start`'s step, hours into a run), after checkpoints were written
    and with the run's folder kept."""
    cfg = compose(
        [
            *tiny_run(photo_dir, style_path, random_vgg),
            *("temporal=shift", "temporal.start=3", "data.image_size=24", "trainer=fast_dev"),
            "callbacks.checkpoint.every_n_train_steps=1",
            f"output_dir={tmp_path / 'run'}",
        ]
    )
    with pytest.raises(UserError, match="crops of 24x24 px are too small for temporal.max_shift=3"):
        train(cfg)
    assert not list((tmp_path / "run").rglob("*.ckpt")) and not list((tmp_path / "run").rglob("*.png"))


@pytest.mark.slow
def test_a_resumed_run_moves_its_copies_as_an_uninterrupted_one_does(
    tmp_path, photo_dir, style_path, random_vgg
) -> None:
    """The copies' shifts, zooms and noise drew from torch's stream, started again from the seed at a resume."""

    def moved(out, *launches: int) -> list[str]:
        for i, steps in enumerate(launches):
            cfg = [
                *tiny_run(photo_dir, style_path, random_vgg),
                *("temporal=shift", "temporal.max_shift=2", "temporal.margin=2", "temporal.max_zoom=0.05"),
                *("temporal.noise=0.02", "trainer=fast_dev", f"trainer.max_steps={steps}", f"output_dir={out}"),
                "callbacks.checkpoint.every_n_train_steps=1",
                "+callbacks.probe._target_=tests.probes.RecordMoved",
                f"+callbacks.probe.dirpath={out / 'probe'}",
                *(("ckpt_path=last",) if i else ()),
            ]
            train(compose(cfg))
        return (out / "probe" / "moved.txt").read_text().splitlines()

    whole = moved(tmp_path / "whole", 6)
    assert len(whole) == 6 and len(set(whole)) == 6
    assert moved(tmp_path / "resumed", 3, 6) == whole


def test_a_start_the_run_never_reaches_is_said(
    tmp_path, photo_dir, style_path, random_vgg, caplog: pytest.LogCaptureFixture
) -> None:
    """temporal.start at or past trainer.max_steps trained the whole run without the term, without a word."""
    import fast_style.training.train as train_module

    from .test_train import tiny_cfg

    for start, said in ((4, True), (3, False)):
        caplog.clear()
        extra = ("temporal=shift", f"temporal.start={start}", "trainer.max_steps=4")
        train_module._prepare(tiny_cfg(tmp_path / str(start), photo_dir, style_path, random_vgg, *extra))
        assert ("temporal.start=4 is not before trainer.max_steps=4: the run trains without" in caplog.text) is said
    assert ConsistencyLoss(start=4).never_starts(4).startswith("temporal.start=4 is not before")  # (logged: no prefix)


def test_numpy_numbers_are_taken_as_pythons() -> None:
    """temporal.max_shift=np.int64(4) had been refused ("an integer >= 1, got np.int64(4)"); the numbers are kept as
    Python's (a checkpoint's hparams, the shifts' randint), bools refused."""
    np = pytest.importorskip("numpy")

    term = ConsistencyLoss(np.float32(10), max_shift=np.int64(4), margin=np.uint8(2), start=np.int32(3))
    assert (term.weight, term.max_shift, term.margin, term.start) == (10.0, 4, 2, 3)
    assert [type(v) for v in (term.weight, term.max_shift, term.margin, term.start)] == [float, int, int, int]
    for wrong, error in ((np.True_, TypeError), (True, TypeError), (np.float64(4.5), UserError), (4.5, UserError)):
        with pytest.raises(error, match="temporal.max_shift must be a whole number >= 1"):
            ConsistencyLoss(max_shift=wrong)
    # a whole number's value, whatever its type (np.float64(4.0) had been refused, where max_size=100.0 was taken)
    assert [(v, type(v)) for v in [ConsistencyLoss(max_shift=np.float64(4.0)).max_shift]] == [(4, int)]
    with pytest.raises(TypeError, match="temporal.share must be a number within 0..1 .not 0., not True"):
        ConsistencyLoss(share=True)
