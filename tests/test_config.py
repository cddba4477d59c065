"""Every config composes, and each node instantiates into the object its keys describe."""

import json
from pathlib import Path

import pytest
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

from fast_style.runs.config import CONFIG_DIR, compose

GROUPS = {g.name: sorted(p.stem for p in g.glob("*.yaml")) for g in CONFIG_DIR.iterdir() if g.is_dir()}


def _compose(overrides: list[str]):
    return compose(overrides)


def test_all_groups_are_present() -> None:
    assert {"data", "model", "loss", "style", "trainer", "experiment"} <= set(GROUPS)


@pytest.mark.parametrize("group,option", [(g, o) for g, opts in GROUPS.items() for o in opts])
def test_every_option_composes(group: str, option: str, tmp_path: Path) -> None:
    overrides = [f"{group}={option}", f"output_dir={tmp_path}", "style.image=s.png"]
    if group == "loss" and option == "file":
        overrides.append("loss.weights=vgg.pth")
    if (group, option) in {("distill", "teacher"), ("experiment", "fast_variant")}:
        overrides.append("distill.teacher=wave")  # required, like style.image
    cfg = _compose(overrides)
    OmegaConf.resolve(cfg)
    assert OmegaConf.missing_keys(cfg) == set()
    assert cfg.trainer.max_steps > 0
    # the grids show no more photos than are held out (experiment=demo warned so on every run of make demo)
    assert cfg.callbacks.images.num_images <= cfg.data.num_val


@pytest.mark.parametrize("experiment", ["demo", "cpu_quick"])
def test_the_short_cpu_budgets_train_on_from_a_built_in_network(experiment: str, tmp_path: Path) -> None:
    """From random weights the demo's 300 steps painted a flat teal with red and yellow blobs where the cat's eyes
    and nose were (cpu_quick's at 500 steps too); their network now starts as a built-in style's, which already
    keeps a photo's shapes."""
    import torch

    from fast_style import zoo
    from fast_style.model.style_model import load_style_model
    from fast_style.training.module import StyleTransferModule

    cfg = _compose([f"experiment={experiment}", f"output_dir={tmp_path}", "style.image=s.png"])
    assert cfg.module.init_from in zoo.names()
    network = instantiate(cfg.model)
    StyleTransferModule._start_from(network, cfg.module.init_from)
    built_in, _ = load_style_model(str(zoo.resolve(cfg.module.init_from)))
    for (name, ours), theirs in zip(network.state_dict().items(), built_in.state_dict().values()):
        assert torch.equal(ours, theirs.to(ours.dtype)), name


def test_the_readme_says_the_short_budgets_fix_the_style_size(tmp_path: Path) -> None:
    """experiment=cpu_quick fixes style.size at 384, where the README said only "160 px crops" and called twice
    data.image_size the default: `experiment=cpu_quick data.image_size=256` painted with a 1.5x style image."""
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    sizes = {}
    for experiment in ("demo", "cpu_quick"):
        base = [f"experiment={experiment}", f"output_dir={tmp_path}", "style.image=s.png"]
        cfg = _compose(base)
        assert _compose([*base, "data.image_size=64"]).style.size == cfg.style.size  # fixed, whatever the crops
        sizes[experiment] = (cfg.data.image_size, cfg.style.size)
    assert f"`experiment=demo` and `cpu_quick` fix it at {sizes['demo'][1]} and {sizes['cpu_quick'][1]})" in readme
    crops, size = sizes["cpu_quick"]
    assert f"`experiment=cpu_quick` ({crops} px crops, the painting at {size} px," in readme
    assert f"Its `style.size={size}` is fixed, not twice the crop" in readme


def test_model_and_trainer_nodes_instantiate(tmp_path: Path) -> None:
    cfg = _compose([f"output_dir={tmp_path}", "style.image=s.png", "model=tiny", "trainer=fast_dev"])
    net = instantiate(cfg.model)
    assert net.config == {"channels": [4, 8, 8], "num_residual": 1, "kernel_outer": 3}
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    assert trainer.max_steps == 4
    for name, node in cfg.callbacks.items():
        assert type(instantiate(node)) is get_object(node._target_), name
    writer = instantiate(cfg.callbacks.style_model)
    assert writer.path == tmp_path / "style.pt" and writer.meta["style_image"] == "s.png"


