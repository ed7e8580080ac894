"""Event funnels: hand-worked cases for every option, a brute-force oracle on random logs,
edge cases, the sample company and the Olist marketing funnel (real data)."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data.validate import ValidationError
from salesmkt.funnels import funnel, funnel_trends, time_to_convert
from salesmkt.funnels.events import _run

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2025-01-01", tz="UTC")
OLIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "olist-marketing-funnel"
if not OLIST.exists():  # CI lays shared/ beside the clone
    OLIST = Path("/work/shared/data/real/olist-marketing-funnel")


def ev(rows, by=False) -> pd.DataFrame:
    """Events from ``(person, day offset, event[, by])`` tuples; days may be fractional."""
    cols = ["person_id", "day", "event"] + (["channel"] if by else [])
    df = pd.DataFrame(rows, columns=cols)
    df.insert(1, "ts", T0 + pd.to_timedelta(df.pop("day"), unit="D"))
    return df.astype({"person_id": "string", "event": "string"})


def persons(table) -> list[int]:
    return table["persons"].tolist()


# --- hand-worked cases ----------------------------------------------------------------------


def test_ordered_window_is_inclusive_and_measured_from_step_1():
    e = ev(
        [
            ("p1", 0, "A"), ("p1", 10, "B"), ("p1", 30, "C"),  # C exactly 30 days after A
            ("p2", 0, "A"), ("p2", 10, "B"), ("p2", 30.001, "C"),  # just outside
            ("p3", 0, "B"), ("p3", 1, "A"),  # B before A: reaches step 1 only
            ("p4", 5, "C"),  # never enters
        ]
    )  # fmt: skip
    t = funnel(e, ["A", "B", "C"], window="30D")
    assert persons(t) == [3, 2, 1]
    assert t["drop_off"].tolist() == [0, 1, 1]
    np.testing.assert_allclose(t["conversion_from_previous"], [1, 2 / 3, 1 / 2])
    np.testing.assert_allclose(t["conversion_from_first"], [1, 2 / 3, 1 / 3])
    np.testing.assert_allclose(t["drop_off_rate"], [0, 1 / 3, 1 / 2])
    assert t["median_time_from_previous"].tolist()[1:] == [10 * DAY, 20 * DAY]
    assert t["median_time_from_first"].tolist()[1:] == [10 * DAY, 30 * DAY]
    assert pd.isna(t["median_time_from_previous"].iloc[0])
    assert t.columns.tolist()[:2] == ["step", "step_name"]
    assert "window 30 days" in t.attrs["semantics"]


def test_any_start_may_begin_the_chain_but_entry_first_only_the_first():
    # First A at day 0 cannot reach B (day 41) within 30 days; the second A at day 40 can.
    e = ev([("p", 0, "A"), ("p", 40, "A"), ("p", 41, "B"), ("p", 45, "C")])
    assert persons(funnel(e, ["A", "B", "C"], window="30D")) == [1, 1, 1]
    assert persons(funnel(e, ["A", "B", "C"], window="30D", entry="first")) == [1, 0, 0]
    first = funnel(e, ["A", "B", "C"], window="30D", entry="first")
    assert "first step-1 event starts" in first.attrs["semantics"]


def test_counted_chain_is_the_deepest_then_latest():
    # Two chains reach C: from A@0 (B@5, C@13) and from A@10 (B@12, C@13); the latest of the
    # deepest starts (day 10, the most recent attempt) is the counted one.
    e = ev([("p", 0, "A"), ("p", 5, "B"), ("p", 10, "A"), ("p", 12, "B"), ("p", 13, "C")])
    t = funnel(e, ["A", "B", "C"], window="30D")
    assert persons(t) == [1, 1, 1]
    assert t["median_time_from_first"].tolist()[1:] == [2 * DAY, 3 * DAY]
    # With a 10-day window only the chain from day 10 reaches C; with [A, B] both reach B.
    assert funnel(e, ["A", "B", "C"], window="10D")["median_time_from_first"].iloc[2] == 3 * DAY
    e2 = ev([("p", 0, "A"), ("p", 5, "B"), ("p", 10, "A"), ("p", 40, "B")])
    t2 = funnel(e2, ["A", "B"], window="7D")
    assert persons(t2) == [1, 1] and t2["median_time_from_first"].iloc[1] == 5 * DAY


def test_ties_count_in_step_order_and_strict_increase_forbids_them():
    e = ev([("p", 0, "B"), ("p", 0, "A"), ("q", 1, "A"), ("q", 1, "B")])
    assert persons(funnel(e, ["A", "B"], window="1D")) == [2, 2]
    assert persons(funnel(e, ["A", "B"], window="1D", strict_increase=True)) == [2, 0]


def test_one_event_serves_repeated_steps_like_window_funnel():
    # windowFunnel(...)(t, e='A', e='A') gives 2 for a single A (checked against chdb).
    one = ev([("p", 0, "A")])
    assert persons(funnel(one, ["A", "A"], window="1D")) == [1, 1]
    assert persons(funnel(one, ["A", "A"], window="1D", strict_increase=True)) == [1, 0]
    two = ev([("p", 0, "A"), ("p", 0.5, "A")])
    assert persons(funnel(two, ["A", "A"], window="1D", strict_increase=True)) == [1, 1]
    labels = funnel(one, ["A", "A"], window="1D")["step_name"].tolist()
    assert labels == ["A (1)", "A (2)"]


def test_events_out_of_order_in_the_file_give_the_same_result():
    rows = [("p", 0, "A"), ("p", 1, "B"), ("p", 2, "C"), ("q", 3, "A"), ("q", 9, "B")]
    e = ev(rows)
    shuffled = e.sample(frac=1, random_state=3).reset_index(drop=True)
    reverse = e.iloc[::-1]
    a = funnel(e, ["A", "B", "C"], window="7D")
    pd.testing.assert_frame_equal(a, funnel(shuffled, ["A", "B", "C"], window="7D"))
    pd.testing.assert_frame_equal(a, funnel(reverse, ["A", "B", "C"], window="7D"))
    assert persons(a) == [2, 2, 1]


def test_strict_order_breaks_on_any_other_event():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "X"), ("p", 2, "B"),  # X in between: step 1 only
            ("q", 0, "A"), ("q", 1, "B"), ("q", 2, "C"),  # consecutive: 3
            ("r", 0, "A"), ("r", 1, "X"), ("r", 2, "A"), ("r", 3, "B"),  # restart after X: 2
            ("s", 0, "A"), ("s", 1, "B"), ("s", 2, "C"), ("s", 3, "B"), ("s", 4, "D"),
        ]
    )  # fmt: skip
    steps = ["A", "B", "C", "D"]
    assert persons(funnel(e, steps, window="30D", order="strict")) == [4, 3, 2, 0]
    assert persons(funnel(e, steps, window="30D")) == [4, 4, 2, 1]
    # The first A of r is broken by X; with entry="first" r reaches step 1 only.
    assert persons(funnel(e, steps, window="30D", order="strict", entry="first")) == [4, 2, 2, 0]


def test_strict_ties_sort_non_step_events_first():
    # X at the same time as B sorts before B (windowFunnel's strict_order sort): chain broken.
    e = ev([("p", 0, "A"), ("p", 1, "B"), ("p", 1, "X")])
    assert persons(funnel(e, ["A", "B"], window="5D", order="strict")) == [1, 0]


def test_any_order():
    e = ev(
        [
            ("p", 0, "C"), ("p", 1, "B"), ("p", 2, "A"),  # all three, reversed
            ("q", 0, "B"), ("q", 20, "A"),  # A and B 20 days apart: window 10 days
            ("r", 0, "A"), ("r", 1, "C"),  # A, C but no B: step 2 fails
        ]
    )  # fmt: skip
    t = funnel(e, ["A", "B", "C"], window="10D", order="any")
    assert persons(t) == [3, 1, 1]
    # p completes {A} at day 2 (its window starts at C, day 0) and {A,B,C} also at day 2.
    assert t["median_time_from_first"].iloc[2] == pd.Timedelta(0)
    assert persons(funnel(e, ["A", "B", "C"], window="20D", order="any")) == [3, 2, 1]
    # entry="first": only the window from each person's first step event (q's B at day 0
    # leaves its A at day 20 outside a 19-day window, so q is not even at step 1).
    assert persons(funnel(e, ["A", "B"], window="19D", order="any", entry="first")) == [2, 1]


def test_exclusion_voids_the_chain_and_removes_the_person():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "X"), ("p", 2, "B"),  # X between A and B: excluded
            ("q", 0, "A"), ("q", 2, "B"), ("q", 3, "X"),  # X after the last step: fine
            ("r", 0, "A"), ("r", 5, "X"),  # never reached B, X inside the window: excluded
            ("s", 0, "A"), ("s", 40, "X"),  # X outside the 30-day window: fine
            ("t", 0, "A"), ("t", 1, "X"), ("t", 50, "A"), ("t", 51, "B"),  # clean later chain
        ]
    )  # fmt: skip
    out = funnel(e, ["A", "B"], window="30D", exclude="X")
    assert persons(out) == [3, 2]
    assert out["n_excluded"].tolist() == [2, 2]
    assert persons(funnel(e, ["A", "B"], window="30D")) == [5, 3]


def test_exclusion_between_chosen_steps_and_ties_do_not_exclude():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "X"), ("p", 2, "B"), ("p", 3, "C"),  # X before step 2
            ("q", 0, "A"), ("q", 2, "B"), ("q", 2.5, "X"), ("q", 3, "C"),  # X between 2 and 3
            ("r", 0, "A"), ("r", 2, "B"), ("r", 2, "X"), ("r", 3, "C"),  # X tied with B
        ]
    )  # fmt: skip
    out = funnel(e, ["A", "B", "C"], window="30D", exclude=[("X", 2, 3)])
    assert persons(out) == [2, 2, 2]
    assert out["n_excluded"].iloc[0] == 1
    with pytest.raises(ValueError, match="to-step must come after"):
        funnel(e, ["A", "B", "C"], window="30D", exclude=[("X", 3, 2)])
    with pytest.raises(ValueError, match="order='ordered' only"):
        funnel(e, ["A", "B", "C"], window="30D", exclude="X", order="strict")


def test_max_gap_checks_the_next_occurrence_of_each_step():
    e = ev([("p", 0, "A"), ("p", 1, "B"), ("p", 4, "C"), ("q", 0, "A"), ("q", 3, "B")])
    steps = ["A", "B", "C"]
    assert persons(funnel(e, steps, window="30D", max_gap="2D")) == [2, 1, 0]
    assert persons(funnel(e, steps, window="30D", max_gap="3D")) == [2, 2, 1]
    assert persons(funnel(e, steps, window="30D", max_gap=[None, "2D"])) == [2, 2, 0]
    assert persons(funnel(e, steps, window="30D", max_gap={3: "3D"})) == [2, 2, 1]
    # Greedy rule: the next B after A (day 1) is the one checked, not a later one.
    g = ev([("p", 0, "A"), ("p", 1, "B"), ("p", 2, "B"), ("p", 4, "C")])
    assert persons(funnel(g, steps, window="30D", max_gap="2D")) == [1, 1, 0]
    with pytest.raises(ValueError, match="one value per step after the first"):
        funnel(e, steps, window="30D", max_gap=["1D"])
    with pytest.raises(ValueError, match="no meaning with order='any'"):
        funnel(e, steps, window="30D", max_gap="1D", order="any")


def test_breakdown_first_and_last_touch():
    e = ev(
        [
            ("p", 0, "A", "email"), ("p", 1, "B", "paid_search"),
            ("q", 0, "A", "email"),
            ("r", 0, "A", "paid_search"), ("r", 1, "B", None),
        ],
        by=True,
    )  # fmt: skip
    first = funnel(e, ["A", "B"], window="7D", by="channel")
    assert first.columns[0] == "channel"
    got = first.set_index(["channel", "step"])["persons"].to_dict()
    assert got == {
        ("email", 1): 2,
        ("email", 2): 1,
        ("paid_search", 1): 1,
        ("paid_search", 2): 1,
    }
    last = funnel(e, ["A", "B"], window="7D", by="channel", attribution="last")
    got = last.set_index(["channel", "step"])["persons"].to_dict()
    assert got == {
        ("(missing)", 1): 1,
        ("(missing)", 2): 1,
        ("email", 1): 1,
        ("email", 2): 0,
        ("paid_search", 1): 1,
        ("paid_search", 2): 1,
    }
    # Each person is in exactly one group: groups add up to the plain funnel.
    total = first.groupby("step")["persons"].sum().tolist()
    assert total == persons(funnel(e, ["A", "B"], window="7D"))


def test_in_window_counts_persons_who_may_still_convert():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "B"),  # stopped at B, window open until day 10
            ("q", 0, "A"),  # stopped at A, window open
            ("r", 0, "A"), ("r", 1, "B"), ("r", 2, "C"),
            ("z", 9, "Z"),  # last timestamp of the data: day 9
        ]
    )  # fmt: skip
    t = funnel(e, ["A", "B", "C"], window="10D")
    assert t["in_window"].tolist() == [0, 1, 1]
    later = funnel(e, ["A", "B", "C"], window="10D", as_of=T0 + 10 * DAY)
    assert later["in_window"].tolist() == [0, 0, 0]  # window closed (inclusive end is past)
    assert t.attrs["as_of"] == T0 + 9 * DAY


def test_empty_input_single_person_and_invalid_rows():
    empty = ev([]).iloc[:0]
    t = funnel(empty, ["A", "B"], window="7D")
    assert persons(t) == [0, 0]
    assert t["conversion_from_first"].isna().all()
    assert t["median_time_from_first"].isna().all()
    tb = funnel(ev([], by=True), ["A", "B"], window="7D", by="channel")
    assert tb.empty and tb.columns[0] == "channel"
    one = funnel(ev([("solo", 0, "A"), ("solo", 2, "B")]), ["A", "B"], window="7D")
    assert persons(one) == [1, 1]
    assert one["median_time_from_previous"].iloc[1] == 2 * DAY
    bad = ev([("p", 0, "A"), ("p", 1, "B"), (None, 1, "B")])
    bad.loc[1, "ts"] = pd.NaT
    t = funnel(bad, ["A", "B"], window="7D")
    assert persons(t) == [1, 0]
    assert t["n_invalid_rows"].tolist() == [2, 2]


def test_bad_input_gets_a_clear_error_and_input_is_not_modified():
    e = ev([("p", 0, "A"), ("p", 1, "B")])
    before = e.copy()
    with pytest.raises(ValidationError, match=r"events\.event_name: funnel needs this column"):
        funnel(e, ["A"], window="7D", event_col="event_name")
    with pytest.raises(ValidationError, match=r"events\.ts: funnel needs timestamps"):
        funnel(e.assign(ts=e["ts"].astype(str)), ["A"], window="7D")
    with pytest.raises(ValueError, match="bare number"):
        funnel(e, ["A"], window=30)
    with pytest.raises(ValueError, match="positive"):
        funnel(e, ["A"], window="-1D")
    with pytest.raises(ValueError, match="order must be one of"):
        funnel(e, ["A"], window="7D", order="sequential")
    with pytest.raises(ValueError, match="non-empty list"):
        funnel(e, [], window="7D")
    pd.testing.assert_frame_equal(e, before)


def test_steps_as_lists_and_predicates():
    e = ev([("p", 0, "A"), ("p", 1, "B2"), ("q", 0, "A"), ("q", 1, "B1"), ("r", 0, "A")])
    t = funnel(e, ["A", ("B", ["B1", "B2"])], window="7D")
    assert persons(t) == [3, 2] and t["step_name"].tolist() == ["A", "B"]
    t = funnel(e, ["A", ("B2 only", lambda tb: tb.event.startswith("B2"))], window="7D")
    assert persons(t) == [3, 1]


def test_ibis_table_input_matches_pandas_and_methods_agree():
    e = ev([("p", 0, "A"), ("p", 1, "B"), ("q", 0, "A"), ("q", 0, "B"), ("r", 3, "B")])
    con = ibis.duckdb.connect()
    table = con.create_table("ev", e)
    want = funnel(e, ["A", "B"], window="7D")
    pd.testing.assert_frame_equal(funnel(table, ["A", "B"], window="7D"), want)
    pd.testing.assert_frame_equal(funnel(e, ["A", "B"], window="7D", method="window"), want)
    pd.testing.assert_frame_equal(funnel(table, ["A", "B"], window="7D", method="kernel"), want)
    assert con.list_tables() == ["ev"]  # temporary tables are cleaned up


KERNEL_CASES = [
    {},
    {"by": "channel"},
    {"by": "channel", "attribution": "last"},
    {"entry": "first"},
    {"entry": "first", "by": "channel"},
    {"strict_increase": True, "by": "channel"},
]


@pytest.mark.parametrize("kw", KERNEL_CASES)
@pytest.mark.parametrize("person", ["int", "str"])
def test_kernel_matches_sql_chains_with_ties_and_batches(monkeypatch, kw, person):
    """The compiled per-person pass equals the SQL chains on tie-heavy logs (whole days, so
    several steps and breakdown values share a time), with persons straddling the batches it
    streams in (4 persons' worth of rows per batch here)."""
    from salesmkt.funnels import _kernel as _funnel_kernel

    monkeypatch.setattr(_funnel_kernel, "_BATCH_ROWS", 37)
    r = np.random.default_rng(5)
    size = 600
    ids = r.integers(0, 60, size)
    frame = pd.DataFrame(
        {
            "person_id": ids if person == "int" else pd.array([f"u{i}" for i in ids], "string"),
            "ts": pd.Timestamp("2025-03-01", tz="UTC")
            + pd.to_timedelta(r.integers(0, 12, size), unit="D"),
            "event": pd.array(r.choice(list("ABCX"), size), dtype="string"),
            "channel": pd.array(r.choice(["ads", "seo", None], size), dtype="string"),
        }
    )
    for steps in (["A", "B", "C"], ["A", "A", "B"], ["B", ("A or C", ["A", "C"]), "C"]):
        for window in ("1D", "4D"):
            want = funnel(frame, steps, window=window, method="asof", **kw)
            got = funnel(frame, steps, window=window, method="kernel", **kw)
            pd.testing.assert_frame_equal(got, want)
    ttc = {k: v for k, v in kw.items() if k in ("entry", "strict_increase")}
    pd.testing.assert_frame_equal(
        time_to_convert(frame, ["A", "B", "C"], window="4D", method="kernel", **ttc),
        time_to_convert(frame, ["A", "B", "C"], window="4D", method="asof", **ttc),
    )


def test_kernel_is_refused_where_it_does_not_apply():
    e = ev([("p", 0, "A"), ("p", 1, "B")])
    for kw in ({"order": "strict"}, {"order": "any"}, {"max_gap": "1D"}, {"exclude": "X"}):
        with pytest.raises(ValueError, match="method='kernel'"):
            funnel(e, ["A", "B"], window="7D", method="kernel", **kw)
    with pytest.raises(ValueError, match="method='kernel'"):
        funnel_trends(e, ["A", "B"], window="7D", freq="D", method="kernel")


def test_ibis_table_in_another_session_time_zone_gives_the_same(monkeypatch):
    """Per-person runs on DuckDB work on naive UTC times; a session zone with a daylight-saving
    change inside the window, and a step exactly at the window's edge, change nothing."""
    e = ev([("p", 66, "A"), ("p", 73, "B"), ("q", 66.5, "A"), ("q", 73.6, "B"), ("q", 74, "C"),
            ("r", 70, "A"), ("r", 70, "B"), ("r", 77, "C"), ("s", 71, None)])  # fmt: skip
    e.loc[8, "person_id"] = pd.NA  # a row without a person is counted, not used
    want = funnel(e, ["A", "B", "C"], window="7D")
    assert persons(want) == [3, 2, 1] and want["n_invalid_rows"].iloc[0] == 1
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'America/New_York'")  # clocks go forward on day 67 (9 March)
    table = con.create_table("ev", e)
    monkeypatch.setattr("salesmkt.funnels._run._MATERIALIZE_ROWS", 0)
    pd.testing.assert_frame_equal(funnel(table, ["A", "B", "C"], window="7D"), want)
    got = time_to_convert(table, ["A", "B", "C"], window="7D", to_step=2)
    assert got["duration"].tolist() == [pd.Timedelta(0), pd.Timedelta(days=7)]
    assert con.list_tables() == ["ev"]


@pytest.mark.parametrize(
    "options",
    [
        dict(order="ordered"),
        dict(order="ordered", exclude=[("X", 1, 2)], max_gap="4D", by="channel"),
        dict(order="ordered", entry="first", by="channel", attribution="last"),
        dict(order="strict"),
        dict(order="any"),
    ],
)
def test_materialised_path_gives_the_same_and_cleans_up(monkeypatch, options):
    """Large inputs cache intermediate tables; force that on a small log and compare."""
    rng = np.random.default_rng(2)
    n = 400
    e = pd.DataFrame(
        {
            "person_id": pd.array([f"p{i % 50}" for i in range(n)], dtype="string"),
            "ts": T0 + pd.to_timedelta(rng.integers(0, 30 * 24, n), unit="h"),
            "event": pd.array(rng.choice(list("ABCX"), n), dtype="string"),
            "channel": pd.array(rng.choice(["email", "direct"], n), dtype="string"),
        }
    )
    want = funnel(e, ["A", "B", "C"], window="6D", **options)
    con = ibis.duckdb.connect()
    table = con.create_table("ev", e)
    monkeypatch.setattr("salesmkt.funnels._run._MATERIALIZE_ROWS", 0)
    got = funnel(table, ["A", "B", "C"], window="6D", **options)
    pd.testing.assert_frame_equal(got, want)
    assert want.loc[want["step"] == 3, "persons"].sum() > 0
    assert con.list_tables() == ["ev"]  # every temporary table was dropped


def test_funnel_trends_by_entry_week():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "B"),  # Wed 2025-01-01 (week of Mon 2024-12-30)
            ("q", 1, "A"),
            ("p", 7, "A"),  # p enters again the next week, no B after it
            ("r", 8, "A"), ("r", 8.5, "B"),
        ]
    )  # fmt: skip
    tr = funnel_trends(e, ["A", "B"], window="3D", freq="W")
    assert tr["period"].unique().tolist() == [
        pd.Timestamp("2024-12-30", tz="UTC"),
        pd.Timestamp("2025-01-06", tz="UTC"),
    ]
    assert tr["persons"].tolist() == [2, 1, 2, 1]
    np.testing.assert_allclose(tr["conversion_from_first"], [1, 0.5, 1, 0.5])
    # Data ends at day 8.5: p's week-2 chain (day 7, window to day 10) is still open.
    assert tr["in_window"].tolist() == [0, 0, 0, 1]
    monthly = funnel_trends(e, ["A", "B"], window="3D", freq="M")
    assert monthly["persons"].tolist() == [3, 2]
    with pytest.raises(ValueError, match="funnel_trends: freq=.fortnight. is not a frequency"):
        funnel_trends(e, ["A", "B"], window="3D", freq="fortnight")


