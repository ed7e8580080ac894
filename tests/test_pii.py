"""Personal data detection and the scan of rendered text."""

from __future__ import annotations

import pandas as pd

from salesmkt.data.pii import find_pii, pii_columns, pii_values, pseudonymize


def test_columns_flagged_by_name_and_content():
    df = pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "First Name": ["Ana", "Bo"],
            "contact": ["a@x.io", "b@y.io"],
            "mobile_number": ["+33 6 12 34 56 78", None],
            "notes": ["called", "no answer"],
            "amount": [1.0, 2.0],
        }
    )
    assert pii_columns(df) == ["First Name", "contact", "mobile_number"]


def test_sample_pii_columns(sample):
    assert sorted(pii_columns(sample.leads)) == ["email", "full_name", "phone"]
    assert all(pii_columns(df) == [] for n, df in sample.tables.items() if n != "leads")


def test_find_pii_in_html():
    values = {"Ana Lima", "+44 20 7946 0958", "ana.lima@example.com"}
    page = (
        "<table><tr><td>Ana</td><td>Lima</td></tr></table>"  # a name split across cells
        "<p>call 020-7946-0958? no: +44 (20) 7946 0958</p>"
        '<img src="data:image/png;base64,QW5hIExpbWE="/>'
    )
    hits = find_pii(page, values)
    assert sorted(hits["kind"]) == ["phone", "value"]
    assert find_pii("<p>Persona: Lima-based teams</p>", values).empty
    assert find_pii("mail me: someone@else.org", values)["kind"].tolist() == ["email"]


def test_pii_values_collects_distinct_values(sample):
    values = pii_values([sample.leads])
    assert sample.leads["email"].iloc[0] in values
    assert sample.leads["lead_id"].iloc[0] not in values


def test_pseudonymize_is_stable_and_salted():
    df = pd.DataFrame({"lead_id": ["L1", "L2", "L1", None]})
    a = pseudonymize(df, ["lead_id"], salt="one")
    b = pseudonymize(df, ["lead_id"], salt="two")
    assert a["lead_id"].iloc[0] == a["lead_id"].iloc[2] != b["lead_id"].iloc[0]
    assert a["lead_id"].isna().iloc[3]
    assert df["lead_id"].iloc[0] == "L1"
