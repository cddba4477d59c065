"""Distillation (distill=teacher): the term, the teacher kept frozen and out of checkpoints, the training step
without the perceptual loss, and a run end to end whose student moves toward its teacher."""

from pathlib import Path

import pytest
import torch

from fast_style.errors import UserError
from fast_style.media.images import open_rgb
from fast_style.media.pixels import pil_to_tensor, to_unit
from fast_style.model.network import TransformerNet
from fast_style.model.style_model import load_style_model, save_style_model
from fast_style.perceptual.loss import VGGFeatures
from fast_style.runs.config import compose
from fast_style.training.distillation import Distillation
from fast_style.training.module import StyleTransferModule
from fast_style.training.train import train

from .conftest import tiny_run
from .test_module import ConstantLoss
from .test_train import _scalar_tags


@pytest.fixture
def teacher_path(tmp_path: Path) -> Path:
    torch.manual_seed(3)
    net = TransformerNet(channels=(4, 8, 8), num_residual=1, kernel_outer=3)
    torch.nn.init.normal_(net.decoder[-1].weight, std=0.5)  # paints something other than grey
    return save_style_model(net, tmp_path / "teacher.pt")


def test_the_terms_are_mean_absolute_differences_of_pixels_and_features(teacher_path: Path, random_vgg) -> None:
    term = Distillation(str(teacher_path), weight=2.0, feature_weight=0)
    a, b = torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.1)
    assert term(a, b)["distill"].item() == pytest.approx(2.0 * 25.5)  # grey levels
    vgg = VGGFeatures(["relu1_2", "relu2_2"], str(random_vgg))
    both = Distillation(str(teacher_path), weight=2.0, feature_weight=3.0)(a, b, vgg)
    features = (vgg(a)["relu2_2"] - vgg(b)["relu2_2"]).abs().mean()
    assert both["distill_features"].item() == pytest.approx(3.0 * features.item(), rel=1e-5) and features > 0
    assert both["distill"].item() == pytest.approx(2.0 * 25.5 + 3.0 * features.item(), rel=1e-5)
    with pytest.raises(UserError, match="relu4_3 is not a layer of the loss's VGG"):
        Distillation(str(teacher_path), feature_layer="relu4_3")(a, b, vgg)
    images = torch.rand(2, 3, 24, 24)
    teacher, _ = load_style_model(str(teacher_path))
    target = term.target(images)  # in bf16 on CPUs that compute it natively, as the Stylizer runs it
    assert target.dtype == torch.float32 and (target - teacher(images)).abs().mean().item() < 0.01
    assert term.state_dict() == {} and not list(term.parameters())  # the teacher comes from its file
    assert not any(p.requires_grad for p in term.teacher.parameters())
    term.to(torch.float64)
    assert next(term.teacher.parameters()).dtype == torch.float64  # moved along with the module


@pytest.mark.parametrize("weight", [0, -1, "x", True, float("inf")])  # inf: "the loss became inf" at the first step
def test_bad_weights_and_teachers_are_one_line(weight, teacher_path: Path, tmp_path: Path) -> None:
    wrong = TypeError if weight in ("x", True) else UserError  # no number at all, or a number it does not take
    with pytest.raises(wrong, match="distill.weight"):
        Distillation(str(teacher_path), weight=weight)
    with pytest.raises(TypeError if weight == "x" else UserError, match="distill.feature_weight"):
        Distillation(str(teacher_path), feature_weight=weight if weight in ("x", float("inf")) else -1)
    with pytest.raises(UserError, match="not found"):
        Distillation(str(tmp_path / "none.pt"))


def test_a_teacher_that_is_no_style_model_names_the_setting(teacher_path: Path, tmp_path: Path) -> None:
    """A checkpoint or another file given as the teacher was refused in the file's words alone, naming no setting
    (module.init_from's name theirs)."""
    (tmp_path / "notes.pt").write_text("hello")
    for given, said in ((tmp_path / "notes.pt", "is not a fast-style model"), (tmp_path / "none.pt", "not found")):
        with pytest.raises(UserError, match=f"^distill.teacher={given}: .*{said}"):
            Distillation(str(given))


