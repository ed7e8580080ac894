"""Ground truth of the sample company: what was planted, and what the data shows of it.

Private to :mod:`salesmkt.sample`.
"""

from __future__ import annotations

from math import erf, log, sqrt

import numpy as np
import pandas as pd

from salesmkt.data.schema import CHANNELS
from salesmkt.sample.base import other_costs
from salesmkt.sample.config import (
    BREACH,
    BREACH_MONTHS,
    CAMPAIGNS,
    CHANNEL_ECON,
    HOLDOUT,
    MONTH_FACTOR,
    OTHER_COSTS,
    PERSONAS,
    PRODUCTS,
    RESPONSE,
    SLA_HOURS,
)

DEFINING = {
    "enterprise_it_buyer": "IT directors/VPs at 1,000+ employee firms (median 4,000), finance "
    "and healthcare; many webinars, few web visits, rarely trial; sourced by events, paid "
    "search and referral; big deals, ~110-day cycles, lowest churn",
    "startup_founder": "founders/C-level at 5-50 employee software startups; trial users, "
    "frequent site visits, no webinars, low email opens; organic search/social, paid social "
    "and direct; small deals, fastest cycle, highest churn",
    "growth_marketer": "marketing managers at 100-600 employee retail, software and services "
    "firms; download content, open emails, some webinars; paid social, email, display and "
    "search; mid-size deals, ~6-week cycles",
    "operations_manager": "operations managers/directors at 300-2,000 employee manufacturing "
    "and retail firms; least engaged online; paid search and display, some events; lowest "
    "conversion, mid-size deals, ~10-week cycles",
    "developer_champion": "individual-contributor engineers at software firms of any size "
    "(median 150); heaviest web visitors, almost all trial users, ignore email; organic "
    "search, direct and referral; small deals, short cycles",
}


def _phi(x: float) -> float:
    return 0.5 * (1 + erf(x / sqrt(2)))


