"""The lifecycle funnel of CRM leads: created, MQL, SQL, opportunity, customer.

Which stage a lead reached, when, and which leads are left out (stage timestamps out of order)
is defined once, in :mod:`salesmkt.data.stages` (docs page docs/semantics/lifecycle.md): a skipped
stage counts as passed, timestamps after ``as_of`` count as not reached, and a lead whose stage
timestamps go backwards is left out and counted in ``n_excluded``. Disqualified leads stay in
the denominators (they entered the stage and did not advance).

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

from salesmkt.data import periods as _periods
from salesmkt.data.stages import (
    MISSING,
    _as_list,
    _segments,
    _stages,
    stage_entries,
)
from salesmkt.data.validate import check_columns

__all__ = [
    "lifecycle_funnel",
    "lead_segments",
    "biggest_drop_offs",
]


#: The measure columns of a lifecycle funnel; any other column (but ``as_of``) is a breakdown.
FUNNEL_METRICS = (
    "stage",
    "step",
    "entered",
    "conversion_from_previous",
    "conversion_from_first",
    "dropped",
    "drop_off_rate",
    "median_days_from_previous",
    "n_excluded",
    "pending",
    "mature",
)


def funnel_keys(funnel: pd.DataFrame) -> list[str]:
    """The breakdown columns of a :func:`lifecycle_funnel` table (``cohort`` included)."""
    return [c for c in funnel.columns if c not in (*FUNNEL_METRICS, "as_of")]


def lifecycle_funnel(
    leads: pd.DataFrame,
    *,
    stages: Sequence | None = None,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    as_of=None,
    **deprecated,
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
    freq : {"D", "W", "M", "Q", "Y"} or a word such as ``"month"``, optional
        Group leads by the period they were created in (a cohort funnel, column ``cohort``):
        day, week (Monday start), month, quarter or year in UTC
        (:mod:`salesmkt.data.periods`). Recent cohorts are immature: their leads may still
        advance. The old name of this keyword, ``cohort``, still works for one release with a
        DeprecationWarning.
    as_of : timestamp, optional
        Count stages reached up to this time. Default: the latest stage timestamp in ``leads``.

    Returns
    -------
    DataFrame
        One row per (cohort, breakdown, stage): ``[cohort], [by...], stage, step`` (1-based),
        ``entered`` (leads that reached the stage or a later one), ``conversion_from_previous``,
        ``conversion_from_first``, ``dropped`` (reached the previous stage, not this one),
        ``pending`` (of those dropped, leads still within the usual time to move on: less
        time since they entered the previous stage than the 90th percentile of the days
        leads that did move on took, over all leads), ``mature`` (no lead pending: the step's
        drop-off is final; a cohort is mature when all its steps are),
        ``drop_off_rate`` (dropped / previous), ``median_days_from_previous`` (between entry
        times; skipped stages count 0 days), ``n_excluded`` (leads of the group left out
        because their stage timestamps are out of order) and ``as_of``. Rates with a zero
        denominator are missing. With ``freq``, every period from the first to the last
        cohort appears, empty ones with 0 leads.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> f = lifecycle_funnel(leads, by="channel")
    >>> bool((f.query("step == 1")["conversion_from_first"] == 1).all())
    True
    """
    freq = _periods.renamed_keywords("lifecycle_funnel", deprecated, {"cohort": "freq"}, freq=freq)[
        "freq"
    ]
    if freq is not None:
        freq = _periods.check_freq(
            freq, allowed=_periods.SUPPORTED["lifecycle_funnel"], caller="lifecycle_funnel"
        )
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
    if freq is not None:
        frame["cohort"] = _periods.floor(pd.to_datetime(leads[spec[0][1]], utc=True), freq)
        keys = ["cohort", *by]
    names = [n for n, _ in spec]
    for n in names:
        frame[n] = entries[n].set_axis(frame.index)
    usual = {}
    for prev, cur in zip(names[:-1], names[1:], strict=True):
        frame[f"_d_{cur}"] = (frame[cur] - frame[prev]).dt.total_seconds() / 86_400
        moved = frame.loc[~frame["excluded"], f"_d_{cur}"].dropna()
        usual[cur] = float(moved.quantile(0.9)) if len(moved) else np.nan
        waited = (as_of - frame[prev]).dt.total_seconds() / 86_400
        # still within the usual time to move on: not (yet) a drop-off
        frame[f"_pending_{cur}"] = (
            ~frame["excluded"]
            & frame[prev].notna()
            & frame[cur].isna()
            & (waited < usual[cur] if np.isfinite(usual[cur]) else True)
        )
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
                pending=int(g[f"_pending_{n}"].sum()) if k else 0,
            )
            row["mature"] = row["pending"] == 0
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, *FUNNEL_METRICS])
    if freq is not None:
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
    for c in ("entered", "dropped", "n_excluded", "pending"):
        full[c] = full[c].fillna(0).astype(int)
    full["mature"] = full["mature"].fillna(True).astype(bool)
    return full.sort_values(["cohort", *by, "step"], kind="stable")


