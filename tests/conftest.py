"""Shared fixtures: a headless plotting backend, closed figures, small canonical tables, the
PySpark session and a throwaway PostgreSQL server.

The PostgreSQL fixture makes a throwaway cluster with Debian's server binaries (``initdb`` and
``pg_ctl`` from ``/usr/lib/postgresql/*/bin``; ``.ci/run`` installs the ``postgresql``
package): in a temporary folder, on a free port of 127.0.0.1, trusting local connections, run
as the ``postgres`` user when the tests run as root (``initdb`` refuses root), stopped and
removed at the end. Skipped only when PostgreSQL is not installed."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_modifyitems(items):
    """Run the slow test files first, so that under ``-n 2 --dist loadfile`` the many quick
    files (and the doctests) fill in at the end rather than one worker finishing a long file
    alone (``--no-loadscope-reorder`` in pyproject.toml keeps this order; pytest-xdist would
    otherwise put the files with fewest tests, the slow ones, last).

    The first file that reads the sample reports (:func:`sample_reports`) goes first of all:
    one worker renders them while the other runs the slow files that do not need them, and the
    other files that read them come after those, when the rendering is done. Each file's own
    order of tests is kept.
    """
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    slow = {f for f, its in files.items() if any(i.get_closest_marker("slow") for i in its)}
    readers = [
        f
        for f, its in files.items()
        if any("sample_reports" in getattr(i, "fixturenames", ()) for i in its)
    ]

    def rank(f: str) -> int:
        if readers and f == readers[0]:
            return 0
        if f in slow:
            return 2 if f in readers else 1
        return 3

    items[:] = [item for f in sorted(files, key=rank) for item in files[f]]


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
    """An Ibis connection to PySpark in local mode (one core, UTC session time zone), set up
    for many small queries."""
    import os

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    pyspark_sql = pytest.importorskip("pyspark.sql")
    import ibis

    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("salesmkt-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # small test tables: compiling generated code and re-planning cost more than they save
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # pandas frames cross to and from Spark as Arrow batches, not row by row in Python
        # (the tests' createDataFrame and every result's toPandas; test_reports_spark.py
        # switches it on for its views too): the sample's tables 2-3 times faster
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        # many short queries in a JVM that lives a few minutes: the quick C1 compiler alone
        # and the serial collector start sooner and leave the other worker its core (the
        # Spark test files take half the time)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
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


# The server's own zone is not UTC, as on many company servers: results must not depend on it.
SERVER_TZ = "America/New_York"


def _bindir() -> Path | None:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    return Path(max(found, key=lambda p: int(Path(p).parts[4]))).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server():
    """``(base URL, connect(db))`` of a throwaway PostgreSQL server; stopped at the end."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is in the test extra")
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    run_as: list[str] = []
    root = tempfile.mkdtemp(prefix="salesmkt-pg-")
    if os.geteuid() == 0:  # initdb refuses to run as root: the server runs as postgres
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, log = f"{root}/data", f"{root}/server.log"

    def run(*cmd):
        proc = subprocess.run([*run_as, *cmd], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{cmd[0]} failed:\n{proc.stdout}\n{proc.stderr}"

    run(f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync")  # fmt: skip
    port = None
    for _ in range(3):  # a free port may be taken between the look-up and the start
        port = _free_port()
        opts = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c timezone={SERVER_TZ}"
        )
        proc = subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-o", opts, "start"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode == 0:
            break
    else:
        raise AssertionError(f"pg_ctl start failed:\n{Path(log).read_text()}")
    base = f"postgres://postgres@127.0.0.1:{port}"
    try:
        import ibis

        admin = ibis.connect(f"{base}/postgres")
        for db in ("crm", "events", "empty"):
            admin.raw_sql(f"CREATE DATABASE {db}")
        admin.disconnect()
        yield base
    finally:
        subprocess.run([*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def crm_url(pg_server, sample):
    """The sample company's canonical tables in the database ``crm``."""
    import ibis

    con = ibis.connect(f"{pg_server}/crm")
    for name, df in sample.tables.items():
        con.create_table(name, df)
    con.create_table("crm_audit_log", pd.DataFrame({"x": [1, 2]}))  # not a canonical table
    con.disconnect()
    return f"{pg_server}/crm"
