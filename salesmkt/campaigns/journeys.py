"""Customer journeys: the marketing touches of each person before they converted (or not).

:func:`customer_conversions` turns the CRM into one conversion per person (a lead becoming a customer,
or its first won deal) with the milestones W-shaped and full-path attribution need;
:func:`build_journeys` joins conversions to the touchpoints within a lookback window. The result, one
row per touch, is what :func:`salesmkt.attribute` reads.

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> conv = customer_conversions(ds.leads, ds.deals)
>>> j = build_journeys(ds.touchpoints, conv)
>>> bool(j.groupby("journey_id")["converted"].nunique().eq(1).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt.campaigns import _engine
from salesmkt.campaigns._engine import WITHOUT_PERSON
from salesmkt.data import periods as _periods
from salesmkt.data.definitions import won_deals
from salesmkt.data.engine import is_table, n_rows
from salesmkt.data.stages import stage_entries
from salesmkt.data.validate import check_columns

__all__ = ["customer_conversions", "build_journeys", "path_counts", "journeys_note"]

# Touches at the same time are ordered by channel, then campaign (missing last): a defined order
# that does not hang on the input's row order, which a database does not keep.
_ORDER = ["person_id", "ts", "channel", "campaign_id"]

_CONV_COLUMNS = [
    "person_id",
    "converted_at",
    "value",
    "lead_created_at",
    "deal_created_at",
    "closed_won_at",
]


def customer_conversions(
    leads: pd.DataFrame,
    deals: pd.DataFrame | None = None,
    *,
    source: str = "deals",
    person_col: str = "lead_id",
    start=None,
    end=None,
    **deprecated,
) -> pd.DataFrame:
    """One conversion per person, with its value and CRM milestones.

    Parameters
    ----------
    leads : DataFrame
        The leads table (``lead_id``, ``created_at``; ``customer_at`` and ``opportunity_at``
        for ``source="leads"``).
    deals : DataFrame, optional
        The deals table; needed for ``source="deals"`` and for the value of lead conversions.
    source : {"deals", "leads"}
        ``"deals"``: a person converts when their first won deal closes (value: its amount,
        milestones: lead created, deal created, closed-won). ``"leads"``: when the lead
        reaches the customer stage as :mod:`salesmkt.data.stages` defines it (value: the amount
        of its won deals, if ``deals`` is given; deal creation = ``opportunity_at``).
    person_col : str
        Column of ``leads`` (and ``deals``) that identifies the person.
    start, end : date-like, optional
        Keep conversions in the half-open UTC interval ``[start, end)``. The old names
        ``period_start`` and ``period_end`` still work for one release with a
        DeprecationWarning.

    Returns
    -------
    DataFrame
        ``person_id, converted_at, value, lead_created_at, deal_created_at, closed_won_at``,
        one row per converting person. Won deals without a close date or without a lead (or,
        with ``source="leads"``, leads whose stage timestamps are out of order) are left out;
        ``attrs["n_excluded"]`` counts them.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> customer_conversions(ds.leads, ds.deals).columns.tolist()[:3]
    ['person_id', 'converted_at', 'value']
    """
    kw = _periods.renamed_keywords(
        "customer_conversions",
        deprecated,
        {"period_start": "start", "period_end": "end"},
        start=start,
        end=end,
    )
    check_columns(leads, "leads", [person_col, "created_at"], caller="customer_conversions")
    if source not in ("deals", "leads"):
        raise ValueError(f"customer_conversions: source must be 'deals' or 'leads', got {source!r}")
    created = leads.drop_duplicates(person_col).set_index(person_col)["created_at"]
    won = None
    if deals is not None:
        check_columns(
            deals, "deals", [person_col, "created_at", "amount"], caller="customer_conversions"
        )
        # the one definition of a won deal; a table of conversions without a status: every row
        won = won_deals(deals) if {"status", "closed_at"} <= set(deals.columns) else deals
    if source == "deals":
        if won is None:
            raise ValueError("customer_conversions: source='deals' needs the deals table")
        check_columns(deals, "deals", ["closed_at", "status"], caller="customer_conversions")
        usable = won[person_col].notna() & won["closed_at"].notna()
        first = won[usable].sort_values(["closed_at", "deal_id"]).drop_duplicates(person_col)
        out = pd.DataFrame(
            {
                "person_id": first[person_col].astype("string").to_numpy(),
                "converted_at": first["closed_at"].to_numpy(),
                "value": first["amount"].astype(float).to_numpy(),
                "lead_created_at": first[person_col].map(created).to_numpy(),
                "deal_created_at": first["created_at"].to_numpy(),
                "closed_won_at": first["closed_at"].to_numpy(),
            }
        )
        n_excluded = int((~usable).sum())
    else:
        check_columns(leads, "leads", ["customer_at"], caller="customer_conversions")
        # reached the customer stage as the lifecycle funnel counts it (data.stages)
        entries = stage_entries(leads, caller="customer_conversions")
        cust = leads.assign(customer_at=entries["customer"].to_numpy())
        cust = cust[cust["customer_at"].notna()].drop_duplicates(person_col)
        if won is not None:
            value = won.groupby(person_col)["amount"].sum()
            values = cust[person_col].map(value).astype(float).to_numpy()
        else:
            values = np.full(len(cust), np.nan)
        opp = cust["opportunity_at"] if "opportunity_at" in cust.columns else pd.NaT
        out = pd.DataFrame(
            {
                "person_id": cust[person_col].astype("string").to_numpy(),
                "converted_at": cust["customer_at"].to_numpy(),
                "value": values,
                "lead_created_at": cust["created_at"].to_numpy(),
                "deal_created_at": pd.Series(opp, index=cust.index).to_numpy(),
                "closed_won_at": cust["customer_at"].to_numpy(),
            }
        )
        n_excluded = int(entries["excluded"].sum())
    if kw["start"] is not None or kw["end"] is not None:
        out = out[_periods.within(out["converted_at"], kw["start"], kw["end"]).to_numpy()]
    out = out.sort_values(["converted_at", "person_id"], ignore_index=True)
    out.attrs["n_excluded"] = n_excluded
    return out


def build_journeys(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    person_col: str = "person_id",
    lookback_days: float = 90.0,
    include_non_converting: bool = True,
    start=None,
    end=None,
    **deprecated,
) -> pd.DataFrame:
    """Each person's touches before conversion, within a lookback window.

    A converting person's journey is their touches in ``[converted_at − lookback_days,
    converted_at]``; a person who never converted has one journey of their touches in the
    ``lookback_days`` up to their last touch. Touches after a conversion, or older than the
    window, are left out and counted in ``n_excluded_touches``. Conversions without any touch
    in the window appear as one row with ``n_touches = 0`` and no channel, so that
    :func:`salesmkt.attribute` can credit them to ``"(no touch)"`` instead of dropping them.
    A conversion without a person id (None, NaN, ``pd.NA``, NULL) cannot belong to a journey:
    it is left out and counted in ``attrs["n_conversions_without_person"]`` (only those in
    ``[start, end)`` when a period is given), which :func:`path_counts`,
    :func:`salesmkt.attribute` and :func:`journeys_note` pass on.

    Parameters
    ----------
    touchpoints : DataFrame or ibis.Table
        ``person_col``, ``ts``, ``channel`` and optionally ``campaign_id``. An Ibis table (a
        DuckDB or Parquet file, PostgreSQL, PySpark, ...) is not read: the journeys are built
        where it lives and come back as a lazy Ibis table (see "Where the data lives" in
        docs/semantics/attribution.md).
    conversions : DataFrame or ibis.Table
        From :func:`customer_conversions`, or any frame with ``person_id`` and ``converted_at`` (and
        optionally ``value``, ``lead_created_at``, ``deal_created_at``, ``closed_won_at``).
        One conversion per person: later rows of the same person are ignored; rows without a
        person id are left out and counted. Integer ids held as floats (a column with a
        missing id) are read as integers. With Ibis touchpoints a DataFrame is sent to their
        backend (it is one row per customer).
    person_col : str
        Person key of ``touchpoints`` (e.g. ``lead_id``, ``visitor_id``).
    lookback_days : float
        Length of the window before the conversion.
    include_non_converting : bool
        Keep journeys that did not convert (Markov and rate-based Shapley learn from them).
    start, end : date-like, optional
        Keep journeys that end in the half-open UTC interval ``[start, end)``: at the
        conversion, or at the last touch for journeys that did not convert. The old names
        ``period_start`` and ``period_end`` still work for one release with a
        DeprecationWarning.

    Returns
    -------
    DataFrame or ibis.Table
        One row per touch (a lazy Ibis table with the same columns, ordered by journey and
        touch, for Ibis touchpoints): ``journey_id, person_id, converted, conversion_at,
        conversion_value, n_touches, touch_index, ts, channel, campaign_id,
        days_before_conversion, lead_touch, deal_touch, won_touch, n_excluded_touches``.
        ``days_before_conversion`` counts from the conversion (from the last touch for
        non-converting journeys); ``lead_touch``/``deal_touch``/``won_touch`` flag the last
        touch at or before lead creation, deal creation and closed-won (the first touch when a
        milestone precedes every touch in the window). Touches at the same time are ordered by
        channel, then campaign (missing last), so a path never depends on the input's row order.
        ``attrs["n_conversions_without_person"]``: the conversions left out for lacking a
        person id (for an Ibis table, remembered with it and passed on by :func:`path_counts`
        and :func:`salesmkt.attribute`).

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"person_id": ["P1", "P1", "P2"],
    ...     "ts": pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-03"], utc=True),
    ...     "channel": ["paid_search", "email", "direct"]})
    >>> conv = pd.DataFrame({"person_id": ["P1"],
    ...     "converted_at": pd.to_datetime(["2025-01-15"], utc=True), "value": [1000.0]})
    >>> build_journeys(tp, conv)[["person_id", "touch_index", "channel", "days_before_conversion"]]
      person_id  touch_index      channel  days_before_conversion
    0        P1            0  paid_search                    14.0
    1        P1            1        email                     7.0
    2        P2            0       direct                     0.0
    """
    period = _periods.renamed_keywords(
        "build_journeys",
        deprecated,
        {"period_start": "start", "period_end": "end"},
        start=start,
        end=end,
    )
    if lookback_days <= 0:
        raise ValueError(f"build_journeys: lookback_days must be > 0, got {lookback_days}")
    if _engine.is_table(touchpoints):  # where the data lives: a lazy Ibis table back
        return _engine.build_journeys(
            touchpoints,
            conversions,
            person_col=person_col,
            lookback_days=lookback_days,
            include_non_converting=include_non_converting,
            start=period["start"],
            end=period["end"],
        )
    check_columns(
        touchpoints, "touchpoints", [person_col, "ts", "channel"], caller="build_journeys"
    )
    check_columns(
        conversions, "conversions", ["person_id", "converted_at"], caller="build_journeys"
    )
    # A conversion without a person id belongs to no journey: left out, and counted.
    n_without_person = _engine.count_without_person(conversions, period["start"], period["end"])
    ids = _engine.conversion_ids(conversions["person_id"])
    conv = conversions.assign(person_id=ids)[ids.notna().to_numpy()]
    conv = conv.sort_values("converted_at").drop_duplicates("person_id")
    conv = conv.set_index(conv["person_id"].astype("string"))
    tp = pd.DataFrame(
        {
            "person_id": touchpoints[person_col].astype("string"),
            "ts": touchpoints["ts"],
            "channel": touchpoints["channel"].astype("string"),
            "campaign_id": (
                touchpoints["campaign_id"].astype("string")
                if "campaign_id" in touchpoints.columns
                else pd.Series(pd.NA, index=touchpoints.index, dtype="string")
            ),
        }
    ).dropna(subset=["person_id", "ts"])
    tp = tp.sort_values(_ORDER, kind="stable", ignore_index=True)
    conv_at = _lookup(tp["person_id"], conv["converted_at"])
    converted = conv_at.notna()
    end = conv_at.where(converted, tp.groupby("person_id")["ts"].transform("max"))
    window = pd.Timedelta(days=lookback_days)
    keep = (tp["ts"] <= end) & (tp["ts"] >= end - window)
    excluded = (~keep).groupby(tp["person_id"]).sum()
    if not include_non_converting:
        keep &= converted
    tp = tp.assign(converted=converted, conversion_at=conv_at.where(converted), end=end)[keep]
    # Conversions without a touch in the window: one placeholder row each.
    untouched = conv.index.difference(pd.Index(tp["person_id"].unique()))
    if len(untouched):
        blank = pd.DataFrame(
            {
                "person_id": pd.array(untouched, dtype="string"),
                "ts": pd.Series(pd.NaT, index=range(len(untouched)), dtype=tp["ts"].dtype),
                "channel": pd.NA,
                "campaign_id": pd.NA,
                "converted": True,
                "conversion_at": conv.loc[untouched, "converted_at"].to_numpy(),
                "end": conv.loc[untouched, "converted_at"].to_numpy(),
            }
        ).astype({"channel": "string", "campaign_id": "string"})
        tp = pd.concat([tp, blank], ignore_index=True)
    if period["start"] is not None or period["end"] is not None:
        tp = tp[_periods.within(tp["end"], period["start"], period["end"]).to_numpy()]
    tp = tp.sort_values(_ORDER, kind="stable")
    tp = tp.reset_index(drop=True)
    has_touch = tp["ts"].notna()
    tp["journey_id"] = pd.factorize(tp["person_id"])[0].astype(np.int64)
    tp["n_touches"] = has_touch.groupby(tp["journey_id"]).transform("sum").astype(np.int64)
    tp["touch_index"] = tp.groupby("journey_id").cumcount().astype(np.int64)
    tp["days_before_conversion"] = (tp["end"] - tp["ts"]).dt.total_seconds() / 86_400.0
    value = conv["value"].astype(float) if "value" in conv.columns else None
    tp["conversion_value"] = (
        tp["person_id"].map(value).where(tp["converted"]) if value is not None else np.nan
    )
    for flag, col in _engine.MILESTONES:
        tp[flag] = _milestone_flag(tp, conv[col] if col in conv.columns else None)
    tp["n_excluded_touches"] = tp["person_id"].map(excluded).fillna(0).astype(np.int64)
    tp.loc[~has_touch, ["touch_index", "n_touches"]] = [0, 0]
    out = tp[_engine.JOURNEY_COLUMNS]
    out.attrs[WITHOUT_PERSON] = n_without_person
    return out


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)`` for a uniquely indexed ``values``, also when either is empty (where
    pandas' ``map`` fails on times)."""
    return pd.Series(values.reindex(keys.to_numpy()).array, index=keys.index)


