"""Experiment statistics against independent computations: regression (statsmodels), scipy,
hand formulas, a bootstrap, simulation under the null and tea-tasting where installed."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

import salesmkt
from salesmkt.campaigns.experiments import (
    adjust_p_values,
    confidence_sequence,
    cuped_lift,
    experiment_moments,
    ratio_lift,
    sample_ratio_check,
    sequential_verdict,
)
from salesmkt.campaigns.holdout import holdout_people, holdout_summary, holdout_table, holdout_test
from salesmkt.campaigns.lift import sample_size, sample_size_mean
from salesmkt.data.dataset import Dataset


def _experiment(n=4000, effect=0.3, seed=1, binary=False):
    rng = np.random.default_rng(seed)
    x = rng.gamma(3.0, 3.0, n)
    t = rng.integers(0, 2, n)
    if binary:
        p = 1 / (1 + np.exp(-(-3 + 0.15 * x + effect * t)))
        y = (rng.random(n) < p).astype(float)
    else:
        y = 0.5 * x + effect * t + rng.normal(0, 1.5, n)
    return pd.DataFrame({"group": np.where(t == 1, "treatment", "control"), "t": t, "y": y, "x": x})


# --- CUPED ------------------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True])
def test_cuped_equals_the_treatment_coefficient_of_the_adjusted_regression(binary):
    df = _experiment(binary=binary)
    r = cuped_lift(df, metric="y", covariate="x").iloc[0]
    fit = smf.ols("y ~ t + xc", data=df.assign(xc=df["x"] - df["x"].mean())).fit()
    assert r["adjusted_difference"] == pytest.approx(fit.params["t"], rel=1e-10, abs=1e-12)
    assert r["theta"] == pytest.approx(fit.params["xc"], rel=1e-10)
    # the standard error agrees with the regression's heteroskedasticity-robust one
    assert r["adjusted_se"] == pytest.approx(fit.get_robustcov_results("HC2").bse[1], rel=0.02)
    plain = smf.ols("y ~ t", data=df).fit().get_robustcov_results("HC2")
    assert r["difference"] == pytest.approx(plain.params[1], rel=1e-10)
    assert r["se"] == pytest.approx(plain.bse[1], rel=1e-3)


def test_cuped_variance_reduction_is_about_one_minus_the_within_group_correlation_squared():
    df = _experiment(n=20_000)
    r = cuped_lift(df, metric="y", covariate="x").iloc[0]
    resid = df.groupby("group")[["x", "y"]].transform(lambda s: s - s.mean())
    rho = np.corrcoef(resid["x"], resid["y"])[0, 1]
    assert r["correlation"] == pytest.approx(rho, rel=1e-10)
    assert r["variance_reduction"] == pytest.approx(rho**2, abs=0.01)
    assert r["interval_narrower"] == pytest.approx(
        1 - (r["adjusted_high"] - r["adjusted_low"]) / (r["difference_high"] - r["difference_low"])
    )


def test_cuped_agrees_with_tea_tasting():
    tt = pytest.importorskip("tea_tasting")
    df = _experiment(n=6000, seed=3)
    r = cuped_lift(df, metric="y", covariate="x").iloc[0]
    peer = (
        tt.Experiment(m=tt.Mean("y", "x"), variant="t")
        .analyze(df.drop(columns="group"))
        .to_pandas()
        .iloc[0]
    )
    # tea-tasting takes theta over all people, we within the groups: equal up to chance
    assert r["adjusted_difference"] == pytest.approx(
        peer["effect_size"], abs=0.2 * r["adjusted_se"]
    )
    width = peer["effect_size_ci_upper"] - peer["effect_size_ci_lower"]
    assert r["adjusted_high"] - r["adjusted_low"] == pytest.approx(width, rel=0.01)


def test_without_a_useful_covariate_nothing_changes():
    df = _experiment().assign(x=1.0)
    r = cuped_lift(df, metric="y", covariate="x").iloc[0]
    assert r["adjusted_difference"] == pytest.approx(r["difference"])
    assert r["variance_reduction"] == pytest.approx(0.0, abs=1e-12)


# --- engine -----------------------------------------------------------------------------------


def test_moments_and_estimates_identical_in_pandas_and_duckdb(tmp_path):
    df = _experiment(n=5000, binary=True)[["group", "y", "x"]]
    df["d"] = np.random.default_rng(0).integers(1, 5, len(df))
    path = tmp_path / "people.parquet"
    df.to_parquet(path)
    con = ibis.duckdb.connect()
    for table in (ibis.memtable(df), con.read_parquet(str(path))):
        mem = experiment_moments(df, columns=["y", "x", "d"])
        db = experiment_moments(table, columns=["y", "x", "d"])
        pd.testing.assert_frame_equal(mem, db, check_exact=False, rtol=1e-12)
        a = cuped_lift(df, metric="y", covariate="x")
        b = cuped_lift(table, metric="y", covariate="x")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)
        a = ratio_lift(df, numerator="y", denominator="d")
        b = ratio_lift(table, numerator="y", denominator="d")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)


def test_moments_by_hand():
    df = pd.DataFrame({"group": ["b", "a", "a"], "y": [3.0, 1.0, 2.0], "x": [1, 2, 4]})
    m = experiment_moments(df, columns=["y", "x"]).set_index("group")
    assert m.loc["a"].to_dict() == {
        "n": 2, "sum_y": 3.0, "sum_x": 6.0, "sum_y_x_y": 5.0, "sum_y_x_x": 10.0, "sum_x_x_x": 20.0
    }  # fmt: skip


def test_missing_values_are_an_error_naming_the_column():
    df = _experiment(n=100)
    df.loc[3, "x"] = np.nan
    with pytest.raises(ValueError, match="x: 1 missing"):
        experiment_moments(df, columns=["y", "x"])
    with pytest.raises(ValueError, match="x: 1 missing"):
        experiment_moments(ibis.memtable(df), columns=["y", "x"])
    with pytest.raises(ValueError, match="no people in group 'variant_b'"):
        cuped_lift(df.dropna(), metric="y", covariate="x", treatment="variant_b")


# --- delta method -----------------------------------------------------------------------------


def test_ratio_lift_by_hand():
    df = pd.DataFrame(
        {"group": ["control"] * 3 + ["treatment"] * 3,
         "orders": [1, 0, 2, 2, 1, 3], "sessions": [2, 1, 3, 2, 2, 3]}
    )  # fmt: skip
    r = ratio_lift(df, numerator="orders", denominator="sessions").iloc[0]
    var = {}
    for g, (a, b) in {
        "control": ([1, 0, 2], [2, 1, 3]),
        "treatment": ([2, 1, 3], [2, 2, 3]),
    }.items():
        a, b = np.array(a, float), np.array(b, float)
        ratio = a.sum() / b.sum()
        lin = (a - ratio * b) / b.mean()  # the linearised unit contributions
        var[g] = lin.var(ddof=1) / len(a)
        assert r[f"ratio_{g}"] == pytest.approx(ratio)
    assert r["se"] == pytest.approx(np.sqrt(var["control"] + var["treatment"]))
    assert r["difference"] == pytest.approx(6 / 7 - 3 / 6)


def test_ratio_lift_against_a_bootstrap_and_tea_tasting():
    rng = np.random.default_rng(7)
    n = 3000
    sessions = rng.poisson(3, n) + 1
    t = rng.integers(0, 2, n)
    orders = rng.binomial(sessions, 0.10 + 0.02 * t)
    df = pd.DataFrame({"group": np.where(t == 1, "treatment", "control"), "t": t,
                       "orders": orders, "sessions": sessions})  # fmt: skip
    r = ratio_lift(df, numerator="orders", denominator="sessions").iloc[0]
    boot = np.empty(1000)
    arms = {
        g: df[df["group"] == g][["orders", "sessions"]].to_numpy() for g in ("control", "treatment")
    }
    for i in range(boot.size):
        q = {}
        for g, v in arms.items():
            s = v[rng.integers(0, len(v), len(v))]
            q[g] = s[:, 0].sum() / s[:, 1].sum()
        boot[i] = q["treatment"] - q["control"]
    assert r["se"] == pytest.approx(boot.std(ddof=1), rel=0.08)
    tt = pytest.importorskip("tea_tasting")
    peer = tt.Experiment(r=tt.RatioOfMeans("orders", "sessions"), variant="t").analyze(
        df.drop(columns="group")
    )
    peer = peer.to_pandas().iloc[0]
    assert r["difference"] == pytest.approx(peer["effect_size"], rel=1e-10)
    assert r["difference_low"] == pytest.approx(peer["effect_size_ci_lower"], rel=1e-3)
    assert r["relative_lift"] == pytest.approx(peer["rel_effect_size"], rel=1e-10)


def _accounts(n=4000, seed=11):
    """Accounts randomised; revenue per lead is the metric. Pre-period visits (a plain
    covariate) and pre-period revenue per pre-period lead (a ratio covariate) predict it."""
    rng = np.random.default_rng(seed)
    size = rng.gamma(2.0, 1.0, n)
    t = rng.integers(0, 2, n)
    leads = rng.poisson(2 + 3 * size) + 1
    pre_leads = rng.poisson(2 + 3 * size) + 1
    pre_revenue = rng.gamma(10.0, 40 * size * pre_leads / 10)
    visits = rng.poisson(5 + 8 * size)
    revenue = rng.gamma(10.0, (40 * size + 4 * t) * leads / 10)
    return pd.DataFrame({"group": np.where(t == 1, "treatment", "control"), "t": t,
                         "revenue": revenue, "leads": leads, "visits": visits,
                         "pre_revenue": pre_revenue, "pre_leads": pre_leads})  # fmt: skip


def _linearised(df, num, den):
    """Per unit, the group's ratio plus the unit's linearised deviation (numpy, by hand)."""
    out = np.empty(len(df))
    for g in ("control", "treatment"):
        k = (df["group"] == g).to_numpy()
        a, b = df.loc[k, num].to_numpy(float), df.loc[k, den].to_numpy(float)
        ratio = a.sum() / b.sum()
        out[k] = ratio + (a - ratio * b) / b.mean()
    return out


@pytest.mark.parametrize("ratio_covariate", [False, True])
def test_ratio_cuped_is_the_regression_on_the_linearised_ratio(ratio_covariate):
    df = _accounts()
    kw = {"covariate": "pre_revenue", "covariate_denominator": "pre_leads"}
    if not ratio_covariate:
        kw = {"covariate": "visits"}
    r = ratio_lift(df, numerator="revenue", denominator="leads", **kw).iloc[0]
    z = _linearised(df, "revenue", "leads")
    w = _linearised(df, "pre_revenue", "pre_leads") if ratio_covariate else df["visits"] * 1.0
    lin = pd.DataFrame({"z": z, "t": df["t"], "wc": w - np.mean(w)})
    fit = smf.ols("z ~ t + wc", data=lin).fit()
    assert r["adjusted_difference"] == pytest.approx(fit.params["t"], rel=1e-10)
    assert r["theta"] == pytest.approx(fit.params["wc"], rel=1e-10)
    assert r["adjusted_se"] == pytest.approx(fit.get_robustcov_results("HC2").bse[1], rel=0.02)
    assert r["difference"] == pytest.approx(smf.ols("z ~ t", data=lin).fit().params["t"], rel=1e-10)
    assert r["adjusted_se"] < 0.8 * r["se"]  # the covariate predicts revenue per lead
    assert r["variance_reduction"] == pytest.approx(1 - (r["adjusted_se"] / r["se"]) ** 2)


def test_ratio_cuped_standard_error_against_a_bootstrap():
    df = _accounts(n=3000, seed=4)
    kw = {"numerator": "revenue", "denominator": "leads", "covariate": "visits"}
    r = ratio_lift(df, **kw).iloc[0]
    rng = np.random.default_rng(99)
    arms = [df[df["group"] == g] for g in ("control", "treatment")]
    boot = np.empty(400)
    for i in range(boot.size):
        s = pd.concat([a.iloc[rng.integers(0, len(a), len(a))] for a in arms])
        boot[i] = ratio_lift(s, **kw)["adjusted_difference"].iloc[0]
    assert r["adjusted_se"] == pytest.approx(boot.std(ddof=1), rel=0.12)


def test_ratio_cuped_over_a_denominator_of_one_is_cuped():
    df = _experiment(n=3000).assign(one=1)
    r = ratio_lift(df, numerator="y", denominator="one", covariate="x").iloc[0]
    c = cuped_lift(df, metric="y", covariate="x").iloc[0]
    for col in ("adjusted_difference", "adjusted_se", "theta", "correlation", "se"):
        assert r[col] == pytest.approx(c[col], rel=1e-10), col
    with pytest.raises(ValueError, match="covariate_denominator needs a covariate"):
        ratio_lift(df, numerator="y", denominator="one", covariate_denominator="x")


# --- sample ratio mismatch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "planned"),
    [
        ({"control": 5000, "treatment": 5400}, None),
        ({"a": 980, "b": 1010, "c": 2100}, {"a": 1, "b": 1, "c": 2}),
    ],
)
def test_sample_ratio_check_is_scipys_chi_square(observed, planned):
    r = sample_ratio_check(observed, planned=planned)
    shares = np.array(list((planned or dict.fromkeys(observed, 1)).values()), float)
    obs = np.array(list(observed.values()), float)
    chi2, p = stats.chisquare(obs, obs.sum() * shares / shares.sum())
    assert r["chi2"].iloc[0] == pytest.approx(chi2)
    assert r["p_value"].iloc[0] == pytest.approx(p)
    assert bool(r["mismatch"].iloc[0]) == (p < 0.001)
    assert r.attrs["message"].startswith("The split is broken" if p < 0.001 else "The split holds")


def test_a_broken_split_stops_the_holdout_verdict(sample):
    a = sample.assignments
    drop = a.index[a["group"].eq("treatment")][: len(a) // 5]  # a fifth of the people lost
    broken = Dataset(**{**sample.tables, "assignments": a.drop(drop)})
    r = holdout_test(broken).iloc[0]
    assert r["srm_mismatch"]
    assert r["verdict"].startswith("No verdict. The split is broken")
    assert r["decision"] == "stop: repair the split"
    assert "The split is broken" in holdout_summary(holdout_test(broken))


# --- confidence sequences ---------------------------------------------------------------------


def test_confidence_sequence_formula_by_hand():
    alpha, tuning, n, se = 0.05, 2000, 800, 0.02
    rho2 = (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning
    sigma = se * np.sqrt(n)
    half = sigma * np.sqrt(
        (2 * (n * rho2 + 1)) / (n**2 * rho2) * np.log(np.sqrt(n * rho2 + 1) / alpha)
    )
    low, high = confidence_sequence(0.1, se, n, alpha=alpha, tuning=tuning)
    assert (float(low), float(high)) == pytest.approx((0.1 - half, 0.1 + half))
    # at the tuning size the sequence is about 1.55 fixed-sample intervals wide
    low, high = confidence_sequence(0.0, se, tuning, alpha=alpha, tuning=tuning)
    assert float(high) / (1.959964 * se) == pytest.approx(1.55, abs=0.01)


def test_confidence_sequence_keeps_its_coverage_across_many_peeks():
    """Under no effect, the share of experiments whose sequence ever excludes zero stays below
    alpha, however often we look; a fixed 95 % interval read at every look does not."""
    rng = np.random.default_rng(2024)
    runs, n, alpha = 400, 2000, 0.05
    y = rng.normal(0.0, 1.0, (runs, n))
    treat = np.tile(np.arange(n) % 2 == 1, (runs, 1))  # alternate arms
    peeks = np.arange(100, n + 1, 25)
    ever_seq = np.zeros(runs, bool)
    ever_fixed = np.zeros(runs, bool)
    for k in peeks:
        yt, yc = np.where(treat[:, :k], y[:, :k], np.nan), np.where(~treat[:, :k], y[:, :k], np.nan)
        nt, nc = (~np.isnan(yt)).sum(1), (~np.isnan(yc)).sum(1)
        diff = np.nanmean(yt, 1) - np.nanmean(yc, 1)
        se = np.sqrt(np.nanvar(yt, 1, ddof=1) / nt + np.nanvar(yc, 1, ddof=1) / nc)
        low, high = confidence_sequence(diff, se, k, alpha=alpha, tuning=n)
        ever_seq |= (low > 0) | (high < 0)
        ever_fixed |= np.abs(diff / se) > 1.96
    assert ever_seq.mean() <= alpha + 0.01
    assert ever_fixed.mean() > 3 * alpha


def test_sequential_decisions():
    assert sequential_verdict(0.05, 0.01, 2000)["decision"].item() == "stop: the effect is real"
    neg = sequential_verdict(-0.05, 0.01, 2000).iloc[0]
    assert neg["decision"] == "stop: the effect is real" and "negative" in neg["explanation"]
    assert sequential_verdict(0.01, 0.01, 2000)["decision"].item() == "keep running"
    flat = sequential_verdict(0.0, 0.001, 50_000, min_effect=0.01)
    assert flat["decision"].item() == "stop: no effect large enough to matter"
    # without a smallest effect worth acting on, there is no futility stop
    assert sequential_verdict(0.0, 0.001, 50_000)["decision"].item() == "keep running"


# --- several tests at once --------------------------------------------------------------------


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_holm_by_hand_and_bh_as_statsmodels(p):
    r = adjust_p_values(p)
    order = np.argsort(p, kind="stable")
    m = len(p)
    holm = np.minimum(1, np.maximum.accumulate(np.array(p)[order] * (m - np.arange(m))))
    expected = np.empty(m)
    expected[order] = holm
    np.testing.assert_allclose(r["adjusted_p_value"], expected, atol=1e-12)
    bh = adjust_p_values(p, method="fdr_bh")
    np.testing.assert_allclose(bh["adjusted_p_value"], multipletests(p, method="fdr_bh")[1])
    assert (bh["adjusted_p_value"] <= r["adjusted_p_value"] + 1e-12).all()


# --- power with the variance reduction --------------------------------------------------------


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6])
def test_sample_size_with_covariate_is_statsmodels_with_scaled_variance(rho):
    h = proportion_effectsize(0.09, 0.05)
    n = NormalIndPower().solve_power(abs(h) / np.sqrt(1 - rho**2), alpha=0.05, power=0.8, ratio=1)
    assert sample_size(0.05, 0.09, correlation=rho)["n_per_arm"].item() == int(np.ceil(n))
    n = TTestIndPower().solve_power(50 / (400 * np.sqrt(1 - rho**2)), alpha=0.05, power=0.8)
    assert sample_size_mean(50, 400, correlation=rho)["n_per_arm"].item() == int(np.ceil(n))
    # the normal approximation by hand: n = 2 (z_a/2 + z_b)^2 sd^2 (1 - rho^2) / effect^2
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    hand = 2 * z**2 * 400**2 * (1 - rho**2) / 50**2
    assert sample_size_mean(50, 400, correlation=rho)["n_per_arm"].item() == pytest.approx(
        hand, rel=0.01
    )


# --- the sample company -----------------------------------------------------------------------


def test_sample_exposes_the_planted_covariate_and_cuped_narrows_the_interval(sample):
    truth = salesmkt.sample.generate(seed=7).truth["lift"].iloc[0]
    assert truth["covariate_column"] == "assignments.pre_period_visits"
    assert "pre_period_visits" in sample.assignments.columns
    leads = sample.leads.set_index("lead_id")
    a = sample.assignments
    assert (
        a["pre_period_visits"].to_numpy() == leads.loc[a["person_id"], "web_visits_90d"].to_numpy()
    ).all()
    people = holdout_people(sample)
    r = holdout_test(sample).iloc[0]
    # the within-group correlation, computed here from the people table
    resid = people.groupby("group")[["converted", "pre_period_visits"]].transform(
        lambda s: s.astype(float) - s.astype(float).mean()
    )
    rho = np.corrcoef(resid["converted"], resid["pre_period_visits"])[0, 1]
    assert r["cuped_correlation"] == pytest.approx(rho)
    assert r["cuped_interval_narrower"] > 0.08  # visibly narrower
    assert r["cuped_difference"] == pytest.approx(r["absolute_lift"])
    assert not r["srm_mismatch"]
    table = holdout_table(holdout_test(sample))
    assert (
        table["width_points"].iloc[1]
        < table["width_points"].iloc[0]
        < table["width_points"].iloc[2]
    )
    text = holdout_summary(holdout_test(sample))
    assert "CUPED" in text and "The split holds" in text and "Keep running or stop?" in text


# --- the holdout test where the data lives ----------------------------------------------------

_ENGINE_TABLES = ("assignments", "leads", "deals", "campaigns")


def _messy(sample) -> Dataset:
    """The sample with what the rules must handle: leads out of stage order, assigned people
    missing from the leads, a skipped stage, a second won deal and a missing covariate value."""
    leads = sample.leads.copy()
    a = sample.assignments.copy()
    ids = a["person_id"].iloc[:40].tolist()
    pos = leads.index[leads["lead_id"].isin(ids[:6])]
    leads.loc[pos, "sql_at"] = leads.loc[pos, "created_at"] - pd.Timedelta(days=1)  # out of order
    pos = leads.index[leads["lead_id"].isin(ids[6:12])]
    leads.loc[pos, "opportunity_at"] = pd.NaT  # skipped: entered with the next stage
    leads.loc[pos, "customer_at"] = leads.loc[pos, "sql_at"] + pd.Timedelta(days=3)
    leads = leads[~leads["lead_id"].isin(ids[12:15])]  # assigned but not among the leads
    deals = sample.deals.copy()
    won = deals[deals["status"].eq("won") & deals["lead_id"].isin(a["person_id"])].head(3)
    deals = pd.concat([deals, won.assign(deal_id=won["deal_id"] + "-2", amount=1234.5)])
    return Dataset(**{**sample.tables, "leads": leads, "deals": deals.reset_index(drop=True),
                      "assignments": a})  # fmt: skip


def _in_duckdb(data: Dataset, con) -> Dataset:
    tables = dict(data.tables)
    for name in _ENGINE_TABLES:
        con.create_table(name, tables[name], overwrite=True)
        tables[name] = con.table(name)
    return Dataset(**tables)


def _same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c].iloc[0], b[c].iloc[0]
        if isinstance(x, int | float | np.number) and not isinstance(x, bool | np.bool_):
            assert float(y) == pytest.approx(float(x), rel=rtol, abs=1e-12, nan_ok=True), c
        else:
            assert (pd.isna(x) and pd.isna(y)) or x == y, c


@pytest.mark.parametrize(
    ("outcome", "covariate"),
    [
        ("opportunity_at", "pre_period_visits"),
        ("sql_at", "web_visits_90d"),  # a covariate of the leads
        ("deal_won", "pre_period_visits"),
        ("deal_created", None),
    ],
)
def test_holdout_test_in_the_engine_equals_the_pandas_path(sample, outcome, covariate):
    data = _messy(sample)
    plain = holdout_test(data, outcome=outcome, covariate=covariate)
    con = ibis.duckdb.connect()
    engine = holdout_test(_in_duckdb(data, con), outcome=outcome, covariate=covariate)
    _same(plain, engine)
    mixed = Dataset(**{**data.tables, "assignments": ibis.memtable(data.assignments)})
    _same(plain, holdout_test(mixed, outcome=outcome, covariate=covariate))
    # and both equal the statistics of the per-person table, computed here
    people = holdout_people(data, outcome=outcome)
    r = engine.iloc[0]
    assert r["n_excluded"] == people.attrs["n_excluded"] > 0
    for arm in ("control", "treatment"):
        g = people[people["group"] == arm]
        assert r[f"n_{arm}"] == len(g)
        assert r[f"conversions_{arm}"] == g["converted"].sum()
        assert r[f"revenue_revenue_per_person_{arm}"] == pytest.approx(g["revenue"].mean())


@pytest.mark.parametrize("outcome", ["opportunity_at", "deal_won"])
def test_holdout_people_from_the_engine_equal_those_of_pandas(sample, outcome):
    data = _messy(sample)
    plain = holdout_people(data, outcome=outcome)
    engine = holdout_people(_in_duckdb(data, ibis.duckdb.connect()), outcome=outcome)
    assert engine.attrs == plain.attrs
    plain = plain.sort_values("person_id", kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(
        engine[plain.columns], plain, check_dtype=False, check_exact=False, rtol=1e-12
    )


def test_holdout_test_with_a_missing_covariate_value_in_the_engine(sample):
    a = sample.assignments.copy()
    a["pre_period_visits"] = a["pre_period_visits"].astype("Float64")
    a.loc[a.index[5], "pre_period_visits"] = pd.NA
    data = Dataset(**{**sample.tables, "assignments": a})
    plain = holdout_test(data)
    engine = holdout_test(_in_duckdb(data, ibis.duckdb.connect()))
    _same(plain, engine)
    assert pd.isna(engine["covariate"].iloc[0])
    assert np.isnan(engine["cuped_adjusted_difference"].iloc[0])


def test_of_two_campaigns_as_large_both_paths_take_the_first_id(sample):
    a = sample.assignments
    data = Dataset(**{**sample.tables, "assignments": pd.concat([a, a.assign(campaign_id="A01")])})
    plain = holdout_test(data)
    assert plain["campaign_id"].item() == "A01"
    _same(plain, holdout_test(_in_duckdb(data, ibis.duckdb.connect())))


def test_assignments_kept_in_a_parquet_file_give_the_holdout_of_the_files(
    sample, tmp_path, monkeypatch
):
    from salesmkt.data.engine import is_table

    for name, df in sample.tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    monkeypatch.setenv("SALESMKT_IN_MEMORY_ROWS", "0")
    kept = salesmkt.load(tmp_path)
    assert is_table(kept.assignments) and not is_table(kept.leads)
    assert kept.findings["table"].eq("assignments").any()  # said, as for the event tables
    _same(holdout_test(sample), holdout_test(kept))
    assert holdout_summary(holdout_test(kept)) == holdout_summary(holdout_test(sample))


def _holdout_row(**revenue) -> pd.DataFrame:
    """A hand-made :func:`holdout_test` result: only what the summary's sentence reads."""
    return pd.DataFrame(
        [
            {
                "campaign_name": "Stalled-lead nurture",
                "campaign_id": "c9",
                "outcome": "opportunity_at",
                "window_days": 60,
                "verdict": "The lift is real.",
                "n_control": 500,
                "n_treatment": 1500,
                "incremental_conversions": 42.0,
                **revenue,
            }
        ]
    )


def test_holdout_summary_writes_revenue_per_person_in_the_report_currency():
    row = _holdout_row(
        revenue_revenue_per_person_treatment=162.4,
        revenue_revenue_per_person_control=103.2,
        revenue_difference_low=-48.7,
        revenue_difference_high=165.3,
    )
    text = holdout_summary(row, currency="USD")
    assert "$162 with the campaign against $103 without" in text
    assert "(difference interval -$49 to $165)" in text
    # the currency of kpis.yml, and the default when none is given
    assert "€162 with the campaign against €103 without" in holdout_summary(row, currency="EUR")
    assert "(difference interval -€49 to €165)" in holdout_summary(row, currency="EUR")
    assert "$162 with the campaign" in holdout_summary(row)


def test_holdout_summary_keeps_cents_when_every_amount_is_small():
    row = _holdout_row(
        revenue_revenue_per_person_treatment=4.5,
        revenue_revenue_per_person_control=3.25,
        revenue_difference_low=-0.5,
        revenue_difference_high=3.0,
    )
    text = holdout_summary(row, currency="GBP")
    assert "£4.50 with the campaign against £3.25 without" in text
    assert "(difference interval -£0.50 to £3.00)" in text
