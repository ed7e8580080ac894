"""Reading export files as text columns: encodings, delimiters, Excel, headers.

Everything here reads; nothing writes. A file that cannot be read gives a ``ValueError`` that
names it and says what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from salesmkt.data.validate import Finding

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# --- reading text files ----------------------------------------------------------------------


def decode(path: Path, encoding: str | None = None) -> tuple[str, list[Finding]]:
    """The text of ``path``: a byte-order mark wins, then UTF-8, then Windows-1252 (reported)."""
    data = path.read_bytes()
    if not data.strip():
        raise ValueError(f"{path.name}: the file is empty (no header, no rows).")
    if encoding:
        try:
            return data.decode(encoding), []
        except (UnicodeDecodeError, LookupError) as exc:
            raise ValueError(f"{path.name}: cannot be read as {encoding} ({exc}).") from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).lstrip("\ufeff"), []
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"{path.name}: starts with a {codec} byte-order mark but is not valid "
                    f"{codec} ({exc.reason} at byte {exc.start})."
                ) from None
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise ValueError(
            f"{path.name}: a binary file, or UTF-16 text without a byte-order mark; export it "
            "again as CSV (UTF-8)."
        )
    text = data.decode("cp1252", errors="replace")
    note = Finding(
        "",
        "",
        f"{path.name} is not UTF-8; it was read as Windows-1252 (Western European)",
        0,
        severity="warning",
        action="Check that names with accents look right",
        hint="Pass encoding='...' to salesmkt.load() if the export used another encoding.",
    )
    return text, [note]


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: comma, semicolon, tab or pipe, judged from its first lines."""
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


def read_csv_text(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    drop_lines: re.Pattern | None = None,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Read a CSV export as text columns (every value a string, blanks missing).

    ``drop_lines`` removes matching lines (report footers) before parsing. Values such as
    ``NA`` or ``None`` stay text: only empty cells are missing.
    """
    text, notes = decode(path, encoding)
    if drop_lines is not None:
        text = "\n".join(line for line in text.splitlines() if not drop_lines.match(line))
    if not text.strip():
        raise ValueError(f"{path.name}: the file holds no header and no rows.")
    sep = delimiter or sniff_delimiter(text)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype="string",
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path.name}: the file holds no header and no rows.") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path.name}: not a readable CSV file ({exc}).") from None
    return _clean_header(df, path), notes


def _clean_header(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Strip header names; two columns that then share a name (headers match case-blind) are
    an error, since a loader could not tell which one to read."""
    df.columns = [str(c).strip() for c in df.columns]
    folded = pd.Series([c.casefold() for c in df.columns])
    if folded.duplicated().any():
        dups = sorted(
            {c for c, d in zip(df.columns, folded.duplicated(keep=False), strict=True) if d}
        )
        raise ValueError(
            f"{path.name}: the header repeats column names ({', '.join(map(repr, dups))}); "
            "keep one column of each name and export again."
        )
    return df


def read_table_file(path: Path, **kw) -> tuple[pd.DataFrame, list[Finding]]:
    """A CSV, TSV, TXT or Excel export as text columns."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            df = pd.read_excel(path, dtype=object)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise ValueError(f"{path.name}: not a readable Excel workbook ({exc}).") from None
        df = _clean_header(df, path)
        out = df.apply(lambda s: s.map(_excel_text, na_action="ignore")).astype("string")
        return out, []
    return read_csv_text(path, **kw)


def _excel_text(value: object) -> str:
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "isoformat"):
        text = pd.Timestamp(value).isoformat(sep=" ")
        return text.removesuffix(" 00:00:00") if len(text) == 19 else text
    return str(value)


def header_of(path: Path) -> list[str]:
    """The column names of a CSV/Excel export (read without loading the rows)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return [str(c).strip() for c in pd.read_excel(path, nrows=0).columns]
    with path.open("rb") as fh:
        head = fh.read(65536)
    for bom, codec in _BOMS:
        if head.startswith(bom):
            text = head.decode(codec, errors="ignore").lstrip("\ufeff")
            break
    else:
        text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not lines:
        return []
    row = next(csv.reader([lines[0]], delimiter=sniff_delimiter(text)), [])
    return [c.strip() for c in row]
