"""Reporting periods: half-open UTC intervals ``[start, end)`` of a week, month or quarter.

Weeks start on Monday. A period is identified by its start (a tz-aware UTC Timestamp) and
labelled for people as ``2025-02`` (month), ``2025-Q1`` (quarter) or ``2025-W07`` (ISO week).
Private to the KPI modules.
"""

from __future__ import annotations

import pandas as pd

FREQS = {"W": "W-SUN", "M": "M", "Q": "Q-DEC"}
#: Average length of a period in months, to convert per-period money to per-month money.
MONTHS_PER_PERIOD = {"W": 7 / 30.436875, "M": 1.0, "Q": 3.0}


def check_freq(freq: str) -> str:
    """``freq`` upper-cased, or a ValueError naming the allowed values."""
    f = str(freq).upper()
    if f not in FREQS:
        raise ValueError(
            f"freq must be one of 'W', 'M' or 'Q' (week, month, quarter), got {freq!r}"
        )
    return f


def to_utc(value) -> pd.Timestamp | None:
    """A tz-aware UTC Timestamp from a string, date or Timestamp (naive values are read as UTC)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def floor(ts: pd.Series, freq: str) -> pd.Series:
    """Start of the period holding each timestamp (NaT stays NaT)."""
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None)
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
    """``2025-02``, ``2025-Q1`` or ``2025-W07`` for the period starting at ``start``."""
    if freq == "M":
        return f"{start:%Y-%m}"
    if freq == "Q":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


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
    else:
        ts = pd.Timestamp(text)
    return floor_one(to_utc(ts), freq)


#: Data that stops less than this before a period's end still counts the period as complete
#: (exports taken in the evening of the last day).
FULL_SLACK = pd.Timedelta(days=1)


def is_full(period_end, as_of):
    """Whether a period ending at ``period_end`` is complete by ``as_of`` (scalar or Series)."""
    return period_end <= as_of + FULL_SLACK
