import pytest
import torch
from torch import nn

from fast_style.errors import UserError
from fast_style.model.network import TransformerNet
from fast_style.training.data import Unreadable
from fast_style.training.module import StyleTransferModule


class ConstantLoss(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def set_style(self, style: torch.Tensor) -> None:
        pass

    def forward(self, stylized: torch.Tensor, content: torch.Tensor, common: bool = False) -> dict[str, torch.Tensor]:
        total = stylized.mean() * 0 + self.value
        return {"content": total, "style": total, "tv": total, "total": total}


def _module(value: float, **kwargs) -> StyleTransferModule:
    return StyleTransferModule(
        TransformerNet(channels=(4, 8, 8), num_residual=1), ConstantLoss(value), torch.rand(1, 3, 16, 16), **kwargs
    )


def test_nonfinite_loss_stops_with_a_clear_message_or_skips() -> None:
    batch = (torch.rand(2, 3, 16, 16), ())
    with pytest.raises(UserError, match="nan at step 0.*no file written from the broken weights"):
        _module(float("nan")).training_step(batch, 0)
    assert _module(float("inf"), on_nonfinite="skip").training_step(batch, 0) is None
    # under DDP the skipping process still takes part in the step's gradient exchange, with zero gradients
    m = _module(float("inf"), on_nonfinite="skip")
    m.trainer = type("T", (), {"world_size": 2, "global_step": 0, "fast_dev_run": False})()
    zero = m.training_step(batch, 0)
    zero.backward()
    assert zero.item() == 0 and all(p.grad is not None and not p.grad.any() for p in m.network.parameters())


def test_a_batch_of_only_unreadable_files_is_skipped_and_each_file_named_and_counted_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    m = _module(1.0)
    bad = tuple(Unreadable(f"p{i}.jpg", "truncated") for i in range(4))
    assert m.training_step((torch.empty(0), bad), 0) is None
    assert m.skipped_images == 4
    # met again (the next epoch, another loader worker): not named or counted again (3 skips of 1 file read as 3)
    assert m.training_step((torch.rand(1, 3, 16, 16), bad[:2]), 1) is not None
    assert m.skipped_images == 4
    assert [r.getMessage() for r in caplog.records].count("skipping unreadable image p0.jpg (truncated)") == 1


def test_the_count_at_the_end_holds_the_photos_found_unreadable_before_training(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Those the data module met while choosing the held-out photos were named once, then left out of the count."""
    from types import SimpleNamespace

    m = _module(1.0)
    m.training_step((torch.rand(1, 3, 16, 16), (Unreadable("p0.jpg", "truncated"),)), 0)
    left_out = SimpleNamespace(left_out={"p0.jpg", "q.jpg"})
    m._trainer = SimpleNamespace(datamodule=left_out, is_global_zero=True, world_size=1)
    m.on_train_end()
    assert "2 unreadable images were left out of training" in caplog.text
    caplog.clear()
    m._trainer = SimpleNamespace(datamodule=SimpleNamespace(left_out={"p0.jpg"}), is_global_zero=True, world_size=1)
    m.on_train_end()
    assert "1 unreadable image was left out of training" in caplog.text  # (it said "1 unreadable images were")


def test_an_epoch_of_photos_all_over_the_pixel_limit_says_to_raise_it() -> None:
    """(Reached where data.val_root is set, or with many photos.) Its "3 are larger" had counted the distinct reasons:
    photos of one size give one."""
    m = _module(1.0)
    large = tuple(Unreadable(f"p{i}.jpg", "64x64 is over the limit of 2500 pixels") for i in range(3))
    m.on_train_epoch_start()
    m.training_step((torch.empty(0), large), 0)
    with pytest.raises(UserError, match="each is larger than data.max_image_pixels allows: raise it"):
        m.on_train_epoch_end()
    m.training_step((torch.empty(0), (Unreadable("bad.jpg", "truncated"),)), 1)
    with pytest.raises(UserError, match=r"point data.root at .* \(3 are larger than data.max_image_pixels\)"):
        m.on_train_epoch_end()


def test_forward_is_inference_only_and_hparams_exclude_modules() -> None:
    m = _module(1.0, lr=3e-4)
    assert set(m.hparams) == {"lr", "lr_schedule", "lr_min_ratio", "on_nonfinite", "compile", "init_from"}
    assert m(torch.rand(1, 3, 20, 20)).shape == (1, 3, 20, 20)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"lr": 0}, "lr"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"on_nonfinite": "ignore"}, "on_nonfinite"),
        ({"compile": "fastest"}, "module.compile 'fastest'"),
        ({"lr_min_ratio": -1.0}, "lr_min_ratio must be within 0..1"),
        ({"lr_min_ratio": 10.0}, "lr_min_ratio must be within 0..1"),
        ({"lr": float("nan")}, "module.lr must be a finite number > 0, got nan"),  # (NaN passed every comparison)
        ({"lr": float("inf")}, "module.lr must be a finite number > 0, got inf"),  # (NaN weights from the first step)
        ({"lr_min_ratio": float("nan")}, "lr_min_ratio must be within 0..1"),
    ],
)
def test_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(UserError, match=match):
        _module(1.0, **kwargs)


def test_a_floor_without_the_cosine_is_said(caplog: pytest.LogCaptureFixture) -> None:
    """module.lr_min_ratio=0.5 with the default constant schedule trained at module.lr throughout, without a word."""
    for kwargs, said in (
        ({"lr_min_ratio": 0.5}, True),
        ({"lr_min_ratio": 0.5, "lr_schedule": "cosine"}, False),
        ({}, False),
    ):
        caplog.clear()
        _module(1.0, **kwargs)
        assert ("module.lr_min_ratio=0.5 is the cosine schedule's floor" in caplog.text) is said
        assert ("lr_schedule=cosine to decay to it" in caplog.text) is said


def test_cosine_schedule_decays_to_the_floor() -> None:
    m = _module(1.0, lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
    m.trainer = type("T", (), {"max_steps": 100})()  # only max_steps is read
    sched = m.configure_optimizers()["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(101):
        lrs.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-3) and lrs[50] == pytest.approx(0.55e-3) and lrs[100] == pytest.approx(1e-4)


def test_a_cosine_of_a_run_counted_in_epochs_ends_at_their_last_step() -> None:
    """module.lr_schedule=cosine with trainer.max_steps=-1 trainer.max_epochs=N was refused ("needs
    trainer.max_steps"): it decays over the steps Lightning counts for those epochs."""
    m = _module(1.0, lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
    m.trainer = type("T", (), {"max_steps": -1, "estimated_stepping_batches": 30})()
    factor = m.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]
    assert factor(0) == pytest.approx(1.0) and factor(15) == pytest.approx(0.55) and factor(30) == pytest.approx(0.1)
    m.trainer = type("T", (), {"max_steps": -1, "estimated_stepping_batches": float("inf")})()  # (max_time alone)
    with pytest.raises(UserError, match="module.lr_schedule=cosine needs an end: trainer.max_steps or trainer.max_"):
        m.configure_optimizers()


def test_a_cosine_resumed_to_more_steps_goes_on_down_from_where_it_was() -> None:
    """Rebuilt for the new trainer.max_steps, the rate jumped back up (2.3x at step 9 of 8 -> 12)."""
    first = _module(1.0, lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
    first.trainer = type("T", (), {"max_steps": 8})()
    first.configure_optimizers()
    checkpoint = {"global_step": 8, "network_config": dict(first.network.config)}
    first.on_save_checkpoint(checkpoint)
    assert checkpoint["lr_cosine"] == {"start": 0, "factor": 1.0, "total": 8}
    # at its end (step 8) it stays at the floor; half-way (step 4, factor 0.55) it goes on down to the new end
    for at, steps, start in ((8, 8, 0.1), (8, 12, 0.1), (4, 12, 0.55)):
        resumed = _module(1.0, lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
        resumed.on_load_checkpoint(checkpoint | {"global_step": at, "state_dict": resumed.state_dict()})
        resumed.trainer = type("T", (), {"max_steps": steps})()
        factor = resumed.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]
        rates = [factor(step) for step in range(at, steps + 1)]
        assert rates[0] == pytest.approx(start) and rates[-1] == pytest.approx(0.1), (at, steps)
        assert all(a >= b - 1e-12 for a, b in zip(rates, rates[1:])), rates  # never up again
        if (at, steps) == (4, 12):  # resumed once more, to the same end: on the same stretch (it was rebuilt)
            again = {"global_step": 8, "network_config": dict(resumed.network.config)}
            resumed.on_save_checkpoint(again)
            last = _module(1.0, lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
            last.on_load_checkpoint(again | {"state_dict": last.state_dict()})
            last.trainer = type("T", (), {"max_steps": 12})()
            factor = last.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]
            assert [factor(step) for step in range(8, 13)] == pytest.approx(rates[4:])


def test_fused_adam_only_where_lightning_allows_it() -> None:
    m = _module(1.0)
    cases = [("bf16-mixed", None, False), ("bf16-mixed", 1.0, True), ("16-mixed", None, True), ("32-true", 1.0, False)]
    for precision, clip, refused in cases:  # Lightning's mixed precision refuses to clip a fused optimizer
        m.trainer = type("T", (), {"precision": precision, "gradient_clip_val": clip})()
        assert m._amp_refuses_fused() == refused, (precision, clip)


@pytest.mark.parametrize(
    "device,world_size,capability,triton,graphs",
    [
        ("cuda", 1, (9, 0), True, True),
        ("cuda", 2, (9, 0), True, False),
        ("cuda", 1, (6, 1), True, False),
        ("cuda", 1, (9, 0), False, False),
        ("cpu", 1, (9, 0), True, False),
    ],
)
def test_compile_auto_uses_cuda_graphs_on_one_gpu_only(
    device: str, world_size: int, capability: tuple, triton: bool, graphs: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(
        "fast_style.training.module.importlib.util.find_spec", lambda name: object() if triton else None
    )
    m = _module(1.0)  # compile="auto" by default
    strategy = type("S", (), {"root_device": torch.device(device)})()
    m.trainer = type("T", (), {"strategy": strategy, "world_size": world_size})()
    m.configure_model()  # torch.compile only wraps here; nothing is compiled before the first call
    assert m.cuda_graphs is graphs
    assert (m.network_fn == m.network.forward) is not graphs


@pytest.mark.parametrize("mode", ["max-autotune", "max-autotune-no-cudagraphs"])
def test_max_autotune_on_a_cpu_is_said_to_be_for_gpus(mode: str, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """module.compile=max-autotune on a CPU spent minutes autotuning (a 2-step model=tiny run at 32 px had not
    ended after 3 minutes) without a word."""
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)
    for device, said in (("cuda", False), ("cpu", True)):
        caplog.clear()
        m = _module(1.0, compile=mode)
        strategy = type("S", (), {"root_device": torch.device(device)})()
        m.trainer = type("T", (), {"strategy": strategy, "world_size": 1})()
        m.configure_model()
        assert (f"module.compile={mode} is for GPUs: on a CPU it spends minutes autotuning" in caplog.text) is said
    caplog.clear()
    plain = _module(1.0, compile="default")
    plain.trainer = m.trainer
    plain.configure_model()
    assert "is for GPUs" not in caplog.text


def test_compile_for_asks_a_cpu_for_256_bit_vector_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from fast_style import devices

    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: calls.append(kwargs) or fn)
    monkeypatch.setattr(devices.platform, "machine", lambda: "x86_64")
    devices.compile_for(len, torch.device("cpu"))
    devices.compile_for(len, torch.device("cpu"), "max-autotune-no-cudagraphs")
    devices.compile_for(len, torch.device("cuda"), "reduce-overhead")
    assert calls[0] == {"dynamic": False, "options": {"cpp.simdlen": 256}}
    assert calls[1]["options"]["cpp.simdlen"] == 256 and calls[1]["options"]["max_autotune"] is True
    assert calls[2] == {"mode": "reduce-overhead", "dynamic": False}
    monkeypatch.setattr(devices.platform, "machine", lambda: "aarch64")  # no AVX-512 there: torch's own choice
    devices.compile_for(len, torch.device("cpu"))
    assert calls[3] == {"mode": None, "dynamic": False}


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.backends.cpu.get_cpu_capability().startswith("AVX512"),
    reason="the NaN comes from AVX-512 code: without it inductor writes the same 256-bit code either way",
)
def test_compiled_bf16_training_keeps_gradients_finite_on_a_cpu(random_vgg) -> None:
    """inductor's AVX-512 code for this network's bf16 backward gave NaN gradients at the first step on a Xeon
    with AMX (torch 2.14.1, benchmarks/README.md); what compile_for compiles must not (about 30 s there). A CPU
    without AVX-512 gets 256-bit code whatever compile_for asks, so there the test would guard nothing (95 s)."""
    from fast_style.devices import compile_for
    from fast_style.perceptual.loss import PerceptualLoss

    torch.manual_seed(0)
    net = TransformerNet(num_residual=1)  # every kind of layer the network has; more blocks repeat them
    loss = PerceptualLoss(weights=str(random_vgg))
    loss.set_style(torch.rand(1, 3, 128, 128))
    forward = compile_for(net.forward, torch.device("cpu"))
    x = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", torch.bfloat16):
        loss(forward(x), x)["total"].backward()
    assert all(bool(torch.isfinite(p.grad).all()) for p in net.parameters())


def test_init_from_starts_from_a_style_model_of_the_same_network(tmp_path) -> None:
    from fast_style.model.style_model import save_style_model

    torch.manual_seed(1)
    trained = TransformerNet(channels=(4, 8, 8), num_residual=1)
    path = save_style_model(trained, tmp_path / "style.pt", {}, dtype=torch.float16)
    m = _module(1.0, init_from=str(path))
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(m.network.state_dict()[name], value.half().float())  # fp16 file, fp32 network
    other = save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1, kernel_outer=5), tmp_path / "k.pt", {})
    with pytest.raises(UserError, match="module.init_from=.*kernel_outer=5") as refused:
        _module(1.0, init_from=str(other))
    # experiment=fast_variant sets module.init_from to distill.teacher: a launch that never named it was pointed at
    # experiment=demo and cpu_quick alone
    assert str(refused.value).endswith("built-in network, experiment=fast_variant from distill.teacher)")
    with pytest.raises(UserError, match="not found"):
        _module(1.0, init_from=str(tmp_path / "missing.pt"))
    (tmp_path / "notes.pt").write_text("hello")  # refused in the file's words alone, naming no setting
    with pytest.raises(UserError, match="^module.init_from=.*notes.pt: .*is not a fast-style model"):
        _module(1.0, init_from=str(tmp_path / "notes.pt"))
    # model.antialias may change (the same weights, resampled otherwise): it had been refused in words naming no
    # setting ("holds a network with : set the same model settings"); another setting beside it is named
    smooth = StyleTransferModule(
        TransformerNet(channels=(4, 8, 8), num_residual=1, antialias="up"),
        ConstantLoss(1.0),
        torch.rand(1, 3, 16, 16),
        init_from=str(path),
    )
    torch.testing.assert_close(smooth.network.state_dict(), m.network.state_dict())
    with pytest.raises(UserError, match=r"model.kernel_outer=9: set the same model settings, or module.init_from=null"):
        StyleTransferModule(
            TransformerNet(channels=(4, 8, 8), num_residual=1, kernel_outer=5, antialias="up"),
            ConstantLoss(1.0),
            torch.rand(1, 3, 16, 16),
            init_from=str(path),
        )


def test_init_from_a_wider_network_keeps_the_channels_that_matter(tmp_path) -> None:
    """A smaller network starts from the wider, deeper one's most important channels and residual blocks: where
    the others contribute nothing (zero norm scale and shift: zero after the ReLU, or nothing added to the
    residual stream), the narrowed network computes the same picture."""
    from fast_style.model.style_model import save_style_model

    torch.manual_seed(2)
    wide = TransformerNet(channels=(6, 10, 8), num_residual=3).eval()
    state = wide.state_dict()
    dropped = {
        "encoder.0.2": [0, 2],
        "encoder.1.2": [1, 5, 9],
        "decoder.0.1.2": [3, 4, 6],
        "decoder.1.1.2": [5, 1],
        # the residual stream's channels 2, 7, 0: written by the encoder and by each block
        "encoder.2.2": [2, 7, 0],
        "residual.0.body.1.2": [2, 7, 0],
        "residual.2.body.1.2": [2, 7, 0],
        "residual.1.body.1.2": list(range(8)),  # block 1 adds nothing: dropped
        "residual.0.body.0.2": [1, 3, 4],  # each kept block's inner channels
        "residual.2.body.0.2": [0, 6, 7],
    }
    for norm, channels in dropped.items():
        state[f"{norm}.weight"][channels] = 0.0
        state[f"{norm}.bias"][channels] = 0.0
    torch.nn.init.normal_(state["decoder.3.weight"], std=0.1)
    wide.load_state_dict(state)
    path = save_style_model(wide, tmp_path / "wide.pt", {}, dtype=torch.float32)
    m = StyleTransferModule(
        TransformerNet(channels=(4, 7, 5), num_residual=2),
        ConstantLoss(1.0),
        torch.rand(1, 3, 16, 16),
        init_from=str(path),
    )
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        torch.testing.assert_close(m.network.eval()(x), wide(x), atol=1e-5, rtol=1e-4)
    for channels, blocks in (((8, 7, 5), 2), ((4, 7, 9), 2), ((4, 7, 5), 4)):  # wider or deeper than the file
        with pytest.raises(UserError, match="cannot be cut from"):
            StyleTransferModule(
                TransformerNet(channels=channels, num_residual=blocks), ConstantLoss(1.0), x, init_from=str(path)
            )


def test_no_image_grid_before_the_first_optimizer_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """With accumulate_grad_batches=2 (or a first step skipped as non-finite) the first batch ends at step 0:
    a grid of the untrained network was written (step_000000.png, val/images at step 0)."""
    from types import SimpleNamespace

    import numpy as np

    from fast_style.training.image_grids import ImageLogger

    logged = []
    images = ImageLogger(every_n_steps=np.int64(2))  # (numpy's ints had been refused, by ImageLogger alone)
    assert type(images.every_n_steps) is int
    with pytest.raises(UserError, match=r"^callbacks.images.num_images must be a whole number >= 1, got 2.5$"):
        ImageLogger(num_images=2.5)  # (a ValueError, where every other setting says a UserError)
    monkeypatch.setattr(images, "log_grid", lambda trainer, module: logged.append(trainer.global_step))
    for step in (0, 0, 1, 1, 2, 2, 3):  # two batches a step
        images.on_train_batch_end(SimpleNamespace(global_step=step), None)
    assert logged == [2, 2]  # (log_grid itself writes a step once)


def test_numpy_numbers_are_taken_and_saved_as_pythons() -> None:
    """np.float64 (a float's subclass) had been kept in hparams, which hparams.yaml wrote as a python/object tag that
    yaml.safe_load cannot read back; np.float32 was refused."""
    import numpy as np
    import yaml

    m = _module(1.0, lr=np.float64(3e-4), lr_min_ratio=np.float32(0.5))
    assert (type(m.hparams.lr), type(m.hparams.lr_min_ratio)) == (float, float)
    assert yaml.safe_load(yaml.dump(dict(m.hparams)))["lr_min_ratio"] == 0.5
    with pytest.raises(TypeError, match="module.lr must be a finite number > 0, not np.True_"):
        _module(1.0, lr=np.True_)


def test_more_grid_images_than_held_out_photos_are_said(caplog: pytest.LogCaptureFixture) -> None:
    """callbacks.images.num_images=10 beside data.num_val=4 showed 4 photos a grid, without a word."""
    from types import SimpleNamespace

    from fast_style.training.image_grids import ImageLogger

    for asked, held_out, said in ((10, 4, True), (4, 4, False), (2, 4, False)):
        caplog.clear()
        datamodule = SimpleNamespace(val_images=lambda count, n=held_out: torch.rand(min(count, n), 3, 8, 8))
        images = ImageLogger(num_images=asked)
        images.on_fit_start(SimpleNamespace(datamodule=datamodule, is_global_zero=True), None)
        assert len(images.images) == min(asked, held_out)
        assert ("callbacks.images.num_images=10, but the grids show 4" in caplog.text) is said
