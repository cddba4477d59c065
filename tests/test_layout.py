"""The package's structural rules: library modules never import the command-line modules (fast_style/cli/),
which only parse, plan and call; and a tool's `--help` or argument mistake answers before torch loads."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import fast_style

PACKAGE = Path(__file__).resolve().parents[1] / "fast_style"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_library_modules_never_import_the_command_line() -> None:
    library = [p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts]
    assert len(library) > 10
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(n for n in _imports(p) if n.startswith("fast_style.cli")) for p in library
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_command_has_its_module_in_cli() -> None:
    import tomllib

    scripts = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts and all(
        target.startswith("fast_style.cli.") and target.endswith(":main") for target in scripts.values()
    )
    for target in scripts.values():
        assert (PACKAGE / "cli" / f"{target.split(':')[0].rsplit('.', 1)[1]}.py").is_file()


def test_every_tools_usage_line_names_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib
    import tomllib

    scripts = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]["scripts"]
    for command, target in scripts.items():
        if command == "fast-style-train":  # Hydra's own --help
            continue
        with pytest.raises(SystemExit):
            importlib.import_module(target.split(":")[0]).main(["--help"])
        assert capsys.readouterr().out.startswith(f"usage: {command} "), command
        with pytest.raises(SystemExit) as done:  # every tool says its version, as fast-style-train does
            importlib.import_module(target.split(":")[0]).main(["--version"])
        assert done.value.code == 0 and capsys.readouterr().out == f"{command} {fast_style.__version__}\n", command


ARGPARSE_TOOLS = ["stylize", "export", "evaluate", "optimize", "weights", "demo", "serve", "coco"]
HEAVY = ["torch", "torchvision", "pytorch_lightning", "av", "onnxruntime", "numpy", "tqdm"]


@pytest.mark.parametrize("argv", [["--help"], ["--no-such-flag"]], ids=["help", "mistake"])
@pytest.mark.parametrize("tool", ARGPARSE_TOOLS)
def test_a_tools_help_and_argument_mistakes_load_no_torch(tool: str, argv: list[str]) -> None:
    probe = (
        f"import sys, json\nfrom fast_style.cli.{tool} import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    code = e.code\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == (0 if argv == ["--help"] else 2), done.stderr
    assert loaded == [], f"fast-style-{tool} {argv[0]} imported {loaded}"
    if argv != ["--help"]:  # one line (the whole usage, a dozen lines, came first)
        (line,) = done.stderr.strip().splitlines()
        assert ": error: " in line and line.endswith("--help lists the options)")


def _module_graph() -> dict[str, set[str]]:
    """Each package module -> the package modules it imports, at its top or inside a function."""
    modules = {
        ".".join(("fast_style", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
    }
    graph = {}
    for name, path in modules.items():
        found = set()
        for imported in _imports(path):  # `fast_style.media.images.decoding` -> fast_style.media.images
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and imported != "fast_style":
                found.add(imported)
        graph[name] = found
    return graph


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import one another round a circle (strongly connected, more than one)."""
    reach = {m: set() for m in graph}
    for start in graph:
        todo = [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in reach[start]:
                    reach[start].add(nxt)
                    todo.append(nxt)
    groups = {frozenset({m} | {o for o in reach[m] if m in reach[o]}) for m in graph}
    return [set(g) for g in groups if len(g) > 1]


def test_modules_import_one_another_in_no_circle_but_the_two_known() -> None:
    """Pictures, videos, animations and style models imported one another round a circle (a picture's reader asked
    the video and style-model modules what a file was): fast_style/file_kinds.py answers that for all of them. Two
    circles are kept on purpose: network.py's old names of the style-model file (imported on first use), and
    compose() saying a config mistake in one line with config_mistakes.py, which composes configs itself."""
    circles = _circles(_module_graph())
    assert sorted(sorted(c) for c in circles) == [
        ["fast_style.model.network", "fast_style.model.style_model"],
        ["fast_style.runs.config", "fast_style.runs.config_mistakes", "fast_style.runs.launch"],
    ]


# The package's rooms from the top floor down (README, "Layout"); the ground floor is the package's own modules.
FLOORS = [
    "cli",
    "demo",
    "training",
    "runs",
    "serving",
    "evaluation",
    "inference",
    "perceptual",
    "model",
    "media",
    "zoo",
]


def _room(module: str) -> str:
    """fast_style.media.images -> media; fast_style.errors (the ground floor) -> "" ; fast_style.demo -> demo."""
    parts = module.split(".")[1:]
    return parts[0] if parts and (parts[0] in FLOORS) else ""


def test_every_room_imports_only_the_rooms_below_it() -> None:
    """Each sub-package holds one idea (README, "Layout") and imports only itself, the rooms listed below it and the
    ground floor (fast_style/*.py), which imports no room: an import that ran back up (the ground's file_kinds asking
    the video module what a file is, say) would tie two ideas into one again."""
    rank = {room: i for i, room in enumerate(FLOORS)} | {"": len(FLOORS)}
    rooms = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} | {"demo"}
    assert rooms == set(FLOORS), "a new sub-package: add it to FLOORS where it belongs"
    upward = []
    for module, imported in _module_graph().items():
        if module == "fast_style":  # the package's face: `from fast_style import Stylizer`
            continue
        for other in imported:
            if _room(other) != _room(module) and rank[_room(other)] <= rank[_room(module)]:
                upward.append(f"{module} -> {other}")
    assert sorted(upward) == []


