"""Helpers shared by the vendor loaders: header matching, missing-column errors, vendor values.

Everything here reads; nothing writes. Errors name the file, the canonical table and column,
and the problem, so that a user can fix the export without reading a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from salesmkt.data.channels import normalize_channels
from salesmkt.data.validate import Finding, ValidationError

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|[+-]\d{2}|\s(?:UTC|GMT))$", re.IGNORECASE)
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")
_EPOCH_MS = re.compile(r"^\d{12,13}$")
_TRUE = {"true", "t", "yes", "y", "1", "x", "checked", "won"}
_FALSE = {"false", "f", "no", "n", "0", "unchecked", ""}


def header_key(name: object) -> str:
    """A header in comparable form: lower case, single spaces, ``property_`` prefix dropped."""
    text = re.sub(r"[\s_]+", " ", str(name).replace("\ufeff", "")).strip().lower()
    return text.removeprefix("property ")


# --- columns -------------------------------------------------------------------------------


class Header:
    """Case-insensitive lookup of an export's columns under their label or internal names."""

    def __init__(self, df: pd.DataFrame, file: str):
        self.df = df
        self.file = file
        self._by_key: dict[str, str] = {}
        for col in df.columns:
            self._by_key.setdefault(header_key(col), col)

    def find(self, names: Iterable[str]) -> str | None:
        """The first of ``names`` present in the export, as spelled in the file."""
        for name in names:
            hit = self._by_key.get(header_key(name))
            if hit is not None:
                return hit
        return None

    def get(self, names: Iterable[str]) -> pd.Series | None:
        col = self.find(names)
        return None if col is None else self.df[col]

    def need(self, names: Iterable[str], *, table: str, column: str) -> pd.Series:
        """The column under one of ``names``; a :class:`ValidationError` when it is absent."""
        names = list(names)
        col = self.find(names)
        if col is None:
            raise missing_column(self.file, list(self.df.columns), names, table, column)
        return self.df[col]


def missing_column(
    file: str, have: list[str], wanted: list[str], table: str, column: str
) -> ValidationError:
    """The error for an expected column that is not in the file, with the closest matches."""
    by_key = {header_key(h): h for h in have}
    close: list[str] = []
    for w in wanted:
        for key in difflib.get_close_matches(header_key(w), list(by_key), n=3, cutoff=0.6):
            if by_key[key] not in close:
                close.append(by_key[key])
    shown = ", ".join(repr(h) for h in have[:15]) + (" ..." if len(have) > 15 else "")
    hint = f"Closest in the file: {', '.join(map(repr, close[:3]))}. " if close else ""
    return ValidationError(
        [
            Finding(
                table,
                column,
                f"{file} has no column {' or '.join(map(repr, wanted[:3]))} (the file has: "
                f"{shown or 'no columns'})",
                1,
                hint=hint + "Export the column too, or rename it in a copy of the file, or load "
                "the file with a column mapping (salesmkt map --init).",
            )
        ]
    )


def bad_values(file: str, table: str, column: str, problem: str, raw: pd.Series, mask) -> None:
    """Raise a :class:`ValidationError` listing the first offending rows of ``raw``."""
    mask = pd.Series(np.asarray(mask, dtype=bool), index=raw.index)
    if not mask.any():
        return
    pos = np.flatnonzero(mask.to_numpy())[:3]
    raise ValidationError(
        [
            Finding(
                table,
                column,
                f"{file}: {int(mask.sum())} {problem} in column {raw.name!r}",
                int(mask.sum()),
                tuple(int(p) for p in pos),
                tuple(repr(str(v)) for v in raw.iloc[pos]),
                hint="Fix them in the CRM or in a copy of the export.",
            )
        ]
    )


# --- values --------------------------------------------------------------------------------


def _dayfirst(text: pd.Series) -> bool | None:
    parts = text.str.extract(_SLASHED)
    if parts.empty or parts[0].isna().all():
        return None
    first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
    if (first > 12).any():
        return True
    if (second > 12).any():
        return False
    return None


