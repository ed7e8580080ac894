"""Spend metrics against the worked example of kpis.md section 9 and the sample's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesmkt
import salesmkt.sample
from salesmkt.campaigns import attributed_returns, referral_summary, spend_metrics
from salesmkt.io import Dataset


def ts(values):
    return pd.to_datetime(pd.Series(values, dtype="object"), utc=True)


@pytest.fixture(scope="module")
def worked():
    """kpis.md section 9 (February 2025) as a Dataset."""
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
            "created_at": ts(
                [
                    "2025-01-10 09:00",
                    "2025-01-25 14:00",
                    "2025-02-03 08:00",
                    "2025-02-10 10:00",
                    "2025-02-15 12:00",
                    "2025-02-20 09:00",
                    "2025-02-25 15:00",
                ]
            ),
            "channel": [
                "paid_search",
                "organic_search",
                "organic_search",
                "display",
                "paid_search",
                "email",
                "organic_social",
            ],
            "campaign_id": ["C1", None, None, "C2", "C1", None, None],
            "account_id": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
            "mql_at": ts(
                [
                    "2025-01-12 09:00",
                    "2025-01-26 14:00",
                    "2025-02-03 09:00",
                    "2025-02-11 10:00",
                    "2025-02-16 12:00",
                    "2025-02-21 09:00",
                    None,
                ]
            ),
        }
    ).astype({"campaign_id": "string"})
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4", "D5"],
            "created_at": ts(
                [
                    "2025-01-15 09:00",
                    "2025-01-30 14:00",
                    "2025-02-05 09:00",
                    "2025-02-03 10:00",
                    "2025-02-18 12:00",
                ]
            ),
            "amount": [10000.0, 8000.0, 6000.0, 4000.0, 12000.0],
            "lead_id": ["L1", "L2", "L3", None, "L5"],
            "account_id": ["A1", "A2", "A3", "A0", "A5"],
            "closed_at": ts(
                [
                    "2025-02-14 12:00",
                    "2025-02-12 14:00",
                    "2025-02-20 09:00",
                    "2025-02-25 10:00",
                    None,
                ]
            ),
            "status": ["won", "lost", "won", "won", "open"],
            "deal_type": [
                "new_business",
                "new_business",
                "new_business",
                "expansion",
                "new_business",
            ],
        }
    )
    spend = pd.DataFrame(
        {
            "date": ts(
                ["2025-01-15", "2025-02-10", "2025-02-20", "2025-01-20", "2025-02-05", "2025-02-25"]
            ),
            "campaign_id": ["C1", "C1", "C1", "C2", "C2", "C2"],
            "amount": [1000.0, 600.0, 600.0, 500.0, 300.0, 0.0],
            "channel": ["paid_search"] * 3 + ["display"] * 3,
        }
    )
    campaigns = pd.DataFrame({"campaign_id": ["C1", "C2"], "channel": ["paid_search", "display"]})
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(7)],
            "customer_id": ["A0", "A0", "A9", "A0", "A1", "A3", "A0"],
            "ordered_at": ts(
                [
                    "2024-12-05",
                    "2025-01-05",
                    "2025-01-18",
                    "2025-02-05",
                    "2025-02-14",
                    "2025-02-20",
                    "2025-02-25",
                ]
            ),
            "revenue": [3000.0, 3000.0, 2000.0, 3000.0, 10000.0, 6000.0, 4000.0],
        }
    )
    return Dataset(leads=leads, deals=deals, spend=spend, campaigns=campaigns, orders=orders)


def feb(ds, **kw):
    return spend_metrics(ds, start="2025-02-01", end="2025-03-01", **kw)


def test_channel_metrics_match_worked_example(worked):
    m = feb(worked, by="channel", gross_margin=0.8).set_index("channel")
    assert m.loc["paid_search", "spend"] == 1200.0
    assert m.loc["display", "spend"] == 300.0  # the zero-spend row adds 0
    assert np.isnan(m.loc["organic_search", "spend"])  # no spend rows: cost unknown
    assert m.loc["paid_search", "cpl"] == 1200.0
    assert m.loc["display", "cpl"] == 300.0
    assert np.isnan(m.loc["organic_search", "cpl"])
    assert m.loc["paid_search", "customers"] == 1 and m.loc["organic_search", "customers"] == 1
    assert m.loc["paid_search", "cac"] == 1200.0
    assert np.isnan(m.loc["display", "cac"])  # no customers: missing, not infinite
    assert m.loc["paid_search", "roas"] == pytest.approx(8.333, abs=1e-3)
    assert m.loc["display", "roas"] == 0.0  # spend without revenue
    assert m.loc["paid_search", "roi"] == pytest.approx((10000 * 0.8 - 1200) / 1200)
    assert m.loc["(unsourced)", "revenue"] == 4000.0  # D4 has no lead
    assert m.loc["organic_search", "lead_value"] == 6000.0  # D3 from L3, created in Feb


def test_totals_recomputed_from_sums_match_worked_example(worked):
    m = feb(worked, by="channel", gross_margin=0.8)
    paid = m[m["channel"].isin(["paid_search", "display"])]
    spend = paid["spend"].sum()
    assert spend / m["leads"].sum() == 300.0  # blended CPL
    assert spend / paid["leads"].sum() == 750.0  # paid CPL
    assert spend / m["customers"].sum() == 750.0  # blended CAC
    assert spend / paid["customers"].sum() == 1500.0  # paid CAC
    assert paid["revenue"].sum() / spend == pytest.approx(6.667, abs=1e-3)  # ROAS
    roi = (paid["revenue"].sum() * 0.8 - spend) / spend
    assert roi == pytest.approx(4.333, abs=1e-3)
    assert m["revenue"].sum() - 4000 == 16000.0  # won and sourced
    assert m.loc[m["leads"] > 0, "leads"].sum() == 5


def test_revenue_variant_is_labelled(worked):
    m = feb(worked, by="channel").set_index("channel")
    assert m.loc["paid_search", "roi"] == pytest.approx((10000 - 1200) / 1200)  # 7.333
    assert set(m["variant"]) == {"revenue"}


def test_campaign_grouping_and_periods(worked):
    m = spend_metrics(worked, by="campaign_id", start="2025-01-01", end="2025-03-01", freq="M")
    c1 = m[m["campaign_id"] == "C1"].set_index("period")
    assert c1["spend"].tolist() == [1000.0, 1200.0]
    assert c1["leads"].tolist() == [1, 1]
    assert c1["channel"].tolist() == ["paid_search"] * 2


def test_sample_cpl_matches_generator_truth(sample):
    truth = salesmkt.sample.generate(seed=7).truth["channel_economics"].set_index("channel")
    m = spend_metrics(sample, by="channel").set_index("channel")
    for ch, row in truth.iterrows():
        if row["spend"] > 0:
            assert m.loc[ch, "spend"] == pytest.approx(row["spend"], abs=0.01)
            assert m.loc[ch, "cpl"] == pytest.approx(row["cpl"], abs=0.01)
        else:
            assert np.isnan(m.loc[ch, "cpl"]) if ch in m.index else True


def test_referral_summary_on_sample(sample):
    r = referral_summary(sample, gross_margin=0.8)
    assert r["channel"].iloc[0] == "referral" and r["is_referral"].iloc[0]
    assert r["share_of_new_customers"].sum() == pytest.approx(1.0)
    # The generator plants half the churn for referred customers: their retention is above
    # that of the other channels' customers taken together (customer-weighted; single
    # channels hold 2-42 customers, too few to rank one against another).
    r = r.set_index("channel")
    rest = r.drop(index="referral").dropna(subset=["monthly_retention"])
    pooled = (rest["monthly_retention"] * rest["customers"]).sum() / rest["customers"].sum()
    assert r.loc["referral", "monthly_retention"] > pooled


def test_without_spend_or_campaigns_volumes_count_and_costs_are_missing(worked):
    import matplotlib.pyplot as plt

    full = feb(worked, by="channel", gross_margin=0.8).set_index("channel")
    bare = Dataset(leads=worked.leads, deals=worked.deals, orders=worked.orders)
    m = feb(bare, by="channel", gross_margin=0.8).set_index("channel")
    assert "no spend and no campaigns table" in m.attrs["note"]
    for col in ("spend", "cpl", "cost_per_mql", "cac", "roas", "roi", "ltv_cac"):
        assert m[col].isna().all(), col  # unknown, not zero
    for col in ("leads", "mqls", "customers", "revenue", "lead_value", "ltv"):
        pd.testing.assert_series_equal(m[col], full.loc[m.index, col], check_dtype=False)
    c = feb(bare, by="campaign_id")
    assert c[["name", "channel", "offer"]].isna().all().all()  # no campaigns table to name them
    assert c["leads"].sum() == full["leads"].sum()
    assert referral_summary(bare, start="2025-02-01")["spend"].isna().all()
    ax = salesmkt.plot_spend_vs_return(c)
    assert "no spend" in ax.texts[0].get_text()
    ax = salesmkt.plot_cac_cpl(m.reset_index())
    assert ax.get_xscale() == "linear"  # no positive cost for a log axis
    plt.close("all")


def test_bad_input(worked):
    with pytest.raises(ValueError, match="by must be"):
        spend_metrics(worked, by="owner_id")
    with pytest.raises(ValueError, match="gross_margin"):
        spend_metrics(worked, gross_margin=80)


def test_attributed_returns_divides_spend_by_credit(worked):
    metrics = feb(worked, by="channel")
    attribution = pd.DataFrame(
        {
            "channel": ["paid_search", "display", "organic_search", "paid_search"],
            "model": ["linear", "linear", "linear", "markov"],
            "attributed_conversions": [0.5, 0.0, 1.5, 0.8],
            "attributed_revenue": [5000.0, 0.0, 11000.0, 8000.0],
        }
    )
    t = attributed_returns(attribution, metrics)
    assert t["spend"].iloc[:2].tolist() == [1200.0, 300.0]
    assert t["cac"].iloc[0] == 2400.0 and t["cac"].iloc[3] == 1500.0
    assert t["roas"].iloc[0] == pytest.approx(5000 / 1200)
    assert np.isnan(t["cac"].iloc[1])  # nothing credited
    assert np.isnan(t["spend"].iloc[2]) and np.isnan(t["roas"].iloc[2])  # cost unknown


def test_spend_chart_wraps_a_long_list_of_campaigns_without_revenue():
    # HubSpot keeps a campaign only for paid search and email leads, so many campaigns have
    # no sourced revenue: their names once made one line wider than the figure and
    # constrained layout collapsed the axes (a warning on stderr)
    import warnings

    import matplotlib.pyplot as plt

    m = pd.DataFrame(
        {
            "campaign_id": [f"C{i:02d}" for i in range(12)],
            "name": [f"Campaign with a long descriptive name {i}" for i in range(12)],
            "channel": "display",
            "spend": 1000.0,
            "revenue": [5000.0, 3000.0] + [0.0] * 10,
        }
    )
    ax = salesmkt.plot_spend_vs_return(m)
    note = next(t.get_text() for t in ax.texts if t.get_text().startswith("no sourced"))
    assert all(len(line) <= 120 for line in note.splitlines()) and note.count("\n") >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax.figure.canvas.draw()
    plt.close("all")


def _label_boxes(ax, names):
    """The drawn window extents of the chart's campaign labels, by label text."""
    ax.figure.canvas.draw()
    return {t.get_text(): t.get_window_extent() for t in ax.texts if t.get_text() in names}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spend_chart_labels_of_campaigns_at_nearly_the_same_point_do_not_overlap(seed):
    # three campaigns near $45k once wrote their names on top of one another; here eight
    # campaigns a few hundred dollars apart, beside two far away and the legend's corner
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    names = [
        "Programmatic display",
        "Generic category keywords",
        "LinkedIn lead-gen RevOps",
        "Competitor keywords",
        "Brand search",
        "Retargeting",
        "Webinar series",
        "Partner co-marketing",
    ]
    m = pd.DataFrame(
        {
            "campaign_id": [f"C{i}" for i in range(10)],
            "name": [*names, "Trade show", "Newsletter"],
            "channel": ["display", "paid_search", "paid_social", "email", "events"] * 2,
            "spend": [*(45_000 + rng.uniform(-500, 500, 8)), 120_000.0, 5_000.0],
            "revenue": [*(60_000 + rng.uniform(-800, 800, 8)), 400_000.0, 90_000.0],
        }
    )
    ax = salesmkt.plot_spend_vs_return(m)
    boxes = _label_boxes(ax, set(m["name"]))
    assert set(boxes) == set(m["name"])  # every campaign with revenue is labelled
    pairs = [(a, b) for a in boxes for b in boxes if a < b and boxes[a].overlaps(boxes[b])]
    assert pairs == []
    frame = ax.get_window_extent()
    for name, box in boxes.items():  # inside the axes: nothing is cut off by the figure's edge
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, name
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, name
    # and no label hides a campaign's dot (the dot's centre, its radius of 3.9 pt around it)
    centres = ax.transData.transform(m[["spend", "revenue"]].to_numpy())
    for name, box in boxes.items():
        assert not any(box.contains(x, y) for x, y in centres), name
    plt.close("all")


