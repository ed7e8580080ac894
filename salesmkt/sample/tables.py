"""Assemble the generator's arrays into typed canonical tables and ground-truth frames.

Private to :mod:`salesmkt.sample`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.data.schema import CHANNELS, TABLES
from salesmkt.sample.base import ids
from salesmkt.sample.config import (
    CAMPAIGNS,
    DAY,
    END,
    HOLDOUT,
    INDUSTRIES,
    OWNERS,
    PRODUCTS,
    REGIONS,
    ROLES,
    SENIORITY,
)
from salesmkt.sample.web import LANDING

#: Kinds of the columns the sample adds beyond the schema.
EXTRA_KINDS = {
    "industry": "text",
    "company_size": "count",
    "region": "text",
    "annual_revenue": "number",
    "job_role": "text",
    "seniority": "text",
    "web_visits_90d": "count",
    "content_downloads": "count",
    "webinars_attended": "count",
    "email_open_rate": "number",
    "trial_user": "flag",
    "full_name": "text",
    "email": "text",
    "phone": "text",
}
#: Decimals written per number column (money 2, rates 4, seconds 0).
DECIMALS = {
    "amount": 2,
    "revenue": 2,
    "quota": 2,
    "annual_revenue": 2,
    "email_open_rate": 4,
    "duration_s": 0,
}
STATUS = np.array(["lost", "open", "won"], dtype=object)
DEAL_TYPES = np.array(["new_business", "expansion", "renewal"], dtype=object)


def kind_of(table: str, column: str) -> str:
    """Schema kind of a column, or the sample's kind for an extra column."""
    spec = TABLES[table].columns.get(column)
    return spec.kind if spec is not None else EXTRA_KINDS[column]


def typed(table: str, data: dict[str, object]) -> pd.DataFrame:
    """A DataFrame whose dtypes follow the schema kinds; times given as epoch seconds."""
    cols = {}
    for name, values in data.items():
        kind = kind_of(table, name)
        if kind in ("timestamp", "date"):
            ts = pd.to_datetime(np.asarray(values, float), unit="s", utc=True)
            cols[name] = pd.Series(ts).astype("datetime64[ns, UTC]")
        elif kind == "number":
            cols[name] = pd.Series(np.asarray(values, float))
        elif kind == "count":
            cols[name] = pd.Series(pd.array(np.asarray(values, np.int64), dtype="Int64"))
        elif kind == "flag":
            cols[name] = pd.Series(pd.array(np.asarray(values, bool), dtype="boolean"))
        else:
            cols[name] = pd.Series(pd.array(list(values), dtype="string"))
    return pd.DataFrame(cols)


def _lookup(names, index: np.ndarray) -> np.ndarray:
    """``names[index]`` with -1 mapped to None."""
    arr = np.asarray(list(names) + [None], dtype=object)
    return arr[np.where(index < 0, len(names), index)]