def parse_times(
    raw: pd.Series | None,
    *,
    tz: str | None,
    file: str,
    table: str,
    column: str,
    dayfirst: bool | None = None,
    notes: list[Finding] | None = None,
) -> pd.Series:
    """Vendor timestamps as UTC.

    Values with an offset (``Z``, ``+01:00``) are converted; epoch milliseconds are UTC;
    values with a clock time and no offset are local times in ``tz`` (an error without it);
    date-only values are calendar days, kept as UTC midnight of that day (not shifted by
    ``tz``). ``dayfirst`` settles ``03/04/2024``; by default it is inferred from values such as
    ``15/03/2024`` and, when every value is ambiguous, month first (en_US) is assumed and noted.
    """
    if raw is None:
        return pd.Series(pd.NaT, dtype="datetime64[ns, UTC]")
    text = raw.astype("string").str.strip()
    text = text.mask(text.eq(""))
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    present = text.notna()
    if not present.any():
        return out
    epoch = present & text.str.fullmatch(_EPOCH_MS).fillna(False)
    if epoch.any():
        out[epoch] = pd.to_datetime(text[epoch].astype("int64"), unit="ms", utc=True)
    rest = present & ~epoch
    if dayfirst is None:
        dayfirst = _dayfirst(text[rest].dropna())
        if dayfirst is None and text[rest].str.match(_SLASHED).fillna(False).any():
            dayfirst = False
            if notes is not None:
                notes.append(
                    Finding(
                        table,
                        column,
                        f"{file}: dates such as {text[rest].dropna().iloc[0]!r} read month first "
                        "(US format)",
                        0,
                        severity="warning",
                        action="Pass dayfirst=True if the export used day/month/year",
                    )
                )
    aware = rest & text.str.contains(_OFFSET).fillna(False)
    timed = rest & ~aware & text.str.contains(_HAS_TIME).fillna(False)
    dated = rest & ~aware & ~timed

    def parse(mask, **kw):
        values = text[mask].str.replace(r"\s(?:UTC|GMT)$", "Z", regex=True)
        parts = values.str.extract(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})(.*)$")
        slashed = parts[0].notna()
        if slashed.any():  # locale dates: put them in ISO order so the parser cannot swap them
            day, month = (parts[0], parts[1]) if dayfirst else (parts[1], parts[0])
            year = parts[2].where(parts[2].str.len() == 4, "20" + parts[2])
            iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[3]
            values = values.where(~slashed, iso)
        try:
            res = pd.to_datetime(values, format="ISO8601", errors="raise", **kw)
        except (ValueError, TypeError, OverflowError):
            res = pd.to_datetime(
                values, format="mixed", errors="coerce", dayfirst=bool(dayfirst), **kw
            )
        # years outside 1677-2262 do not fit nanoseconds: unreadable, reported below
        lo, hi = pd.Timestamp.min, pd.Timestamp.max
        if res.dt.tz is not None:
            lo, hi = lo.tz_localize("UTC"), hi.tz_localize("UTC")
        return res.where(res.isna() | res.between(lo, hi)).astype(
            "datetime64[ns, UTC]" if res.dt.tz is not None else "datetime64[ns]"
        )

    if aware.any():
        out[aware] = parse(aware, utc=True)
    if timed.any():
        if tz is None:
            pos = np.flatnonzero(timed.to_numpy())[:3]
            raise ValidationError(
                [
                    Finding(
                        table,
                        column,
                        f"{file}: {int(timed.sum())} times without a time zone in column "
                        f"{raw.name!r}",
                        int(timed.sum()),
                        tuple(int(p) for p in pos),
                        tuple(repr(str(v)) for v in text.iloc[pos]),
                        hint="CRM exports write local times. Pass the zone they were exported "
                        "in, e.g. salesmkt.load(path, source=..., tz='Europe/Paris') or "
                        "--tz Europe/Paris (HubSpot: Settings > Account Defaults > Time Zone; "
                        "Salesforce: the exporting user's time zone).",
                    )
                ]
            )
        local = parse(timed)
        try:
            local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        except Exception as exc:  # unknown zone names raise from zoneinfo/pytz
            raise ValueError(f"tz={tz!r} is not a time zone name ({exc}).") from None
        out[timed] = local.dt.tz_convert("UTC")
    if dated.any():
        out[dated] = parse(dated).dt.tz_localize("UTC")
    bad = present & out.isna()
    # a local time that does not exist or is ambiguous (DST change) is NaT too: report it
    bad_values(file, table, column, "values that are not dates or times", raw, bad)
    return out.astype("datetime64[ns, UTC]")


