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
