"""Numbers for people: amounts with their currency, counts, percentages, days, yes and no.

One home for how a value reads in the reports, so a table, a chart's axis and a sentence show
the same amount the same way: ``$12,345``, ``1,234``, ``25.3 %``, ``–`` for a missing value,
and the same category the same way: ``paid_search`` as ``Paid search``, ``mql`` as ``MQL``
(:func:`plain_label`).
The currency is the ``currency`` setting of ``kpis.yml`` (an ISO 4217 code); the reports pass it
on, and :data:`DEFAULT_CURRENCY` is its default.
"""

from __future__ import annotations

import math
import numbers
import re

__all__ = [
    "ACRONYMS",
    "DEFAULT_CURRENCY",
    "MISSING",
    "PERCENT_SUFFIXES",
    "compact_money",
    "currency_symbol",
    "format_amount",
    "format_count",
    "format_interval",
    "format_number",
    "format_percent",
    "format_unit",
    "is_missing",
    "percent_columns",
    "plain_label",
    "plain_text",
]

#: The currency of amounts when ``kpis.yml`` names none (the sample company's).
DEFAULT_CURRENCY = "USD"
#: What a missing or undefined value (``NaN``, ``None``, ``NaT``, infinity) shows as.
MISSING = "–"

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "BRL": "R$"}

#: Words written in capitals in a label made from a name (``cac`` -> ``CAC``).
ACRONYMS = {
    "cac": "CAC",
    "cpl": "CPL",
    "ltv": "LTV",
    "roas": "ROAS",
    "roi": "ROI",
    "mql": "MQL",
    "mqls": "MQLs",
    "sql": "SQL",
    "sqls": "SQLs",
    "kpi": "KPI",
    "sla": "SLA",
    "id": "ID",
    "rfm": "RFM",
    "crm": "CRM",
    "seo": "SEO",
    "sem": "SEM",
    "ppc": "PPC",
    "cpc": "CPC",
    "b2b": "B2B",
    "it": "IT",
}
#: Values whose plain label is not their words in sentence case.
_LABELS = {"w_shaped": "W-shaped", "u_shaped": "U-shaped", "time_decay": "Time decay"}
#: A code-like value: lower-case words joined by underscores (``paid_search``, ``email``).
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def plain_label(value):
    """A category as a reader sees it: ``paid_search`` -> ``Paid search``, ``mql`` -> ``MQL``.

    The one labelling rule of every table, chart axis and sentence of the reports, for the
    values of a vocabulary (channels, lifecycle stages, deal stages and types, attribution
    models, features). A lower-case code (words joined by ``_``) becomes its words in sentence
    case, with acronyms in capitals; anything else (a name a person wrote, ``(missing)``, a
    number) is returned unchanged.

    Examples
    --------
    >>> [plain_label(v) for v in ("paid_search", "closed_won", "mql", "email", "w_shaped")]
    ['Paid search', 'Closed won', 'MQL', 'Email', 'W-shaped']
    >>> [plain_label(v) for v in ("Brand Search", "(missing)", "O03", 12)]
    ['Brand Search', '(missing)', 'O03', 12]
    """
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        return value
    if value in _LABELS:
        return _LABELS[value]
    label = " ".join(ACRONYMS.get(w, w) for w in value.split("_"))
    return label[:1].upper() + label[1:]


def is_missing(value) -> bool:
    """Whether ``value`` has nothing to show: ``None``, ``NaN``, ``NaT``, ``pd.NA`` or infinite.

    Examples
    --------
    >>> [is_missing(v) for v in (None, float("nan"), float("inf"), 0, "x")]
    [True, True, True, False, False]
    """
    if value is None:
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return not math.isfinite(float(value))
    try:
        return bool(value != value)  # NaN-like objects (numpy.datetime64("NaT"), ...)
    except (TypeError, ValueError):
        return False


def currency_symbol(currency: str | None) -> str:
    """The prefix of an amount: ``$`` for USD, ``€`` for EUR, else the code and a space.

    Examples
    --------
    >>> currency_symbol("EUR"), currency_symbol("CHF"), currency_symbol(None)
    ('€', 'CHF ', '$')
    """
    code = (currency or DEFAULT_CURRENCY).strip().upper()
    return _SYMBOLS.get(code, code + " ")


