"""The lead score: snapshots as of a date, leakage check, the estimator, reasons, the sample.

Hand-made frames pin the rules (an event one second after ``as_of`` is not counted, the label
window is ``(as_of, as_of + horizon]``, an unfinished horizon is unlabelled); the sample company
checks the score against the planted drivers and against a base rate.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import salesmkt
from salesmkt.data.dataset import Dataset
from salesmkt.sample import generate
from salesmkt.scoring.leakage import leakage_check, single_feature_auc
from salesmkt.scoring.minimums import TooFewConversionsWarning
from salesmkt.scoring.model import LeadScorer, time_split_validation
from salesmkt.scoring.reasons import lead_contributions, reason_text, score_leads
from salesmkt.scoring.snapshot import lead_snapshot, training_snapshots

T = pd.Timestamp("2025-06-01", tz="UTC")
S = pd.Timedelta(seconds=1)
D = pd.Timedelta(days=1)


def _ts(*values):
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


def _leads(**cols) -> pd.DataFrame:
    n = len(cols["lead_id"])
    base = {c: _ts(*[None] * n) for c in ("mql_at", "sql_at", "opportunity_at", "customer_at")}
    base.update(cols)
    base["lead_id"] = pd.array(cols["lead_id"], dtype="string")
    return pd.DataFrame(base)


# -- snapshot: the as-of rule -------------------------------------------------------------
def test_an_event_one_second_after_as_of_is_not_counted():
    leads = _leads(lead_id=["L1"], created_at=_ts(T - 60 * D))
    sessions = pd.DataFrame(
        {
            "session_id": ["S1", "S2", "S3", "S4"],
            "visitor_id": ["V1"] * 4,
            "started_at": _ts(T - 40 * D, T - S, T, T + S),
            "lead_id": pd.array(["L1"] * 4, dtype="string"),
        }
    )
    events = pd.DataFrame(
        {"person_id": ["L1", "L1"], "ts": _ts(T - S, T + S), "event": ["start_trial"] * 2}
    )
    snap = lead_snapshot(
        Dataset(leads=leads, sessions=sessions, events=events), as_of=T, end=T + 200 * D
    )
    row = snap.iloc[0]
    # strictly before as_of: the session one second before counts, at and after do not
    assert row["web_sessions_30d"] == 1
    assert row["web_sessions_90d"] == 2
    assert row["event_start_trial_ever"] == 1
    assert row["days_since_created"] == 60.0


def test_label_window_is_as_of_exclusive_to_horizon_inclusive():
    ids = ["before", "at_as_of", "in_window", "at_horizon", "after", "never", "created_later"]
    customer = [T - D, T, T + 10 * D, T + 90 * D, T + 90 * D + S, None, T + 5 * D]
    created = [T - 100 * D] * 6 + [T + S]
    leads = _leads(lead_id=ids, created_at=_ts(*created), customer_at=_ts(*customer))
    snap = lead_snapshot(Dataset(leads=leads), as_of=T, horizon="90D", end=T + 365 * D)
    got = dict(zip(snap["lead_id"], snap["label"], strict=True))
    # converted by as_of (before or at it) and created after it: not open on as_of
    assert got == {"in_window": True, "at_horizon": True, "after": False, "never": False}
    assert snap["label"].dtype == "boolean"


def test_leads_whose_horizon_is_not_over_are_unlabelled_not_negative():
    leads = _leads(
        lead_id=["a", "b"], created_at=_ts(T - D, T - D), customer_at=_ts(T + 5 * D, None)
    )
    snap = lead_snapshot(Dataset(leads=leads), as_of=T, horizon="90D", end=T + 30 * D)
    assert snap["label"].isna().all()
    assert snap.attrs["n_unlabelled"] == 2


def test_outcome_columns_never_enter_the_snapshot():
    ds = salesmkt.load_sample()
    snap = lead_snapshot(ds, as_of="2025-09-01")
    stage_cols = {"mql_at", "sql_at", "opportunity_at", "customer_at", "disqualified_at"}
    assert not stage_cols & set(snap.columns)
    assert not {"email", "full_name", "phone", "account_id", "owner_id"} & set(snap.columns)
    assert not any(pd.api.types.is_datetime64_any_dtype(snap[c]) for c in snap.attrs["features"])
    # the stage reached is taken as of the date: nobody open is already a customer
    assert "customer" not in set(snap["stage"])


def test_snapshot_takes_the_persona_from_the_persona_file():
    ds = salesmkt.load_sample()
    snap = lead_snapshot(ds, as_of="2025-10-01", personas="data/sample")
    every = salesmkt.assign_personas(ds.leads, "data/sample").set_index("lead_id")["persona"]
    assert snap["persona"].tolist() == snap["lead_id"].map(every).tolist()
    assert "persona" in snap.attrs["features"] and "persona_id" not in snap.columns


def test_disqualified_and_out_of_order_leads_are_counted_not_dropped_silently():
    leads = _leads(
        lead_id=["ok", "dq", "bad"],
        created_at=_ts(T - 50 * D, T - 50 * D, T - 50 * D),
        mql_at=_ts(None, None, T - 10 * D),
        sql_at=_ts(None, None, T - 20 * D),  # SQL before MQL: out of order
        disqualified_at=_ts(None, T - 5 * D, None),
    )
    snap = lead_snapshot(Dataset(leads=leads), as_of=T, end=T + 365 * D)
    assert snap["lead_id"].tolist() == ["ok"]
    assert snap.attrs["n_disqualified"] == 1 and snap.attrs["n_excluded"] == 1


def test_training_snapshots_stack_dates_and_each_is_a_lead_snapshot():
    ds = salesmkt.load_sample()
    dates = ["2025-05-01", "2025-08-01"]
    snaps = training_snapshots(ds, dates=dates)
    for d in dates:
        one = lead_snapshot(ds, as_of=d)
        part = snaps[snaps["as_of"] == pd.Timestamp(d, tz="UTC")]
        assert part["lead_id"].tolist() == one["lead_id"].tolist()
        assert part["label"].tolist() == one["label"].tolist()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="as_of is required"):
        lead_snapshot(salesmkt.load_sample(), as_of=None)
    with pytest.raises(ValueError, match="target stage 'won'"):
        lead_snapshot(salesmkt.load_sample(), as_of=T, target="won")


# -- leakage ----------------------------------------------------------------------------------
def _leaky_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    visits = rng.poisson(5, n)
    y = rng.random(n) < 1 / (1 + np.exp(-(visits - 8) / 2))  # a real but imperfect signal
    as_of = pd.Timestamp("2025-06-01", tz="UTC")
    close = as_of + pd.to_timedelta(rng.uniform(1, 80, n), unit="D")
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "as_of": as_of,
            "label": y,
            "visits": visits,
            "industry": rng.choice(["a", "b", "c"], n),
            "closed_at": pd.Series(close).where(y),
            "deal_amount": np.where(y, rng.uniform(1e3, 5e4, n), np.nan),
            "call_seconds": np.where(y, 600, 60) + rng.normal(0, 30, n),
        }
    )


def test_leakage_check_catches_planted_leaks_and_passes_legitimate_features():
    frame = _leaky_frame()
    found = leakage_check(frame, "label", as_of_column="as_of").set_index("feature")
    assert set(found.index) == {"closed_at", "deal_amount", "call_seconds"}
    assert "after_snapshot" in found.loc["closed_at", "rules"]
    assert "filled_once_converted" in found.loc["deal_amount", "rules"]
    assert found.loc["call_seconds", "rules"] == "too_predictive"
    # the reason is in words and carries the number
    auc = found.loc["call_seconds", "auc"]
    assert f"{auc:.2f}" in found.loc["call_seconds", "reason"]
    assert "_" not in found.loc["deal_amount", "reason"]


def test_single_feature_auc_by_hand():
    # values 1..4, converters 3 and 4: every converter above every other lead
    assert single_feature_auc(pd.Series([4, 3, 2, 1]), [True, True, False, False]) == 1.0
    # one converter (2) below one non-converter (3): 3 of 4 pairs ordered
    assert single_feature_auc(pd.Series([1, 2, 3, 4]), [False, True, False, True]) == 0.75


def test_a_count_with_many_zeros_is_not_filled_once_converted():
    # 20 converters and 180 others; the count is 0 for 10 of the 20 converters and for 176 of
    # the 180 others (nonzero for 50 % and 2 %: the old "not zero" reading flagged it), but a
    # count of 0 is a value, known before the outcome; the won amount is missing for every
    # non-converter and is the one leak
    y = np.array([True] * 20 + [False] * 180)
    touches = np.r_[[0] * 10, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1], [0] * 176, [1, 1, 2, 1]]
    amount = np.r_[np.full(20, 1000.0), np.full(180, np.nan)]
    frame = pd.DataFrame({"email_touches_30d": touches, "won_amount": amount, "label": y})
    found = leakage_check(frame, "label", max_auc=0.99).set_index("feature")
    assert "email_touches_30d" not in found.index
    assert found.loc["won_amount", "rules"].startswith("filled_once_converted")
    assert (
        "100% of the leads that converted and 0% of the others" in found.loc["won_amount", "reason"]
    )


def test_leakage_check_on_the_sample_snapshot_is_clean_and_catches_the_close_date():
    ds = salesmkt.load_sample()
    snap = lead_snapshot(ds, as_of="2025-09-01")
    assert leakage_check(snap, "label", as_of_column="as_of").empty
    deals = ds.deals.dropna(subset=["lead_id"]).drop_duplicates("lead_id")
    amount = snap["lead_id"].map(
        deals.set_index("lead_id")["amount"].where(deals.set_index("lead_id")["status"].eq("won"))
    )
    leaky = snap.assign(won_amount=amount.where(snap["label"].fillna(False).to_numpy()))
    found = leakage_check(leaky, "label", as_of_column="as_of")
    assert found["feature"].tolist() == ["won_amount"]


# -- the estimator ------------------------------------------------------------------------
@parametrize_with_checks(
    [LeadScorer("boosting", max_iter=15), LeadScorer("logistic")],
    expected_failed_checks=lambda est: {},  # every check passes (array API is skipped)
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        check(estimator)


def test_mixed_frame_with_missing_values_and_unseen_categories():
    rng = np.random.default_rng(1)
    n = 1500
    x = rng.normal(size=n)
    cat = rng.choice(["a", "b", None], n)
    y = rng.random(n) < 1 / (1 + np.exp(-(2 * x + (cat == "a"))))
    X = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, x),
            "cat": pd.array(cat, dtype="string"),
            "flag": rng.random(n) < 0.5,
        }
    )
    for model in ("boosting", "logistic"):
        with threadpool_limits(1):
            s = LeadScorer(model).fit(X, y)
        new = pd.DataFrame(
            {
                "x": [np.nan, 1.0],
                "cat": pd.array(["zzz", None], dtype="string"),
                "flag": [True, False],
            }
        )
        p = s.predict_proba(new)
        assert p.shape == (2, 2) and np.allclose(p.sum(axis=1), 1)
        assert s.feature_names_in_.tolist() == ["x", "cat", "flag"]
        assert s.categorical_ == ["cat"]


def test_few_conversions_warning_states_the_number():
    X = pd.DataFrame({"x": np.arange(300.0)})
    y = np.r_[np.zeros(290, bool), np.ones(10, bool)]
    with pytest.warns(TooFewConversionsWarning, match=r"Only 10 conversions among 300 leads"):
        LeadScorer("logistic").fit(X, y)


def test_calibration_method_follows_the_sample_size():
    X = pd.DataFrame({"x": np.arange(200.0)})
    y = np.arange(200) % 2 == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert LeadScorer("logistic").fit(X, y).calibration_method_ == "sigmoid"
        big = pd.DataFrame({"x": np.arange(6000.0)})
        yb = np.arange(6000) % 3 == 0
        assert LeadScorer("logistic").fit(big, yb).calibration_method_ == "isotonic"


# -- reasons ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("feature", "value", "c", "text"),
    [
        ("web_sessions_30d", 14, 1.0, "Visited the website 14 times in the last 30 days (+)"),
        ("web_sessions_30d", 1, 1.0, "Visited the website once in the last 30 days (+)"),
        ("web_sessions_90d", 0, -1.0, "No website visits in the last 90 days (−)"),
        ("channel", "paid_social", -1.0, "Sourced by paid social (−)"),
        ("event_start_trial_ever", 0, -1.0, "Has not started a trial (−)"),
        ("event_request_demo_ever", 2, 1.0, "Requested a demo (twice) (+)"),
        ("stage", "sql", 1.0, "Accepted by sales (SQL) (+)"),
        ("days_in_stage", 1.0, 1.0, "1 day in the current stage (+)"),
        ("trial_user", True, 1.0, "A trial user (+)"),
        ("email_open_rate", 0.42, 1.0, "Opens 42% of marketing emails (+)"),
        ("industry", float("nan"), -1.0, "Industry not known (−)"),
        ("annual_revenue", pd.NA, 1.0, "Annual revenue not known (+)"),
        ("some_custom_score", 3.5, 1.0, "Some custom score: 3.5 (+)"),
    ],
)
def test_reason_wording(feature, value, c, text):
    assert reason_text(feature, value, c) == text


# -- the sample company -------------------------------------------------------------------
@pytest.fixture(scope="module")
def history():
    snaps = training_snapshots(salesmkt.load_sample(), dates="MS")
    return snaps[snaps["label"].notna()].reset_index(drop=True)


@pytest.fixture(scope="module")
def folds(history):
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        return time_split_validation(
            history.drop(columns=["label"]),
            history["label"],
            "as_of",
            n_splits=3,
            lead_id="lead_id",
        )


def test_time_split_validation_trains_only_on_outcomes_known_before_the_test_cohort(history, folds):
    info = folds.attrs["folds"]
    for _, f in info.iterrows():
        test = folds[(folds["fold"] == f["fold"]) & (folds["model"] == "boosting")]
        assert test["as_of"].min() == f["cohort_start"]
        # training rows: cohorts at least 90 days before the test block, counted by hand
        n_train = int((history["as_of"] <= f["cohort_start"] - pd.Timedelta("90D")).sum())
        assert f["n_train"] == n_train
    same = folds.pivot_table(index=["fold", "lead_id", "as_of"], columns="model", values="y")
    assert same.notna().all().all()  # every model scored the same test rows


def test_scorer_beats_the_base_rate_and_is_calibrated(folds):
    brier = folds.groupby("model").apply(
        lambda g: brier_score_loss(g["y"], g["probability"]), include_groups=False
    )
    assert brier["boosting"] < brier["base_rate"]
    assert brier["logistic"] < brier["base_rate"]
    b = folds[folds["model"] == "boosting"]
    last = b[b["fold"] == b["fold"].max()]
    decile = pd.qcut(last["probability"].rank(method="first"), 10, labels=False)
    cal = last.groupby(decile).agg(pred=("probability", "mean"), obs=("y", "mean"), n=("y", "size"))
    # observed rate within three binomial standard errors (plus 1 point) of the prediction
    se = np.sqrt(cal["pred"] * (1 - cal["pred"]) / cal["n"])
    assert ((cal["obs"] - cal["pred"]).abs() <= 3 * se + 0.01).all(), cal


def test_planted_drivers_are_among_the_strongest_features(history):
    truth = generate().truth["conversion_drivers"].set_index("driver")
    persona_features = set(truth.loc["persona", "features"].split(", "))
    X = history.drop(columns=["lead_id", "label"])
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        s = LeadScorer(time_column="as_of").fit(X, history["label"].astype(bool))
        snap = lead_snapshot(salesmkt.load_sample(), as_of="2026-04-01")
        strength = lead_contributions(s, snap).abs().mean().sort_values(ascending=False)
    top = list(strength.index[:8])
    assert "channel" in top, strength.head(10)
    assert persona_features & set(top), strength.head(10)


def test_score_leads_on_the_sample():
    ds = salesmkt.load_sample()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        scores = score_leads(ds, as_of="2026-04-01", model="logistic")
    open_leads = lead_snapshot(ds, as_of="2026-04-01", end="2026-04-01")
    assert sorted(scores["lead_id"]) == sorted(open_leads["lead_id"])
    assert scores["probability"].is_monotonic_decreasing
    shares = scores["tier"].value_counts(normalize=True)
    assert shares["A"] == pytest.approx(0.1, abs=0.002)
    assert shares["D"] == pytest.approx(0.4, abs=0.002)
    for col in ("reason_1", "reason_2", "reason_3"):
        text = scores[col]
        assert text.str.match(r"^[A-Z0-9].* \((\+|−)\)$").all()
        assert not text.str.contains(r"[a-z]_[a-z]|\bnan\b|<NA>", regex=True).any()
    assert "top 10%" in scores.attrs["tier_rule"]


def test_probability_tiers_and_scoring_a_snapshot_frame():
    ds = salesmkt.load_sample()
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        scorer = salesmkt.train_lead_scorer(ds, as_of="2026-01-01", model="logistic")
    snap = lead_snapshot(ds, as_of="2026-01-01")
    tiers = {"Very high": 0.2, "High": 0.05, "Medium": 0.01, "Low": None}
    scores = score_leads(snap, scorer=scorer, tiers=tiers)
    expected = np.select(
        [
            scores["probability"] >= 0.2,
            scores["probability"] >= 0.05,
            scores["probability"] >= 0.01,
        ],
        ["Very high", "High", "Medium"],
        "Low",
    )
    assert (scores["tier"].to_numpy() == expected).all()
    assert re.search(r"Very high from 20%", scores.attrs["tier_rule"])
    with pytest.raises(ValueError, match="fitted scorer"):
        score_leads(snap)


def test_boosting_path_contributions_add_up_to_the_log_odds_on_mixed_data():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "cat": pd.array(rng.choice(["a", "b", "c", None], n), dtype="string"),
            "k": rng.poisson(3, n),
        }
    )
    cat_a = (X["cat"] == "a").fillna(False).to_numpy(dtype=bool)
    y = rng.random(n) < 1 / (1 + np.exp(-(X["x"].fillna(0).to_numpy() + cat_a)))
    with threadpool_limits(1):
        s = LeadScorer("boosting", max_iter=30).fit(X, y)
        c = lead_contributions(s, X).sum(axis=1).to_numpy()
        z = s.log_odds(X)
    assert np.allclose(c - c.mean(), z - z.mean())
    # a feature the trees never split on contributes nothing
    noise = X.assign(k=0)
    with threadpool_limits(1):
        s2 = LeadScorer("boosting", max_iter=30).fit(noise, y)
        assert (lead_contributions(s2, noise)["k"] == 0).all()


def test_logistic_contributions_add_up_to_the_log_odds():
    ds = salesmkt.load_sample()
    snap = lead_snapshot(ds, as_of="2025-12-01")
    train = snap.assign(label=snap["label"].astype(bool))
    X = train.drop(columns=["lead_id", "label", "as_of"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TooFewConversionsWarning)
        s = LeadScorer("logistic").fit(X, train["label"])
    c = lead_contributions(s, X).sum(axis=1).to_numpy()
    z = s.log_odds(X)
    assert np.allclose(c - c.mean(), z - z.mean())
