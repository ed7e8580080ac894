"""Shared fixtures: a headless plotting backend, closed figures, small canonical tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def sample():
    """The bundled sample company (loaded once per test session; do not modify)."""
    import salesmkt

    return salesmkt.load_sample()
