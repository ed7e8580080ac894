"""The period a row belongs to: half-open UTC intervals ``[start, end)``, frequency codes, labels.

This module is the one home of period arithmetic. Every function that buckets rows by period
(KPIs, cohorts, funnel trends, spend per period, the data check's monthly volume, the report
period) floors timestamps here, so the same row lands in the same period everywhere.

Vocabulary
----------
Every public function speaks the same keywords:

``start``, ``end``
    A period as the half-open interval ``[start, end)`` in UTC: a row at
    ``2025-03-31T23:59:59Z`` is in March, one at ``2025-04-01T00:00Z`` in April. Naive dates
    and timestamps are read as UTC.
``freq``
    A frequency: one code of :data:`CODES` or a plain word (:data:`ALIASES`), in any case:

    ======  ===========================  ==================
    code    words                        period label
    ======  ===========================  ==================
    ``D``   ``day``, ``daily``           ``2025-03-31``
    ``W``   ``week``, ``weekly``         ``2025-W14`` (ISO week, starting Monday)
    ``M``   ``month``, ``monthly``       ``2025-03``
    ``Q``   ``quarter``, ``quarterly``   ``2025-Q1``
    ``Y``   ``year``, ``yearly``         ``2025``
    ======  ===========================  ==================

    Each function says which codes it supports (:data:`SUPPORTED`); another code gets a
    ValueError naming the function, the keyword, the value and the accepted values.
``as_of``
    A cut-off: what the data knew at that time (stages reached, periods complete).

Two keywords keep another name on purpose: :func:`salesmkt.scorecard`'s ``period`` names *one*
period by its label (``2025-02``) rather than an interval, and durations (``window``,
``lookback_days``) are lengths of time, not periods. Older keywords (``period_start``,
``period_end``, ``lifecycle_funnel(cohort=...)``) still work for one release with a
DeprecationWarning naming the new keyword (:func:`renamed_keywords`).

Examples
--------
>>> import pandas as pd
>>> ts = pd.Series(pd.to_datetime(["2025-03-31T23:59:59Z", "2025-04-01T00:00:00Z"]))
>>> period_label(ts, "month").tolist()
['2025-03', '2025-04']
>>> check_freq("Quarterly", caller="kpi_table")
'Q'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import pandas as pd

#: The average length of a month in days (a year of 365.25 days over 12).
DAYS_PER_MONTH = 365.25 / 12
#: Words of a ``billing_period`` / ``term`` column and the months they cover.
TERM_WORDS: dict[str, float] = {
    "monthly": 1,
    "month": 1,
    "quarterly": 3,
    "quarter": 3,
    "semiannual": 6,
    "half-yearly": 6,
    "annual": 12,
    "annually": 12,
    "yearly": 12,
    "year": 12,
    "biennial": 24,
}

#: The frequency codes, each with its pandas period alias (weeks end on Sunday: Monday start).
FREQS = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}
CODES = tuple(FREQS)
#: Plain words accepted for each code (codes themselves are accepted in any case).
WORDS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
ALIASES = {
    **{w: c for c, w in WORDS.items()},
    **{("daily" if w == "day" else f"{w}ly"): c for c, w in WORDS.items()},
}
#: The codes each public function accepts for its ``freq``.
SUPPORTED = {
    "kpi_table": ("W", "M", "Q"),
    "sla_report": ("W", "M", "Q"),
    "kpis.yml": ("W", "M", "Q"),
    "report_period": CODES,
    "cohort_retention": ("W", "M", "Q", "Y"),
    "lifecycle_funnel": CODES,
    "funnel_trends": CODES,
    "spend_metrics": CODES,
    "first_order_cohort": ("W", "M", "Q", "Y"),
    "order_customer_type": ("W", "M", "Q", "Y"),
    "active_customers": ("W", "M", "Q", "Y"),
    "customer_retention": ("W", "M", "Q", "Y"),
    "revenue_retention": ("W", "M", "Q", "Y"),
}
#: Average length of a period in months, to convert per-period money to per-month money.
MONTHS_PER_PERIOD = {"D": 1 / 30.436875, "W": 7 / 30.436875, "M": 1.0, "Q": 3.0, "Y": 12.0}
#: The unit of Ibis's ``truncate`` for each code (weeks start on Monday there too).
IBIS_UNITS = {"D": "D", "W": "W", "M": "M", "Q": "Q", "Y": "Y"}


def _accepted(allowed: Iterable[str]) -> str:
    items = [f"{c!r} ({WORDS[c]})" for c in allowed]
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


def check_freq(
    freq, *, allowed: Iterable[str] = ("W", "M", "Q"), keyword: str = "freq", caller: str = ""
) -> str:
    """The frequency code (``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``) of a code or word.

    Parameters
    ----------
    freq : str
        A code in any case, or a word of :data:`ALIASES` (``"month"``, ``"weekly"``).
    allowed : iterable of str
        The codes the caller supports.
    keyword, caller : str
        Named in the error.

    Raises
    ------
    ValueError
        Naming the caller, the keyword, the value and the accepted values.

    Examples
    --------
    >>> check_freq("week"), check_freq("m")
    ('W', 'M')
    >>> check_freq("D", caller="kpi_table")
    Traceback (most recent call last):
    ...
    ValueError: kpi_table: freq='D' is not supported; use 'W' (week), 'M' (month) or 'Q' (quarter) (codes in any case, or the words week, month, quarter)
    """
    allowed = tuple(allowed)
    text = str(freq).strip()
    code = text.upper() if text.upper() in FREQS else ALIASES.get(text.lower())
    if code is None or code not in allowed:
        where = f"{caller}: " if caller else ""
        problem = "is not supported" if code else "is not a frequency"
        words = ", ".join(WORDS[c] for c in allowed)
        raise ValueError(
            f"{where}{keyword}={freq!r} {problem}; use {_accepted(allowed)} "
            f"(codes in any case, or the words {words})"
        )
    return code


def renamed_keywords(caller: str, given: Mapping, renames: Mapping[str, str], **current) -> dict:
    """The current keywords' values, taking deprecated keywords in ``given`` into account.

    A public function collects unknown keywords with ``**deprecated`` and passes them here with
    ``renames`` (old name -> new name) and its current keywords' values. Each old keyword
    emits a DeprecationWarning naming the new one and sets it; giving both, or a keyword that is
    neither, is a TypeError.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     kw = renamed_keywords("f", {"period_start": "2025-01-01"},
    ...                           {"period_start": "start"}, start=None)
    >>> kw, str(w[0].message)
    ({'start': '2025-01-01'}, "f: the keyword 'period_start' is deprecated; use 'start'")
    """
    out = dict(current)
    for old, value in given.items():
        if old not in renames:
            raise TypeError(f"{caller}() got an unexpected keyword argument {old!r}")
        new = renames[old]
        warnings.warn(
            f"{caller}: the keyword {old!r} is deprecated; use {new!r}",
            DeprecationWarning,
            stacklevel=3,
        )
        if out.get(new) is not None:
            raise TypeError(f"{caller}: give {new!r} only (not also the old name {old!r})")
        out[new] = value
    return out


def to_utc(value) -> pd.Timestamp | None:
    """A tz-aware UTC Timestamp from a string, date or Timestamp (naive values are read as UTC)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def within(ts: pd.Series, start=None, end=None) -> pd.Series:
    """Whether each timestamp is in the half-open interval ``[start, end)``; None: unbounded.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2025-03-31T23:59:59Z", "2025-04-01T00:00:00Z"]))
    >>> within(ts, "2025-03-01", "2025-04-01").tolist()
    [True, False]
    """
    ts = pd.to_datetime(ts, utc=True)
    inside = pd.Series(True, index=ts.index)
    lo, hi = to_utc(start), to_utc(end)
    if lo is not None:
        inside &= (ts >= lo).fillna(False)
    if hi is not None:
        inside &= (ts < hi).fillna(False)
    return inside


