"""The KPI catalog against the worked example of reference/kpis.md section 9 (February 2025,
as_of 2025-03-01), every value of its table worked out by hand there, plus edge cases and a
property test that ratios never become infinite."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesmkt
from salesmkt.data.validate import ValidationError, validate_tables
from salesmkt.io import Dataset

AS_OF = "2025-03-01T00:00Z"
SETTINGS = {
    "gross_margin": 0.8,
    "sla_response_hours": 4,
    "channel_groups": {"paid": ["paid_search", "display"], "organic": ["organic_search"]},
}


def _ts(v):
    if not isinstance(v, str):
        return None
    return f"2025-{v}:00Z".replace(" ", "T")


def worked_example() -> Dataset:
    lead_cols = [
        "lead_id",
        "created_at",
        "channel",
        "campaign_id",
        "account_id",
        "owner_id",
        "mql_at",
        "sql_at",
        "opportunity_at",
        "customer_at",
        "disqualified_at",
        "first_response_at",
    ]
    n = None
    leads = [
        (
            "L1",
            "01-10 09:00",
            "paid_search",
            "C1",
            "A1",
            "O1",
            "01-12 09:00",
            "01-13 09:00",
            "01-15 09:00",
            "02-14 12:00",
            n,
            "01-12 10:00",
        ),
        (
            "L2",
            "01-25 14:00",
            "organic_search",
            n,
            "A2",
            "O2",
            "01-26 14:00",
            "01-28 14:00",
            "01-30 14:00",
            n,
            n,
            "01-26 20:00",
        ),
        (
            "L3",
            "02-03 08:00",
            "organic_search",
            n,
            "A3",
            "O2",
            "02-03 09:00",
            "02-04 09:00",
            "02-05 09:00",
            "02-20 09:00",
            n,
            "02-03 10:00",
        ),
        (
            "L4",
            "02-10 10:00",
            "display",
            "C2",
            "A4",
            "O2",
            "02-11 10:00",
            n,
            n,
            n,
            "02-15 10:00",
            "02-11 16:00",
        ),
        (
            "L5",
            "02-15 12:00",
            "paid_search",
            "C1",
            "A5",
            "O1",
            "02-16 12:00",
            "02-17 12:00",
            "02-18 12:00",
            n,
            n,
            "02-16 11:00",
        ),
        ("L6", "02-20 09:00", "email", n, "A6", "O1", "02-21 09:00", n, n, n, n, n),
        ("L7", "02-25 15:00", "organic_social", n, "A7", "O2", n, n, n, n, n, n),
    ]
    leads = pd.DataFrame(leads, columns=lead_cols)
    for c in lead_cols[1:2] + lead_cols[6:]:
        leads[c] = leads[c].map(_ts)
    deal_cols = [
        "deal_id",
        "created_at",
        "amount",
        "lead_id",
        "account_id",
        "owner_id",
        "closed_at",
        "status",
        "deal_type",
        "product",
    ]
    deals = pd.DataFrame(
        [
            (
                "D1",
                "01-15 09:00",
                10000,
                "L1",
                "A1",
                "O1",
                "02-14 12:00",
                "won",
                "new_business",
                "Core",
            ),
            (
                "D2",
                "01-30 14:00",
                8000,
                "L2",
                "A2",
                "O2",
                "02-12 14:00",
                "lost",
                "new_business",
                "Core",
            ),
            (
                "D3",
                "02-05 09:00",
                6000,
                "L3",
                "A3",
                "O2",
                "02-20 09:00",
                "won",
                "new_business",
                "Core",
            ),
            ("D4", "02-03 10:00", 4000, n, "A0", "O1", "02-25 10:00", "won", "expansion", "Addon"),
            ("D5", "02-18 12:00", 12000, "L5", "A5", "O1", n, "open", "new_business", "Core"),
        ],
        columns=deal_cols,
    )
    for c in ("created_at", "closed_at"):
        deals[c] = deals[c].map(_ts)
    ses_cols = [
        "session_id",
        "visitor_id",
        "started_at",
        "duration_s",
        "pageviews",
        "bounced",
        "channel",
        "campaign_id",
        "lead_id",
    ]
    sessions = pd.DataFrame(
        [
            ("S1", "V1", "01-10 08:50", 300, 4, False, "paid_search", "C1", "L1"),
            ("S2", "V2", "01-25 13:40", 5, 1, True, "organic_search", n, n),
            ("S3", "V3", "02-03 07:50", 420, 5, False, "organic_search", n, "L3"),
            ("S4", "V4", "02-04 10:00", 8, 1, True, "organic_search", n, n),
            ("S5", "V5", "02-08 11:00", 45, 1, True, "paid_search", "C1", n),
            ("S6", "V6", "02-10 09:55", 200, 3, False, "display", "C2", "L4"),
            ("S7", "V7", "02-12 15:00", n, 1, True, "display", "C2", n),
            ("S8", "V5", "02-14 16:00", 5, 1, True, "direct", n, n),
            ("S9", "V8", "02-15 11:50", 600, 6, False, "paid_search", "C1", "L5"),
            ("S10", "V9", "02-20 08:30", 12, 1, False, "email", n, "L6"),
        ],
        columns=ses_cols,
    )
    sessions["started_at"] = sessions["started_at"].map(_ts)
    spend = pd.DataFrame(
        [
            ("2025-01-15", "C1", "paid_search", 1000),
            ("2025-02-10", "C1", "paid_search", 600),
            ("2025-02-20", "C1", "paid_search", 600),
            ("2025-01-20", "C2", "display", 500),
            ("2025-02-05", "C2", "display", 300),
            ("2025-02-25", "C2", "display", 0),
        ],
        columns=["date", "campaign_id", "channel", "amount"],
    )
    orders = pd.DataFrame(
        [
            ("R1", "A0", "2024-12-05", 3000, "Core"),
            ("R2", "A0", "2025-01-05", 3000, "Core"),
            ("R3", "A9", "2025-01-18", 2000, "Core"),
            ("R4", "A0", "2025-02-05", 3000, "Core"),
            ("R5", "A1", "2025-02-14", 10000, "Core"),
            ("R6", "A3", "2025-02-20", 6000, "Core"),
            ("R7", "A0", "2025-02-25", 4000, "Addon"),
        ],
        columns=["order_id", "customer_id", "ordered_at", "revenue", "product"],
    )
    orders["ordered_at"] = orders["ordered_at"] + "T00:00:00Z"
    quotas = pd.DataFrame(
        {"owner_id": ["O1", "O2"], "period_start": ["2025-02-01"] * 2, "quota": [15000, 10000]}
    )
    campaigns = pd.DataFrame({"campaign_id": ["C1", "C2"], "channel": ["paid_search", "display"]})
    tables, _ = validate_tables(
        {
            "leads": leads,
            "deals": deals,
            "sessions": sessions,
            "spend": spend,
            "orders": orders,
            "quotas": quotas,
            "campaigns": campaigns,
        }
    )
    return Dataset(**tables)


@pytest.fixture(scope="module")
def ex() -> Dataset:
    return worked_example()


def kt(ds, kpis, settings=None, by=None, start="2025-02-01", end="2025-03-01", **kw):
    return salesmkt.kpi_table(
        ds,
        kpis=kpis,
        start=start,
        end=end,
        as_of=AS_OF,
        settings={**SETTINGS, **(settings or {})},
        by=by,
        **kw,
    )


def row(t, kpi, item="total", period="2025-02", **seg):
    sel = t[(t["kpi"] == kpi) & (t["item"] == item) & (t["period"] == period)]
    for k, v in seg.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (kpi, item, period, seg, len(sel))
    return sel.iloc[0]


def val(t, kpi, item="total", **kw):
    return row(t, kpi, item, **kw)["value"]


@pytest.fixture(scope="module")
def feb(ex):
    return kt(ex, None)


def test_every_catalog_kpi_is_computed_for_february(feb):
    assert set(feb["kpi"]) == set(salesmkt.KPI_CATALOG)
    assert (feb["period"] == "2025-02").all()


def test_marketing_web_kpis(feb, ex):
    r = row(feb, "avg_session_duration")
    assert r["value"] == pytest.approx(1290 / 7)  # 184.29 s
    assert r["median"] == 45 and r["n_excluded"] == 1 and r["denominator"] == 7
    assert val(feb, "traffic_by_channel_group", "organic") == 0.25
    assert val(feb, "traffic_by_channel_group", "paid") == 0.50
    assert val(feb, "traffic_by_channel_group", "unpaid_other") == 0.25
    assert val(feb, "traffic_by_channel_group", "organic_to_paid") == 0.5
    b = row(feb, "bounce_rate")
    assert (b["numerator"], b["denominator"], b["value"]) == (3, 8, 0.375)  # S7 stays in
    single = kt(ex, ["bounce_rate"], {"bounce_definition": "single_page"})
    assert val(single, "bounce_rate") == 0.625
    col = kt(ex, ["bounce_rate"], {"bounce_definition": "column"})
    assert val(col, "bounce_rate") == 0.5
    t2l = kt(ex, ["traffic_to_lead"])
    assert val(t2l, "traffic_to_lead") == 0.625
    assert val(t2l, "traffic_to_lead", "per_visitor") == pytest.approx(5 / 7)
    assert val(t2l, "traffic_to_lead", "web_linked") == 0.5


def test_cost_and_return(feb, ex):
    assert val(feb, "cac") == 750
    assert row(feb, "cac")["variant"] == "blended_media_only"
    assert val(feb, "cac", "paid") == 1500
    assert val(feb, "marketing_roi") == pytest.approx(6500 / 1500)  # 4.333
    revenue_based = kt(ex, ["marketing_roi"], {"gross_margin": None})
    assert val(revenue_based, "marketing_roi") == pytest.approx(8500 / 1500)  # 5.667
    assert row(revenue_based, "marketing_roi")["variant"] == "revenue"
    assert val(feb, "roas") == pytest.approx(10000 / 1500)
    assert val(feb, "roas", "cohort") == 0.0
    jan = kt(ex, ["roas"], start="2025-01-01", end="2025-02-01")
    assert val(jan, "roas", "cohort", period="2025-01") == pytest.approx(10000 / 1500)
    by_ch = kt(ex, ["roas", "cost_per_lead"], by="channel")
    assert val(by_ch, "roas", channel="paid_search") == pytest.approx(10000 / 1200)
    assert val(by_ch, "roas", channel="display") == 0.0
    assert val(feb, "cost_per_lead") == 300
    assert val(feb, "cost_per_lead", "paid") == 750
    assert val(by_ch, "cost_per_lead", channel="paid_search") == 1200
    assert val(by_ch, "cost_per_lead", channel="display") == 300
    # organic has leads but no spend rows: cost unknown, so missing (not 0)
    assert math.isnan(val(by_ch, "cost_per_lead", channel="organic_search"))


def test_other_costs_make_cac_fully_loaded(ex):
    t = kt(ex, ["cac"], {"other_costs": {"2025-02": 500}})
    assert val(t, "cac") == 1000 and row(t, "cac")["variant"] == "blended_fully_loaded"


def test_revenue_mix(feb, ex):
    assert val(feb, "revenue_share_new") == pytest.approx(16000 / 23000)  # 0.6957
    assert val(feb, "revenue_share_new", "existing") == pytest.approx(7000 / 23000)
    deals = kt(ex, ["revenue_share_new"], {"revenue_share_source": "deals"})
    assert val(deals, "revenue_share_new") == 0.8
    assert val(feb, "revenue_by_product") == 23000
    core, addon = row(feb, "revenue_by_product", "Core"), row(feb, "revenue_by_product", "Addon")
    assert core["value"] == 19000 and addon["value"] == 4000
    assert core["numerator"] / core["denominator"] == pytest.approx(0.8261, abs=1e-4)
    assert addon["numerator"] / addon["denominator"] == pytest.approx(0.1739, abs=1e-4)


def test_funnel_conversions(feb):
    expected = {
        "lead_to_mql": (4, 5),
        "mql_to_sql": (2, 4),
        "sql_to_opportunity": (2, 2),
        "opportunity_to_customer": (1, 2),
        "lead_to_customer": (1, 5),
    }
    for item, (k, n) in expected.items():
        r = row(feb, "stage_conversion", item)
        assert (r["numerator"], r["denominator"]) == (k, n), item
    assert val(feb, "mql_sql_acceptance") == 0.5
    # pending: MQLs of February neither accepted nor disqualified (L6)
    assert row(feb, "mql_sql_acceptance")["n_pending"] == 1


def test_times(feb, ex):
    t = row(feb, "time_to_purchase")
    assert t["value"] == pytest.approx(26.0833, abs=1e-4)
    assert t["numerator"] / t["denominator"] == pytest.approx((35.125 + 17 + 1 / 24) / 2)
    r = row(feb, "lead_response_time")
    assert r["value"] == 1 and r["numerator"] / r["denominator"] == pytest.approx(7 / 3)
    assert val(feb, "lead_response_time", "no_response_share") == 0.25
    created = kt(ex, ["lead_response_time"], {"response_clock": "created_at"})
    r = row(created, "lead_response_time")
    assert r["value"] == 23 and r["numerator"] / r["denominator"] == pytest.approx(55 / 3)
    assert val(created, "lead_response_time", "no_response_share") == 0.4
    assert val(feb, "sla_compliance") == 0.5


def test_deals(feb):
    d = row(feb, "avg_deal_size")
    assert d["value"] == pytest.approx(20000 / 3) and d["median"] == 6000  # D5 open: not in
    assert val(feb, "win_rate") == 0.75
    assert val(feb, "win_rate", "value_weighted") == pytest.approx(20000 / 28000)
    c = row(feb, "sales_cycle_length")
    assert c["value"] == 22 and c["numerator"] / c["denominator"] == pytest.approx(22.375)
    assert val(feb, "sales_cycle_length", "lost") == 13  # D2, reported separately
    assert val(feb, "quota_attainment") == 0.8
    assert val(feb, "quota_attainment", "owner O1") == pytest.approx(14000 / 15000)
    assert val(feb, "quota_attainment", "owner O2") == 0.6
    assert val(feb, "quota_attainment", "share_at_quota") == 0
    assert val(feb, "pipeline_coverage") == 0.72
    assert row(feb, "pipeline_coverage")["numerator"] == 18000
    assert val(feb, "pipeline_velocity") == pytest.approx(446.93, abs=0.01)
    p = row(feb, "mkt_sourced_pipeline")
    assert p["value"] == 18000 and p["numerator"] / p["denominator"] == pytest.approx(
        0.8182, abs=1e-4
    )
    r = row(feb, "mkt_sourced_revenue")
    assert r["value"] == 16000 and r["numerator"] / r["denominator"] == 0.8


def test_retention_and_unit_economics(feb, ex):
    assert val(feb, "customer_retention") == 0.5
    assert val(feb, "churn_rate") == 0.5
    assert val(feb, "nrr") == 1.4
    assert val(feb, "grr") == 0.6
    assert val(feb, "lead_value") == 1200
    assert val(feb, "lead_value", "period") == 3200
    clv = row(feb, "clv_simple")
    assert clv["numerator"] / 0.8 == pytest.approx(23000 / 3)  # ARPA 7666.67
    assert clv["value"] == pytest.approx(12266.67, abs=0.01)
    assert val(feb, "ltv_cac") == pytest.approx(16.36, abs=0.01)
    assert val(feb, "cac_payback_months") == pytest.approx(0.1223, abs=1e-4)
    both = kt(ex, ["clv_cohort"], start="2025-01-01")
    assert val(both, "clv_cohort", "age 0", period="2025-01") == 1600
    assert val(both, "clv_cohort", "age 1", period="2025-01") == 1600
    assert val(both, "clv_cohort", "age 0", period="2025-02") == 6400
    # h = 1 of the February cohort is not observed by as_of: no such cell
    feb_rows = both[(both["kpi"] == "clv_cohort") & (both["period"] == "2025-02")]
    assert math.isnan(feb_rows.loc[feb_rows["item"] == "age 1", "value"].iloc[0])


def test_checks_worth_testing(ex, feb):
    some = ["avg_session_duration", "bounce_rate", "cac", "cost_per_lead", "roas"]
    jan_and_feb = kt(ex, some, start="2025-01-01")
    # January rows (S1, S2, January spend) never enter February values
    for kpi in ("avg_session_duration", "bounce_rate", "cac", "cost_per_lead", "roas"):
        a, b = row(feb, kpi), row(jan_and_feb, kpi)
        assert (a["numerator"], a["denominator"]) == (b["numerator"], b["denominator"]), kpi
    # the display zero-spend row adds 0 and changes nothing
    no_zero = Dataset(**{**ex.tables, "spend": ex.spend[ex.spend["amount"] > 0]})
    assert val(kt(no_zero, ["cost_per_lead"]), "cost_per_lead") == 300
    # D5 (open) enters no win-rate, deal-size or cycle figure
    no_d5 = Dataset(**{**ex.tables, "deals": ex.deals[ex.deals["deal_id"] != "D5"]})
    t = kt(no_d5, ["win_rate", "avg_deal_size", "sales_cycle_length"])
    for kpi in ("win_rate", "avg_deal_size", "sales_cycle_length"):
        assert val(t, kpi) == val(feb, kpi)


def test_empty_period_has_zero_counts_and_missing_ratios(ex):
    t = kt(
        ex,
        ["win_rate", "cost_per_lead", "revenue_by_product"],
        start="2025-02-01",
        end="2025-05-01",
    )
    apr = t[t["period"] == "2025-04"]
    assert len(apr) > 0
    assert (apr["numerator"] == 0).all() and (apr["denominator"] == 0).all()
    assert apr.loc[apr["kpi"] == "win_rate", "value"].isna().all()
    assert (apr.loc[apr["kpi"] == "revenue_by_product", "value"] == 0).all()


def test_weekly_and_quarterly_periods(ex):
    w = kt(ex, ["traffic_to_lead"], freq="W")
    assert w["period_start"].dt.day_of_week.eq(0).all()
    assert row(w, "traffic_to_lead", period="2025-W06")["denominator"] == 3  # S3, S4, S5
    q = kt(ex, ["win_rate"], freq="Q", start="2025-01-01", end="2025-04-01")
    assert list(q["period"]) == ["2025-Q1", "2025-Q1"]


def test_deals_closed_before_created_are_excluded_and_counted(ex):
    deals = ex.deals.copy()
    deals.loc[deals["deal_id"] == "D3", "closed_at"] = pd.Timestamp("2025-02-04T09:00Z")
    t = kt(Dataset(**{**ex.tables, "deals": deals}), ["sales_cycle_length"])
    r = row(t, "sales_cycle_length")
    assert r["n_excluded"] == 1 and r["denominator"] == 2


def test_catalog_table_lists_every_kpi():
    cat = salesmkt.kpi_catalog()
    assert len(cat) == len(salesmkt.KPI_CATALOG) >= 30
    assert set(cat["owner"]) == {"marketing", "sales", "shared"}
    assert cat["definition"].str.len().gt(10).all()
    design = {
        "avg_session_duration",
        "traffic_by_channel_group",
        "cac",
        "marketing_roi",
        "bounce_rate",
        "revenue_share_new",
        "stage_conversion",
        "time_to_purchase",
        "lead_response_time",
        "avg_deal_size",
        "quota_attainment",
        "traffic_to_lead",
        "revenue_by_product",
        "customer_retention",
        "cost_per_lead",
        "lead_value",
        "win_rate",
        "pipeline_coverage",
        "pipeline_velocity",
        "sales_cycle_length",
        "mql_sql_acceptance",
        "clv_simple",
        "clv_cohort",
    }
    assert design <= set(cat["id"])


def test_bad_input_errors(ex):
    with pytest.raises(ValueError, match="unknown KPI id"):
        salesmkt.kpi_table(ex, kpis=["nope"])
    with pytest.raises(ValueError, match="unknown KPI setting 'margin'"):
        salesmkt.kpi_table(ex, kpis=["cac"], settings={"margin": 0.5})
    with pytest.raises(ValueError, match="freq"):
        salesmkt.kpi_table(ex, kpis=["cac"], freq="D")
    with pytest.raises(ValidationError, match="sessions.duration_s"):
        salesmkt.kpi_table(
            Dataset(**{**ex.tables, "sessions": ex.sessions.drop(columns="duration_s")}),
            kpis=["avg_session_duration"],
        )
    with pytest.raises(ValueError, match="needs the table"):
        salesmkt.kpi_table(Dataset(leads=ex.leads), kpis=["win_rate"])


def test_missing_inputs_are_named_and_skipped_kpis_show_no_data(ex):
    no_spend = Dataset(**{k: v for k, v in ex.tables.items() if k != "spend"})
    no_resp = Dataset(
        **{**no_spend.tables, "leads": no_spend.leads.drop(columns="first_response_at")}
    )
    gaps = salesmkt.missing_kpi_inputs(
        no_resp, ["cost_per_lead", "win_rate", "ltv_cac", "lead_response_time"]
    )
    assert gaps.set_index("kpi")["missing"].to_dict() == {
        "cost_per_lead": "the spend table",
        "ltv_cac": "the spend table",
        "lead_response_time": "the column leads.first_response_at",
    }
    assert salesmkt.missing_kpi_inputs(ex).empty
    # a loader adds the optional column empty when the export lacks the field
    blank = Dataset(**{**ex.tables, "leads": ex.leads.assign(first_response_at=pd.NaT)})
    assert salesmkt.missing_kpi_inputs(blank, ["sla_compliance", "win_rate"])[
        "missing"
    ].tolist() == ["the values of leads.first_response_at"]
    with pytest.raises(ValueError, match="needs the table"):
        kt(no_resp, ["cost_per_lead", "win_rate"])
    t = kt(no_resp, ["cost_per_lead", "win_rate", "lead_response_time"], unavailable="skip")
    cpl = t[t["kpi"] == "cost_per_lead"]
    assert cpl["period"].tolist() == ["2025-02"] and cpl["value"].isna().all()
    assert cpl["variant"].iloc[0] == "not computed: the data has no spend table"
    resp = t[t["kpi"] == "lead_response_time"]
    assert resp["variant"].iloc[0] == "not computed: the data has no column leads.first_response_at"
    assert val(t, "win_rate") == 0.75  # the rest is computed as before
    assert t.attrs["not_computed"] == {
        "cost_per_lead": "the spend table",
        "lead_response_time": "the column leads.first_response_at",
    }
    sc = salesmkt.scorecard(t, {**salesmkt.kpi_config_template(), "kpis": ["cost_per_lead"]})
    assert sc["status"].tolist() == ["no data"]
    by = kt(no_spend, ["cost_per_lead"], by="channel", unavailable="skip")
    assert by["value"].isna().all() and set(by["channel"]) >= {"paid_search"}
    with pytest.raises(ValueError, match="unavailable="):
        kt(ex, ["win_rate"], unavailable="ignore")


def test_cohort_retention_without_orders_says_so():
    import matplotlib.pyplot as plt

    r = salesmkt.cohort_retention(None)
    assert r.empty and "retention" in r.columns and "no orders table" in r.attrs["note"]
    ax = salesmkt.plot_cohort_retention(r)
    assert "no orders table" in ax.texts[0].get_text()
    plt.close("all")


def test_cohort_retention_matrix(ex):
    r = salesmkt.cohort_retention(ex.orders, as_of=AS_OF)
    jan = r[r["cohort"] == pd.Timestamp("2025-01-01", tz="UTC")].set_index("age")
    assert jan.loc[0, "customers"] == 1 and jan.loc[1, "retention"] == 0  # A9 did not come back
    dec = r[r["cohort"] == pd.Timestamp("2024-12-01", tz="UTC")].set_index("age")
    assert dec["retention"].tolist() == [1.0, 1.0, 1.0]  # A0 buys every month


def test_cohort_retention_keeps_annual_customers_and_marks_immature_cells():
    import matplotlib.pyplot as plt

    ts = lambda d: pd.Timestamp(d, tz="UTC")  # noqa: E731
    # Y pays once a year (three times), M pays monthly for three months then stops,
    # Z's single order comes within a year of the end: whether it renews is not known yet
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(7)],
            "customer_id": ["Y", "Y", "Y", "M", "M", "M", "Z"],
            "ordered_at": [
                ts("2024-01-10"),
                ts("2025-01-12"),
                ts("2026-01-09"),
                ts("2024-01-05"),
                ts("2024-02-05"),
                ts("2024-03-05"),
                ts("2025-06-15"),
            ],
            "revenue": [1200.0, 1200.0, 1200.0, 100.0, 100.0, 100.0, 500.0],
        }
    )
    r = salesmkt.cohort_retention(orders, freq="M", as_of=ts("2026-04-01"))
    jan = r[r["cohort"] == ts("2024-01-01")].set_index("age")
    # worked by hand: Y is active every month (its annual terms chain), M in ages 0-2
    assert (jan["customers"] == 2).all() and len(jan) == 27  # Jan 2024 .. Mar 2026
    assert jan.loc[[0, 1, 2], "active"].tolist() == [2, 2, 2]
    assert (jan.loc[3:, "active"] == 1).all()  # Y retained through its renewals
    assert jan.loc[11, "revenue"] == 0 and jan.loc[12, "revenue"] == 1200
    # mature: the cell's month starts at least 12 months (the longest term) before as_of
    assert jan.loc[:15, "mature"].all() and not jan.loc[16:, "mature"].any()  # Apr 2025
    jun = r[r["cohort"] == ts("2025-06-01")].set_index("age")
    assert jun.loc[1, "active"] == 0 and not jun["mature"].any()  # Z may still renew
    ax = salesmkt.plot_cohort_retention(r)
    from salesmkt._base.style import PROVISIONAL_HATCH

    hatched = [p for p in ax.patches if p.get_hatch() == PROVISIONAL_HATCH]
    assert len(hatched) == int((~r["mature"]).sum())
    plt.close("all")


@st.composite
def _random_dataset(draw):
    n = draw(st.integers(0, 6))
    base = pd.Timestamp("2025-01-01", tz="UTC")
    offs = [draw(st.integers(0, 80)) for _ in range(n)]
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": [base + pd.Timedelta(days=o) for o in offs],
            "channel": [
                draw(st.sampled_from(["paid_search", "email", "organic_search"])) for _ in range(n)
            ],
        }
    )
    for col, gap in (
        ("mql_at", 1),
        ("sql_at", 2),
        ("opportunity_at", 3),
        ("customer_at", 4),
        ("first_response_at", 1),
    ):
        leads[col] = [
            base + pd.Timedelta(days=o + gap) if draw(st.booleans()) else pd.NaT for o in offs
        ]
    m = draw(st.integers(0, 4))
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(m)],
            "created_at": [base + pd.Timedelta(days=draw(st.integers(0, 60))) for _ in range(m)],
            "amount": [float(draw(st.sampled_from([0, 100, 5000]))) for _ in range(m)],
            "lead_id": [f"L{draw(st.integers(0, 5))}" for _ in range(m)],
            "status": [draw(st.sampled_from(["open", "won", "lost"])) for _ in range(m)],
        }
    )
    deals["closed_at"] = [
        c + pd.Timedelta(days=10) if s != "open" else pd.NaT
        for c, s in zip(deals["created_at"], deals["status"], strict=True)
    ]
    k = draw(st.integers(0, 4))
    spend = pd.DataFrame(
        {
            "date": [base + pd.Timedelta(days=draw(st.integers(0, 80))) for _ in range(k)],
            "campaign_id": [f"C{i}" for i in range(k)],
            "amount": [float(draw(st.sampled_from([0, 50]))) for _ in range(k)],
            "channel": ["paid_search"] * k,
        }
    )
    j = draw(st.integers(0, 5))
    orders = pd.DataFrame(
        {
            "order_id": [f"R{i}" for i in range(j)],
            "customer_id": [f"A{draw(st.integers(0, 2))}" for _ in range(j)],
            "ordered_at": [base + pd.Timedelta(days=draw(st.integers(0, 80))) for _ in range(j)],
            "revenue": [float(draw(st.sampled_from([0, 10, 200]))) for _ in range(j)],
        }
    )
    quotas = pd.DataFrame({"owner_id": ["O1"], "period_start": [base], "quota": [0.0]})
    deals["owner_id"] = "O1"
    for df, cols in (
        (
            leads,
            [
                "created_at",
                "mql_at",
                "sql_at",
                "opportunity_at",
                "customer_at",
                "first_response_at",
            ],
        ),
        (deals, ["created_at", "closed_at"]),
        (spend, ["date"]),
        (orders, ["ordered_at"]),
    ):
        for c in cols:
            df[c] = pd.to_datetime(df[c], utc=True)
    for df, c in (
        (leads, "lead_id"),
        (deals, "deal_id"),
        (deals, "lead_id"),
        (spend, "campaign_id"),
        (orders, "order_id"),
        (orders, "customer_id"),
        (quotas, "owner_id"),
        (deals, "owner_id"),
    ):
        df[c] = df[c].astype("string")
    return Dataset(leads=leads, deals=deals, spend=spend, orders=orders, quotas=quotas)


_NO_SESSIONS = [k for k, v in salesmkt.KPI_CATALOG.items() if "sessions" not in v.tables]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _random_dataset(),
    st.lists(st.sampled_from(_NO_SESSIONS), min_size=2, max_size=4, unique=True),
)
def test_ratios_never_infinite_and_every_period_present(ds, kpis):
    t = salesmkt.kpi_table(
        ds,
        kpis=kpis,
        start="2025-01-01",
        end="2025-05-01",
        as_of="2025-05-01",
        settings={"gross_margin": 0.5},
    )
    assert not np.isinf(t["value"].astype(float)).any()
    assert set(t["period"]) == {"2025-01", "2025-02", "2025-03", "2025-04"}
    ratio = t[t["kpi"].map(lambda k: salesmkt.KPI_CATALOG[k].value_kind == "ratio")]
    assert ratio.loc[ratio["denominator"] == 0, "value"].isna().all()


def test_breakdown_parts_sum_to_the_total(sample):
    # ratios are never averaged: the segments' numerators and denominators add up to the total
    kpis = ["cost_per_lead", "win_rate", "stage_conversion", "traffic_to_lead", "sla_compliance"]
    total = salesmkt.kpi_table(sample, kpis=kpis, freq="Q")
    by = salesmkt.kpi_table(sample, kpis=kpis, freq="Q", by="channel")
    keys = ["kpi", "period", "item"]
    summed = by.groupby(keys)[["numerator", "denominator"]].sum(min_count=1)
    both = total.set_index(keys)[["numerator", "denominator"]].join(summed.add_suffix("_by"))
    both = both.drop(index="per_visitor", level="item")  # a visitor can come from two channels
    assert np.allclose(both["denominator"], both["denominator_by"])
    assert np.allclose(both["numerator"], both["numerator_by"].fillna(0))


def test_quota_attainment_by_owner(ex):
    t = kt(ex, ["quota_attainment"], by="owner_id")
    assert val(t, "quota_attainment", owner_id="O1") == pytest.approx(14000 / 15000)
    assert val(t, "quota_attainment", owner_id="O2") == 0.6


def test_roas_on_margin_beside_revenue_roas_and_margin_stated(feb, ex):
    # D1 10000 x 0.8 / 1500 paid spend
    assert val(feb, "roas", "on_margin") == pytest.approx(8000 / 1500)
    assert row(feb, "roas", "on_margin")["variant"] == "margin"
    assert "gross margin 80%" in feb.attrs["assumptions"]["marketing_roi"]
    revenue_based = kt(ex, ["roas", "clv_simple"], {"gross_margin": None})
    assert val(revenue_based, "roas", "on_margin") == pytest.approx(10000 / 1500)
    assert row(revenue_based, "roas", "on_margin")["variant"] == "revenue"
    for kpi in ("roas", "clv_simple"):
        assert "overstates" in revenue_based.attrs["assumptions"][kpi]


def test_wilson_intervals_and_small_sample_notes(feb):
    from statsmodels.stats.proportion import proportion_confint

    w = row(feb, "win_rate")  # 3 won of 4 decided
    lo, hi = proportion_confint(3, 4, method="wilson")
    assert (w["ci_low"], w["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert w["note"].startswith("small sample (n = 4)")
    v = row(feb, "win_rate", "value_weighted")  # amounts, not counts: no interval
    assert math.isnan(v["ci_low"]) and v["note"] == ""
    assert math.isnan(row(feb, "cac")["ci_low"])  # not a rate
    s = row(feb, "mql_sql_acceptance")  # 2 of 4
    lo, hi = proportion_confint(2, 4, method="wilson")
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_wilson_interval_has_no_note_from_30_on():
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(40)],
            "created_at": pd.to_datetime(["2025-02-10"] * 40, utc=True),
            "mql_at": pd.to_datetime(["2025-02-11"] * 40, utc=True),
            "sql_at": pd.to_datetime(["2025-02-12"] * 10 + [None] * 30, utc=True),
            "opportunity_at": pd.NaT,
            "customer_at": pd.NaT,
        }
    )
    for c in ("opportunity_at", "customer_at"):
        leads[c] = pd.to_datetime(leads[c], utc=True)
    t = kt(Dataset(leads=leads), ["mql_sql_acceptance"])
    r = row(t, "mql_sql_acceptance")
    assert r["value"] == 0.25 and r["note"] == ""
    assert r["ci_low"] < 0.25 < r["ci_high"]


def test_lifetime_value_is_capped_at_the_history_observed():
    # X and Y pay 100 on the 1st of every month, January to June 2025: churn 0 every month, so
    # 1 / churn would be an endless lifetime; as_of 2025-07-01 gives 181 days of history
    rows = [(c, f"2025-0{m}-01", 100.0) for c in ("X", "Y") for m in range(1, 7)]
    o = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "revenue"])
    o["order_id"] = [f"O{i}" for i in range(len(o))]
    o["ordered_at"] = pd.to_datetime(o["ordered_at"], utc=True)
    t = salesmkt.kpi_table(
        Dataset(orders=o),
        kpis=["clv_simple"],
        start="2025-06-01",
        end="2025-07-01",
        as_of="2025-07-01T00:00Z",
        settings={"gross_margin": 0.8},
    )
    r = t[(t["kpi"] == "clv_simple") & (t["item"] == "total")].iloc[0]
    months = 181 / (365.25 / 12)
    assert r["value"] == pytest.approx(100 * 0.8 * months)
    assert r["variant"] == "margin_lifetime_capped"
    assert "capped at the 6 periods" in t.attrs["assumptions"]["clv_simple"]
