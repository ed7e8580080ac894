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

from salesmkt.data.validate import Finding
from salesmkt.sources._common import (
    Header,
    clean_ids,
    extra_columns,
    first_id,
    header_key,
    map_channels,
    parse_times,
)
from salesmkt.sources._hubspot_columns import (
    _CAMPAIGN_DD,
    _COMPANY_IDS,
    _CONTACT_OWNER,
    _CREATED,
    _DD1,
    _DD2,
    _FIRST_SEEN,
    _ID,
    _LATEST,
    _LATEST_DD1,
    _LATEST_DD2,
    _LATEST_TS,
    _SOURCE,
    _STAGE,
    _STAGE_DATES,
    _STAGE_LABELS,
    _times,
    _zone,
)
from salesmkt.sources._hubspot_deals import _deals
from salesmkt.sources._read import read_table_file

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
