"""``Dataset``: the canonical tables of one company, validated, as one object.

Every analysis takes a :class:`Dataset` (or the one table it needs); :func:`salesmkt.load`
builds one from files, a workbook or a database, :func:`salesmkt.load_sample` from the sample
company.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from salesmkt.data.engine import extreme, n_rows
from salesmkt.data.schema import TABLES
from salesmkt.data.validate import findings_frame

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """The canonical tables of one company, validated.

    One attribute per table (``None`` when the data has no such table); ``findings`` lists
    what validation reported (warnings about rows that were kept) and ``source`` where the data
    came from. ``about`` is the data's attribution and licence note when the data came through
    a column mapping with an ``about:`` entry (reports show it under their title), else ``""``.
    """

    leads: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    sessions: pd.DataFrame | None = None
    touchpoints: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None
    orders: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    findings: pd.DataFrame = field(default_factory=lambda: findings_frame([]))
    source: str = ""
    about: str = ""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in TABLES and getattr(self, f.name) is not None
        }

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns, and the first and last timestamp it holds.

        Examples
        --------
        >>> import salesmkt
        >>> salesmkt.load_sample().summary().columns.tolist()
        ['table', 'rows', 'columns', 'first', 'last', 'description']
        """
        rows = []
        for name, df in self.tables.items():
            spec = TABLES[name]
            time_cols = [
                c.name
                for c in (*spec.required, *spec.optional)
                if c.kind in ("timestamp", "date") and c.name in df.columns
            ]
            first = last = pd.NaT
            if time_cols:  # an Ibis table (kept in its database) answers there
                first = extreme(df, time_cols[0], "min") or pd.NaT
                last = extreme(df, time_cols[0], "max") or pd.NaT
            rows.append(
                {
                    "table": name,
                    "rows": n_rows(df),
                    "columns": len(df.columns),
                    "first": first,
                    "last": last,
                    "description": spec.description,
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={n_rows(df):,}" for n, df in self.tables.items())
        return f"Dataset({parts}; {len(self.findings)} findings; source={self.source!r})"
