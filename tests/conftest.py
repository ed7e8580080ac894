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


@pytest.fixture(scope="session")
def spark_con(tmp_path_factory):
    """An Ibis connection to PySpark in local mode (one core, UTC session time zone)."""
    import os

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    pyspark_sql = pytest.importorskip("pyspark.sql")
    import ibis

    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("salesmkt-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


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