def _milestone_flag(tp: pd.DataFrame, when: pd.Series | None) -> pd.Series:
    """True on the last touch at or before the milestone (first touch if it precedes all)."""
    flag = pd.Series(False, index=tp.index)
    if when is None or not len(tp):
        return flag
    at = _lookup(tp["person_id"], when)
    ok = tp["converted"] & at.notna() & tp["ts"].notna()
    if not ok.any():
        return flag
    before = ok & (tp["ts"] <= at)
    last_before = before[before].groupby(tp.loc[before, "journey_id"]).tail(1).index
    flag[last_before] = True
    journeys_ok = tp.loc[ok, "journey_id"].unique()
    missing = np.setdiff1d(journeys_ok, tp.loc[last_before, "journey_id"].to_numpy())
    if missing.size:
        firsts = tp[tp["journey_id"].isin(missing) & tp["ts"].notna()]
        flag[firsts.groupby("journey_id").head(1).index] = True
    return flag


def path_counts(journeys: pd.DataFrame, *, by: str = "channel") -> pd.DataFrame:
    """Aggregate a journeys table into unique paths (ChannelAttribution's format).

    ``journeys`` is the table :func:`build_journeys` returns: a DataFrame, or a lazy Ibis table
    when the touchpoints live in a database or Parquet files; then the paths are assembled
    there in one query (ordered string aggregation) and only the unique paths come back.

    Returns
    -------
    DataFrame
        ``path, total_conversions, total_null, total_conversion_value``, one row per unique
        path (channels joined by ``" > "``), most frequent first. Conversions without touches
        are left out. ``attrs["n_conversions_without_person"]`` carries the journeys' count of
        conversions left out for lacking a person id.

    Examples
    --------
    >>> import pandas as pd
    >>> tp = pd.DataFrame({"person_id": ["P1", "P1", "P2"],
    ...     "ts": pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-03"], utc=True),
    ...     "channel": ["paid_search", "email", "direct"]})
    >>> conv = pd.DataFrame({"person_id": ["P1"],
    ...     "converted_at": pd.to_datetime(["2025-01-15"], utc=True), "value": [1000.0]})
    >>> path_counts(build_journeys(tp, conv))
                     path  total_conversions  total_null  total_conversion_value
    0               direct                  0           1                     0.0
    1  paid_search > email                  1           0                  1000.0
    """
    if _engine.is_table(journeys):  # one query; only the unique paths come back
        return _engine.carry_without_person(_engine.path_counts(journeys, by=by), journeys)
    check_columns(journeys, "journeys", ["journey_id", "n_touches", by], caller="path_counts")
    touched = journeys[journeys["n_touches"] > 0]
    per = touched.groupby("journey_id", sort=False).agg(
        path=(by, lambda s: " > ".join(s.astype("string").fillna(f"(no {by})"))),
        converted=("converted", "first"),
        value=("conversion_value", "first"),
    )
    per["value"] = per["value"].fillna(0.0).where(per["converted"], 0.0)
    out = per.groupby("path").agg(
        total_conversions=("converted", "sum"),
        total_journeys=("converted", "size"),
        total_conversion_value=("value", "sum"),
    )
    out["total_null"] = out["total_journeys"] - out["total_conversions"]
    out = out.reset_index().sort_values(
        ["total_journeys", "path"], ascending=[False, True], ignore_index=True
    )
    out = out[["path", "total_conversions", "total_null", "total_conversion_value"]]
    return _engine.carry_without_person(out, journeys)


