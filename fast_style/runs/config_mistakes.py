"""A configuration mistake, as Hydra, OmegaConf or our constructors report it, in one line that says what to set:
an unknown option of a group (the options listed), an unknown key (the nearest one, the keys beside it), a value
of the wrong kind, a setting without a value. Read from the exceptions' own fields (the key, the value, the
missing option), not from their text. Also the checks made before anything is built (a group's own option file
without its schema, a Trainer setting of the wrong kind or name) and `build`, which instantiates a config node and
says a constructor's complaint in one line naming that node."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from fast_style.command_line import on_command_line
from fast_style.errors import UserError, first_line
from fast_style.runs.config import (
    CONFIG_DIR,
    KIND_WORDS,
    SCHEMAS,
    compose,
    constructor_signature,
    expected_kind,
    settings_of,
)

_FILE_KEYS = {"style": "style.image", "loss": "loss=file loss.weights"}  # groups whose option is often a file


def _a_trainer_argument(name: str) -> bool:
    """Whether pytorch_lightning.Trainer takes `name` (only where a mistake is being reported: Lightning loads)."""
    import inspect

    import pytorch_lightning as pl

    return name in inspect.signature(pl.Trainer).parameters


def _composed(overrides: list[str], config_dirs: list[str]) -> DictConfig | None:
    """The config composed with the command line's other overrides and its own config folders (`--config-dir`);
    None where they have mistakes too."""
    folders = [f"file://{os.path.abspath(d)}" for d in config_dirs]
    if folders:  # (searched after the built-in configs here, before them in the launch: the same unless they clash)
        overrides = [*overrides, f"hydra.searchpath=[{','.join(repr(f) for f in folders)}]"]
    try:
        return compose(overrides)
    except Exception:  # the other overrides have mistakes too: name no keys rather than fail here
        return None


def _keys_under(parent: str, cfg: DictConfig | None) -> list[str]:
    """The settings a config node has."""
    node = (OmegaConf.select(cfg, parent) if parent else cfg) if cfg is not None else None
    return sorted(str(k) for k in node) if isinstance(node, DictConfig) else []


def _same_name_below(name: str, cfg: DictConfig | None) -> str | None:
    """The first setting called `name` inside a node of the config (`max_steps`: trainer.max_steps), for a key given
    at the top level without its group."""
    found = [(cfg, "")] if cfg is not None else []
    while found:
        node, at = found.pop(0)
        for key in (str(k) for k in node):
            child = node._get_node(key)  # (not resolved: an interpolation is beside the point here)
            if at and key == name:
                return f"{at}.{key}"
            if isinstance(child, DictConfig):
                found.append((child, f"{at}.{key}" if at else key))
    return None


def _own_config_dirs(argv: list[str]) -> list[str]:
    """The config folders Hydra's --config-dir (-cd) adds: `--config-dir DIR`, `--config-dir=DIR`, `-cd DIR`."""
    found = []
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif arg.startswith("--config-dir="):
            found.append(arg.partition("=")[2])
    return found


