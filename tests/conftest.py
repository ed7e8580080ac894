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


@pytest.fixture(scope="session")
def sample_reports(tmp_path_factory):
    """Every guided notebook rendered once on the sample company: (out folder, reports).

    Tests using it carry ``@pytest.mark.xdist_group("reports")`` so that, with
    ``--dist loadgroup``, they share one worker and the reports are rendered once per run.
    """
    import salesmkt

    out = tmp_path_factory.mktemp("reports")
    return out, salesmkt.run_reports(salesmkt.sample_dir(), out, progress=False)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's package) through Playwright, for the reports' browser tests
    (test_browser.py, test_real_data.py); skips without it."""
    from test_browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium "
            "(apt-get install -y chromium; .ci/run does it in CI)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
