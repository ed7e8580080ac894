"""The README's library tour runs as written, and names the two commands."""

from __future__ import annotations

import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_library_tour_runs():
    text = README.read_text()
    block = text.split("## The library")[1].split("```python")[1].split("```")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the tour should not need the reader to skip warnings
        exec(compile(block, "README.md", "exec"), {})


def test_two_commands():
    text = README.read_text()
    assert "make report" in text and "make test" in text
