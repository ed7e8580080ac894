"""Time in stage and stalled leads. Private; re-exported by :mod:`salesmkt.funnels.lifecycle`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt._base.formats import plain_label
from salesmkt.data.stages import _as_list, _segments, _stages, stage_entries
from salesmkt.data.validate import check_columns


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
    >>> from salesmkt.funnels.stage_time import stage_durations
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
    >>> from salesmkt.funnels.stage_time import time_in_stage
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
    the stage's own 90th percentile of time in stage of leads that advanced (docs/semantics/lifecycle.md),
    computed over all leads so that breakdown groups are judged by the same yardstick.

    Returns
    -------
    DataFrame
        ``[by...], stage, threshold_days, threshold_basis, in_stage, stalled, stalled_share``
        (missing when no lead is in the stage). ``threshold_basis`` says what the threshold
        is, e.g. ``p90 of the 412 leads that moved on from mql`` (each stage judged against
        its own usual time, never a pooled one) or ``fixed: 10 days``.

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.funnels.stage_time import stalled_leads
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
        moved = d[d["status"] == "advanced"].groupby("stage", sort=False)["days"]
        limits = moved.quantile(q)
        basis = {
            st: f"{threshold} of the {n:,} leads that moved on from {plain_label(st)}"
            for st, n in moved.size().items()
        }
    else:
        limits = pd.Series(float(threshold), index=d["stage"].unique())
        basis = {st: f"fixed: {float(threshold):g} days" for st in limits.index}
    d = d.assign(
        threshold_days=d["stage"].map(limits),
        threshold_basis=d["stage"].map(basis).fillna("no lead moved on from this stage yet"),
        open=d["status"] == "in_stage",
    )
    d["is_stalled"] = d["open"] & (d["days"] > d["threshold_days"])
    out = (
        d.groupby([*by, "stage"], sort=False, observed=True)
        .agg(
            threshold_days=("threshold_days", "first"),
            threshold_basis=("threshold_basis", "first"),
            in_stage=("open", "sum"),
            stalled=("is_stalled", "sum"),
        )
        .reset_index()
    )
    out["in_stage"] = out["in_stage"].astype(int)
    out["stalled"] = out["stalled"].astype(int)
    out["stalled_share"] = out["stalled"] / out["in_stage"].where(out["in_stage"] > 0)
    return out
