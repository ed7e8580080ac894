"""Coercion of raw columns to the kinds of the data contract (private).

Each ``to_<kind>`` function takes a column as read and returns the coerced column and a mask of
the values that could not be read (timestamps also return a mask of values without a time
zone). :mod:`salesmkt.data.validate` turns the masks into findings.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def to_id(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_float_dtype(s):
        # ids read as floats (a numeric column with gaps): 123.0 -> "123"
        whole = s.dropna().mod(1).eq(0).all()
        if whole:
            s = s.astype("Int64")
    out = s.astype("string").str.strip()
    out = out.mask(out.eq(""))
    return out, pd.Series(False, index=s.index)


def to_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    return s.astype("string"), pd.Series(False, index=s.index)


def to_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float), pd.Series(False, index=s.index)
    out = pd.to_numeric(s, errors="coerce").astype("float64")
    out = out.where(~np.isinf(out))  # "inf", 1e400: not a usable number
    bad = out.isna() & s.notna() & s.astype("string").str.strip().ne("")
    return out, bad


def to_count(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    num, bad = to_number(s)
    frac = num.notna() & num.mod(1).ne(0)
    num = num.where(~frac)
    return num.round().astype("Int64"), bad | frac


def to_flag(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), pd.Series(False, index=s.index)
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE).fillna(False)] = False
    bad = out.isna() & text.notna() & text.ne("")
    return out, bad


def _numbers(s: pd.Series) -> pd.Series:
    """True where a value is a number or a boolean (not a timestamp, whatever pandas thinks)."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.notna()
    if s.dtype == object:
        return s.map(lambda v: isinstance(v, int | float | np.number | bool) and not pd.isna(v))
    return pd.Series(False, index=s.index)


def _parse_timestamps(s: pd.Series) -> pd.Series:
    s = s.mask(_numbers(s))  # unreadable (reported), not nanoseconds after 1970
    parsed = _in_ns_range(pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601"))
    retry = parsed.isna() & s.notna()
    if retry.any():
        again = pd.to_datetime(s[retry], errors="coerce", utc=True, format="mixed")
        parsed[retry] = _in_ns_range(again)
    return parsed


def _naive_mask(s: pd.Series) -> pd.Series:
    """True where a value carries no time zone."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return pd.Series(False, index=s.index)
    if pd.api.types.is_datetime64_dtype(s):
        return s.notna()
    text = s.astype("string").str.strip()
    has_zone = text.str.contains(_TZ_SUFFIX, na=False)
    naive = text.notna() & text.ne("") & ~has_zone
    if s.dtype == object:  # python datetimes or pandas Timestamps mixed into a column
        naive &= ~s.map(lambda v: getattr(v, "tzinfo", None) is not None).astype(bool)
    return naive


def to_timestamp(s: pd.Series, tz: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    naive = _naive_mask(s) & ~_numbers(s)
    work = s
    if tz is not None and naive.any():
        local = pd.to_datetime(s[naive], errors="coerce", format="mixed")
        work = s.astype(object).copy()
        work[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        naive = pd.Series(False, index=s.index)
    out = _in_ns_range(_parse_timestamps(work))
    # judged against the values as given, so that a value the zone could not place is reported
    bad = out.isna() & s.notna() & s.astype("string").str.strip().ne("")
    return out, bad, naive & ~bad


def _in_ns_range(parsed: pd.Series) -> pd.Series:
    """As ``datetime64[ns, UTC]``; times outside 1677-2262 do not fit and become unreadable."""
    lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    return parsed.where(parsed.isna() | parsed.between(lo, hi)).astype("datetime64[ns, UTC]")


def to_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    out = _in_ns_range(_parse_timestamps(s).dt.floor("D"))
    bad = out.isna() & s.notna() & s.astype("string").str.strip().ne("")
    return out, bad


def to_category(s: pd.Series, values: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    text = s.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    text = text.mask(text.eq(""))
    text = text.str.removeprefix("closed_")  # CRM exports say "Closed Won"
    bad = text.notna() & ~text.isin(values)
    return text.where(~bad), bad
