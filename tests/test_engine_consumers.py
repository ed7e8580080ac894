"""Each consumer of an event-sized table gives the same answer when the table is an Ibis table
(run by DuckDB, the work pushed down, aggregates back) as on the pandas DataFrame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import salesmkt
from salesmkt.campaigns.attribution import markov_transition_matrix
from salesmkt.campaigns.journeys import build_journeys, customer_conversions, journeys_note
from salesmkt.campaigns.spend import spend_metrics
from salesmkt.data import periods
from salesmkt.data.check import channel_mix, missing_values, monthly_volume, table_overview
from salesmkt.data.engine import as_table, execute, is_table, within

EVENT_TABLES = ("sessions", "touchpoints", "events")


@pytest.fixture(scope="module")
def in_engine(sample):
    """The sample with its event-sized tables as DuckDB tables."""
    kept = {name: as_table(getattr(sample, name)) for name in EVENT_TABLES}
    return dataclasses.replace(sample, **kept)


def test_the_fixture_keeps_the_event_tables_in_the_engine(in_engine):
    assert all(is_table(getattr(in_engine, name)) for name in EVENT_TABLES)


def test_as_table_keeps_the_rows_of_a_filtered_frame():
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 4.0]})
    part = df[df["x"] > 1.5]  # its index has a gap: 1, 2, 3
    got = execute(as_table(part)).sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(got, part.reset_index(drop=True), check_dtype=False)


def test_within_matches_the_pandas_interval():
    ts = pd.Series(
        pd.to_datetime(
            ["2025-02-28T23:59:59Z", "2025-03-01T00:00:00Z", None, "2025-04-01T00:00:00Z"],
            utc=True,
        )
    )
    t = as_table(pd.DataFrame({"ts": ts}))
    for lo, hi in (("2025-03-01", "2025-04-01"), (None, "2025-03-01"), ("2025-03-01", None)):
        got = execute(t.select(inside=within(t["ts"], lo, hi)))["inside"].fillna(False)
        assert got.tolist() == periods.within(ts, lo, hi).tolist()


def test_data_check_tables_match(sample, in_engine):
    pd.testing.assert_frame_equal(missing_values(in_engine), missing_values(sample))
    pd.testing.assert_frame_equal(monthly_volume(in_engine), monthly_volume(sample))
    pd.testing.assert_frame_equal(
        channel_mix(in_engine, tables=("leads", "sessions", "touchpoints")),
        channel_mix(sample, tables=("leads", "sessions", "touchpoints")),
        check_dtype=False,
    )
    cols = ["table", "rows", "columns", "first", "last"]
    pd.testing.assert_frame_equal(table_overview(in_engine)[cols], table_overview(sample)[cols])


def test_monthly_volume_counts_by_hand():
    """Two sessions in January, none in February, one in March: the gap shows as 0."""
    ts = pd.to_datetime(["2025-01-01 00:00", "2025-01-31 23:59", "2025-03-15 12:00"], utc=True)
    sessions = pd.DataFrame({"session_id": ["a", "b", "c"], "started_at": ts})
    ds = salesmkt.Dataset(sessions=as_table(sessions))
    vol = monthly_volume(ds)
    assert vol["rows"].tolist() == [2, 0, 1]
    assert vol["month"].dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02", "2025-03"]


def test_missing_values_counts_by_hand():
    df = pd.DataFrame({"session_id": ["a", "b", "c"], "channel": ["email", None, None]})
    mv = missing_values(salesmkt.Dataset(sessions=as_table(df))).set_index("column")
    assert mv.loc["channel", "missing"] == 2 and mv.loc["session_id", "missing"] == 0
    assert mv.loc["channel", "share"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("by", ["channel", "campaign_id"])
def test_spend_metrics_count_sessions_in_the_engine(sample, in_engine, by):
    pd.testing.assert_frame_equal(spend_metrics(in_engine, by=by), spend_metrics(sample, by=by))
    pd.testing.assert_frame_equal(
        spend_metrics(in_engine, by=by, freq="Q"), spend_metrics(sample, by=by, freq="Q")
    )


def test_spend_metrics_channel_of_sessions_without_one_comes_from_the_campaign(sample):
    """Sessions without a channel column are counted under their campaign's channel."""
    sessions = sample.sessions.drop(columns="channel")
    mem = dataclasses.replace(sample, sessions=sessions)
    eng = dataclasses.replace(sample, sessions=as_table(sessions))
    got = spend_metrics(eng, by="channel").set_index("channel")["sessions"]
    want = spend_metrics(mem, by="channel").set_index("channel")["sessions"]
    pd.testing.assert_series_equal(got, want)
    assert got.sum() == len(sessions[periods.within(sessions["started_at"], None, None)])