def test_time_to_convert_per_person_and_binned():
    e = ev(
        [
            ("p", 0, "A"), ("p", 1, "B"), ("p", 3, "C"),
            ("q", 0, "A"), ("q", 2, "B"), ("q", 2.5, "C"),
            ("r", 0, "A"), ("r", 4, "B"),
        ]
    )  # fmt: skip
    ttc = time_to_convert(e, ["A", "B", "C"], window="7D")
    assert ttc["person_id"].tolist() == ["q", "p"]
    assert ttc["duration"].tolist() == [2.5 * DAY, 3 * DAY]
    assert ttc["hours"].tolist() == [60.0, 72.0]
    mid = time_to_convert(e, ["A", "B", "C"], window="7D", from_step="B", to_step=3)
    assert mid["duration"].tolist() == [0.5 * DAY, 2 * DAY]
    ab = time_to_convert(e, ["A", "B", "C"], window="7D", to_step=2)
    assert sorted(ab["duration"]) == [DAY, 2 * DAY, 4 * DAY]
    hist = time_to_convert(e, ["A", "B", "C"], window="7D", to_step=2, bins=4)
    assert hist["persons"].tolist() == [0, 1, 1, 1]
    assert hist["bin_end"].iloc[-1] == 4 * DAY
    assert hist["share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must come after"):
        time_to_convert(e, ["A", "B", "C"], window="7D", from_step=3, to_step=2)


