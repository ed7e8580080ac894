"""PostgreSQL as a team's warehouse or CRM mirror: funnels run in the database and give the
same results as on DuckDB; ``salesmkt.load`` and ``salesmkt report`` read the canonical tables
from it.

The server and the sample company's tables in it are the session fixtures ``pg_server`` and
``crm_url`` of conftest.py (shared with the experiment tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesmkt
from salesmkt.funnels import funnel, funnel_trends, time_to_convert

STEPS = ["A", "B", "C"]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """80 persons, 8 events each over 20 days, many ties (whole hours), a channel per event,
    and two rows without a person, one without a time."""
    rng = np.random.default_rng(11)
    n = 640
    df = pd.DataFrame(
        {
            "person_id": pd.array([f"p{i // 8:02d}" for i in range(n)], dtype="string"),
            "ts": pd.Timestamp("2025-03-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 20 * 24, n), unit="h"),
            "event": pd.array(rng.choice(list("ABCX"), n), dtype="string"),
            "channel": pd.array(
                rng.choice(["email", "paid_search", "referral", None], n), dtype="string"
            ),
        }
    )
    df.loc[[3, 50], "person_id"] = pd.NA
    df.loc[[7], "ts"] = pd.NaT
    return df


@pytest.fixture(scope="module")
def pg_log(pg_server, log):
    import ibis

    con = ibis.connect(f"{pg_server}/events")
    table = con.create_table("funnel_log", log, overwrite=True)
    assert table.get_backend().name == "postgres"
    yield table
    con.disconnect()


CASES = [
    dict(order="ordered", by="channel", attribution="last", exclude=[("X", 2, 3)], max_gap="3D"),
    dict(order="ordered", entry="first", strict_increase=True),
    dict(order="ordered", by="channel"),
    dict(order="strict", by="channel"),
    dict(order="any", entry="first"),
    dict(steps=["A", ("B or C", ["B", "C"]), ("X", lambda t: t.event == "X")], exclude="C"),
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(f"{v}" for v in o.values())[:40])
def test_funnel_identical_on_postgres_and_duckdb(pg_log, log, options):
    options = dict(options)
    steps = options.pop("steps", STEPS)
    on_duckdb = funnel(log, steps, window="5D", **options)
    on_postgres = funnel(pg_log, steps, window="5D", **options)
    assert on_duckdb["persons"].iloc[0] > 0 and on_duckdb["n_invalid_rows"].iloc[0] == 3
    pd.testing.assert_frame_equal(on_postgres, on_duckdb)


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_trends_identical(pg_log, log, freq):
    a = funnel_trends(log, STEPS, window="5D", freq=freq)
    b = funnel_trends(pg_log, STEPS, window="5D", freq=freq)
    pd.testing.assert_frame_equal(b, a)
    assert len(a) > 0


@pytest.mark.parametrize("options", [{"from_step": 2}, {"bins": 4}, {"order": "any"}])
def test_time_to_convert_identical(pg_log, log, options):
    a = time_to_convert(log, STEPS, window="5D", **options)
    b = time_to_convert(pg_log, STEPS, window="5D", **options)
    pd.testing.assert_frame_equal(b, a)
    assert len(a) > 0


def test_load_from_postgres_url_equals_sample(crm_url, sample):
    ds = salesmkt.load(crm_url)
    assert sorted(ds.tables) == sorted(sample.tables)
    for name, df in sample.tables.items():
        pd.testing.assert_frame_equal(ds.tables[name], df, check_like=False, obj=name)
    # the same validation findings, plus one note about the table that was left alone
    other = ds.findings[ds.findings["problem"].str.contains("crm_audit_log")]
    assert len(other) == 1
    pd.testing.assert_frame_equal(
        ds.findings.drop(other.index).reset_index(drop=True),
        sample.findings.reset_index(drop=True),
    )
    assert ds.source == crm_url


def test_load_from_an_ibis_connection(crm_url, sample):
    import ibis

    con = ibis.connect(crm_url)
    ds = salesmkt.load(con)
    pd.testing.assert_frame_equal(ds.deals, sample.deals)
    assert ds.source == "postgres connection"
    # the events table runs the funnel in place, as the same events in pandas do
    steps = ["visit_pricing", "start_trial", "activate", "purchase"]
    pd.testing.assert_frame_equal(
        funnel(con.table("events"), steps, window="30D"),
        funnel(sample.events, steps, window="30D"),
    )
    con.disconnect()


def test_database_errors_are_clear(pg_server, crm_url, tmp_path):
    with pytest.raises(ValueError, match="found none of the tables leads, deals"):
        salesmkt.load(f"{pg_server}/empty")
    with pytest.raises(ConnectionError, match="could not connect .*Check the host, port"):
        salesmkt.load("postgres://someone:s3cret@127.0.0.1:1/crm")
    try:
        salesmkt.load("postgres://someone:s3cret@127.0.0.1:1/crm")
    except ConnectionError as exc:
        assert "s3cret" not in str(exc) and "someone:***@127.0.0.1:1" in str(exc)
    with pytest.raises(ValueError, match="not a database URL Ibis knows"):
        salesmkt.load("nosuchdb://host/crm")
    with pytest.raises(FileNotFoundError, match="no such DuckDB file"):
        salesmkt.load(f"duckdb://{tmp_path}/missing.duckdb")
    with pytest.raises(ValueError, match="reads vendor export files"):
        salesmkt.load(crm_url, source="hubspot")


def test_missing_column_names_table_and_column(pg_server, sample):
    import ibis

    con = ibis.connect(f"{pg_server}/events")
    con.create_table("deals", sample.deals.drop(columns=["amount"]), overwrite=True)
    try:
        with pytest.raises(salesmkt.ValidationError, match=r"deals\.amount"):
            salesmkt.load(f"{pg_server}/events")
    finally:
        con.drop_table("deals")
        con.disconnect()


@pytest.mark.slow
def test_report_from_postgres(crm_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # kpis.yml and personas.yml would be read from here
    from salesmkt.cli import main

    assert main(["report", "--data", crm_url, "--out", str(tmp_path / "out"), "--only", "01"]) == 0
    page = (tmp_path / "out" / "01_data_check.html").read_text()
    assert "Traceback" not in page and "leads" in page
    index = (tmp_path / "out" / "index.html").read_text()
    assert "127.0.0.1" in index and "/crm" in index


WEB = ["avg_session_duration", "traffic_by_channel_group", "bounce_rate", "traffic_to_lead"]


def test_sessions_stay_in_postgres_and_kpis_match(crm_url, sample, monkeypatch):
    """Sessions above the in-memory limit (0 here) stay in the database; the KPI table and
    retention computed there equal the in-memory figures, on a server in New York time."""
    import ibis.expr.types as ir

    from salesmkt.data.definitions import customer_retention

    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    ds = salesmkt.load(crm_url)
    assert isinstance(ds.sessions, ir.Table) and isinstance(ds.leads, pd.DataFrame)
    assert isinstance(ds.touchpoints, ir.Table) and isinstance(ds.events, ir.Table)
    assert ds.findings["problem"].str.contains("computed there").any()
    pd.testing.assert_frame_equal(salesmkt.kpi_table(ds), salesmkt.kpi_table(sample))
    by = {"kpis": WEB, "by": "channel", "freq": "W"}
    pd.testing.assert_frame_equal(salesmkt.kpi_table(ds, **by), salesmkt.kpi_table(sample, **by))
    import ibis

    con = ibis.connect(crm_url)
    orders = con.table("orders")
    pd.testing.assert_frame_equal(
        customer_retention(orders, freq="M"),
        customer_retention(sample.orders, freq="M"),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        salesmkt.cohort_retention(orders, freq="Q").reset_index(drop=True),
        salesmkt.cohort_retention(sample.orders, freq="Q").reset_index(drop=True),
        check_dtype=False,
    )
    con.disconnect()


@pytest.mark.slow
def test_check_in_from_postgres_shows_the_figures_of_the_files(
    crm_url, tmp_path, monkeypatch, sample_reports
):
    """The check-in rendered from PostgreSQL, its sessions kept and computed in the engine,
    shows the figures of the check-in rendered from the CSV sample: the same headline, the same
    scorecard and the same tables."""
    from test_cross_report import SUMMARY, _page, _scorecard, _tables

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")  # the notebooks' load sees it too
    conf = salesmkt.sample_dir()
    out = tmp_path / "postgres"
    runs = {
        "files": sample_reports,  # the sample's CSV files, in memory
        "postgres": (
            out,
            salesmkt.run_reports(crm_url, out, only=["05"], config_dir=conf, progress=False),
        ),  # fmt: skip
    }
    files, db = _page(runs["files"], "05"), _page(runs["postgres"], "05")
    text = {k: " ".join(p.get_text(" ").split()) for k, p in (("files", files), ("db", db))}
    headline = [m.group(0) for m in SUMMARY.finditer(text["files"])]
    assert headline and headline == [m.group(0) for m in SUMMARY.finditer(text["db"])]
    spec = {"kpi": ("kpi",), "value": ("value",), "target": ("target",), "status": ("status",)}
    assert _scorecard(files).records(**spec) == _scorecard(db).records(**spec)
    assert [(t.title, t.columns, t.rows) for t in _tables(files)] == [
        (t.title, t.columns, t.rows) for t in _tables(db)
    ]


@pytest.mark.slow
def test_data_check_and_campaign_review_from_postgres(
    crm_url, tmp_path, monkeypatch, sample_reports
):
    """The data check and the campaign review render from PostgreSQL with sessions,
    touchpoints and events kept in the database; the review shows the figures of the files."""
    from test_engine_reports import assert_same_figures, render

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")  # the notebooks' load sees it too
    files = sample_reports
    db = render(crm_url, tmp_path / "postgres", ["01", "04"])
    check = (tmp_path / "postgres" / "01_data_check.html").read_text()
    assert "Traceback" not in check and "computed there" in check
    assert_same_figures(files, db, "04", crm_url)


def test_upper_case_names_and_numeric_columns(tmp_path, sample):
    """Warehouses that upper-case unquoted names (Snowflake) and NUMERIC amounts still load."""
    import duckdb

    db = tmp_path / "crm.duckdb"
    deals = sample.deals[["deal_id", "created_at", "amount"]]
    with duckdb.connect(str(db)) as con:
        con.register("d", deals)
        con.execute(
            'CREATE TABLE "DEALS" AS SELECT deal_id AS "DEAL_ID", created_at AS "CREATED_AT", '
            'CAST(amount AS DECIMAL(18, 2)) AS "AMOUNT" FROM d'
        )
    ds = salesmkt.load(f"duckdb://{db}")
    assert list(ds.deals.columns) == ["deal_id", "created_at", "amount"]
    assert ds.deals["amount"].dtype == "float64"
    assert ds.deals["amount"].sum() == pytest.approx(deals["amount"].sum())


def test_journeys_and_attribution_identical_on_postgres(crm_url, sample):
    """Journeys, path counts and every attribution model computed in PostgreSQL (whose server
    zone is not UTC) equal the pandas path; only the paths and credits come back."""
    import ibis
    from test_journeys_engine import same_credit, same_journeys, same_paths

    from salesmkt.campaigns.attribution import attribute
    from salesmkt.campaigns.journeys import build_journeys, customer_conversions, path_counts

    conv = customer_conversions(sample.leads, sample.deals)
    con = ibis.connect(crm_url)
    try:
        table = con.table("touchpoints")
        je = build_journeys(table, conv, lookback_days=30)
        jp = build_journeys(sample.touchpoints, conv, lookback_days=30)
        same_journeys(je.to_pandas(), jp)
        same_paths(path_counts(je), path_counts(jp))
        same_credit(attribute(je), attribute(jp))
    finally:
        con.disconnect()