def parse_amounts(raw: pd.Series | None, *, file: str, table: str, column: str) -> pd.Series:
    """Money as float: ``1,500.00``, ``1.500,00``, ``$1,500``, ``EUR 1500``, ``(100.00)``.

    The last of ``,`` and ``.`` in a value is its decimal separator; a lone ``,`` followed by
    exactly three digits groups thousands. Values that are not finite numbers are an error.
    """
    if raw is None:
        return pd.Series(np.nan, dtype="float64")
    text = raw.astype("string").str.strip()
    text = text.mask(text.eq(""))
    negative = text.str.match(r"^\(.*\)$").fillna(False) | text.str.contains("^-|-$").fillna(False)
    digits = text.str.replace(r"[^\d.,eE+]", "", regex=True).str.lstrip("eE+")
    both = digits.str.contains(",").fillna(False) & digits.str.contains(r"\.").fillna(False)
    comma_last = digits.str.rfind(",") > digits.str.rfind(".")
    thousands_comma = digits.str.fullmatch(r"\d{1,3}(,\d{3})+").fillna(False)
    cleaned = digits.copy()
    cleaned[both & comma_last] = (
        digits[both & comma_last].str.replace(".", "", regex=False).str.replace(",", ".")
    )
    cleaned[both & ~comma_last] = digits[both & ~comma_last].str.replace(",", "", regex=False)
    only_comma = ~both & digits.str.contains(",").fillna(False)
    cleaned[only_comma & thousands_comma] = digits[only_comma & thousands_comma].str.replace(
        ",", "", regex=False
    )
    cleaned[only_comma & ~thousands_comma] = digits[only_comma & ~thousands_comma].str.replace(
        ",", ".", regex=False
    )
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    values = values.where(~negative, -values)
    bad = text.notna() & ~np.isfinite(values.fillna(0)) | (text.notna() & values.isna())
    bad_values(file, table, column, "values that are not amounts", raw, bad)
    return values


def parse_flags(raw: pd.Series | None, *, file: str, table: str, column: str) -> pd.Series:
    """Check-box columns (``true``/``false``, ``1``/``0``, ``Yes``/``No``) as nullable booleans."""
    if raw is None:
        return pd.Series(pd.NA, dtype="boolean")
    text = raw.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False)] = True
    out[text.isin(_FALSE - {""}).fillna(False)] = False
    bad = text.notna() & text.ne("") & out.isna()
    bad_values(file, table, column, "values that are not true/false", raw, bad)
    return out


def first_id(raw: pd.Series | None) -> pd.Series | None:
    """The first id of an association list such as ``"101;102"`` (separator ``;`` or ``,``)."""
    if raw is None:
        return None
    first = raw.astype("string").str.split(r"[;,]", regex=True).str[0].str.strip()
    return first.mask(first.eq(""))


def clean_ids(raw: pd.Series) -> pd.Series:
    """Ids as text, blanks missing, ``123.0`` written as ``123``."""
    out = raw.astype("string").str.strip().str.replace(r"^(\d+)\.0$", r"\1", regex=True)
    return out.mask(out.eq(""))


