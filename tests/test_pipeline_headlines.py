"""The pipeline report's sentences and tables (salesmkt.forecast.headlines,
salesmkt.scoring.headlines) on hand-made results, and the one forecast both reports show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesmkt
from salesmkt.forecast.headlines import (
    checkin_forecast_line,
    forecast_at_risk,
    forecast_sentence,
    open_deals_summary,
    pipeline_decisions,
    pipeline_headline,
    report_forecast,
)
from salesmkt.scoring.headlines import (
    group_summary,
    quality_finding,
    threshold_moves,
    tier_finding,
    tier_summary,
    top_leads,
)


def _summary(**total) -> pd.DataFrame:
    row = {
        "dimension": "total",
        "item": "total",
        "booked": 100_000.0,
        "p10": 900_000.0,
        "p50": 1_200_000.0,
        "p90": 1_500_000.0,
        "target": 1_400_000.0,
        "p_reach_target": 0.3,
        "open_pipeline": 2_600_000.0,
    }
    row.update(total)
    row["gap"] = row["target"] - row["booked"]
    row["coverage"] = row["open_pipeline"] / row["gap"] if row["gap"] > 0 else np.nan
    return pd.DataFrame([row])


def test_forecast_sentence_states_the_answer_first():
    text = forecast_sentence(_summary(), period="Q3 2026")
    assert text.startswith("**Q3 2026 is at risk:**")
    # P50, target, chance, band and coverage of the 1.3M gap (2.6M / 1.3M = 2.0x)
    for part in ("P50 $1.20M", "$1.40M quarter target", "30 % chance", "P10 $900k", "2.0x"):
        assert part in text
    assert "$1.30M still to book" in text
    assert forecast_sentence(_summary(p_reach_target=0.7), period="Q3").startswith(
        "**Q3 is on track:**"
    )
    assert "already booked" in forecast_sentence(_summary(booked=1.5e6), period="Q3")
    assert "no target" in forecast_sentence(_summary(target=np.nan), period="Q3")


def test_forecast_sentence_uses_the_currency():
    assert "P50 €1.20M" in forecast_sentence(_summary(), period="Q3", currency="EUR")


def test_check_in_line_only_when_the_quarter_is_at_risk():
    assert forecast_at_risk(_summary())
    line = checkin_forecast_line(_summary(), period="Q3 2026")
    assert "Q3 2026 at risk" in line and "$1.20M" in line and "30 %" in line
    assert checkin_forecast_line(_summary(p_reach_target=0.5), period="Q3 2026") == ""
    assert checkin_forecast_line(_summary(target=np.nan), period="Q3 2026") == ""


def test_pipeline_headline_adds_the_threshold():
    threshold = pd.DataFrame(
        [
            {
                "threshold": 0.045,
                "period": "M",
                "mqls_per_period": 141.6,
                "capacity": 150.0,
                "expected_share_captured": 0.7049,
            }
        ]
    )
    text = pipeline_headline(_summary(), threshold, period="Q3 2026")
    first, second = text.split("\n\n")
    assert first == forecast_sentence(_summary(), period="Q3 2026")
    assert "4.5 % or more" in second and "about 142 MQLs a month" in second
    assert "capacity of 150;" in second and "70 %" in second
    assert pipeline_headline(_summary(), None, period="Q3") == forecast_sentence(
        _summary(), period="Q3"
    )


def test_decisions_name_the_owners_least_likely_to_make_quota():
    owners = pd.DataFrame(
        {
            "dimension": "owner_id",
            "item": ["O1", "O2", "O3"],
            "target": [1e5, 1e5, np.nan],
            "p_reach_target": [0.1, 0.9, np.nan],
        }
    )
    text = pipeline_decisions(pd.concat([_summary(), owners]), None, period="Q3")
    assert "$200k short" in text  # 1.4M target - 1.2M P50
    assert "O1 (10 %)" in text and "O2" not in text and "O3" not in text


def test_tiers_in_words_and_numbers():
    scores = pd.DataFrame(
        {"tier": ["A", "B", "B", "C"], "probability": [0.4, 0.2, 0.1, 0.1]},
    )
    scores.attrs["tier_rule"] = "by rank"
    t = tier_summary(scores)
    assert t["Open leads"].tolist() == ["1", "2", "1"]
    assert t["Share of expected customers"].tolist() == ["50 %", "38 %", "12 %"]
    text = tier_finding(scores)
    assert text.startswith("**Call the 1 tier-A lead first:**")
    assert "25 % of the 4 open leads" in text and "50 % of the 0.8 customers" in text
    assert text.endswith("Tiers by rank.")


def test_top_leads_show_no_personal_data():
    scores = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "probability": [0.1, 0.3, 0.2],
            "tier": ["C", "A", "B"],
            "reason_1": ["a (+)", "b (+)", "c (−)"],
            "email": ["x@y.z"] * 3,
            "name": ["Ann", "Bob", "Cy"],
        }
    )
    top = top_leads(scores, 2)
    assert top.columns.tolist() == ["Lead", "Tier", "Probability", "Reason 1"]
    assert top["Lead"].tolist() == ["L2", "L3"]
    assert top["Probability"].tolist() == ["30.0 %", "20.0 %"]


def test_quality_finding_says_when_the_score_does_not_beat_its_baselines():
    q = pd.DataFrame(
        {
            "model": ["boosting", "logistic", "base_rate"],
            "fold": ["(pooled)"] * 3,
            "n": [500] * 3,
            "roc_auc": [0.6, 0.7, 0.5],
            "brier": [0.09, 0.08, 0.1],
            "brier_skill": [0.1, 0.2, 0.0],
        }
    )
    assert "does not beat its baselines" in quality_finding(q)
    # 1 - 0.09 / brier_base = 0.1 -> the base rate's Brier score is 0.1
    assert "Brier score 0.090 against 0.100" in quality_finding(q)


def test_threshold_moves_are_the_grid_steps_around_the_agreed_one():
    t = pd.DataFrame(
        {
            "threshold": [0.0, 0.005, 0.01, 0.015, 0.02],
            "mqls_per_period": [300, 180, 140, 90, 60],
            "capacity_use": [2.0, 1.2, 0.93, 0.6, 0.4],
            "expected_share_captured": [1.0, 0.9, 0.8, 0.7, 0.6],
            "expected_precision": [0.01, 0.02, 0.03, 0.04, 0.05],
        }
    )
    moves = threshold_moves(t, pd.DataFrame({"threshold": [0.01]}))
    assert moves["Threshold"].tolist() == [
        "Lower: 0.5 %",
        "Agreed: 1 %",
        "Higher: 1.5 %",
        "Higher: 2 %",
    ]
    assert moves["MQLs a month"].tolist() == ["180", "140", "90", "60"]


def test_group_summary_and_open_deals_in_plain_words():
    g = group_summary(
        pd.DataFrame(
            {
                "persona": ["A"],
                "leads": [1000],
                "conversions": [10],
                "mean_score": [0.012],
                "observed_rate": [0.01],
                "ci_low": [0.005],
                "ci_high": [0.018],
                "gap": [0.002],
            }
        )
    )
    assert g.iloc[0].tolist() == [
        "A",
        "1,000",
        "10",
        "1.2 %",
        "1.0 %",
        "0.5 % to 1.8 %",
        "+0.2 points",
    ]
    deals = pd.DataFrame(
        {
            "amount": [1000.0, 3000.0],
            "stage": ["Demo", "Demo"],
            "age_days": [200, 5],
            "p_win_in_period": [0.5, 0.1],
            "p_win_eventually": [0.6, 0.3],
        }
    )
    by_age = open_deals_summary(deals, by="age", currency="EUR")
    assert by_age["Age"].tolist() == ["Under 30 days", "180 days or more"]
    assert by_age["Expected in the period"].tolist() == ["€300", "€500"]
    with pytest.raises(ValueError, match="by must be"):
        open_deals_summary(deals, by="owner")


@pytest.mark.slow
def test_report_forecast_is_one_forecast_with_the_quarters_quota(sample):
    period = salesmkt.report_period(sample, None, None)
    a = report_forecast(sample, {"currency": "USD"}, period)
    b = report_forecast(sample, {"currency": "USD"}, period)
    np.testing.assert_array_equal(a.draws, b.draws)  # the check-in and report 06 agree
    assert a.as_of == period["end"]
    start = (
        pd.Timestamp(period["end"]).tz_localize(None).to_period("Q").start_time.tz_localize("UTC")
    )
    assert a.start == start
    q = sample.quotas.assign(start=pd.to_datetime(sample.quotas["period_start"], utc=True))
    in_quarter = q[(q["start"] >= a.start) & (q["start"] < a.end)]
    if in_quarter.empty:  # carried forward from the latest quarter with quotas
        last = q["start"].max().tz_localize(None).to_period("Q").start_time.tz_localize("UTC")
        latest = q[q["start"] >= last]
        months = latest["start"].dt.strftime("%Y-%m").nunique()
        expected = latest["quota"].sum() * 3 / months
        assert "carried forward" in salesmkt.forecast_note(a)
    else:
        expected = in_quarter["quota"].sum()
    assert a.row()["target"] == pytest.approx(expected)


def test_threshold_moves_shows_an_agreed_threshold_off_the_grid_as_its_own_row():
    cols = ["mqls_per_period", "capacity_use", "expected_share_captured", "expected_precision"]
    grid = pd.DataFrame(
        {"threshold": [0.02, 0.04, 0.06], **{c: [200.0, 150.0, 90.0] for c in cols}}
    )
    # the agreed threshold (0.05) is an actual lead score between two grid points
    agreed = pd.DataFrame({"threshold": [0.05], **{c: [120.0] for c in cols}})
    moves = threshold_moves(grid, agreed)
    assert moves["Threshold"].tolist() == ["Lower: 4 %", "Agreed: 5 %", "Higher: 6 %"]
    assert moves["MQLs a month"].tolist() == ["150", "120", "90"]
