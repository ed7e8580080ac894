"""Small vectorised helpers shared by the sample generator's private modules.

Times are handled as float64 seconds since the Unix epoch (UTC) with ``NaN`` for "never",
and turned into ``datetime64[ns, UTC]`` only when the tables are assembled.
"""

from __future__ import annotations

import numpy as np

from salesmkt.data.schema import CHANNELS
from salesmkt.sample.config import (
    CAMPAIGNS,
    DAY,
    END,
    LATE_DEC,
    MONTH_FACTOR,
    OTHER_COSTS,
    START,
    TREND,
    WEEKEND,
)

CH = {c: i for i, c in enumerate(CHANNELS)}


def ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n; the width grows if n needs more digits."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def lognormal(rng: np.random.Generator, median, sigma, size=None) -> np.ndarray:
    """Lognormal draws given the median rather than the log-mean."""
    return rng.lognormal(np.log(median), sigma, size)


def day_starts() -> np.ndarray:
    """Midnight of every day in [START, END) as epoch seconds."""
    return np.arange(START, END, DAY)


def seasonal_weights(days: np.ndarray) -> np.ndarray:
    """Relative lead/traffic intensity of each day: month, late December, weekend, trend."""
    d = days.astype("datetime64[s]").astype("datetime64[D]")
    month = d.astype("datetime64[M]").astype(int) % 12
    dom = (d - d.astype("datetime64[M]")).astype(int) + 1
    weekday = (d.astype(int) + 3) % 7  # Monday = 0
    w = MONTH_FACTOR[month].copy()
    w[(month == 11) & (dom >= 20)] *= LATE_DEC
    w[weekday >= 5] *= WEEKEND
    w *= 1.0 + TREND * (days - START) / (END - START)
    return w / w.sum()


def business_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day, peaking in European/American office hours (UTC)."""
    hour = np.where(rng.random(n) < 0.85, rng.normal(14.5, 3.2, n), rng.uniform(0, 24, n))
    return np.floor(np.clip(hour, 0, 23.999) * 3600.0)


def seasonal_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` timestamps in [START, END) following :func:`seasonal_weights`."""
    days = day_starts()
    return days[rng.choice(len(days), size=n, p=seasonal_weights(days))] + business_seconds(rng, n)


def floor_s(x: np.ndarray) -> np.ndarray:
    """Whole seconds (keeps NaN)."""
    return np.floor(x)


def campaign_windows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per campaign: channel index, start, end (exclusive, seconds), CPL (NaN: none), weight."""
    chan = np.array([CH[c[1]] for c in CAMPAIGNS])
    start = np.array([np.datetime64(c[5], "s").astype(np.int64) for c in CAMPAIGNS], float)
    end = np.array([np.datetime64(c[6], "s").astype(np.int64) for c in CAMPAIGNS], float) + DAY
    cpl = np.array([np.nan if c[7] is None else c[7] for c in CAMPAIGNS])
    weight = np.array([c[9] for c in CAMPAIGNS], float)
    return chan, start, end, cpl, weight


def pick_campaign(
    rng: np.random.Generator, channel: np.ndarray, ts: np.ndarray, *, organic_share: bool = True
) -> np.ndarray:
    """A campaign of ``channel`` active at ``ts`` (weighted), or None.

    Channels without campaigns (organic search, direct, other) get None. For organic social
    and referral the campaign weight is also the probability of having one at all when
    ``organic_share`` is set.
    """
    chan, start, end, _, weight = campaign_windows()
    names = np.array([c[0] for c in CAMPAIGNS], dtype=object)
    active = (
        (chan[None, :] == channel[:, None])
        & (start[None, :] <= ts[:, None])
        & (ts[:, None] < end[None, :])
    )
    w = active * weight[None, :]
    total = w.sum(axis=1)
    out = np.full(len(channel), None, dtype=object)
    has = total > 0
    if has.any():
        out[has] = names[choice_rows(rng, w[has])]
    if organic_share:
        partial = np.isin(channel, [CH["organic_social"], CH["referral"]])
        keep = rng.random(len(channel)) < np.where(partial, total, 1.0)
        out[~keep] = None
    return out


def other_costs() -> dict[str, float]:
    """Planted costs beyond spend per month ``{"2025-01": amount, ...}`` over [START, END)."""
    months = np.arange(
        np.datetime64(START, "s").astype("datetime64[M]"),
        np.datetime64(END, "s").astype("datetime64[M]"),
    )
    out = {}
    for m in months.astype(str):
        out[m] = float(sum(amount for first, _, amount in OTHER_COSTS if first <= m))
    return out