def test_sample_company_funnel(sample):
    steps = ["visit_pricing", "start_trial", "activate", "purchase"]
    t = funnel(sample.events, steps, window="30D")
    assert t["persons"].is_monotonic_decreasing and t["persons"].iloc[0] > 1000
    assert (t["in_window"] <= t["drop_off"]).all()
    # The funnel counts a subset of the persons who did each step event at all.
    did = sample.events.groupby("event")["person_id"].nunique()
    assert (t["persons"].to_numpy() <= did[steps].to_numpy()).all()


# --- the Olist marketing funnel (real data): MQL first contact -> closed won, by origin ------


def test_olist_marketing_funnel_matches_pandas():
    mql = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    won = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")
    # Column mapping onto the events contract: person = mql_id, ts, stage as the event.
    events = pd.concat(
        [
            mql.assign(ts=pd.to_datetime(mql["first_contact_date"], utc=True), stage="mql"),
            won.merge(mql[["mql_id", "origin"]], on="mql_id").assign(
                ts=lambda d: pd.to_datetime(d["won_date"], utc=True), stage="closed_won"
            ),
        ]
    )[["mql_id", "ts", "stage", "origin"]]
    got = funnel(
        events,
        ["mql", "closed_won"],
        window="90D",
        person_col="mql_id",
        event_col="stage",
        by="origin",
    )
    # Independent computation: one MQL row per id, won within 0..90 days of first contact.
    j = mql.merge(won[["mql_id", "won_date"]], on="mql_id", how="left")
    delay = pd.to_datetime(j["won_date"]) - pd.to_datetime(j["first_contact_date"])
    j["won90"] = (delay >= pd.Timedelta(0)) & (delay <= pd.Timedelta(days=90))
    j["origin"] = j["origin"].fillna("(missing)")
    exp = j.groupby("origin").agg(mqls=("mql_id", "size"), won=("won90", "sum"))
    g = got.pivot(index="origin", columns="step", values="persons")
    assert g[1].to_dict() == exp["mqls"].to_dict()
    assert g[2].to_dict() == exp["won"].to_dict()
    med = j.loc[j["won90"]].assign(d=delay[j["won90"]]).groupby("origin")["d"].median()
    got_med = got[got["step"] == 2].set_index("origin")["median_time_from_first"].dropna()
    assert got_med.to_dict() == med.to_dict()
    total = funnel(events, ["mql", "closed_won"], window="90D", person_col="mql_id",
                   event_col="stage")  # fmt: skip
    assert persons(total) == [8000, int(j["won90"].sum())]


