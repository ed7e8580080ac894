"""The experiment statistics on PySpark (local mode) and PostgreSQL equal those of DuckDB and
of pandas: the sufficient statistics are one aggregate query in each engine, and the holdout
test builds its per-person table there.

What differs between the engines and must not change a figure: PostgreSQL's NUMERIC columns
(exact decimals) and its refusal to cast a boolean to a double, integer columns whose sums and
products must not be done in integer arithmetic, Spark's temporary views read from pandas.
Skipped when Java (Spark) or the PostgreSQL server binaries are missing.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from test_experiments import _same as same_result

from salesmkt.campaigns.experiments import cuped_lift, experiment_moments, ratio_lift
from salesmkt.campaigns.holdout import holdout_test
from salesmkt.data.dataset import Dataset

TABLES = ("assignments", "leads", "deals", "campaigns")
COLUMNS = ["y", "x", "d", "flag", "amount"]


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """3,000 people: a 0/1 outcome, a count covariate, a count denominator (integers), a
    boolean and an amount in cents (NUMERIC in PostgreSQL), three groups."""
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.poisson(rng.gamma(2.0, 4.0, n))
    t = rng.integers(0, 3, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.5 + 0.08 * x + 0.3 * (t > 0))))).astype("int64")
    return pd.DataFrame(
        {
            "group": np.array(["control", "treatment", "variant_b"])[t],
            "y": y,
            "x": x.astype("int64"),
            "d": rng.integers(1, 6, n).astype("int64"),
            "flag": rng.random(n) < 0.3,
            "amount": np.round(rng.gamma(2.0, 50.0, n), 2),
        }
    )


def _spark_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy Spark reads: missing values as None, nullable integers as objects."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            continue
        if not isinstance(s.dtype, np.dtype) or s.dtype == object:
            out[c] = s.astype(object).where(s.notna(), None)
    return out


def _spark_table(con, name: str, df: pd.DataFrame):
    con._session.createDataFrame(_spark_frame(df)).createOrReplaceTempView(name)
    return con.table(name)


def _statistics(table) -> dict[str, pd.DataFrame]:
    return {
        "moments": experiment_moments(table, columns=COLUMNS),
        "cuped": cuped_lift(table, metric="y", covariate="x"),
        "cuped_b": cuped_lift(table, metric="amount", covariate="flag", treatment="variant_b"),
        "ratio": ratio_lift(table, numerator="y", denominator="d"),
        "ratio_amount": ratio_lift(table, numerator="amount", denominator="x"),
        "ratio_cuped": ratio_lift(table, numerator="amount", denominator="d", covariate="x"),
        "ratio_cuped_ratio": ratio_lift(
            table, numerator="y", denominator="d", covariate="amount", covariate_denominator="x"
        ),
    }


def _same_statistics(got: dict, expected: dict) -> None:
    for key, frame in expected.items():
        pd.testing.assert_frame_equal(
            got[key], frame, check_exact=False, rtol=1e-10, obj=key, check_dtype=False
        )


# --- PySpark ----------------------------------------------------------------------------------

spark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")


@spark
def test_experiment_statistics_identical_on_spark(spark_con, people):
    import ibis

    expected = _statistics(people)
    _same_statistics(_statistics(ibis.memtable(people)), expected)  # DuckDB
    _same_statistics(_statistics(_spark_table(spark_con, "experiment_people", people)), expected)


@spark
def test_holdout_test_identical_on_spark(spark_con, sample):
    tables = dict(sample.tables)
    for name in TABLES:
        tables[name] = _spark_table(spark_con, name, tables[name])
    for outcome in ("opportunity_at", "deal_won"):
        same_result(holdout_test(sample, outcome=outcome),
                     holdout_test(Dataset(**tables), outcome=outcome))  # fmt: skip


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_people(pg_server, people):
    """The people in PostgreSQL with the amount as NUMERIC(12, 2) and the outcome as INTEGER."""
    import ibis

    admin = ibis.connect(f"{pg_server}/postgres")
    admin.raw_sql("CREATE DATABASE experiments")
    admin.disconnect()
    con = ibis.connect(f"{pg_server}/experiments")
    con.create_table("people_raw", people)
    con.raw_sql(
        'CREATE TABLE people AS SELECT "group", y::integer AS y, x, d::integer AS d, flag, '
        "amount::numeric(12, 2) AS amount FROM people_raw"
    )
    yield con
    con.disconnect()


def test_experiment_statistics_identical_on_postgres(pg_people, people):
    table = pg_people.table("people")
    assert table["amount"].type().is_decimal() and table["flag"].type().is_boolean()
    _same_statistics(_statistics(table), _statistics(people))


def test_holdout_test_identical_on_postgres(crm_url, sample):
    import ibis

    con = ibis.connect(crm_url)
    tables = dict(sample.tables)
    for name in TABLES:
        tables[name] = con.table(name)
    for outcome in ("opportunity_at", "deal_created"):
        same_result(holdout_test(sample, outcome=outcome),
                     holdout_test(Dataset(**tables), outcome=outcome))  # fmt: skip
    con.disconnect()


def test_assignments_kept_in_postgres_give_the_holdout_of_the_files(crm_url, sample, monkeypatch):
    """Above the in-memory limit (0 here) the assignments stay in the database like the event
    tables; the holdout test runs there and gives the figures of the files."""
    import salesmkt
    from salesmkt.data.engine import is_table

    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    ds = salesmkt.load(crm_url)
    assert is_table(ds.assignments) and not is_table(ds.leads)
    same_result(holdout_test(sample), holdout_test(ds))
