"""Every table of the reports, formatted one way (great_tables).

:func:`format_table` turns a tidy DataFrame into a ``great_tables.GT`` a manager can read: column
labels in plain words with their units from one vocabulary (:data:`COLUMNS`: ``lead_id`` ->
"Lead", ``conversion_rate`` -> "Conversion rate", ``median_days`` -> "Median (days)"),
thousands separators, percentages, amounts with the configured currency, booleans as words
(Yes/No, Met/Missed), missing values as "–", no row numbers and a readable font size. A column
the vocabulary does not know is labelled from its name (``excess_lost`` -> "Excess lost") and
formatted by its type and name (``*_rate`` and ``*share*`` as percentages, ``*_days`` in days,
``n_*`` as counts), so no snake_case header or raw ``nan`` reaches a reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from salesmkt._base.formats import (
    ACRONYMS,
    DEFAULT_CURRENCY,
    MISSING,
    format_amount,
    format_count,
    format_number,
    format_percent,
    format_unit,
    is_missing,
    plain_label,
    plain_text,
)

__all__ = [
    "CATEGORIES",
    "COLUMNS",
    "IDENTIFIERS",
    "KINDS",
    "Column",
    "column_label",
    "format_table",
    "format_values",
]

#: How a column's values read: its kind decides the format, ``decimals`` its precision.
#: ``by_unit``: each row in its KPI's unit (the table's ``unit`` column: share, currency, ...);
#: ``unit``: the unit itself in words (``currency`` as the currency's code).
KINDS = (
    "amount",
    "count",
    "percent",
    "ratio",
    "number",
    "days",
    "hours",
    "date",
    "bool",
    "text",
    "by_unit",
    "unit",
)


class Column(NamedTuple):
    """A column of the vocabulary: its label, its kind and (for booleans) its two words."""

    label: str
    kind: str = "text"
    decimals: int | None = None
    words: tuple[str, str] = ("Yes", "No")


def _c(label, kind="text", decimals=None, words=("Yes", "No")) -> Column:
    return Column(label, kind, decimals, words)


#: The shared vocabulary: column name -> label (with its unit) and format.
COLUMNS: dict[str, Column] = {
    # identifiers and names
    "lead_id": _c("Lead"),
    "deal_id": _c("Deal"),
    "customer_id": _c("Customer"),
    "campaign_id": _c("Campaign"),
    "owner_id": _c("Sales owner"),
    "id": _c("ID"),
    "name": _c("Name"),
    "label": _c("Label"),
    "suggested_label": _c("Suggested label"),
    "persona": _c("Persona"),
    "segment": _c("Segment"),
    "channel": _c("Channel"),
    "product": _c("Product"),
    "stage": _c("Stage"),
    "step": _c("Step"),
    "table": _c("Table"),
    "column": _c("Column"),
    "feature": _c("Feature"),
    "kind": _c("Kind"),
    "transform": _c("Transform"),
    "model": _c("Attribution model"),
    "breakdown": _c("Breakdown"),
    "group": _c("Group"),
    "owner": _c("Owner team"),
    "unit": _c("Unit", "unit"),
    "direction": _c("Better when"),
    "definition": _c("Definition"),
    "description": _c("Description"),
    "status": _c("Status"),
    "period": _c("Period"),
    "term": _c("SLA term"),
    # dates
    "first": _c("First", "date"),
    "last": _c("Last", "date"),
    "created_at": _c("Created", "date"),
    # counts
    "rows": _c("Rows", "count"),
    "warnings": _c("Warnings", "count"),
    "missing": _c("Missing", "count"),
    "leads": _c("Leads", "count"),
    "mqls": _c("MQLs", "count"),
    "customers": _c("Customers", "count"),
    "converted": _c("Converted", "count"),
    "deals_won": _c("Deals won", "count"),
    "deals_lost": _c("Deals lost", "count"),
    "entered": _c("Entered", "count"),
    "entered_previous": _c("Entered the step before", "count"),
    "decided": _c("Outcome known (moved on or dropped for good)", "count"),
    "dropped": _c("Dropped", "count"),
    "in_stage": _c("In the stage", "count"),
    "stalled": _c("Stalled", "count"),
    "excess_lost": _c("Lost beyond the average", "count"),
    "breaches": _c("Breaches", "count"),
    "n_pending": _c("Pending", "count"),
    "n_advanced": _c("Moved on", "count"),
    "n_in_stage": _c("Still in the stage", "count"),
    "n_disqualified": _c("Disqualified", "count"),
    "n_skipped": _c("Skipped the stage", "count"),
    "n_missing": _c("Missing", "count"),
    "denominator": _c("Count", "count"),
    "won_deals": _c("Won deals", "count"),
    "levels": _c("Levels", "count"),
    "k": _c("Personas", "count"),
    "periods": _c("Periods"),
    # amounts
    "spend": _c("Spend", "amount"),
    "revenue": _c("Revenue", "amount"),
    "monetary": _c("Revenue", "amount"),
    "amount": _c("Amount", "amount"),
    "won_amount": _c("Won amount", "amount"),
    "quota": _c("Quota", "amount"),
    "avg_deal_size": _c("Average deal", "amount"),
    "average_deal": _c("Average deal", "amount"),
    "cac": _c("CAC (cost per new customer)", "amount"),
    "cpl": _c("CPL (cost per lead)", "amount"),
    "lead_value": _c("Won revenue per lead", "amount"),
    "ltv": _c("Lifetime value", "amount"),
    # percentages
    "share": _c("Share", "percent", 1),
    "monetary_share": _c("Share of revenue", "percent", 0),
    "share_of_new_customers": _c("Share of new customers", "percent", 0),
    "conversion_rate": _c("Conversion rate", "percent", 1),
    "win_rate": _c("Win rate", "percent", 0),
    "rate": _c("Rate", "percent", 1),
    "rate_low": _c("Rate, 95 % low", "percent", 1),
    "rate_high": _c("Rate, 95 % high", "percent", 1),
    "conversion": _c("Conversion", "percent", 0),
    "overall_conversion": _c("Conversion, all channels", "percent", 0),
    "conversion_from_previous": _c("Conversion from the stage before", "percent", 1),
    "conversion_from_first": _c("Conversion from the first stage", "percent", 1),
    "stalled_share": _c("Stalled share", "percent", 0),
    "fidelity": _c("Rule fidelity", "percent", 0),
    "min_share": _c("Smallest persona", "percent", 0),
    "monthly_retention": _c("Monthly retention (model)", "percent", 1),
    "actual": _c("In time", "percent", 0),
    "attainment": _c("Quota attainment", "percent", 0),
    "roi": _c("ROI", "percent", 0),
    "attributed_roi": _c("Attributed ROI", "percent", 0),
    # ratios and scores
    "roas": _c("ROAS (revenue per unit of spend)", "ratio", 1),
    "roas_on_margin": _c("ROAS on margin (gross profit per unit of spend)", "ratio", 1),
    "attributed_roas": _c("Attributed ROAS", "ratio", 1),
    "attributed_revenue": _c("Attributed revenue", "amount"),
    "lifetime_months": _c("Lifetime (months, capped at history)", "number", 0),
    "ltv_cac": _c("LTV:CAC", "ratio", 1),
    "lift": _c("Lift", "ratio", 2),
    # experiment estimates in percentage points (the holdout table)
    "estimate": _c("Estimate"),
    "lift_points": _c("Lift (points)", "number", 1),
    "low_points": _c("Interval low (points)", "number", 1),
    "high_points": _c("Interval high (points)", "number", 1),
    "width_points": _c("Interval width (points)", "number", 1),
    "skew": _c("Skew", "number", 1),
    "weight": _c("Weight", "number", 2),
    "inertia": _c("Inertia", "number", 0),
    "silhouette": _c("Silhouette", "number", 3),
    "calinski_harabasz": _c("Calinski-Harabasz", "number", 0),
    "davies_bouldin": _c("Davies-Bouldin", "number", 3),
    "bic": _c("BIC", "number", 0),
    "gap": _c("Gap", "number", 3),
    "gap_se": _c("Gap, standard error", "number", 3),
    "stability": _c("Stability", "number", 2),
    "stability_min": _c("Weakest stability", "number", 2),
    "seconds": _c("Time (seconds)", "number", 1),
    "median_frequency": _c("Median orders", "number", 0),
    "recent_value": _c("Recent value", "by_unit"),
    "suggested_target": _c("Suggested target", "by_unit"),
    "target": _c("Target", "by_unit"),
    "value": _c("Value", "by_unit"),
    "previous": _c("Previous", "by_unit"),
    # durations
    "median_days": _c("Median (days)", "days", 1),
    "mean_days": _c("Mean (days)", "days", 1),
    "p25_days": _c("25th percentile (days)", "days", 1),
    "p75_days": _c("75th percentile (days)", "days", 1),
    "p90_days": _c("90th percentile (days)", "days", 1),
    "median_days_from_previous": _c("Median time from the stage before (days)", "days", 1),
    "threshold_days": _c("Stalled after (days)", "days", 0),
    "median_recency_days": _c("Median days since the last order", "days", 0),
    "payback_months": _c("Payback (months)", "number", 1),
    "response_hours": _c("Response time (hours)", "hours", 1),
    # yes / no
    "met": _c("Commitment", "bool", words=("Met", "Missed")),
    "admissible": _c("Passes the rules", "bool"),
    "required": _c("Required", "bool"),
    "declared": _c("Declared", "bool"),
    "is_referral": _c("Referral", "bool"),
}

#: Columns whose values are categories of a vocabulary: every value reads as its plain label
#: (``paid_search`` -> "Paid search", ``mql`` -> "MQL"; :func:`plain_label`).
CATEGORIES = frozenset(
    {"channel", "stage", "step", "group", "breakdown", "model", "segment", "owner", "feature",
     "from", "to", "product", "deal_type", "kind", "source", "medium"}
)  # fmt: skip
#: Columns of identifiers a user types (the data contract's column names): shown as they are.
IDENTIFIERS = frozenset({"column", "table", "kpi", "id", "lead_id", "deal_id", "customer_id"})
_UNITS = {"days": "days", "hours": "hours", "months": "months", "seconds": "seconds"}


def column_label(name) -> str:
    """The plain label of a column: from the vocabulary, else made from its name.

    Examples
    --------
    >>> column_label("median_days"), column_label("excess_lost"), column_label("cac")
    ('Median (days)', 'Lost beyond the average', 'CAC (cost per new customer)')
    >>> column_label("n_open_deals"), column_label("time_to_sql_days"), column_label("first_touch")
    ('Open deals', 'Time to SQL (days)', 'First touch')
    """
    if name in COLUMNS:
        return COLUMNS[name].label
    text = str(name)
    if "_" not in text and not text.islower():
        return text  # already written for people ("won amount", "KPI", "paid_search" aside)
    words = [w for w in text.split("_") if w]
    if words and words[0] == "n" and len(words) > 1:
        words = words[1:]
    if words and words[-1] == "id" and len(words) > 1:
        words = words[:-1]
    unit = _UNITS.get(words[-1]) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    words = [ACRONYMS.get(w, w) for w in words]
    label = " ".join(words)
    label = label[:1].upper() + label[1:]
    return f"{label} ({unit})" if unit else label


def _infer(name, values: pd.Series) -> Column:
    """The vocabulary's entry, else one inferred from the column's name and type."""
    if name in COLUMNS:
        spec = COLUMNS[name]
        numeric = spec.kind in ("amount", "count", "percent", "ratio", "number", "days", "hours")
        if numeric and not pd.api.types.is_numeric_dtype(values) and values.notna().any():
            return spec._replace(kind="text")  # a column of words under a numeric name
        return spec
    label = column_label(name)
    text = str(name)
    if pd.api.types.is_bool_dtype(values) or (
        values.dtype == object
        and values.dropna().map(type).isin([bool, np.bool_]).all()
        and values.notna().any()
    ):
        return _c(label, "bool")
    if pd.api.types.is_datetime64_any_dtype(values):
        return _c(label, "date")
    if not pd.api.types.is_numeric_dtype(values):
        return _c(label)
    if text.startswith("n_") or pd.api.types.is_integer_dtype(values):
        return _c(label, "count")
    if "rate" in text.split("_") or "share" in text.split("_"):
        return _c(label, "percent", 1)
    if text.endswith(("_days", "_hours")):
        return _c(label, "days", 1)
    return _c(label, "number")


def _auto_decimals(values: pd.Series) -> int:
    finite = pd.to_numeric(values, errors="coerce").replace([np.inf, -np.inf], np.nan).dropna()
    if finite.empty:
        return 1
    top = float(finite.abs().max())
    return 0 if top >= 100 else 1 if top >= 10 else 2


def _date(value) -> str:
    if is_missing(value):
        return MISSING
    ts = pd.Timestamp(value)
    return f"{ts.day} {ts:%b %Y}"


def format_values(
    values: pd.Series, column: Column, *, currency: str | None = None, units=None
) -> pd.Series:
    """The column's values as the text a reader sees (missing values as "–").

    ``units`` (one KPI unit per value) formats a ``by_unit`` column; without it such a column
    reads as plain numbers.

    Examples
    --------
    >>> s = pd.Series([1234.5, None])
    >>> format_values(s, COLUMNS["spend"], currency="EUR").tolist()
    ['€1,234', '–']
    >>> format_values(pd.Series([True, False]), COLUMNS["met"]).tolist()
    ['Met', 'Missed']
    >>> format_values(pd.Series([0.25, 390.0]), COLUMNS["target"], units=["share", "currency"]).tolist()
    ['25.0 %', '$390']
    """
    kind, decimals = column.kind, column.decimals
    if kind not in KINDS:
        raise ValueError(f"column {column.label!r}: unknown kind {kind!r}; kinds: {KINDS}")
    if kind == "by_unit":
        if units is not None:
            return pd.Series(
                [format_unit(v, str(u), currency) for v, u in zip(values, units, strict=True)],
                index=values.index,
                dtype=object,
            )
        kind = "number"
    if kind == "ratio" and decimals is None:
        decimals = 1  # ROAS 4.2, LTV:CAC 3.1: one decimal in every column of a pivot
    if kind in ("number", "days", "hours") and decimals is None:
        decimals = _auto_decimals(values)
    if kind == "amount":
        big = _auto_decimals(values) == 0 if decimals is None else None
        fmt = lambda v: format_amount(v, currency, decimals=0 if big else decimals)  # noqa: E731
    elif kind == "count":
        fmt = format_count
    elif kind == "percent":
        fmt = lambda v: format_percent(v, 1 if decimals is None else decimals)  # noqa: E731
    elif kind == "ratio" or kind in ("number", "days", "hours"):
        fmt = lambda v: format_number(v, decimals)  # noqa: E731
    elif kind == "date":
        fmt = _date
    elif kind == "unit":
        code = (currency or DEFAULT_CURRENCY).upper()
        words = {"share": "%", "currency": code, "currency/day": f"{code} a day"}
        fmt = lambda v: MISSING if is_missing(v) else words.get(str(v), str(v))  # noqa: E731
    elif kind == "bool":
        yes, no = column.words
        fmt = lambda v: MISSING if is_missing(v) else yes if bool(v) else no  # noqa: E731
    else:
        fmt = lambda v: MISSING if is_missing(v) else str(v)  # noqa: E731
    return pd.Series([fmt(v) for v in values], index=values.index, dtype=object)


def format_table(
    table: pd.DataFrame,
    *,
    currency: str | None = None,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    value_kind: str | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    highlight: str | None = None,
):
    """A table for a report: plain labels with units, formatted values, no row numbers.

    Parameters
    ----------
    table : DataFrame
        Tidy table (a compute function's output). A meaningful index (a pivot's rows) becomes
        the first column; a plain row number is dropped.
    currency : str, optional
        ISO code of the amounts (``kpis.yml``'s ``currency``); default
        :data:`~salesmkt._base.formats.DEFAULT_CURRENCY`.
    labels : mapping, optional
        Column -> label, over the vocabulary's (:data:`COLUMNS`).
    kinds : mapping, optional
        Column -> kind (one of :data:`KINDS`), over the vocabulary's.
    value_kind : str, optional
        The kind of every numeric column the vocabulary does not know (a pivot's value columns,
        e.g. ``"ratio"``).
    title, subtitle : str, optional
        A heading above the table.
    highlight : {"row_max"}, optional
        Bold the largest number of each row (which column favours each row).

    Returns
    -------
    great_tables.GT
        Renders as HTML in notebooks and reports (``.as_raw_html()`` for the markup).

    Examples
    --------
    >>> t = pd.DataFrame({"channel": ["email", "events"], "spend": [12000.0, None],
    ...                   "conversion_rate": [0.0312, 0.1], "met": [True, False]})
    >>> html = format_table(t, currency="EUR").as_raw_html()
    >>> all(s in html for s in ["Conversion rate", "€12,000", "3.1 %", "Missed", "–"])
    True
    >>> ">conversion_rate<" in html or ">nan<" in html
    False
    """
    from great_tables import GT, loc, style

    if kinds and set(kinds.values()) - set(KINDS):
        raise ValueError(f"kinds: unknown kind(s) {set(kinds.values()) - set(KINDS)}; {KINDS}")
    if value_kind is not None and value_kind not in KINDS:
        raise ValueError(f"value_kind: unknown kind {value_kind!r}; kinds: {KINDS}")
    if highlight not in (None, "row_max"):
        raise ValueError(f"highlight: must be None or 'row_max', got {highlight!r}")
    data = table
    if not (isinstance(data.index, pd.RangeIndex) and data.index.name is None):
        named = data.index.name is not None or any(n is not None for n in data.index.names)
        data = data.reset_index() if named else data.reset_index(drop=True)
    data = data.reset_index(drop=True)
    data.columns = [str(c) for c in data.columns]
    if data.columns.duplicated().any():
        dupes = sorted(set(data.columns[data.columns.duplicated()]))
        raise ValueError(f"table: duplicated column(s) {dupes}")
    view = pd.DataFrame(index=data.index)
    numeric: list[str] = []
    header: dict[str, str] = {}
    for name in data.columns:
        spec = _infer(name, data[name])
        if kinds and name in kinds:
            spec = spec._replace(kind=kinds[name], decimals=None)
        elif value_kind and name not in COLUMNS and pd.api.types.is_numeric_dtype(data[name]):
            spec = spec._replace(kind=value_kind, decimals=None)
        label = (labels or {}).get(name, spec.label)
        units = data["unit"] if "unit" in data.columns else None
        values = data[name]
        if spec.kind == "text" and name not in IDENTIFIERS:
            # a vocabulary's column, or one holding a code-like value: every value in plain
            # words, so "Organic search" never sits beside "email"
            # (a plain loop: a string-dtype Series maps booleans back to strings)
            coded = any(isinstance(v, str) and "_" in v and plain_label(v) != v for v in values)
            if name in CATEGORIES or coded:
                values = values.map(plain_text)
        view[name] = format_values(values, spec, currency=currency, units=units)
        header[name] = label
        if spec.kind not in ("text", "bool", "date", "unit"):
            numeric.append(name)
    gt = GT(view).cols_label(**header) if len(view.columns) else GT(view)
    if title:
        gt = gt.tab_header(title=title, subtitle=subtitle)
    if numeric:  # numbers right-aligned and never broken across lines ("28.5 %")
        gt = gt.cols_align(align="right", columns=numeric)
        gt = gt.tab_style(style=style.css("white-space: nowrap;"), locations=loc.body(numeric))
    if highlight == "row_max" and numeric:
        values = data[numeric].apply(pd.to_numeric, errors="coerce")
        values = values.replace([np.inf, -np.inf], np.nan)
        for i, col in values.idxmax(axis=1).dropna().items():
            gt = gt.tab_style(style=style.text(weight="bold"), locations=loc.body(col, [i]))
    return gt.tab_options(
        table_font_size="15px",
        heading_title_font_size="17px",
        column_labels_font_weight="bold",
        data_row_padding="4px",
    )