def one_line(error: BaseException, argv: list[str]) -> str:
    """A user's configuration mistake, as Hydra, OmegaConf or our constructors report it, in one line (read from
    the exceptions' own fields: the key, the value, the missing option)."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
    from omegaconf.errors import (
        ConfigAttributeError,
        ConfigKeyError,
        InterpolationResolutionError,
        MissingMandatoryValue,
        OmegaConfBaseException,
        ValidationError,
    )

    cause, source = error.__cause__, ""
    unread = next((e for e in (error, cause) if isinstance(e, OverrideParseException)), None)
    if unread is not None and unread.override:  # Hydra's "LexerNoViableAltException: output_dir=~/x ^"
        return _unreadable(unread.override, str(unread.message))
    if cause is None and isinstance(error, ConfigCompositionException):  # a mistake in a config file of one's own
        cause = error.__context__  # (Hydra raises it while handling OmegaConf's error, without `from`)
        source = str(error).partition("'")[2].partition("'")[0]  # "In 'model/wide': ..." -> model/wide
    if isinstance(error, MissingConfigException) and error.options:
        missing = error.missing_cfg_file or ""
        group, _, option = missing.rpartition("/")
        for arg in argv:  # the override that asked for it: an option may be a path (style=/x/wave.jpg)
            key, _, value = arg.partition("=")
            if f"{key.lstrip('+~')}/{value}" == missing:
                group, option = key.lstrip("+~"), value
        options = sorted(o for o in error.options if o != "schema")
        hint = f"; a file goes in as {_FILE_KEYS[group]}=..." if group in _FILE_KEYS and Path(option).suffix else ""
        return f"unknown {group or 'config'} option '{option}': choose one of {', '.join(options)}{hint}"
    # +model=tiny: Hydra's "To override a value use 'override model: tiny'" is a config file's words
    twice = re.match(r"Multiple values for ([\w./]+)\. To override", str(error))
    added = next((a for a in argv if twice and a.startswith(f"+{twice.group(1)}=")), None)
    if twice and added:
        return f"{twice.group(1)} is a config group: choose its option without the +, {added[1:]}"
    removed = [a[1:].partition("=")[0] for a in argv if a.startswith("~") and not a.startswith("~/")]
    for found in (error, cause):  # ~seed, ~model, ~data.root: OmegaConf's "Key 'seed' is not in struct" and the like
        key = getattr(found, "full_key", None) if isinstance(found, OmegaConfBaseException) else None
        gone = next((r for r in removed if key and (key == r or key.startswith(f"{r}."))), None)
        if gone is not None:
            instead = "" if key == "output_dir" else f" (or set {key}=... instead)"  # (output_dir: the run's folder)
            return f"~{gone} removes {key}, which fast-style-train needs: leave ~{gone} out{instead}"
    if isinstance(cause, ValidationError) and cause.full_key and expected_kind(cause.full_key):
        return kind_refused(cause.full_key, expected_kind(cause.full_key), cause.value)
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
        key = cause.full_key
        parent = key.rpartition(".")[0]
        mistaken = {key, source.partition("/")[0]}  # the key itself, or the group whose config file has it
        others = [  # (stlye.image=x: the unknown key is stlye, and the override under it goes too)
            a
            for a in argv
            if "=" in a
            and not a.startswith("-")
            and a.split("=")[0].lstrip("+~").partition(".")[0] not in mistaken
            and a.split("=")[0].lstrip("+~") not in mistaken
        ]
        composed = _composed(others, _own_config_dirs(argv))
        keys = _keys_under(parent, composed)
        known = f"; the settings under {parent or 'the top level'} are {', '.join(keys)}" if keys else ""
        group = key.partition(".")[0]
        if not keys and (CONFIG_DIR / group / "none.yaml").is_file():  # an optional group left at none
            options = sorted(f.stem for f in (CONFIG_DIR / group).glob("*.yaml") if f.stem not in ("none", "schema"))
            return f"'{key}' is a setting of the {group} group, which is off: add {group}={options[0]} " + (
                f"(or another of {', '.join(options)})" if len(options) > 1 else "to the command line"
            )
        # the nearest setting (data.batchsize: data.batch_size, which the +key=... hint below does not find)
        given = [a.split("=")[0].lstrip("+~") for a in argv if "=" in a]
        below = next((g[len(key) :] for g in given if g.startswith(f"{key}.")), "")  # stlye.image: stlye, .image
        near = difflib.get_close_matches(key.rpartition(".")[2], keys, n=1)
        if parent == "trainer" and _a_trainer_argument(key.rpartition(".")[2]):  # min_steps: no max_steps guessed
            near = []
        guess = f"{parent + '.' if parent else ''}{near[0]}{below}" if near else ""
        if not guess and not parent:  # max_steps=100 for trainer.max_steps: `+max_steps=100` was read by nothing
            elsewhere = _same_name_below(key, composed)
            guess = f"{elsewhere}{below}" if elsewhere else ""
        hint = f" (did you mean {guess}?)" if guess else ""
        key += below
        if parent in ("loss.style_layers", "loss.content_layers") and not keys and composed is not None:
            return _layers_left_null([key], argv)  # (null: the loss's own layers, which the run's log names)
        if source:
            return f"unknown setting '{key}' in the config {source}{hint}{known}"
        if guess:
            return f"unknown setting '{key}'{hint}{known}"
        if parent == "trainer":  # the node lists only what the config sets: Lightning takes many more
            return f"unknown setting '{key}'{known}; another pytorch_lightning.Trainer argument goes in as +{key}=..."
        if parent in SCHEMAS:  # a typed group's constructor takes no other key: `+data.xyz=...` is refused too
            return f"unknown setting '{key}'{known}"
        if not parent:  # read by nothing but an interpolation
            read = f"for ${{{key}}} to read"
            return f"unknown setting '{key}'{known} (use +{key}=... to add a new key on purpose, {read})"
        if parent.split(".")[0] == "hydra":  # Hydra's own open nodes (hydra.job.env_set)
            return f"unknown setting '{key}'{known} (use +{key}=... to add a new key on purpose)"
        return f"unknown setting '{key}'{known}"  # a callback's constructor takes no other key either
    if isinstance(error, UserError):
        return str(error)
    for found in (error, cause):  # a ??? left in a config: experiment=fast_variant without its teacher
        if isinstance(found, MissingMandatoryValue) and found.full_key:
            return f"{found.full_key} has no value: add {found.full_key}=... (README, Configuration)"
        # a ${...} whose setting is not there: experiment=fast_variant distill=none (its init_from is the teacher)
        if isinstance(found, InterpolationResolutionError) and found.full_key:
            ref = re.search(r"access ([\w.]+)", str(found))
            said = f" (it is ${{{ref.group(1)}}}, which this config does not have)" if ref else ""
            return (
                f"{found.full_key} cannot be worked out{said}: give it yourself, {found.full_key}=..., or add the "
                "setting it refers to"
            )
    text = " ".join(f"{error} {cause or ''}".split())
    return text[:300]


_HYDRA_SYNTAX = re.compile(r"[\[{]|\$\{|(choice|range|interval|sort|shuffle|tag|glob|str|int|float|bool|json_str)\(")


def _unreadable(override: str, message: str) -> str:
    """An override Hydra's grammar cannot read: where its value reads quoted (`output_dir=~/x`, `style.image=painting
    (1).jpg`), the quoting; else Hydra's reason (a list, a sweep, an interpolation of its own syntax gone wrong)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    key, equals, value = override.partition("=")
    # (a sweep, a,b, is not one value to quote)
    if equals and value and not set(value) & set("',") and not _HYDRA_SYNTAX.match(value) and "${" not in value:
        quoted = f"{key}='{value}'"
        try:
            OverridesParser.create().parse_override(quoted)
        except Exception:  # a mistake in the key
            pass
        else:  # typed in a shell, the quotes go in quotes of the shell's (which drops its own)
            typed = shlex.quote(quoted) if on_command_line() else quoted
            typed = f'"{quoted}"' if typed != quoted and not set(value) & set('"$`\\!') else typed
            return f"Hydra cannot read {override} unquoted (~, spaces, brackets, = mean things to it): " + (
                f"quote the value, {typed}"
            )
    reason = " ".join(re.split(r"\sSee https?://", message)[0].split())
    if reason.startswith("LexerNoViableAltException"):
        reason = "a sign it does not take there"
    return f"Hydra cannot read {override} ({reason}): see https://hydra.cc/docs/advanced/override_grammar/basic"


