"""Helpers behind the KPI-setup and check-in notebooks: applying chosen targets to a config,
the reporting period, and the scorecard in words. Re-exported by :mod:`salesmkt.kpis.targets`."""

from __future__ import annotations

import copy

import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.dataset import Dataset
from salesmkt.kpis.config import _normalise


def apply_targets(
    config: dict,
    *,
    kpis: list[str] | None = None,
    suggested: pd.DataFrame | None = None,
    targets: dict | None = None,
    sla: dict | None = None,
) -> dict:
    """A new config with the team's choices: KPIs, targets and SLA terms.

    ``kpis`` replaces the list of shared KPIs. A chosen KPI without a target gets the
    ``suggested_target`` of :func:`salesmkt.suggest_targets` (never for ``context`` KPIs);
    ``targets`` (``{kpi: value}``) overrides both; ``sla`` updates the SLA terms. The result is
    checked like a loaded ``kpis.yml``; the input is not modified.

    Examples
    --------
    >>> import salesmkt
    >>> c = apply_targets(salesmkt.kpi_config_template(), targets={"win_rate": 0.3},
    ...                   sla={"response_hours": 2})
    >>> c["targets"]["win_rate"]["target"], c["sla"]["response_hours"]
    (0.3, 2.0)
    """
    out = copy.deepcopy(config)
    if kpis is not None:
        out["kpis"] = list(kpis)
    out.setdefault("targets", {})
    if suggested is not None:
        for _, row in suggested.iterrows():
            k = row["kpi"]
            if (
                k in out["kpis"]
                and k not in out["targets"]
                and row["direction"] != "context"
                and pd.notna(row["suggested_target"])
            ):
                out["targets"][k] = {"target": float(row["suggested_target"])}
    for k, v in (targets or {}).items():
        entry = dict(out["targets"].get(k, {}))
        entry.update(v if isinstance(v, dict) else {"target": v})
        out["targets"][k] = entry
    out["sla"] = {**out.get("sla", {}), **(sla or {})}
    return _normalise(out, "config")


def report_period(dataset: Dataset, start=None, end=None, *, freq: str = "M") -> dict:
    """The period a report covers: given dates, else the latest full period in the data.

    The latest full period is the last one that ended by the latest event in the data (the
    default ``as_of`` of :func:`salesmkt.kpi_table`). When the data starts after that period
    ended (an export of a few weeks), the period is the partial one the data covers.

    Parameters
    ----------
    dataset : Dataset
    start, end : date or str, optional
        The half-open UTC interval ``[start, end)``; ``start`` is floored to its period and
        ``end`` defaults to the end of that period.
    freq : {"D", "W", "M", "Q", "Y"} or a word such as ``"month"``
        Period length (:mod:`salesmkt.data.periods`).

    Returns
    -------
    dict
        ``start, end`` (UTC Timestamps, ``end`` exclusive), ``label`` (``2026-06``) and
        ``as_of``.

    Examples
    --------
    >>> import salesmkt
    >>> report_period(salesmkt.load_sample())["label"]
    '2026-06'
    """
    from salesmkt.kpis.compute import _earliest, _latest

    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["report_period"], caller="report_period"
    )
    as_of = _latest(dataset)
    if start is None:
        this = _periods.floor_one(as_of, freq)
        start = (
            this
            if _periods.is_full(_periods.shift(this, freq), as_of)
            # the period before, unless the data starts after it (a short export): then the
            # partial period the data has
            or this <= _earliest(dataset)
            else (_periods.shift(this, freq, -1))
        )
    start = _periods.floor_one(_periods.to_utc(start), freq)
    end = _periods.to_utc(end) or _periods.shift(start, freq)
    if end <= start:
        raise ValueError(f"report period: end ({end:%Y-%m-%d}) must be after start")
    return {"start": start, "end": end, "label": _periods.label(start, freq), "as_of": as_of}


def scorecard_summary(scorecard: pd.DataFrame) -> str:
    """The scorecard in one Markdown paragraph: counts by status and the KPIs off track.

    KPIs that have missed their targets (at risk or off track) for two periods or more in a row
    are named with the number of periods (``periods_missed`` of :func:`salesmkt.scorecard`).

    Examples
    --------
    >>> sc = pd.DataFrame({"name": ["Win rate", "CAC"], "status": ["on track", "off track"],
    ...                    "period": ["2026-06"] * 2})
    >>> print(scorecard_summary(sc))
    **2026-06**: 1 of 2 KPIs on track, 0 at risk, 1 off track. Off track: CAC.
    >>> scorecard_summary(sc.assign(periods_missed=[0, 3])).split(". ")[-1]
    'Missed 3 periods running: CAC.'
    """
    n = scorecard["status"].value_counts()
    judged = int(n.get("on track", 0) + n.get("at risk", 0) + n.get("off track", 0))
    text = (
        f"**{scorecard['period'].iloc[0]}**: {int(n.get('on track', 0))} of {judged} KPIs on "
        f"track, {int(n.get('at risk', 0))} at risk, {int(n.get('off track', 0))} off track."
    )
    for status in ("off track", "at risk"):
        names = scorecard.loc[scorecard["status"] == status, "name"].tolist()
        if names:
            text += f" {status.capitalize()}: {', '.join(names)}."
    runs = scorecard.get("periods_missed", pd.Series(0, index=scorecard.index))
    for run in sorted({int(r) for r in runs if r >= 2}, reverse=True):
        text += f" Missed {run} periods running: {', '.join(scorecard.loc[runs == run, 'name'])}."
    rest = int(len(scorecard) - judged)
    if rest:
        text += f" {rest} without a target or data."
    return text
