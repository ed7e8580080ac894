"""HubSpot contacts and deals exports onto the ``leads``, ``deals``, ``touchpoints`` and
``campaigns`` tables.

Both forms of a HubSpot file are read: the UI export (``Record ID``, ``Create Date``,
``Original Source`` labels, values such as ``Organic search``) and API/warehouse extracts
(``hs_object_id``, ``createdate``, ``hs_analytics_source``, ``ORGANIC_SEARCH``; a Fivetran
``property_`` prefix is ignored). Headers match case-insensitively.

Semantic choices (see ``docs/exports.md``):

- Time zones. UI exports write datetimes in the portal's time zone without an offset, so
  ``tz`` (Settings > Account Defaults > Time Zone) is required for them; files with internal
  names are API extracts, whose naive times are UTC. Date-only values are calendar days.
- ``mql_at``, ``sql_at``, ``opportunity_at``, ``customer_at`` come from the "Became a ... Date"
  columns; ``channel`` from Original Source (raw kept in ``channel_raw``); ``campaign_id`` from
  the drill-down that holds ``utm_campaign`` for that source (drill-down 1 for paid search and
  email, drill-down 2 for organic social).
- Deals: ``closed_at`` is the close date only for closed deals (it is the *expected* close date
  while open, kept as ``expected_close_at``). Won/lost comes from ``Is Closed Won``/``Is Closed``
  when exported, else from the stage (``closedwon``/``Closed Won``, ``closedlost``/``Closed
  Lost``, or the stages passed as ``won_stages``/``lost_stages``), else the deal is open.
  ``existingbusiness`` becomes ``expansion`` (``existing_business="renewal"`` to change it).
  Deals without an amount are kept with amount 0 and ``amount_missing`` set, and counted.
- Touchpoints: the original source at Time First Seen (else the create date) and the latest
  source at Latest Source Date, one row each per contact; campaigns are the distinct
  ``utm_campaign`` values, each with its most frequent channel.

Examples
--------
>>> from pathlib import Path
>>> import salesmkt
>>> folder = Path(salesmkt.__file__).parent.parent / "tests" / "fixtures" / "exports" / "hubspot"
>>> ds = salesmkt.load(folder, source="hubspot", tz="America/New_York")
>>> ds.leads[["lead_id", "channel"]].head(2).to_dict("records")
[{'lead_id': '51', 'channel': 'organic_search'}, {'lead_id': '52', 'channel': 'paid_search'}]
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from salesmkt.sources._common import (
    Header,
    clean_ids,
    extra_columns,
    first_id,
    header_key,
    map_channels,
    parse_amounts,
    parse_flags,
    parse_times,
    read_table_file,
)
from salesmkt.validate import Finding

__all__ = ["CHANNEL_MAP", "read", "classify", "default_kind"]

#: HubSpot Original Source values (labels, old labels, internal values) -> channel.
CHANNEL_MAP: dict[str, str] = {
    "organic_search": "organic_search",
    "paid_search": "paid_search",
    "email_marketing": "email",
    "organic_social": "organic_social",
    "social_media": "organic_social",
    "paid_social": "paid_social",
    "referrals": "referral",
    "ai_referrals": "referral",
    "other_campaigns": "other",
    "direct_traffic": "direct",
    "offline_sources": "other",
    "offline": "other",
}

_ID = ["Record ID", "hs_object_id", "id", "Contact ID", "Deal ID", "vid"]
_CREATED = ["Create Date", "createdate", "Created Date"]
_STAGE_DATES = {
    "subscriber_at": "subscriber",
    "lead_at": "lead",
    "mql_at": "marketingqualifiedlead",
    "sql_at": "salesqualifiedlead",
    "opportunity_at": "opportunity",
    "customer_at": "customer",
    "evangelist_at": "evangelist",
}
_STAGE_LABELS = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
}
_SOURCE = ["Original Source", "hs_analytics_source", "Original Source Type"]
_DD1 = ["Original Source Drill-Down 1", "hs_analytics_source_data_1", "Original source data 1"]
_DD2 = ["Original Source Drill-Down 2", "hs_analytics_source_data_2", "Original source data 2"]
_LATEST = ["Latest Source", "hs_latest_source"]
_LATEST_DD1 = ["Latest Source Drill-Down 1", "hs_latest_source_data_1"]
_LATEST_DD2 = ["Latest Source Drill-Down 2", "hs_latest_source_data_2"]
_LATEST_TS = ["Latest Source Date", "hs_latest_source_timestamp", "Latest Source Timestamp"]
_FIRST_SEEN = ["Time First Seen", "hs_analytics_first_timestamp"]
_CONTACT_OWNER = ["Contact owner", "hubspot_owner_id", "Contact Owner ID"]
_DEAL_OWNER = ["Deal owner", "hubspot_owner_id", "Deal Owner ID"]
_COMPANY_IDS = ["Associated Company IDs", "associatedcompanyid", "Associated Company ID"]
_CONTACT_IDS = ["Associated Contact IDs", "Associated Contact ID", "associatedcontactid"]
_DEAL_IDS = ["Associated Deal IDs", "Associated Deal ID"]
_STAGE = ["Deal Stage", "dealstage"]
# campaign drill-down per source (utm_campaign), exports.md section 1.4
_CAMPAIGN_DD = {"paid_search": 1, "email_marketing": 1, "social_media": 2, "organic_social": 2}


def classify(path: Path, header: list[str]) -> str | None:
    """``"contacts"``, ``"deals"`` or ``None`` for a file that is not a HubSpot export."""
    keys = {header_key(h) for h in header}
    has_id = bool(keys & {header_key(c) for c in _ID})
    if not has_id or not keys & {header_key(c) for c in _CREATED}:
        return None
    if keys & {header_key(c) for c in _STAGE} or "deal name" in keys or "dealname" in keys:
        return "deals"
    contact_marks = {"email", "lifecycle stage", "lifecyclestage", "first name", "firstname"}
    contact_marks |= {header_key(c) for c in _SOURCE}
    if keys & contact_marks or "contact" in path.name.lower():
        return "contacts"
    return None


def default_kind(header: list[str]) -> str:
    """The kind of a file given explicitly as a HubSpot export that :func:`classify` missed."""
    keys = {header_key(h) for h in header}
    deal_marks = {header_key(c) for c in _STAGE} | {"deal name", "dealname", "amount"}
    return "deals" if keys & deal_marks else "contacts"


def _zone(header: Header, tz: str | None) -> str | None:
    """API extracts (internal names) are UTC; UI exports need the portal's zone."""
    internal = header.find(["createdate"]) is not None and header.find(["Create Date"]) is None
    return tz if tz is not None or not internal else "UTC"


