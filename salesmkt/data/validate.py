"""Validation of tables against the data contract in :mod:`salesmkt.data.schema`.

Validation coerces each column to its declared kind, then checks the rules. Problems that make
a table unusable (a missing required column, values of the wrong type, duplicate ids, negative
amounts, naive timestamps, an empty table) are collected over every table and raised together as
one :class:`ValidationError`. Problems that leave the data usable (stages out of order, ids that
do not resolve, unknown channel names) are returned as findings: the rows are kept, and the
functions that must leave them out count them in their output.

Row numbers in messages are 0-based positions, as in ``DataFrame.iloc``.

Examples
--------
>>> import pandas as pd
>>> from salesmkt.data.validate import validate_table
>>> deals = pd.DataFrame({"deal_id": ["D1", "D2"], "created_at": ["2025-01-02T10:00:00Z"] * 2,
...                       "amount": [100.0, -5.0]})
>>> validate_table("deals", deals)
Traceback (most recent call last):
...
salesmkt.data.validate.ValidationError: 1 problem in the data:
- deals.amount: 1 value below 0, first at row 1 (-5.0). ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from salesmkt.data import coerce as _coerce_kind
from salesmkt.data.channels import normalize_channels
from salesmkt.data.engine import is_table
from salesmkt.data.schema import TABLES, Column, Table

__all__ = ["Finding", "ValidationError", "validate_table", "validate_tables", "check_columns"]

_MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One problem found in one column of one table.

    ``severity`` is ``"error"`` (the data cannot be used as it is) or ``"warning"`` (rows are
    kept; ``action`` says what happens to them).
    """

    table: str
    column: str
    problem: str
    count: int
    rows: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()
    severity: str = "error"
    action: str = ""
    hint: str = ""

    def message(self) -> str:
        """The finding in one line, as shown to users."""
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{where}: {self.problem}"
        if self.rows:
            label = "row" if len(self.rows) == 1 else "rows"
            text += f", first at {label} {', '.join(map(str, self.rows))}"
            if self.examples:
                text += f" ({', '.join(self.examples)})"
        text += "."
        if self.action:
            text += f" {self.action}."
        if self.hint:
            text += f" {self.hint}"
        return text


class ValidationError(ValueError):
    """Raised when tables break the data contract; lists every problem found."""

    def __init__(self, findings: Iterable[Finding]):
        self.findings = list(findings)
        n = len(self.findings)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the data:"]
        lines += [f"- {f.message()}" for f in self.findings]
        super().__init__("\n".join(lines))


def _examples(mask: pd.Series, values: pd.Series) -> tuple[tuple[int, ...], tuple[str, ...]]:
    positions = np.flatnonzero(mask.to_numpy())[:_MAX_EXAMPLES]
    shown = tuple(repr(v) if isinstance(v, str) else str(v) for v in values.iloc[positions])
    return tuple(int(p) for p in positions), shown


def _finding(table, column, problem, mask, values, **kw) -> Finding:
    rows, shown = _examples(mask, values)
    return Finding(table, column, problem, int(mask.sum()), rows, shown, **kw)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- one table -----------------------------------------------------------------------------


def _coerce(spec: Table, col: Column, raw: pd.Series, tz: str | None, out: pd.DataFrame, found):
    name, table = col.name, spec.name
    naive = None
    if col.kind == "id":
        values, bad = _coerce_kind.to_id(raw)
    elif col.kind == "text":
        values, bad = _coerce_kind.to_text(raw)
    elif col.kind == "number":
        values, bad = _coerce_kind.to_number(raw)
    elif col.kind == "count":
        values, bad = _coerce_kind.to_count(raw)
    elif col.kind == "flag":
        values, bad = _coerce_kind.to_flag(raw)
    elif col.kind == "timestamp":
        values, bad, naive = _coerce_kind.to_timestamp(raw, tz)
    elif col.kind == "date":
        values, bad = _coerce_kind.to_date(raw)
    elif col.kind == "category":
        values, bad = _coerce_kind.to_category(raw, col.values or ())
    elif col.kind == "channel":
        values, unknown = normalize_channels(raw)
        bad = pd.Series(False, index=raw.index)
        if unknown.any():
            found.append(
                _finding(
                    table,
                    name,
                    f"{_plural(int(unknown.sum()), 'value')} not in the channel vocabulary",
                    unknown,
                    raw,
                    severity="warning",
                    action="Counted as 'other'; the exported value is kept in channel_raw",
                )
            )
        if f"{name}_raw" not in out.columns and name == "channel":
            out["channel_raw"] = raw.astype("string")
    else:  # pragma: no cover - the schema only uses the kinds above
        raise AssertionError(f"unknown column kind {col.kind!r}")

    if bad.any():
        expected = {
            "number": "numbers",
            "count": "whole numbers",
            "flag": "true/false values",
            "timestamp": "timestamps",
            "date": "dates",
            "category": "one of " + ", ".join(col.values or ()),
        }.get(col.kind, col.kind)
        found.append(
            _finding(
                table,
                name,
                f"{_plural(int(bad.sum()), 'value')} not {expected}",
                bad,
                raw,
                hint="Fix them in the source, or map the column to another one.",
            )
        )
    if naive is not None and naive.any():
        found.append(
            _finding(
                table,
                name,
                f"{_plural(int(naive.sum()), 'timestamp')} without a time zone",
                naive,
                raw,
                hint="Give them an offset such as 'Z' or '+01:00', or pass tz='Europe/Paris' "
                "(the zone they were recorded in) to salesmkt.load().",
            )
        )
    out[name] = values


