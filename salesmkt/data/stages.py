"""Stage entry times of CRM leads: the shared core of the lifecycle funnel and the funnel KPIs.

Private to :mod:`salesmkt.funnels.lifecycle` (which re-exports :func:`stage_entries`) and the KPI
modules. Semantics: see :mod:`salesmkt.funnels.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.data.schema import STAGES
from salesmkt.data.validate import check_columns

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
        Stage names from :data:`salesmkt.data.schema.STAGES` or ``(name, column)`` pairs, in funnel
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
    >>> from salesmkt.funnels.lifecycle import stage_entries
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