# --- brute force oracle ----------------------------------------------------------------------


def _chains_exist(evs, steps, W, strict_inc):
    """Deepest k such that some chain e1..ek exists (every combination tried)."""
    n, best = len(steps), 0
    idx = {k: [e for e in evs if e[1] == steps[k]] for k in range(n)}
    for start in idx[0]:
        best = max(best, 1)

        def deeper(k, prev, t1):
            if k == n:
                return n
            out = k
            for e in idx[k]:
                later = e[0] > prev if strict_inc else e[0] >= prev
                if later and e[0] - t1 <= W:
                    out = max(out, deeper(k + 1, e[0], t1))
            return out

        best = max(best, deeper(1, start[0], start[0]))
    return best


def _greedy(evs, steps, start, W, strict_inc, gaps):
    """Times of the greedy chain from ``start``: earliest next step event each time."""
    times = [start]
    for k in range(1, len(steps)):
        prev = times[-1]
        later = [
            e[0] for e in evs if e[1] == steps[k] and (e[0] > prev if strict_inc else e[0] >= prev)
        ]
        if not later:
            break
        nx = min(later)
        if nx - start > W or (gaps[k] is not None and nx - prev > gaps[k]):
            break
        times.append(nx)
    return times


def oracle_ordered(evs, steps, W, *, entry, strict_inc=False, gaps=None, exclude=(), as_of):
    """Per person: (depth, times of counted chain, open, excluded)."""
    n = len(steps)
    gaps = gaps or [None] * n
    starts = sorted({e[0] for e in evs if e[1] == steps[0]})
    if not starts:
        return None
    if entry == "first":
        starts = starts[:1]
    chains = []
    for s in starts:
        times = _greedy(evs, steps, s, W, strict_inc, gaps)
        void = False
        for x, a, b in exclude:
            if len(times) > a:
                xs = [e[0] for e in evs if e[1] == x and e[0] > times[a]]
                if xs:
                    nx = min(xs)
                    void |= nx < times[b] if len(times) > b else nx <= s + W
        d = len(times)
        still = d < n and s + W > as_of and (gaps[d] is None or times[-1] + gaps[d] > as_of)
        chains.append((d, s, times, void, still))
    live = [c for c in chains if not c[3]]
    if not live:
        return (0, [], False, True)
    d = max(c[0] for c in live)
    best = max((c for c in live if c[0] == d), key=lambda c: c[1])
    return (d, best[2], any(c[4] for c in live), False)


