"""Lead score quality, input drift and the MQL threshold, each figure held to an independent
computation: scikit-learn's metrics, statsmodels' Wilson interval, or a small example worked by
hand. The SLA with a score-based MQL definition is checked on a hand-made CRM."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

import salesmkt
from salesmkt.data.dataset import Dataset
from salesmkt.scoring import drift
from salesmkt.scoring.minimums import TooFewConversionsWarning

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def _random_predictions(seed: int = 0, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 1)))).astype(int)
    fold = np.repeat([1, 2, 3, 4], n // 4)
    score = 1 / (1 + np.exp(-(x - 1)))
    base = np.full(n, y.mean())
    return pd.DataFrame(
        {
            "model": ["score"] * n + ["base rate"] * n,
            "fold": np.tile(fold, 2),
            "converted": np.tile(y, 2),
            "probability": np.concatenate([score, base]),
        }
    )


# --- model_quality ----------------------------------------------------------------------------


def _auc_by_pairs(y, p) -> float:
    """Share of (converting, non-converting) pairs ordered right, ties counting half."""
    pos = [pi for yi, pi in zip(y, p, strict=True) if yi == 1]
    neg = [pi for yi, pi in zip(y, p, strict=True) if yi == 0]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_model_quality_on_a_hand_worked_example():
    pr = pd.DataFrame({"converted": [1, 0, 1, 0], "probability": [0.8, 0.4, 0.35, 0.1]})
    row = salesmkt.model_quality(pr).iloc[0]
    # pairs (0.8, 0.4) (0.8, 0.1) (0.35, 0.1) right, (0.35, 0.4) wrong: 3 of 4
    assert row["roc_auc"] == pytest.approx(0.75)
    # ranked 1, 0, 1, 0: precision 1/1 at recall 1/2, 2/3 at recall 1
    assert row["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    brier = (0.2**2 + 0.4**2 + 0.65**2 + 0.1**2) / 4
    assert row["brier"] == pytest.approx(brier)
    assert row["brier_skill"] == pytest.approx(1 - brier / 0.25)
    ll = -(math.log(0.8) + math.log(0.6) + math.log(0.35) + math.log(0.9)) / 4
    assert row["log_loss"] == pytest.approx(ll)
    assert (row["n"], row["conversions"], row["base_rate"]) == (4, 2, 0.5)
    assert "fold" not in salesmkt.model_quality(pr).columns
    as_bool = pr.assign(converted=pr["converted"].astype(bool))
    pd.testing.assert_frame_equal(salesmkt.model_quality(as_bool), salesmkt.model_quality(pr))


def test_model_quality_agrees_with_sklearn_per_model_and_fold():
    pr = _random_predictions()
    q = salesmkt.model_quality(pr)
    assert q.groupby("model").size().to_dict() == {"base rate": 5, "score": 5}
    for _, row in q.iterrows():
        sel = pr["model"] == row["model"]
        if row["fold"] != "(pooled)":
            sel &= pr["fold"] == row["fold"]
        y, p = pr.loc[sel, "converted"], pr.loc[sel, "probability"]
        assert row["n"] == sel.sum() and row["conversions"] == y.sum()
        assert row["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, p))
        assert row["roc_auc"] == pytest.approx(_auc_by_pairs(y.tolist(), p.tolist()))
        assert row["pr_auc"] == pytest.approx(metrics.average_precision_score(y, p))
        assert row["brier"] == pytest.approx(metrics.brier_score_loss(y, p))
        assert row["log_loss"] == pytest.approx(metrics.log_loss(y, p))
    pooled = q[(q["fold"] == "(pooled)")].set_index("model")
    # the base rate (of all rows) ranks nothing and has no skill over itself
    assert pooled.loc["base rate", "roc_auc"] == 0.5
    assert pooled.loc["base rate", "brier_skill"] == pytest.approx(0, abs=1e-12)
    assert pooled.loc["score", "roc_auc"] > 0.7 and pooled.loc["score", "brier_skill"] > 0


def test_model_quality_one_outcome_leaves_the_aucs_missing_and_bad_input_is_named():
    q = salesmkt.model_quality(pd.DataFrame({"converted": [0, 0], "probability": [0.1, 0.2]}))
    assert q[["roc_auc", "pr_auc", "brier_skill"]].isna().all(axis=None)
    with pytest.raises(ValueError, match=r"predictions.probability: 1 values .* rows 1"):
        salesmkt.model_quality(pd.DataFrame({"converted": [0, 1], "probability": [0.1, 1.2]}))
    with pytest.raises(ValueError, match=r"predictions.converted: 1 values are not 0/1"):
        salesmkt.model_quality(pd.DataFrame({"converted": [2, 1], "probability": [0.1, 0.2]}))
    with pytest.raises(ValueError, match="predictions.p: model_quality needs this column"):
        salesmkt.model_quality(pd.DataFrame({"converted": [1]}), p="p")


# --- calibration ------------------------------------------------------------------------------


def test_calibration_table_by_hand_and_wilson_from_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    y = [0, 0, 1, 0, 1, 1, 0, 1]
    p = [0.1, 0.1, 0.2, 0.4, 0.5, 0.7, 0.8, 0.9]
    t = salesmkt.calibration_table(y, p, bins=2)
    # median 0.45: bin 1 holds .1 .1 .2 .4 (1 conversion), bin 2 holds .5 .7 .8 .9 (3)
    assert t["n"].tolist() == [4, 4] and t["conversions"].tolist() == [1, 3]
    assert t["mean_predicted"].tolist() == pytest.approx([0.2, 0.725])
    assert t["observed_rate"].tolist() == [0.25, 0.75]
    lo, hi = proportion_confint([1, 3], [4, 4], method="wilson")
    assert t["ci_low"].tolist() == pytest.approx(lo) and t["ci_high"].tolist() == pytest.approx(hi)
    u = salesmkt.calibration_table(y, p, bins=5, strategy="uniform")
    # 0-0.2: .1 .1 .2; 0.2-0.4: .4; 0.4-0.6: .5; 0.6-0.8: .7 .8; 0.8-1: .9
    assert u["n"].tolist() == [3, 1, 1, 2, 1]
    assert u["p_low"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    # tied scores never split: one bin
    assert salesmkt.calibration_table([0, 1, 0], [0.3] * 3)["n"].tolist() == [3]


# --- gain and lift ----------------------------------------------------------------------------


def test_gain_lift_by_hand():
    y = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    g = salesmkt.gain_lift(y, p, groups=5)
    assert g["leads"].tolist() == [2] * 5
    assert g["conversions"].tolist() == [1, 1, 1, 0, 0]
    assert g["gain"].tolist() == pytest.approx([1 / 3, 2 / 3, 1, 1, 1])
    # each of the first groups converts 1 in 2 against a base rate of 3 in 10
    assert g["lift"].tolist() == pytest.approx([0.5 / 0.3] * 3 + [0, 0])
    assert g["cum_lift"].iloc[1] == pytest.approx((2 / 3) / 0.4)


def test_gain_lift_keeps_ties_together_whatever_the_row_order():
    # scores .9 .5 .5 .5 .1 in 5 groups: the three tied leads share ranks 2-4 (middle rank 3)
    y, p = [1, 0, 1, 0, 0], [0.9, 0.5, 0.5, 0.5, 0.1]
    g = salesmkt.gain_lift(y, p, groups=5)
    assert g["group"].tolist() == [1, 3, 5] and g["leads"].tolist() == [1, 3, 1]
    flipped = salesmkt.gain_lift(y[::-1], p[::-1], groups=5)
    pd.testing.assert_frame_equal(g, flipped)
    # a constant score is one group holding every lead
    flat = salesmkt.gain_lift([1, 0, 0, 1], [0.2] * 4)
    assert flat["leads"].tolist() == [4] and flat["gain"].tolist() == [1.0]


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 20).map(lambda k: k / 20)),
        min_size=1,
        max_size=80,
    ),
    st.integers(1, 12),
)
def test_gain_is_monotone_and_ends_at_one(rows, groups):
    y, p = zip(*rows, strict=True)
    g = salesmkt.gain_lift(list(y), list(p), groups=groups)
    assert g["leads"].sum() == len(y) and g["conversions"].sum() == sum(y)
    assert g["cum_leads_share"].iloc[-1] == pytest.approx(1)
    assert (g["group"].diff().dropna() > 0).all()
    assert (g["max_score"].shift(-1).dropna() <= g["min_score"].iloc[:-1]).all()
    if sum(y):
        assert (g["gain"].diff().dropna() >= -1e-12).all()
        assert g["gain"].iloc[-1] == pytest.approx(1)


# --- score by group and the minimum data --------------------------------------------------------


def test_score_by_group_by_hand():
    f = pd.DataFrame(
        {
            "persona": ["A", "A", "A", "B", None],
            "converted": [1, 0, 0, 1, 0],
            "probability": [0.5, 0.2, 0.2, 0.6, 0.3],
        }
    )
    s = salesmkt.score_by_group(f, "persona").set_index("persona")
    assert s.loc["A", "leads"] == 3 and s.loc["A", "conversions"] == 1
    assert s.loc["A", "mean_score"] == pytest.approx(0.3)
    assert s.loc["A", "gap"] == pytest.approx(0.3 - 1 / 3)
    assert s.loc["(missing)", "leads"] == 1
    assert s.index.tolist()[0] == "A"  # most leads first


def test_too_few_conversions_states_the_numbers_and_warns():
    msg = salesmkt.too_few_conversions([1] * 119 + [0] * 2000)
    assert "119 conversions among 2,119 leads" in msg and "120" in msg
    assert salesmkt.too_few_conversions([1] * 120 + [0] * 880) is None
    assert "999 leads" in salesmkt.too_few_conversions([1] * 200 + [0] * 799)
    with pytest.warns(TooFewConversionsWarning, match="Only 1 conversions"):
        salesmkt.warn_too_few_conversions([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert salesmkt.warn_too_few_conversions([1, 0], min_conversions=1, min_leads=2) is None
    assert issubclass(TooFewConversionsWarning, UserWarning)


# --- drift (PSI) ------------------------------------------------------------------------------


def _psi(train_shares, current_shares, eps=1e-4):
    t = np.maximum(np.asarray(train_shares, float), eps)
    c = np.maximum(np.asarray(current_shares, float), eps)
    return float(np.sum((c - t) * np.log(c / t)))


def test_psi_of_a_numeric_feature_by_hand():
    train = pd.DataFrame({"visits": np.arange(1, 11)})  # median 5.5
    current = pd.DataFrame({"visits": [1, 2, 3, 7, 8, 9, 10, 11]})  # 3 at or below, 5 above
    r = salesmkt.population_stability(train, current, bins=2).iloc[0]
    expected = (0.375 - 0.5) * math.log(0.375 / 0.5) + (0.625 - 0.5) * math.log(0.625 / 0.5)
    assert r["psi"] == pytest.approx(expected)
    assert r["verdict"] == "stable" and r["bins"] == 2 and r["kind"] == "numeric"
    b = salesmkt.stability_bins(train, current, bins=2)
    assert b["bin"].tolist() == ["<= 5.5", "> 5.5"]


def test_psi_of_a_categorical_feature_counts_unseen_levels_and_missing_values():
    train = pd.DataFrame({"channel": ["email", "email", "events", "events"]})
    current = pd.DataFrame({"channel": ["email", "events", "webinar", None]})
    b = salesmkt.stability_bins(train, current).set_index("bin")
    assert b["current_count"].to_dict() == {"email": 1, "events": 1, "(unseen)": 1, "(missing)": 1}
    r = salesmkt.population_stability(train, current).iloc[0]
    # email .5 -> .25, events .5 -> .25, unseen 0 -> .25, missing 0 -> .25 (empty: 0.0001)
    assert r["psi"] == pytest.approx(_psi([0.5, 0.5, 0, 0], [0.25] * 4))
    assert r["verdict"] == "major shift" and r["unseen_share"] == 0.25
    assert r["missing_current_share"] == 0.25 and r["missing_train_share"] == 0


def test_psi_verdict_thresholds_are_the_stated_ones():
    assert (drift.MODERATE, drift.MAJOR, drift.EPSILON) == (0.1, 0.25, 1e-4)
    assert [drift.verdict(v) for v in (0.0999, 0.1, 0.25, 0.2501)] == [
        "stable",
        "moderate shift",
        "moderate shift",
        "major shift",
    ]


@SETTINGS
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60),
    st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=60),
    st.integers(1, 12),
)
def test_psi_of_a_sample_against_itself_is_zero(numbers, levels, bins):
    for frame in (pd.DataFrame({"x": numbers}), pd.DataFrame({"x": levels})):
        r = salesmkt.population_stability(frame, frame.copy(), bins=bins)
        assert r["psi"].iloc[0] == pytest.approx(0, abs=1e-12)
        assert r["verdict"].iloc[0] == "stable"


# --- the MQL threshold ------------------------------------------------------------------------


def _scores(p, months, y=None) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(p))],
            "created_at": pd.to_datetime([f"2025-{m:02d}-10" for m in months], utc=True),
            "probability": p,
        }
    )
    return out if y is None else out.assign(converted=y)


def test_mql_threshold_by_hand():
    # January .9 .5 .3 .1, March .6 .2 (February empty): 3 months, capacity 1 a month = 3 MQLs
    s = _scores([0.9, 0.5, 0.3, 0.1, 0.6, 0.2], [1, 1, 1, 1, 3, 3], y=[1, 0, 1, 0, 1, 0])
    r = salesmkt.mql_threshold(s, capacity=1).iloc[0]
    # 0.50 keeps .9 .5 .6 (3 MQLs, 1 a month); 0.49 would still be 3; 0.30 adds .3 (4)
    # the lowest threshold with at most 3 MQLs is 0.31
    assert r["threshold"] == pytest.approx(0.31)
    assert (r["periods"], r["mqls"], r["mqls_per_period"], r["peak_mqls"]) == (3, 3, 1.0, 2)
    assert r["expected_captured"] == pytest.approx(2.0)  # .9 + .5 + .6
    assert r["expected_missed"] == pytest.approx(0.6)  # .3 + .1 + .2
    assert r["expected_share_captured"] == pytest.approx(2.0 / 2.6)
    assert (r["observed_captured"], r["observed_missed"]) == (2, 1)
    assert r["observed_precision"] == pytest.approx(2 / 3) and bool(r["fits"])
    exact = salesmkt.mql_threshold(s, capacity=1, step=None).iloc[0]
    assert exact["threshold"] == 0.5 and exact["mqls"] == 3
    everyone = salesmkt.mql_threshold(s, capacity=5).iloc[0]
    assert everyone["threshold"] == 0 and everyone["mqls"] == 6
    assert "no score threshold is needed" in salesmkt.threshold_sentence(
        salesmkt.mql_threshold(s, capacity=5)
    )


def test_threshold_tradeoff_by_hand_and_the_sentence():
    s = _scores([0.9, 0.6, 0.3, 0.2], [1, 1, 1, 1], y=[1, 0, 1, pd.NA])
    t = salesmkt.threshold_tradeoff(s, thresholds=[0.25, 0.5], capacity=2).set_index("threshold")
    assert t.loc[0.5, "mqls"] == 2 and t.loc[0.25, "mqls"] == 3
    assert t.loc[0.25, "capacity_use"] == pytest.approx(1.5)
    assert t.loc[0.5, "expected_precision"] == pytest.approx(0.75)
    assert t.loc[0.25, "expected_missed"] == pytest.approx(0.2)
    # the fourth lead's outcome is unknown: not counted in the observed precision
    assert t.loc[0.25, "observed_precision"] == pytest.approx(2 / 3)
    assert t.loc[0.5, "observed_share_captured"] == pytest.approx(0.5)
    r = salesmkt.mql_threshold(s, capacity=2)
    assert salesmkt.threshold_sentence(r) == (
        "Scoring leads at 31 % or more gives 2 MQLs a month, within sales’ capacity of 2; "
        "they hold 75 % of the expected customers (and 50 % of the customers actually won "
        "among these leads)."
    )
    with pytest.raises(ValueError, match="capacity must be above 0"):
        salesmkt.mql_threshold(s, capacity=0)
    with pytest.raises(ValueError, match="scores.probability: 1 values"):
        salesmkt.mql_threshold(s.assign(probability=[0.1, 0.2, 1.5, 0.3]), capacity=1)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 100).map(lambda k: k / 100), st.integers(1, 6)),
        min_size=1,
        max_size=60,
    ),
    st.floats(0.5, 30),
    st.sampled_from([0.01, 0.05, None]),
)
def test_threshold_mqls_never_exceed_capacity_and_one_step_lower_would(rows, capacity, step):
    p, months = zip(*rows, strict=True)
    s = _scores(list(p), list(months))
    r = salesmkt.mql_threshold(s, capacity=capacity, step=step).iloc[0]
    periods = max(months) - min(months) + 1
    assert r["periods"] == periods
    assert bool(r["fits"]) and r["mqls_per_period"] <= capacity + 1e-9
    assert r["mqls"] == sum(pi >= r["threshold"] for pi in p)
    if r["threshold"] > 0:  # the lowest such threshold: the next lower candidate overfills
        if step:
            lower = round(r["threshold"] - step, 10)
        else:
            lower = max([x for x in p if x < r["threshold"]], default=0.0)
        assert sum(pi >= lower for pi in p) > capacity * periods


# --- the SLA with a score-based MQL definition --------------------------------------------------


AS_OF = "2025-03-10T00:00Z"


@pytest.fixture
def crm() -> Dataset:
    """Four February leads. CRM MQLs: L1 and L3; L4 is sales-sourced (SQL without an MQL)."""
    t = lambda s: pd.Timestamp(s, tz="UTC") if s else pd.NaT  # noqa: E731
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "owner_id": ["O1", "O1", "O2", "O2"],
            "created_at": [t("2025-02-03 09:00"), t("2025-02-04 09:00"), t("2025-02-05 09:00"),
                           t("2025-02-10 09:00")],
            "mql_at": [t("2025-02-03 10:00"), None, t("2025-02-06 09:00"), None],
            "sql_at": [t("2025-02-05 09:00"), None, None, t("2025-02-12 09:00")],
            "first_response_at": [t("2025-02-03 11:00"), t("2025-02-04 15:00"),
                                  t("2025-02-06 10:00"), t("2025-02-10 10:00")],
        }
    )  # fmt: skip
    leads["opportunity_at"] = leads["customer_at"] = pd.NaT
    for col in ("created_at", "mql_at", "sql_at", "opportunity_at", "customer_at",
                "first_response_at"):  # fmt: skip
        leads[col] = pd.to_datetime(leads[col], utc=True)
    return Dataset(leads=leads)


def _team(report: pd.DataFrame) -> pd.DataFrame:
    r = report[(report["owner_id"] == "(team)") & (report["period"] == "2025-02")]
    return r.set_index("term")


def test_sla_default_counts_the_crm_mqls(crm):
    team = _team(salesmkt.sla_report(crm, as_of=AS_OF))
    assert team.loc["mql_delivery", "actual"] == 2  # L1, L3
    assert (team.loc["acceptance", "numerator"], team.loc["acceptance", "denominator"]) == (1, 2)
    resp = team.loc["response_time"]
    assert (resp["numerator"], resp["denominator"]) == (2, 2)  # both answered within 1 h


def test_sla_with_score_based_mqls_by_lead_ids(crm):
    # the score makes L1 and L2 MQLs, from their creation
    team = _team(salesmkt.sla_report(crm, as_of=AS_OF, mql={"L1", "L2"}))
    assert team.loc["mql_delivery", "actual"] == 2
    assert (team.loc["acceptance", "numerator"], team.loc["acceptance", "denominator"]) == (1, 2)
    resp = team.loc["response_time"]
    # L1 answered 2 h after creation (in time), L2 after 6 h (late)
    assert (resp["numerator"], resp["denominator"], resp["breaches"]) == (1, 2, 1)
    b = salesmkt.sla_breaches(crm, as_of=AS_OF, mql=["L1", "L2"])
    assert b["lead_id"].tolist() == ["L2"] and b["hours_to_response"].tolist() == [6]
    # L4 (sales-sourced in the CRM) as a score MQL is accepted: it reached SQL
    team4 = _team(salesmkt.sla_report(crm, as_of=AS_OF, mql=["L2", "L4"]))
    assert team4.loc["acceptance", "numerator"] == 1
    # the input is not changed
    assert crm.leads["mql_at"].notna().tolist() == [True, False, True, False]


def test_sla_with_score_based_mqls_from_mql_leads(crm):
    scores = crm.leads[["lead_id", "created_at"]].assign(probability=[0.1, 0.2, 0.7, 0.05])
    mqls = salesmkt.mql_leads(scores, threshold=0.15)
    assert mqls["lead_id"].tolist() == ["L2", "L3"]
    team = _team(salesmkt.sla_report(crm, as_of=AS_OF, mql=mqls))
    # L3 is an MQL from creation (02-05 09:00) and was answered a day later: late
    resp = team.loc["response_time"]
    assert (resp["numerator"], resp["denominator"]) == (0, 2)
    assert team.loc["acceptance", "numerator"] == 0
    with pytest.raises(ValueError, match="1 lead ids are not in leads, e.g. L9"):
        salesmkt.sla_report(crm, as_of=AS_OF, mql=["L1", "L9"])
    with pytest.raises(ValueError, match="given twice"):
        salesmkt.sla_report(crm, as_of=AS_OF, mql=["L1", "L1"])


def test_sla_given_the_crm_mqls_as_a_definition_is_the_default(sample):
    own = sample.leads.loc[sample.leads["mql_at"].notna(), ["lead_id", "mql_at"]]
    default = salesmkt.sla_report(sample)
    pd.testing.assert_frame_equal(salesmkt.sla_report(sample, mql=own), default)
    assert salesmkt.sla_report(sample, mql=None).equals(default)


def test_kpis_yml_carries_sales_capacity():
    assert salesmkt.kpi_config_template()["sla"]["sales_capacity"] == 200
    assert salesmkt.load_kpi_config(salesmkt.sample_dir())["sla"]["sales_capacity"] == 150
    config = salesmkt.kpi_config_template()
    config["sla"]["sales_capacity"] = -3
    with pytest.raises(salesmkt.KPIConfigError, match="sla.sales_capacity"):
        salesmkt.save_kpi_config(config, "/nonexistent-folder")