def _times(header, names, tz, table, column, notes):
    col = header.find(names)
    raw = None if col is None else header.df[col]
    if raw is None:
        return None
    return parse_times(raw, tz=tz, file=header.file, table=table, column=column, notes=notes)


def _contacts(df: pd.DataFrame, file: str, tz, notes: list[Finding]) -> pd.DataFrame:
    h = Header(df, file)
    zone = _zone(h, tz)
    lead_id = clean_ids(h.need(_ID, table="leads", column="lead_id"))
    created = parse_times(
        h.need(_CREATED, table="leads", column="created_at"),
        tz=zone,
        file=file,
        table="leads",
        column="created_at",
        notes=notes,
    )
    source = h.get(_SOURCE)
    cols: dict[str, pd.Series | None] = {
        "lead_id": lead_id,
        "created_at": created,
        "channel": map_channels(source, CHANNEL_MAP),
        "channel_raw": source,
        "campaign_id": _campaign(source, h.get(_DD1), h.get(_DD2)),
        "account_id": first_id(h.get(_COMPANY_IDS)),
        "owner_id": h.get(_CONTACT_OWNER),
    }
    for column, stage in _STAGE_DATES.items():
        names = [
            f"hs_lifecyclestage_{stage}_date",
            f"Became a {_STAGE_LABELS[stage]} Date",
            f"Became an {_STAGE_LABELS[stage]} Date",
        ]
        cols[column] = _times(h, names, zone, "leads", column, notes)
    cols["first_response_at"] = _times(
        h, ["hs_sa_first_engagement_date", "First Engagement Date"], zone, "leads", "", notes
    )
    stage = h.get(["Lifecycle Stage", "lifecyclestage"])
    if stage is not None:
        key = stage.str.strip().str.lower().str.replace(r"[\s_-]+", "", regex=True)
        cols["lifecycle_stage"] = key
    cols["lead_status"] = h.get(["Lead Status", "hs_lead_status"])
    cols["first_seen_at"] = _times(h, _FIRST_SEEN, zone, "leads", "first_seen_at", notes)
    latest = h.get(_LATEST)
    if latest is not None:
        cols["latest_channel"] = map_channels(latest, CHANNEL_MAP)
        cols["latest_channel_raw"] = latest
        cols["latest_campaign_id"] = _campaign(latest, h.get(_LATEST_DD1), h.get(_LATEST_DD2))
        cols["latest_source_at"] = _times(h, _LATEST_TS, zone, "leads", "latest_source_at", notes)
    used_names = (
        _ID + _CREATED + _SOURCE + _DD1 + _DD2 + _LATEST + _LATEST_DD1 + _LATEST_DD2 + _LATEST_TS
    )
    used_names += _FIRST_SEEN + _CONTACT_OWNER + _COMPANY_IDS + ["Lifecycle Stage", "Lead Status"]
    used_names += ["lifecyclestage", "hs_lead_status", "hs_sa_first_engagement_date"]
    used_names += [f"hs_lifecyclestage_{s}_date" for s in _STAGE_DATES.values()]
    used_names += [f"Became a {v} Date" for v in _STAGE_LABELS.values()]
    used_names += [f"Became an {v} Date" for v in _STAGE_LABELS.values()]
    used = {c for c in df.columns if header_key(c) in {header_key(n) for n in used_names}}
    out = {k: v for k, v in cols.items() if v is not None}
    out.update(extra_columns(h.df, used, set(out)))
    return pd.DataFrame(out).reset_index(drop=True)


