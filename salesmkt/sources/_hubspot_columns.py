"""HubSpot column names (UI labels and internal names) and time handling shared by the
contacts and deals readers."""

from __future__ import annotations

from salesmkt.sources._common import Header, parse_times

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
# campaign drill-down per source (utm_campaign), docs/exports.md (HubSpot)
_CAMPAIGN_DD = {"paid_search": 1, "email_marketing": 1, "social_media": 2, "organic_social": 2}


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