def journeys_note(journeys, conversions: pd.DataFrame, *, lookback_days: int) -> str:
    """What the attribution chart counts, in one paragraph: the period's new customers, the
    journeys in all, and what *(no touch)* means.

    ``journeys`` may be an Ibis table (:func:`build_journeys` over touchpoints kept in their
    database or Parquet file): its journeys are counted there.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> conv = customer_conversions(ds.leads, ds.deals)
    >>> note = journeys_note(build_journeys(ds.touchpoints, conv), conv, lookback_days=365)
    >>> note.startswith(f"{len(conv):,} new customers in the period, ")
    True
    """
    if is_table(journeys):
        from salesmkt.data.engine import execute

        n = int(execute(journeys.aggregate(n=journeys["journey_id"].nunique()))["n"].iloc[0])
    else:
        n = int(journeys["journey_id"].nunique())
    note = (
        f"{n_rows(conversions):,} new customers in the period, "
        f"{n:,} journeys in all (with the ones that did not buy). "
        f"*(no touch)* are customers without any recorded touch in the {lookback_days} days "
        "before buying: their credit cannot be shared."
    )
    without = (
        _engine.without_person(journeys)
        if is_table(journeys)
        else journeys.attrs.get(WITHOUT_PERSON)
    )
    if without:
        note += (
            f" {_customers(int(without))} without a person id "
            f"{'is' if without == 1 else 'are'} left out of the journeys and the credit: "
            "a purchase nobody is named on cannot be matched to any touch."
        )
    return note


def _customers(n: int) -> str:
    return f"{n:,} customer" if n == 1 else f"{n:,} customers"
