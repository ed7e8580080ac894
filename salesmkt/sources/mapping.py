"""Any CSV or Excel export onto the canonical tables through a small YAML column mapping.

A mapping file names, per canonical table, the file to read and where each canonical column
comes from: a column of the file, or a constant, with an optional date format or value map::

    # salesmkt column mapping
    leads:
      file: crm_leads.csv            # relative to the data folder; wildcards stack several files
      tz: Europe/Paris               # zone of times written without an offset (optional)
      columns:
        lead_id: Lead Number
        created_at: {column: Signup Date, format: "%d.%m.%Y %H:%M"}
        channel: Origin
        status: {value: open}        # the same value on every row
        deal_type: {column: Kind, values: {New: new_business, Upsell: expansion}}

Columns of the file that the mapping does not name are kept under their own names, as numbers
when every value is one and none has a leading zero (``keep_other_columns: false`` drops them).
``salesmkt map --init FILE`` writes a template from a file's header with the obvious matches
filled in.

A few more entries cover exports that are split over two files or lack a field::

    about: "Data: Bank Marketing (UCI), CC BY 4.0; cite Moro et al. (2011)."
    leads:
      file: clients.csv
      join: {file: outcomes.csv, key: Client}  # left join of a second file on a key column
      columns:
        lead_id: {row_number: true}            # 1-based row of the file, when it has no id
        created_at: {column: [day, month], format: "%d %b", year: 2008}
        customer_at: {column: Won Date, when: {Outcome: "yes"}}

* ``about`` (top level): where the data come from and under which licence. It travels with the
  data (:attr:`salesmkt.Dataset.about`) and every report shows it under its title.
* ``join``: each row of the table's file gets the columns of the row of ``join.file`` with the
  same ``key`` value (``key: {left: A, right: B}`` when the names differ); those columns can be
  mapped and are kept like the file's own (a name in both files gets the suffix ``_2``). The
  key must be unique in the joined file; its rows that match nothing are counted in the
  findings, never dropped silently.
* ``row_number: true``: the row's 1-based position in its file, as text (a made-up id that
  says so; use it only when the export carries no id of its own).
* ``column: [a, b]``: the values of several columns joined by a space (e.g. day and month
  for a ``format``).
* ``year``: with ``format``, for dates written without a year: every date gets this year. The
  data do not say it, so loading reports it as an assumption in the findings; state it in
  ``about`` too, and read no trend across years from such dates.
* ``when: {column: value}``: the value only on rows where that column holds that value
  (missing elsewhere), e.g. the date a lead became a customer only for converted rows.

Examples
--------
>>> import salesmkt, tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "signups.csv").write_text("Lead ID,Created,Origin\\nS1,2024-03-01T10:00Z,cpc\\n")
>>> print(salesmkt.mapping_template(folder / "signups.csv", table="leads").splitlines()[5])
    lead_id: "Lead ID"
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from salesmkt.data.schema import TABLES
from salesmkt.data.validate import Finding, ValidationError
from salesmkt.sources._common import (
    header_key,
    missing_column,
    parse_amounts,
    parse_times,
)
from salesmkt.sources._read import read_table_file

__all__ = ["load_mapping", "mapping_about", "read_mapped"]

_TABLE_KEYS = {
    "file",
    "tz",
    "dayfirst",
    "encoding",
    "delimiter",
    "columns",
    "keep_other_columns",
    "join",
}
_COLUMN_KEYS = {"column", "value", "row_number", "format", "values", "year", "when"}
#: top-level entries of a mapping file that are not tables
_META_KEYS = {"about"}


def _mapping_error(path: Path, problem: str) -> ValueError:
    return ValueError(f"{path.name}: {problem}. See docs/exports.md for the mapping format.")


def load_mapping(path: str | Path) -> dict[str, dict]:
    """Read and check a mapping file; returns ``{table: {file, tz, columns, ...}}``.

    Raises a ``ValueError`` naming the file and the entry that is wrong.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "m.yml"
    >>> _ = p.write_text("deals:\\n  columns:\\n    deal_id: Id\\n    created_at: Created\\n"
    ...                  "    amount: {value: 0}\\n")
    >>> load_mapping(p)["deals"]["columns"]["amount"]
    {'value': 0}
    """
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such mapping file.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _mapping_error(path, f"not readable YAML ({exc})") from None
    if not isinstance(spec, dict) or not spec:
        raise _mapping_error(path, "expected one entry per canonical table (leads:, deals:, ...)")
    out: dict[str, dict] = {}
    for table, entry in spec.items():
        if table in _META_KEYS:
            if not isinstance(entry, str):
                raise _mapping_error(path, f"{table}: expected a line of text")
            continue
        if table not in TABLES:
            close = difflib.get_close_matches(str(table), list(TABLES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _mapping_error(path, f"{table!r} is not a canonical table{hint}")
        if not isinstance(entry, dict) or not isinstance(entry.get("columns"), dict):
            raise _mapping_error(path, f"{table}: needs a 'columns:' block")
        unknown = set(entry) - _TABLE_KEYS
        if unknown:
            raise _mapping_error(path, f"{table}: unknown key(s) {', '.join(sorted(unknown))}")
        columns: dict[str, object] = {}
        for col, src in entry["columns"].items():
            if src is None:
                if col in {c.name for c in TABLES[table].required}:
                    raise _mapping_error(
                        path, f"{table}.{col} is required but not mapped; name its column"
                    )
                continue
            if isinstance(src, dict):
                bad = set(src) - _COLUMN_KEYS
                if bad or sum(k in src for k in ("column", "value", "row_number")) != 1:
                    raise _mapping_error(
                        path,
                        f"{table}.{col}: give either 'column:', 'value:' or 'row_number:' (and "
                        "optionally 'format:', 'year:', 'values:' or 'when:')",
                    )
                if "year" in src and "format" not in src:
                    raise _mapping_error(path, f"{table}.{col}: 'year:' needs a 'format:'")
                if "when" in src and (not isinstance(src["when"], dict) or len(src["when"]) != 1):
                    raise _mapping_error(path, f"{table}.{col}: 'when:' takes one column: value")
            elif not isinstance(src, str | int | float | bool):
                raise _mapping_error(path, f"{table}.{col}: expected a column name")
            columns[str(col)] = src
        missing = [c.name for c in TABLES[table].required if c.name not in columns]
        if missing:
            raise _mapping_error(path, f"{table}: required column(s) {', '.join(missing)} missing")
        join = entry.get("join")
        if join is not None and (
            not isinstance(join, dict) or set(join) != {"file", "key"} or not join["key"]
        ):
            raise _mapping_error(path, f"{table}: 'join:' needs 'file:' and 'key:'")
        out[table] = {**entry, "columns": columns}
    return out


def mapping_about(mapping: str | Path | Mapping) -> str:
    """The mapping's ``about:`` text (source and licence of the data), or ``""``.

    Examples
    --------
    >>> mapping_about({"about": "Data: X, CC BY 4.0.", "leads": {}})
    'Data: X, CC BY 4.0.'
    """
    if isinstance(mapping, Mapping):
        spec = mapping
    else:
        try:
            spec = yaml.safe_load(Path(mapping).read_text(encoding="utf-8-sig"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            return ""
    about = spec.get("about") if isinstance(spec, dict) else None
    return about.strip() if isinstance(about, str) else ""


def _files(table: str, entry: dict, data: Path, mapping_path: Path) -> list[Path]:
    pattern = entry.get("file")
    if pattern is None:
        if data.is_file():
            return [data]
        raise _mapping_error(mapping_path, f"{table}: name the file to read with 'file:'")
    base = data if data.is_dir() else data.parent
    hits = sorted(base.glob(str(pattern)))
    if not hits:
        raise FileNotFoundError(
            f"{mapping_path.name}: {table}: no file matches {pattern!r} in {base}."
        )
    return hits


def _apply(table: str, entry: dict, df: pd.DataFrame, file: str, notes: list) -> pd.DataFrame:
    kinds = {c.name: c.kind for c in TABLES[table].columns.values()}
    by_key = {header_key(c): c for c in df.columns}
    out: dict[str, object] = {}
    used: set[str] = set()
    for col, src in entry["columns"].items():
        spec = src if isinstance(src, dict) else {"column": src}
        if "value" in spec:
            out[col] = pd.Series([spec["value"]] * len(df), dtype="object").astype("string")
            continue
        if "row_number" in spec:
            out[col] = pd.Series(range(1, len(df) + 1), index=df.index).astype("string")
            continue
        sources = spec["column"] if isinstance(spec["column"], list) else [spec["column"]]
        names = []
        for source in sources:
            name = by_key.get(header_key(source))
            if name is None:
                raise missing_column(file, list(df.columns), [str(source)], table, col)
            names.append(name)
        used.update(names)
        name = " ".join(names)
        raw = df[names[0]] if len(names) == 1 else df[names].astype("string").agg(" ".join, axis=1)
        raw = raw.rename(name)
        if "year" in spec:
            raw = raw.astype("string") + f" {int(spec['year'])}"
            spec = {**spec, "format": f"{spec['format']} %Y"}
        kind = kinds.get(col)
        if "values" in spec:
            values = {str(k): v for k, v in dict(spec["values"]).items()}
            out[col] = raw.map(lambda v, m=values: m.get(v, v), na_action="ignore").astype("string")
        elif "format" in spec:
            parsed = pd.to_datetime(raw, format=str(spec["format"]), errors="coerce")
            bad = parsed.isna() & raw.notna()
            if bad.any():
                raise ValidationError(
                    [
                        Finding(
                            table,
                            col,
                            f"{file}: {int(bad.sum())} values in {name!r} do not match the "
                            f"format {spec['format']!r}",
                            int(bad.sum()),
                            examples=tuple(repr(v) for v in raw[bad].head(3)),
                        )
                    ]
                )
            if kind in ("timestamp", "date") and parsed.dt.tz is None:
                zone = entry.get("tz") if kind == "timestamp" else None
                parsed = parsed.dt.tz_localize(zone or "UTC").dt.tz_convert("UTC")
            out[col] = parsed
        elif kind in ("timestamp", "date"):
            out[col] = parse_times(
                raw,
                tz=entry.get("tz"),
                file=file,
                table=table,
                column=col,
                dayfirst=entry.get("dayfirst"),
                notes=notes,
            )
        elif kind == "number":
            out[col] = parse_amounts(raw, file=file, table=table, column=col)
        else:
            out[col] = raw
        if "when" in spec:
            ((where, equals),) = spec["when"].items()
            cond = by_key.get(header_key(where))
            if cond is None:
                raise missing_column(file, list(df.columns), [str(where)], table, col)
            keep = df[cond].astype("string").eq(str(equals)).fillna(False)
            out[col] = pd.Series(out[col], index=df.index).where(keep)
        if "year" in spec:
            n = int(pd.Series(out[col]).notna().sum())
            notes.append(_assumed_year(table, col, file, name, int(spec["year"]), n))
    frame = pd.DataFrame(out, index=df.index)
    if entry.get("keep_other_columns", True):
        for c in df.columns:
            if c not in used and c not in frame.columns:
                frame[c] = _numbers_if_all(df[c])
    return frame.reset_index(drop=True)


def _numbers_if_all(s: pd.Series) -> pd.Series:
    """A kept column as numbers when every value is one, else as it is; ids and codes with a
    leading zero (zip codes, phone numbers) stay text."""
    num = pd.to_numeric(s, errors="coerce")
    is_id = str(s.name).lower().endswith(("id", "ids"))
    zero = s.astype("string").str.strip().str.match(r"0\d").fillna(False).any()
    if s.notna().any() and num.notna().sum() == s.notna().sum() and not is_id and not zero:
        return num.astype("float64")
    return s


def _assumed_year(table: str, col: str, file: str, name: str, year: int, n: int) -> Finding:
    return Finding(
        table,
        col,
        f"{file}: {n:,} dates in {name!r} carry no year; the mapping puts every one in {year}",
        n,
        severity="warning",
        action="Kept; months and days are as exported, the year is an assumption: read no "
        "trend across years from these dates",
    )


def _joined(table: str, entry: dict, df: pd.DataFrame, base: Path, file: str, notes: list):
    """``df`` left-joined with the file ``entry['join']`` names, on its key."""
    join = entry["join"]
    key = join["key"]
    left, right = (key["left"], key["right"]) if isinstance(key, dict) else (key, key)
    hits = sorted(base.glob(str(join["file"])))
    if not hits:
        raise FileNotFoundError(f"{table}: join: no file matches {join['file']!r} in {base}.")
    other = pd.concat(
        [
            read_table_file(h, encoding=entry.get("encoding"), delimiter=entry.get("delimiter"))[0]
            for h in hits
        ],
        ignore_index=True,
    )
    lk = {header_key(c): c for c in df.columns}.get(header_key(left))
    rk = {header_key(c): c for c in other.columns}.get(header_key(right))
    if lk is None:
        raise missing_column(file, list(df.columns), [str(left)], table, "join")
    if rk is None:
        raise missing_column(hits[0].name, list(other.columns), [str(right)], table, "join")
    dup = other[rk].notna() & other.duplicated(rk, keep=False)
    if dup.any():
        raise ValidationError(
            [
                Finding(
                    table,
                    "join",
                    f"{hits[0].name}: {int(dup.sum())} rows share a {rk!r} value; a joined "
                    "file needs one row per key",
                    int(dup.sum()),
                    examples=tuple(repr(v) for v in other.loc[dup, rk].head(3)),
                )
            ]
        )
    unmatched = other[rk].notna() & ~other[rk].isin(df[lk].dropna())
    if unmatched.any():
        notes.append(
            Finding(
                table,
                "join",
                f"{hits[0].name}: {int(unmatched.sum())} rows match no row of {file} on {rk!r}",
                int(unmatched.sum()),
                examples=tuple(repr(v) for v in other.loc[unmatched, rk].head(3)),
                severity="warning",
                action="Not loaded: they have no row to join to",
            )
        )
    other = other.rename(columns={rk: "__join_key__"})
    clash = {c: f"{c}_2" for c in other.columns if c in df.columns}
    merged = df.merge(other.rename(columns=clash), how="left", left_on=lk, right_on="__join_key__")
    return merged.drop(columns="__join_key__").set_axis(df.index)


def read_mapped(
    data: str | Path, mapping: str | Path | Mapping, *, tz: str | None = None
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read the files a mapping names (relative to ``data``) into canonical tables.

    ``tz`` is used for tables whose mapping sets no ``tz`` of its own.
    """
    data = Path(data)
    if isinstance(mapping, Mapping):
        path = Path("mapping")
        spec = mapping
    else:
        path = Path(mapping)
        spec = load_mapping(path)
    spec = {t: e for t, e in spec.items() if t not in _META_KEYS}
    if data.is_file() and sum("file" not in e for e in spec.values()) > 1:
        raise _mapping_error(path, "several tables without 'file:' but one input file")
    tables: dict[str, pd.DataFrame] = {}
    notes: list[Finding] = []
    for table, entry in spec.items():
        entry = {**entry, "tz": entry.get("tz", tz)}
        frames = []
        for file in _files(table, entry, data, path):
            df, found = read_table_file(
                file, encoding=entry.get("encoding"), delimiter=entry.get("delimiter")
            )
            notes += found
            if entry.get("join"):
                df = _joined(table, entry, df, file.parent, file.name, notes)
            frames.append(_apply(table, entry, df, file.name, notes))
        tables[table] = pd.concat(frames, ignore_index=True)
    return tables, notes
