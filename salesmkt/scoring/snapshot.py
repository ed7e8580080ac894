"""Lead snapshots: features known **as of** a date, and whether the lead converted after it.

A lead score is trained on the past and used today. To train it honestly, every training row
must look exactly like a row scored today: the lead as it stood on a past date ``as_of``, with
only what was recorded before that date, and the outcome in the ``horizon`` that followed.
:func:`lead_snapshot` builds one such cut; :func:`training_snapshots` stacks several (time-based
cohorts). The rules (docs/semantics/scoring.md):

* **Who.** Leads created before ``as_of`` that have not reached the target stage by ``as_of``
  (``reached`` is :func:`salesmkt.data.stages.leads_reached`, the one definition). Leads whose
  stage timestamps are out of order (``excluded`` in :mod:`salesmkt.data.stages`) and leads
  disqualified by ``as_of`` are left out and counted (``attrs``).
* **Features.** The lead's attribute columns (firmographics, channel, campaign, the CRM's
  behavioural counters), taken as recorded when the lead was created; the stage reached by
  ``as_of`` and the days since creation; behaviour counted from sessions, touchpoints and
  events with a timestamp **strictly before** ``as_of`` (in the last 30 and 90 days); the
  persona when a persona file or column is given. Never: identifiers, personal data (names,
  emails, phones), timestamp columns, the close date or amount of a deal, or anything else
  recorded after ``as_of``.
* **Label.** ``True`` when the lead reaches the target stage in ``(as_of, as_of + horizon]``,
  ``False`` when it does not and the horizon is over by the end of the data, missing
  (unlabelled, never a negative) when the horizon runs past the end of the data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.pii import pii_columns
from salesmkt.data.schema import STAGES
from salesmkt.data.stages import default_as_of, stage_entries, stages_in

__all__ = ["lead_snapshot", "training_snapshots", "data_end", "SNAPSHOT_KEYS"]

#: columns of a snapshot that identify a row and are never features
SNAPSHOT_KEYS = ("lead_id", "as_of", "label")

#: lead columns that are identifiers or duplicates, never features
_NOT_FEATURES = {"lead_id", "account_id", "owner_id", "channel_raw", "persona_id"}
_WINDOWS = (30, 90)


def data_end(dataset) -> pd.Timestamp:
    """The end of the data: the latest timestamp in the leads' stage columns, sessions,
    touchpoints and events (an outcome after it cannot have been recorded yet).

    Examples
    --------
    >>> import salesmkt
    >>> data_end(salesmkt.load_sample()) >= salesmkt.load_sample().leads["created_at"].max()
    True
    """
    leads = dataset.leads
    ends = [default_as_of(leads, [c for _, c in STAGES] + ["disqualified_at"])]
    for name, col in (("sessions", "started_at"), ("touchpoints", "ts"), ("events", "ts")):
        t = dataset.tables.get(name)
        if t is not None and col in t.columns and len(t):
            v = pd.to_datetime(t[col], utc=True).max()
            if not pd.isna(v):
                ends.append(v)
    return max(ends)


def _words(n: int) -> str:
    return f"{n:,}"


def _activity(dataset) -> list[tuple[str, np.ndarray, np.ndarray, str | None]]:
    """The behaviour tables read once: ``(label, timestamps as int64 ns UTC (NaT: int64 min),
    who, mode)`` per count, so snapshots at many dates never re-parse them."""
    specs = []
    s = dataset.tables.get("sessions")
    if s is not None and "lead_id" in s.columns:
        specs.append(("web_sessions", s, "lead_id", "started_at", None))
        if "landing_page" in s.columns:
            pricing = s[s["landing_page"].astype("string").str.contains("pricing", na=False)]
            specs.append(("pricing_page_sessions", pricing, "lead_id", "started_at", None))
    t = dataset.tables.get("touchpoints")
    if t is not None:
        specs.append(("marketing_touches", t, "person_id", "ts", None))
        if "channel" in t.columns:
            em = t[t["channel"].astype("string").eq("email").fillna(False)]
            specs.append(("email_touches", em, "person_id", "ts", None))
    e = dataset.tables.get("events")
    if e is not None and "event" in e.columns:
        names = e["event"].astype("string")
        for name in sorted(names.dropna().unique()):
            sub = e[names.eq(name).fillna(False).to_numpy()]
            specs.append((f"event_{name}", sub, "person_id", "ts", "ever"))
    out = []
    for label, table, key, col, mode in specs:
        ts = pd.to_datetime(table[col], utc=True)
        ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)  # NaT: int64 min
        ok = ts.notna().to_numpy()
        out.append((label, ns[ok], table[key].astype("string").to_numpy()[ok], mode))
    return out


def _behaviour(dataset, ids: pd.Series, as_of: pd.Timestamp, activity=None) -> pd.DataFrame:
    """Counts of sessions, touchpoints and events per lead, strictly before ``as_of``."""
    out = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="lead_id"))
    at = as_of.value
    for label, ns, who_all, mode in _activity(dataset) if activity is None else activity:
        before = ns < at
        who = who_all[before]
        age = (at - ns[before]) / 86400e9
        windows = [("ever", np.inf)] if mode == "ever" else [(f"{d}d", d) for d in _WINDOWS]
        for suffix, days in windows:
            counts = pd.Series(who[age <= days]).value_counts()
            out[f"{label}_{suffix}"] = counts.reindex(out.index, fill_value=0).to_numpy()
    return out.reset_index(drop=True)


def lead_snapshot(
    dataset,
    *,
    as_of,
    horizon="90D",
    target: str = "customer",
    personas=None,
    include_disqualified: bool = False,
    end=None,
    _activity_tables=None,
) -> pd.DataFrame:
    """The leads open on ``as_of``, with what was known about them then, and their outcome.

    Parameters
    ----------
    dataset : Dataset
        Needs ``leads`` (``lead_id``, ``created_at`` and the target stage's column); sessions
        (with ``lead_id``), touchpoints and events add behaviour when present.
    as_of : timestamp
        The snapshot date. Only what was recorded strictly before it enters the features.
    horizon : str or Timedelta
        How long after ``as_of`` a conversion counts (default 90 days, as HubSpot's
        "likelihood to close").
    target : str
        The stage to reach (``customer`` by default; any stage of
        :data:`salesmkt.data.schema.STAGES`).
    personas : DataFrame, path or None
        Saved personas (``personas.yml`` folder or :func:`salesmkt.load_personas`): each lead
        gets its ``persona`` by :func:`salesmkt.assign_personas`. A ``persona`` column already
        in the leads is used as it is.
    include_disqualified : bool
        Keep leads disqualified by ``as_of`` (default: left out and counted).
    end : timestamp, optional
        The end of the data (default :func:`data_end`): a lead whose horizon ends after it is
        unlabelled.

    Returns
    -------
    DataFrame
        One row per lead: ``lead_id``, ``as_of``, ``label`` (nullable boolean: reached the
        target in ``(as_of, as_of + horizon]``; missing when the horizon is not over), then the
        features: the lead's attribute columns, ``stage`` (reached by ``as_of``),
        ``days_since_created``, ``days_in_stage``, ``responded`` (a first sales response by
        ``as_of``, when the column exists) and behaviour counts (``web_sessions_30d``,
        ``marketing_touches_90d``, ``event_start_trial_ever`` ...). ``attrs``: ``as_of``,
        ``horizon``, ``target``, ``end``, ``n_excluded`` (stage timestamps out of order),
        ``n_disqualified`` (left out), ``n_unlabelled``, ``features`` (the feature columns).

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> snap = lead_snapshot(ds, as_of="2025-10-01")
    >>> bool((snap["as_of"] == pd.Timestamp("2025-10-01", tz="UTC")).all())
    True
    >>> bool(snap["label"].notna().all())  # 90 days later is still inside the data
    True
    >>> {"channel", "stage", "web_sessions_30d", "event_start_trial_ever"} <= set(snap.columns)
    True
    >>> "customer_at" in snap.columns or "email" in snap.columns
    False
    """
    leads = dataset.leads
    if leads is None:
        raise ValueError("lead_snapshot: the dataset has no leads table")
    as_of = _periods.to_utc(as_of)
    if as_of is None:
        raise ValueError("lead_snapshot: as_of is required (the date the leads are scored on)")
    horizon = pd.Timedelta(horizon)
    if horizon <= pd.Timedelta(0):
        raise ValueError(f"lead_snapshot: horizon must be positive, got {horizon}")
    end = _periods.to_utc(end) or data_end(dataset)
    spec = stages_in(leads)
    names = [n for n, _ in spec]
    if target not in names:
        raise ValueError(
            f"lead_snapshot: leads has no column for the target stage {target!r} "
            f"(stages found: {', '.join(names)})"
        )
    now = stage_entries(leads, stages=spec, as_of=as_of, caller="lead_snapshot")
    later = stage_entries(leads, stages=spec, as_of=as_of + horizon, caller="lead_snapshot")
    created = pd.to_datetime(leads["created_at"], utc=True)
    excluded = now["excluded"].to_numpy()
    open_ = (created < as_of).fillna(False).to_numpy() & now[target].isna().to_numpy()
    disq = np.zeros(len(leads), bool)
    if "disqualified_at" in leads.columns:
        dq = pd.to_datetime(leads["disqualified_at"], utc=True)
        disq = (dq < as_of).fillna(False).to_numpy()
    keep = open_ & ~excluded & (include_disqualified | ~disq)
    n_excluded = int((open_ & excluded).sum())
    n_disq = int((open_ & ~excluded & disq).sum()) if not include_disqualified else 0

    rows = leads[keep].reset_index(drop=True)
    snap = pd.DataFrame({"lead_id": rows["lead_id"].to_numpy(), "as_of": as_of})
    reached = later.loc[keep, target].notna().to_numpy()
    labelled = as_of + horizon <= end
    snap["label"] = pd.array(reached if labelled else [pd.NA] * len(rows), dtype="boolean")

    if personas is not None and "persona" not in rows.columns:
        from salesmkt.personas.file import assign_personas

        rows = assign_personas(rows, personas).reset_index(drop=True)
    drop = _NOT_FEATURES | set(pii_columns(rows)) | set(SNAPSHOT_KEYS)
    for col in rows.columns:
        if col in drop or pd.api.types.is_datetime64_any_dtype(rows[col]):
            continue
        snap[col] = rows[col].to_numpy()
        if pd.api.types.is_object_dtype(snap[col]) or pd.api.types.is_string_dtype(snap[col]):
            snap[col] = snap[col].astype("string")

    # stage reached by as_of: the latest stage entered (the one definition of "reached")
    ent = now.loc[keep].reset_index(drop=True)
    stage = pd.Series(pd.NA, index=snap.index, dtype="string")
    entered = pd.Series(pd.NaT, index=snap.index, dtype="datetime64[ns, UTC]")
    for name in names:
        has = ent[name].notna()
        stage = stage.mask(has, name)
        entered = entered.mask(has, ent[name])
    snap["stage"] = stage
    day = 86400.0
    snap["days_since_created"] = (as_of - created[keep].reset_index(drop=True)).dt.total_seconds()
    snap["days_since_created"] = (snap["days_since_created"] / day).round(1)
    snap["days_in_stage"] = ((as_of - entered).dt.total_seconds() / day).round(1)
    if "first_response_at" in leads.columns:
        fr = pd.to_datetime(rows["first_response_at"], utc=True)
        snap["responded"] = (fr < as_of).fillna(False).to_numpy()
    beh = _behaviour(dataset, rows["lead_id"].astype("string"), as_of, _activity_tables)
    for col in beh.columns:
        snap[col] = beh[col].to_numpy()
    snap.attrs.update(
        as_of=as_of,
        horizon=horizon,
        target=target,
        end=end,
        n_excluded=n_excluded,
        n_disqualified=n_disq,
        n_unlabelled=0 if labelled else len(snap),
        features=[c for c in snap.columns if c not in SNAPSHOT_KEYS],
    )
    return snap


def training_snapshots(
    dataset, *, dates: Iterable | str = "MS", horizon="90D", target: str = "customer", **kw
) -> pd.DataFrame:
    """Snapshots at several past dates, stacked: time-based cohorts for training a score.

    Parameters
    ----------
    dataset : Dataset
    dates : list of timestamps, or a frequency
        The snapshot dates; a frequency (``"MS"``: the first of every month) spreads them from
        the first lead's creation to the end of the data.
    horizon, target, **kw
        As :func:`lead_snapshot`.

    Returns
    -------
    DataFrame
        The snapshots one under the other (a lead appears once per date it was open on);
        unlabelled rows are kept, with ``label`` missing. ``attrs``: ``dates``, ``horizon``,
        ``target``, ``n_excluded`` and ``n_disqualified`` (summed), ``n_unlabelled``,
        ``features``.

    Examples
    --------
    >>> import salesmkt
    >>> snaps = training_snapshots(salesmkt.load_sample(), dates=["2025-07-01", "2025-10-01"])
    >>> snaps["as_of"].dt.strftime("%Y-%m-%d").unique().tolist()
    ['2025-07-01', '2025-10-01']
    """
    end = _periods.to_utc(kw.pop("end", None)) or data_end(dataset)
    if isinstance(dates, str):
        start = pd.to_datetime(dataset.leads["created_at"], utc=True).min()
        dates = pd.date_range(start.normalize(), end, freq=dates)[1:]
    dates = sorted(_periods.to_utc(d) for d in dates)
    if not dates:
        raise ValueError("training_snapshots: no snapshot dates")
    activity = _activity(dataset)  # the behaviour tables parsed once for every date
    parts = [
        lead_snapshot(
            dataset,
            as_of=d,
            horizon=horizon,
            target=target,
            end=end,
            _activity_tables=activity,
            **kw,
        )
        for d in dates
    ]
    out = pd.concat(parts, ignore_index=True)
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    out.attrs.update(
        dates=dates,
        horizon=pd.Timedelta(horizon),
        target=target,
        end=end,
        n_excluded=sum(p.attrs["n_excluded"] for p in parts),
        n_disqualified=sum(p.attrs["n_disqualified"] for p in parts),
        n_unlabelled=int(out["label"].isna().sum()),
        features=[c for c in out.columns if c not in SNAPSHOT_KEYS],
    )
    return out
