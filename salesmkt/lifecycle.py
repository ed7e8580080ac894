"""The lifecycle funnel of CRM leads: created, MQL, SQL, opportunity, customer.

Semantics follow ``reference/funnels.md`` (section 2) and ``reference/kpis.md``:

* A lead *reached* stage k when it has a timestamp for stage k **or any later stage** by
  ``as_of``: a skipped stage counts as passed, entered at the time of the next stage the lead
  reached (a lead that jumps from MQL straight to opportunity passed SQL when it became an
  opportunity).
* Timestamps after ``as_of`` are treated as not reached yet.
* A lead whose stage timestamps go backwards (e.g. ``sql_at`` before ``mql_at``) cannot be
  placed in the funnel: it is left out and counted in ``n_excluded``, never dropped silently.
* Disqualified leads stay in the denominators (they entered the stage and did not advance).

Examples
--------
>>> import salesmkt
>>> f = salesmkt.lifecycle_funnel(salesmkt.load_sample().leads)
>>> f["stage"].tolist()
['lead', 'mql', 'sql', 'opportunity', 'customer']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt import _periods
from salesmkt.schema import STAGES
from salesmkt.validate import check_columns

__all__ = [
    "lifecycle_funnel",
    "stage_entries",
    "stage_durations",
    "time_in_stage",
    "stalled_leads",
    "lead_segments",
]

_NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400 * 10**9
MISSING = "(missing)"


def _stages(stages) -> list[tuple[str, str]]:
    if stages is None:
        return list(STAGES)
    known = dict(STAGES)
    out = []
    for s in stages:
        if isinstance(s, tuple | list):
            out.append((str(s[0]), str(s[1])))
        elif s in known:
            out.append((s, known[s]))
        else:
            raise ValueError(
                f"unknown stage {s!r}: use one of {', '.join(known)} or a (name, column) pair"
            )
    if len(out) < 2:
        raise ValueError("a funnel needs at least two stages")
    return out


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def default_as_of(leads: pd.DataFrame, columns: Sequence[str]) -> pd.Timestamp:
    """Latest timestamp found in ``columns`` of ``leads``."""
    values = [leads[c].max() for c in columns if c in leads.columns and len(leads)]
    values = [v for v in values if not pd.isna(v)]
    return max(values) if values else pd.Timestamp("1970-01-01", tz="UTC")


def _ns(s: pd.Series) -> np.ndarray:
    s = pd.to_datetime(s, utc=True)
    return s.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def stage_entries(
    leads: pd.DataFrame, *, stages=None, as_of=None, caller: str = "stage_entries"
) -> pd.DataFrame:
    """When each lead entered each stage, with skipped stages filled from the next one reached.

    Parameters
    ----------
    leads : DataFrame
        The canonical ``leads`` table.
    stages : list, optional
        Stage names from :data:`salesmkt.schema.STAGES` or ``(name, column)`` pairs, in funnel
        order. Default: lead, mql, sql, opportunity, customer.
    as_of : timestamp, optional
        Stage timestamps after it count as not reached. Default: the latest stage timestamp.

    Returns
    -------
    DataFrame
        One row per lead, in input order: ``lead_id``, ``excluded`` (stage timestamps out of
        order), then per stage ``<stage>`` (entry time, NaT when not reached) and
        ``<stage>_skipped`` (reached without its own timestamp).

    Examples
    --------
    >>> import salesmkt
    >>> e = stage_entries(salesmkt.load_sample().leads)
    >>> bool(e.loc[~e["excluded"], "lead"].notna().all())
    True
    """
    spec = _stages(stages)
    cols = [c for _, c in spec]
    check_columns(leads, "leads", ["lead_id", *cols], caller=caller)
    as_of = _periods.to_utc(as_of) or default_as_of(leads, cols)
    raw = (
        np.column_stack([_ns(leads[c]) for c in cols])
        if len(leads)
        else np.empty((0, len(cols)), np.int64)
    )
    present = raw != _NAT
    # out of order: a timestamp earlier than any earlier stage's timestamp
    running = np.maximum.accumulate(np.where(present, raw, _NAT), axis=1)
    excluded = (present[:, 1:] & (raw[:, 1:] < running[:, :-1])).any(axis=1)
    limit = as_of.value
    own = present & (raw <= limit)
    entry = np.full(raw.shape, _NAT, dtype=np.int64)
    nxt = np.full(raw.shape[0], _NAT, dtype=np.int64)
    for k in range(len(cols) - 1, -1, -1):
        nxt = np.where(own[:, k], raw[:, k], nxt)
        entry[:, k] = nxt
    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "excluded": excluded})
    for k, (name, _) in enumerate(spec):
        values = np.where(excluded, _NAT, entry[:, k])
        out[name] = pd.to_datetime(values, utc=True)
        out[f"{name}_skipped"] = (values != _NAT) & ~own[:, k]
    out.attrs["as_of"] = as_of
    return out


def _segments(leads: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    seg = pd.DataFrame(index=leads.index)
    for col in by:
        seg[col] = leads[col].astype("string").fillna(MISSING).to_numpy()
    return seg


def lifecycle_funnel(
    leads: pd.DataFrame,
    *,
    stages: Sequence | None = None,
    by: str | Sequence[str] | None = None,
    cohort: str | None = None,
    as_of=None,
) -> pd.DataFrame:
    """Leads reaching each lifecycle stage, with conversion and drop-off between stages.

    Parameters
    ----------
    leads : DataFrame
        The canonical ``leads`` table (stage columns ``mql_at``, ``sql_at``, ...).
    stages : list, optional
        Stage names or ``(name, column)`` pairs in order; default all five lifecycle stages.
    by : str or list of str, optional
        Lead column(s) to break down by (channel, a persona column, company size band...).
        Missing values form their own group ``"(missing)"``.
    cohort : {"W", "M", "Q"}, optional
        Group leads by the period they were created in (a cohort funnel). Recent cohorts are
        immature: their leads may still advance.
    as_of : timestamp, optional
        Count stages reached up to this time. Default: the latest stage timestamp in ``leads``.

    Returns
    -------
    DataFrame
        One row per (cohort, breakdown, stage): ``[cohort], [by...], stage, step`` (1-based),
        ``entered`` (leads that reached the stage or a later one), ``conversion_from_previous``,
        ``conversion_from_first``, ``dropped`` (reached the previous stage, not this one),
        ``drop_off_rate`` (dropped / previous), ``median_days_from_previous`` (between entry
        times; skipped stages count 0 days), ``n_excluded`` (leads of the group left out
        because their stage timestamps are out of order) and ``as_of``. Rates with a zero
        denominator are missing. With ``cohort``, every period from the first to the last
        cohort appears, empty ones with 0 leads.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> f = lifecycle_funnel(leads, by="channel")
    >>> bool((f.query("step == 1")["conversion_from_first"] == 1).all())
    True
    """
    spec = _stages(stages)
    by = _as_list(by)
    check_columns(
        leads, "leads", ["lead_id", *[c for _, c in spec], *by], caller="lifecycle_funnel"
    )
    entries = stage_entries(leads, stages=spec, as_of=as_of, caller="lifecycle_funnel")
    as_of = entries.attrs["as_of"]
    keys = list(by)
    frame = _segments(leads, by)
    frame["excluded"] = entries["excluded"].to_numpy()
    if cohort is not None:
        freq = _periods.check_freq(cohort)
        frame["cohort"] = _periods.floor(pd.to_datetime(leads[spec[0][1]], utc=True), freq)
        keys = ["cohort", *by]
    names = [n for n, _ in spec]
    for n in names:
        frame[n] = entries[n].set_axis(frame.index)
    for prev, cur in zip(names[:-1], names[1:], strict=True):
        frame[f"_d_{cur}"] = (frame[cur] - frame[prev]).dt.total_seconds() / 86_400
    groups = frame.groupby(keys, dropna=False, observed=True) if keys else [((), frame)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        kept = g[~g["excluded"]]
        reached = [int(kept[n].notna().sum()) for n in names]
        for k, n in enumerate(names):
            prev = reached[k - 1] if k else reached[0]
            row = dict(zip(keys, key, strict=True))
            row.update(
                stage=n,
                step=k + 1,
                entered=reached[k],
                conversion_from_previous=reached[k] / prev if prev else np.nan,
                conversion_from_first=reached[k] / reached[0] if reached[0] else np.nan,
                dropped=prev - reached[k],
                drop_off_rate=(prev - reached[k]) / prev if prev else np.nan,
                median_days_from_previous=kept[f"_d_{n}"].median() if k else np.nan,
                n_excluded=int(g["excluded"].sum()),
            )
            rows.append(row)
    cols = [
        *keys,
        "stage",
        "step",
        "entered",
        "conversion_from_previous",
        "conversion_from_first",
        "dropped",
        "drop_off_rate",
        "median_days_from_previous",
        "n_excluded",
    ]
    out = pd.DataFrame(rows, columns=cols)
    if cohort is not None:
        out = _fill_cohorts(out, by, names, freq)
    out["as_of"] = as_of
    return out.reset_index(drop=True)


def _fill_cohorts(out: pd.DataFrame, by: list[str], names: list[str], freq: str) -> pd.DataFrame:
    if out.empty:
        return out
    cohorts = _periods.period_frame(
        out["cohort"].min(), out["cohort"].max() + pd.Timedelta(1), freq
    )
    grid = pd.DataFrame({"cohort": cohorts["period_start"]})
    for col in by:
        grid = grid.merge(pd.DataFrame({col: out[col].unique()}), how="cross")
    grid = grid.merge(pd.DataFrame({"stage": names, "step": range(1, len(names) + 1)}), how="cross")
    full = grid.merge(out, on=["cohort", *by, "stage", "step"], how="left")
    for c in ("entered", "dropped", "n_excluded"):
        full[c] = full[c].fillna(0).astype(int)
    return full.sort_values(["cohort", *by, "step"], kind="stable")


def stage_durations(
    leads: pd.DataFrame, *, stages=None, by: str | Sequence[str] | None = None, as_of=None
) -> pd.DataFrame:
    """Time each lead spent in each stage it entered, in days (one row per lead and stage).

    ``status`` says how the stay ended: ``advanced`` (reached a later stage; ``days`` until
    then), ``in_stage`` (still there at ``as_of``; ``days`` so far, a censored value),
    ``disqualified`` (``days`` until ``disqualified_at``) or ``skipped`` (the stage was passed
    without its own timestamp; ``days`` is 0 and is left out of summaries). The last stage
    has no time in stage. Leads with stage timestamps out of order are left out.

    Returns
    -------
    DataFrame
        ``lead_id, [by...], stage, days, status``.

    Examples
    --------
    >>> import salesmkt
    >>> d = stage_durations(salesmkt.load_sample().leads)
    >>> sorted(d["status"].unique())[:2]
    ['advanced', 'disqualified']
    """
    spec = _stages(stages)
    by = _as_list(by)
    check_columns(leads, "leads", ["lead_id", *[c for _, c in spec], *by], caller="stage_durations")
    entries = stage_entries(leads, stages=spec, as_of=as_of, caller="stage_durations")
    as_of = entries.attrs["as_of"]
    keep = ~entries["excluded"].to_numpy()
    seg = _segments(leads, by)[keep].reset_index(drop=True)
    e = entries[keep].reset_index(drop=True)
    disq = (
        pd.to_datetime(leads["disqualified_at"], utc=True)[keep].reset_index(drop=True)
        if "disqualified_at" in leads.columns
        else pd.Series(pd.NaT, index=e.index, dtype="datetime64[ns, UTC]")
    )
    disq = disq.where(disq <= as_of)
    names = [n for n, _ in spec]
    parts = []
    for cur, nxt in zip(names[:-1], names[1:], strict=True):
        inside = e[cur].notna()
        advanced = e[nxt].notna()
        end = e[nxt].where(advanced, disq.where(disq >= e[cur]).fillna(as_of))
        status = np.select(
            [e[f"{cur}_skipped"], advanced, disq.notna() & (disq >= e[cur])],
            ["skipped", "advanced", "disqualified"],
            "in_stage",
        )
        part = pd.DataFrame({"lead_id": e["lead_id"], **{c: seg[c] for c in by}})
        part["stage"] = cur
        part["days"] = (end - e[cur]).dt.total_seconds() / 86_400
        part["status"] = status
        parts.append(part[inside.to_numpy()])
    out = pd.concat(parts, ignore_index=True)
    out.loc[out["status"] == "skipped", "days"] = 0.0
    out.attrs["as_of"] = as_of
    return out


def time_in_stage(
    leads: pd.DataFrame, *, stages=None, by: str | Sequence[str] | None = None, as_of=None
) -> pd.DataFrame:
    """Median and spread of the days leads spend in each stage before advancing.

    Only stays that ended by advancing enter the quantiles (a stay still in progress is not
    finished yet; disqualified leads left the funnel); the others are counted beside them.

    Returns
    -------
    DataFrame
        ``[by...], stage, n_advanced, median_days, mean_days, p25_days, p75_days, p90_days,
        n_in_stage, n_disqualified, n_skipped``.

    Examples
    --------
    >>> import salesmkt
    >>> t = time_in_stage(salesmkt.load_sample().leads)
    >>> t["stage"].tolist()
    ['lead', 'mql', 'sql', 'opportunity']
    """
    by = _as_list(by)
    d = stage_durations(leads, stages=stages, by=by, as_of=as_of)
    names = list(dict.fromkeys(d["stage"])) if len(d) else [n for n, _ in _stages(stages)[:-1]]
    rows = []
    for key, g in d.groupby([*by, "stage"], sort=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        adv = g.loc[g["status"] == "advanced", "days"]
        q = (
            adv.quantile([0.25, 0.5, 0.75, 0.9])
            if len(adv)
            else pd.Series(np.nan, [0.25, 0.5, 0.75, 0.9])
        )
        rows.append(
            {
                **dict(zip([*by, "stage"], key, strict=True)),
                "n_advanced": len(adv),
                "median_days": q[0.5],
                "mean_days": adv.mean(),
                "p25_days": q[0.25],
                "p75_days": q[0.75],
                "p90_days": q[0.9],
                "n_in_stage": int((g["status"] == "in_stage").sum()),
                "n_disqualified": int((g["status"] == "disqualified").sum()),
                "n_skipped": int((g["status"] == "skipped").sum()),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["_o"] = out["stage"].map({n: i for i, n in enumerate(names)})
    return out.sort_values([*by, "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def stalled_leads(
    leads: pd.DataFrame,
    *,
    stages=None,
    by: str | Sequence[str] | None = None,
    as_of=None,
    threshold: str | float = "p90",
) -> pd.DataFrame:
    """How many open leads are stuck in each stage (aggregated: no lead-level data).

    A lead is *stalled* when it is still in a stage at ``as_of`` (not advanced, not
    disqualified) and has been there longer than ``threshold`` days. The default threshold is
    the stage's own 90th percentile of time in stage of leads that advanced (``funnels.md``),
    computed over all leads so that breakdown groups are judged by the same yardstick.

    Returns
    -------
    DataFrame
        ``[by...], stage, threshold_days, in_stage, stalled, stalled_share`` (missing when no
        lead is in the stage).

    Examples
    --------
    >>> import salesmkt
    >>> s = stalled_leads(salesmkt.load_sample().leads)
    >>> bool((s["stalled"] <= s["in_stage"]).all())
    True
    """
    by = _as_list(by)
    d = stage_durations(leads, stages=stages, by=by, as_of=as_of)
    if isinstance(threshold, str):
        if not threshold.startswith("p") or not threshold[1:].isdigit():
            raise ValueError(
                f"threshold must be days or a percentile like 'p90', got {threshold!r}"
            )
        q = int(threshold[1:]) / 100
        limits = d[d["status"] == "advanced"].groupby("stage", sort=False)["days"].quantile(q)
    else:
        limits = pd.Series(float(threshold), index=d["stage"].unique())
    d = d.assign(
        threshold_days=d["stage"].map(limits),
        open=d["status"] == "in_stage",
    )
    d["is_stalled"] = d["open"] & (d["days"] > d["threshold_days"])
    out = (
        d.groupby([*by, "stage"], sort=False, observed=True)
        .agg(
            threshold_days=("threshold_days", "first"),
            in_stage=("open", "sum"),
            stalled=("is_stalled", "sum"),
        )
        .reset_index()
    )
    out["in_stage"] = out["in_stage"].astype(int)
    out["stalled"] = out["stalled"].astype(int)
    out["stalled_share"] = out["stalled"] / out["in_stage"].where(out["in_stage"] > 0)
    return out


#: Company size bands (employees) standing in for personas when none are assigned.
SIZE_BANDS = (
    (0, "1-49 employees"),
    (50, "50-249 employees"),
    (250, "250-999 employees"),
    (1000, "1,000-4,999 employees"),
    (5000, "5,000+ employees"),
)


def lead_segments(
    leads: pd.DataFrame, *, persona_col: str = "persona", size_col: str = "company_size"
) -> pd.DataFrame:
    """A copy of ``leads`` with a ``persona`` column to break funnels down by.

    If ``leads`` already has ``persona_col`` (e.g. assigned by the persona workshop) it is used;
    otherwise the company size band stands in for the persona (size is the firmographic that
    best separates B2B buyer types). ``attrs["persona_source"]`` says which was used.

    Examples
    --------
    >>> import salesmkt
    >>> seg = lead_segments(salesmkt.load_sample().leads)
    >>> seg.attrs["persona_source"], seg["persona"].nunique()
    ('company size band', 5)
    """
    out = leads.copy()
    if persona_col in leads.columns:
        out["persona"] = leads[persona_col].astype("string").fillna(MISSING)
        out.attrs["persona_source"] = f"column {persona_col}"
        return out
    check_columns(leads, "leads", [size_col], caller="lead_segments")
    size = pd.to_numeric(leads[size_col], errors="coerce")
    edges = [b for b, _ in SIZE_BANDS] + [np.inf]
    band = pd.cut(size, bins=edges, right=False, labels=[n for _, n in SIZE_BANDS])
    out["persona"] = band.astype("string").fillna(MISSING)
    out.attrs["persona_source"] = "company size band"
    return out
