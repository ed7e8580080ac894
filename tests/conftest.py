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
def sample_reports(tmp_path_factory, worker_id):
    """Every guided notebook rendered once per test run on the sample company: (out, reports).

    Under pytest-xdist the workers share one rendering: the first worker to ask renders into
    the run's common temporary folder while holding a file lock, the others wait and read the
    pickled list of reports (the pytest-xdist recipe for session fixtures run once).
    """
    import pickle

    from filelock import FileLock

    import salesmkt

    if worker_id == "master":
        out = tmp_path_factory.mktemp("reports")
        return out, salesmkt.run_reports(salesmkt.sample_dir(), out, progress=False)
    root = tmp_path_factory.getbasetemp().parent
    out, done = root / "sample-reports", root / "sample-reports.pickle"
    with FileLock(str(root / "sample-reports.lock")):
        if not done.exists():
            reports = salesmkt.run_reports(salesmkt.sample_dir(), out, progress=False)
            done.write_bytes(pickle.dumps(reports))
        return out, pickle.loads(done.read_bytes())
