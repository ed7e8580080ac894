"""HubSpot deals export onto the ``deals`` table (semantics in :mod:`salesmkt.sources.hubspot`)."""

from __future__ import annotations

import pandas as pd

from salesmkt.data.validate import Finding
from salesmkt.sources._common import (
    Header,
    clean_ids,
    extra_columns,
    first_id,
    header_key,
    map_deal_types,
    parse_amounts,
    parse_flags,
    parse_times,
)
from salesmkt.sources._hubspot_columns import (
    _COMPANY_IDS,
    _CONTACT_IDS,
    _CREATED,
    _DEAL_OWNER,
    _ID,
    _STAGE,
    _times,
    _zone,
)


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
                action="Kept with an amount of 0, marked as missing (column amount_missing); "
                "fill the amounts in HubSpot for deal-size figures that include them",
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
        cols["deal_type"] = map_deal_types(
            dtype,
            {
                "newbusiness": "new_business",
                "existingbusiness": existing_business,
                "renewal": "renewal",
                "expansion": "expansion",
                "upsell": "expansion",
            },
            file=file,
            notes=notes,
            key_pattern=r"[\s_-]+",
            key_join="",
        )
        cols["deal_type_raw"] = dtype
    out = {k: v for k, v in cols.items() if v is not None}
    used_names = _ID + _CREATED + _STAGE + _DEAL_OWNER + _COMPANY_IDS + _CONTACT_IDS
    used_names += ["Amount", "amount", "Pipeline", "Close Date", "closedate", "Deal Type"]
    used_names += ["dealtype", "Deal Name", "dealname", "Is Closed Won", "hs_is_closed_won"]
    used_names += ["Is Closed", "hs_is_closed"]
    used = {c for c in df.columns if header_key(c) in {header_key(n) for n in used_names}}
    out.update(extra_columns(h.df, used, set(out)))
    return pd.DataFrame(out).reset_index(drop=True)
