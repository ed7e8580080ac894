"""Event funnels: how many people go from step to step, how fast, and where they drop.

``funnel`` counts the persons who reached each step of an ordered list of events within a
conversion window; ``funnel_trends`` does it per entry period; ``time_to_convert`` gives the
durations between two steps. The ``plot_*`` functions in :mod:`salesmkt.funnels.plots` draw
them.

Semantics (see the event funnel page, docs/semantics/funnels.md; the choices are the ones of ClickHouse ``windowFunnel``
unless stated):

* **ordered** (default): a person reaches step *k* when some step-1 event starts a chain
  e1, e2, ..., ek of step events with each one at or after the previous one and
  ``ts(ek) - ts(e1) <= window`` (inclusive). Any step-1 event may start a chain
  (``entry="any"``), so the result is the best over all starts and never under-counts;
  ``entry="first"`` lets only the person's first step-1 event start one (Mixpanel's uniques).
* **ties**: events at the same timestamp count in step order (a step-2 event at the very time
  of the step-1 event counts), and one event that matches two steps (``["view", "view"]``)
  serves both, as in windowFunnel; ``strict_increase=True`` demands a strictly later time for
  every next step (then one event can never serve two steps).
* **strict**: the steps must be consecutive events of the person: any other row of ``events``
  in between breaks the chain (so filter ``events`` first to the events you track). Rows are
  ordered by time, then step number, with non-step rows first at equal times (windowFunnel's
  ``strict_order`` sort); the best chain over all starts counts. A repeated step breaks the
  chain as well (A-B-C-B-D reaches 3, as ``strict_deduplication``).
* **any**: a person reaches step *k* when events of steps 1..k all fall in one window
  (measured from the earliest of them); times "from step 1" are then to the moment the first k
  steps were all done.
* **max_gap**: a step counts only if the chain's next occurrence of it (the earliest at or after
  the previous step) comes within the gap after the previous step.
* **exclude**: a chain is void when an exclusion event falls strictly after its step *i* and
  strictly before its step *j* (or, when it never reached *j*, within its window). A person
  counts with their deepest non-void chain; persons whose every chain is void are left out of
  every step and counted in ``n_excluded`` (PostHog drops them from the funnel).
* **the counted chain** of a person (times, breakdown value) is the deepest one; among equals
  the latest start (the most recent attempt; windowFunnel also keeps the latest start).
* **in_window**: persons who stopped at the previous step but still have an open chain (its
  window had not closed at ``as_of``, by default the last timestamp in ``events``), so they may
  still convert: they are included in ``drop_off``, and shown apart so nobody reads them as lost.

Events are a pandas DataFrame (run by DuckDB in-process) or an Ibis table on any backend
(DuckDB, Spark, Postgres, ...), where the computation runs in place. Rows with no person or no
timestamp cannot be placed in a funnel: they are counted in ``n_invalid_rows``.

Examples
--------
>>> import salesmkt
>>> ev = salesmkt.load_sample().events
>>> steps = ["visit_pricing", "start_trial", "activate", "purchase"]
>>> table = funnel(ev, steps, window="30D")
>>> table[["step", "step_name"]].to_dict("list")["step_name"]
['visit_pricing', 'start_trial', 'activate', 'purchase']
>>> bool(table["persons"].is_monotonic_decreasing)
True
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from salesmkt.data import periods as _periods
from salesmkt.funnels._run import run as _run
from salesmkt.funnels._spec import FunnelSpec

__all__ = ["funnel", "funnel_trends", "time_to_convert"]


def _ratio(num, den) -> float:
    return float(num) / float(den) if den else np.nan


def _median(durations: np.ndarray):
    """``pd.Series(durations).median()`` without the Series: the median of the nanoseconds as
    floats, truncated to whole nanoseconds (as pandas does); NaT when empty."""
    if not len(durations):
        return pd.NaT
    return pd.Timedelta(int(np.median(durations.view("int64").astype("float64"))))


def _summary(spec: FunnelSpec, persons: pd.DataFrame) -> list[dict]:
    rows = []
    excluded = persons["void"].astype(bool)
    counted = persons[~excluded]
    depth = counted["depth"].to_numpy()
    open_ = counted["open"].astype(bool).to_numpy()
    reached = [int((depth >= k + 1).sum()) for k in range(spec.n)]
    times = [counted[f"t{k}"].to_numpy("datetime64[ns]") for k in range(spec.n)]  # UTC
    for k in range(spec.n):
        at = depth >= k + 1
        prev = reached[k - 1] if k else reached[0]
        if k:
            from_prev = _median(times[k][at] - times[k - 1][at])
            from_first = _median(times[k][at] - times[0][at])
        else:
            from_prev = from_first = pd.NaT
        rows.append(
            {
                "step": k + 1,
                "step_name": spec.labels[k],
                "persons": reached[k],
                "conversion_from_previous": _ratio(reached[k], prev),
                "conversion_from_first": _ratio(reached[k], reached[0]),
                "drop_off": prev - reached[k],
                "drop_off_rate": _ratio(prev - reached[k], prev),
                "in_window": int(((depth == k) & open_).sum()) if k else 0,
                "median_time_from_previous": pd.Timedelta(from_prev),
                "median_time_from_first": pd.Timedelta(from_first),
                "n_excluded": int(excluded.sum()),
            }
        )
    return rows


def funnel(
    events: pd.DataFrame | ir.Table,
    steps: list,
    *,
    window,
    person_col: str = "person_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order: str = "ordered",
    entry: str = "any",
    by: str | None = None,
    attribution: str = "first",
    exclude=None,
    max_gap=None,
    strict_increase: bool = False,
    as_of=None,
    method: str = "auto",
) -> pd.DataFrame:
    """Persons reaching each step of a funnel, with conversion, drop-off and time to convert.

    Parameters
    ----------
    events : DataFrame or ibis.Table
        One row per event, with ``person_col``, ``ts_col`` and ``event_col``.
    steps : list
        Event names in funnel order; a step may also be ``(label, names)`` with a list of event
        names, or ``(label, f)`` with ``f(table) -> boolean Ibis column`` (e.g.
        ``("pricing", lambda t: t.page.startswith("/pricing"))``).
    window : str or timedelta
        Conversion window measured from step 1, inclusive, e.g. ``"30D"``.
    order : {"ordered", "strict", "any"}
        See the module docstring for the exact rules.
    entry : {"any", "first"}
        Which step-1 events may start a chain: any of them (windowFunnel) or only each
        person's first one.
    by : str, optional
        A column of ``events`` to break the funnel down by. Each person counts in one group:
        the value on the event that starts their counted chain (``attribution="first"``) or on
        the deepest step it reached (``attribution="last"``). Missing values show as
        ``"(missing)"``.
    exclude : str, list, optional
        Exclusion events: a name (or list of names, or function) voids a chain when it happens
        between step 1 and the last step; ``(names, i, j)`` between steps ``i`` and ``j``
        (1-based).
    max_gap : str, timedelta, list or dict, optional
        Maximum time from each step to the next: one value for every step, a list with one
        value (or None) per step after the first, or ``{step_number: gap}``.
    strict_increase : bool
        Require strictly increasing times (no two steps at the same timestamp).
    as_of : timestamp, optional
        The moment "still in window" is judged at; default the last timestamp in ``events``.
    method : {"auto", "asof", "window", "kernel"}
        How the chains are computed; all give identical results. ``"kernel"``: DuckDB sorts
        the step events by person and time and one compiled pass per person follows the
        chains (ordered funnels without ``exclude`` or ``max_gap``; ``auto`` takes it on
        DuckDB from 100,000 events). ``"asof"``: SQL chains with DuckDB's ASOF join (``auto``
        on DuckDB otherwise). ``"window"``: SQL chains with window functions (``auto`` on
        other backends, e.g. Spark or PostgreSQL), which run where the data lives.

    Returns
    -------
    DataFrame
        One row per step (and per ``by`` value, in a column named like ``by``): ``step``
        (1-based), ``step_name``, ``persons``, ``conversion_from_previous``,
        ``conversion_from_first``, ``drop_off`` (persons lost since the previous step),
        ``drop_off_rate``, ``in_window`` (of the drop-off, those who may still convert),
        ``median_time_from_previous``, ``median_time_from_first`` (Timedeltas, over the persons
        who reached the step), ``n_excluded`` (persons removed by ``exclude``) and
        ``n_invalid_rows`` (rows without person or timestamp). Rates with a zero denominator
        are NaN. ``table.attrs["semantics"]`` says in words which rules were used.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> t = funnel(ev, ["visit_pricing", "start_trial", "activate", "purchase"], window="30D")
    >>> t.columns.tolist()[:4]
    ['step', 'step_name', 'persons', 'conversion_from_previous']
    >>> float(t["conversion_from_first"].iloc[0])
    1.0
    """
    spec, persons, invalid, end = _run(
        events, steps, "funnel", window=window, person_col=person_col, ts_col=ts_col,
        event_col=event_col, order=order, entry=entry, by=by, attribution=attribution,
        exclude=exclude, max_gap=max_gap, strict_increase=strict_increase, as_of=as_of,
        method=method,
    )  # fmt: skip
    if by is None:
        table = pd.DataFrame(_summary(spec, persons))
    else:
        rows = []
        for value, group in persons.groupby("b", sort=True):
            rows += [{by: value, **row} for row in _summary(spec, group)]
        cols = [by, *pd.DataFrame(_summary(spec, persons.iloc[:0])).columns]
        table = pd.DataFrame(rows, columns=cols)
    table["n_invalid_rows"] = invalid
    table.attrs["semantics"] = spec.describe()
    table.attrs["as_of"] = end
    return table


def funnel_trends(
    events: pd.DataFrame | ir.Table,
    steps: list,
    *,
    window,
    freq: str = "W",
    person_col: str = "person_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order: str = "ordered",
    entry: str = "any",
    exclude=None,
    max_gap=None,
    strict_increase: bool = False,
    as_of=None,
    method: str = "auto",
) -> pd.DataFrame:
    """Funnel conversion by entry cohort (the day, week, month... of the chain's start).

    For each period, the persons with a chain starting in it (a step-1 event in the period,
    for ordered and strict funnels), and how far the best chain starting in that period got.
    A person who started chains in several periods counts in each (PostHog's "historical
    trends"); with ``entry="first"`` only in the period of their first step-1 event. Recent
    cohorts are incomplete: ``in_window`` counts persons whose chains are still open.

    Parameters
    ----------
    freq : {"D", "W", "M", "Q", "Y"} or a word such as ``"week"``
        Day, week (starting Monday), calendar month, quarter or year
        (:mod:`salesmkt.data.periods`), in UTC for pandas input (for an Ibis table, in its
        backend session's time zone; set it to UTC for the same periods).
    **options
        As in :func:`funnel` (except breakdowns).

    Returns
    -------
    DataFrame
        One row per period and step: ``period`` (UTC timestamp of the period's start),
        ``step``, ``step_name``, ``persons``, ``conversion_from_previous``,
        ``conversion_from_first``, ``in_window`` (entered the period, stopped before this
        step, could still reach it), ``n_excluded``.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> tr = funnel_trends(ev, ["visit_pricing", "purchase"], window="30D", freq="M")
    >>> tr.columns.tolist()[:4]
    ['period', 'step', 'step_name', 'persons']
    """
    freq = _periods.check_freq(
        freq, allowed=_periods.SUPPORTED["funnel_trends"], caller="funnel_trends"
    )
    spec, counts, _, end = _run(
        events, steps, "funnel_trends", window=window, person_col=person_col, ts_col=ts_col,
        event_col=event_col, order=order, entry=entry, by=None, attribution="first",
        exclude=exclude, max_gap=max_gap, strict_increase=strict_increase, as_of=as_of,
        method=method, freq=freq,
    )  # fmt: skip
    rows = []
    for period, g in counts.groupby("period", sort=True):
        live = g[~g["void"].astype(bool)]
        depth, open_, n = live["depth"].to_numpy(), live["open"].astype(bool), live["persons"]
        reached = [int(n[depth >= k + 1].sum()) for k in range(spec.n)]
        for k in range(spec.n):
            prev = reached[k - 1] if k else reached[0]
            rows.append(
                {
                    "period": period,
                    "step": k + 1,
                    "step_name": spec.labels[k],
                    "persons": reached[k],
                    "conversion_from_previous": _ratio(reached[k], prev),
                    "conversion_from_first": _ratio(reached[k], reached[0]),
                    "in_window": int(n[(depth < k + 1) & open_.to_numpy()].sum()) if k else 0,
                    "n_excluded": int(g.loc[g["void"].astype(bool), "persons"].sum()),
                }
            )
    cols = ["period", "step", "step_name", "persons", "conversion_from_previous",
            "conversion_from_first", "in_window", "n_excluded"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols)
    table.attrs["semantics"] = spec.describe()
    table.attrs["freq"] = _periods.WORDS[freq]
    table.attrs["as_of"] = end
    return table


def _step_number(value, spec: FunnelSpec, name: str) -> int:
    if isinstance(value, str):
        if value not in spec.labels:
            raise ValueError(f"{name}={value!r} is not a step; steps are {spec.labels}")
        return spec.labels.index(value) + 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= spec.n:
        raise ValueError(f"{name} must be a step name or a number from 1 to {spec.n}")
    return value


def time_to_convert(
    events: pd.DataFrame | ir.Table,
    steps: list,
    *,
    window,
    from_step: int | str = 1,
    to_step: int | str | None = None,
    bins: int | None = None,
    person_col: str = "person_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order: str = "ordered",
    entry: str = "any",
    exclude=None,
    max_gap=None,
    strict_increase: bool = False,
    method: str = "auto",
) -> pd.DataFrame:
    """Time each person took from one step to another, within the funnel's rules.

    Durations are measured on each person's counted chain (see :func:`funnel`), for the
    persons who reached ``to_step``; they never exceed the window.

    Parameters
    ----------
    from_step, to_step : int or str
        Step numbers (1-based) or step names; ``to_step`` defaults to the last step.
    bins : int, optional
        Return a histogram with this many equal-width bins instead of one row per person.
    **options
        As in :func:`funnel`.

    Returns
    -------
    DataFrame
        Per person: ``person_col``, ``from_step``, ``to_step``, ``duration`` (Timedelta),
        ``hours``; sorted by duration. With ``bins``: ``bin_start``, ``bin_end`` (Timedeltas),
        ``persons``, ``share``. ``attrs["from_name"]``/``["to_name"]`` hold the step names.

    Examples
    --------
    >>> import salesmkt
    >>> ev = salesmkt.load_sample().events
    >>> ttc = time_to_convert(ev, ["visit_pricing", "purchase"], window="30D")
    >>> bool((ttc["duration"] <= pd.Timedelta("30D")).all())
    True
    """
    spec, persons, _, _ = _run(
        events, steps, "time_to_convert", window=window, person_col=person_col, ts_col=ts_col,
        event_col=event_col, order=order, entry=entry, by=None, attribution="first",
        exclude=exclude, max_gap=max_gap, strict_increase=strict_increase, as_of=None,
        method=method,
    )  # fmt: skip
    a = _step_number(from_step, spec, "from_step")
    b = _step_number(spec.n if to_step is None else to_step, spec, "to_step")
    if b <= a:
        raise ValueError(f"to_step ({b}) must come after from_step ({a})")
    done = persons[~persons["void"].astype(bool) & (persons["depth"] >= b)]
    duration = done[f"t{b - 1}"] - done[f"t{a - 1}"]
    out = pd.DataFrame(
        {
            person_col: done["p"].to_numpy(),
            "from_step": a,
            "to_step": b,
            "duration": duration.to_numpy(),
            "hours": (duration / pd.Timedelta(hours=1)).to_numpy(),
        }
    )
    out = out.sort_values(["duration", person_col], kind="stable").reset_index(drop=True)
    attrs = {"from_name": spec.labels[a - 1], "to_name": spec.labels[b - 1],
             "semantics": spec.describe()}  # fmt: skip
    if bins is None:
        out.attrs.update(attrs)
        return out
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive whole number, got {bins!r}")
    seconds = out["duration"].dt.total_seconds().to_numpy()
    hi = seconds.max() if len(seconds) and seconds.max() > 0 else 1.0
    counts, edges = np.histogram(seconds, bins=bins, range=(0.0, hi))
    hist = pd.DataFrame(
        {
            "bin_start": pd.to_timedelta(edges[:-1], unit="s"),
            "bin_end": pd.to_timedelta(edges[1:], unit="s"),
            "persons": counts.astype(int),
            "share": counts / counts.sum() if counts.sum() else np.full(bins, np.nan),
        }
    )
    hist.attrs.update(attrs)
    return hist