def test_planning_the_outputs_loads_the_video_module_only_to_look_into_a_file() -> None:
    """fast_style/inference/plan.py imported the 1,260-line video module (its encoder, decoder, tone mapping) for
    three names: what a video is written as, and named as, in an output folder, which are file_kinds' (a name's
    facts), and FFmpeg's look into a file misnamed as a picture, which it imports where it asks."""
    body = ast.parse((PACKAGE / "inference" / "plan.py").read_text()).body
    top = {n.module for n in body if isinstance(n, ast.ImportFrom)}
    top |= {a.name for n in body if isinstance(n, ast.Import) for a in n.names}
    assert "fast_style.file_kinds" in top and not {m for m in top if m and m.startswith("fast_style.media.video")}


def test_no_library_module_changes_the_warning_filters_when_imported() -> None:
    """fast_style/training/data.py set a filter (torchdata's deprecation warning) as it was imported: a program (a
    notebook) that imported it had its own warning filters changed. A filter belongs where the warning comes, in a
    `warnings.catch_warnings()` block; the command lines (fast_style/cli/) set their own."""
    setting = {"filterwarnings", "simplefilter", "resetwarnings"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        text = path.read_text()
        if not any(name in text for name in setting):
            continue
        for node in ast.parse(text).body:  # statements run at import (not those in functions)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                if isinstance(call.func, ast.Attribute) and call.func.attr in setting:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{call.lineno}")
    assert offenders == []


@pytest.mark.parametrize("tool", ["stylize", "export", "optimize"])
def test_an_output_to_standard_output_is_refused_not_made_a_folder_named_dash(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`-o -` made a folder named '-' and wrote the result into it."""
    import importlib

    monkeypatch.chdir(tmp_path)
    main = importlib.import_module(f"fast_style.cli.{tool}").main
    args = {"stylize": ["x.jpg", "--style", "wave"], "export": ["wave"], "optimize": ["x.jpg", "-s", "y.jpg"]}[tool]
    with pytest.raises(SystemExit) as stop:
        main([*args, "-o", "-"])
    assert stop.value.code == 2 and "error: -o -: the result is written to a file, not to standard output" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


VALUE_MISTAKES = {  # a value refused before the work, inside the tool's run (not by argparse)
    "stylize": ["x.jpg", "--style", "wave", "--max-image-pixels", "0"],
    "stylize-strength": ["x.jpg", "--style", "wave", "--strength", "7"],
    "optimize": ["x.jpg", "-s", "a.jpg", "-o", "o.png", "--max-image-pixels", "0"],
    "evaluate": ["wave", "--photos", "p", "--max-image-pixels", "0"],
}


@pytest.mark.parametrize("case", sorted(VALUE_MISTAKES))
def test_a_bad_value_is_refused_before_torch_loads(case: str, tmp_path: Path) -> None:
    """--max-image-pixels 0 took 1.6 s, torch loaded to check it (the pixel limit's helper sat beside the images'
    decoding code)."""
    probe = (
        f"import sys, json\nfrom fast_style.cli.{case.split('-')[0]} import main\n"
        f"code = main({VALUE_MISTAKES[case]!r})\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 2 and done.stderr.startswith("error: "), done.stderr
    assert loaded == [], f"{case} imported {loaded}"


@pytest.mark.parametrize("argv", [["--help"], ["data.batch_size=abc"]], ids=["help", "mistake"])
def test_the_train_commands_help_and_setting_mistakes_load_no_torch_once_its_schemas_are_kept(argv: list[str]) -> None:
    """Hydra composes the config for --help too: its schemas come from the constructors (torch, Lightning) the
    first time, then from the cache (the test's own: conftest)."""
    probe = (
        "import sys, json\nfrom fast_style.cli.train import main\n"
        f"sys.argv = ['fast-style-train', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))"
    )
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120) for _ in "12"]
    (first_code, first_loaded), (code, loaded) = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert first_code == code == (0 if argv == ["--help"] else 2), runs[1].stderr
    assert "torch" in first_loaded and loaded == [], f"fast-style-train {argv[0]} imported {loaded}"


REPEATED = {  # an option of each tool that holds one value, given twice
    "stylize": ["x.jpg", "--style", "wave", "--style", "udnie"],
    "export": ["wave", "--opset", "17", "--opset", "18"],
    "evaluate": ["wave", "--photos", "p", "--size", "256", "--size", "512"],
    "optimize": ["x.jpg", "-s", "a.jpg", "--style", "b.jpg"],
    "demo": ["--steps", "10", "--steps", "20"],
    "serve": ["--port", "8000", "--port", "8001"],
}


@pytest.mark.parametrize("tool", sorted(REPEATED))
def test_an_option_given_twice_is_refused_in_one_line(
    tool: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import importlib

    monkeypatch.chdir(tmp_path)  # nothing a tool might write lands in the checkout
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(f"fast_style.cli.{tool}").main(REPEATED[tool])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    first, second = [a for a in REPEATED[tool] if a[0] != "-"][-2:]
    assert stopped.value.code == 2 and f"given twice ({first}, then {second}): give it once" in error
    assert list(tmp_path.iterdir()) == []


def test_options_and_inputs_come_in_any_order_and_repeatable_options_add_up() -> None:
    from fast_style.cli import ToolParser

    p = ToolParser(prog="tool")
    p.add_argument("inputs", nargs="*")
    p.add_argument("--style")
    p.add_argument("--photos", nargs="+", action="extend")
    args = p.parse_args(["a.jpg", "--style", "wave", "b.jpg", "--photos", "x", "--photos", "y", "z"])
    assert (args.inputs, args.style, args.photos) == (["a.jpg", "b.jpg"], "wave", ["x", "y", "z"])
    assert not [k for k in vars(args) if k.startswith("_")]  # no bookkeeping left in what the tool reads


def test_no_logged_warning_begins_with_a_warning_prefix_of_its_own() -> None:
    """The tools' log lines say `warning: ` themselves (run_tool), fast-style-train's `[...][WARNING] - message`
    (Hydra's): 16 of the ~85 logged warnings began "warning: " as well, so fast-style-eval said "warning: x.gif: an
    animation of 3 frames..." where fast-style-optimize said "x.gif: an animation of 3 frames...", and train
    "[WARNING] - warning:"."""

    def text(node: ast.expr | None) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr) and node.values:
            return text(node.values[0])
        return ""

    said, prefixed = 0, []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr == "warning" and isinstance(func.value, ast.Name):
                if func.value.id == "log" and node.args:
                    said += 1
                    if text(node.args[0]).lower().startswith("warning"):
                        prefixed.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert said > 50 and not prefixed, prefixed


def test_a_tools_warnings_all_begin_alike(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """fast-style-eval printed "warning: --stability-photos 5, but ..." and, below it, its logged "x.gif: an animation
    of 3 frames: only the first is scored" bare (fast-style-serve's uvicorn: "WARNING:  Invalid HTTP request"): a
    tool's every warning now begins `warning: `, logged, printed or Python's; its other log lines are the message."""
    import logging
    import warnings

    from fast_style.cli import run_tool

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a command line's process: no logging set up (pytest's taken out)
    monkeypatch.setattr(root, "level", root.level)
    # uvicorn's loggers as a fresh process has them: serve_in_background, earlier in the suite, gave them uvicorn's
    # own console (its log config), which kept their lines from the root's
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    log = logging.getLogger("fast_style.probe")

    def body() -> None:
        log.info("read 2 photos")
        log.warning("x.gif: an animation of 3 frames: only the first is scored")
        log.warning("warning: said once")
        log.warning("warnings.jpg: cannot read it")  # a file's name, not the word (it was shown bare)
        logging.getLogger("uvicorn.error").error("Exception in ASGI application")
        log.error("errors.csv: cannot be written")  # a file's name, not the word
        warnings.warn("a library's warning", UserWarning, stacklevel=1)

    try:
        assert run_tool(body) == 0
    finally:
        for handler in root.handlers:
            handler.close()
    assert capsys.readouterr().err.splitlines() == [
        "read 2 photos",
        "warning: x.gif: an animation of 3 frames: only the first is scored",
        "warning: said once",
        "warning: warnings.jpg: cannot read it",
        "error: Exception in ASGI application",
        "error: errors.csv: cannot be written",
        "warning: a library's warning",
    ]