def build_truth(tables: dict[str, pd.DataFrame], lead: dict, defects: list, noise: dict) -> dict:
    """Ground-truth frames (see ``SampleCompany.truth``)."""
    leads = tables["leads"]
    truth = {}
    names = np.array([p["name"] for p in PERSONAS], dtype=object)
    truth["personas"] = pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "persona": pd.array(names[lead["persona"]], dtype="string"),
        }
    )
    counts = np.bincount(lead["persona"], minlength=len(PERSONAS))
    truth["persona_profiles"] = pd.DataFrame(
        {
            "persona": [p["name"] for p in PERSONAS],
            "n_leads": counts,
            "defining_attributes": [DEFINING[p["key"]] for p in PERSONAS],
            "p_mql": [p["funnel"][0] for p in PERSONAS],
            "p_sql_given_mql": [p["funnel"][1] for p in PERSONAS],
            "p_opportunity_given_sql": [p["funnel"][2] for p in PERSONAS],
            "p_won_given_opportunity": [p["funnel"][3] for p in PERSONAS],
            "median_acv": [float(p["acv"][0]) for p in PERSONAS],
            "mean_cycle_days": [p["cycle"] for p in PERSONAS],
            "monthly_churn": [p["churn"] for p in PERSONAS],
            "main_product": [PRODUCTS[int(np.argmax(p["product"]))] for p in PERSONAS],
            "top_channels": [
                ", ".join(CHANNELS[i] for i in np.argsort(p["channels"])[::-1][:3])
                for p in PERSONAS
            ],
        }
    )
    spend = tables["spend"].groupby("channel")["amount"].sum()
    n_by_ch = leads["channel"].value_counts()
    truth["channel_economics"] = pd.DataFrame(
        {
            "channel": list(CHANNELS),
            "mql_multiplier": [CHANNEL_ECON[c]["mql"] for c in CHANNELS],
            "win_multiplier": [CHANNEL_ECON[c]["win"] for c in CHANNELS],
            "deal_size_multiplier": [CHANNEL_ECON[c]["acv"] for c in CHANNELS],
            "churn_multiplier": [CHANNEL_ECON[c]["churn"] for c in CHANNELS],
            "n_leads": [int(n_by_ch.get(c, 0)) for c in CHANNELS],
            "spend": [round(float(spend.get(c, 0.0)), 2) for c in CHANNELS],
        }
    )
    ce = truth["channel_economics"]
    ce["cpl"] = (ce["spend"] / ce["n_leads"]).where(ce["spend"] > 0).round(2)
    camp = tables["campaigns"][["campaign_id", "channel"]].copy()
    camp["planted_cpl"] = [np.nan if c[7] is None else c[7] for c in CAMPAIGNS]
    camp["daily_tool_fee"] = [c[8] for c in CAMPAIGNS]
    n_by_c = leads["campaign_id"].value_counts()
    spend_c = tables["spend"].groupby("campaign_id")["amount"].sum()
    camp["n_leads"] = [int(n_by_c.get(c, 0)) for c in camp["campaign_id"]]
    camp["spend"] = [round(float(spend_c.get(c, 0.0)), 2) for c in camp["campaign_id"]]
    has = (camp["spend"] > 0) & (camp["n_leads"] > 0)
    camp["cpl"] = (camp["spend"] / camp["n_leads"]).where(has).round(2)
    truth["campaign_economics"] = camp

    a = tables["assignments"].merge(
        leads[["lead_id", "opportunity_at"]], left_on="person_id", right_on="lead_id"
    )
    dt = a["opportunity_at"] - a["assigned_at"]
    hit = (dt > pd.Timedelta(0)) & (dt <= pd.Timedelta(days=HOLDOUT["window_days"]))
    rates = hit.groupby(a["group"]).mean()
    sizes = a["group"].value_counts()
    c, tr = HOLDOUT["control_rate"], HOLDOUT["treatment_rate"]
    truth["lift"] = pd.DataFrame(
        {
            "campaign_id": [HOLDOUT["campaign_id"]],
            "assigned_at": [a["assigned_at"].iloc[0]],
            "outcome": [
                f"lead reaches opportunity (leads.opportunity_at) within {HOLDOUT['window_days']} "
                "days after assigned_at"
            ],
            "eligibility": [
                f"created at least {HOLDOUT['min_age_days']} days before assignment, no sql_at "
                "and not disqualified by then"
            ],
            "n_control": [int(sizes["control"])],
            "n_treatment": [int(sizes["treatment"])],
            "control_rate": [c],
            "treatment_rate": [tr],
            "absolute_effect": [round(tr - c, 4)],
            "relative_lift": [round((tr - c) / c, 4)],
            "observed_control_rate": [round(float(rates["control"]), 4)],
            "observed_treatment_rate": [round(float(rates["treatment"]), 4)],
            "covariate": [HOLDOUT["covariate"]],
            # where the data exposes it: a copy of the lead's visits beside each assignment
            "covariate_column": ["assignments.pre_period_visits"],
            "covariate_effect": [HOLDOUT["covariate_effect"]],
        }
    )
    costs = other_costs()
    truth["other_costs"] = pd.DataFrame(
        {
            "month": pd.to_datetime([m + "-01" for m in costs], utc=True),
            "amount": list(costs.values()),
            "items": [
                "; ".join(item for first, item, _ in OTHER_COSTS if first <= m) for m in costs
            ],
        }
    )
    truth["sla_breach_months"] = _sla(leads)
    truth["seasonality"] = pd.DataFrame(
        {"month_of_year": np.arange(1, 13), "lead_volume_factor": MONTH_FACTOR}
    )
    deals = tables["deals"]
    rows = [
        (tbl, prob, len(ix), " ".join(leads["lead_id"].to_numpy()[ix])) for tbl, prob, ix in defects
    ]
    bad = deals["closed_at"] < deals["created_at"]
    rows.append(
        (
            "deals",
            "closed_at before created_at (same leads as the row above)",
            int(bad.sum()),
            " ".join(deals.loc[bad, "deal_id"]),
        )
    )
    stale = (deals["status"] == "open") & (
        deals["expected_close_at"] < pd.Timestamp("2026-07-01", tz="UTC")
    )
    rows.append(
        (
            "deals",
            "open deals whose expected_close_at has passed (not an error: stale CRM)",
            int(stale.sum()),
            "",
        )
    )
    early = leads["first_response_at"] < leads["mql_at"]
    rows.append(
        (
            "leads",
            "first_response_at before mql_at (rep called before the MQL stamp)",
            int(early.sum()),
            "",
        )
    )
    skipped = leads["mql_at"].isna() & leads["sql_at"].notna()
    rows.append(
        (
            "leads",
            "skipped stage: sql_at without mql_at (allowed, not an error)",
            int(skipped.sum()),
            "",
        )
    )
    rows.append(
        (
            "events",
            "activate logged before start_trial (client clock skew)",
            noise["activate_before_start_trial"],
            "",
        )
    )
    rows.append(("events", "exact duplicate rows", noise["duplicate_rows"], ""))
    rows.append(
        ("sessions", "duration_s missing", int(tables["sessions"]["duration_s"].isna().sum()), "")
    )
    truth["data_quality"] = pd.DataFrame(rows, columns=["table", "problem", "count", "ids"])
    truth["conversion_drivers"] = _conversion_drivers()
    return truth


