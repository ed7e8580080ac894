"""Lift tests against hand formulas, scipy/statsmodels oracles and the sample's planted lift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesmkt.sample
from salesmkt.campaigns.holdout import holdout_test
from salesmkt.campaigns.lift import (
    conversion_lift,
    prob_treatment_better,
    revenue_lift,
    revenue_lift_from_buyers,
    sample_size,
)


def test_z_squared_equals_uncorrected_chi_square():
    # attribution.md 3: 120/1000 vs 150/1000 -> chi2 3.8536, p 0.04964.
    row = conversion_lift(120, 1000, 150, 1000).iloc[0]
    chi2, p, _, _ = stats.chi2_contingency([[150, 850], [120, 880]], correction=False)
    assert row["z"] ** 2 == pytest.approx(chi2) == pytest.approx(3.8536, abs=1e-4)
    assert row["p_value"] == pytest.approx(p) == pytest.approx(0.04964, abs=1e-5)
    # pooled z by hand
    pbar = 270 / 2000
    z = 0.03 / np.sqrt(pbar * (1 - pbar) * (2 / 1000))
    assert row["z"] == pytest.approx(z)


Z975 = stats.norm.ppf(0.975)


def wilson(x, n, z=Z975):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_and_newcombe_intervals_by_hand():
    row = conversion_lift(45, 908, 82, 907).iloc[0]
    la, ua = wilson(45, 908)
    lb, ub = wilson(82, 907)
    assert (row["rate_control_low"], row["rate_control_high"]) == pytest.approx((la, ua))
    pa, pb = 45 / 908, 82 / 907
    d = pb - pa
    low = d - np.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = d + np.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    assert (row["lift_low"], row["lift_high"]) == pytest.approx((low, high))
    assert row["relative_lift"] == pytest.approx(d / pa)
    assert row["incremental_conversions"] == pytest.approx(d * 907)


def test_bayesian_probability_exact_vs_numerical_integration():
    from scipy import integrate

    a, b = stats.beta(1 + 30, 1 + 170), stats.beta(1 + 45, 1 + 165)
    expected, _ = integrate.quad(lambda p: b.pdf(p) * a.cdf(p), 0, 1, points=[0.15, 0.2])
    assert prob_treatment_better(30, 200, 45, 210) == pytest.approx(expected, abs=1e-8)
    # Non-integer prior: seeded Monte Carlo, close to the exact value of a nearby prior.
    mc = prob_treatment_better(30, 200, 45, 210, prior=(1.0000001, 1.0))
    assert mc == pytest.approx(expected, abs=0.005)
    # For large n and a flat prior it approaches 1 - one-sided p (attribution.md 3).
    row = conversion_lift(1200, 10000, 1290, 10000).iloc[0]
    assert row["prob_treatment_better"] == pytest.approx(1 - row["p_value"] / 2, abs=0.003)


def test_sample_size_closed_form():
    h = 2 * np.arcsin(np.sqrt(0.09)) - 2 * np.arcsin(np.sqrt(0.05))
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    n = sample_size(0.05, 0.09)["n_per_arm"].item()
    # Var(2 asin sqrt(p_hat)) = 1/n per arm, so the difference has variance 2/n.
    assert n == int(np.ceil(2 * (z / h) ** 2))  # Cohen's table: h = 0.2 -> 393
    assert sample_size(0.5, np.sin(np.arcsin(np.sqrt(0.5)) + 0.1) ** 2)["n_per_arm"].item() == 393
    # The textbook formula on the raw scale agrees within a few percent.
    pbar = 0.07
    classic = (
        stats.norm.ppf(0.975) * np.sqrt(2 * pbar * (1 - pbar))
        + stats.norm.ppf(0.8) * np.sqrt(0.05 * 0.95 + 0.09 * 0.91)
    ) ** 2 / 0.04**2
    assert n == pytest.approx(classic, rel=0.03)
    with pytest.raises(ValueError):
        sample_size(0.05, 0.05)


def test_empty_groups_give_missing_values_not_errors():
    row = conversion_lift(0, 0, 3, 10).iloc[0]
    assert np.isnan(row["absolute_lift"]) and np.isnan(row["p_value"])
    assert "Not enough data" in row["verdict"]
    with pytest.raises(ValueError):
        conversion_lift(5, 3, 1, 10)


def test_verdicts_in_plain_words():
    assert conversion_lift(50, 1000, 90, 1000)["verdict"].item().startswith("Real lift")
    flat = conversion_lift(50, 1000, 55, 1000)["verdict"].item()
    assert flat.startswith("No proven effect") and "people per group" in flat
    assert conversion_lift(90, 1000, 50, 1000)["verdict"].item().startswith("Real but negative")


def test_revenue_lift_bootstrap_is_seeded_and_covers_difference():
    rng = np.random.default_rng(0)
    a = rng.exponential(100, 400) * (rng.random(400) < 0.1)
    b = rng.exponential(100, 400) * (rng.random(400) < 0.2)
    t1 = revenue_lift(a, b, seed=1)
    t2 = revenue_lift(a, b, seed=1)
    assert t1.equals(t2)
    row = t1.iloc[0]
    assert row["difference"] == pytest.approx(b.mean() - a.mean())
    assert row["difference_low"] < row["difference"] < row["difference_high"]
    assert row["p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)


def test_revenue_bootstrap_has_the_spread_of_resampling_people_and_ignores_row_order():
    rng = np.random.default_rng(3)
    a = rng.exponential(100, 3000) * (rng.random(3000) < 0.05)
    b = rng.exponential(120, 2500) * (rng.random(2500) < 0.06)
    row = revenue_lift(a, b, n_boot=4000, seed=2).iloc[0]
    # the percentile interval of a mean difference: about ± 1.96 standard errors
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    width = row["difference_high"] - row["difference_low"]
    assert width == pytest.approx(2 * 1.959964 * se, rel=0.06)
    # resampling people one by one (the textbook bootstrap) gives the same spread
    draws = np.array([b[rng.integers(0, b.size, b.size)].mean() - a[rng.integers(0, a.size, a.size)].mean()
                      for _ in range(2000)])  # fmt: skip
    lo, hi = np.quantile(draws, [0.025, 0.975])
    assert width == pytest.approx(hi - lo, rel=0.08)
    shuffled = revenue_lift(rng.permutation(a), rng.permutation(b), n_boot=4000, seed=2)
    pd.testing.assert_frame_equal(shuffled, revenue_lift(a, b, n_boot=4000, seed=2))
    compact = revenue_lift_from_buyers(a[a > 0], a.size, b[b > 0], b.size, n_boot=4000, seed=2)
    pd.testing.assert_frame_equal(compact, revenue_lift(a, b, n_boot=4000, seed=2))


def test_revenue_bootstrap_over_ten_million_people_needs_only_the_buyers():
    rng = np.random.default_rng(8)
    buyers_c, buyers_t = rng.exponential(100, 4000), rng.exponential(110, 4400)
    row = revenue_lift_from_buyers(buyers_c, 5_000_000, buyers_t, 5_000_000).iloc[0]
    assert row["difference"] == pytest.approx((buyers_t.sum() - buyers_c.sum()) / 5e6)
    assert row["difference_low"] < row["difference"] < row["difference_high"]
    with pytest.raises(ValueError, match="non-zero revenues in a group of 3"):
        revenue_lift_from_buyers([1.0] * 4, 3, [1.0], 3)


def test_holdout_lift_in_sample_has_right_sign_and_covers_planted_effect(sample):
    truth = salesmkt.sample.generate(seed=7).truth["lift"].iloc[0]
    t = holdout_test(sample, campaign_id=truth["campaign_id"], outcome="opportunity_at", window=60)
    row = t.iloc[0]
    assert row["n_control"] == truth["n_control"] and row["n_treatment"] == truth["n_treatment"]
    assert row["rate_control"] == pytest.approx(truth["observed_control_rate"], abs=1e-4)
    assert row["rate_treatment"] == pytest.approx(truth["observed_treatment_rate"], abs=1e-4)
    assert row["absolute_lift"] > 0
    assert row["lift_low"] <= truth["absolute_effect"] <= row["lift_high"]
    assert row["n_excluded"] == 0
    assert row["verdict"].startswith("Real lift")


def test_holdout_errors_name_the_problem(sample):
    with pytest.raises(ValueError, match="no assignments"):
        holdout_test(sample, campaign_id="C99")
    with pytest.raises(ValueError, match="outcome"):
        holdout_test(sample, campaign_id="C12", outcome="nonsense")


def test_no_assignments_table_means_no_holdout_test_not_an_error(sample):
    import matplotlib.pyplot as plt

    from salesmkt.io import Dataset

    r = salesmkt.holdout_test(Dataset(leads=sample.leads, deals=sample.deals))
    assert len(r) == 1 and r["n_control"].item() == 0 and r["n_treatment"].item() == 0
    assert np.isnan(r["absolute_lift"].item()) and np.isnan(r["revenue_difference"].item())
    assert salesmkt.holdout_summary(r).startswith("No holdout test: the data has no assignments")
    ax = salesmkt.plot_lift(r)
    assert ax.texts[0].get_text().startswith("No holdout test")
    plt.close("all")
    with_test = salesmkt.holdout_test(sample, campaign_id="C12")
    text = salesmkt.holdout_summary(with_test)
    assert text.startswith(f"**{with_test['campaign_name'].item()}** (C12), outcome")
    assert f"among {with_test['n_treatment'].item():,} people reached" in text
