"""The training configuration (Hydra): where its folder is, the schemas that type it, and its resolvers.

The folder is the repository's top-level `configs/`; a wheel carries the same files as `fast_style/configs`
(mapped at build time, pyproject.toml), so an installed `fast-style-train` finds them without the checkout.

Each config group that builds one of fast-style's objects (data, model, loss, style, module, temporal, distill)
is typed by a structured-config schema made from that object's constructor: its argument names, their types and
their defaults. The constructor is the one source of every default; a group's YAML file names the schema
(`defaults: [schema, _self_]`) and sets only what differs. A value of the wrong type (`data.batch_size=abc`) or
an unknown key is refused while the config is composed, before anything is built. `compose` builds a config as
the command line would, for code and tests.

Reading the constructors imports torch and Lightning (seconds), so the schemas are also kept in the cache folder
(`fast_style.cache.cache_dir`), under a key made of the package's source files: `fast-style-train --help` and a
mistyped setting answer without loading them, and any change to the code makes a new key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import json
import os
import sys
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from fast_style.atomic import atomic_write
from fast_style.cache import cache_dir
from fast_style.errors import UserError

LAUNCH_FILES = ("config.yaml", "overrides.yaml", "hydra.yaml")  # what Hydra writes into a run's .hydra/ each launch

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # fast_style/
_PACKAGED = PACKAGE_DIR / "configs"  # in a wheel
CONFIG_DIR = _PACKAGED if _PACKAGED.is_dir() else PACKAGE_DIR.parent / "configs"  # else the checkout's

# group -> (the object it builds, the constructor arguments that are not settings, whether it names a _target_)
SCHEMAS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "data": ("fast_style.training.data.StyleDataModule", (), True),
    "model": ("fast_style.model.network.TransformerNet", (), True),
    "loss": ("fast_style.perceptual.loss.PerceptualLoss", (), True),
    "style": ("fast_style.perceptual.style_image.load_style_image", (), True),
    "module": (
        "fast_style.training.module.StyleTransferModule",
        ("network", "loss", "style_image", "temporal", "distill"),
        False,
    ),
    "temporal": ("fast_style.training.consistency.ConsistencyLoss", (), True),
    "distill": ("fast_style.training.distillation.Distillation", (), True),
}
_SIMPLE = (bool, int, float, str)
SCHEMA_CACHE_DAYS = 30  # a cached schema file unused this long is removed by another version's start
# what a setting of each simple type takes, in words, for one-line messages
KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text", type(None): "null"}


def _field_type(hint: Any) -> Any:
    """A constructor's annotation as OmegaConf can check it: bool, int, float, str, Optional of them, or Any."""
    if hint in _SIMPLE:
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) == 1 and kinds[0] in _SIMPLE:
            return typing.Optional[kinds[0]]  # noqa: UP045 (OmegaConf reads typing.Optional)
    return Any  # containers, unions of kinds: the constructor checks them


def schema(target: str, skip: tuple[str, ...] = (), with_target: bool = True) -> type:
    """A dataclass with a field per argument of `target`'s constructor: its type and its default (MISSING
    where it has none)."""
    return _dataclass(target, _fields(target, skip, with_target))


# a field as the cache holds it: [name, kind, default], kind "int", "int?" (Optional) or "any", no default: MISSING
_KINDS: dict[str, Any] = {"bool": bool, "int": int, "float": float, "str": str, "any": Any}


def _passes_on(function: Any) -> bool:
    """Whether `function` takes `*args, **kwargs` alone (besides self): a constructor that hands them on."""
    try:
        kinds = {p.kind for p in inspect.signature(function).parameters.values() if p.name != "self"}
    except (TypeError, ValueError):
        return False
    return kinds == {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}


