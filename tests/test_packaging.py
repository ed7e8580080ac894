"""The built wheel carries the sample data and the notebooks; load_sample works from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
    )
    return next(out.glob("salesmkt-*.whl"))


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for table in ("leads", "deals", "sessions", "orders"):
        assert f"salesmkt/_sample_data/{table}.csv" in names
    assert "salesmkt/_notebooks/01_data_check.ipynb" in names


def test_load_sample_outside_repository(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import salesmkt, pathlib; ds = salesmkt.load_sample(); "
        "print(pathlib.Path(salesmkt.__file__).parent.parent); print(len(ds.tables))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    where, n_tables = run.stdout.split()
    assert Path(where) == site
    assert int(n_tables) == 10
