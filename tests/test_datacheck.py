"""Data-check tables on a small hand-made dataset, and their plots."""

from __future__ import annotations

import pandas as pd
import pytest

import salesmkt
from salesmkt.data.validate import validate_tables
from salesmkt.io import Dataset


@pytest.fixture
def tiny():
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "created_at": [
                "2025-01-05T00:00:00Z",
                "2025-01-20T00:00:00Z",
                "2025-03-02T00:00:00Z",
                "2025-03-03T00:00:00Z",
            ],
            "channel": ["email", "email", None, "cpc"],
            "mql_at": [None, "2025-01-21T00:00:00Z", None, None],
        }
    )
    tables, findings = validate_tables({"leads": leads})
    return Dataset(**tables)


def test_monthly_volume_fills_gaps(tiny):
    vol = salesmkt.monthly_volume(tiny)
    assert vol["rows"].tolist() == [2, 0, 2]  # February has no leads and still shows
    assert vol["month"].dt.month.tolist() == [1, 2, 3]


def test_channel_mix_keeps_missing(tiny):
    mix = salesmkt.channel_mix(tiny).set_index("channel")
    assert mix.loc["email", "rows"] == 2 and mix.loc["email", "share"] == 0.5
    assert mix.loc["(missing)", "rows"] == 1 and mix.loc["paid_search", "rows"] == 1


def test_missing_values(tiny):
    mv = salesmkt.missing_values(tiny).set_index("column")
    assert mv.loc["mql_at", "missing"] == 3 and mv.loc["mql_at", "share"] == 0.75
    assert not mv.loc["mql_at", "required"] and mv.loc["lead_id", "required"]


def test_overview_and_findings_in_words(sample):
    overview = salesmkt.table_overview(sample)
    assert overview.set_index("table").loc["leads", "warnings"] >= 1  # planted out-of-order stages
    text = salesmkt.describe_findings(sample)
    assert "lifecycle stages out of order" in text


def test_plots_return_axes(tiny):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert salesmkt.plot_channel_mix(salesmkt.channel_mix(tiny), ax=ax) is ax
    assert salesmkt.plot_missing_values(salesmkt.missing_values(tiny), ax=ax) is ax
    assert salesmkt.plot_monthly_volume(salesmkt.monthly_volume(tiny), ax=ax) is ax