def test_markov_transitions_and_journey_note_match(sample, in_engine):
    conv = customer_conversions(sample.leads, sample.deals)
    mem = build_journeys(sample.touchpoints, conv)
    eng = build_journeys(in_engine.touchpoints, conv)
    assert is_table(eng)
    for kw in ({}, {"collapse_repeats": False}, {"order": 2}):
        got = markov_transition_matrix(eng, **kw)
        want = markov_transition_matrix(mem, **kw)
        key = ["from_state", "to_state"]  # in the same order
        pd.testing.assert_frame_equal(got[key], want[key])
        np.testing.assert_allclose(got["count"], want["count"])
        np.testing.assert_allclose(got["probability"], want["probability"])
    assert journeys_note(eng, conv, lookback_days=365) == journeys_note(
        mem, conv, lookback_days=365
    )
    n = mem["journey_id"].nunique()
    assert f"{n:,} journeys in all" in journeys_note(mem, conv, lookback_days=365)


def test_duplicate_session_ids_in_the_engine_are_an_error_as_in_memory(sample):
    """Two rows sharing a session id: the same error whether the table is kept in the engine
    or in memory, counted there."""
    from salesmkt.data.validate import ValidationError, validate_tables

    sessions = pd.concat([sample.sessions, sample.sessions.iloc[[5, 5, 9]]], ignore_index=True)
    ids = sorted(sample.sessions["session_id"].iloc[[5, 9]].astype(str))
    with pytest.raises(ValidationError) as in_memory:
        validate_tables({"sessions": sessions})
    with pytest.raises(ValidationError) as in_engine:
        validate_tables({"sessions": as_table(sessions)})
    for err in (in_memory, in_engine):
        assert "5 rows share 2 duplicated ids" in str(err.value)
    assert f"e.g. {ids[0]}, {ids[1]}" in str(in_engine.value)


def test_kept_table_without_duplicates_is_noted_as_checked(sample):
    from salesmkt.data.validate import validate_tables

    _, found = validate_tables({"sessions": as_table(sample.sessions)})
    assert len(found) == 1 and "its ids were checked there" in found[0].problem


def test_data_check_reads_the_kept_note_as_information_not_a_fix(sample, in_engine):
    """The note that a table stays in its engine is no problem to fix at the source: the
    decisions are those of the files, the headline counts the same flags and adds one line."""
    from salesmkt.data.check import check_decisions, check_headline
    from salesmkt.data.validate import findings_frame, validate_tables

    _, notes = validate_tables({n: getattr(in_engine, n) for n in EVENT_TABLES})
    assert len(notes) == 3
    noted = pd.concat([sample.findings, findings_frame(notes)], ignore_index=True)
    kept = dataclasses.replace(in_engine, findings=noted)
    assert check_decisions(kept) == check_decisions(sample)
    mem, eng = check_headline(sample).splitlines(), check_headline(kept).splitlines()
    assert mem[:2] == eng[:2]
    extra = [line for line in eng if line not in mem]
    rows = sum(len(getattr(sample, n)) for n in EVENT_TABLES)
    assert extra == [
        f"- sessions, touchpoints, events ({rows:,} rows) stay in the database or files and "
        "are computed there: only aggregates are read."
    ]


def test_unknown_lead_ids_of_kept_sessions_are_counted_as_in_memory(sample):
    """Three sessions pointing at a lead the CRM does not hold: the same warning and count
    whether the sessions are kept in the engine or in memory."""
    from salesmkt.data.validate import validate_tables

    sessions = sample.sessions.copy()
    sessions["lead_id"] = sessions["lead_id"].astype("string")
    sessions.loc[sessions.index[:3], "lead_id"] = ["L-NOPE-2", "L-NOPE-1", "L-NOPE-1"]
    tables = {"leads": sample.leads, "campaigns": sample.campaigns}
    _, mem = validate_tables({**tables, "sessions": sessions})
    _, eng = validate_tables({**tables, "sessions": as_table(sessions)})
    pick = lambda found: [f for f in found if f.column == "lead_id"]  # noqa: E731
    assert [f.count for f in pick(mem)] == [f.count for f in pick(eng)] == [3]
    assert "e.g. L-NOPE-1, L-NOPE-2" in pick(eng)[0].problem
    assert pick(eng)[0].severity == pick(mem)[0].severity == "warning"