def oracle_strict(evs, steps, W, *, entry, as_of):
    n = len(steps)
    items = []
    for t, name in evs:
        ks = [k for k in range(n) if steps[k] == name]
        items += [(t, k) for k in ks] if ks else [(t, -1)]
    items.sort()
    starts = [i for i, it in enumerate(items) if it[1] == 0]
    if not starts:
        return None
    if entry == "first":
        starts = starts[:1]
    chains = []
    for i in starts:
        t1, times = items[i][0], [items[i][0]]
        for j in range(1, n):
            if i + j < len(items) and items[i + j][1] == j and items[i + j][0] - t1 <= W:
                times.append(items[i + j][0])
            else:
                break
        chains.append((len(times), t1, times, len(times) < n and t1 + W > as_of))
    d = max(c[0] for c in chains)
    best = max((c for c in chains if c[0] == d), key=lambda c: c[1])
    return (d, best[2], any(c[3] for c in chains), False)


def oracle_any(evs, steps, W, *, entry, as_of):
    n = len(steps)
    anchors = sorted({t for t, name in evs if name in steps})
    if entry == "first":
        anchors = anchors[:1]
    chains = []
    for a in anchors:
        done, times = None, []
        for k in range(n):
            hits = [t for t, name in evs if name == steps[k] and a <= t <= a + W]
            if not hits:
                break
            done = min(hits) if done is None else max(done, min(hits))
            times.append(done)
        chains.append((len(times), a, times, len(times) < n and a + W > as_of))
    if not chains or max(c[0] for c in chains) == 0:
        return None
    d = max(c[0] for c in chains)
    best = max((c for c in chains if c[0] == d), key=lambda c: c[1])
    return (d, best[2], any(c[3] for c in chains), False)