def test_the_style_model_names_a_relative_painting_by_its_whole_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """style.image=wave.jpg (in the current folder) was recorded as `wave.jpg`: fast-style-eval, run from another
    folder, did not find the painting the model was trained on."""
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "wave.jpg").write_bytes(b"a painting")
    monkeypatch.chdir(tmp_path)
    for given in ("art/wave.jpg", str(tmp_path / "art" / "wave.jpg")):
        cfg = _compose([f"output_dir={tmp_path}", f"style.image={given}"])
        assert instantiate(cfg.callbacks.style_model).meta["style_image"] == str(tmp_path / "art" / "wave.jpg")


def test_style_image_is_required() -> None:
    cfg = _compose(["output_dir=/tmp/x"])
    assert OmegaConf.is_missing(cfg.style, "image")


def test_the_python_api_and_the_configs_build_the_same_loss(tmp_path: Path, random_vgg: Path) -> None:
    from fast_style.perceptual.loss import PerceptualLoss

    cfg = _compose([f"output_dir={tmp_path}", "style.image=s.png", "loss=file", f"loss.weights={random_vgg}"])
    from_config, from_python = instantiate(cfg.loss), PerceptualLoss(weights=str(random_vgg))
    for key in ("content_weight", "style_weight", "tv_weight", "style_layers", "content_layers"):
        assert getattr(from_config, key) == getattr(from_python, key), key
    assert (from_python.content_weight, from_python.style_weight, from_python.tv_weight) == (1e5, 1e10, 1e2)
    assert PerceptualLoss(weights=str(random_vgg), style_weight=7).style_weight == 7.0


def test_every_setting_of_fast_styles_objects_is_typed_by_its_constructor(tmp_path: Path) -> None:
    import inspect

    from hydra.errors import ConfigCompositionException
    from omegaconf.errors import ValidationError

    from fast_style.errors import UserError
    from fast_style.training.data import StyleDataModule

    cfg = _compose([f"output_dir={tmp_path}", "style.image=s.png"])
    defaults = {k: p.default for k, p in inspect.signature(StyleDataModule).parameters.items()}
    assert cfg.data.batch_size == defaults["batch_size"] and cfg.data.max_image_pixels == defaults["max_image_pixels"]
    assert set(cfg.module) == {"lr", "lr_schedule", "lr_min_ratio", "on_nonfinite", "compile", "init_from"}
    with pytest.raises(UserError, match="^data.batch_size must be a whole number, got 'abc'$") as e:
        _compose([f"output_dir={tmp_path}", "style.image=s.png", "data.batch_size=abc"])
    assert isinstance(e.value.__cause__, ConfigCompositionException)
    assert isinstance(e.value.__cause__.__cause__, ValidationError)