def build(lead, rev, sess, touch, events, spend, quota, scale) -> dict[str, pd.DataFrame]:
    """All canonical tables, in schema order."""
    n = len(lead["created"])
    lead_ids = ids("L", n, 5)
    acct_ids = ids("A", rev["n_accounts"], 4)
    n_ex = rev["n_accounts"] - n
    t = {}
    t["leads"] = typed(
        "leads",
        {
            "lead_id": lead_ids,
            "created_at": lead["created"],
            "channel": _lookup(CHANNELS, lead["channel"]),
            "campaign_id": lead["campaign"],
            "account_id": acct_ids[n_ex:],
            "owner_id": _lookup(OWNERS, lead["owner"]),
            "mql_at": lead["mql"],
            "sql_at": lead["sql"],
            "opportunity_at": lead["opp"],
            "customer_at": lead["customer"],
            "disqualified_at": lead["disq"],
            "first_response_at": lead["first_response"],
            "industry": _lookup(INDUSTRIES, lead["industry"]),
            "company_size": lead["company_size"],
            "region": _lookup(REGIONS, lead["region"]),
            "annual_revenue": lead["annual_revenue"],
            "job_role": _lookup(ROLES, lead["job_role"]),
            "seniority": _lookup(SENIORITY, lead["seniority"]),
            "web_visits_90d": lead["web_visits_90d"],
            "content_downloads": lead["content_downloads"],
            "webinars_attended": lead["webinars_attended"],
            "email_open_rate": lead["email_open_rate"],
            "trial_user": lead["trial_user"],
            "full_name": lead["full_name"],
            "email": lead["email"],
            "phone": lead["phone"],
        },
    )
    d = rev["deals"]
    o = np.lexsort((d["account"], d["type"], d["created"]))
    d = {k: v[o] for k, v in d.items()}
    rev["deals_sorted"] = d
    frac = (END - d["created"]) / np.maximum(d["expected"] - d["created"], DAY)
    open_stage = np.select(
        [frac < 0.25, frac < 0.5, frac < 0.8], ["Discovery", "Demo", "Proposal"], "Negotiation"
    )
    stage = np.select(
        [d["status"] == 2, d["status"] == 0], ["Closed Won", "Closed Lost"], open_stage
    )
    t["deals"] = typed(
        "deals",
        {
            "deal_id": ids("D", len(d["created"]), 4),
            "created_at": d["created"],
            "amount": d["amount"],
            "lead_id": _lookup(lead_ids, d["lead"]),
            "account_id": acct_ids[d["account"]],
            "owner_id": _lookup(OWNERS, d["owner"]),
            "stage": stage,
            "expected_close_at": d["expected"],
            "closed_at": d["closed"],
            "status": STATUS[d["status"]],
            "deal_type": DEAL_TYPES[d["type"]],
            "product": _lookup(PRODUCTS, d["product"]),
        },
    )
    t["sessions"] = typed(
        "sessions",
        {
            "session_id": ids("S", len(sess["started"]), 6),
            "visitor_id": ids("V", sess["visitor"].max() + 1, 5)[sess["visitor"]],
            "started_at": sess["started"],
            "duration_s": sess["duration"],
            "pageviews": sess["pageviews"],
            "bounced": sess["bounced"],
            "channel": _lookup(CHANNELS, sess["channel"]),
            "campaign_id": sess["campaign"],
            "landing_page": _lookup(LANDING, sess["landing"]),
            "lead_id": _lookup(lead_ids, sess["lead"]),
        },
    )
    t["touchpoints"] = typed(
        "touchpoints",
        {
            "person_id": lead_ids[touch["person"]],
            "ts": touch["ts"],
            "channel": _lookup(CHANNELS, touch["channel"]),
            "campaign_id": touch["campaign"],
        },
    )
    t["events"] = typed(
        "events",
        {"person_id": lead_ids[events["person"]], "ts": events["ts"], "event": events["event"]},
    )
    day = lambda s: np.datetime64(s, "s").astype(np.int64)  # noqa: E731
    t["campaigns"] = typed(
        "campaigns",
        {
            "campaign_id": [c[0] for c in CAMPAIGNS],
            "channel": [c[1] for c in CAMPAIGNS],
            "name": [c[2] for c in CAMPAIGNS],
            "type": [c[3] for c in CAMPAIGNS],
            "offer": [c[4] for c in CAMPAIGNS],
            "start_date": [day(c[5]) for c in CAMPAIGNS],
            "end_date": [day(c[6]) for c in CAMPAIGNS],
        },
    )
    o = np.lexsort((spend["campaign"], spend["date"]))
    cids = np.array([c[0] for c in CAMPAIGNS], dtype=object)
    t["spend"] = typed(
        "spend",
        {
            "date": spend["date"][o],
            "campaign_id": cids[spend["campaign"][o]],
            "amount": spend["amount"][o],
            "channel": np.array([c[1] for c in CAMPAIGNS], dtype=object)[spend["campaign"][o]],
        },
    )
    r = rev["orders"]
    o = np.lexsort((r["product"], r["account"], r["ordered"]))
    t["orders"] = typed(
        "orders",
        {
            "order_id": ids("INV", len(o), 5),
            "customer_id": acct_ids[r["account"][o]],
            "ordered_at": r["ordered"][o],
            "revenue": r["revenue"][o],
            "product": _lookup(PRODUCTS, r["product"][o]),
        },
    )
    own, mon, quo = quota
    t["quotas"] = typed(
        "quotas", {"owner_id": _lookup(OWNERS, own), "period_start": mon, "quota": quo}
    )
    g = np.flatnonzero(lead["group"] >= 0)
    t["assignments"] = typed(
        "assignments",
        {
            "person_id": lead_ids[g],
            "campaign_id": np.full(len(g), HOLDOUT["campaign_id"], object),
            "group": np.where(lead["group"][g] == 1, "treatment", "control"),
            "assigned_at": np.full(len(g), float(HOLDOUT["assigned_at"])),
            # the planted covariate, measured before assignment (CUPED adjusts by it)
            "pre_period_visits": lead[HOLDOUT["covariate"]][g],
        },
    )
    return {name: t[name] for name in TABLES}
