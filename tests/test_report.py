"""The report pipeline end to end: notebooks executed, HTML without code, index, PII guard."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

import salesmkt
from salesmkt.data.pii import find_pii, pii_values
from salesmkt.reports.pipeline import ReportError, notebook_paths, run_reports


@pytest.fixture
def rendered(sample_reports):
    return sample_reports


@pytest.mark.slow
def test_every_notebook_rendered_and_indexed(rendered):
    out, reports = rendered
    assert [r.notebook for r in reports] == [p.name for p in notebook_paths()]
    index = (out / "index.html").read_text()
    for r in reports:
        assert r.html_path.exists()
        assert f'href="{r.html_path.name}"' in index


@pytest.mark.slow
def test_reports_hold_no_code_and_no_errors(rendered):
    out, reports = rendered
    for r in reports:
        page = r.html_path.read_text()
        assert not re.search(r'class="[^"]*jp-InputArea-editor', page), r.notebook  # no code
        assert "import salesmkt" not in page, r.notebook
        assert (
            "Traceback" not in page
            and 'data-mime-type="application/vnd.jupyter.stderr"' not in page
        )
        assert re.search(r"<img[^>]+src=\"data:image/png;base64,", page), (
            f"{r.notebook} has no chart"
        )


@pytest.mark.slow
def test_reports_show_no_personal_data(rendered, sample):
    out, reports = rendered
    secrets = pii_values(sample.tables.values())
    for r in reports:
        hits = find_pii(r.html_path.read_text(), secrets)
        assert hits.empty, (r.notebook, hits.head())


def _notebook(tmp_path, source: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Failing"),
        params,
        nbformat.v4.new_code_cell(source),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "99_custom.ipynb"
    nbformat.write(nb, path)
    return path


def test_failing_notebook_names_notebook_and_cell(tmp_path):
    nb = _notebook(tmp_path, "raise ValueError('the quota table is empty')")
    with pytest.raises(
        ReportError, match=r"99_custom.ipynb failed in cell \d+: ValueError: the quota"
    ):
        run_reports(salesmkt.sample_dir(), tmp_path / "out", notebooks=[nb], progress=False)
    assert not (tmp_path / "out" / "index.html").exists()


def test_report_showing_personal_data_is_refused(tmp_path, sample):
    email = sample.leads["email"].iloc[0]
    nb = _notebook(tmp_path, f"print({email!r})")
    with pytest.raises(ReportError, match="would show personal data"):
        run_reports(salesmkt.sample_dir(), tmp_path / "out", notebooks=[nb], progress=False)
    assert not (tmp_path / "out" / "99_custom.html").exists()


def test_cli_exit_codes(tmp_path):
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesmkt",
            "report",
            "--data",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "no such file or folder" in bad.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "salesmkt", "report", "--only", "01", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "01_data_check" in ok.stderr  # the progress line per notebook
    assert (tmp_path / "r" / "01_data_check.html").exists()
