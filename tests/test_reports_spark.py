"""The campaign review (04) and the check-in (05) computed from a dataset loaded from a Spark
session equal the same computations on the CSV sample.

The sample's tables are registered as temporary views of the session-scoped Spark session
(conftest's ``spark_con``), ``salesmkt.load`` reads them through ``ibis.pyspark.connect`` as it
reads any Ibis connection, and with ``SALESMKT_IN_MEMORY_ROWS=0`` the event-sized tables
(sessions, touchpoints, events) stay in Spark. Each helper below makes the library calls of its
notebook that read data (the notebooks hold no logic), and every table and sentence is compared.
Skipped only when Java is missing.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import salesmkt
from salesmkt.campaigns import attributed_returns
from salesmkt.data.engine import ENGINE_TABLES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java"),
]

EVENT_TABLES = ENGINE_TABLES  # the tables that stay where they are above a size
MODELS = ["first_touch", "last_touch", "linear", "w_shaped", "markov", "shapley"]


def register(session, name: str, df: pd.DataFrame) -> None:
    """``df`` as the Spark temporary view ``name``: missing values as None, and time-zone-aware
    timestamps as Spark TIMESTAMP (an instant; the session's time zone is UTC)."""
    plain = df.astype(object).where(df.notna(), None)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            plain[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    session.createDataFrame(plain).createOrReplaceTempView(name)


def register_sample(spark_con, sample) -> None:
    session = spark_con._session
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    for name, df in sample.tables.items():
        register(session, name, df)


@pytest.fixture(autouse=True)
def _sample_views(spark_con, sample):
    """The views again before each test: other Spark tests may reuse a name in the session
    (test_journeys_spark.py's ``touchpoints`` holds fewer columns)."""
    register_sample(spark_con, sample)


@pytest.fixture(scope="module")
def spark_dataset(spark_con, sample):
    register_sample(spark_con, sample)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
        ds = salesmkt.load(spark_con)
    return ds


def campaign_figures(dataset, conf) -> dict:
    """What 04_campaigns.ipynb computes from the data, with its default parameters."""
    config = salesmkt.load_kpi_config(conf)
    currency, margin = config["currency"], config["settings"]["gross_margin"]
    leads = salesmkt.lead_segments(salesmkt.assign_personas(dataset.leads, conf))
    rates = salesmkt.conversion_rates(leads, ["channel", "persona"])
    conversions = salesmkt.customer_conversions(dataset.leads, dataset.deals)
    journeys = salesmkt.build_journeys(dataset.touchpoints, conversions, lookback_days=365)
    credit = {
        by: salesmkt.attribute(journeys, models=["linear"], by=by)
        for by in ("channel", "campaign_id")
    }
    by = {
        by: salesmkt.spend_metrics(
            dataset, by=by, gross_margin=margin, attribution=credit[by], start=None, end=None
        )
        for by in ("channel", "campaign_id")
    }
    holdout = salesmkt.holdout_test(dataset, outcome="opportunity_at", window=60)
    returns = attributed_returns(salesmkt.attribute(journeys, models=MODELS), by["channel"])
    return {
        "no data": salesmkt.missing_data(dataset, tables=["touchpoints", "deals"]),
        "headline": salesmkt.campaign_headline(
            by["channel"], holdout, currency=currency, rates=rates
        ),
        "by channel": by["channel"],
        "by campaign": by["campaign_id"],
        "spend finding": salesmkt.spend_finding(by["campaign_id"]),
        "channel costs": salesmkt.channel_cost_finding(by["channel"], currency=currency),
        "referrals": salesmkt.referral_summary(dataset, gross_margin=None),
        "attribution": salesmkt.attribute(journeys),
        "journeys note": salesmkt.journeys_note(journeys, conversions, lookback_days=365),
        "returns": returns,
        "transitions": salesmkt.markov_transition_matrix(journeys),
        "holdout": salesmkt.holdout_summary(holdout),
        "holdout table": salesmkt.holdout_table(holdout),
        "decisions": salesmkt.campaign_decisions(by["channel"], holdout, currency=currency),
    }


def checkin_figures(dataset, conf) -> dict:
    """What 05_checkin.ipynb computes from the data, with its default parameters."""
    config = salesmkt.load_kpi_config(conf)
    period = salesmkt.report_period(dataset, freq=config["freq"])
    table = salesmkt.kpi_table(
        dataset,
        kpis=config["kpis"],
        freq=config["freq"],
        settings=salesmkt.kpi_settings(config),
        end=period["end"],
        unavailable="skip",
    )
    sla = salesmkt.sla_report(dataset, config, freq=config["freq"], end=period["end"])
    scorecard = salesmkt.scorecard(table, config, period=period["label"], sla=sla)
    forecast = salesmkt.report_forecast(dataset, config, period)
    wins = salesmkt.kpi_table(
        dataset, kpis=["avg_deal_size"], by="product", start=period["start"], end=period["end"]
    )
    attainment = salesmkt.kpi_table(
        dataset, kpis=["quota_attainment"], by="owner_id", freq="Q", end=period["end"]
    )
    return {
        "period": pd.DataFrame([period]),
        "kpis": table,
        "sla": sla,
        "scorecard": scorecard,
        "headline": salesmkt.checkin_headline(scorecard, sla),
        "changes": salesmkt.scorecard_changes(scorecard),
        "retention": salesmkt.cohort_retention(dataset.orders, freq="Q", as_of=period["end"]),
        "forecast": forecast.summary,
        "forecast line": salesmkt.forecast_sentence(
            forecast.summary, period=forecast.summary.attrs["quarter"], currency=config["currency"]
        ),
        "wins by product": wins,
        "attainment": attainment,
        "decisions": salesmkt.checkin_decisions(scorecard, sla),
    }


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, pd.DataFrame):
            assert len(value), key  # an empty table would compare equal without saying much
            pd.testing.assert_frame_equal(
                got[key].reset_index(drop=True), value.reset_index(drop=True), obj=key
            )
        else:
            assert got[key] == value, key


def test_event_tables_stay_in_spark_and_the_others_equal_the_files(spark_dataset, sample):
    assert spark_dataset.source == "pyspark connection"
    for name, df in sample.tables.items():
        got = getattr(spark_dataset, name)
        if name in EVENT_TABLES:
            assert not isinstance(got, pd.DataFrame), name
            times = [t for t in got.schema().types if t.is_timestamp()]
            assert times and all(t.timezone == "UTC" for t in times), name
        else:
            pd.testing.assert_frame_equal(got, df, obj=name)


def test_campaign_review_from_spark_equals_the_files(spark_dataset, sample):
    conf = salesmkt.sample_dir()
    assert_same(campaign_figures(spark_dataset, conf), campaign_figures(sample, conf))


def test_check_in_from_spark_equals_the_files(spark_dataset, sample):
    conf = salesmkt.sample_dir()
    assert_same(checkin_figures(spark_dataset, conf), checkin_figures(sample, conf))


def test_check_in_rendered_from_a_spark_session_shows_the_figures_of_the_files(
    spark_con, spark_dataset, sample, tmp_path, monkeypatch, sample_reports
):
    """The notebooks run in kernels of their own, which cannot share the session: the report
    run reads the tables through the session once, Spark writes the event-sized ones as Parquet
    folders (timestamps as UTC instants), and the reports compute on them in DuckDB."""
    from test_engine_reports import assert_same_figures, render

    from salesmkt.sources.convert import convert_export

    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    snapshot = convert_export(spark_con, tmp_path / "snapshot", source=None)
    assert all((snapshot / f"{name}.parquet").is_dir() for name in EVENT_TABLES)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "100000000")  # read back into pandas
    back = salesmkt.load(snapshot)
    for name in EVENT_TABLES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(sample, name), obj=name)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    files = sample_reports
    from_spark = render(spark_con, tmp_path / "spark", ["05"])
    assert "pyspark connection" in from_spark[1][0].page_title
    assert_same_figures(files, from_spark, "05", salesmkt.sample_dir())
