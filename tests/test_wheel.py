"""A wheel install, not the checkout: the built-in styles ship in the wheel and work from any folder.
The wheel is built without build isolation (setuptools comes with the test extras), so no network is needed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_the_zoo_and_stylizes_by_name(tmp_path: Path) -> None:
    dist, site, source = tmp_path / "dist", tmp_path / "site", tmp_path / "source"
    source.mkdir()  # built from a copy: setuptools leaves build/ and *.egg-info in the tree it builds
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "fast_style", source / "fast_style", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation",
                    "-w", str(dist)], check=True, capture_output=True)
    wheel = next(dist.glob("fast_style-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    work = tmp_path / "elsewhere"  # not the checkout: only the installed package can answer
    work.mkdir()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(work / "photo.png")
    env = {**os.environ, "PYTHONPATH": str(site)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        code = "import sys; from fast_style.stylize import main; sys.exit(main())"
        return subprocess.run([sys.executable, "-c", code, *args], cwd=work, env=env, capture_output=True, text=True)

    listed = cli("--list-styles")
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert listed.returncode == 0 and len(names) >= 5, listed.stderr
    where = subprocess.run([sys.executable, "-c", "import fast_style; print(fast_style.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(site))
    for name in names:
        done = cli("--style", name, "photo.png", "-o", f"out_{name}.png", "--device", "cpu")
        assert done.returncode == 0, done.stderr
        assert Image.open(work / f"out_{name}.png").size == (64, 48)
