"""Reached stage and stage order: the one definition every funnel, KPI and persona view uses.

A CRM lead moves through the lifecycle stages of :data:`salesmkt.data.schema.STAGES`, in order:
lead (``created_at``), mql (``mql_at``), sql (``sql_at``), opportunity (``opportunity_at``),
customer (``customer_at``). The rules (docs/semantics/lifecycle.md):

* **Stage order.** The stages are ordered as listed (or as the ``stages`` argument lists them).
* **Reached.** A lead reached stage k when it has a timestamp for stage k **or any later
  stage**, at or before ``as_of``. A skipped stage counts as passed, entered at the time of the
  next stage the lead reached (a lead that jumps from MQL to opportunity passed SQL when it
  became an opportunity; such entries are flagged ``<stage>_skipped``).
* **as_of.** A stage timestamp after ``as_of`` counts as not reached (yet). Default ``as_of``:
  the latest stage timestamp in the table.
* **Out of order.** A lead with a stage timestamp earlier than the timestamp of an earlier stage
  (``sql_at`` before ``mql_at``, ``mql_at`` before ``created_at``) cannot be placed in the
  funnel: it reaches no stage, is flagged ``excluded`` and every caller counts it beside its
  result (``n_excluded``), never dropping it silently. The check uses every timestamp the lead
  has, also those after ``as_of``, so a lead is excluded or not whatever the cut-off.
* Disqualification does not remove a lead from the stages it reached.

:func:`stage_entries` gives the entry time of every lead in every stage under these rules,
:func:`leads_reached` whether each lead reached one stage, and :func:`reached_stage` keeps the leads
of a :class:`~salesmkt.data.dataset.Dataset` that reached a stage. The lifecycle funnel
(:func:`salesmkt.lifecycle_funnel`), time in stage, the funnel KPIs and the persona funnel all
count reached stages through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.schema import STAGES
from salesmkt.data.validate import check_columns

__all__ = ["stage_entries", "leads_reached", "reached_stage", "stages_in", "default_as_of"]

_NAT = np.iinfo(np.int64).min
MISSING = "(missing)"


def _stages(stages) -> list[tuple[str, str]]:
    """``(name, column)`` pairs in funnel order from stage names or pairs (default: all)."""
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


def stages_in(leads: pd.DataFrame) -> list[tuple[str, str]]:
    """The lifecycle stages whose timestamp column ``leads`` has, in funnel order.

    Examples
    --------
    >>> import salesmkt
    >>> [name for name, _ in stages_in(salesmkt.load_sample().leads)]
    ['lead', 'mql', 'sql', 'opportunity', 'customer']
    """
    return [(n, c) for n, c in STAGES if c in leads.columns]


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def default_as_of(leads: pd.DataFrame, columns: Sequence[str]) -> pd.Timestamp:
    """Latest timestamp found in ``columns`` of ``leads`` (the default ``as_of``)."""
    values = [leads[c].max() for c in columns if c in leads.columns and len(leads)]
    values = [v for v in values if not pd.isna(v)]
    return max(values) if values else pd.Timestamp("1970-01-01", tz="UTC")


def _ns(s: pd.Series) -> np.ndarray:
    s = pd.to_datetime(s, utc=True)
    return s.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def stage_entries(
    leads: pd.DataFrame, *, stages=None, as_of=None, caller: str = "stage_entries"
) -> pd.DataFrame:
    """When each lead entered each stage, under the rules of :mod:`salesmkt.data.stages`.

    A stage is entered at its own timestamp, or, when the lead skipped it, at the timestamp of
    the next stage the lead reached (``<stage>_skipped``). Timestamps after ``as_of`` count as
    not reached. A lead whose stage timestamps are out of order (one earlier than an earlier
    stage's, whatever ``as_of``) is ``excluded``: it enters no stage, and callers count it.

    Parameters
    ----------
    leads : DataFrame
        The canonical ``leads`` table.
    stages : list, optional
        Stage names from :data:`salesmkt.data.schema.STAGES` or ``(name, column)`` pairs, in funnel
        order. Default: lead, mql, sql, opportunity, customer.
    as_of : timestamp, optional
        Stage timestamps after it count as not reached. Default: the latest stage timestamp.
    caller : str
        Name of the public function asking, for error messages.

    Returns
    -------
    DataFrame
        One row per lead, in input order: ``lead_id``, ``excluded`` (stage timestamps out of
        order), then per stage ``<stage>`` (entry time, NaT when not reached) and
        ``<stage>_skipped`` (reached without its own timestamp). ``attrs["as_of"]`` holds the
        cut-off used.

    Examples
    --------
    >>> import salesmkt
    >>> e = salesmkt.stage_entries(salesmkt.load_sample().leads)
    >>> bool(e.loc[~e["excluded"], "lead"].notna().all())
    True
    >>> int(e["excluded"].sum()), int(e["mql_skipped"].sum())
    (22, 46)
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


def _stage_spec(leads: pd.DataFrame, stage: str, caller: str) -> list[tuple[str, str]]:
    names = [n for n, _ in STAGES]
    if stage not in names:
        raise ValueError(f"{caller}: unknown stage {stage!r}; use one of {', '.join(names)}")
    spec = stages_in(leads)
    if stage not in [n for n, _ in spec]:
        raise ValueError(
            f"{caller}: leads.{dict(STAGES)[stage]} is missing, so no lead can reach {stage!r}"
        )
    return spec


def leads_reached(leads: pd.DataFrame, stage: str, *, as_of=None) -> pd.Series:
    """Whether each lead reached ``stage`` (or a later one) by ``as_of``.

    The stages are those whose columns ``leads`` has (:func:`stages_in`); the rules are those
    of :mod:`salesmkt.data.stages`: a lead with stage timestamps out of order reached nothing
    and is counted in ``attrs["n_excluded"]``.

    Returns
    -------
    Series
        Booleans on the index of ``leads``, named ``stage``; ``attrs`` holds ``as_of`` and
        ``n_excluded``.

    Examples
    --------
    >>> import salesmkt
    >>> r = leads_reached(salesmkt.load_sample().leads, "customer")
    >>> int(r.sum()), r.attrs["n_excluded"]
    (145, 22)
    """
    spec = _stage_spec(leads, stage, "leads_reached")
    e = stage_entries(leads, stages=spec, as_of=as_of, caller="leads_reached")
    out = pd.Series(e[stage].notna().to_numpy(), index=leads.index, name=stage)
    out.attrs.update(as_of=e.attrs["as_of"], n_excluded=int(e["excluded"].sum()))
    return out


def reached_stage(dataset, stage: str | None, *, as_of=None):
    """The dataset with only the leads that reached ``stage`` (or a later one); ``None`` keeps
    every lead.

    For analyses of one part of the funnel, e.g. personas of the leads that became customers.
    "Reached" is :func:`leads_reached`: by ``as_of`` (default: the latest stage timestamp), leads
    with stage timestamps out of order left out. The other tables are kept whole. The kept
    leads' ``attrs`` say ``stage``, ``as_of`` and ``n_excluded`` (leads left out because their
    stage timestamps are out of order).

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> won = reached_stage(ds, "customer")
    >>> len(won.leads), won.leads.attrs["n_excluded"]
    (145, 22)
    """
    if stage is None:
        return dataset
    if dataset.leads is None:
        raise ValueError("reached_stage: the dataset has no leads table")
    r = leads_reached(dataset.leads, stage, as_of=as_of)
    kept = dataset.leads[r.to_numpy()].reset_index(drop=True)
    kept.attrs.update(stage=stage, as_of=r.attrs["as_of"], n_excluded=r.attrs["n_excluded"])
    return replace(dataset, leads=kept)


def _segments(leads: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    seg = pd.DataFrame(index=leads.index)
    for col in by:
        seg[col] = leads[col].astype("string").fillna(MISSING).to_numpy()
    return seg
