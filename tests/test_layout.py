"""The package's one structural rule: library modules never import the command-line modules (fast_style/cli/),
which only parse, plan and call."""

import ast
from pathlib import Path

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