def summarise(results, n):
    """The funnel table columns an oracle determines, from per-person results."""
    live = [r for r in results if r is not None and not r[3]]
    reached = [sum(r[0] >= k + 1 for r in live) for k in range(n)]
    in_window = [0] + [sum(r[0] == k and r[2] for r in live) for k in range(1, n)]
    med_first = [None] + [
        statistics.median([r[1][k] - r[1][0] for r in live if r[0] > k]) if reached[k] else None
        for k in range(1, n)
    ]
    med_prev = [None] + [
        statistics.median([r[1][k] - r[1][k - 1] for r in live if r[0] > k]) if reached[k] else None
        for k in range(1, n)
    ]
    excluded = sum(r is not None and r[3] for r in results)
    return reached, in_window, med_first, med_prev, excluded


def _logs():
    event = st.sampled_from(["A", "B", "C", "X"])
    one = st.lists(st.tuples(st.integers(0, 12), event), min_size=0, max_size=7)
    return st.lists(one, min_size=1, max_size=14)


STEP_SETS = [["A", "B", "C"], ["A", "B"], ["A", "A", "B"], ["A", "B", "A"], ["B", "A", "C"]]


def _frame(logs):
    rows = [(f"p{i}", t, name) for i, log in enumerate(logs) for t, name in log]
    return ev(rows), {f"p{i}": [(float(t), name) for t, name in log] for i, log in enumerate(logs)}


