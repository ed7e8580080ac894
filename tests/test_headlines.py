"""Headlines, findings and decisions: the right sentence for small hand-made results, and the
check-in headline agreeing with its scorecard on the sample company."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.campaigns.headlines import campaign_decisions, campaign_headline
from salesmkt.data.check import check_decisions, check_headline, volume_finding
from salesmkt.data.dataset import Dataset
from salesmkt.funnels.headlines import funnel_finding
from salesmkt.kpis.headlines import (
    checkin_decisions,
    checkin_headline,
    scorecard_changes,
    sla_finding,
)
from salesmkt.personas.headlines import persona_decisions


def _scorecard(rows):
    cols = ["kpi", "name", "owner", "unit", "direction", "value", "previous", "target", "status"]
    sc = pd.DataFrame(rows, columns=cols).assign(period="2026-06")
    return sc.assign(gap_share=(sc["value"] - sc["target"]) / sc["target"].abs())


SC = _scorecard(
    [
        ["cac", "CAC", "marketing", "currency", "lower", 500.0, 370.0, 400.0, "off track"],
        ["win_rate", "Win rate", "sales", "share", "higher", 0.45, 0.50, 0.25, "on track"],
        ["cpl", "Cost per lead", "shared", "currency", "lower", 50.0, 40.0, None, "no target"],
        ["sla", "SLA compliance", "shared", "share", "higher", 0.85, 0.86, 0.9, "at risk"],
    ]
)
SLA = pd.DataFrame(
    {
        "period": ["2026-05", "2026-06", "2026-06", "2026-06", "2026-06"],
        "term": ["mql_delivery", "mql_delivery", "response_time", "response_time", "response_time"],
        "owner_id": ["(team)", "(team)", "(team)", "O01", "O07"],
        "actual": [120.0, 100.0, 0.85, 0.95, 0.41],
        "commitment": [150.0, 150.0, 0.9, 0.9, 0.9],
        "met": [False, False, False, True, False],
        "breaches": [None, None, 16.0, 1.0, 10.0],
    }
)


def test_checkin_headline_states_counts_gap_and_decision_in_three_sentences():
    text = checkin_headline(SC, SLA)
    # 1 on track, 1 at risk, 1 off track of 3 with a target; CAC 25 % above its target
    assert text.startswith("**June 2026: 1 of 3 KPIs on track, 1 at risk, 1 off track.**")
    assert "Off track: CAC $500 against $400 (25 % worse)." in text
    assert "1 KPI has no target yet." in text
    assert "**To decide:** Agree one action on CAC (owner: marketing)" in text
    # one paragraph, no list: what got worse and the SLA are the sections' findings
    assert "\n" not in text and "got worse" not in text and "SLA:" not in text


def test_scorecard_changes_add_what_the_headline_leaves_out():
    text = scorecard_changes(SC)
    # SLA compliance is at risk: 85 % against 90 %, 5.6 % short (0.05 / 0.9)
    assert (
        "Within the tolerance but short of the target: SLA compliance 85.0 % against 90.0 % (6 % worse"
        in text
    )
    # the largest relative move: CAC 370 -> 500 (+35 %), ahead of cost per lead 40 -> 50 (+25 %)
    assert "Biggest move since the previous period: CAC $370 → $500 (up 35 %)." in text
    # win rate is on track but fell from 50 % to 45 %
    assert "1 of the 1 KPIs on track got worse" in text and "Win rate (50.0 % → 45.0 %)" in text
    assert "Without a target (not judged): Cost per lead." in text
    # nothing of the headline is repeated: no counts, no off-track listing
    assert "KPIs on track," not in text and "Off track" not in text


def test_sla_finding_names_the_lowest_owner_and_the_missed_mql_run():
    text = sla_finding(SLA)
    assert "sales answered 85 % of MQLs in time against 90 % (lowest: O07, 41 %)" in text
    assert "marketing delivered 100 MQLs against 150 (missed 2 periods in a row)" in text


def test_checkin_decisions_name_the_owner_and_the_mql_gap():
    lines = checkin_decisions(SC, SLA).splitlines()
    assert 2 <= len(lines) <= 4
    assert lines[1] == (
        "- Discuss the SLA with owner O07: 41 % answered in time against 90 % "
        "(10 MQLs answered late or not at all)."
    )
    assert (
        lines[2]
        == "- Marketing to close the MQL gap: 100 delivered against 150, missed 2 periods in a row."
    )
    # win rate beats its target by 80 %: a target that does not steer
    assert lines[3].startswith("- Raise the target of Win rate: 45.0 % against 25.0 % (80 % better")


def test_sla_finding_is_empty_without_sla():
    assert sla_finding(None) == ""


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["on track", "at risk", "off track", "no target"]), min_size=1))
def test_headline_counts_are_the_scorecard_counts(statuses):
    n = len(statuses)
    sc = _scorecard(
        [
            [f"k{i}", f"KPI {i}", "sales", "share", "higher", 0.5, 0.4, 0.3, s]
            for i, s in enumerate(statuses)
        ]
    )
    first = checkin_headline(sc).splitlines()[0]
    on, judged, risk, off = map(
        int, re.search(r"(\d+) of (\d+) KPIs on track, (\d+) at risk, (\d+) off", first).groups()
    )
    assert (on, risk, off) == tuple(statuses.count(s) for s in ("on track", "at risk", "off track"))
    assert judged == n - statuses.count("no target")


def test_checkin_headline_agrees_with_the_sample_scorecard():
    ds = salesmkt.load_sample()
    config = salesmkt.load_kpi_config(None)
    period = salesmkt.report_period(ds, freq=config["freq"])
    table = salesmkt.kpi_table(
        ds,
        kpis=config["kpis"],
        freq=config["freq"],
        settings=salesmkt.kpi_settings(config),
        end=period["end"],
        unavailable="skip",
    )
    sc = salesmkt.scorecard(table, config, period=period["label"])
    first = checkin_headline(sc).splitlines()[0]
    counts = sc["status"].value_counts()
    expected = (
        f"{counts.get('on track', 0)} of {sum(counts.get(s, 0) for s in ('on track', 'at risk', 'off track'))} "
        f"KPIs on track, {counts.get('at risk', 0)} at risk, {counts.get('off track', 0)} off track"
    )
    assert expected in first
    for name in sc.loc[sc["status"] == "off track", "name"]:
        assert name in first


def test_funnel_finding_names_the_biggest_relative_drop():
    f = pd.DataFrame(
        {
            "stage": ["lead", "mql", "sql", "customer"],
            "step": [1, 2, 3, 4],
            "entered": [1000, 500, 400, 100],
        }
    )
    # drops: 50 %, 20 %, 75 %: the last step loses the largest share
    assert funnel_finding(f) == (
        "Of 1,000 leads, 10.0 % became customers. The biggest drop is from SQL to Customer: "
        "75 % of the 400 leads that reached SQL went no further (300 leads)."
    )


CHANNELS = pd.DataFrame(
    {
        "channel": ["(unsourced)", "email", "paid_social", "events", "referral"],
        "spend": [None, 2_000.0, 20_000.0, 18_000.0, None],
        "customers": [0, 10, 10, 20, 30],
        "revenue": [50_000.0, 100_000.0, 40_000.0, 200_000.0, 300_000.0],
        "cpl": [None, 20.0, 100.0, 300.0, None],
    }
).assign(cac=lambda d: d["spend"] / d["customers"], roas=lambda d: d["revenue"] / d["spend"])


def test_campaign_decisions_move_budget_from_the_dearest_paid_channel():
    lines = campaign_decisions(CHANNELS).splitlines()
    # paid: 40,000 spend, 40 customers, average CAC 1,000; paid_social 2,000 = 2.0x; email 200
    assert lines[0] == (
        "- Move budget from Paid social (CAC $2,000, 2.0× the paid average of $1,000) to Email "
        "(CAC $200, 50.0× the spend in revenue)."
    )
    # referral: 30 of 70 sourced customers at unknown cost
    assert lines[1] == (
        "- Record the cost of Referral: 30 new customers (43 % of all) come from channels whose "
        "cost is unknown."
    )


def test_campaign_headline_reports_paid_return_best_worst_and_holdout():
    holdout = pd.DataFrame(
        {
            "campaign_id": ["C12"],
            "campaign_name": ["Nurture"],
            "verdict": ["Real lift. More."],
            "absolute_lift": [0.04],
            "rate_treatment": [0.09],
            "rate_control": [0.05],
            "incremental_conversions": [37.0],
            "n_treatment": [900],
            "n_needed_per_arm": [600.0],
        }
    )
    text = campaign_headline(CHANNELS, holdout)
    # no margin: 340,000 revenue on 40,000 spend, said to overstate the return
    assert text.startswith("**Paid channels returned 8.5× their spend in revenue** (sourced:")
    assert "no gross margin is set in kpis.yml, so this overstates the return" in text
    assert (
        "Best return: Email (50.0× the spend, CAC $200); weakest: Paid social (2.0×, CAC $2,000)."
        in text
    )
    assert (
        "Holdout test of *Nurture*: real lift, +4.0 points (9.0 % with the campaign against 5.0 % without)."
        in text
    )
    assert (
        "Roll out *Nurture* to every eligible lead: it added about 37 conversions among 900"
        in campaign_decisions(CHANNELS, holdout)
    )


def test_persona_decisions_target_the_best_win_rate_and_its_channel():
    s = pd.DataFrame(
        {
            "persona": [0, 1, 2],
            "leads": [200, 300, 500],
            "share": [0.2, 0.3, 0.5],
            "customers": [40, 15, 5],
            "conversion_rate": [0.2, 0.05, 0.01],
            "deals_won": [40, 15, 5],
            "deals_lost": [60, 35, 45],
            "win_rate": [0.4, 0.3, 0.1],
            "revenue": [500_000.0, 300_000.0, 200_000.0],
        }
    )
    ch = pd.DataFrame(
        {
            "persona": [0, 0],
            "channel": ["events", "email"],
            "leads": [120, 80],
            "share": [0.6, 0.4],
            "lift": [2.5, 0.8],
        }
    )
    lines = persona_decisions(
        s, names={0: "IT lead", 1: "Buyer", 2: "Student"}, channels=ch
    ).splitlines()
    # win rate overall: 60 won of 200 closed = 30 %
    assert lines[0] == (
        "- Target persona *IT lead*: highest win rate 40 % (all personas: 30 %) and 50 % of the "
        "revenue from 20 % of the leads; reach it through Events (2.5× as common as among all leads)."
    )
    # conversion overall: 60 of 1,000 = 6.0 %
    assert lines[1] == (
        "- Give *Student* its own nurture track or qualify it out earlier: 1.0 % of its leads "
        "become customers against 6.0 % overall."
    )
    assert len(lines) == 2  # every persona is named


def _leads(n, start="2026-01-01"):
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": pd.date_range(start, periods=n, freq="D", tz="UTC"),
            "channel": ["email"] * (n - 1) + ["other"],
        }
    )


def test_check_headline_flags_a_stale_table_and_decides_to_reexport():
    leads = _leads(120)
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "amount": [100.0, 200.0],
            "created_at": pd.to_datetime(["2026-01-05", "2026-02-01"], utc=True),
        }
    )
    ds = Dataset(leads=leads, deals=deals)
    text = check_headline(ds)
    # leads run to 2026-04-30, deals end on 2026-02-01: 88 days earlier
    assert text.startswith("**The data meets the contract, but check the exports first.**")
    assert "*deals* ends on 2026-02-01, 88 days before the others" in text
    assert (
        check_decisions(ds).splitlines()[0]
        == "- Re-export *deals*: it ends 88 days before the other tables."
    )


def test_volume_finding_without_gaps():
    v = pd.DataFrame(
        {
            "table": ["leads"] * 2,
            "rows": [3, 4],
            "month": pd.to_datetime(["2026-01-01", "2026-02-01"]),
        }
    )
    assert volume_finding(v).startswith("Every table has rows in every month")


def test_a_holdout_campaign_without_a_name_is_called_by_its_id():
    """CRM exports often leave the campaign name empty (pandas NA): the id stands in."""
    holdout = pd.DataFrame(
        {
            "campaign_id": ["C7"],
            "campaign_name": pd.array([pd.NA], dtype="string"),
            "verdict": ["Real lift. More."],
            "absolute_lift": [0.04],
            "rate_treatment": [0.09],
            "rate_control": [0.05],
            "incremental_conversions": [37.0],
            "n_treatment": [900],
            "n_needed_per_arm": [600.0],
        }
    )
    assert "Holdout test of *C7*: real lift" in campaign_headline(CHANNELS, holdout)
    assert "Roll out *C7* to every eligible lead" in campaign_decisions(CHANNELS, holdout)


def test_campaign_headline_leads_with_the_return_on_margin_and_the_attributed_one():
    # an 80 % margin: email 100,000 x 0.8 / 2,000 = 40.0, events 200,000 x 0.8 / 18,000 = 8.9,
    # paid_social 40,000 x 0.8 / 20,000 = 1.6; all paid: 340,000 x 0.8 / 40,000 = 6.8
    ch = CHANNELS.assign(
        roas_on_margin=CHANNELS["roas"] * 0.8,
        variant="margin",
        attributed_revenue=[None, 60_000.0, 80_000.0, 160_000.0, None],
    )
    ch.attrs["attribution_model"] = "linear"
    text = campaign_headline(ch, currency="EUR")
    assert text.startswith("**Paid channels returned 6.8× their spend in gross margin** (sourced: ")
    assert "€272,000 gross profit, 80 % of the €340,000 won" in text
    # attributed: (60,000 + 80,000 + 160,000) x 0.8 / 40,000 = 6.0
    assert "; attributed (linear model): 6.0×)." in text
    assert "Best return: Email (40.0× the spend, CAC €200); weakest: Paid social (1.6×" in text
    assert "40.0× the spend in gross margin" in campaign_decisions(ch, currency="EUR")


def test_small_counts_carry_their_interval_in_the_headline_and_the_scorecard():
    from salesmkt.kpis.compute import wilson_interval

    # 12 wins of 40 decided deals: 30 %, Wilson 95 % interval worked out independently below
    lo, hi = (float(x[0]) for x in wilson_interval([12], [40]))
    sc = SC.copy()
    sc.loc[sc["kpi"] == "win_rate", ["value", "target", "status"]] = [0.30, 0.33, "off track"]
    sc["gap_share"] = (sc["value"] - sc["target"]) / sc["target"].abs()
    sc["denominator"] = [None, 40, None, None]
    sc["ci_low"] = [None, lo, None, None]
    sc["ci_high"] = [None, hi, None, None]
    interval = f"{lo * 100:.0f}–{hi * 100:.0f} %"
    assert f"Win rate 30.0 % ({interval}) against 33.0 %" in checkin_headline(sc)
    # the target (33 %) lies inside the interval: said to be possibly chance
    text = scorecard_changes(sc)
    assert f"Win rate 30.0 % of 40 (95 % interval {interval}) against 33.0 %" in text
    assert "may still be chance" in text


def test_the_cost_basis_is_stated_and_called_assumed_when_defaulted():
    sc = SC.copy()
    sc.attrs["cost_basis"] = salesmkt.cost_basis(salesmkt.load_kpi_config(None), ["cac"])
    assert "assumed: kpis.yml sets no other costs" in scorecard_changes(sc)
    shipped = salesmkt.load_kpi_config(salesmkt.sample_dir())
    assert salesmkt.cost_basis(shipped, ["cac", "roas"]) == (
        "Costs are fully loaded: media spend plus the other sales and marketing costs of "
        f"kpis.yml (people, tools, agencies); returns use the "
        f"{shipped['settings']['gross_margin']:.0%} gross margin of kpis.yml.".replace("%", " %")
    )


def test_without_spend_the_campaign_headline_is_who_converts():
    rates = pd.DataFrame(
        {
            "breakdown": ["contact"] * 2,
            "group": ["cellular", "telephone"],
            "leads": [2_896, 301],
            "rate": [0.144, 0.146],
            "rate_low": [0.132, 0.11],
            "rate_high": [0.157, 0.19],
        }
    )
    text = campaign_headline(None, rates=rates, missing="This section needs the deals table.")
    # telephone converts best (14.6 %), cellular worst (14.4 %); the intervals overlap
    assert text.startswith("**By contact, Telephone converts best (15 % of 301 leads")
    assert "overlap, so the gap may be chance.**" in text
    assert text.endswith("\n- This section needs the deals table.")


def test_a_holdout_without_data_is_left_out_of_the_campaign_headline():
    holdout = pd.DataFrame(
        {"campaign_id": [None], "campaign_name": [None], "verdict": ["No holdout in the data."],
         "absolute_lift": [float("nan")], "rate_treatment": [float("nan")],
         "rate_control": [float("nan")]}
    )  # fmt: skip
    text = campaign_headline(CHANNELS, holdout)
    assert "nan" not in text and "Holdout" not in text
