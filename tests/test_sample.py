"""The seeded sample company: determinism, the data contract, and the planted structure.

The planted facts are checked with independent computations on the tables (plain pandas and a
plain scikit-learn pipeline), never with the generator's own helpers.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from salesmkt.data.schema import CHANNELS, STAGES, TABLES
from salesmkt.sample import generate, main, write

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

DTYPES = {
    "id": "string",
    "text": "string",
    "category": "string",
    "channel": "string",
    "timestamp": "datetime64[ns, UTC]",
    "date": "datetime64[ns, UTC]",
    "number": "float64",
    "count": "Int64",
    "flag": "boolean",
}


@pytest.fixture(scope="module")
def company():
    return generate()


@pytest.fixture(scope="module")
def tables(company):
    return company.tables


# --- determinism -------------------------------------------------------------------------


def test_generating_twice_gives_identical_bytes(company, tmp_path):
    first = write(company, tmp_path / "a")
    second = write(generate(), tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_committed_sample_rebuilds_byte_for_byte(company, tmp_path):
    paths = write(company, tmp_path)
    assert sorted(p.name for p in SAMPLE.glob("*.csv")) == sorted(p.name for p in paths)
    for p in paths:
        assert p.read_bytes() == (SAMPLE / p.name).read_bytes(), f"{p.name} differs"


def test_other_seed_gives_other_data():
    a = generate(seed=1, scale=0.1).tables["leads"]
    b = generate(seed=2, scale=0.1).tables["leads"]
    assert not a["created_at"].equals(b["created_at"])


def test_scale_two_doubles_leads_via_cli(tmp_path):
    assert main(["--out", str(tmp_path), "--scale", "2"]) == 0
    n2 = len((tmp_path / "leads.csv").read_text().splitlines()) - 1
    n1 = len((SAMPLE / "leads.csv").read_text().splitlines()) - 1
    assert 1.9 < n2 / n1 < 2.1
    ids = pd.read_csv(tmp_path / "leads.csv", usecols=["lead_id"], dtype=str)["lead_id"]
    assert ids.is_unique


# --- the data contract -------------------------------------------------------------------


def test_every_table_has_its_columns_and_kinds(tables):
    assert list(tables) == list(TABLES)
    for name, spec in TABLES.items():
        df = tables[name]
        for col in spec.required:
            assert col.name in df.columns, f"{name}.{col.name} missing"
        for col in spec.columns.values():
            if col.name not in df.columns:
                continue
            assert str(df[col.name].dtype) == DTYPES[col.kind], f"{name}.{col.name}"
            if col.kind == "channel":
                assert set(df[col.name].dropna()) <= set(CHANNELS), f"{name}.{col.name}"
            if col.values:
                assert set(df[col.name].dropna()) <= set(col.values), f"{name}.{col.name}"
            if col.min_value is not None:
                assert (df[col.name].dropna() >= col.min_value).all(), f"{name}.{col.name}"
            if col.kind == "date":
                assert (df[col.name].dropna() == df[col.name].dropna().dt.normalize()).all()
        for col in spec.required:
            assert df[col.name].notna().all(), f"{name}.{col.name} has nulls"
        if spec.key:
            assert not df.duplicated(list(spec.key)).any(), f"{name} key not unique"
        for fk in spec.foreign_keys:
            ref = set(tables[fk.ref_table][fk.ref_column])
            assert set(df[fk.column].dropna()) <= ref, f"{name}.{fk.column}"


def test_extra_lead_attributes_are_typed(tables):
    leads = tables["leads"]
    assert str(leads["company_size"].dtype) == "Int64"
    assert str(leads["trial_user"].dtype) == "boolean"
    assert leads["email_open_rate"].between(0, 1).all()
    assert leads["email"].str.endswith(".example").all()
    assert leads["phone"].str.contains(r"555 01|7946 0|5550 ").all()


def test_csv_text_format():
    text = (SAMPLE / "leads.csv").read_text()
    assert "\r" not in text
    row = text.splitlines()[1].split(",")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[1])
    assert re.fullmatch(r"L\d{5}", row[0])
    spend = pd.read_csv(SAMPLE / "spend.csv", dtype=str)
    assert spend["date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert spend["amount"].str.fullmatch(r"\d+\.\d\d").all()


# --- planted structure -------------------------------------------------------------------


def test_personas_are_recoverable_by_kmeans(company):
    leads = company.tables["leads"]
    truth = company.truth["personas"]
    assert (truth["lead_id"] == leads["lead_id"]).all()
    numeric = ["company_size", "annual_revenue", "web_visits_90d", "content_downloads"]
    numeric += ["webinars_attended", "email_open_rate"]
    categorical = ["industry", "job_role", "seniority", "trial_user"]
    frame = leads[numeric + categorical].astype({c: float for c in numeric})
    frame = frame.astype({c: object for c in categorical})
    prep = ColumnTransformer(
        [
            ("log", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()), numeric[:2]),
            ("num", StandardScaler(), numeric[2:]),
            ("cat", OneHotEncoder(sparse_output=False), categorical),
        ]
    )
    x = prep.fit_transform(frame)
    silhouettes = {}
    with threadpool_limits(limits=1):  # one thread is faster than oversubscribed BLAS here
        for k in range(2, 9):
            labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(x)
            silhouettes[k] = silhouette_score(x, labels)
            if k == 5:
                ari = adjusted_rand_score(truth["persona"], labels)
    assert ari >= 0.8
    assert max(silhouettes, key=silhouettes.get) == 5


def test_personas_differ_in_outcomes(company):
    leads = company.tables["leads"].merge(company.truth["personas"], on="lead_id")
    won = company.tables["deals"].query("deal_type == 'new_business' and status == 'won'")
    won = won.merge(company.truth["personas"], on="lead_id")
    conversion = leads.groupby("persona")["customer_at"].apply(lambda s: s.notna().mean())
    deal_size = won.groupby("persona")["amount"].median()
    cycle = (won["closed_at"] - won["created_at"]).dt.days.groupby(won["persona"]).median()
    assert deal_size.idxmax() == "Enterprise IT Buyer"
    assert cycle.idxmax() == "Enterprise IT Buyer"
    assert cycle.idxmin() == "Startup Founder"
    assert conversion.idxmin() == "Operations Manager"
    assert deal_size.max() / deal_size.min() > 5


def test_holdout_groups_and_lift(company):
    t = company.tables
    a = t["assignments"]
    sizes = a["group"].value_counts()
    assert len(a) >= 1600
    assert abs(sizes["treatment"] - sizes["control"]) <= 1
    assert a["assigned_at"].nunique() == 1 and (a["campaign_id"] == "C12").all()
    when = a["assigned_at"].iloc[0]
    opp = a.merge(t["leads"], left_on="person_id", right_on="lead_id")["opportunity_at"]
    hit = (opp > when) & (opp <= when + pd.Timedelta(days=60))
    rate = hit.groupby(a["group"].to_numpy()).mean()
    assert rate["treatment"] - rate["control"] > 0.02
    lift = company.truth["lift"].iloc[0]
    assert (lift["control_rate"], lift["treatment_rate"]) == (0.05, 0.09)
    assert rate["control"] == pytest.approx(lift["control_rate"], abs=0.005)
    assert rate["treatment"] == pytest.approx(lift["treatment_rate"], abs=0.005)
    # only the treatment group receives the campaign's emails
    got = set(t["touchpoints"].query("campaign_id == 'C12'")["person_id"])
    assert got == set(a.query("group == 'treatment'")["person_id"])


def test_sla_breach_months_have_lower_compliance(company):
    leads = company.tables["leads"]
    mql = leads[leads["mql_at"].notna()]
    ok = (mql["first_response_at"] - mql["mql_at"]) <= pd.Timedelta(hours=4)
    by_month = ok.groupby(mql["mql_at"].dt.strftime("%Y-%m")).mean()
    breach = company.truth["sla_breach_months"]["month"].dt.strftime("%Y-%m").tolist()
    assert breach == ["2025-08", "2025-12"]
    assert by_month[breach].max() < by_month.drop(breach).min()
    assert by_month[breach].max() < 0.5 < by_month.drop(breach).min()


def test_channel_cost_per_lead_ordering(tables):
    spend = tables["spend"].groupby("channel")["amount"].sum()
    leads = tables["leads"]["channel"].value_counts()
    cpl = (spend / leads).dropna()
    order = ["events", "paid_search", "display", "paid_social", "email"]
    assert cpl.sort_values(ascending=False).index.tolist() == order
    free = {"organic_search", "organic_social", "referral", "direct", "other"}
    assert not free & set(tables["spend"]["channel"])


def test_referral_has_the_highest_win_rate(tables):
    deals = tables["deals"].query("deal_type == 'new_business' and status != 'open'")
    deals = deals.merge(tables["leads"][["lead_id", "channel"]], on="lead_id")
    win = (deals["status"] == "won").groupby(deals["channel"]).mean()
    assert win.idxmax() == "referral"
    assert win["paid_search"] > win["paid_social"]


def test_seasonality(tables):
    created = tables["leads"]["created_at"]
    per_month = created.groupby(created.dt.strftime("%Y-%m")).size()
    assert per_month["2025-08"] < 0.75 * per_month.median()
    assert per_month["2025-12"] < per_month.median()
    assert per_month[["2025-09", "2025-10"]].min() > per_month.median()
    assert per_month[["2025-01", "2026-01"]].min() > per_month.median()


def test_planted_defects_are_where_the_truth_says(company):
    leads, deals = company.tables["leads"], company.tables["deals"]
    cols = [col for _, col in STAGES]
    bad = pd.Series(False, index=leads.index)
    for i, early in enumerate(cols):
        for late in cols[i + 1 :]:
            bad |= (leads[late] < leads[early]).fillna(False)
    dq = company.truth["data_quality"]
    planted = {i for ids in dq.query("table == 'leads'")["ids"] for i in ids.split()}
    assert set(leads.loc[bad, "lead_id"]) == planted
    assert 0.003 < bad.mean() < 0.007
    closed_early = deals["closed_at"] < deals["created_at"]
    expected = dq.query("table == 'deals'")["ids"].iloc[0].split()
    assert sorted(deals.loc[closed_early, "deal_id"]) == sorted(expected)


def test_journeys_and_funnel_shape(tables):
    leads, touch = tables["leads"], tables["touchpoints"]
    first = touch.sort_values("ts", kind="stable").groupby("person_id").first()
    assert (first["channel"] == leads.set_index("lead_id").loc[first.index, "channel"]).all()
    base = touch[touch["campaign_id"].fillna("") != "C12"].groupby("person_id").size()
    assert base.between(1, 8).all() and len(base) == len(leads)
    customers = leads.loc[leads["customer_at"].notna(), ["lead_id", "customer_at"]]
    after = touch.merge(customers, left_on="person_id", right_on="lead_id")
    assert (after["ts"] < after["customer_at"]).all()
    events = tables["events"]["event"].value_counts()
    funnel = ["visit_pricing", "start_trial", "activate", "purchase"]
    assert events[funnel].is_monotonic_decreasing
    orders = tables["orders"]
    assert orders["ordered_at"].min() < pd.Timestamp("2025-01-01", tz="UTC")
    assert orders["customer_id"].value_counts().max() > 12


# --- the shipped kpis.yml and personas.yml ---------------------------------------------------


def test_generator_leaves_the_config_files_alone(company, tmp_path):
    for name in ("kpis.yml", "personas.yml"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    written = write(company, tmp_path)
    assert not {"kpis.yml", "personas.yml"} & {p.name for p in written}
    for name in ("kpis.yml", "personas.yml"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_shipped_targets_are_ones_an_honest_team_would_agree():
    import salesmkt

    ds = salesmkt.load(SAMPLE)
    config = salesmkt.load_kpi_config(SAMPLE)
    # the SLA terms and the KPIs that measure them carry the same numbers
    assert config["targets"]["mql_sql_acceptance"]["target"] == config["sla"]["acceptance_rate"]
    assert config["targets"]["sla_compliance"]["target"] == config["sla"]["response_compliance"]
    assert set(config["targets"]) == set(config["kpis"])
    table = salesmkt.kpi_table(
        ds, kpis=config["kpis"], freq=config["freq"], settings=salesmkt.kpi_settings(config)
    )
    sla = salesmkt.sla_report(ds, config, freq=config["freq"])
    full = sorted(table.loc[table["period_end"] <= table["as_of"], "period"].unique())[-12:]
    met = pd.DataFrame(
        {
            p: salesmkt.scorecard(table, config, period=p, sla=sla)
            .set_index("kpi")["status"]
            .eq("on track")
            for p in full
        }
    )
    # over the last twelve months each target, the MQL commitment too, was met in some months
    # and missed in others: neither beaten every month nor out of reach
    assert "sla_mql_delivery" in met.index
    never = met.index[~met.any(axis=1)].tolist()
    always = met.index[met.all(axis=1)].tolist()
    assert never == [] and always == []


def test_shipped_personas_are_the_workshops_default_personas(company):
    import salesmkt
    from salesmkt.personas import PersonaModel, load_personas, match_personas

    leads = salesmkt.load(SAMPLE).leads
    saved = load_personas(SAMPLE)
    assert len(saved) == 5 and saved["name"].str.len().gt(0).all()
    assert saved["name"].is_unique
    for field in ("description", "goals", "objections", "notes"):
        assert saved[field].str.len().gt(0).all(), field
    # notebook 02 by default: the suggested five personas, random_state 0, default features
    model = PersonaModel(5, random_state=0).fit(leads)
    again = match_personas(model, leads, saved)
    assert again["status"].tolist() == ["matched"] * 5
    assert again["match_jaccard"].min() > 0.95
    # the planted persona each named persona recovers is the one it is named after
    truth = company.truth["personas"].set_index("lead_id")["persona"]
    named = salesmkt.assign_personas(leads, saved).set_index("lead_id")["persona"]
    agree = pd.crosstab(named, truth.reindex(named.index))
    assert (agree.idxmax(axis=1) == agree.index).all()


# --- economics in the ranges real B2B SaaS companies report (data/sample/README.md) --------


def test_new_business_win_rate_is_believable(tables):
    closed = tables["deals"].query("deal_type == 'new_business' and status != 'open'")
    assert 0.15 <= (closed["status"] == "won").mean() <= 0.30


def test_quota_attainment_spread_is_believable(tables):
    # bookings = won amount of every deal type, as the quota-attainment KPI counts it
    won = tables["deals"].query("status == 'won'")
    booked = won.groupby("owner_id")["amount"].sum()
    quota = tables["quotas"].groupby("owner_id")["quota"].sum()
    attainment = booked / quota
    assert len(attainment) == 8
    assert attainment.between(0.7, 1.2).all()
    assert attainment.min() < 0.8 and attainment.max() > 1.1


def test_channel_returns_are_believable(tables):
    # first-year contract value of the won new business each paid channel sourced / its spend
    won = tables["deals"].query("deal_type == 'new_business' and status == 'won'")
    won = won.merge(tables["leads"][["lead_id", "channel"]], on="lead_id")
    roas = (
        won.groupby("channel")["amount"].sum() / tables["spend"].groupby("channel")["amount"].sum()
    )
    roas = roas.dropna()
    assert set(roas.index) == {"paid_search", "paid_social", "display", "events", "email"}
    assert roas.between(1.0, 15.0).all()
    assert roas[["paid_search", "events"]].min() > roas[["paid_social", "display"]].max()


def test_most_months_meet_the_response_sla(company):
    leads = company.tables["leads"]
    mql = leads[leads["mql_at"].notna()]
    ok = (mql["first_response_at"] - mql["mql_at"]) <= pd.Timedelta(hours=4)
    by_month = ok.groupby(mql["mql_at"].dt.strftime("%Y-%m")).mean()
    others = by_month.drop(["2025-08", "2025-12"])
    assert (others >= 0.9).sum() >= 0.7 * len(others)
    assert others.min() > 0.85


def test_other_costs_truth(company):
    oc = company.truth["other_costs"]
    months = oc["month"].dt.strftime("%Y-%m")
    assert months.tolist() == [f"2025-{m:02d}" for m in range(1, 13)] + [
        f"2026-{m:02d}" for m in range(1, 7)
    ]
    amount = oc.set_index(months)["amount"]
    # team 140,000 + tools 9,000; O08 from July 2025 (+13,000); an agency from 2026 (+8,000)
    assert amount["2025-01"] == amount["2025-06"] == 149_000
    assert amount["2025-07"] == amount["2025-12"] == 162_000
    assert amount["2026-01"] == amount["2026-06"] == 170_000


def test_holdout_covariate_predicts_the_outcome_and_is_balanced(company):
    t = company.tables
    a = t["assignments"].merge(t["leads"], left_on="person_id", right_on="lead_id")
    when = a["assigned_at"]
    hit = (a["opportunity_at"] > when) & (a["opportunity_at"] <= when + pd.Timedelta(days=60))
    visits = np.log1p(a["web_visits_90d"].astype(float))
    assert company.truth["lift"]["covariate"].iloc[0] == "web_visits_90d"
    for _, arm in a.groupby("group"):
        assert visits[arm.index][hit[arm.index]].mean() > visits[arm.index][~hit[arm.index]].mean()
    means = visits.groupby(a["group"]).mean()
    assert abs(means["treatment"] - means["control"]) < 0.1 * visits.std()
