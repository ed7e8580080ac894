"""PersonaModel, feature preparation, k-selection metrics and explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

import salesmkt
from salesmkt.personas import (
    PersonaModel,
    choose_n_personas,
    persona_channels,
    persona_funnel,
    persona_outcomes,
    persona_profiles,
    persona_rules,
)
from salesmkt.personas import features as pf
from salesmkt.personas import metrics as pm
from salesmkt.personas.select import elbow


@pytest.fixture(scope="module")
def truth():
    from salesmkt.sample import generate

    return generate(seed=7, scale=1.0).truth["personas"]


@pytest.fixture(scope="module")
def fitted(sample):
    return PersonaModel(5, random_state=0).fit(sample.leads)


# --- scikit-learn's estimator contract ---------------------------------------------------------


@parametrize_with_checks(
    [PersonaModel(random_state=0), PersonaModel(method="gmm", n_init=1, random_state=0)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_set_output_pandas_and_feature_names(sample, fitted):
    model = PersonaModel(5, random_state=0).set_output(transform="pandas").fit(sample.leads)
    out = model.transform(sample.leads.head(3))
    assert list(out.columns) == [f"persona_{i}_distance" for i in range(5)]
    # the distance to the own persona is the smallest
    assert (out.to_numpy().argmin(axis=1) == model.predict(sample.leads.head(3))).all()


def test_input_is_not_modified_and_errors_name_the_column(sample):
    leads = sample.leads.head(200).copy()
    before = leads.copy()
    PersonaModel(3, random_state=0).fit(leads)
    pd.testing.assert_frame_equal(leads, before)
    with pytest.raises(ValueError, match="nope"):
        PersonaModel(3, features=["nope"]).fit(leads)
    bad = leads.assign(company_size=leads["company_size"].astype(float))
    bad.loc[bad.index[0], "company_size"] = np.inf
    with pytest.raises(ValueError, match=r"leads\.company_size: infinite"):
        PersonaModel(3, features=["company_size", "job_role"]).fit(bad)
    with pytest.raises(ValueError, match="method"):
        PersonaModel(3, method="magic").fit(leads)


# --- feature preparation, worked by hand -------------------------------------------------------


def test_feature_plan_by_hand():
    df = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "x", "y", "z"], "money": [0, 0, 0, 1000]}
    )
    plan = pf.plan_features(df, ["a", "c", "money"])
    assert plan.features == ["a", "money", "c"]
    a, money = plan.numeric
    assert not a.log and money.log  # money's skew is 2 > 1; a is symmetric
    Z = pf.transform(plan, df)
    # a standardised with the population std: (1 - 2.5) / sqrt(1.25)
    assert Z[0, 0] == pytest.approx(-1.5 / np.sqrt(1.25))
    # c: shares .5/.25/.25, total variance .625, so weight sqrt(1 / .625)
    w = np.sqrt(1 / 0.625)
    assert Z[0, 2:].tolist() == pytest.approx([0.5 * w, -0.25 * w, -0.25 * w])
    # every feature block carries variance 1 (categorical_weight=1)
    for _, sl in plan.blocks():
        assert Z[:, sl].var(axis=0).sum() == pytest.approx(1.0)
    heavy = pf.plan_features(df, ["a", "c"], categorical_weight=4.0)
    Zh = pf.transform(heavy, df)
    assert Zh[:, 1:].var(axis=0).sum() == pytest.approx(4.0)


def test_unseen_levels_and_missing_values():
    df = pd.DataFrame({"n": [1.0, np.nan, 3.0], "c": ["x", None, "y"]})
    plan = pf.plan_features(df, ["n", "c"])
    assert plan.n_missing == {"n": 1, "c": 1}
    assert plan.numeric[0].median == 2.0
    assert "(missing)" in plan.categorical[0].levels
    new = pf.transform(plan, pd.DataFrame({"n": [2.0], "c": ["never seen"]}))
    assert new[0, 0] == pytest.approx(0.0)  # the median is the mean here
    s = plan.categorical[0]
    assert new[0, 1:].tolist() == pytest.approx((-np.asarray(s.shares) * s.weight).tolist())


def test_default_features_leave_out_ids_times_channel_and_pii(sample):
    feats = pf.default_features(sample.leads)
    for col in ("lead_id", "created_at", "channel", "campaign_id", "email", "full_name", "phone"):
        assert col not in feats
    assert {"company_size", "job_role", "trial_user"} <= set(feats)


def test_default_features_leave_out_vendor_ids_names_and_journey_fields():
    """Columns a HubSpot or Salesforce export brings along: ids, company names, lifecycle and
    status fields, latest source; only who the lead is stays (industry, size, a flag)."""
    n = 8
    leads = pd.DataFrame(
        {
            "associated_deal_ids": [f"{i};{i + 9}" for i in range(n)],
            "converted_opportunity_id": [f"006{i}" for i in range(n)],
            "hubspot_owner_id": [101, 102] * 4,
            "company_name": [f"Firm {i}" for i in range(n)],
            "Company / Account": [f"Acct {i}" for i in range(n)],
            "lifecycle_stage": ["lead", "customer"] * 4,
            "lead_status": ["open", "working"] * 4,
            "is_converted": [True, False] * 4,
            "latest_channel": ["paid_search", "email"] * 4,
            "website": [f"https://f{i}.example" for i in range(n)],
            "tagline": [f"we make thing {i}" for i in range(n)],  # unique text on every lead
            "industry": ["SaaS", "Retail", "SaaS", "Health"] * 2,
            "company_size": [10, 200, 35, 5000, 12, 80, 40, 7],
            "key_account": [True, False] * 4,
        }
    )
    assert pf.default_features(leads) == ["industry", "company_size", "key_account"]
    assert pf.excluded_reason("tagline", leads["tagline"]).startswith("a different value")


# --- the model on small hand-made data ----------------------------------------------------------


def _two_groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "size": [10, 12, 11, 9, 5000, 5200, 4900, 10, 11, 12],
            "role": ["dev"] * 4 + ["cio"] * 3 + ["dev"] * 3,
        }
    )


@pytest.mark.parametrize("method", ["kmeans", "gmm", "kprototypes"])
def test_two_obvious_groups_largest_first(method):
    model = PersonaModel(2, method=method, n_init=2, random_state=0).fit(_two_groups())
    assert model.labels_.tolist() == [0] * 4 + [1] * 3 + [0] * 3
    new = pd.DataFrame({"size": [8, 6000], "role": ["dev", "cio"]})
    assert model.predict(new).tolist() == [0, 1]


def test_predict_proba_only_for_mixtures():
    gmm = PersonaModel(2, method="gmm", n_init=1, random_state=0).fit(_two_groups())
    proba = gmm.predict_proba(_two_groups())
    assert proba.sum(axis=1) == pytest.approx(np.ones(10))
    assert (proba.argmax(axis=1) == gmm.labels_).all()
    assert not hasattr(PersonaModel(2), "predict_proba")


def test_subsampled_fit_assigns_every_lead(sample):
    model = PersonaModel(5, max_fit_rows=1500, random_state=0).fit(sample.leads)
    full = PersonaModel(5, random_state=0).fit(sample.leads)
    assert len(model.labels_) == len(sample.leads)
    assert adjusted_rand_score(model.labels_, full.labels_) > 0.9


def test_hdbscan_marks_noise_and_predicts_nearest(sample):
    model = PersonaModel(method="hdbscan", min_cluster_size=100, random_state=0)
    model.fit(sample.leads.head(1500))
    assert model.n_personas_ >= 2
    assert set(np.unique(model.labels_)) <= {-1, *range(model.n_personas_)}
    assert (model.predict(sample.leads.head(50)) >= 0).all()


# --- recovery of the planted personas ----------------------------------------------------------


def test_recovers_planted_personas(sample, fitted, truth):
    truth = truth.set_index("lead_id").loc[sample.leads["lead_id"], "persona"]
    ari = adjusted_rand_score(truth, fitted.labels_)
    assert ari >= 0.8, ari
    # each planted persona is mostly one persona of ours
    tab = pd.crosstab(truth.to_numpy(), fitted.labels_)
    assert (tab.max(axis=1) / tab.sum(axis=1)).min() > 0.85


def test_k_selection_points_to_the_planted_number(sample, truth):
    sel = choose_n_personas(
        sample.leads, k_range=range(2, 9), n_bootstrap=10, n_references=5, random_state=0
    )
    planted = truth["persona"].nunique()
    assert sel.suggested_k == planted == 5
    assert str(planted) in sel.reason
    row = sel.table.set_index("k").loc[5]
    assert row["admissible"] and row["stability_min"] >= 0.75
    assert set(sel.table.columns) >= {"inertia", "silhouette", "gap", "min_share", "bic"}
    assert len(sel.stability.query("k == 5")) == 5


# --- the fast validity indices equal scikit-learn's ---------------------------------------------


def test_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 1, (80, 3)) for c in (0, 4, 8)]).astype(np.float32)
    labels = np.repeat([0, 1, 2], 80)
    labels[::17] = 1  # some mistakes so the indices are not trivial
    ch, db = pm.ch_db(X, labels, 3)
    assert ch == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-5)
    assert db == pytest.approx(davies_bouldin_score(X, labels), rel=1e-5)
    other = np.repeat([0, 1], 120)
    sil = pm.silhouettes(X, [labels, other], chunk=50)
    assert sil[0] == pytest.approx(silhouette_score(X, labels), abs=1e-6)
    assert sil[1] == pytest.approx(silhouette_score(X, other), abs=1e-6)
    centers = np.array([[0, 0, 0], [4, 4, 4], [8, 8, 8]], dtype=np.float32)
    lab, inertia = pm.assign(X, centers)
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
    assert (lab == d2.argmin(1)).all()
    assert inertia == pytest.approx(d2.min(1).sum(), rel=1e-5)


def test_jaccard_best_by_hand():
    orig = np.array([0, 0, 0, 1, 1, 2])
    boot = np.array([1, 1, 0, 0, 0, 0])
    # cluster 0 {0,1,2} vs boot 1 {0,1}: 2/3; cluster 1 {3,4} vs boot 0 {2,3,4,5}: 2/4;
    # cluster 2 {5} vs boot 0: 1/4
    assert pm.jaccard_best(orig, boot, 3).tolist() == pytest.approx([2 / 3, 0.5, 0.25])


def test_gap_statistic_finds_three_blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.3, (100, 2)) for c in ((0, 0), (5, 0), (0, 5))])
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    refs = pm.reference_sets(X, 8, rng)
    ks = np.arange(1, 6)
    with threadpool_limits(1):
        log_w = np.log([KMeans(k, n_init=3, random_state=0).fit(X).inertia_ for k in ks])
        log_ref = np.log(
            [[KMeans(k, n_init=1, random_state=0).fit(r).inertia_ for k in ks] for r in refs]
        )
    gap, se = pm.gap_from(log_w, log_ref)
    from salesmkt.personas.select import _gap_k

    assert _gap_k(ks, gap, se) == 3


def test_elbow_clear_and_smooth():
    ks = np.arange(2, 11)
    sharp = np.array([100, 60, 20, 18, 16.5, 15, 14, 13, 12.2])
    k, clear, _ = elbow(ks, sharp)
    assert (k, clear) == (4, True)
    _, clear_smooth, _ = elbow(ks, 100 / ks)
    assert not clear_smooth


def test_k_range_shrinks_to_what_few_leads_allow():
    # 9 leads: at most 9 // 3 = 3 personas of 3 leads each, so k = 4..10 are left out
    leads = pd.DataFrame({"size": [1.0, 1.1, 0.9, 5.0, 5.2, 4.8, 9.0, 9.1, 8.9]})
    sel = choose_n_personas(leads, features=["size"], n_bootstrap=3, n_references=2, random_state=0)
    assert sel.table["k"].tolist() == [2, 3]
    assert "Only k = 2, 3 compared: 9 leads allow at most 3 personas" in sel.reason
    assert "k = 4, 5, 6, 7, 8, 9, 10 left out" in sel.reason
    assert "cannot show an elbow" in sel.elbow_note
    assert sel.suggested_k == 3  # three tight groups
    with pytest.raises(ValueError, match="5 rows are too few to form personas"):
        choose_n_personas(leads.head(5), features=["size"])


def test_elbow_needs_three_k():
    k, clear, ratio = elbow(np.array([2]), np.array([10.0]))
    assert (k, clear) == (2, False) and np.isnan(ratio)


def test_k_selection_rejects_unsupported_method(sample):
    with pytest.raises(ValueError, match="HDBSCAN finds its own"):
        choose_n_personas(sample.leads, method="hdbscan")


# --- explanations, worked by hand --------------------------------------------------------------


def test_profiles_with_categorical_features_only():
    # an export without company size: no numeric feature at all
    leads = pd.DataFrame({"c": ["a", "a", "b", "b", "a", "b"]})
    prof = persona_profiles(leads, [0, 0, 1, 1, 0, 1], features=["c"])
    share_a = prof.query("feature == 'c' and level == 'a'").set_index("persona")["value"]
    assert share_a.to_dict() == {0: 1.0, 1: 0.0}
    assert set(prof["kind"]) == {"categorical"}


def test_profiles_by_hand():
    leads = pd.DataFrame({"n": [1.0, 3.0, 5.0, 7.0], "c": ["a", "a", "b", "a"]})
    prof = persona_profiles(leads, [0, 0, 1, 1], features=["n", "c"])
    num = prof.query("feature == 'n'").set_index("persona")
    assert num.loc[0, "value"] == 2.0 and num.loc[1, "value"] == 6.0
    # overall mean 4, population std sqrt(5): z = (2 - 4) / sqrt(5)
    assert num.loc[0, "z"] == pytest.approx(-2 / np.sqrt(5))
    cat = prof.query("feature == 'c' and level == 'b'").set_index("persona")
    assert cat.loc[1, "value"] == 0.5 and cat.loc[1, "overall"] == 0.25
    assert cat.loc[1, "lift"] == pytest.approx(2.0)
    assert cat.loc[1, "z"] == pytest.approx(0.25 / np.sqrt(0.25 * 0.75))


def test_rules_fidelity_and_recall():
    leads = pd.DataFrame({"size": [5, 8, 900, 1200, 7, 1500], "role": list("dcccdd")})
    rules = persona_rules(leads, [0, 0, 1, 1, 0, 0], features=["size", "role"], max_depth=1)
    # one split cannot be perfect: role=c also takes lead 1, size > 454 also takes lead 5
    assert rules["fidelity"].iloc[0] == pytest.approx(5 / 6)
    r1 = rules.set_index("persona").loc[1]
    assert r1["recall"] == 1.0 and r1["precision"] == pytest.approx(2 / 3)
    deep = persona_rules(leads, [0, 0, 1, 1, 0, 0], features=["size", "role"], max_depth=2)
    assert deep["fidelity"].iloc[0] == 1.0


def _tiny_dataset():
    t = pd.Timestamp("2025-01-01", tz="UTC")
    leads = pd.DataFrame(
        {
            "lead_id": pd.array(["L1", "L2", "L3", "L4"], dtype="string"),
            "created_at": [t] * 4,
            "channel": ["email", "email", "events", "events"],
            "campaign_id": pd.array(["C1", "C1", "C2", None], dtype="string"),
            "mql_at": [t, pd.NaT, t, t],
            "sql_at": [t, pd.NaT, pd.NaT, t],
            "opportunity_at": [t, pd.NaT, pd.NaT, t],
            "customer_at": [t, pd.NaT, pd.NaT, pd.NaT],
        }
    )
    deals = pd.DataFrame(
        {
            "deal_id": ["D1", "D2", "D3", "D4"],
            "created_at": [t] * 4,
            "amount": [100.0, 50.0, 300.0, 999.0],
            "lead_id": pd.array(["L1", "L1", "L4", "L9"], dtype="string"),
            "status": ["won", "lost", "lost", "won"],
        }
    )
    spend = pd.DataFrame(
        {"date": [t] * 3, "campaign_id": ["C1", "C2", "C3"], "amount": [80.0, 30.0, 7.0]}
    )
    return salesmkt.Dataset(leads=leads, deals=deals, spend=spend)


def test_outcomes_by_hand():
    ds = _tiny_dataset()
    out = persona_outcomes(ds, [0, 0, 1, 1]).set_index("persona")
    assert out.loc[0, "conversion_rate"] == 0.5 and out.loc[1, "conversion_rate"] == 0.0
    assert out.loc[0, "win_rate"] == 0.5  # D1 won, D2 lost
    assert out.loc[1, "win_rate"] == 0.0
    assert out.loc[0, "revenue"] == 100.0 and out.loc[0, "avg_deal_size"] == 100.0
    # C1's 80 is shared by L1 and L2 (persona 0); C2's 30 by L3 (persona 1)
    assert out.loc[0, "spend"] == 80.0 and out.loc[0, "cac"] == 80.0
    assert out.loc[1, "spend"] == 30.0 and np.isnan(out.loc[1, "cac"])  # no customer: NaN
    assert out["n_deals_excluded"].iloc[0] == 1  # D4's lead is unknown
    assert out["spend_unallocated"].iloc[0] == 7.0


def test_funnel_and_channels_by_hand():
    ds = _tiny_dataset()
    f = persona_funnel(ds.leads, [0, 0, 1, 1]).set_index(["persona", "stage"])
    assert f.loc[(0, "mql"), "leads"] == 1 and f.loc[(1, "mql"), "leads"] == 2
    assert f.loc[(1, "opportunity"), "step_rate"] == 1.0  # L4: sql -> opportunity
    assert f.loc[(1, "sql"), "step_rate"] == 0.5
    ch = persona_channels(ds.leads, [0, 0, 1, 1]).set_index(["persona", "channel"])
    assert ch.loc[(0, "email"), "share"] == 1.0 and ch.loc[(0, "email"), "lift"] == 2.0
    assert ch.loc[(0, "events"), "leads"] == 0


def test_k_selection_with_mixtures_reports_bic(sample):
    sel = choose_n_personas(
        sample.leads, k_range=range(4, 7), method="gmm", n_init=1, n_bootstrap=2,
        n_references=2, random_state=0,
    )  # fmt: skip
    assert sel.table["bic"].notna().all()
    assert "bic" in set(sel.votes["index"])
    # BIC is lower (better) for the planted 5 than for 4
    bic = sel.table.set_index("k")["bic"]
    assert bic[5] < bic[4]