def _layers_left_null(keys: list[str], argv: list[str], added: bool = False) -> str:
    """`loss.style_layers.relu1_2=2` where the config leaves the layers null (the loss's own): the whole map to give,
    with the layers' weights as given. `added`: `+loss.style_layers.relu5_3=1`, which Hydra takes as a map of the
    added layers alone (the loss's own four dropped without a word)."""
    from fast_style.perceptual.loss import DEFAULT_LAYERS

    parent = keys[0].rpartition(".")[0]
    layers = {name: f"{weight:g}" for name, weight in DEFAULT_LAYERS[parent.partition(".")[2]].items()}
    default = f"{', '.join(layers)} at weight 1"
    for key in keys:
        given = next((a.partition("=")[2] for a in argv if a.lstrip("+~").partition("=")[0] == key), "")
        layers[key.rpartition(".")[2]] = given or layers.get(key.rpartition(".")[2], "1")
    whole = ", ".join(f"{name}: {weight}" for name, weight in layers.items())
    named = " ".join(f"+{k}" for k in keys)
    instead = f"{named} would train on those alone" if added else f"{keys[0]} has no map to go in"
    return (
        f"{parent} is null here (the loss's own layers: {default}), so {instead}: give the whole map, "
        f"{parent}='{{{whole}}}'"
    )