def compact_money(value: float | None, currency: str | None) -> str:
    """An amount in a sentence, compact: ``$1.23M``, ``$456k``, ``$980``; ``–`` when unknown.

    Examples
    --------
    >>> compact_money(1_234_567, "USD"), compact_money(-45_600, "EUR"), compact_money(None, "USD")
    ('$1.23M', '-€46k', '–')
    """
    if value is None or not math.isfinite(value):
        return MISSING
    sym = currency_symbol(currency)
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e6:
        return f"{sign}{sym}{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{sign}{sym}{v / 1e3:.0f}k"
    return f"{sign}{sym}{v:.0f}"


def format_amount(value, currency: str | None = None, *, decimals: int | None = None) -> str:
    """An amount with its currency and thousands separators: ``$12,345``, ``-€1,200``.

    ``decimals`` defaults to 0 from 100 on and 2 below (a cost per lead of ``$4.50``).

    Examples
    --------
    >>> format_amount(12345.6, "USD"), format_amount(-1200, "EUR"), format_amount(4.5, "GBP")
    ('$12,346', '-€1,200', '£4.50')
    >>> format_amount(float("nan"), "USD")
    '–'
    """
    if is_missing(value):
        return MISSING
    value = float(value)
    if decimals is None:
        decimals = 0 if abs(value) >= 100 or value == 0 else 2
    sign = "-" if value < 0 and round(abs(value), decimals) > 0 else ""
    return f"{sign}{currency_symbol(currency)}{abs(value):,.{decimals}f}"


def format_count(value) -> str:
    """A whole number with thousands separators: ``12,345``.

    Examples
    --------
    >>> format_count(12345.0), format_count(None)
    ('12,345', '–')
    """
    return MISSING if is_missing(value) else f"{float(value):,.0f}"


def format_number(value, decimals: int = 1, suffix: str = "") -> str:
    """A number with thousands separators and ``decimals`` places: ``1,234.5``.

    Examples
    --------
    >>> format_number(1234.54), format_number(2.5, 2, "×")
    ('1,234.5', '2.50×')
    """
    return MISSING if is_missing(value) else f"{float(value):,.{decimals}f}{suffix}"


def format_percent(value, decimals: int = 1) -> str:
    """A share (0.25) as a percentage: ``25.0 %``.

    Examples
    --------
    >>> format_percent(0.2534), format_percent(1.5, 0), format_percent(float("nan"))
    ('25.3 %', '150 %', '–')
    """
    return MISSING if is_missing(value) else f"{float(value) * 100:,.{decimals}f} %"


#: Name endings that say a column holds a rate, a share or a ratio: the default rule of
#: :func:`percent_columns` (with values that are fractions, or percentage points for the last two).
PERCENT_SUFFIXES = ("_rate", "_share", "_ratio", "_pct", "_percent")
_POINT_SUFFIXES = ("_pct", "_percent")