def test_spend_chart_labels_the_same_way_every_time():
    import matplotlib.pyplot as plt

    m = pd.DataFrame(
        {
            "name": ["A campaign", "B campaign", "C campaign"],
            "channel": "display",
            "spend": [45_000.0, 45_100.0, 45_200.0],
            "revenue": [60_000.0, 60_100.0, 60_050.0],
        }
    )
    first = _label_boxes(salesmkt.plot_spend_vs_return(m), set(m["name"]))
    second = _label_boxes(salesmkt.plot_spend_vs_return(m), set(m["name"]))
    assert {k: tuple(v.bounds) for k, v in first.items()} == {
        k: tuple(v.bounds) for k, v in second.items()
    }
    plt.close("all")


def test_campaign_without_leads_is_marked_not_minus_100_percent(worked):
    spend = pd.concat(
        [
            worked.spend,
            pd.DataFrame(
                {
                    "date": pd.to_datetime(["2025-02-12"], utc=True),
                    "campaign_id": ["C3"],
                    "amount": [250.0],
                    "channel": ["paid_social"],
                }
            ),
        ],
        ignore_index=True,
    )
    campaigns = pd.concat(
        [worked.campaigns, pd.DataFrame({"campaign_id": ["C3"], "channel": ["paid_social"]})],
        ignore_index=True,
    )
    ds = Dataset(**{**worked.tables, "spend": spend, "campaigns": campaigns})
    m = feb(ds, by="campaign_id", gross_margin=0.8).set_index("campaign_id")
    assert m.loc["C3", "status"] == "no leads sourced"
    assert m.loc["C3", "spend"] == 250 and m.loc["C3", "leads"] == 0
    for col in ("roi", "roas", "roas_on_margin"):
        assert np.isnan(m.loc["C3", col]), col  # missing, not -100 % / 0
    assert m.loc["C2", "status"] == "" and m.loc["C2", "roi"] == -1  # L4 sourced, no revenue
    # C1: D1 10000 x 0.8 / 1200
    assert m.loc["C1", "roas_on_margin"] == pytest.approx(8000 / 1200)