def _check_rules(spec: Table, df: pd.DataFrame, found: list[Finding], required: set[str]):
    table = spec.name
    for col in spec.columns.values():
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if col.name in required:
            missing = s.isna()
            if missing.any() and not any(
                f.column == col.name and f.severity == "error" for f in found
            ):
                found.append(
                    _finding(
                        table,
                        col.name,
                        f"{_plural(int(missing.sum()), 'missing value')} in a required column",
                        missing,
                        pd.Series(["(empty)"] * len(s), index=s.index),
                    )
                )
        if col.min_value is not None:
            below = s.notna() & (s < col.min_value)
            if below.any():
                found.append(
                    _finding(
                        table,
                        col.name,
                        f"{_plural(int(below.sum()), 'value')} below {col.min_value:g}",
                        below,
                        s,
                        hint=f"{table}.{col.name} must not be negative; refunds and credits "
                        "belong in a separate table.",
                    )
                )
    if spec.key and all(k in df.columns for k in spec.key):
        dup = df.duplicated(list(spec.key), keep=False) & df[list(spec.key)].notna().all(axis=1)
        if dup.any():
            key = "+".join(spec.key)
            n_values = len(df.loc[dup, list(spec.key)].drop_duplicates())
            shown = df[list(spec.key)].astype("string").fillna("").agg("+".join, axis=1)
            found.append(
                _finding(
                    table,
                    key,
                    f"{_plural(int(dup.sum()), 'row')} share {_plural(n_values, 'duplicated id')}",
                    dup,
                    shown,
                    hint=f"Each {key} must be unique: remove or merge the duplicates.",
                )
            )
    for rule in spec.order_rules:
        cols = [c for c in rule.columns if c in df.columns]
        if len(cols) < 2:
            continue
        # nanoseconds as floats (NaT -> NaN); a stage earlier than the running maximum of the
        # stages before it breaks the order
        ns = np.column_stack(
            [df[c].to_numpy("datetime64[ns]").astype("int64").astype(float) for c in cols]
        )
        ns[np.column_stack([df[c].isna().to_numpy() for c in cols])] = np.nan
        prior = np.full_like(ns, np.nan)
        prior[:, 1:] = np.fmax.accumulate(ns, axis=1)[:, :-1]
        early = pd.DataFrame(ns < prior, columns=cols, index=df.index)
        broken = early.any(axis=1)
        if broken.any():
            first_bad = early.idxmax(axis=1)
            found.append(
                _finding(
                    table,
                    ",".join(cols),
                    f"{_plural(int(broken.sum()), 'row')} {rule.description}",
                    broken,
                    first_bad.map(lambda c: f"{c} too early"),
                    severity="warning",
                    action="Kept; functions that need the order leave these rows out and count "
                    "them",
                )
            )


def validate_table(
    name: str, df: pd.DataFrame, *, tz: str | None = None
) -> tuple[pd.DataFrame, list[Finding]]:
    """Coerce ``df`` to the contract of table ``name`` and check its rules.

    Parameters
    ----------
    name : str
        A canonical table name, a key of :data:`salesmkt.data.schema.TABLES`.
    df : DataFrame
        The table as read. It is not modified.
    tz : str, optional
        Time zone in which naive timestamps were recorded. Without it, naive timestamps are an
        error.

    Returns
    -------
    (DataFrame, list of Finding)
        A new DataFrame with declared columns coerced (extra columns kept as they are) and the
        warnings found.

    Raises
    ------
    ValidationError
        Listing every error found in the table.

    Examples
    --------
    >>> import salesmkt
    >>> raw = salesmkt.load_sample().leads.head(3).astype(str)
    >>> leads, warnings = validate_table("leads", raw)
    >>> str(leads["created_at"].dtype)
    'datetime64[ns, UTC]'
    """
    found = _table_findings(name, df, tz=tz)
    clean, findings = found
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ValidationError(errors)
    return clean, findings