def test_the_cached_schemas_are_the_constructors(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `fast-style-train` reads from the cache (no torch) types every setting as the constructors do."""
    import dataclasses

    from fast_style.runs import config

    def described(kind: type) -> list[tuple]:
        return [
            (f.name, f.type, f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
            for f in dataclasses.fields(kind)
        ]

    live = {group: described(config.schema(*made)) for group, made in config.SCHEMAS.items()}
    import os
    import time

    config.cache_dir().mkdir(parents=True, exist_ok=True)
    old, other = (config.cache_dir() / f"config-schemas-{key}.json" for key in ("0123456789abcdef", "fedcba9876543210"))
    old.write_text("{}")  # an earlier version's, unused for two months: one more each upgrade, never removed
    os.utime(old, (time.time() - 60 * 86400,) * 2)
    other.write_text("{}")  # another install's sharing the cache, in use: kept
    fields = config._all_fields()  # read from the constructors, and kept
    assert not old.exists() and other.exists()
    other.unlink()
    kept = list(config.cache_dir().glob("config-schemas-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == fields
    monkeypatch.setattr(config, "_fields", lambda *a: pytest.fail("the constructors were read again"))
    for group, (target, _, _) in config.SCHEMAS.items():
        assert described(config._dataclass(target, config._all_fields()[group])) == live[group], group


def test_a_damaged_schema_cache_is_read_past(monkeypatch: pytest.MonkeyPatch) -> None:
    from fast_style.runs import config

    path = config.cache_dir() / f"config-schemas-{config._source_key()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"data": [["batch_size", "no such kind", 4]]')  # cut short
    monkeypatch.setattr(config, "_made", {})
    cfg = _compose(["output_dir=o", "style.image=s.png"])
    assert cfg.data.batch_size == 4 and json.loads(path.read_text())["data"][0][0] == "_target_"  # written anew
    path.write_text(json.dumps({group: [["batch_size", "no such kind", 4]] for group in config.SCHEMAS}))
    monkeypatch.setattr(config, "_made", {})
    assert _compose(["output_dir=o", "style.image=s.png"]).data.batch_size == 4  # well-formed, but not ours


def test_two_runs_started_in_the_same_second_get_their_own_folders() -> None:
    """The run folder was outputs/<date>/<time>: two launches in one second (a script's `&`) shared it, and the
    later run's style.pt replaced the earlier one's. The process is in the name now: this process's id, read where
    the folder is named (no second process to start: each process names its own)."""
    import os
    import re

    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from fast_style.runs.config import register

    register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose("train", return_hydra_config=True)
        run, sweep = str(cfg.hydra.run.dir), str(cfg.hydra.sweep.dir)
    for folder, top in ((run, "outputs"), (sweep, "multirun")):  # <top>/<date>/<hh-mm-ss>-<pid>
        assert re.fullmatch(rf"{top}/\d{{4}}-\d\d-\d\d/\d\d-\d\d-\d\d-{os.getpid()}", folder), folder


def test_an_unknown_key_is_not_advised_as_a_plus_key_nothing_reads() -> None:
    """`module.warmup=5` advised `+module.warmup=5` (a TypeError traceback once the loss was built) and
    `max_steps=5` advised `+max_steps=5`, which trained the default 40,000 steps: a typed group's unknown key is
    said without that advice, a group's setting given at the top level is named."""
    from fast_style.errors import UserError

    with pytest.raises(UserError) as said:
        compose(["style.image=x.jpg", "module.warmup=5"])
    assert str(said.value).startswith("unknown setting 'module.warmup'; the settings under module are ")
    assert "+" not in str(said.value)
    with pytest.raises(UserError, match=r"^unknown setting 'max_steps' \(did you mean trainer.max_steps\?\)"):
        compose(["style.image=x.jpg", "max_steps=5"])
    with pytest.raises(UserError, match=r"^unknown setting 'lr' \(did you mean module.lr\?\)"):
        compose(["style.image=x.jpg", "lr=5"])
    # a callback's constructor takes no other key (its TypeError); at the top level only an interpolation reads one
    with pytest.raises(UserError) as said:
        compose(["style.image=x.jpg", "callbacks.images.colour=5"])
    assert str(said.value).startswith("unknown setting 'callbacks.images.colour'; the settings under callbacks.images")
    assert "+" not in str(said.value)
    with pytest.raises(UserError, match=r"\(use \+zzz=\.\.\. to add a new key on purpose, for \$\{zzz\} to read\)$"):
        compose(["style.image=x.jpg", "zzz=5"])


def test_a_top_level_setting_added_that_nothing_reads_is_refused() -> None:
    """`+max_steps=5` (the `+` added to what "unknown setting 'max_steps'" refused) trained the default 40,000 steps:
    refused, naming trainer.max_steps; one that an interpolation reads is kept."""
    from fast_style.errors import UserError
    from fast_style.runs.config_mistakes import check_added

    cfg = compose(["style.image=x.jpg", "+max_steps=5", "+size=64", "data.image_size=${size}", "+note=mine"])
    with pytest.raises(UserError) as said:
        check_added(cfg, ["+max_steps=5"])
    assert str(said.value) == (
        "+max_steps adds a setting that nothing reads at the top level: did you mean trainer.max_steps=...?"
    )
    check_added(cfg, ["+size=64", "data.image_size=${size}", "trainer.max_steps=5", "+trainer.min_steps=1"])
    with pytest.raises(UserError, match=r"^\+note adds a setting that nothing reads at the top level: set a group's"):
        check_added(cfg, ["+note=mine"])


def test_a_trainer_refused_for_its_device_is_told_what_to_set_unless_lightning_said_it() -> None:
    """Lightning's "`Trainer(devices=0)` value is not a valid input" named nothing to set; its own remedy for a
    strategy (fsdp: "Please set accelerator='cuda'") had ours added after it, which on a CPU gave the same error."""
    from fast_style.errors import UserError
    from fast_style.runs.config_mistakes import build

    remedy = "(trainer.accelerator=auto trains on a GPU where there is one, else the CPU; trainer.devices=1)"
    trainer = {"_target_": "pytorch_lightning.Trainer", "accelerator": "cpu", "devices": 0}
    with pytest.raises(UserError) as said:
        build(OmegaConf.create(trainer), "trainer")
    assert str(said.value).startswith("bad setting under trainer: `Trainer(devices=0)`") and remedy in str(said.value)
    with pytest.raises(UserError) as said:
        build(OmegaConf.create({"_target_": "pytorch_lightning.Trainer", "strategy": "fsdp"}), "trainer")
    assert "fsdp" in str(said.value) and remedy not in str(said.value)


def test_a_layer_weight_set_where_the_loss_leaves_its_layers_null_gives_the_whole_map() -> None:
    """`loss.style_layers.relu1_2=2` (a layer the run's log names) was "unknown setting 'loss.style_layers.relu1_2'":
    the default loss leaves its layers null. The map to give instead is said, and composes as said."""
    from fast_style.errors import UserError

    with pytest.raises(UserError) as said:
        compose(["style.image=x.jpg", "loss.style_layers.relu5_3=0.5"])
    message = str(said.value)
    assert message.startswith("loss.style_layers is null here (the loss's own layers: relu1_2, relu2_2, relu3_3,")
    given = message.partition("give the whole map, ")[2]
    assert given == "loss.style_layers='{relu1_2: 1, relu2_2: 1, relu3_3: 1, relu4_3: 1, relu5_3: 0.5}'"
    cfg = compose(["style.image=x.jpg", given.replace("'", "")])  # (the shell takes the quotes)
    assert dict(cfg.loss.style_layers) == {"relu1_2": 1, "relu2_2": 1, "relu3_3": 1, "relu4_3": 1, "relu5_3": 0.5}
    with pytest.raises(
        UserError, match=r"so loss.content_layers.relu3_3 has no map to go in: .*'\{relu2_2: 1, relu3_3: 2\}'$"
    ):
        compose(["style.image=x.jpg", "loss.content_layers.relu3_3=2"])
    assert compose(["style.image=x.jpg", "loss=vgg19", "loss.style_layers.relu1_1=2"]).loss.style_layers.relu1_1 == 2


def test_a_layer_added_with_a_plus_where_the_loss_leaves_its_layers_null_is_refused_with_the_whole_map() -> None:
    """`+loss.style_layers.relu5_3=1` (as Hydra's "use +key=..." advises for a key that is not there) made a map of
    that layer alone: the run trained on relu5_3 only, the loss's own four layers dropped without a word."""
    from fast_style.errors import UserError
    from fast_style.runs.config_mistakes import check_added

    given = ["style.image=x.jpg", "+loss.style_layers.relu5_3=0.5", "+loss.style_layers.relu1_1=2"]
    with pytest.raises(UserError) as said:
        check_added(compose(given), given)
    message = str(said.value)
    assert "so +loss.style_layers.relu5_3 +loss.style_layers.relu1_1 would train on those alone" in message
    whole = "'{relu1_2: 1, relu2_2: 1, relu3_3: 1, relu4_3: 1, relu5_3: 0.5, relu1_1: 2}'"
    assert message.endswith(f"give the whole map, loss.style_layers={whole}")
    with pytest.raises(UserError, match=r"so \+loss.content_layers.relu3_3 would train on those alone"):
        check_added(
            compose(["style.image=x.jpg", "+loss.content_layers.relu3_3=1"]), ["+loss.content_layers.relu3_3=1"]
        )
    # a map the config has takes one more layer (loss=vgg19's own), and so does one given whole beside it
    for kept in (
        ["loss=vgg19", "+loss.style_layers.relu5_4=1"],
        ["loss.style_layers={relu1_2: 1}", "+loss.style_layers.relu2_2=1"],
    ):
        check_added(cfg := compose(["style.image=x.jpg", *kept]), kept)
        assert len(cfg.loss.style_layers) >= 2


def test_compose_given_one_string_a_dict_or_no_strings_says_what_it_takes() -> None:
    # compose("model=tiny") read the string letter by letter: "Error parsing override 'm' missing EQUAL"
    for given in ("model=tiny", {"model": "tiny"}):
        with pytest.raises(TypeError, match=r"compose takes a list of overrides"):
            compose(given)  # type: ignore[arg-type]
    for given in ([5], ["model=tiny", None], [Path("x.jpg")]):  # antlr's "'int' object is not iterable"
        with pytest.raises(TypeError, match=r"^compose takes overrides as strings, as the command line's, not "):
            compose(given)  # type: ignore[list-item]
    for name in (None, 5):  # None composed an empty config (train then refused it), 5 failed inside Hydra
        with pytest.raises(TypeError, match=r"^config_name is a config's name \(train, the default\), not "):
            compose([], config_name=name)  # type: ignore[arg-type]
    assert (
        compose(("style.image=x.jpg", "model=tiny")).model.channels
        == compose(["style.image=x.jpg", "model=tiny"]).model.channels
    )


def test_compose_says_to_quote_a_value_hydra_cannot_read_unquoted() -> None:
    # compose(["output_dir=~/x"]) said Hydra's "LexerNoViableAltException: output_dir=~/x ^ See https://..."
    from fast_style.errors import UserError

    for given, quoted in (
        ("output_dir=~/x", "output_dir='~/x'"),
        ("style.image=painting (1).jpg", "style.image='painting (1).jpg'"),
        ("data.root=a=b", "data.root='a=b'"),
    ):
        with pytest.raises(UserError) as e:
            compose(["style.image=x.jpg", given])
        assert str(e.value) == (
            f"Hydra cannot read {given} unquoted (~, spaces, brackets, = mean things to it): quote the value, {quoted}"
        )
        assert compose(["style.image=x.jpg", quoted]) is not None  # the quoting given reads
    with pytest.raises(UserError) as e:  # Hydra's own syntax gone wrong: no quoting offered, its reason, no class name
        compose(["trainer.max_steps=[1,2"])
    assert str(e.value).startswith("Hydra cannot read trainer.max_steps=[1,2 (no viable alternative at input")
    with pytest.raises(UserError) as e:
        compose(["model.=x"])
    assert "LexerNoViableAltException" not in str(e.value) and "quote" not in str(e.value)
    from fast_style.command_line import restore_command_line, set_command_line

    was = set_command_line(True)  # typed in a shell: the quotes in the shell's own (which it drops)
    try:
        with pytest.raises(UserError, match="""quote the value, "output_dir='~/x'"$"""):
            compose(["output_dir=~/x"])
    finally:
        restore_command_line(was)
    with pytest.raises(UserError, match=r"^Hydra cannot read data.root=a\(,b \("):  # a sweep: not one value to quote
        compose(["data.root=a(,b"])