def test_the_training_step_uses_the_teacher_alone(teacher_path: Path) -> None:
    torch.manual_seed(0)
    student = TransformerNet(channels=(4, 8, 8), num_residual=1)
    module = StyleTransferModule(
        student, ConstantLoss(7.0), torch.rand(1, 3, 16, 16), distill=Distillation(str(teacher_path), feature_weight=0)
    )
    images = torch.rand(2, 3, 32, 32)
    total = module.training_step((images, ()), 0)
    expected = (student(images) - module.distill.target(images)).abs().mean() * 255
    assert total.item() == pytest.approx(expected.item(), rel=1e-5)  # the constant perceptual loss is not in it
    total.backward()
    assert all(p.grad is not None for p in student.parameters())
    assert not any(k.startswith("distill") for k in module.state_dict())


def test_on_a_bf16_cpu_the_teacher_runs_as_the_stylizer_runs_it(teacher_path: Path, monkeypatch) -> None:
    import fast_style.training.distillation as distillation
    from fast_style.model.network import SpaceToDepthConv

    monkeypatch.setattr(distillation, "native_bf16", lambda device: True)
    term = Distillation(str(teacher_path), feature_weight=0)
    images = torch.rand(2, 3, 32, 24)
    fast = term.target(images)
    assert isinstance(term._nets["fast"].decoder[-1], SpaceToDepthConv)  # the Stylizer's copy (for_cpu_inference)
    assert fast.dtype == torch.float32 and fast.shape == images.shape
    assert (fast - term.teacher.eval()(images)).abs().max() < 0.05  # bf16's rounding, no more


def test_a_teacher_left_out_is_said_in_one_line_from_python(tmp_path, photo_dir, style_path, random_vgg) -> None:
    """train() from Python raised OmegaConf's three lines (MissingMandatoryValue: distill.teacher, full_key: ...,
    object_type=...) where fast-style-train says one line: it says the same line."""
    run = [*tiny_run(photo_dir, style_path, random_vgg), f"output_dir={tmp_path / 'run'}"]
    with pytest.raises(UserError) as refused:
        train(compose([*run, "distill=teacher"]))
    assert str(refused.value) == "distill.teacher has no value: add distill.teacher=... (README, Configuration)"
    # and a ${...} with nothing to read (experiment=fast_variant's module.init_from is ${distill.teacher})
    with pytest.raises(UserError, match=r"^module.init_from cannot be worked out \(it is \$\{distill.teacher\}"):
        train(compose([*run, "experiment=fast_variant", "distill=none"]))


@pytest.mark.slow
def test_distill_trains_a_student_toward_its_teacher(tmp_path, photo_dir, style_path, random_vgg, teacher_path) -> None:
    with pytest.raises(Exception, match="teacher"):  # the teacher is required
        train(compose([*tiny_run(photo_dir, style_path, random_vgg), "distill=teacher", f"output_dir={tmp_path}"]))
    cfg = compose(
        [
            *tiny_run(photo_dir, style_path, random_vgg),
            "distill=teacher",
            f"distill.teacher={teacher_path}",
            "distill.feature_weight=0.01",
            "trainer.max_steps=100",
            "trainer.val_check_interval=50",
            "module.lr=0.01",
            f"output_dir={tmp_path / 'run'}",
        ]
    )
    photos = sorted(photo_dir.rglob("*.*"))[:4]
    images = to_unit(torch.stack([pil_to_tensor(open_rgb(p).resize((32, 32))) for p in photos]))
    teacher = load_style_model(str(teacher_path))[0]
    torch.manual_seed(0)
    untrained = TransformerNet(channels=cfg.model.channels, num_residual=1, kernel_outer=3)
    before = (untrained(images) - teacher(images)).abs().mean().item()
    student, meta = load_style_model(str(train(cfg)))
    after = (student(images) - teacher(images)).abs().mean().item()
    assert after < 0.8 * before  # 0.21 -> 0.14 grey (0-1) in 100 steps
    assert meta["distilled_from"] == str(teacher_path)
    tags = _scalar_tags(tmp_path / "run" / "tensorboard")
    assert {"train/distill", "val/distill", "val/style", "val/content", "val/coverage"} <= tags
    assert "train/style" not in tags  # no VGG in a training step
    assert compose(["distill=none"]).distill is None