def not_yaml(error: yaml.YAMLError) -> str:
    """A config file's YAML mistake in one line: the file, its line and column, and what the parser expected."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or first_line(error)
    if mark is None:
        return f"a config file is not valid YAML: {problem}"
    return f"the config file {mark.name} is not valid YAML (line {mark.line + 1}, column {mark.column + 1}): {problem}"


def check_typed(cfg: DictConfig) -> None:
    """Refuse, in one line, a group whose option file does not start from the group's schema (an own
    `model/wide.yaml` without `defaults: [schema, _self_]`): without the schema's `_target_` it would build a
    dict, not the object. (A config read back from a run's .hydra/config.yaml is untyped, but names its targets.)
    So is an own experiment without `# @package _global_`, whose settings nothing would read."""
    from fast_style.runs import launch  # (Lightning: only once a run is checked)

    if isinstance(cfg.get("experiment"), DictConfig):  # an own experiment/mine.yaml without Hydra's package line:
        option = launch.choice("experiment")  # its settings went under experiment.*, and the run trained without them
        named = f"experiment={option}" if option else "the experiment option"
        raise UserError(
            f"{named} put its settings under experiment.*, where nothing reads them: begin its file with "
            "`# @package _global_`, as the built-in experiments do (README, Configuration)"
        )
    for group, (_, _, with_target) in SCHEMAS.items():
        node = OmegaConf.select(cfg, group)
        if with_target and isinstance(node, DictConfig) and "_target_" not in node:
            option = launch.choice(group)
            named = f"{group}={option}" if option else f"the {group} group's option"
            raise UserError(
                f"{named} does not start from the group's schema: begin its file with "
                "`defaults: [schema, _self_]` (README, Configuration)"
            )


def check_keys(cfg: DictConfig) -> None:
    """Refuse, in one line and before anything is built, a key that a typed group's constructor does not take: added
    with `+` (`+module.warmup=5`: a TypeError traceback once the network, loss and style were built; `+data.foo=1`:
    the constructor's own words), or in a config read back untyped."""
    for group, (target, _, _) in SCHEMAS.items():
        node = OmegaConf.select(cfg, group)
        if not isinstance(node, DictConfig):
            continue
        takes = settings_of(group)
        for key in (str(k) for k in node):
            if key not in takes:
                close = difflib.get_close_matches(key, takes, n=1)
                hint = f" (did you mean {group}.{close[0]}?)" if close else ""
                settings = ", ".join(sorted(k for k in takes if k != "_target_"))
                raise UserError(
                    f"{group}.{key} is not a setting of {target.rsplit('.', 1)[1]}{hint}: it takes {settings}"
                )


def check_added(cfg: DictConfig, overrides: list[str]) -> None:
    """Refuse, in one line, a top-level setting added on the command line (`+max_steps=100`) that nothing reads: no
    constructor takes it and no interpolation names it (`+size=256 data.image_size='${size}'` is read), so the run
    went on without it (40,000 steps for `+max_steps=100`)."""
    added = [k.lstrip("+") for a in overrides if (k := a.partition("=")[0]).startswith("+") and not set(k) & set("./@")]
    raw = str(OmegaConf.to_container(cfg, resolve=False)) if added else ""  # (the config's text: its interpolations)
    for key in added:
        if key not in cfg or re.search(r"\$\{[^}]*\b" + re.escape(key) + r"\b", raw):
            continue
        below = _same_name_below(key, cfg)
        hint = f"did you mean {below}=...?" if below else "set a group's setting (data.image_size=...) instead"
        raise UserError(f"+{key} adds a setting that nothing reads at the top level: {hint}")
    layers = [k.lstrip("+") for a in overrides if (k := a.partition("=")[0]).startswith("+")]
    for parent in ("loss.style_layers", "loss.content_layers"):  # a map the config left null, made of `+` alone
        mine = [k for k in layers if k.rpartition(".")[0] == parent]
        node = OmegaConf.select(cfg, parent) if mine else None
        if isinstance(node, DictConfig) and {f"{parent}.{k}" for k in node} <= set(mine):
            raise UserError(_layers_left_null(mine, overrides, added=True))


def build(node: DictConfig, where: str, **kwargs: Any) -> Any:
    """instantiate(node), a constructor's complaint as one line naming the config node it came from."""
    from hydra.errors import InstantiationException

    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        said = first_line(cause or e, 300)
        own_remedy = re.search(r"please set|strategy|pip install", said, re.IGNORECASE)  # (fsdp: it needs a GPU)
        if where == "trainer" and not own_remedy and re.search(r"accelerator|devices|gpu|cuda|mps|backend", said, re.I):
            # Lightning's words alone ("No supported gpu backend found!") said nothing of what to set
            said += " (trainer.accelerator=auto trains on a GPU where there is one, else the CPU; trainer.devices=1)"
        raise UserError(f"bad setting under {where}: {said}") from None


def check_types(node: DictConfig, where: str) -> None:
    """UserError for a setting whose value does not fit its constructor argument's simple annotation
    (int, float, bool, str, None and unions of them), e.g. `trainer.max_steps=abc`, before anything is built.
    For the Trainer node, which has no schema (it stays open to any Lightning argument)."""
    target = get_object(node["_target_"])
    signature, hints = constructor_signature(target)
    params = {p.name: p for p in signature}
    if params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # `+trainer.foo=1` adds a key Hydra cannot check: refused here, not after the loss network is built
        for key in (str(k) for k in node if not str(k).startswith("_")):
            if key not in params:
                close = difflib.get_close_matches(key, list(params), n=1)
                hint = f" (did you mean {where}.{close[0]}?)" if close else ""
                raise UserError(
                    f"{where}.{key} is not a setting of {target.__name__}{hint}: it takes {', '.join(sorted(params))}"
                )
    for key, value in node.items():
        hint = hints.get(str(key))
        kinds = (
            typing.get_args(hint)
            if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            else (hint,)
        )
        if hint is None or not all(k in KIND_WORDS for k in kinds) or isinstance(value, (DictConfig, ListConfig)):
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = any(isinstance(value, k) and not (k is not bool and isinstance(value, bool)) for k in kinds) or (
            number and (float in kinds or str in kinds)
        )  # data.root=2024 is a folder name Hydra read as a number
        if not fits:
            wanted = " or ".join(KIND_WORDS[k] for k in kinds if not (k is int and float in kinds))
            raise UserError(kind_refused(f"{where}.{key}", wanted, value))


def kind_refused(key: str, wanted: str, value: Any) -> str:
    """The line refusing `value` for the setting `key`, which takes `wanted` ("a whole number"): a whole number
    written with a decimal point (data.batch_size=4.0, OmegaConf's int refuses it) is told how to write it ("must
    be a whole number, got 4.0" said a whole number was not one)."""
    if "a whole number" in wanted and isinstance(value, float) and value.is_integer():
        return f"{key} must be {wanted}, written without a decimal point: {key}={int(value)}"
    return f"{key} must be {wanted}, got {as_written(value)}"


def as_written(value: Any) -> str:
    """A setting's value as the command line and YAML write it: null, true and false (Python's None and True were
    no words of the user's), anything else by its repr."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else repr(value)