def constructor_signature(obj: Any) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    """A class's (its __init__'s, without self) or a function's parameters, and their annotations resolved ({}
    where this Python cannot resolve them: the constructor checks its values then): what the config schemas and
    the Trainer node's check read. A class whose __init__ passes `*args, **kwargs` on (FinalCheckpoint) has the
    parameters of the first class above it that names them (ModelCheckpoint's)."""
    function = obj
    if isinstance(obj, type):
        inits = [c.__dict__["__init__"] for c in obj.__mro__ if "__init__" in c.__dict__]
        function = next((f for f in inits if not _passes_on(f)), obj.__init__)
    try:
        params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    except (TypeError, ValueError):  # a builtin without a signature
        params = []
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    return params, hints


def _fields(target: str, skip: tuple[str, ...], with_target: bool) -> list[list]:
    from hydra.utils import get_object

    params, hints = constructor_signature(get_object(target))
    fields: list[list] = [["_target_", "str", target]] if with_target else []
    for p in params:
        if p.name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = _field_type(hints.get(p.name, Any))
        optional = typing.get_origin(kind) is typing.Union
        name = (typing.get_args(kind)[0] if optional else kind).__name__ if kind is not Any else "any"
        default = MISSING if p.default is inspect.Parameter.empty else p.default
        fields.append([p.name, name + "?" * optional, list(default) if isinstance(default, tuple) else default])
    return fields


def _dataclass(target: str, fields: list[list]) -> type:
    made = []
    for name, kind, default in fields:
        hint = _KINDS[kind.rstrip("?")]
        hint = typing.Optional[hint] if kind.endswith("?") else hint  # noqa: UP045 (OmegaConf reads typing.Optional)
        if isinstance(default, (list, dict)):
            made.append((name, hint, dataclasses.field(default_factory=lambda c=default: c)))
        else:
            made.append((name, hint, dataclasses.field(default=default)))
    return dataclasses.make_dataclass(f"{target.rsplit('.', 1)[1]}Settings", made)


