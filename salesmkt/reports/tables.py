"""Report tables: :func:`format_table`, the one way every table of the reports is formatted.

The formatting itself (the vocabulary of column labels, the number formats) lives in the private
:mod:`salesmkt._base.tables`, where the domain packages' own tables (the scorecard, the persona
workshop) use it too; this is its public name for the notebooks.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salesmkt._base import tables as _tables

__all__ = ["format_table"]


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

    Column labels come from one shared vocabulary (``conversion_rate`` -> "Conversion rate",
    ``median_days`` -> "Median (days)"; an unknown ``excess_lost`` -> "Excess lost"); counts
    get thousands separators, shares are percentages, amounts carry the currency, booleans read
    Yes/No (Met/Missed for a commitment), missing values show as "–".

    Parameters
    ----------
    table : DataFrame
        Tidy table (a compute function's output). A named index (a pivot's rows) becomes the
        first column; a plain row number is dropped.
    currency : str, optional
        ISO code of the amounts: ``load_kpi_config(...)["currency"]`` (default USD).
    labels : mapping, optional
        Column -> label, over the vocabulary's.
    kinds : mapping, optional
        Column -> kind (``amount``, ``count``, ``percent``, ``ratio``, ``number``, ``days``,
        ``hours``, ``date``, ``bool``, ``text``), over the vocabulary's.
    value_kind : str, optional
        The kind of every numeric column the vocabulary does not know (a pivot's value columns).
    title, subtitle : str, optional
        A heading above the table.
    highlight : {"row_max"}, optional
        Bold the largest number of each row.

    Returns
    -------
    great_tables.GT
        Renders as HTML in notebooks and reports.

    Examples
    --------
    >>> import salesmkt
    >>> table = salesmkt.table_overview(salesmkt.load_sample())
    >>> html = format_table(table).as_raw_html()
    >>> "Rows" in html and ">rows<" not in html
    True
    """
    return _tables.format_table(
        table,
        currency=currency,
        labels=labels,
        kinds=kinds,
        value_kind=value_kind,
        title=title,
        subtitle=subtitle,
        highlight=highlight,
    )