def _table_findings(name: str, df: pd.DataFrame, *, tz: str | None):
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; the tables are: {', '.join(TABLES)}")
    spec = TABLES[name]
    found: list[Finding] = []
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape == (0, 0):
        return df, [
            Finding(
                name,
                "",
                "the file is empty (no header, no rows)",
                0,
                hint="Export the table again, or remove the file if there is no data.",
            )
        ]
    df = df.rename(columns=lambda c: str(c).strip())
    required = {c.name for c in spec.required}
    absent = [c for c in required if c not in df.columns]
    if absent:
        found.append(
            Finding(
                name,
                ", ".join(sorted(absent)),
                f"required column{'s' if len(absent) > 1 else ''} missing (the table has: "
                f"{', '.join(map(str, df.columns[:12])) or 'no columns'})",
                len(absent),
                hint="Rename the column in the file, or load with a column mapping.",
            )
        )
    if len(df) == 0:
        found.append(
            Finding(
                name,
                "",
                "the table has no rows",
                0,
                hint="Remove the file if there is no data for this table.",
            ),
        )
    if found:
        return df, found
    out = df.reset_index(drop=True).copy()
    for col in spec.columns.values():
        if col.name in out.columns:
            _coerce(spec, col, out[col.name], tz, out, found)
    _check_rules(spec, out, found, required)
    return out, found