def floor(ts: pd.Series, freq: str) -> pd.Series:
    """Start of the period holding each timestamp (NaT stays NaT)."""
    naive = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    start = naive.dt.to_period(FREQS[freq]).dt.start_time
    return start.dt.tz_localize("UTC")


def floor_one(ts: pd.Timestamp, freq: str) -> pd.Timestamp:
    """Start of the period holding one timestamp."""
    return floor(pd.Series([ts]), freq).iloc[0]


def shift(start: pd.Timestamp, freq: str, n: int = 1) -> pd.Timestamp:
    """The start of the period ``n`` periods after the one starting at ``start``."""
    p = start.tz_convert("UTC").tz_localize(None).to_period(FREQS[freq]) + n
    return p.start_time.tz_localize("UTC")


def label(start: pd.Timestamp, freq: str) -> str:
    """``2025-03-31``, ``2025-W07``, ``2025-02``, ``2025-Q1`` or ``2025`` for a period's start."""
    if freq == "D":
        return f"{start:%Y-%m-%d}"
    if freq == "M":
        return f"{start:%Y-%m}"
    if freq == "Q":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if freq == "Y":
        return f"{start.year}"
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def period_label(ts: pd.Series, freq: str) -> pd.Series:
    """The label of the period holding each timestamp (missing for NaT).

    ``freq`` is a code or word of :data:`ALIASES`; naive timestamps are read as UTC.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2025-03-30T23:00:00Z", "2025-03-31T00:00:00Z", None]))
    >>> period_label(ts, "W").tolist()
    ['2025-W13', '2025-W14', nan]
    """
    code = check_freq(freq, allowed=CODES, caller="period_label")
    starts = floor(ts, code)
    return starts.map(lambda s: label(s, code) if pd.notna(s) else float("nan"))


def period_frame(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DataFrame:
    """Every period overlapping ``[start, end)``: columns ``period, period_start, period_end``.

    ``start`` is floored to its period; a period is included when it starts before ``end``.
    """
    first = floor_one(start, freq)
    starts = []
    s = first
    while s < end:
        starts.append(s)
        s = shift(s, freq)
    starts = starts or [first]
    return pd.DataFrame(
        {
            "period": [label(s, freq) for s in starts],
            "period_start": pd.DatetimeIndex(starts),
            "period_end": pd.DatetimeIndex([shift(s, freq) for s in starts]),
        }
    )


def parse_period(value, freq: str) -> pd.Timestamp:
    """The start of the period a label (``2025-02``, ``2025-Q1``, ``2025-W07``) or date falls in."""
    text = str(value)
    if freq == "W" and "-W" in text:
        year, week = text.split("-W")
        ts = pd.Timestamp.fromisocalendar(int(year), int(week), 1)
    elif freq == "Q" and "-Q" in text:
        year, q = text.split("-Q")
        ts = pd.Timestamp(int(year), 3 * int(q) - 2, 1)
    elif freq == "Y" and text.isdigit():
        ts = pd.Timestamp(int(text), 1, 1)
    else:
        ts = pd.Timestamp(text)
    return floor_one(to_utc(ts), freq)


#: Data that stops less than this before a period's end still counts the period as complete
#: (exports taken in the evening of the last day).
FULL_SLACK = pd.Timedelta(days=1)


def is_full(period_end, as_of):
    """Whether a period ending at ``period_end`` is complete by ``as_of`` (scalar or Series)."""
    return period_end <= as_of + FULL_SLACK