def funnel_coverage(funnel: pd.DataFrame) -> str:
    """How many leads a funnel counts, of how many, and why the rest are left out (Markdown).

    The funnel's first stage counts the leads it could place; leads whose stage dates go
    backwards are left out (``n_excluded``). The sentence gives both, so that the funnel's
    count and the number of leads in the data (the data check's) are told apart.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`lifecycle_funnel` without a breakdown.

    Examples
    --------
    >>> f = pd.DataFrame({"stage": ["lead", "customer"], "step": [1, 2],
    ...                   "entered": [1200, 80], "n_excluded": [34, 34]})
    >>> print(funnel_coverage(f))
    The funnel counts **1,200 of 1,234 leads**: 34 leads whose stage dates are out of order are left out.
    >>> print(funnel_coverage(f.assign(n_excluded=0)))
    The funnel counts **all 1,200 leads**.
    """
    if funnel.empty:
        return "The funnel counts no leads."
    first = funnel.sort_values("step").iloc[0]
    placed, excluded = int(first["entered"]), int(first["n_excluded"])
    if not excluded:
        return f"The funnel counts **all {placed:,} leads**."
    return (
        f"The funnel counts **{placed:,} of {placed + excluded:,} leads**: {excluded:,} "
        f"lead{'s' if excluded != 1 else ''} whose stage dates are out of order "
        f"{'are' if excluded != 1 else 'is'} left out."
    )


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
    best separates B2B buyer types). ``attrs["persona_source"]`` says which was used; without
    either column every lead is ``(missing)`` and ``persona_source`` says so.

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
        # the named personas of personas.yml (salesmkt.assign_personas) say so themselves
        out.attrs["persona_source"] = leads.attrs.get("persona_source") or f"column {persona_col}"
        return out
    if size_col not in leads.columns:  # an export without company size: say so, do not fail
        out["persona"] = pd.Series(MISSING, index=leads.index, dtype="string")
        out.attrs["persona_source"] = (
            f"nothing: the leads have neither a {persona_col} nor a {size_col} column, so every "
            f"lead counts as {MISSING}"
        )
        return out
    check_columns(leads, "leads", [size_col], caller="lead_segments")
    size = pd.to_numeric(leads[size_col], errors="coerce")
    edges = [b for b, _ in SIZE_BANDS] + [np.inf]
    band = pd.cut(size, bins=edges, right=False, labels=[n for _, n in SIZE_BANDS])
    out["persona"] = band.astype("string").fillna(MISSING)
    out.attrs["persona_source"] = "company size band"
    return out


def biggest_drop_offs(
    funnel: pd.DataFrame, *, by: str | None = None, top: int = 5, min_excess: float = 1.0
) -> pd.DataFrame:
    """The stage steps of a broken-down funnel that lose the most leads beyond the average.

    Leads still within the usual time to move on (``pending``, see :func:`lifecycle_funnel`)
    are neither kept nor lost yet: they leave the step's denominator, so a recent cohort is
    never flagged for leads that may yet advance (``attrs["note"]`` counts them). For each
    segment and step, over the *decided* leads (entered the previous stage and either moved on
    or dropped for good), ``excess_lost`` = decided leads x (overall conversion of the step -
    the segment's conversion): the leads the segment would have kept had it converted like
    everybody else. The overall conversion is recomputed from the summed counts of all
    segments. Steps that lose fewer than ``min_excess`` leads beyond the average (one whole
    lead by default) are no drop-off to discuss and are not listed, so the table may have
    fewer than ``top`` rows, or none.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`lifecycle_funnel` with ``by``.

    Returns
    -------
    DataFrame
        ``[by], step`` (e.g. ``mql → sql``), ``entered_previous, decided, entered, conversion,
        overall_conversion, excess_lost``, at most ``top`` rows with the largest
        ``excess_lost``.

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.lifecycle_funnel(salesmkt.load_sample().leads, by="channel")
    >>> biggest_drop_offs(f, top=3).shape[0]
    3
    """
    keys = [c for c in funnel_keys(funnel) if c != "cohort"]
    by = by or (keys[0] if keys else None)
    if by is None:
        raise ValueError("biggest_drop_offs needs a funnel computed with by=<column>")
    f = funnel.sort_values([by, "step"])
    f = f.assign(entered_previous=f.groupby(by)["entered"].shift(1))
    f = f[f["step"] > 1]
    pending = f["pending"] if "pending" in f.columns else 0
    f = f.assign(decided=f["entered_previous"] - pending)
    n_pending = int(f["entered_previous"].sub(f["decided"]).sum())
    names = funnel.drop_duplicates("step").set_index("step")["stage"]
    overall = f.groupby("step")[["entered", "decided"]].sum()
    rate = overall["entered"] / overall["decided"].where(overall["decided"] > 0)
    f = f.assign(
        overall_conversion=f["step"].map(rate),
        conversion=f["entered"] / f["decided"].where(f["decided"] > 0),
        step_name=[f"{names[s - 1]} → {names[s]}" for s in f["step"]],
    )
    lost = f["decided"] * (f["overall_conversion"] - f["conversion"])
    f["excess_lost"] = lost.astype("float64")  # float even when no segment has leads
    out = f[f["excess_lost"] >= min_excess].nlargest(top, "excess_lost")
    cols = [
        by,
        "step_name",
        "entered_previous",
        "decided",
        "entered",
        "conversion",
        "overall_conversion",
        "excess_lost",
    ]
    out = out[cols].rename(columns={"step_name": "step"}).reset_index(drop=True)
    if n_pending:
        out.attrs["note"] = (
            f"{n_pending:,} leads are still within the usual time to move on: not counted as "
            "lost (nor as kept) yet."
        )
    return out
