"""Salesforce lead and opportunity report exports onto the ``leads`` and ``deals`` tables.

Reads report exports ("Details Only", CSV or Excel, headers as field labels such as
``Lead ID``, ``Created Date``, ``Lead Source``, ``Close Date``) as well as API, Data Loader and
Fivetran extracts (``Id``, ``CreatedDate``, ``LeadSource``; ``created_date``, ``is_won``).
The report footer (``Grand Totals``, ``Confidential Information - Do Not Distribute``,
``Copyright (c) ... salesforce.com``) is dropped.

Semantic choices (see ``docs/exports.md``):

- Time zones and locale. Report datetimes are in the exporting user's zone without an offset,
  so ``tz`` is required for them; ISO values with ``Z`` (API, Data Loader) are UTC. Date-only
  fields (``Close Date``, ``Converted Date``) are calendar days, kept as UTC midnight of that
  day, except on the day the record was created, where they become its creation time (midnight
  would put a same-day close before the creation). ``3/15/2024`` vs ``15/03/2024`` is inferred from the values, or set with ``dayfirst``.
- Status comes from the ``Won`` and ``Closed`` columns (``IsWon``/``IsClosed``), because orgs
  rename stages; without them, from stage names containing "Closed Won"/"Closed Lost"
  (reported). ``closed_at`` is the close date of closed deals; open deals keep it as
  ``expected_close_at``.
- Opportunity ``Type`` maps through ``deal_types`` (default: New Business / New Customer ->
  new_business, Existing Business / Existing Customer - Upgrade -> expansion, Existing
  Customer - Replacement / Downgrade -> renewal); unknown types stay empty, raw kept.
- Lead Source maps through :data:`CHANNEL_MAP` (``Web``, ``Phone Inquiry``, ``Purchased List``
  -> other: a web form says nothing about the marketing channel), then the generic synonyms.
- With both files, a converted lead's ``Converted Opportunity ID`` links it to its deal
  (15- and 18-character ids match): ``deals.lead_id``, ``leads.opportunity_at`` (the deal's
  creation, else the converted date) and ``leads.customer_at`` (the close date of a won deal).
  ``mql_at``/``sql_at`` come from a lead history export in the same folder, with the statuses
  that mean MQL and SQL passed as ``mql_statuses``/``sql_statuses`` (a lead report alone has no
  stage times).

Examples
--------
>>> from pathlib import Path
>>> import salesmkt
>>> folder = Path(salesmkt.__file__).parent.parent / "tests" / "fixtures" / "exports" / "salesforce"
>>> ds = salesmkt.load(folder, source="salesforce", tz="Europe/London")
>>> ds.deals["status"].value_counts().sort_index().to_dict()
{'lost': 1, 'open': 2, 'won': 2}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from salesmkt.data.validate import Finding
from salesmkt.sources._common import (
    Header,
    clean_ids,
    extra_columns,
    header_key,
    map_channels,
    map_deal_types,
    not_before_same_day,
    parse_amounts,
    parse_flags,
    parse_times,
)
from salesmkt.sources._read import read_table_file
from salesmkt.sources._sf_history import apply_history, is_history, link_conversions, read_history

__all__ = ["CHANNEL_MAP", "DEAL_TYPES", "read", "classify", "default_kind"]

#: Lead Source picklist values (lower case, spaces as underscores) -> channel. Org-specific:
#: extend it with ``channels={...}``.
CHANNEL_MAP: dict[str, str] = {
    "web": "other",
    "phone_inquiry": "other",
    "purchased_list": "other",
    "other": "other",
    "public_relations": "other",
    "partner_referral": "referral",
    "partner": "referral",
    "employee_referral": "referral",
    "external_referral": "referral",
    "word_of_mouth": "referral",
    "trade_show": "events",
    "webinar": "events",
    "seminar_internal": "events",
    "seminar_partner": "events",
    "conference": "events",
    "advertisement": "display",
    "banner_ads": "display",
    "google_adwords": "paid_search",
    "google_ads": "paid_search",
    "email": "email",
}

#: Opportunity Type values (lower case) -> deal_type.
DEAL_TYPES: dict[str, str] = {
    "new business": "new_business",
    "new customer": "new_business",
    "existing business": "expansion",
    "existing customer - upgrade": "expansion",
    "existing customer - replacement": "renewal",
    "existing customer - downgrade": "renewal",
    "renewal": "renewal",
}

_FOOTER = re.compile(
    r'^\s*"?\s*(Grand Totals|Confidential Information|Copyright \(c\)|Total\s*\(\d+ records?\))',
    re.IGNORECASE,
)
_LEAD_ID = ["Lead ID", "Id", "LeadId", "Lead Id"]
_OPP_ID = ["Opportunity ID", "Id", "OpportunityId", "Opportunity Id"]
_CREATED = ["Created Date", "CreatedDate", "Create Date"]
_CONVERTED_OPP = ["Converted Opportunity ID", "ConvertedOpportunityId", "Converted Opportunity"]


def classify(path: Path, header: list[str]) -> str | None:
    """``"leads"``, ``"opportunities"``, ``"lead_history"`` or ``None`` (not a Salesforce
    export)."""
    if is_history(header):
        return "lead_history"
    keys = {header_key(h) for h in header}
    if not keys & {header_key(c) for c in _CREATED}:
        return None
    opp_marks = {"opportunity id", "stage", "stagename", "stage name", "close date", "closedate"}
    if keys & opp_marks and keys & {"opportunity id", "id", "opportunityid", "opportunity name"}:
        return "opportunities"
    lead_marks = {"lead id", "leadid", "lead source", "leadsource", "lead status", "isconverted"}
    if keys & {"lead id", "leadid"} or (keys & lead_marks and "id" in keys):
        return "leads"
    return None


def default_kind(header: list[str]) -> str:
    """The kind of a file given explicitly as a Salesforce export that :func:`classify` missed."""
    keys = {header_key(h) for h in header}
    opp_marks = {"stage", "stagename", "close date", "closedate", "amount", "opportunity name"}
    return "opportunities" if keys & opp_marks else "leads"


def _used(df, names) -> set[str]:
    keys = {header_key(n) for n in names}
    return {c for c in df.columns if header_key(c) in keys}


def _leads(df, file, tz, dayfirst, channels, notes) -> pd.DataFrame:
    h = Header(df, file)
    t = dict(tz=tz, file=file, table="leads", dayfirst=dayfirst, notes=notes)
    lead_id = clean_ids(h.need(_LEAD_ID, table="leads", column="lead_id"))
    created = parse_times(
        h.need(_CREATED, table="leads", column="created_at"), column="created_at", **t
    )
    source = h.get(["Lead Source", "LeadSource"])
    converted_date = h.get(["Converted Date", "ConvertedDate"])
    names = {
        "owner_id": ["Lead Owner", "OwnerId", "Owner ID", "Lead Owner ID"],
        "account_id": ["Converted Account ID", "ConvertedAccountId", "Converted Account"],
        "status": ["Lead Status", "Status"],
        "converted": ["Converted", "IsConverted", "Is Converted"],
        "converted_opportunity_id": _CONVERTED_OPP,
    }
    cols: dict[str, pd.Series | None] = {
        "lead_id": lead_id,
        "created_at": created,
        "channel": map_channels(source, {**CHANNEL_MAP, **channels}),
        "channel_raw": source,
        "owner_id": h.get(names["owner_id"]),
        "account_id": h.get(names["account_id"]),
        "lead_status": h.get(names["status"]),
        "converted_at": None
        if converted_date is None
        else parse_times(converted_date, column="opportunity_at", **t),
    }
    conv = h.get(names["converted"])
    if conv is not None:
        cols["is_converted"] = parse_flags(conv, file=file, table="leads", column="is_converted")
    opp = h.get(names["converted_opportunity_id"])
    if opp is not None:
        cols["converted_opportunity_id"] = clean_ids(opp)
    out = {k: v for k, v in cols.items() if v is not None}
    used = _used(df, [*_LEAD_ID, *_CREATED, "Lead Source", "LeadSource", "Converted Date"])
    used |= _used(df, ["ConvertedDate", *[n for v in names.values() for n in v]])
    out.update(extra_columns(h.df, used, set(out)))
    leads = pd.DataFrame(out).reset_index(drop=True)
    if "converted_at" in leads:
        leads["opportunity_at"] = not_before_same_day(
            leads["converted_at"], leads["created_at"], tz
        )
    return leads


def _status(h: Header, stage, file, notes) -> pd.Series:
    won_raw = h.get(["Won", "IsWon", "Is Won"])
    closed_raw = h.get(["Closed", "IsClosed", "Is Closed"])
    n = len(h.df)
    status = pd.Series("open", index=h.df.index, dtype="string")
    if won_raw is not None or closed_raw is not None:
        won = parse_flags(won_raw, file=file, table="deals", column="status")
        closed = parse_flags(closed_raw, file=file, table="deals", column="status")
        if closed_raw is not None:
            status[closed.fillna(False).to_numpy()] = "lost"
        if won_raw is not None:
            status[won.fillna(False).to_numpy()] = "won"
        if closed_raw is None and stage is not None:
            status[stage.str.contains("lost", case=False).fillna(False).to_numpy()] = "lost"
        return status
    if stage is None:
        notes.append(
            Finding(
                "deals",
                "status",
                f"{file} has no Won, Closed or Stage column",
                n,
                severity="warning",
                action="Every deal is counted as open",
            )
        )
        return status
    key = stage.str.lower().str.replace(r"[\s_-]+", "", regex=True)
    status[key.str.contains("closedwon").fillna(False).to_numpy()] = "won"
    status[key.str.contains("closedlost").fillna(False).to_numpy()] = "lost"
    notes.append(
        Finding(
            "deals",
            "status",
            f"{file} has no Won/Closed columns; won and lost were read from stage names",
            n,
            severity="warning",
            action="Add the Won and Closed columns to the report if stages were renamed",
        )
    )
    return status


def _opportunities(df, file, tz, dayfirst, deal_types, notes) -> pd.DataFrame:
    h = Header(df, file)
    t = dict(tz=tz, file=file, table="deals", dayfirst=dayfirst, notes=notes)
    deal_id = clean_ids(h.need(_OPP_ID, table="deals", column="deal_id"))
    created = parse_times(
        h.need(_CREATED, table="deals", column="created_at"), column="created_at", **t
    )
    amount_raw = h.need(["Amount", "Amount (converted)", "amount"], table="deals", column="amount")
    amount = parse_amounts(amount_raw, file=file, table="deals", column="amount")
    missing = amount.isna()
    if missing.any():
        notes.append(
            Finding(
                "deals",
                "amount",
                f"{file}: {int(missing.sum())} opportunities without an amount",
                int(missing.sum()),
                severity="warning",
                action="Kept with an amount of 0, marked as missing (column amount_missing)",
            )
        )
    stage = h.get(["Stage", "StageName", "Stage Name"])
    status = _status(h, stage, file, notes)
    close_raw = h.get(["Close Date", "CloseDate"])
    close = None if close_raw is None else parse_times(close_raw, column="closed_at", **t)
    if close is not None and close_raw.str.contains(":").fillna(False).sum() == 0:
        close = not_before_same_day(close, created, tz)  # a date: not before the creation
    is_closed = status.isin(["won", "lost"]).to_numpy()
    names = {
        "account_id": ["Account ID", "AccountId", "Account Id"],
        "owner_id": ["Opportunity Owner", "OwnerId", "Owner ID", "Opportunity Owner ID"],
        "campaign_id": ["Primary Campaign Source", "CampaignId", "Campaign ID"],
        "type": ["Type", "Opportunity Type"],
        "lead_source": ["Lead Source", "LeadSource"],
        "name": ["Opportunity Name", "Name"],
        "product": ["Product", "Product Name"],
        "flags": ["Won", "IsWon", "Is Won", "Closed", "IsClosed", "Is Closed"],
    }
    cols: dict[str, pd.Series | None] = {
        "deal_id": deal_id,
        "created_at": created,
        "amount": amount.fillna(0.0),
        "amount_missing": missing.astype("boolean"),
        "account_id": h.get(names["account_id"]),
        "owner_id": h.get(names["owner_id"]),
        "campaign_id": h.get(names["campaign_id"]),
        "stage": stage,
        "status": status,
        "closed_at": None if close is None else close.where(is_closed),
        "expected_close_at": None if close is None else close.where(~is_closed),
        "product": h.get(names["product"]),
        "deal_name": h.get(names["name"]),
        "lead_source": h.get(names["lead_source"]),
    }
    typ = h.get(names["type"])
    if typ is not None:
        cols["deal_type"] = map_deal_types(
            typ,
            deal_types,
            file=file,
            notes=notes,
            what="opportunity types",
            action="Left empty, raw value in deal_type_raw; pass deal_types={...}",
        )
        cols["deal_type_raw"] = typ
    out = {k: v for k, v in cols.items() if v is not None}
    used = _used(df, [*_OPP_ID, *_CREATED, "Amount", "Amount (converted)", "amount", "Stage"])
    used |= _used(df, ["StageName", "Stage Name", "Close Date", "CloseDate"])
    used |= _used(df, [n for v in names.values() for n in v])
    out.update(extra_columns(h.df, used, set(out)))
    return pd.DataFrame(out).reset_index(drop=True)


def read(
    parts: dict[str, list[Path]],
    *,
    tz: str | None = None,
    encoding: str | None = None,
    dayfirst: bool | None = None,
    channels: Mapping[str, str] | None = None,
    deal_types: Mapping[str, str] | None = None,
    mql_statuses: list[str] | tuple[str, ...] | None = None,
    sql_statuses: list[str] | tuple[str, ...] | None = None,
    disqualified_statuses: list[str] | tuple[str, ...] | None = ("Closed - Not Converted",),
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read Salesforce ``leads`` and ``opportunities`` report exports into canonical tables.

    Parameters
    ----------
    parts : dict
        ``{"leads": [paths], "opportunities": [paths]}``; several files of one kind are stacked.
    tz : str, optional
        The exporting user's time zone; required when datetimes carry no offset.
    encoding : str, optional
        Text encoding when the file is neither UTF-8 nor marked by a byte-order mark.
    dayfirst : bool, optional
        Whether ``03/04/2024`` is 3 April (en_GB); inferred from the values by default.
    channels : dict, optional
        Extra Lead Source values -> channel (keys lower case, spaces as underscores).
    deal_types : dict, optional
        Opportunity Type values -> ``new_business``/``expansion``/``renewal``, replacing
        :data:`DEAL_TYPES`.
    mql_statuses, sql_statuses, disqualified_statuses : list of str, optional
        Lead Status values that mean MQL, SQL and disqualified, read from a lead history
        export (``"lead_history"`` files) into ``mql_at``, ``sql_at``, ``disqualified_at``.

    Returns
    -------
    (dict of DataFrame, list of Finding)
    """
    channels = {k.lower().replace(" ", "_"): v for k, v in (channels or {}).items()}
    notes: list[Finding] = []
    frames: dict[str, list[pd.DataFrame]] = {"leads": [], "opportunities": [], "lead_history": []}
    for kind, paths in parts.items():
        for path in paths:
            df, found = read_table_file(path, encoding=encoding, drop_lines=_FOOTER)
            notes += found
            if kind == "lead_history":
                frames[kind].append(
                    read_history(df, path.name, tz=tz, dayfirst=dayfirst, notes=notes)
                )
            elif kind == "leads":
                frames[kind].append(_leads(df, path.name, tz, dayfirst, channels, notes))
            else:
                types = dict(deal_types) if deal_types is not None else DEAL_TYPES
                frames[kind].append(_opportunities(df, path.name, tz, dayfirst, types, notes))
    tables: dict[str, pd.DataFrame] = {}
    if frames["leads"]:
        tables["leads"] = pd.concat(frames["leads"], ignore_index=True)
    if frames["opportunities"]:
        tables["deals"] = pd.concat(frames["opportunities"], ignore_index=True)
    if "leads" in tables and "deals" in tables:
        tables["leads"], tables["deals"] = link_conversions(tables["leads"], tables["deals"])
    if frames["lead_history"] and "leads" in tables:
        tables["leads"] = apply_history(
            tables["leads"],
            pd.concat(frames["lead_history"], ignore_index=True),
            mql_statuses=mql_statuses,
            sql_statuses=sql_statuses,
            disqualified_statuses=disqualified_statuses,
        )
    elif frames["lead_history"]:
        notes.append(
            Finding(
                "leads",
                "",
                "a lead history export without a lead report",
                0,
                severity="warning",
                action="Not used; export the lead report too",
            )
        )
    return tables, notes