def _source_key() -> str:
    """Changes with any of the package's Python files (where the constructors and their defaults live) and with
    the libraries a default may come from."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(sys.version.encode())
    for dist in ("pillow", "torch", "torchvision", "pytorch-lightning"):  # a default may be theirs (Pillow's limit)
        try:
            digest.update(f"{dist} {version(dist)}".encode())
        except PackageNotFoundError:
            pass
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _all_fields() -> dict[str, list[list]]:
    """Every group's fields: from the cache where it holds this code's, else from the constructors (then kept)."""
    path = cache_dir() / f"config-schemas-{_source_key()}.json"
    try:
        cached = json.loads(path.read_text())
        if sorted(cached) == sorted(SCHEMAS):
            with contextlib.suppress(OSError):
                os.utime(path)  # used: kept (others unused for a month are pruned below)
            return {group: cached[group] for group in SCHEMAS}  # MISSING is the text "???" in both
    except (OSError, ValueError, TypeError):  # none yet, or unreadable: read the constructors
        pass
    fields = {group: _fields(*SCHEMAS[group]) for group in SCHEMAS}
    try:
        text = json.dumps(fields)
        if json.loads(text) != fields:  # a default JSON would change (a tuple inside, a number as a key)
            return fields
        with atomic_write(path) as tmp:
            tmp.write_text(text)
        # earlier versions' (one per upgrade or edit), unused for a month: another install sharing the cache
        # (a checkout beside a released venv) keeps its own, as it reads it
        for older in path.parent.glob("config-schemas-*.json"):
            if older != path and time.time() - older.stat().st_mtime > SCHEMA_CACHE_DAYS * 86400:
                older.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 (a default JSON cannot hold, a read-only cache: the next start reads again)
        pass
    return fields


def settings_of(group: str) -> list[str]:
    """The settings a typed group takes (its constructor's arguments, as its schema holds them, `_target_` too)."""
    return [f.name for f in dataclasses.fields(_schema(group))]


def expected_kind(full_key: str) -> str | None:
    """What a typed setting takes, in words ("a whole number"), from its group's schema; None if untyped."""
    group, _, key = full_key.partition(".")
    if group not in SCHEMAS or "." in key:
        return None
    found = {f.name: f.type for f in dataclasses.fields(_schema(group))}.get(key)
    kinds = typing.get_args(found) or (found,)
    return " or ".join(KIND_WORDS[k] for k in kinds if k in KIND_WORDS) or None


_made: dict[str, type] = {}


def _schema(group: str) -> type:
    if group not in _made:
        fields = _all_fields()
        try:
            _made.update({g: _dataclass(SCHEMAS[g][0], fields[g]) for g in SCHEMAS})
        except (KeyError, TypeError, ValueError):  # a cache file not as this code writes them
            _made.update({g: schema(*SCHEMAS[g]) for g in SCHEMAS})
    return _made[group]


def register() -> None:
    """The schemas (as option `schema` of each group) and the interpolations the configs use; safe to repeat."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for group in SCHEMAS:
        store.store(group=group, name="schema", node=_schema(group))
    # `trainer.precision: ${best_precision:}`: bf16 mixed precision where the hardware has it, else fp32
    OmegaConf.register_new_resolver(
        "best_precision", lambda: "bf16-mixed" if _native_bf16() else "32-true", replace=True
    )
    # `style.size: ${mul:${data.image_size},2}`: the style's texture scale follows the training crops
    OmegaConf.register_new_resolver("mul", lambda a, b: int(a * b), replace=True)
    # a run's folder is named by its start time and its process: two runs started in the same second (a script's
    # `&`) shared one, and the later one's files replaced the earlier one's
    OmegaConf.register_new_resolver("pid", os.getpid, replace=True)
    # `output_dir: ${run_folder:}`: Hydra's runtime.output_dir, which `--cfg job --resolve` showed as null (and
    # the checkpoints' folder as None/checkpoints)
    OmegaConf.register_new_resolver("run_folder", _run_folder, replace=True)


def _run_folder() -> str:
    """The run's folder: Hydra's runtime.output_dir, or before a run (`--cfg job --resolve`) the folder it would
    get (hydra.run.dir, or a sweep's hydra.sweep.dir). Outside Hydra (a config composed in Python) an error that
    train() turns into "output_dir is not set"."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra = HydraConfig.get()
    if not OmegaConf.is_missing(hydra.runtime, "output_dir") and hydra.runtime.output_dir:
        return str(hydra.runtime.output_dir)
    return str(hydra.sweep.dir if hydra.mode == RunMode.MULTIRUN else hydra.run.dir)


def _native_bf16() -> bool:
    from fast_style.devices import native_bf16  # torch: only where a config is resolved

    return native_bf16()


def compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """The config `fast-style-train <overrides>` would run (without Hydra's own `hydra` node)."""
    if isinstance(overrides, (str, bytes, dict)) or not isinstance(overrides, Sequence):  # (a string was read
        # letter by letter: "Error parsing override 'm'")
        raise TypeError(
            f"compose takes a list of overrides, as the command line's, not {type(overrides).__name__}: "
            'compose(["model=tiny", "style.image=wave.jpg"])'
        )
    if odd := [o for o in overrides if not isinstance(o, str)]:  # (antlr's "'int' object is not iterable")
        raise TypeError(
            f"compose takes overrides as strings, as the command line's, not {type(odd[0]).__name__} ({odd[0]!r}): "
            'e.g. compose(["trainer.max_steps=2000"])'
        )
    if not isinstance(config_name, str):  # (None composed an empty config; 5 failed deep inside Hydra)
        raise TypeError(f"config_name is a config's name (train, the default), not {config_name!r}")
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return hydra_compose(config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as e:  # Hydra's report (its advice, +data.rot=1, was wrong)
        from fast_style.runs.config_mistakes import one_line  # (it composes configs itself: once this one is closed)

        raise UserError(one_line(e, list(overrides))) from e