def _campaign(source, dd1, dd2) -> pd.Series | None:
    if source is None or (dd1 is None and dd2 is None):
        return None
    key = source.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    out = pd.Series(pd.NA, index=source.index, dtype="string")
    for name, which in _CAMPAIGN_DD.items():
        dd = dd1 if which == 1 else dd2
        if dd is not None:
            out = out.mask(key.eq(name).fillna(False), dd.astype("string"))
    out = out.str.strip()
    return out.mask(out.eq(""))


def _stage_status(stage: pd.Series, won_stages, lost_stages) -> pd.Series:
    key = stage.astype("string").str.strip().str.lower().str.replace(r"[\s_-]+", "", regex=True)
    won = {"closedwon", *(s.lower().replace(" ", "") for s in won_stages or ())}
    lost = {"closedlost", *(s.lower().replace(" ", "") for s in lost_stages or ())}
    status = pd.Series("open", index=stage.index, dtype="string")
    status[key.isin(won).fillna(False)] = "won"
    status[key.isin(lost).fillna(False)] = "lost"
    return status


def _deals(df, file, tz, notes, *, won_stages, lost_stages, existing_business) -> pd.DataFrame:
    h = Header(df, file)
    zone = _zone(h, tz)
    deal_id = clean_ids(h.need(_ID, table="deals", column="deal_id"))
    created = parse_times(
        h.need(_CREATED, table="deals", column="created_at"),
        tz=zone,
        file=file,
        table="deals",
        column="created_at",
        notes=notes,
    )
    amount = parse_amounts(
        h.need(
            ["Amount", "amount", "Amount in company currency", "amount_in_home_currency"],
            table="deals",
            column="amount",
        ),
        file=file,
        table="deals",
        column="amount",
    )
    missing = amount.isna()
    if missing.any():
        notes.append(
            Finding(
                "deals",
                "amount",
                f"{file}: {int(missing.sum())} deals without an amount",
                int(missing.sum()),
                severity="warning",
                action="Kept with amount 0 and amount_missing=True; fill the amounts in HubSpot "
                "for deal-size figures that include them",
            )
        )
    stage = h.get(_STAGE)
    status = _stage_status(stage, won_stages, lost_stages) if stage is not None else None
    won_flag = h.get(["Is Closed Won", "hs_is_closed_won"])
    closed_flag = h.get(["Is Closed", "hs_is_closed", "Is closed"])
    if won_flag is not None or closed_flag is not None:
        won = parse_flags(won_flag, file=file, table="deals", column="status")
        closed = parse_flags(closed_flag, file=file, table="deals", column="status")
        flags = pd.Series("open", index=df.index, dtype="string")
        if closed_flag is not None:
            flags[closed.fillna(False)] = "lost"
        if won_flag is not None:
            flags[won.fillna(False)] = "won"
            if closed_flag is None and status is not None:
                flags[status.eq("lost")] = "lost"
        status = flags
    if status is None:
        status = pd.Series("open", index=df.index, dtype="string")
        notes.append(
            Finding(
                "deals",
                "status",
                f"{file} has no Deal Stage or Is Closed Won column",
                len(df),
                severity="warning",
                action="Every deal is counted as open",
            )
        )
    elif stage is not None and won_flag is None and closed_flag is None:
        numeric = stage.str.fullmatch(r"\d+").fillna(False) & status.eq("open")
        if numeric.any():
            notes.append(
                Finding(
                    "deals",
                    "status",
                    f"{file}: {int(numeric.sum())} deals in custom pipeline stages (numeric ids) "
                    "that cannot be told open, won or lost",
                    int(numeric.sum()),
                    severity="warning",
                    action="Counted as open; export Is Closed Won and Is Closed, or pass "
                    "won_stages=/lost_stages=",
                )
            )
    close = _times(h, ["Close Date", "closedate"], zone, "deals", "closed_at", notes)
    is_closed = status.isin(["won", "lost"]).to_numpy()
    cols: dict[str, pd.Series | None] = {
        "deal_id": deal_id,
        "created_at": created,
        "amount": amount.fillna(0.0),
        "amount_missing": missing.astype("boolean"),
        "lead_id": first_id(h.get(_CONTACT_IDS)),
        "account_id": first_id(h.get(_COMPANY_IDS)),
        "owner_id": h.get(_DEAL_OWNER),
        "stage": stage,
        "pipeline": h.get(["Pipeline", "pipeline"]),
        "status": status,
        "closed_at": None if close is None else close.where(is_closed),
        "expected_close_at": None if close is None else close.where(~is_closed),
        "deal_name": h.get(["Deal Name", "dealname"]),
    }
    dtype = h.get(["Deal Type", "dealtype"])
    if dtype is not None:
        key = dtype.str.strip().str.lower().str.replace(r"[\s_-]+", "", regex=True)
        mapped = key.map(
            {
                "newbusiness": "new_business",
                "existingbusiness": existing_business,
                "renewal": "renewal",
                "expansion": "expansion",
                "upsell": "expansion",
            }
        ).astype("string")
        unknown = key.notna() & mapped.isna()
        if unknown.any():
            notes.append(
                Finding(
                    "deals",
                    "deal_type",
                    f"{file}: {int(unknown.sum())} deal types not known "
                    f"({', '.join(sorted(set(dtype[unknown].dropna()))[:3])})",
                    int(unknown.sum()),
                    severity="warning",
                    action="Left empty; the exported value is kept in deal_type_raw",
                )
            )
        cols["deal_type"] = mapped
        cols["deal_type_raw"] = dtype
    out = {k: v for k, v in cols.items() if v is not None}
    used_names = _ID + _CREATED + _STAGE + _DEAL_OWNER + _COMPANY_IDS + _CONTACT_IDS
    used_names += ["Amount", "amount", "Pipeline", "Close Date", "closedate", "Deal Type"]
    used_names += ["dealtype", "Deal Name", "dealname", "Is Closed Won", "hs_is_closed_won"]
    used_names += ["Is Closed", "hs_is_closed"]
    used = {c for c in df.columns if header_key(c) in {header_key(n) for n in used_names}}
    out.update(extra_columns(h.df, used, set(out)))
    return pd.DataFrame(out).reset_index(drop=True)


