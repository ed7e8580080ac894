"""The funnel engine gives identical results on PySpark (local mode) and on DuckDB.

Spark has no as-of join, so this also checks the window-function formulation end to end on a
second SQL engine. Skipped only when Java is missing (CI has Java 17).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from salesmkt.funnels import funnel, funnel_trends, time_to_convert

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")

STEPS = ["A", "B", "C"]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """60 persons, 6 events each over 20 days, many ties (whole hours), a channel per event."""
    rng = np.random.default_rng(5)
    n = 360
    return pd.DataFrame(
        {
            "person_id": pd.array([f"p{i // 6:02d}" for i in range(n)], dtype="string"),
            "ts": pd.Timestamp("2025-03-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 20 * 24, n), unit="h"),
            "event": pd.array(rng.choice(list("ABCX"), n), dtype="string"),
            "channel": pd.array(
                rng.choice(["email", "paid_search", "referral"], n), dtype="string"
            ),
        }
    )


@pytest.fixture(scope="module")
def spark_log(spark_con, log):
    # A temporary view: nothing is written to a warehouse.
    spark_con._session.createDataFrame(log).createOrReplaceTempView("funnel_log")
    return spark_con.table("funnel_log")


CASES = [
    dict(order="ordered", by="channel", attribution="last", exclude=[("X", 2, 3)], max_gap="3D"),
    dict(order="ordered", entry="first", strict_increase=True),
    dict(order="strict"),
    dict(order="any", entry="first"),
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(f"{v}" for v in o.values())[:40])
def test_funnel_identical_on_spark_and_duckdb(spark_log, log, options):
    on_duckdb = funnel(log, STEPS, window="5D", **options)
    on_spark = funnel(spark_log, STEPS, window="5D", **options)
    assert on_duckdb["persons"].iloc[0] > 0
    pd.testing.assert_frame_equal(on_spark, on_duckdb)


def test_trends_and_time_to_convert_identical(spark_log, log):
    a = funnel_trends(log, STEPS, window="5D", freq="W")
    b = funnel_trends(spark_log, STEPS, window="5D", freq="W")
    pd.testing.assert_frame_equal(b, a)
    a = time_to_convert(log, STEPS, window="5D", from_step=2)
    b = time_to_convert(spark_log, STEPS, window="5D", from_step=2)
    pd.testing.assert_frame_equal(b, a)
    assert len(a) > 0