def test_a_teacher_of_another_painting_is_named_in_a_warning(
    tmp_path: Path, photo_dir, style_path, random_vgg, caplog: pytest.LogCaptureFixture
) -> None:
    net, _ = load_style_model(str(save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1), tmp_path / "t")))
    for painting, warned in ((style_path.name, False), ("wave.jpg", True)):
        teacher = save_style_model(net, tmp_path / f"teacher-{painting}.pt", {"style_image": painting})
        caplog.clear()
        args = [*tiny_run(photo_dir, style_path, random_vgg), "distill=teacher", f"distill.teacher={teacher}"]
        train(compose([*args, "trainer.max_steps=1", f"output_dir={tmp_path / 'runs' / painting}"]))
        said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "was trained on" in r.message]
        assert bool(said) == warned, said
    assert f"was trained on wave.jpg, style.image is {style_path.name}: the student paints like its teacher" in said[0]


def test_a_student_larger_than_its_teacher_is_said(
    tmp_path: Path, photo_dir, style_path, random_vgg, teacher_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A student wider or deeper than its teacher (model=johnson left as it is, a -fast teacher) trained into a
    slower network painting no better, without a word; one of the teacher's shape or smaller is not named."""
    import fast_style.training.train as train_module

    from .test_train import tiny_cfg

    base = ("distill=teacher", f"distill.teacher={teacher_path}")  # 4-8-8, one residual block
    for n, (model, said) in enumerate(
        (("model.channels=[4,8,16]", True), ("model.num_residual=2", True), ("model=tiny", False))
    ):
        caplog.clear()
        train_module._prepare(tiny_cfg(tmp_path / f"run{n}", photo_dir, style_path, random_vgg, *base, model))
        assert ("is larger than distill.teacher=" in caplog.text) is said, model
        if model == "model.channels=[4,8,16]":
            assert "student (model.channels=[4, 8, 16], model.num_residual=1) is larger than" in caplog.text
            assert "([4, 8, 8], 1): it runs slower than its teacher" in caplog.text


def test_a_larger_student_is_pointed_at_model_fast_only_where_that_is_smaller(teacher_path: Path) -> None:
    """A model=fast student of a teacher smaller still (experiment=fast_variant with a small run's style.pt) was
    told to "give a smaller model (model=fast)", the model it had."""
    fast = TransformerNet(channels=(16, 32, 64), num_residual=3, kernel_outer=3)
    said = Distillation(str(teacher_path)).larger_student(fast)  # the teacher: 4-8-8, one block
    assert said is not None and said.startswith("the student (") and "model=fast" not in said  # (logged: no prefix)
    assert said.endswith("give a smaller model (model.channels and model.num_residual at most the teacher's)")
    johnson = Distillation("wave-fast").larger_student(TransformerNet())
    assert johnson is not None and "give a smaller model (model=fast, or model.channels" in johnson


def test_the_feature_layer_is_computed_even_where_the_loss_has_no_use_for_it(
    tmp_path: Path, photo_dir, style_path, random_vgg, teacher_path
) -> None:
    """loss=vgg19 (Gatys' layers: no relu2_2, distillation's default) failed at the first training step, after the
    whole run was built; a layer deeper than the loss's VGG goes is refused before anything is."""
    vgg = VGGFeatures(["relu1_2", "relu3_3"], str(random_vgg))
    x = torch.rand(1, 3, 16, 16)
    vgg.add("relu2_2")
    want = VGGFeatures(["relu2_2"], str(random_vgg))(x)["relu2_2"]
    assert torch.allclose(vgg(x, ["relu2_2"])["relu2_2"], want) and set(vgg(x)) == {"relu1_2", "relu2_2", "relu3_3"}
    with pytest.raises(UserError, match="relu4_3 is deeper than the loss's vgg16 goes \\(relu3_3\\)"):
        vgg.add("relu4_3")
    with pytest.raises(UserError, match="unknown vgg16 layer 'relu9_9'"):
        vgg.add("relu9_9")
    base = [
        *tiny_run(photo_dir, style_path, random_vgg),
        "distill=teacher",
        f"distill.teacher={teacher_path}",
        "distill.feature_weight=0.01",
        "loss.style_layers={relu1_2: 1.0}",
        "loss.content_layers={relu1_2: 1.0}",
        "trainer.max_steps=2",
    ]
    assert train(compose([*base, f"output_dir={tmp_path / 'a'}"])).is_file()  # relu2_2, beside relu1_2 and relu3_3
    with pytest.raises(UserError, match="distill.feature_layer=relu4_3: relu4_3 is deeper than the loss's vgg16"):
        train(compose([*base, "distill.feature_layer=relu4_3", f"output_dir={tmp_path / 'b'}"]))


def test_a_resume_needs_neither_the_start_it_began_from_nor_accepts_another_teacher(
    tmp_path: Path, photo_dir, style_path, random_vgg, teacher_path
) -> None:
    """A fine-tune's resume was refused once the model it started from had moved (the checkpoint replaces those
    weights); a distillation resumed with another teacher, or none, went on and its model named the last alone;
    and a fine-tune's model did not say what it started from."""
    start = tmp_path / "start.pt"
    start.write_bytes(teacher_path.read_bytes())

    def run(out: str, *extra: str) -> Path:
        overrides = [*tiny_run(photo_dir, style_path, random_vgg), "trainer=fast_dev", f"output_dir={tmp_path / out}"]
        return train(compose([*overrides, *extra]))

    tuned = run("tuned", f"module.init_from={start}", "trainer.max_steps=2")
    assert load_style_model(str(tuned))[1]["init_from"] == str(start)
    start.unlink()
    assert run("tuned", f"module.init_from={start}", "trainer.max_steps=3", "ckpt_path=last") == tuned
    assert load_style_model(str(tuned))[1]["step"] == 3
    run("tuned", "trainer.max_steps=4", "ckpt_path=last")  # (no start given: the model named none)
    assert load_style_model(str(tuned))[1]["init_from"] == str(start)
    taught = ("distill=teacher", f"distill.teacher={teacher_path}")
    run("taught", *taught, "trainer.max_steps=2")
    with pytest.raises(UserError, match=f"this checkpoint was distilled from {teacher_path}: resume with distill=t"):
        run("taught", "trainer.max_steps=3", "ckpt_path=last")
    with pytest.raises(UserError, match="this checkpoint was trained without a teacher: resume with distill=none"):
        run("tuned", *taught, "trainer.max_steps=5", "ckpt_path=last")
    other = tmp_path / "other.pt"
    save_style_model(TransformerNet(channels=(4, 8, 8), num_residual=1, kernel_outer=3), other)
    with pytest.raises(UserError, match="this checkpoint was distilled from"):
        run("taught", "distill=teacher", f"distill.teacher={other}", "trainer.max_steps=3", "ckpt_path=last")
    moved = tmp_path / "moved" / teacher_path.name  # the same teacher, moved: by its file name (it was refused)
    moved.parent.mkdir()
    teacher_path.rename(moved)
    run("taught", "distill=teacher", f"distill.teacher={moved}", "trainer.max_steps=3", "ckpt_path=last")
    # a run begun from random weights, resumed with a start named (which a resume does not read): its model named it
    run("taught", "distill=teacher", f"distill.teacher={moved}", f"module.init_from={moved}", "ckpt_path=last")
    assert load_style_model(str(tmp_path / "taught" / "style.pt"))[1]["init_from"] is None
