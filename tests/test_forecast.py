"""The revenue forecast: as-of state, time to close with competing risks, stage win rates, the
Monte Carlo against exact distributions worked out by hand, leakage and the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

import salesmkt
from salesmkt.data.dataset import Dataset
from salesmkt.forecast import revenue, win
from salesmkt.forecast.backtest import backtest_summary, forecast_backtest


def _ts(values):
    return pd.to_datetime(pd.Series(values), utc=True)


def _dataset(deals: pd.DataFrame) -> Dataset:
    return Dataset(deals=deals)


@pytest.fixture(scope="module")
def two_open_deals() -> Dataset:
    """Ten decided deals (4 won, 6 lost at 10 days) and two open deals aged 5 days at 2025-04-01.

    An open deal of age 5: P(won within the rest of Q2 | open at 5) = (CIF_won(96) −
    CIF_won(5)) / S(5) = (0.4 − 0) / 1 = 0.4, for each of the two.
    """
    n_hist = 10
    created = ["2025-01-01"] * n_hist + ["2025-03-27", "2025-03-27"]
    closed = ["2025-01-11"] * n_hist + [None, None]
    status = ["won"] * 4 + ["lost"] * 6 + ["open", "open"]
    return _dataset(
        pd.DataFrame(
            {
                "deal_id": [f"D{i:02d}" for i in range(n_hist + 2)],
                "created_at": _ts(created),
                "amount": [50.0] * n_hist + [100.0, 200.0],
                "account_id": [f"A{i:02d}" for i in range(n_hist + 2)],
                "owner_id": ["O1"] * (n_hist + 1) + ["O2"],
                "status": pd.array(status, dtype="string"),
                "closed_at": _ts(closed),
            }
        )
    )


# --- as of a date -----------------------------------------------------------------------------


def test_deals_as_of_reopens_deals_closed_later_and_forgets_their_stage():
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4"],
            "created_at": _ts(["2025-01-01", "2025-01-05", "2025-02-10", "2025-01-20"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
            "stage": ["Closed Won", "Closed Lost", "Demo", "Proposal"],
            "status": ["won", "lost", "open", "open"],
            "closed_at": _ts(["2025-01-10", "2025-03-01", None, None]),
        }
    )
    then = win.deals_as_of(deals, "2025-02-01")
    assert then["deal_id"].tolist() == ["D1", "D2", "D4"]  # D3 created later
    assert then["status"].tolist() == ["won", "open", "open"]  # D2 was lost after the date
    assert then["closed_at"].isna().tolist() == [False, True, True]
    assert then["stage"].tolist()[1:] == [win.UNKNOWN_STAGE] * 2  # stages were not recorded
    assert then["age_days"].tolist() == [31.0, 27.0, 12.0]
    assert then.attrs["n_reopened"] == 1 and then.attrs["n_created_later"] == 1
    now = win.deals_as_of(deals, "2025-03-05")  # at the export time stages are known
    assert now.loc[now["deal_id"] == "D4", "stage"].item() == "Proposal"
    assert deals["status"].tolist() == ["won", "lost", "open", "open"]  # input not mutated


def test_a_deal_closed_after_the_date_is_not_booked_and_is_open_then(two_open_deals):
    deals = two_open_deals.deals.copy()
    late = pd.DataFrame(
        {
            "deal_id": ["LATE"],
            "created_at": _ts(["2025-03-20"]),
            "amount": [1000.0],
            "account_id": ["AX"],
            "owner_id": ["O1"],
            "status": pd.array(["won"], dtype="string"),
            "closed_at": _ts(["2025-04-20"]),
        }
    )
    ds = _dataset(pd.concat([deals, late], ignore_index=True))
    f = revenue.revenue_forecast(ds, as_of="2025-04-10", n_simulations=200, fan=False)
    assert f.row("total")["booked"] == 0.0
    assert "LATE" in f.deals["deal_id"].tolist()
    after = revenue.revenue_forecast(ds, as_of="2025-04-21", n_simulations=200, fan=False)
    assert after.row("total")["booked"] == 1000.0
    assert "LATE" not in after.deals["deal_id"].tolist()


def test_what_happens_after_the_date_does_not_change_the_forecast(sample):
    as_of = pd.Timestamp("2026-02-15", tz="UTC")
    deals = sample.deals
    later = (deals["closed_at"] > as_of).fillna(False).to_numpy(dtype=bool)
    flipped = deals.copy()
    status = flipped["status"].astype("string")
    flipped.loc[later, "status"] = np.where(status[later] == "won", "lost", "won")
    flipped.loc[later, "closed_at"] = flipped.loc[later, "closed_at"] + pd.Timedelta(days=9)
    flipped.loc[later, "stage"] = "Closed"
    a = revenue.revenue_forecast(sample, as_of=as_of, n_simulations=500, fan=False)
    b = revenue.revenue_forecast(
        Dataset(**{**sample.tables, "deals": flipped}), as_of=as_of, n_simulations=500, fan=False
    )
    pd.testing.assert_frame_equal(a.summary, b.summary)


# --- time to close ----------------------------------------------------------------------------


def test_aalen_johansen_by_hand():
    # times 1 (won), 2 (lost), 2 (censored), 3 (won): at t=1 four at risk, at t=2 three (the
    # censored deal is still at risk at its own time), at t=3 one
    aj = win.aalen_johansen([1, 2, 2, 3], [1, 2, 0, 1])
    assert aj["at_risk"].tolist() == [4, 4, 3, 1]
    np.testing.assert_allclose(aj["still_open"], [1, 0.75, 0.5, 0.0])
    np.testing.assert_allclose(aj["cum_won"], [0, 0.25, 0.25, 0.75])
    np.testing.assert_allclose(aj["cum_lost"], [0, 0, 0.25, 0.25])


def test_still_open_is_statsmodels_kaplan_meier_and_the_parts_add_to_one():
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(30, 80), 0) + 1
    cause = rng.choice([0, 1, 2], size=80, p=[0.3, 0.3, 0.4])
    aj = win.aalen_johansen(t, cause)
    km = SurvfuncRight(t, (cause > 0).astype(int))
    np.testing.assert_allclose(aj["still_open"].to_numpy()[1:], km.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(aj["still_open"] + aj["cum_won"] + aj["cum_lost"], 1.0)
    # treating losses as censored (1 - KM of time to win) overstates wins
    naive = 1 - SurvfuncRight(t, (cause == 1).astype(int)).surv_prob[-1]
    assert naive > aj["cum_won"].iloc[-1]


def test_time_to_close_censors_deals_open_at_the_date(two_open_deals):
    t = win.time_to_close(two_open_deals, as_of="2025-04-01")
    assert t.attrs["n_deals"] == 12
    last = t.iloc[-1]
    assert last["days"] == 10.0 and last["at_risk"] == 10  # the two open deals left at 5 days
    assert last["cum_won"] == pytest.approx(0.4) and last["cum_lost"] == pytest.approx(0.6)


def test_open_deal_probability_is_the_conditional_cumulative_incidence(two_open_deals):
    p = win.open_deal_win_probability(two_open_deals, as_of="2025-04-01", end="2025-07-01")
    np.testing.assert_allclose(p["p_win_in_period"], [0.4, 0.4])
    # a window that ends before any history deal closed (age 5 -> 8): no chance yet
    p = win.open_deal_win_probability(two_open_deals, as_of="2025-04-01", end="2025-04-04")
    np.testing.assert_allclose(p["p_win_in_period"], [0.0, 0.0])
    np.testing.assert_allclose(p["p_win_eventually"], [0.4, 0.4])


# --- stage win rates --------------------------------------------------------------------------


def test_stage_win_rates_from_a_stage_history_counted_by_hand():
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4", "D5"],
            "created_at": _ts(["2025-01-01"] * 5),
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
            "stage": ["Closed Won", "Closed Lost", "Closed Won", "Demo", "Proposal"],
            "status": ["won", "lost", "won", "open", "open"],
            "closed_at": _ts(["2025-02-01", "2025-02-01", "2025-03-15", None, None]),
        }
    )
    history = pd.DataFrame(
        {
            "deal_id": ["D1", "D1", "D2", "D3", "D3", "D4", "D5", "D5"],
            "stage": ["Demo", "Proposal", "Demo", "Demo", "Proposal", "Demo", "Demo", "Proposal"],
            "entered_at": _ts(["2025-01-05"] * 8),
        }
    )
    r = win.stage_win_rates(deals, as_of="2025-03-20", history=history).set_index("stage")
    # Demo: D1 won, D2 lost, D3 won -> 2 / 3; Proposal: D1, D3 won -> 2 / 2
    assert r.loc["Demo", ["won", "decided"]].tolist() == [2, 3]
    assert r.loc["Proposal", ["won", "decided"]].tolist() == [2, 2]
    assert r.loc["Demo", "open_deals"] == 1 and r.loc["Proposal", "open_amount"] == 50.0
    low, high = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert r.loc["Demo", "win_rate_low"] == pytest.approx(low)
    assert r.loc["Demo", "win_rate_high"] == pytest.approx(high)
    # as of 2025-03-01 D3 was still open: Demo 1 / 2
    early = win.stage_win_rates(deals, as_of="2025-03-01", history=history).set_index("stage")
    assert early.loc["Demo", ["won", "decided"]].tolist() == [1, 2]


def test_without_a_stage_history_every_stage_gets_the_rate_of_all_decided_deals(sample):
    r = win.stage_win_rates(sample)
    status = sample.deals["status"]
    expected = (status == "won").sum() / status.isin(["won", "lost"]).sum()
    np.testing.assert_allclose(r["win_rate"], expected)
    open_stages = sample.deals.loc[status == "open", "stage"].value_counts()
    assert r.set_index("stage")["open_deals"].to_dict() == open_stages.to_dict()


# --- the Monte Carlo against exact distributions ----------------------------------------------


def test_two_open_deals_match_their_exact_distribution(two_open_deals):
    # each won with 0.4: 0 (0.36), 100 (0.24), 200 (0.24), 300 (0.16); mean 120
    f = revenue.revenue_forecast(
        two_open_deals, as_of="2025-04-01", n_simulations=40_000, new_pipeline=False
    )
    total = f.simulations("total")
    assert set(np.unique(total)) == {0.0, 100.0, 200.0, 300.0}
    freq = [np.mean(total == v) for v in (0, 100, 200, 300)]
    np.testing.assert_allclose(freq, [0.36, 0.24, 0.24, 0.16], atol=0.01)
    t = f.row("total")
    assert (t["p10"], t["p50"], t["p90"]) == (0.0, 100.0, 300.0)
    assert t["mean"] == pytest.approx(120, abs=4 * np.sqrt(0.4 * 0.6 * 5e4 / 4e4))
    o2 = f.row("O2")  # only the 200 deal: won with 0.4
    assert np.mean(f.simulations("O2") == 200) == pytest.approx(0.4, abs=0.01)
    assert o2["open_pipeline"] == 200.0 and o2["open_deals"] == 1


def test_new_pipeline_expectation_by_hand(two_open_deals):
    # 12 deals created in the 182 days before 2025-04-01; a new deal is won within s days with
    # 0.4 once s >= 10: over the 91 days left the mean chance is 0.4 * (91 - 10) / 91
    f = revenue.revenue_forecast(two_open_deals, as_of="2025-04-01", n_simulations=40_000)
    cell = f.new_pipeline.iloc[0]
    assert cell["created_per_day"] == pytest.approx(12 / 182)
    assert cell["p_win_in_time"] == pytest.approx(0.4 * 81 / 91, abs=0.005)
    lam = 12 / 182 * 91 * 0.4 * 81 / 91
    assert cell["expected_wins"] == pytest.approx(lam, rel=0.01)
    # every simulated new win is one of the four won deals, 50 each
    assert f.row("total")["from_new_pipeline"] == pytest.approx(50 * lam, rel=0.05)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    p=st.lists(st.floats(0, 1), min_size=1, max_size=30),
    seed=st.integers(0, 10_000),
)
def test_simulated_open_deals_stay_between_nothing_and_everything(p, seed):
    p = np.array(p)
    amounts = np.arange(1, len(p) + 1, dtype=float) * 10
    draws = revenue._simulate_open(p, amounts[:, None], 300, np.random.default_rng(seed))[:, 0]
    assert draws.min() >= 0 and draws.max() <= amounts.sum()
    assert np.all(draws[:, None] >= 0)
    q = np.quantile(draws, [0.1, 0.5, 0.9])
    assert q[0] <= q[1] <= q[2]
    sure = p == 1
    assert np.all(draws >= amounts[sure].sum()) and np.all(draws <= amounts[p > 0].sum())


def test_more_simulations_converge_on_the_exact_mean():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200)
    amounts = rng.uniform(100, 1000, 200)
    exact = float(p @ amounts)
    sd = float(np.sqrt((p * (1 - p)) @ amounts**2))
    errors = []
    for n in (100, 10_000):
        draws = revenue._simulate_open(p, amounts[:, None], n, np.random.default_rng(1))[:, 0]
        errors.append(abs(draws.mean() - exact))
        assert errors[-1] < 4 * sd / np.sqrt(n)
    assert np.var(draws) == pytest.approx(sd**2, rel=0.05)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(day=st.integers(0, 120), seed=st.integers(0, 100))
def test_forecast_quantiles_are_ordered_and_never_below_booked(sample, day, seed):
    as_of = pd.Timestamp("2026-02-01", tz="UTC") + pd.Timedelta(days=day)
    f = revenue.revenue_forecast(sample, as_of=as_of, n_simulations=300, seed=seed, fan=False)
    s = f.summary
    assert (s["booked"] <= s["p10"] + 1e-9).all()
    assert ((s["p10"] <= s["p50"]) & (s["p50"] <= s["p90"])).all()
    assert (f.draws >= s["booked"].to_numpy() - 1e-9).all()


def test_summary_groups_add_up_and_quota_comes_from_the_quotas_table(sample):
    f = revenue.revenue_forecast(sample, as_of="2026-05-15", n_simulations=500, fan=False)
    s = f.summary.set_index(["dimension", "item"])
    total = f.simulations("total")
    for dim in ("customer_type", "sourced_by", "owner_id"):
        cols = [int(i) for i in f.summary.index[f.summary["dimension"] == dim]]
        if dim == "owner_id":  # deals without an owner are in no owner's column
            continue
        np.testing.assert_allclose(f.draws[:, cols].sum(axis=1), total)
    q = sample.quotas
    in_q2 = (q["period_start"] >= "2026-04-01") & (q["period_start"] < "2026-07-01")
    assert s.loc[("total", "total"), "quota"] == pytest.approx(q.loc[in_q2, "quota"].sum())
    assert s.loc[("total", "total"), "target"] == s.loc[("total", "total"), "quota"]
    won = salesmkt.won_deals(sample.deals)
    # known at the date: won in the quarter before it, by a deal recorded before it (the
    # sample plants deals whose record was created after their close; those were not known)
    known = (won["created_at"] < "2026-05-15") & (won["closed_at"] < "2026-05-15")
    booked = won.loc[known & (won["closed_at"] >= "2026-04-01"), "amount"].sum()
    assert s.loc[("total", "total"), "booked"] == pytest.approx(booked)
    headline = f.headline()
    assert headline.startswith("P50 $") and "chance of making 2026-Q2" in headline


def test_targets_and_bad_input_are_checked(two_open_deals):
    f = revenue.revenue_forecast(
        two_open_deals,
        as_of="2025-04-01",
        n_simulations=2000,
        targets=250,
        new_pipeline=False,
        fan=False,
    )
    assert f.row("total")["p_reach_target"] == pytest.approx(0.16, abs=0.03)  # both won
    assert f.row("total")["coverage"] == pytest.approx(300 / 250)
    with pytest.raises(ValueError, match="horizon"):
        revenue.revenue_forecast(two_open_deals, as_of="2025-04-01", horizon="2025-01-01")
    with pytest.raises(ValueError, match="deals.amount|amount"):
        revenue.revenue_forecast(_dataset(two_open_deals.deals.drop(columns="amount")))


# --- the backtest -----------------------------------------------------------------------------


def test_backtest_summary_by_hand():
    bt = pd.DataFrame(
        {
            "inside_band": [True, False, True, False],
            "position": ["inside", "below", "inside", "above"],
            "pct_error": [0.1, 0.4, -0.2, -0.3],
        }
    )
    s = backtest_summary(bt).iloc[0]
    assert s["band_coverage"] == 0.5 and (s["below_band"], s["above_band"]) == (1, 1)
    assert s["mape"] == pytest.approx(0.25) and s["bias"] == pytest.approx(0.0)
    assert s["median_abs_pct_error"] == pytest.approx(0.25)


def test_backtest_band_holds_the_outcome_about_80_percent_of_the_time_on_the_sample(sample):
    # Every 1st and 15th of a month whose quarter is complete (about 26 dates, correlated within a
    # quarter): an honest 80 % band holds the outcome at 60 % to 95 % of them.
    bt = forecast_backtest(sample, n_simulations=1000)
    assert len(bt) >= 15
    won = salesmkt.won_deals(sample.deals)
    for r in bt.itertuples():
        inside = (won["closed_at"] >= r.period_end - pd.DateOffset(months=3)) & (
            won["closed_at"] < r.period_end
        )
        assert r.actual == pytest.approx(won.loc[inside, "amount"].sum())
    s = backtest_summary(bt).iloc[0]
    assert 0.6 <= s["band_coverage"] <= 0.95, s["sentence"]
    assert s["median_abs_pct_error"] < 0.3


def _decided_months(wins_per_month, n=50):
    rows = []
    for m, k in enumerate(wins_per_month):
        closed = pd.Timestamp("2025-01-15", tz="UTC") + pd.DateOffset(months=m)
        rows += [{"cause": 1 if i < k else 2, "closed_at": closed} for i in range(n)]
    return pd.DataFrame(rows).assign(customer_type="new")


def test_outcome_shock_is_zero_when_monthly_wins_swing_no_more_than_chance():
    assert revenue._shock_sd(_decided_months([25, 25, 25, 25, 25, 25])) == 0.0
    # 10 and 40 wins of 50 around a rate of 0.5: (k − e)² = 225 against v = 12.5 a month,
    # s² = (225 − 12.5) / 12.5² = 1.36, capped at 1
    assert revenue._shock_sd(_decided_months([10, 40, 10, 40, 10, 40])) == pytest.approx(1.0)
    # 20 and 30: s² = (25 − 12.5) / 156.25 = 0.08
    s = revenue._shock_sd(_decided_months([20, 30, 20, 30, 20, 30]))
    assert s == pytest.approx(np.sqrt(0.08))
    assert revenue._shock_sd(_decided_months([10, 40])) == 0.0  # too few months to tell


def test_a_common_shock_widens_the_spread_of_open_deals():
    p = np.full(100, 0.5)
    w = np.ones((100, 1))
    alone = revenue._simulate_open(p, w, 20_000, np.random.default_rng(0))[:, 0]
    shocked = revenue._simulate_open_shocked(p, w, 20_000, np.random.default_rng(0), 0.5)[:, 0]
    assert alone.var() == pytest.approx(25, rel=0.05)  # binomial(100, 0.5)
    assert shocked.var() > 1.5 * alone.var()
    assert shocked.mean() == pytest.approx(50, abs=0.3)  # symmetric shifts around 0.5


def test_contracts_ending_in_the_period_renew_at_the_past_rate(two_open_deals):
    # annual contracts (stated terms): A01-A04 ended on 2024-01-10 and A01-A03 paid again 36
    # days later, within the 60-day grace: rate 3 / 4 (their new contracts end 2025-02-15,
    # less than the grace before as_of: not yet history); A05 and A06 end in 2025-Q2 without a
    # renewal deal, A07 has one
    ordered = ["2023-01-10"] * 4 + ["2024-02-15"] * 3 + ["2024-05-01", "2024-05-10", "2024-06-01"]
    orders = pd.DataFrame(
        {
            "order_id": [f"I{i}" for i in range(10)],
            "customer_id": ["A01", "A02", "A03", "A04", "A01", "A02", "A03", "A05", "A06", "A07"],
            "ordered_at": _ts(ordered),
            "revenue": [10.0] * 7 + [100.0, 200.0, 400.0],
            "term_months": 12,
        }
    )
    deals = two_open_deals.deals
    renewal = pd.DataFrame(
        {
            "deal_id": ["R7"],
            "created_at": _ts(["2025-03-20"]),
            "amount": [400.0],
            "account_id": ["A07"],
            "owner_id": ["O1"],
            "status": pd.array(["open"], dtype="string"),
            "closed_at": _ts([None]),
            "deal_type": ["renewal"],
        }
    )
    ds = Dataset(deals=pd.concat([deals, renewal], ignore_index=True), orders=orders)
    f = revenue.revenue_forecast(ds, as_of="2025-04-01", n_simulations=20_000, fan=False)
    assert sorted(f.renewals["customer"]) == ["A05", "A06"]
    assert f.renewals["p_renew"].iloc[0] == pytest.approx(0.75)
    # from the renewals alone: 0.75 * (100 + 200) = 225 on average
    plain = revenue.revenue_forecast(
        ds, as_of="2025-04-01", n_simulations=20_000, fan=False, renewals=False
    )
    gain = f.row("total")["from_new_pipeline"] - plain.row("total")["from_new_pipeline"]
    assert gain == pytest.approx(225, abs=15)


def test_report_table_has_plain_names_and_amounts_with_the_currency(two_open_deals):
    f = revenue.revenue_forecast(
        two_open_deals, as_of="2025-04-01", n_simulations=500, targets=250, currency="EUR",
        new_pipeline=False, fan=False,
    )  # fmt: skip
    t = f.table()
    assert t["Group"].tolist()[0] == "Total"
    assert t.loc[0, "Target"] == "€250" and t.loc[0, "Open pipeline"] == "€300"
    assert t.loc[0, "Pipeline coverage"] == "1.2x"
    assert f.table("owner_id")["Group"].tolist() == ["O1", "O2"]