def _touchpoints(leads: pd.DataFrame) -> pd.DataFrame | None:
    if "channel" not in leads:
        return None
    no_ts = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns, UTC]")
    first_ts = leads.get("first_seen_at", no_ts)
    parts = [
        pd.DataFrame(
            {
                "person_id": leads["lead_id"],
                "ts": first_ts.fillna(leads["created_at"]),
                "channel": leads["channel"],
                "channel_raw": leads["channel_raw"],
                "campaign_id": leads.get("campaign_id", pd.Series(pd.NA, index=leads.index)),
                "touch": "original_source",
            }
        )
    ]
    if "latest_channel" in leads and "latest_source_at" in leads:
        latest = pd.DataFrame(
            {
                "person_id": leads["lead_id"],
                "ts": leads["latest_source_at"],
                "channel": leads["latest_channel"],
                "channel_raw": leads["latest_channel_raw"],
                "campaign_id": leads["latest_campaign_id"],
                "touch": "latest_source",
            }
        )
        parts.append(latest[latest["ts"].notna() & latest["channel"].notna()])
    tp = pd.concat(parts, ignore_index=True)
    tp = tp[tp["channel"].notna() & tp["ts"].notna()]
    tp = tp.drop_duplicates(["person_id", "ts", "channel", "campaign_id"])
    for col in ("person_id", "channel", "channel_raw", "campaign_id", "touch"):
        tp[col] = tp[col].astype("string")
    return tp.sort_values(["person_id", "ts"], kind="stable").reset_index(drop=True)


