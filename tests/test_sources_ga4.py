"""GA4 BigQuery export: sessions, events and touchpoints from JSON, Parquet and a DuckDB table.

The fixture tests/fixtures/exports/ga4/events_20240301.json holds 22 events of three visitors
(A, B, C) in six sessions; A and C share ga_session_id 1709284000 (GA4 session ids are per
user). Expected values below are counted by hand from its rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import salesmkt
from salesmkt.sources.ga4 import default_channel_group, ga4_tables

GA4 = Path(__file__).parent / "fixtures" / "exports" / "ga4" / "events_20240301.json"
A, B, C = "1197596843.1709280000", "2072818301.1709283000", "846120954.1709285000"

EXPECTED = pd.DataFrame(
    [
        # session, start (UTC), duration s, engagement s, page views, bounced, channel, campaign
        (
            f"{A}.1709284000",
            "2024-03-01 09:06:40",
            65.0,
            15.0,
            2,
            False,
            "paid_search",
            "spring_sale",
        ),
        (f"{C}.1709284000", "2024-03-01 09:07:10", 12.2, 12.0, 1, False, "organic_search", None),
        (f"{B}.1709286500", "2024-03-01 09:48:20", 8.4, 8.0, 1, True, "email", "march_newsletter"),
        (f"{A}.1709290000", "2024-03-01 10:46:40.2", 0.3, 0.0, 1, True, "direct", None),
        (
            f"{C}.1709295000",
            "2024-03-01 12:10:00",
            30.1,
            30.0,
            2,
            False,
            "paid_social",
            "retarget_q1",
        ),
        (f"{B}.1709300000", "2024-03-01 13:33:20", 42.3, 0.0, 2, False, "referral", None),
    ],
    columns=[
        "session_id",
        "started_at",
        "duration_s",
        "engagement_s",
        "pageviews",
        "bounced",
        "channel",
        "campaign_id",
    ],
)


@pytest.fixture(scope="module")
def tables():
    return ga4_tables(GA4)


def check_sessions(sessions: pd.DataFrame) -> None:
    got = sessions[EXPECTED.columns].reset_index(drop=True)
    exp = EXPECTED.assign(
        started_at=pd.to_datetime(EXPECTED["started_at"], utc=True, format="ISO8601")
    )
    assert got["session_id"].tolist() == exp["session_id"].tolist()
    assert (got["started_at"] == exp["started_at"]).all()
    assert got["duration_s"].round(3).tolist() == exp["duration_s"].tolist()
    assert got["engagement_s"].tolist() == exp["engagement_s"].tolist()
    assert got["pageviews"].tolist() == exp["pageviews"].tolist()
    assert got["bounced"].tolist() == exp["bounced"].tolist()
    assert got["channel"].tolist() == exp["channel"].tolist()
    assert got["campaign_id"].fillna("").tolist() == exp["campaign_id"].fillna("").tolist()


def test_sessions_from_json(tables):
    t, notes = tables
    check_sessions(t["sessions"])
    s = t["sessions"].set_index("session_id")
    assert s.loc[f"{A}.1709284000", "landing_page"] == "https://www.example.com/pricing"
    assert s.loc[f"{B}.1709300000", "landing_page"] == "https://www.example.com/integrations"
    assert s.loc[f"{A}.1709284000", "lead_id"] == "51"  # user_id on the generate_lead session
    assert s["lead_id"].notna().sum() == 1
    assert s.loc[f"{B}.1709286500", "channel_raw"] == "Email (newsletter / email)"
    assert s.loc[f"{A}.1709290000", "channel_raw"] == "Direct ((direct) / (none))"


def test_events_and_orphans(tables):
    t, notes = tables
    ev = t["events"]
    assert len(ev) == 22
    assert ev["event"].value_counts()["page_view"] == 9
    assert ev["ts"].is_monotonic_increasing
    # A's user_id (set on one event) names all of A's events
    assert set(ev.loc[ev["visitor_id"] == A, "person_id"]) == {"51"}
    assert [n.count for n in notes] == [1]  # the offline_conversion without ga_session_id


def test_touchpoints(tables):
    tp = tables[0]["touchpoints"]
    assert len(tp) == 6
    assert tp.groupby("person_id").size().to_dict() == {"51": 2, B: 2, C: 2}


def test_validates_through_load(tmp_path):
    ds = salesmkt.load(GA4, source="ga4")
    assert sorted(ds.tables) == ["events", "sessions", "touchpoints"]
    assert str(ds.sessions["started_at"].dtype) == "datetime64[ns, UTC]"
    assert ds.sessions["pageviews"].sum() == 9


def _typed_rows() -> list[dict]:
    """The fixture rows with INT64 values as integers, as BigQuery writes them to Parquet."""
    rows = [json.loads(line) for line in GA4.read_text().splitlines()]
    for r in rows:
        for key in ("collected_traffic_source", "session_traffic_source_last_click"):
            r.setdefault(key, None)  # pyarrow takes the columns from the first row
        r["event_timestamp"] = int(r["event_timestamp"])
        for p in r["event_params"]:
            v = p["value"]
            p["value"] = {
                "string_value": v.get("string_value"),
                "int_value": int(v["int_value"]) if "int_value" in v else None,
            }
    return rows


def test_parquet_gives_the_same_sessions(tmp_path):
    path = tmp_path / "events_20240301.parquet"
    pq.write_table(pa.Table.from_pylist(_typed_rows()), path)
    t, _ = ga4_tables(path)
    check_sessions(t["sessions"])


def test_ibis_table_from_a_duckdb_warehouse(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    con = ibis.duckdb.connect(str(db))
    con.create_table("events_20240301", pa.Table.from_pylist(_typed_rows()))
    con.disconnect()
    con = ibis.duckdb.connect(str(db), read_only=True)
    t, _ = ga4_tables(con.table("events_20240301"))
    check_sessions(t["sessions"])
    assert len(t["events"]) == 22


@pytest.mark.parametrize(
    ("source", "medium", "campaign", "group"),
    [
        ("(direct)", "(none)", None, "Direct"),
        ("google", "cpc", "cross-network-q1", "Cross-network"),
        ("amazon.com", "cpc", None, "Paid Shopping"),
        ("google", "cpc", None, "Paid Search"),
        ("l.facebook.com", "paid_social", None, "Paid Social"),
        ("youtube", "cpv", None, "Paid Video"),
        ("dsp", "banner", None, "Display"),
        ("partnerads", "ppc", None, "Paid Other"),
        ("shop.example", "referral", "summer-shop", "Organic Shopping"),
        ("linkedin.com", "referral", None, "Organic Social"),
        ("vimeo", "referral", None, "Organic Video"),
        ("bing", "referral", None, "Organic Search"),
        ("newsletter", "organic", None, "Organic Search"),
        ("partner.example.org", "referral", None, "Referral"),
        ("newsletter", "email", None, "Email"),
        ("network", "affiliate", None, "Affiliates"),
        ("podcast", "audio", None, "Audio"),
        ("sms", "sms", None, "SMS"),
        ("app", "web_push", None, "Mobile Push Notifications"),
        ("somewhere", "carrier-pigeon", None, "Unassigned"),
    ],
)
def test_default_channel_group_rules(source, medium, campaign, group):
    got = default_channel_group(pd.Series([source]), pd.Series([medium]), pd.Series([campaign]))
    assert got.iloc[0] == group


def test_missing_columns_name_the_file(tmp_path):
    path = tmp_path / "events_20240302.json"
    path.write_text('{"event_name": "page_view", "event_params": [], "user_pseudo_id": "x"}\n')
    with pytest.raises(ValueError, match="events_20240302.json.*event_timestamp"):
        ga4_tables(path)


def test_bad_timestamps_are_reported(tmp_path):
    path = tmp_path / "events_20240303.json"
    row = {
        "event_timestamp": "yesterday",
        "event_name": "page_view",
        "user_pseudo_id": "x",
        "event_params": [{"key": "ga_session_id", "value": {"int_value": "1"}}],
    }
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match="event_timestamp.*yesterday"):
        ga4_tables(path)
