"""Every validation rule, with a bad input and the message a user sees."""

from __future__ import annotations

import pandas as pd
import pytest

from salesmkt.data.validate import ValidationError, check_columns, validate_table, validate_tables

TS = "2025-01-02T10:00:00Z"


def deals(**cols):
    base = {"deal_id": ["D1", "D2", "D3"], "created_at": [TS] * 3, "amount": [10.0, 20.0, 30.0]}
    base.update(cols)
    return pd.DataFrame(base)


def error_of(name, df, **kw) -> str:
    with pytest.raises(ValidationError) as info:
        validate_table(name, df, **kw)
    return str(info.value)


def test_valid_table_is_coerced_and_input_untouched():
    raw = deals(deal_id=[1, 2, 3], status=["Won", "Closed Lost", "open"])
    before = raw.copy()
    out, findings = validate_table("deals", raw)
    pd.testing.assert_frame_equal(raw, before)
    assert out["deal_id"].tolist() == ["1", "2", "3"]
    assert str(out["created_at"].dtype) == "datetime64[ns, UTC]"
    assert out["status"].tolist() == ["won", "lost", "open"]
    assert findings == []


def test_missing_required_column_names_table_and_column():
    msg = error_of("deals", deals().drop(columns="amount"))
    assert "deals.amount: required column missing" in msg
    assert "deal_id, created_at" in msg  # what the table has instead


def test_wrong_type_counts_and_shows_rows():
    msg = error_of("deals", deals(amount=["10", "ten", "$30"]))
    assert "deals.amount: 2 values not numbers, first at rows 1, 2 ('ten', '$30')" in msg


def test_unparseable_timestamp():
    msg = error_of("deals", deals(created_at=[TS, "yesterday", TS]))
    assert "deals.created_at: 1 value not timestamps, first at row 1 ('yesterday')" in msg


def test_duplicate_ids():
    msg = error_of("deals", deals(deal_id=["D1", "D1", "D3"]))
    assert "deals.deal_id: 2 rows share 1 duplicated id, first at rows 0, 1" in msg


def test_composite_key_duplicates():
    spend = pd.DataFrame(
        {"date": ["2025-01-01"] * 2, "campaign_id": ["C1", "C1"], "amount": [1.0, 2.0]}
    )
    assert "spend.date+campaign_id: 2 rows share 1 duplicated id" in error_of("spend", spend)


def test_negative_amounts():
    msg = error_of("deals", deals(amount=[10.0, -1.0, -2.5]))
    assert "deals.amount: 2 values below 0, first at rows 1, 2 (-1.0, -2.5)" in msg


def test_naive_timestamps_are_an_error_with_the_fix():
    msg = error_of("deals", deals(created_at=["2025-01-02 10:00"] * 3))
    assert "deals.created_at: 3 timestamps without a time zone" in msg
    assert "tz=" in msg


def test_naive_timestamps_localised_with_tz():
    out, _ = validate_table("deals", deals(created_at=["2025-07-02 10:00"] * 3), tz="Europe/Paris")
    assert out["created_at"].iloc[0] == pd.Timestamp("2025-07-02 08:00", tz="UTC")


def test_mixed_offsets_become_utc():
    out, _ = validate_table("deals", deals(created_at=[TS, "2025-01-02T12:00:00+02:00", TS]))
    assert out["created_at"].nunique() == 1


def test_empty_table_and_empty_file():
    assert "deals: the table has no rows" in error_of("deals", deals().iloc[0:0])
    assert "deals: the file is empty" in error_of("deals", pd.DataFrame())


def test_missing_value_in_required_column():
    msg = error_of("deals", deals(deal_id=["D1", None, "D3"]))
    assert "deals.deal_id: 1 missing value in a required column, first at row 1" in msg


def test_category_outside_vocabulary():
    msg = error_of("deals", deals(status=["won", "pending", "lost"]))
    assert "deals.status: 1 value not one of open, won, lost, first at row 1 ('pending')" in msg


def test_count_and_flag_columns():
    sessions = pd.DataFrame(
        {
            "session_id": ["S1", "S2"],
            "visitor_id": ["V1", "V1"],
            "started_at": [TS, TS],
            "pageviews": [1, 2.5],
            "bounced": ["yes", "maybe"],
        }
    )
    msg = error_of("sessions", sessions)
    assert "sessions.pageviews: 1 value not whole numbers, first at row 1 (2.5)" in msg
    assert "sessions.bounced: 1 value not true/false values, first at row 1 ('maybe')" in msg


def test_unknown_channel_is_mapped_to_other_and_reported():
    leads = pd.DataFrame(
        {"lead_id": ["L1", "L2"], "created_at": [TS, TS], "channel": ["Organic Search", "TV"]}
    )
    out, findings = validate_table("leads", leads)
    assert out["channel"].tolist() == ["organic_search", "other"]
    assert out["channel_raw"].tolist() == ["Organic Search", "TV"]
    assert [f.message().split(",")[0] for f in findings] == [
        "leads.channel: 1 value not in the channel vocabulary"
    ]


def test_stage_order_is_reported_not_dropped():
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": [TS, TS, TS],
            "mql_at": ["2025-01-03T00:00:00Z", "2025-01-01T00:00:00Z", None],
            "sql_at": [None, None, "2025-01-01T00:00:00Z"],
        }
    )
    out, findings = validate_table("leads", leads)
    assert len(out) == 3
    (f,) = findings
    assert f.severity == "warning" and f.count == 2 and f.rows == (1, 2)
    assert "lifecycle stages out of order" in f.message()
    assert "mql_at too early" in f.message() and "sql_at too early" in f.message()


def test_foreign_keys_are_reported():
    leads = pd.DataFrame({"lead_id": ["L1"], "created_at": [TS]})
    tables, findings = validate_tables({"leads": leads, "deals": deals(lead_id=["L1", "L9", None])})
    assert len(tables["deals"]) == 3
    (f,) = findings
    assert f.message().startswith(
        "deals.lead_id: 1 value not found in leads.lead_id, first at row 1"
    )


def test_all_tables_errors_collected_in_one_exception():
    leads = pd.DataFrame({"lead_id": ["L1", "L1"], "created_at": [TS, TS]})
    with pytest.raises(ValidationError) as info:
        validate_tables({"leads": leads, "deals": deals(amount=[-1.0, 1.0, 2.0])})
    assert len(info.value.findings) == 2
    assert str(info.value).startswith("2 problems in the data:")


def test_check_columns_names_caller():
    with pytest.raises(ValidationError, match=r"leads.mql_at: funnel needs this column"):
        check_columns(
            pd.DataFrame({"lead_id": []}), "leads", ["lead_id", "mql_at"], caller="funnel"
        )
