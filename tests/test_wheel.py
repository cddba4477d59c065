"""A wheel install, not the checkout: built from a copy of the sources, installed into a fresh virtual
environment outside the checkout, and every tool run from another folder through its console script. The
wheel carries the configs (fast-style-train composes them, and a user's own --config-dir adds to them) and
the built-in styles. Built without build isolation (hatchling comes with the test extras), and the fresh
environment borrows this one's dependencies, so no network is needed."""

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from PIL import Image

from .conftest import tiny_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtual environment holding only the fast-style wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, dist, env = tmp / "source", tmp / "dist", tmp / "env"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source)
    for name in ("fast_style", "configs"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation", "-w", str(dist)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("fast_style-*.whl"))
    venv.create(env, with_pip=False)
    env_python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(env_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # torch and the rest from this environment; its .pth files (this checkout's editable install) are not read
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env_python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    return env / "bin"


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _run(bin_dir: Path, tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / tool), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_package_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    code = "import fast_style, fast_style.runs.config as c; print(fast_style.__file__); print(c.CONFIG_DIR)"
    where = subprocess.run([str(installed / "python"), "-c", code], cwd=tmp_path, capture_output=True, text=True)
    package, configs = where.stdout.split()
    assert package.startswith(str(installed.parent)) and not package.startswith(str(ROOT)), where.stderr
    assert Path(configs) == Path(package).parent / "configs" and (Path(configs) / "train.yaml").is_file()
    web = Path(package).parent / "serving" / "web"  # fast-style-serve's page travels in the wheel
    assert {p.name for p in web.iterdir()} >= {"index.html", "app.js", "style.css"}
    # every file of the package the wheel was built from is installed (each zoo model with its manifest, the page),
    # and every config beside them: an exclude in pyproject.toml would lose one without a word
    source = installed.parent.parent / "source"
    given = _files(source / "fast_style") | {f"configs/{p}" for p in _files(source / "configs")}
    assert _files(Path(package).parent) == given
    code = "from importlib.metadata import metadata as m; d = m('fast-style'); print(d['License-Expression'])"
    licence = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True).stdout.strip()
    dist_info = next(Path(package).parent.parent.glob("fast_style-*.dist-info"))
    assert licence == "MIT" and "MIT License" in next(dist_info.rglob("LICENSE")).read_text()  # the terms travel
    served = _run(installed, "fast-style-serve", "--help", cwd=tmp_path)
    assert served.returncode == 0 and "--models" in served.stdout
    coco = _run(installed, "fast-style-coco", "--help", cwd=tmp_path)  # a step of training (a script, not installed)
    assert coco.returncode == 0 and "--count" in coco.stdout, coco.stderr


_EVERY_STYLE = """
import hashlib, sys
from PIL import Image
from fast_style import zoo
from fast_style.inference.stylizer import Stylizer

photo = Image.open("photo.png")
for name in sys.argv[1:]:
    m = zoo.manifest(name)
    assert hashlib.sha256(zoo.resolve(name).read_bytes()).hexdigest() == m["sha256"], name
    assert Stylizer.load(name, device="cpu")(photo).size == photo.size, name
    print(name)
"""


@pytest.mark.slow
def test_every_built_in_style_stylizes_from_another_folder(installed: Path, tmp_path: Path) -> None:
    Image.new("RGB", (64, 48), (90, 140, 200)).save(tmp_path / "photo.png")
    listed = _run(installed, "fast-style-stylize", "--list-styles", cwd=tmp_path)
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert listed.returncode == 0 and len(names) >= 5, listed.stderr
    done = _run(installed, "fast-style-stylize", "--style", names[0], "photo.png", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "out.png").size == (64, 48)
    # every other one through the Python API, in one process: the wheel's file (its sha256) and its network
    each = _run(installed, "python", "-c", _EVERY_STYLE, *names, cwd=tmp_path)
    assert each.returncode == 0 and each.stdout.split() == names, each.stderr[-2000:]


@pytest.mark.slow
def test_train_then_stylize_and_evaluate_from_a_wheel(
    installed: Path, tmp_path: Path, photo_dir: Path, style_path: Path, random_vgg: Path
) -> None:
    user = tmp_path / "my_configs" / "model"  # a user's own config folder adds an option to the built-in ones
    user.mkdir(parents=True)
    (user / "mine.yaml").write_text(  # as the README shows: the group's schema, then what differs
        "defaults:\n  - schema\n  - _self_\nchannels: [4, 8, 8]\nnum_residual: 1\nkernel_outer: 3\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    trained = _run(
        installed,
        "fast-style-train",
        "--config-dir",
        tmp_path / "my_configs",
        *tiny_run(photo_dir, style_path, random_vgg, model="mine"),
        "trainer=fast_dev",
        "hydra.run.dir=run",
        cwd=work,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = work / "run" / "style.pt"
    assert model.is_file() and (work / "run" / ".hydra" / "config.yaml").is_file()
    assert "num_residual: 1" in (work / "run" / ".hydra" / "config.yaml").read_text()  # the user's option
    done = _run(installed, "fast-style-stylize", "-m", model, photo_dir, "-o", "stylized", "-q", cwd=work)
    assert done.returncode == 0 and len(list((work / "stylized").rglob("*.*"))) == 10, done.stderr
    scored = _run(
        installed,
        "fast-style-eval",
        model,
        "--photos",
        photo_dir,
        "--no-judge",
        "--weights",
        random_vgg,
        "--size",
        "48",
        "--out",
        "eval",
        cwd=work,
    )
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert {p.name for p in (work / "eval").iterdir()} == {"metrics.csv", "metrics.json", "contact_sheet.png"}
    bad = _run(installed, "fast-style-train", "model=nonesuch", cwd=work)
    assert bad.returncode == 2 and "unknown model option 'nonesuch'" in bad.stderr and "mine" not in bad.stderr
