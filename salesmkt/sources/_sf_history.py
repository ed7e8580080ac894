"""Salesforce lead journeys: converted leads linked to their opportunities, and the lead history
(the "Lead History" report, or ``LeadHistory`` rows) onto the lifecycle timestamps of ``leads``:
``mql_at``, ``sql_at``, ``disqualified_at`` and ``first_response_at``.

A lead report has no stage timestamps; the history of the Lead Status field has them. Which
statuses mean MQL or SQL is the org's own choice, so ``mql_statuses`` and ``sql_statuses`` name
them (no default); ``disqualified_statuses`` defaults to ``Closed - Not Converted``. The first
change of Lead Status is the first sales response.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from salesmkt.sources._common import Header, clean_ids, header_key, parse_times

_LEAD = ["Lead ID", "LeadId", "Lead Id"]
_WHEN = ["Edit Date", "CreatedDate", "Created Date", "Date"]
_FIELD = ["Field / Event", "Field", "Field/Event"]
_NEW = ["New Value", "NewValue"]
_STATUS_FIELDS = {"status", "lead status"}


def is_history(header: list[str]) -> bool:
    keys = {header_key(h) for h in header}
    has = lambda names: bool(keys & {header_key(n) for n in names})  # noqa: E731
    return has(_LEAD) and has(_FIELD) and has(_NEW)


def read_history(df: pd.DataFrame, file: str, *, tz, dayfirst, notes) -> pd.DataFrame:
    """Status changes as ``lead_id, ts, status``, oldest first."""
    h = Header(df, file)
    lead = clean_ids(h.need(_LEAD, table="leads", column="lead_id"))
    when = parse_times(
        h.need(_WHEN, table="leads", column="mql_at"),
        tz=tz,
        file=file,
        table="leads",
        column="mql_at",
        dayfirst=dayfirst,
        notes=notes,
    )
    field = h.need(_FIELD, table="leads", column="mql_at").str.strip().str.lower()
    new = h.need(_NEW, table="leads", column="mql_at").str.strip()
    changes = pd.DataFrame({"lead_id": lead, "ts": when, "status": new})
    changes = changes[field.isin(_STATUS_FIELDS).fillna(False).to_numpy()]
    return changes.dropna(subset=["lead_id", "ts"]).sort_values("ts", kind="stable")


def _first(changes: pd.DataFrame, statuses: Iterable[str] | None) -> pd.Series:
    if not statuses:
        return pd.Series(dtype="datetime64[ns, UTC]")
    wanted = {s.strip().lower() for s in statuses}
    hit = changes[changes["status"].str.lower().isin(wanted).fillna(False)]
    return hit.groupby("key")["ts"].min()


def apply_history(
    leads: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    mql_statuses: Iterable[str] | None,
    sql_statuses: Iterable[str] | None,
    disqualified_statuses: Iterable[str] | None,
) -> pd.DataFrame:
    """``leads`` with the stage timestamps the status history gives (15/18-character ids)."""
    leads = leads.copy()
    changes = changes.assign(key=changes["lead_id"].str.slice(0, 15))
    key = leads["lead_id"].astype("string").str.slice(0, 15)
    found = {
        "mql_at": _first(changes, mql_statuses),
        "sql_at": _first(changes, sql_statuses),
        "disqualified_at": _first(changes, disqualified_statuses),
        "first_response_at": changes.groupby("key")["ts"].min(),
    }
    for column, first in found.items():
        if len(first) == 0 and column in leads:
            continue  # nothing in the history for it: keep what the lead report said
        first = first.astype("datetime64[ns, UTC]")
        leads[column] = pd.Series(first.reindex(key.to_numpy()).array, index=leads.index)
    return leads


def _sf_key(ids: pd.Series) -> pd.Series:
    """The case-sensitive 15-character form of a Salesforce id (18-character ids end in a
    3-character checksum)."""
    return ids.astype("string").str.slice(0, 15)


def link_conversions(leads: pd.DataFrame, deals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Converted leads -> their opportunities: deals.lead_id, opportunity_at, customer_at."""
    if "converted_opportunity_id" not in leads or leads.empty or deals.empty:
        return leads, deals
    leads, deals = leads.copy(), deals.copy()
    conv = leads.dropna(subset=["converted_opportunity_id"])
    by_opp = pd.Series(conv["lead_id"].to_numpy(), index=_sf_key(conv["converted_opportunity_id"]))
    by_opp = by_opp[~by_opp.index.duplicated()]
    lead_of_deal = _sf_key(deals["deal_id"]).map(by_opp)
    current = deals.get("lead_id", pd.Series(pd.NA, index=deals.index, dtype="string"))
    deals["lead_id"] = current.astype("string").fillna(lead_of_deal.astype("string"))
    dkey = _sf_key(deals["deal_id"])
    created = pd.Series(deals["created_at"].array, index=dkey)
    created = created[~created.index.duplicated()]
    won_close = (
        deals["closed_at"].where(deals["status"].eq("won")) if "closed_at" in deals else None
    )
    okey = _sf_key(leads["converted_opportunity_id"])
    opp_created = okey.map(created).astype("datetime64[ns, UTC]")
    no_ts = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns, UTC]")
    fallback = leads.get("opportunity_at", no_ts)
    leads["opportunity_at"] = opp_created.fillna(fallback).astype("datetime64[ns, UTC]")
    if won_close is not None:
        closes = pd.Series(won_close.array, index=dkey)
        closes = closes[~closes.index.duplicated()]
        leads["customer_at"] = okey.map(closes).astype("datetime64[ns, UTC]")
    return leads, deals