def _compare(table, results, n):
    reached, in_window, med_first, med_prev, excluded = summarise(results, n)
    assert persons(table) == reached
    assert table["in_window"].tolist() == in_window
    assert table["n_excluded"].iloc[0] == excluded
    for k in range(1, n):
        got_f, got_p = (
            table["median_time_from_first"].iloc[k],
            table["median_time_from_previous"].iloc[k],
        )
        if med_first[k] is None:
            assert pd.isna(got_f) and pd.isna(got_p)
        else:
            assert got_f == pd.Timedelta(days=med_first[k])
            assert got_p == pd.Timedelta(days=med_prev[k])


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    logs=_logs(),
    steps=st.sampled_from(STEP_SETS),
    window=st.integers(1, 8),
    order=st.sampled_from(["ordered", "strict", "any"]),
    entry=st.sampled_from(["any", "first"]),
    method=st.sampled_from(["asof", "window", "kernel"]),
)
def test_matches_brute_force_on_random_logs(logs, steps, window, order, entry, method):
    assume(method != "kernel" or order == "ordered")
    frame, by_person = _frame(logs)
    as_of = max((t for log in by_person.values() for t, _ in log), default=0.0)
    W = float(window)
    if order == "ordered":
        results = [
            oracle_ordered(e, steps, W, entry=entry, as_of=as_of) for e in by_person.values()
        ]
        # The greedy chains agree with trying every combination of events.
        for e, r in zip(by_person.values(), results, strict=True):
            if r is not None and entry == "any":
                assert r[0] == _chains_exist(e, steps, W, strict_inc=False)
    elif order == "strict":
        results = [oracle_strict(e, steps, W, entry=entry, as_of=as_of) for e in by_person.values()]
    else:
        results = [oracle_any(e, steps, W, entry=entry, as_of=as_of) for e in by_person.values()]
    table = funnel(frame, steps, window=f"{window}D", order=order, entry=entry, method=method)
    _compare(table, results, len(steps))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    logs=_logs(),
    steps=st.sampled_from(STEP_SETS),
    window=st.integers(1, 8),
    gap=st.sampled_from([None, 1, 2, 4]),
    strict_inc=st.booleans(),
    exclude=st.sampled_from([(), (("X", 0, 1),), (("X", 1, 2),), (("C", 0, 1),)]),
    method=st.sampled_from(["asof", "window", "kernel"]),
)
def test_options_match_brute_force(logs, steps, window, gap, strict_inc, exclude, method):
    exclude = tuple(r for r in exclude if r[2] < len(steps) and r[0] not in steps)
    assume(method != "kernel" or (gap is None and not exclude))
    frame, by_person = _frame(logs)
    as_of = max((t for log in by_person.values() for t, _ in log), default=0.0)
    n = len(steps)
    gaps = [None] + [None if gap is None else float(gap)] * (n - 1)
    results = [
        oracle_ordered(
            e,
            steps,
            float(window),
            entry="any",
            strict_inc=strict_inc,
            gaps=gaps,
            exclude=exclude,
            as_of=as_of,
        )  # fmt: skip
        for e in by_person.values()
    ]
    if not exclude:
        for e, r in zip(by_person.values(), results, strict=True):
            if r is not None and gap is None:
                assert r[0] == _chains_exist(e, steps, float(window), strict_inc)
    table = funnel(
        frame,
        steps,
        window=f"{window}D",
        max_gap=None if gap is None else f"{gap}D",
        strict_increase=strict_inc,
        exclude=[(x, a + 1, b + 1) for x, a, b in exclude] or None,
        method=method,
    )
    _compare(table, results, n)