def map_deal_types(
    raw: pd.Series,
    mapping: Mapping[str, str],
    *,
    file: str,
    notes: list[Finding],
    what: str = "deal types",
    action: str = "Left empty; the exported value is kept in deal_type_raw",
    key_pattern: str = r"\s+",
    key_join: str = " ",
) -> pd.Series:
    """Map a vendor's deal or opportunity type onto ``deals.deal_type``.

    Keys are compared lower-case with runs of ``key_pattern`` replaced by ``key_join``; values
    the mapping does not know stay missing and are reported once in ``notes``.
    """

    def norm(text):
        return text.str.strip().str.lower().str.replace(key_pattern, key_join, regex=True)

    keys = norm(pd.Series(list(mapping), dtype="string"))
    lookup = dict(zip(keys, mapping.values(), strict=True))
    key = norm(raw.astype("string"))
    mapped = key.map(lookup).astype("string")
    unknown = key.notna() & mapped.isna()
    if unknown.any():
        shown = ", ".join(sorted(set(raw[unknown].dropna()))[:3])
        notes.append(
            Finding(
                "deals",
                "deal_type",
                f"{file}: {int(unknown.sum())} {what} not mapped ({shown})",
                int(unknown.sum()),
                severity="warning",
                action=action,
            )
        )
    return mapped


def map_channels(raw: pd.Series | None, vendor_map: Mapping[str, str]) -> pd.Series | None:
    """Vendor source values onto the channel vocabulary (vendor table first, then synonyms)."""
    if raw is None:
        return None
    key = raw.astype("string").str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    mapped = key.map(dict(vendor_map)).astype("string")
    generic, unknown = normalize_channels(raw)
    # unknown names stay as exported: validation counts them as 'other' and reports them
    generic = generic.mask(unknown, raw.astype("string"))
    return mapped.fillna(generic).astype("string")


def nonempty(columns: dict[str, pd.Series | None], index: pd.Index) -> pd.DataFrame:
    """A frame of the given columns, leaving out those the export did not have."""
    data = {k: v.reset_index(drop=True) for k, v in columns.items() if v is not None}
    return pd.DataFrame(data, index=pd.RangeIndex(len(index)))


def snake(name: str) -> str:
    """A column label as a snake_case name (``No. of Employees`` -> ``no_of_employees``)."""
    out = re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()
    return out or "column"


#: Firmographic fields under the names the rest of salesmkt uses (personas, segments).
SHARED_NAMES = {
    "number_of_employees": "company_size",
    "numemployees": "company_size",
    "no_of_employees": "company_size",
    "numberofemployees": "company_size",
    "annualrevenue": "annual_revenue",
}


def extra_columns(df: pd.DataFrame, used: set[str], taken: set[str]) -> dict[str, pd.Series]:
    """The export's other columns, snake_cased (employee counts as ``company_size``, revenue as
    ``annual_revenue``); all-numeric columns (not ids) become numbers."""
    out: dict[str, pd.Series] = {}
    for col in df.columns:
        if col in used:
            continue
        name = snake(header_key(col))
        name = SHARED_NAMES.get(name, name)
        while name in taken or name in out:
            name += "_raw"
        s = df[col]
        num = pd.to_numeric(s, errors="coerce")
        is_id = name.endswith(("id", "ids"))
        if s.notna().any() and num.notna().sum() == s.notna().sum() and not is_id:
            s = num.astype("float64")
        out[name] = s
    return out


def not_before_same_day(days: pd.Series, start: pd.Series, tz: str | None) -> pd.Series:
    """Date-only values (UTC midnight) on the same local day as ``start`` but before it, moved to
    ``start``: a close date on the creation day says only "that day", and midnight would put the
    close before the creation. Earlier days are kept as they are (and reported by validation).
    """
    local_day = start.dt.tz_convert(tz or "UTC").dt.tz_localize(None).dt.normalize()
    same_day = days.notna() & start.notna() & days.dt.tz_localize(None).eq(local_day)
    return days.mask(same_day & (days < start), start).astype("datetime64[ns, UTC]")
