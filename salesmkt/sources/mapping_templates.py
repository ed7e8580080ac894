"""A mapping file to start from: ``salesmkt map --init FILE`` (see :mod:`salesmkt.sources.mapping`).

The template names the canonical table the file's header fits best and fills in the columns
whose header obviously means a canonical column (spellings from HubSpot, Salesforce, GA4 and
common CRM exports); required columns with no match are marked ``REQUIRED``.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "deals.csv").write_text("Deal ID,Create Date,Amount\\nD1,2024-03-01,100\\n")
>>> print(mapping_template(folder / "deals.csv").splitlines()[2])
deals:
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from salesmkt._base.atomic import write_text_atomic
from salesmkt.data.schema import TABLES
from salesmkt.sources._common import header_key, snake
from salesmkt.sources._read import header_of

__all__ = ["mapping_template", "write_mapping_template"]

# header spellings (compared as header_key) that obviously mean a canonical column
_GUESSES: dict[str, tuple[str, ...]] = {
    "lead_id": ("lead id", "record id", "contact id", "id", "lead", "customer id", "person id"),
    "deal_id": ("deal id", "opportunity id", "record id", "id", "deal"),
    "session_id": ("session id", "session", "visit id"),
    "visitor_id": ("visitor id", "client id", "user pseudo id", "cookie id", "user id"),
    "person_id": ("person id", "lead id", "contact id", "user id", "customer id"),
    "campaign_id": ("campaign id", "campaign", "utm campaign", "campaign name"),
    "order_id": ("order id", "invoice id", "invoice", "order number"),
    "customer_id": ("customer id", "account id", "company id", "client id"),
    "account_id": ("account id", "company id", "organization id"),
    "owner_id": ("owner id", "owner", "sales rep", "sales owner", "lead owner", "deal owner"),
    "created_at": (
        "created at",
        "create date",
        "created date",
        "created",
        "created on",
        "signup date",
        "date created",
        "first contact date",
    ),
    "started_at": ("started at", "session start", "start time", "timestamp", "date"),
    "ordered_at": ("ordered at", "order date", "invoice date", "purchase date", "date"),
    "closed_at": ("closed at", "close date", "won date", "closed date", "closed"),
    "ts": ("ts", "timestamp", "time", "event time", "date"),
    "date": ("date", "day", "spend date"),
    "channel": ("channel", "source", "lead source", "origin", "utm source", "original source"),
    "amount": ("amount", "value", "deal value", "deal amount", "spend", "cost"),
    "revenue": ("revenue", "amount", "total", "order value", "price"),
    "event": ("event", "event name", "action"),
    "status": ("status", "deal status", "outcome"),
    "stage": ("stage", "deal stage", "pipeline stage"),
    "deal_type": ("deal type", "type", "opportunity type"),
    "quota": ("quota", "target"),
    "period_start": ("period start", "month", "period"),
    "mql_at": ("mql date", "became mql", "mql at", "marketing qualified date"),
    "sql_at": ("sql date", "became sql", "sql at", "sales qualified date"),
    "name": ("name", "campaign name"),
    "product": ("product", "product name", "sku"),
}


def _guess(table: str, header: list[str]) -> dict[str, str | None]:
    keys = {header_key(h): h for h in header}
    snakes = {snake(h): h for h in header}
    taken: set[str] = set()
    guess: dict[str, str | None] = {}
    for col in TABLES[table].columns:
        hit = None
        for option in (header_key(col.replace("_", " ")), *_GUESSES.get(col, ())):
            if option in keys and keys[option] not in taken:
                hit = keys[option]
                break
        if hit is None:
            close = difflib.get_close_matches(col, list(snakes), n=1, cutoff=0.85)
            if close and snakes[close[0]] not in taken:
                hit = snakes[close[0]]
        if hit is not None:
            taken.add(hit)
        guess[col] = hit
    return guess


def _guess_table(header: list[str]) -> str:
    def score(table: str) -> tuple[int, int]:
        g = _guess(table, header)
        req = [c.name for c in TABLES[table].required]
        return (
            sum(g[c] is not None for c in req) - len(req),
            sum(v is not None for v in g.values()),
        )

    return max(TABLES, key=score)


def mapping_template(file: str | Path, *, table: str | None = None) -> str:
    """A YAML mapping for ``file``, with the columns whose name obviously matches filled in.

    Required columns with no match are left empty and marked ``REQUIRED``; optional ones are commented
    out. ``table`` defaults to the canonical table the header fits best.
    """
    file = Path(file)
    header = header_of(file)
    if not header:
        raise ValueError(f"{file.name}: no header row to build a mapping from.")
    if table is None:
        table = _guess_table(header)
    elif table not in TABLES:
        raise ValueError(f"unknown table {table!r}; the tables are: {', '.join(TABLES)}")
    guess = _guess(table, header)
    required = {c.name for c in TABLES[table].required}
    lines = [
        f"# salesmkt column mapping for {file.name}, written by `salesmkt map --init`.",
        "# canonical column: column of the file (or {value: ...}, {column: ..., format: ...}).",
        f"{table}:",
        f"  file: {json.dumps(file.name)}",
        "  columns:",
    ]
    for col, hit in guess.items():
        desc = TABLES[table].columns[col].description
        note = f"  # {desc}" if desc else ""
        if hit is not None:
            lines.append(f"    {col}: {json.dumps(hit)}{note}")
        elif col in required:
            lines.append(f"    {col}:   # REQUIRED: name the column that holds it{note}")
        else:
            lines.append(f"    # {col}:{note}")
    unused = [h for h in header if h not in set(guess.values())]
    if unused:
        lines.append("  # other columns are kept under their own names: " + ", ".join(unused))
    return "\n".join(lines) + "\n"


def write_mapping_template(
    file: str | Path,
    out: str | Path | None = None,
    *,
    table: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write :func:`mapping_template` for ``file`` to ``out`` (default ``<file>.mapping.yml``).

    The write is atomic (a temporary file in the same folder, then a rename); an existing
    mapping is kept unless ``overwrite``.
    """
    file = Path(file)
    out = Path(out) if out is not None else file.with_name(f"{file.stem}.mapping.yml")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (or --force) to replace it.")
    text = mapping_template(file, table=table)
    return write_text_atomic(out, text)