def test_persons_table_matches_oracle_per_person():
    """Per-person depth, not only totals, on one fixed random log."""
    rng = np.random.default_rng(11)
    logs = [
        [
            (int(t), str(e))
            for t, e in zip(rng.integers(0, 20, 8), rng.choice(list("ABCX"), 8), strict=True)
        ]
        for _ in range(60)
    ]
    frame, by_person = _frame(logs)
    as_of = max(t for log in by_person.values() for t, _ in log)
    for order, entry in itertools.product(["ordered", "strict", "any"], ["any", "first"]):
        spec, got, _, _ = _run(
            frame, ["A", "B", "C"], "test", window="6D", person_col="person_id", ts_col="ts",
            event_col="event", order=order, entry=entry, by=None, attribution="first",
            exclude=None, max_gap=None, strict_increase=False, as_of=None, method="auto",
        )  # fmt: skip
        oracle = {"ordered": oracle_ordered, "strict": oracle_strict, "any": oracle_any}[order]
        want = {
            p: r[0]
            for p, e in by_person.items()
            if (r := oracle(e, ["A", "B", "C"], 6.0, entry=entry, as_of=as_of)) is not None
        }
        assert dict(zip(got["p"], got["depth"], strict=True)) == want, (order, entry)


def test_public_api_is_exported():
    for name in ["funnel", "funnel_trends", "time_to_convert", "plot_funnel",
                 "plot_funnel_breakdown", "plot_time_to_convert", "plot_funnel_trends"]:  # fmt: skip
        assert callable(getattr(salesmkt, name))


def test_median_durations_match_pandas():
    """The summary's medians equal pandas' Timedelta median (odd, even, empty, large values)."""
    from salesmkt.funnels.events import _median

    r = np.random.default_rng(0)
    for n in (1, 2, 3, 10, 11, 1001):
        d = r.integers(0, 10**15, n).astype("timedelta64[ns]")
        assert _median(d) == pd.Series(d).median()
    assert _median(np.array([], dtype="timedelta64[ns]")) is pd.NaT


@pytest.mark.parametrize(
    "typ", ["TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMPTZ"]
)
def test_kernel_reads_every_duckdb_timestamp_unit(typ):
    """The window edge is exact in the unit the column is stored in: q's step 2 comes one
    second after the 7-day window and does not count, p's exactly at its edge does."""
    con = ibis.duckdb.connect()
    con.raw_sql(
        "CREATE TABLE ev AS SELECT * FROM (VALUES "
        f"('p', '2025-01-01 00:00:00'::{typ}, 'A'), ('p', '2025-01-08 00:00:00'::{typ}, 'B'), "
        f"('q', '2025-01-01 00:00:00'::{typ}, 'A'), ('q', '2025-01-08 00:00:01'::{typ}, 'B')"
        ") t(person_id, ts, event)"
    )
    got = funnel(con.table("ev"), ["A", "B"], window="7D", method="kernel")
    assert persons(got) == [2, 1]
    assert got["median_time_from_first"].iloc[1] == pd.Timedelta(days=7)


def test_kernel_on_empty_events():
    e = ev([])
    assert persons(funnel(e, ["A", "B"], window="7D", method="kernel")) == [0, 0]
    assert funnel(e, ["A", "B"], window="7D", method="kernel", by="event").empty