def validate_tables(
    tables: Mapping[str, pd.DataFrame], *, tz: str | None = None
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Validate several tables at once, then the foreign keys between them.

    Every error in every table is collected before raising, so one run shows all there is to
    fix.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> tables, findings = validate_tables({"deals": ds.deals, "leads": ds.leads})
    >>> sorted(tables)
    ['deals', 'leads']
    """
    clean: dict[str, pd.DataFrame] = {}
    findings: list[Finding] = []
    for name, df in tables.items():
        if is_table(df):  # kept in its database or file (salesmkt.data.engine)
            clean[name], found = _engine_table_findings(name, df)
        else:
            clean[name], found = _table_findings(name, df, tz=tz)
        findings += found
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise ValidationError(errors)
    for name, df in clean.items():
        for fk in TABLES[name].foreign_keys:
            if fk.column not in df.columns or fk.ref_table not in clean:
                continue
            if is_table(clean[fk.ref_table]):
                continue  # the referenced tables (leads, campaigns) are always in memory
            if is_table(df):  # kept in its engine: counted there against the known ids
                found = _engine_unresolved(name, df, fk, clean[fk.ref_table][fk.ref_column])
                findings += [found] if found is not None else []
                continue
            known = clean[fk.ref_table][fk.ref_column]
            unresolved = df[fk.column].notna() & ~df[fk.column].isin(known)
            if unresolved.any():
                findings.append(
                    _finding(
                        name,
                        fk.column,
                        f"{_plural(int(unresolved.sum()), 'value')} not found in "
                        f"{fk.ref_table}.{fk.ref_column}",
                        unresolved,
                        df[fk.column],
                        severity="warning",
                        action="Kept; breakdowns show them as unmatched",
                    )
                )
    return clean, findings


def _engine_table_findings(name: str, t) -> tuple[object, list[Finding]]:
    """The checks an Ibis table kept in its engine gets: required columns and time-zone-aware
    timestamps, ids repeated (counted in the engine; ids not found in the tables they refer to
    are counted there by :func:`validate_tables`); the other row-level checks would read every
    row into memory: they are noted as not run."""
    from salesmkt.data.engine import ROWS_VARIABLE, n_rows

    spec = TABLES[name]
    found: list[Finding] = []
    absent = sorted(c.name for c in spec.required if c.name not in t.columns)
    if absent:
        found.append(
            Finding(
                name,
                ", ".join(absent),
                f"required column{'s' if len(absent) > 1 else ''} missing (the table has: "
                f"{', '.join(map(str, t.columns[:12])) or 'no columns'})",
                len(absent),
                hint="Rename the column in the database, or create a view with the names.",
            )
        )
    schema = t.schema()
    for col in (*spec.required, *spec.optional):
        if col.kind != "timestamp" or col.name not in t.columns:
            continue
        dtype = schema[col.name]
        if not dtype.is_timestamp() or dtype.timezone is None:
            found.append(
                Finding(
                    name,
                    col.name,
                    f"needs timestamps with a time zone here, got {dtype}",
                    0,
                    hint="Store the column as timestamptz (TIMESTAMP WITH TIME ZONE), in UTC.",
                )
            )
    if found:
        return t, found
    duplicated = _engine_duplicates(name, t)
    if duplicated is not None:
        return t, [duplicated]
    rows = n_rows(t)
    checked = "; its ids were checked there" if spec.key or spec.foreign_keys else ""
    found.append(
        Finding(
            name,
            "",
            f"{rows:,} rows stay in the database or file and are computed there (more than "
            f"{ROWS_VARIABLE}); row-level checks (types, value ranges) were not run{checked}",
            rows,
            severity="warning",
            action="Computed in the engine; only aggregates are read",
        )
    )
    return t, found


def _engine_unresolved(name: str, t, fk, known: pd.Series) -> Finding | None:
    """Values of ``t[fk.column]`` (a kept table) not among ``known``, counted in the engine
    by an anti-join with the known ids (sent as a small in-memory table); the count and up to
    three of the values come back."""
    import ibis

    from salesmkt.data.engine import execute

    ids = ibis.memtable(pd.DataFrame({"_known": known.dropna().astype(str).unique()}))
    col = t[fk.column].cast("string")
    values = t.filter(col.notnull()).select(_value=col)
    missing = values.anti_join(ids, values["_value"] == ids["_known"])
    n = int(execute(missing.aggregate(n=missing.count()))["n"].iloc[0])
    if not n:
        return None
    first = execute(missing.select("_value").distinct().order_by("_value").limit(3))
    shown = ", ".join(map(str, first["_value"]))
    return Finding(
        name,
        fk.column,
        f"{_plural(n, 'value')} not found in {fk.ref_table}.{fk.ref_column} (e.g. {shown}; "
        "counted in the engine)",
        n,
        severity="warning",
        action="Kept; breakdowns show them as unmatched",
    )


def _engine_duplicates(name: str, t) -> Finding | None:
    """Rows of a kept table sharing an id (:attr:`TableSpec.key`), counted in the engine: the
    same error as for a table in memory, with up to three of the ids (no row numbers: an
    engine keeps no row order). Only counts and three ids come back."""
    from salesmkt.data.engine import execute

    key = list(TABLES[name].key)
    if not key or not all(k in t.columns for k in key):
        return None
    keyed = t
    for k in key:
        keyed = keyed.filter(keyed[k].notnull())
    per = keyed.group_by(key).aggregate(_n=keyed.count())
    per = per.filter(per["_n"] > 1)
    stats = execute(per.aggregate(rows=per["_n"].sum(), values=per.count()))
    n_values = int(stats["values"].iloc[0] or 0)
    if not n_values:
        return None
    n = int(stats["rows"].iloc[0])
    first = execute(per.order_by(key).limit(3).select(key))
    shown = ", ".join("+".join(str(v) for v in row) for row in first.itertuples(index=False))
    return Finding(
        name,
        "+".join(key),
        f"{_plural(n, 'row')} share {_plural(n_values, 'duplicated id')} (e.g. {shown}; "
        "counted in the engine)",
        n,
        hint=f"Each {'+'.join(key)} must be unique: remove or merge the duplicates.",
    )


def check_columns(df: pd.DataFrame, table: str, columns: Iterable[str], *, caller: str) -> None:
    """Check at a public function's door that ``df`` has ``columns`` of table ``table``.

    Raises a :class:`ValidationError` naming the function, the table and the missing columns.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"lead_id": ["L1"]}), "leads", ["lead_id", "mql_at"],
    ...               caller="lifecycle_funnel")
    Traceback (most recent call last):
    ...
    salesmkt.data.validate.ValidationError: 1 problem in the data:
    - leads.mql_at: lifecycle_funnel needs this column, which is missing. ...
    """
    if not isinstance(df, pd.DataFrame) and not is_table(df):  # Ibis: checked by its columns
        raise TypeError(f"{caller}: {table} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(
            Finding(
                table,
                c,
                f"{caller} needs this column, which is missing",
                0,
                hint="Load the data with salesmkt.load() or add the column.",
            )
            for c in missing
        )


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a tidy DataFrame, one row per finding.

    Examples
    --------
    >>> findings_frame([]).columns.tolist()[:4]
    ['table', 'column', 'severity', 'count']
    """
    cols = ["table", "column", "severity", "count", "problem", "action", "rows", "message"]
    rows = [{**asdict(f), "message": f.message()} for f in findings]
    return pd.DataFrame(rows, columns=cols)