def _campaigns(tp: pd.DataFrame | None) -> pd.DataFrame | None:
    if tp is None or tp["campaign_id"].isna().all():
        return None
    counts = (
        tp.dropna(subset=["campaign_id"])
        .groupby(["campaign_id", "channel"], as_index=False)
        .size()
        .sort_values(["campaign_id", "size", "channel"], ascending=[True, False, True])
    )
    top = counts.drop_duplicates("campaign_id").reset_index(drop=True)
    return pd.DataFrame(
        {"campaign_id": top["campaign_id"], "channel": top["channel"], "name": top["campaign_id"]}
    )


def read(
    parts: dict[str, list[Path]],
    *,
    tz: str | None = None,
    encoding: str | None = None,
    won_stages: tuple[str, ...] | list[str] | None = None,
    lost_stages: tuple[str, ...] | list[str] | None = None,
    existing_business: str = "expansion",
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read HubSpot ``contacts`` and ``deals`` files into canonical tables.

    Parameters
    ----------
    parts : dict
        ``{"contacts": [paths], "deals": [paths]}``; several files of one kind are stacked.
    tz : str, optional
        The portal's time zone; required for UI exports whose datetimes carry no offset.
    encoding : str, optional
        Text encoding when the export is neither UTF-8 nor marked by a byte-order mark.
    won_stages, lost_stages : list of str, optional
        Stage ids or labels of custom pipelines that mean won or lost.
    existing_business : {"expansion", "renewal"}
        What an ``Existing Business`` deal type counts as.

    Returns
    -------
    (dict of DataFrame, list of Finding)
        ``leads``, ``deals``, ``touchpoints`` and ``campaigns`` as far as the files carry them,
        not yet validated, and notes about what was assumed.
    """
    if existing_business not in ("expansion", "renewal"):
        raise ValueError("existing_business must be 'expansion' or 'renewal'.")
    notes: list[Finding] = []
    tables: dict[str, pd.DataFrame] = {}
    frames: dict[str, list[pd.DataFrame]] = {"contacts": [], "deals": []}
    for kind, paths in parts.items():
        for path in paths:
            df, found = read_table_file(path, encoding=encoding)
            notes += found
            if kind == "contacts":
                frames[kind].append(_contacts(df, path.name, tz, notes))
            else:
                frames[kind].append(
                    _deals(
                        df,
                        path.name,
                        tz,
                        notes,
                        won_stages=won_stages,
                        lost_stages=lost_stages,
                        existing_business=existing_business,
                    )
                )
    if frames["contacts"]:
        tables["leads"] = pd.concat(frames["contacts"], ignore_index=True)
        tp = _touchpoints(tables["leads"])
        if tp is not None and len(tp):
            tables["touchpoints"] = tp
            campaigns = _campaigns(tp)
            if campaigns is not None:
                tables["campaigns"] = campaigns
    if frames["deals"]:
        deals = pd.concat(frames["deals"], ignore_index=True)
        leads = tables.get("leads")
        if leads is not None and "associated_deal_ids" in leads and len(leads) and len(deals):
            # contacts list their deals: fill deals.lead_id where the deals file did not say
            pairs = leads[["lead_id", "associated_deal_ids"]].dropna()
            pairs = pairs.assign(deal_id=pairs["associated_deal_ids"].str.split(r"[;,]"))
            pairs = pairs.explode("deal_id").assign(deal_id=lambda d: d["deal_id"].str.strip())
            by_deal = pairs.drop_duplicates("deal_id").set_index("deal_id")["lead_id"]
            current = deals.get("lead_id", pd.Series(pd.NA, index=deals.index, dtype="string"))
            deals["lead_id"] = current.fillna(deals["deal_id"].map(by_deal)).astype("string")
        tables["deals"] = deals
    return tables, notes