#: lead columns in which a lead's persona shows (its planted attribute distributions)
PERSONA_FEATURES = (
    "industry",
    "company_size",
    "annual_revenue",
    "job_role",
    "seniority",
    "web_visits_90d",
    "content_downloads",
    "webinars_attended",
    "email_open_rate",
    "trial_user",
)


def _conversion_drivers() -> pd.DataFrame:
    """What decides whether a sample lead becomes a customer, and where a score can see it.

    Conversion is planted by persona (funnel rates) and by channel (multipliers on P(MQL) and
    P(won | opportunity)); behaviour (visits, downloads, webinars, trials) differs by persona
    but has no effect of its own. A lead score should find the channel and the persona's
    attributes among its strongest features.
    """
    win = [CHANNEL_ECON[c]["win"] for c in CHANNELS]
    mql = [CHANNEL_ECON[c]["mql"] for c in CHANNELS]
    p_won = [float(np.prod(p["funnel"])) for p in PERSONAS]
    return pd.DataFrame(
        {
            "driver": ["channel", "persona"],
            "features": ["channel", ", ".join(PERSONA_FEATURES)],
            "effect": [
                f"P(MQL) x {min(mql):.2f} to {max(mql):.2f} and P(won | opportunity) x "
                f"{min(win):.2f} to {max(win):.2f} by channel",
                f"P(lead becomes customer) from {min(p_won):.3f} to {max(p_won):.3f} by "
                "persona, before the channel multipliers",
            ],
        }
    )


def _sla(leads: pd.DataFrame) -> pd.DataFrame:
    """Planted and observed first-response SLA compliance in the breach months."""
    handoff = leads["mql_at"].fillna(leads["sql_at"])
    month = handoff.dt.strftime("%Y-%m")
    ok = (leads["first_response_at"] - handoff) <= pd.Timedelta(hours=SLA_HOURS)
    by = ok.groupby(month).mean()
    rest = ok[handoff.notna() & ~month.isin(BREACH_MONTHS)].mean()

    def planted(p):
        return (1 - p["no_response"]) * _phi(log(SLA_HOURS / p["median_h"]) / p["sigma"])

    return pd.DataFrame(
        {
            "month": pd.to_datetime([m + "-01" for m in BREACH_MONTHS], utc=True),
            "sla_hours": SLA_HOURS,
            "median_response_hours": BREACH["median_h"],
            "no_response_share": BREACH["no_response"],
            "planted_compliance": round(planted(BREACH), 4),
            "planted_compliance_other_months": round(planted(RESPONSE), 4),
            "observed_compliance": [round(float(by[m]), 4) for m in BREACH_MONTHS],
            "observed_compliance_other_months": round(float(rest), 4),
        }
    )