def percent_columns(frame, declared=None) -> dict[str, float]:
    """The columns of ``frame`` that read as percentages, each with the factor that turns its
    values into fractions for :func:`format_percent` (1 for fractions, 0.01 for percentage
    points): ``email_open_rate`` 0.478 reads ``47.8 %``.

    The one rule for which columns of the data (lead columns a persona is described by) are
    rates. ``declared`` is ``kpis.yml``'s ``settings.percent_columns``:

    - ``None`` (not set): a numeric, non-boolean column whose name ends in one of
      :data:`PERCENT_SUFFIXES` (``_rate``, ``_share``, ``_ratio``, ``_pct``, ``_percent``) and
      whose values all lie in [0, 1] holds fractions; a ``_pct`` or ``_percent`` column whose
      values lie in [0, 100] and go above 1 holds percentage points (never multiplied by 100).
      A column of only 0 and 1 is a yes/no flag, not a rate.
    - a list: exactly these columns are percentages (``[]``: none), whatever their names:
      fractions when every value lies in [-1, 1], percentage points when every value lies in
      [-100, 100]. A listed column absent from ``frame`` is skipped (the list serves every
      table of the data); one that is not numeric or goes beyond 100 is an error.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"email_open_rate": [0.478, 0.2], "score": [0.5, 0.1],
    ...     "bounce_pct": [12.5, 40.0], "churn_rate": [0, 1], "visits": [3, 12]})
    >>> percent_columns(leads)
    {'email_open_rate': 1.0, 'bounce_pct': 0.01}
    >>> percent_columns(leads, ["score", "missing_column"])
    {'score': 1.0}
    >>> format_percent(0.478 * percent_columns(leads)["email_open_rate"])
    '47.8 %'
    """
    import numpy as np
    import pandas as pd

    def values(name):
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            return None
        v = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return v[np.isfinite(v)]

    out: dict[str, float] = {}
    if declared is not None:
        for name in declared:
            if name not in frame.columns:
                continue
            v = values(name)
            if v is None:
                raise ValueError(
                    f"settings.percent_columns: column {name!r} is not numeric "
                    f"({frame[name].dtype}); only numbers read as percentages."
                )
            top = float(np.abs(v).max()) if len(v) else 0.0
            if top > 100:
                raise ValueError(
                    f"settings.percent_columns: column {name!r} has values up to {top:,.4g}, "
                    "beyond 100; a percentage holds fractions (0-1) or points (0-100)."
                )
            out[name] = 1.0 if top <= 1 else 0.01
        return out
    for name in frame.columns:
        text = str(name).lower()
        if not text.endswith(PERCENT_SUFFIXES):
            continue
        v = values(name)
        if v is None or not len(v) or v.min() < 0 or np.isin(v, (0.0, 1.0)).all():
            continue
        if v.max() <= 1:
            out[name] = 1.0
        elif text.endswith(_POINT_SUFFIXES) and v.max() <= 100:
            out[name] = 0.01
    return out


def format_interval(value, low, high) -> str:
    """A share with its 95 % interval, for a rate over a small count: ``42 % (35–49 %)``.

    The value keeps one decimal, the bounds none (the interval is the precision). A missing
    bound gives the value alone.

    Examples
    --------
    >>> format_interval(0.4213, 0.349, 0.4951), format_interval(0.5, float("nan"), 0.7)
    ('42.1 % (35–50 %)', '50.0 %')
    """
    if is_missing(low) or is_missing(high):
        return format_percent(value)
    return f"{format_percent(value)} ({float(low) * 100:.0f}–{float(high) * 100:.0f} %)"


def format_unit(value, unit: str, currency: str | None = None) -> str:
    """A value in a KPI's unit (the catalog's ``unit``): 25.3 %, $1,234, 3.2 h, 22.0 days.

    Examples
    --------
    >>> format_unit(0.2534, "share"), format_unit(1234.5, "currency", "EUR")
    ('25.3 %', '€1,234')
    >>> format_unit(3.21, "hours"), format_unit(80.5, "currency/day"), format_unit(2, "ratio")
    ('3.2 h', '$80.50 a day', '2.00×')
    >>> format_unit(1234.0, "count")
    '1,234'
    """
    if is_missing(value):
        return MISSING
    if unit == "share":
        return format_percent(value)
    if unit in ("currency", "currency/day"):
        text = format_amount(value, currency)
        return text + " a day" if unit == "currency/day" else text
    if unit == "ratio":
        return format_number(value, 2, "×")
    if unit == "count":
        return format_number(value, 0)
    suffix = {"hours": " h", "days": " days", "seconds": " s", "months": " months"}.get(unit, "")
    return format_number(value, 1, suffix)


#: A text that opens with a code-like value (``paid_search (1,234)``, ``mql: 40 %``).
_LEADING_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?=[\s:]|$)")


def plain_text(text):
    """A label with its categories in plain words: the leading one (``paid_search (1,234)``)
    and each side of a step (``lead → mql``), as :func:`plain_label` writes them.

    Examples
    --------
    >>> plain_text("paid_search (1,234)"), plain_text("lead → mql"), plain_text("2026-06")
    ('Paid search (1,234)', 'Lead → MQL', '2026-06')
    """
    if not isinstance(text, str):
        return text
    if " → " in text:
        return " → ".join(plain_text(part) for part in text.split(" → "))
    m = _LEADING_CODE.match(text)
    return plain_label(m.group(0)) + text[m.end() :] if m else text