def test_lifetime_is_capped_at_the_orders_observed(worked):
    m = feb(worked, by="channel", gross_margin=0.8).set_index("channel")
    # first order 2024-12-05, end 2025-03-01: 86 days of history
    observed = 86 / (365.25 / 12)
    ps = m.loc["paid_search"]  # A1, one order on 02-14: no loss, an endless 1 / churn
    assert ps["lifetime_capped"] and ps["lifetime_months"] == pytest.approx(observed)
    # A1's 10000 over the one month it is counted (15 days, at least 1 month)
    assert ps["ltv"] == pytest.approx(10000 * 0.8 * observed)
    assert (m["lifetime_months"].dropna() <= observed + 1e-9).all()
    assert "86" not in m.attrs["assumptions"]["lifetime"]  # months, not days
    assert "3 months of order history" in m.attrs["assumptions"]["lifetime"]
    assert "80%" in m.attrs["assumptions"]["margin"]


def test_attributed_returns_beside_sourced_ones(worked):
    attribution = pd.DataFrame(
        {
            "channel": ["paid_search", "display", "organic_search"],
            "model": ["linear"] * 3,
            "attributed_conversions": [0.5, 0.5, 1.0],
            "attributed_revenue": [5000.0, 5000.0, 6000.0],
        }
    )
    m = feb(worked, by="channel", gross_margin=0.8, attribution=attribution)
    m = m.set_index("channel")
    assert m.loc["display", "roas"] == 0.0  # sourced: display sourced no won deal
    assert m.loc["display", "attributed_roas"] == pytest.approx(5000 / 300)
    assert m.loc["display", "attributed_roi"] == pytest.approx((5000 * 0.8 - 300) / 300)
    assert np.isnan(m.loc["organic_search", "attributed_roas"])  # no spend rows
    assert m.attrs["attribution_model"] == "linear"
    two = pd.concat([attribution, attribution.assign(model="markov")])
    with pytest.raises(ValueError, match="name one"):
        feb(worked, by="channel", attribution=two)
