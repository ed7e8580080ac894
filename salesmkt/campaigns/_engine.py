"""Journeys, path counts and rule-based credit as Ibis expressions (private).

Used by :mod:`salesmkt.campaigns.journeys` and :mod:`salesmkt.campaigns.attribution` when the
touchpoints (or the journeys) are an Ibis table: a DuckDB or Parquet file, PostgreSQL, PySpark or
any other Ibis backend. The work runs where the data lives:

* :func:`build_journeys` returns a lazy Ibis table with the columns of the pandas journeys
  table: one row per person (a hash aggregation joined to the conversions) numbers the
  journeys and holds each window's end; one join keeps the touches in the lookback window;
  one ordered window per journey gives the touch order, sums without an order the touch
  counts and the CRM milestone touches.
* :func:`stored` keeps the columns path counts and attribution read (a Parquet file on
  DuckDB, a temporary table elsewhere), shared by :func:`path_counts` and
  :func:`salesmkt.attribute` on the same journeys object.
* :func:`path_counts` sends one query whose answer is one row per unique path, remembered for
  the stored table: each journey's path is a few 64-bit words (label codes shifted to their
  positions and summed, see :func:`_path_words`) for journeys from :func:`build_journeys`, an
  ordered string or list aggregation for other journeys tables; consecutive repeats are
  collapsed from those unique paths (the same labels between the separators), not by another
  pass over the touches.
* :func:`rule_credits` sends one query over the converting journeys (the others carry no
  credit) whose answer is one row per channel with the
  conversions and value credited under every rule-based model: the per-touch weights (first,
  last, last non-direct, linear, time decay, position-based, W-shaped, full path) are windows
  without an order over each journey's touch keys, the same definitions as
  :mod:`salesmkt.campaigns._rules`.

Touches at the same time are ordered by channel, then campaign (missing last), as the pandas
path orders them, so a database's lack of row order cannot change a path.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from salesmkt._base.quiet import quiet
from salesmkt.data import periods as _periods
from salesmkt.data.validate import Finding, ValidationError, check_columns

US_PER_DAY = 86_400_000_000
SEPARATOR = " > "
DIRECT = "direct"
#: The milestone flags of a touch and the conversion time each is read against.
MILESTONES = (
    ("lead_touch", "lead_created_at"),
    ("deal_touch", "deal_created_at"),
    ("won_touch", "closed_won_at"),
)
#: The journeys' columns, in order (the pandas and the engine path give the same).
JOURNEY_COLUMNS = [
    "journey_id",
    "person_id",
    "converted",
    "conversion_at",
    "conversion_value",
    "n_touches",
    "touch_index",
    "ts",
    "channel",
    "campaign_id",
    "days_before_conversion",
    "lead_touch",
    "deal_touch",
    "won_touch",
    "n_excluded_touches",
]


def is_table(data) -> bool:
    """True for an Ibis table (the engine path); pandas input keeps the pandas path."""
    return isinstance(data, ir.Table)


def require(table: ir.Table, name: str, columns: list[str], caller: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValidationError(
            Finding(name, c, f"{caller} needs this column, which is missing", 0) for c in missing
        )


def _count(flag):
    """1 or 0 for a boolean (PostgreSQL casts no boolean to a bigint or a double)."""
    return ibis.ifelse(flag, 1, 0).cast("int64")


_FZERO = ibis.literal(0).cast("float64")
_FONE = ibis.literal(1).cast("float64")


def _share(flag):
    # from an integer: a float literal is NUMERIC on PostgreSQL, and Ibis drops the cast
    return ibis.ifelse(flag, 1, 0).cast("float64")


def _interval(days: float):
    us = round(pd.Timedelta(days=days) / pd.Timedelta(microseconds=1))
    if us % 1_000_000 == 0:
        return ibis.interval(seconds=us // 1_000_000)
    return ibis.interval(microseconds=us)


def _literal(value: pd.Timestamp, ts_type: dt.DataType):
    """A UTC instant as a literal of the touchpoints' timestamp type (naive: UTC wall time)."""
    if ts_type.timezone is None:
        return ibis.literal(value.tz_convert("UTC").tz_localize(None).to_pydatetime())
    return ibis.literal(value.to_pydatetime(), type=dt.Timestamp(timezone="UTC"))


# --- journeys ------------------------------------------------------------------------------


@ibis.udf.scalar.builtin
def epoch_us(ts: dt.timestamp) -> dt.int64:  # DuckDB's microseconds since the epoch
    ...


def _days_between(ts, end, table: ir.Table):
    """Days from ``ts`` to ``end`` (to the microsecond). On DuckDB from the microseconds since
    the epoch: its difference of two times with a time zone goes through a calendar, several
    times slower."""
    if table.get_backend().name == "duckdb":
        us = epoch_us(end) - epoch_us(ts)
    else:
        us = end.delta(ts, unit="microsecond")
    return us.cast("float64") / float(US_PER_DAY)


#: The count of conversions left out of the journeys because they carry no person id: the
#: ``attrs`` key of the journeys, path counts and attribution that count them (both paths).
WITHOUT_PERSON = "n_conversions_without_person"


def conversion_ids(ids: pd.Series) -> pd.Series:
    """The person ids of a conversions frame. Whole numbers held as floats (an integer column
    with a missing id, which pandas reads as floats) become nullable integers, so that ``7.0``
    is person ``7`` of the touchpoints; a missing id (None, NaN, ``pd.NA``) stays missing."""
    if pd.api.types.is_float_dtype(ids):
        known = ids.dropna().to_numpy(float)
        if np.isfinite(known).all() and (known == np.floor(known)).all():
            return ids.astype("Int64")
    return ids


def count_without_person(conversions, start=None, end=None):
    """The conversions without a person id (ending in ``[start, end)`` when given): they
    cannot belong to a journey. An int for a frame; for an Ibis table a function of no
    argument that counts them there (one query, sent only when the count is read)."""
    if not is_table(conversions):
        missing = conversion_ids(conversions["person_id"]).isna()
        if start is not None or end is not None:
            missing &= _periods.within(conversions["converted_at"], start, end)
        return int(missing.sum())
    c = conversions.filter(conversions.person_id.isnull())
    lo, hi = _periods.to_utc(start), _periods.to_utc(end)
    at_type = c.converted_at.type()
    if lo is not None:
        c = c.filter(c.converted_at >= _literal(lo, at_type))
    if hi is not None:
        c = c.filter(c.converted_at < _literal(hi, at_type))

    def count() -> int:
        with quiet():
            return int(c.count().to_pyarrow().as_py() or 0)

    return count


# The journeys expressions build_journeys made, each with its count of conversions without a
# person id (or the function that counts them), by the expression's operation.
_WITHOUT_PERSON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def without_person(journeys: ir.Table) -> int | None:
    """The conversions without a person id left out of journeys :func:`build_journeys` made
    (None for another table); counted once."""
    n = _WITHOUT_PERSON.get(journeys.op())
    if callable(n):
        n = _WITHOUT_PERSON[journeys.op()] = n()
    return n


def carry_without_person(out: pd.DataFrame, source) -> pd.DataFrame:
    """``out`` (path counts or credit) with ``attrs[WITHOUT_PERSON]`` of the journeys (or path
    counts) it was made from: a frame's ``attrs``, or what is remembered of a journeys table
    :func:`build_journeys` made; nothing when that count is unknown."""
    n = without_person(source) if is_table(source) else source.attrs.get(WITHOUT_PERSON)
    if n is not None:
        out.attrs[WITHOUT_PERSON] = int(n)
    return out


def _key_type(person: ir.Column, conversions) -> str:
    """The type the persons are matched in: integers when both tables key their persons by
    integers (hashing 8 bytes instead of a string, several times faster on 100M touches),
    strings otherwise (as the pandas path, which reads every id as a string)."""
    if not person.type().is_integer():
        return "string"
    if is_table(conversions):
        ok = "person_id" in conversions.columns and conversions.person_id.type().is_integer()
    else:
        ok = "person_id" in conversions.columns and pd.api.types.is_integer_dtype(
            conversion_ids(conversions["person_id"])
        )
    return "int64" if ok else "string"


def _conversions(conversions, ts_type: dt.DataType, key: str = "string") -> ir.Table:
    """One conversion per person as an Ibis table: ``c_person`` (of type ``key``),
    ``converted_at, value`` and the three milestones (typed nulls when absent)."""
    ts_t = dt.Timestamp(timezone=ts_type.timezone)
    if is_table(conversions):
        require(conversions, "conversions", ["person_id", "converted_at"], "build_journeys")
        c = conversions.filter(conversions.person_id.notnull())  # (no journey without a person)
        first = ibis.row_number().over(group_by=c.person_id, order_by=c.converted_at)
        c = c.mutate(_first=first).filter(lambda t: t._first == 0)
        cols = {
            "c_person": c.person_id.cast(key),
            "converted_at": c.converted_at.cast(ts_t),
            "value": c.value.cast("float64") if "value" in c.columns else ibis.null("float64"),
        }
        for _, col in MILESTONES:
            cols[col] = c[col].cast(ts_t) if col in c.columns else ibis.null(ts_t)
        return c.select(**cols)
    check_columns(
        conversions, "conversions", ["person_id", "converted_at"], caller="build_journeys"
    )
    # (a conversion without a person id belongs to no journey: counted by count_without_person)
    ids = conversion_ids(conversions["person_id"])
    conv = conversions.assign(person_id=ids)[ids.notna().to_numpy()]
    conv = conv.sort_values("converted_at").drop_duplicates("person_id")

    def times(col: str) -> pd.Series:
        if col not in conv.columns:
            return pd.Series(pd.NaT, index=conv.index, dtype="datetime64[us, UTC]")
        s = pd.to_datetime(conv[col], utc=True).astype("datetime64[us, UTC]")
        return s.dt.tz_localize(None) if ts_type.timezone is None else s

    frame = pd.DataFrame(
        {
            "c_person": (
                conv["person_id"].astype("Int64")  # (a missing id stays missing)
                if key == "int64"
                else conv["person_id"].astype("string").astype(object)
            ),
            "converted_at": times("converted_at"),
            "value": (
                pd.to_numeric(conv["value"], errors="coerce").astype(float)
                if "value" in conv.columns
                else np.nan
            ),
            **{col: times(col) for _, col in MILESTONES},
        }
    ).reset_index(drop=True)
    schema = {
        "c_person": key,
        "converted_at": ts_t,
        "value": "float64",
        **{col: ts_t for _, col in MILESTONES},
    }
    return ibis.memtable(frame, schema=schema)


def build_journeys(
    touchpoints: ir.Table,
    conversions,
    *,
    person_col: str,
    lookback_days: float,
    include_non_converting: bool,
    start,
    end,
) -> ir.Table:
    """The journeys table of :func:`salesmkt.build_journeys` as a lazy Ibis expression."""
    require(touchpoints, "touchpoints", [person_col, "ts", "channel"], "build_journeys")
    ts_type = touchpoints["ts"].type()
    if not ts_type.is_timestamp():
        raise ValidationError(
            [
                Finding(
                    "touchpoints", "ts", f"build_journeys needs timestamps here, got {ts_type}", 0
                )
            ]
        )
    t = touchpoints
    key = _key_type(t[person_col], conversions)
    tp = t.select(
        person_id=t[person_col].cast(key),
        ts=t["ts"],
        channel=t["channel"].cast("string"),
        campaign_id=(
            t["campaign_id"].cast("string") if "campaign_id" in t.columns else ibis.null("string")
        ),
    )
    tp = tp.filter(tp.person_id.notnull() & tp.ts.notnull())
    conv = _conversions(conversions, ts_type, key)
    # One row per person (a hash aggregation, not a window over every touch): the last touch,
    # the number of touches, the conversion; the journeys are numbered over these rows.
    # (written apart from ``tp``: a shared subquery would be a CTE that DuckDB stores)
    s = t.filter(t["ts"].notnull())
    seen = s.group_by(p_person=s[person_col].cast(key)).aggregate(
        last=s["ts"].max(), n_all=s.count()
    )
    seen = seen.filter(seen.p_person.notnull())
    p = seen.outer_join(conv, seen.p_person == conv.c_person)
    # (a milestone the conversions lack is no column: its touch flags are false)
    times = [col for _, col in MILESTONES if col in conversions.columns]
    p = p.select(
        p_person=p.p_person.fill_null(p.c_person),
        converted=p.c_person.notnull(),
        converted_at=p.converted_at.cast(ts_type),
        end=p.converted_at.cast(ts_type).fill_null(p["last"]),
        value=p.value,
        n_all=p.n_all.fill_null(0).cast("int64"),
        **{col: p[col].cast(ts_type) for col in times},
    )
    if not include_non_converting:
        p = p.filter(p.converted)
    lo, hi = _periods.to_utc(start), _periods.to_utc(end)
    if lo is not None:
        p = p.filter(p.end >= _literal(lo, ts_type))
    if hi is not None:
        p = p.filter(p.end < _literal(hi, ts_type))
    # (numbered in the order of the ids as strings, as the pandas path numbers them)
    order = p.p_person.cast("string")
    numbered = p.mutate(journey_id=ibis.row_number().over(order_by=order).cast("int64"))
    out = _touch_rows(tp, numbered, lookback_days, times)
    # Path counts and attribution read the journeys keyed by their person: the same rows
    # without numbering them (a sort of every person), see :func:`stored`.
    _WITHOUT_PERSON[out.op()] = count_without_person(conversions, start, end)
    _BY_PERSON[out.op()] = functools.partial(
        _touch_rows, tp, p.mutate(journey_id=p.p_person), lookback_days, times
    )
    return out


# The journeys expressions build_journeys made, each with the same rows keyed by person (a
# function of no argument), by the expression's operation.
_BY_PERSON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _touch_rows(tp: ir.Table, p: ir.Table, lookback_days: float, times: list) -> ir.Table:
    """The journeys' rows: ``p`` holds one row per journey with its ``journey_id``."""
    # The touches in each journey's lookback window, and one row without a touch for a
    # journey whose window holds none (a conversion without touches): an outer join, so the
    # per-person table is read once (DuckDB would store a table read twice).
    k = tp.right_join(
        p,
        [
            tp.person_id == p.p_person,
            tp.ts <= p.end,
            tp.ts >= p.end - _interval(lookback_days),
        ],
    )
    columns = ["journey_id", "p_person", "ts", "channel", "campaign_id", "converted",
               "converted_at", "end", "value", "n_all", *times]  # fmt: skip
    rows = k.select(columns)
    # One sort per journey gives the positions, plain sums every per-journey count; the
    # touch at or before a milestone is the last of the touches at or before it.
    order = [ibis.asc(rows.ts, nulls_first=False), ibis.asc(rows.channel, nulls_first=False),
             ibis.asc(rows.campaign_id, nulls_first=False)]  # fmt: skip
    # (the sums over a whole journey take no order: with one, DuckDB builds a segment tree)
    whole = ibis.window(group_by=rows.journey_id)
    counts = {
        f"_{flag}": _count(rows.ts.notnull() & (rows.ts <= rows[col])).sum().over(whole)
        for flag, col in MILESTONES
        if col in times
    }
    rows = rows.mutate(
        touch_index=ibis.row_number().over(group_by=rows.journey_id, order_by=order).cast("int64"),
        n_touches=rows.ts.count().over(whole).cast("int64"),
        **counts,
    )
    rows = rows.filter(rows.ts.notnull() | (rows.converted & (rows.n_touches == 0)))
    flags = {}
    for flag, col in MILESTONES:
        if col not in times:
            flags[flag] = ibis.literal(False)
            continue
        ok = rows.converted & rows[col].notnull() & rows.ts.notnull()
        at = ibis.greatest(rows[f"_{flag}"] - 1, 0)
        flags[flag] = ok & (rows.touch_index == at)
    out = rows.select(
        journey_id=rows.journey_id,
        person_id=rows.p_person.cast("string"),
        converted=rows.converted,
        conversion_at=rows.converted_at,
        conversion_value=rows.value,
        n_touches=rows.n_touches,
        touch_index=rows.touch_index,
        ts=rows.ts,
        channel=rows.channel,
        campaign_id=rows.campaign_id,
        days_before_conversion=_days_between(rows.ts, rows.end, tp),
        **flags,
        n_excluded_touches=(rows.n_all - rows.n_touches).cast("int64"),
    )
    return out.order_by(["journey_id", "touch_index"])


# --- path counts ---------------------------------------------------------------------------


def _unordered(journeys: ir.Table) -> ir.Table:
    """The journeys without their final row order, which no aggregation needs (and which
    would cost a sort of every touch)."""
    op = journeys.op()
    return op.parent.to_expr() if isinstance(op, ops.Sort) else journeys


def _touched(journeys: ir.Table, by: str, caller: str) -> ir.Table:
    require(
        journeys, "journeys", ["journey_id", "n_touches", "touch_index", "converted", by], caller
    )
    journeys = _unordered(journeys)
    t = journeys.filter(journeys.n_touches > 0)
    return t.mutate(_label=t[by].cast("string").fill_null(f"(no {by})"))


def _ordered_concat(per: ir.Table, key: str, backend: str) -> ir.Table:
    """``per`` grouped by ``key`` with ``path``: labels joined in ``_pos`` order, ``_conv`` and
    ``_value`` (first of each journey), in one aggregation."""
    aggs = dict(_conv=per._conv.max(), _value=per._value.max())
    expr = per.group_by(key).aggregate(
        path=per._label.group_concat(SEPARATOR, order_by=per._pos), **aggs
    )
    if backend != "duckdb":
        try:
            ibis.to_sql(expr, dialect=backend)
            return expr
        except Exception:  # no ordered aggregation here (Spark): sort an array of structs
            pass
    # DuckDB too: a plain list per journey sorted in place is several times faster than its
    # ordered aggregation (which sorts all the rows of every group together)
    pairs = ibis.struct({"p": per._pos, "c": per._label}).collect()
    expr = per.group_by(key).aggregate(_pairs=pairs, **aggs)
    return expr.mutate(path=expr._pairs.sort().map(lambda s: s.c).join(SEPARATOR)).drop("_pairs")


#: At most this many 64-bit words per path (a longer path takes the list aggregation).
MAX_WORDS = 64


def _word_layout(n_labels: int, longest: int) -> tuple[int, int, int]:
    """Bits a label code takes (codes 1 to ``n_labels``), positions a 63-bit word holds, and
    words a path of positions 0 to ``longest`` needs."""
    bits = n_labels.bit_length()
    per_word = 63 // bits
    return bits, per_word, longest // per_word + 1


def _path_words(t: ir.Table, labels: list[str], longest: int) -> tuple[ir.Table, int, int]:
    """Each journey's path as a few 64-bit integers, by plain sums (``t`` is the touched rows
    with ``_label``, ``_conv``, ``_value``; ``touch_index`` numbers each journey's touches
    without repeats).

    A label is a code from 1 to the number of labels, written in ``bits`` bits at its touch's
    position: ``code << (bits * position)`` summed over a journey's touches is the path,
    ``per_word`` positions to a word. Sums need no order and no list per journey, so the
    aggregation spills to disk like any other (the journeys outnumber the memory at 100M
    touches); a code of 0 is a position without a touch.
    Returns the per-journey table (``_w0, _w1, ..., _conv, _value``), ``bits``, ``per_word``.
    """
    bits, per_word, n_words = _word_layout(len(labels), longest)
    codes = ibis.memtable(
        pd.DataFrame({"_code_label": labels, "_code": np.arange(1, len(labels) + 1)}),
        schema={"_code_label": "string", "_code": "int64"},
    )
    t = t.join(codes, t._label == codes._code_label)
    word = t.touch_index // per_word
    shift = (bits * (t.touch_index % per_word)).cast("int32")
    digit = t._code << shift
    words = {f"_w{w}": ibis.ifelse(word == w, digit, 0).sum().cast("int64") for w in range(n_words)}
    per = t.group_by("journey_id").aggregate(**words, _conv=t._conv.max(), _value=t._value.max())
    return per, bits, per_word


def _decode(
    words: np.ndarray, labels: list[str], bits: int, per_word: int
) -> tuple[np.ndarray, np.ndarray]:
    """The paths (``" > "``-joined labels) of the rows of 64-bit words from
    :func:`_path_words`, and the same paths with consecutive repeats made one state."""
    n = len(words)
    shifts = (bits * np.arange(per_word)).astype(np.int64)
    digits = ((words[:, :, None] >> shifts) & ((1 << bits) - 1)).reshape(n, -1)
    names = np.array(["", *labels], dtype=object)

    def joined(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the touches to the front of each row, in position order (a code of 0 is no touch)
        order = np.argsort(digits == 0, axis=1, kind="stable")
        digits = np.take_along_axis(digits, order, axis=1)
        lengths = (digits > 0).sum(axis=1)
        paths = names[digits[:, 0]]
        for j in range(1, int(lengths.max(initial=0))):
            more = lengths > j
            paths[more] = paths[more] + SEPARATOR + names[digits[more, j]]
        return paths, digits

    paths, digits = joined(digits)
    repeat = np.zeros_like(digits, dtype=bool)
    repeat[:, 1:] = digits[:, 1:] == digits[:, :-1]
    return paths, joined(np.where(repeat, 0, digits))[0]


def _unique_paths(table: ir.Table, by: str, caller: str) -> pd.DataFrame:
    """``path, total_conversions, total_journeys, total_conversion_value``, one row per
    unique path, remembered for the stored table.

    Journeys from :func:`build_journeys` (whose touch positions are 0, 1, 2, ... in each
    journey) are assembled as integer words by plain sums (:func:`_path_words`); other
    journeys tables by an ordered list or string aggregation per journey."""
    if _STORED and _STORED[0][2] is table and _STORED[0][3] is not None:
        return _STORED[0][3]
    t = _touched(table, by, caller)
    has_value = "conversion_value" in t.columns
    value = t.conversion_value.cast("float64") if has_value else _FZERO
    t = t.mutate(
        _pos=t.touch_index,
        _conv=_count(t.converted),
        _value=ibis.ifelse(t.converted, value.fill_null(0.0), 0.0),
    )
    words = None
    if table.op() in _NUMBERED:
        info = summary(table, by=by, caller=caller)
        labels, longest = info["labels"], info["longest"]
        if labels and _word_layout(len(labels), longest)[2] <= MAX_WORDS:
            per, bits, per_word = _path_words(t, labels, longest)
            words = [c for c in per.columns if c.startswith("_w")]
    if words is not None:
        out = per.group_by(words).aggregate(
            total_conversions=per._conv.sum(),
            total_conversion_value=per._value.sum().cast("float64"),
            total_journeys=per.count(),
        )
        with quiet():
            df = out.to_pyarrow().to_pandas()
        df["path"], df["_collapsed"] = _decode(df[words].to_numpy(np.int64), labels, bits,
                                               per_word)  # fmt: skip
    else:
        per = _ordered_concat(t, "journey_id", table.get_backend().name)
        out = per.group_by("path").aggregate(
            total_conversions=per._conv.sum(),
            total_conversion_value=per._value.sum().cast("float64"),
            total_journeys=per.count(),
        )
        with quiet():
            df = out.to_pyarrow().to_pandas()
    df = pd.DataFrame(
        {
            "path": df["path"].astype(object),
            "total_conversions": df["total_conversions"].fillna(0).astype(np.int64),
            "total_journeys": df["total_journeys"].astype(np.int64),
            "total_conversion_value": df["total_conversion_value"].fillna(0.0).astype(float),
            **({"_collapsed": df["_collapsed"]} if "_collapsed" in df.columns else {}),
        }
    )
    if _STORED and _STORED[0][2] is table:
        _STORED[0][3] = df
    return df


def _collapsed(paths: pd.DataFrame) -> pd.DataFrame:
    """The unique paths with consecutive repeats of a label made one state (Markov, Shapley),
    summed over the paths that become the same (decoded with the paths when they were read
    as words, see :func:`_decode`; else from the labels between the separators)."""
    if "_collapsed" in paths.columns:
        key = paths["_collapsed"].to_numpy(object)
    else:
        parts = paths["path"].str.split(SEPARATOR, regex=False)
        key = [SEPARATOR.join(label for label, _ in itertools.groupby(p)) for p in parts]
    out = paths.drop(columns=["path", "_collapsed"], errors="ignore")
    return out.groupby(pd.Index(key, name="path"), sort=False).sum().reset_index()


def path_counts(
    journeys: ir.Table, *, by: str = "channel", collapse: bool = False, caller: str = "path_counts"
) -> pd.DataFrame:
    """Unique paths with conversions, non-conversions and value; one query, one row per path
    (over the stored journeys, see :func:`stored`). Consecutive repeats can be collapsed:
    from the unique paths, as the same labels between the separators."""
    df = _unique_paths(stored(journeys, by=by, caller=caller), by, caller)
    if collapse:
        df = _collapsed(df)
    df = df.assign(path=df["path"].astype("string"))
    df["total_null"] = df["total_journeys"] - df["total_conversions"]
    df = df.sort_values(["total_journeys", "path"], ascending=[False, True], ignore_index=True)
    return df[["path", "total_conversions", "total_null", "total_conversion_value"]]


# --- rule-based credit ---------------------------------------------------------------------


# The last journeys table read, stored: [[weak reference to the journeys expression, by,
# stored table, its unique paths once read, its summary once read, what drops it]]. One at a
# time, so a session holds at most one copy in its backend; it is dropped when that journeys
# expression is garbage-collected or another one is read.
_STORED: list = []


def stored(journeys: ir.Table, *, by: str, caller: str) -> ir.Table:
    """The columns path counts and attribution read, computed once and kept by the backend (a
    Parquet file in a temporary folder on DuckDB, a temporary table on PostgreSQL; not on
    Spark, which recomputes).

    On DuckDB the file, not a temporary table: the rows are written as the ordered window
    makes them, so the window has the whole memory limit to itself, and the later queries
    read the compressed columns from disk instead of holding the table in memory (at 100M
    touchpoints a table of 2.1 GB, a file of 280 MB).

    :func:`path_counts` then :func:`salesmkt.attribute` on the same journeys object (and
    ``by``) build the journeys once. The same Python object, not an equal expression: a table
    rebuilt after the data changed is read afresh.
    """
    if _STORED and (_STORED[0][2] is journeys or (_STORED[0][0]() is journeys
                                                  and _STORED[0][1] == by)):  # fmt: skip
        return _STORED[0][2]
    require(journeys, "journeys", ["journey_id", "n_touches", "touch_index", "converted", by],
            caller)  # fmt: skip
    wanted = ["journey_id", "n_touches", "touch_index", "converted", by, "conversion_value",
              "days_before_conversion", *(flag for flag, _ in MILESTONES)]  # fmt: skip
    cols = list(dict.fromkeys(c for c in wanted if c in journeys.columns))
    by_person = _BY_PERSON.get(journeys.op())
    narrow = _unordered(by_person() if by_person is not None else journeys).select(cols)
    if not _caches(journeys):
        if by_person is not None:
            _NUMBERED.add(narrow.op())
        return narrow
    release()
    table, drop = _keep(narrow)
    if by_person is not None:
        _NUMBERED.add(table.op())

    def gone(ref) -> None:
        if _STORED and _STORED[0][0] is ref and not sys.is_finalizing():
            release()

    _STORED.append([weakref.ref(journeys, gone), by, table, None, None, drop])
    return table


def _keep(expr: ir.Table) -> tuple[ir.Table, Callable[[], None]]:
    """``expr`` computed once: the stored table and what drops it."""
    con = expr.get_backend()
    if con.name != "duckdb":
        with quiet():
            table = expr.cache()
        return table, table.release
    folder = tempfile.TemporaryDirectory(prefix="salesmkt-journeys-")
    path = Path(folder.name) / "journeys.parquet"
    try:
        with quiet():
            con.to_parquet(expr, path)
            table = con.read_parquet(path)
    except BaseException:
        folder.cleanup()
        raise

    def drop() -> None:
        try:
            con.drop_view(table.get_name(), force=True)
        finally:  # (the folder goes at exit in any case)
            folder.cleanup()

    return table, drop


def _caches(table: ir.Table) -> bool:
    # Ibis's PySpark cache does not register the in-memory tables (the conversions) that the
    # expression reads, so Spark recomputes instead.
    return table.get_backend().name != "pyspark"


def release() -> None:
    """Drop the stored journeys table, if any."""
    while _STORED:
        drop = _STORED.pop()[5]
        # (when its connection is gone there is nothing left to drop)
        with quiet(), contextlib.suppress(Exception):
            drop()


# The journeys tables made by build_journeys (stored or not) whose touch_index numbers
# each journey's touches 0, 1, 2, ... (so a path can be written position by position).
_NUMBERED: weakref.WeakSet = weakref.WeakSet()


def summary(journeys: ir.Table, *, by: str, caller: str) -> dict:
    """Conversions without touches, their value, whether values exist, the labels, the
    largest touch position (remembered for the stored table)."""
    if _STORED and _STORED[0][2] is journeys and _STORED[0][4] is not None:
        return _STORED[0][4]
    require(
        journeys, "journeys", ["journey_id", "n_touches", "touch_index", "converted", by], caller
    )
    j = journeys
    untouched = j.converted & (j.n_touches <= 0)
    has_value = "conversion_value" in j.columns
    value = j.conversion_value.cast("float64").fill_null(0.0) if has_value else _FONE
    label = j[by].cast("string").fill_null(f"(no {by})")
    expr = j.aggregate(
        untouched_conv=_count(untouched).sum(),
        untouched_value=ibis.ifelse(untouched, value, 0.0).sum().cast("float64"),
        n_values=j.conversion_value.count() if has_value else ibis.literal(0),
        labels=ibis.ifelse(j.n_touches > 0, label, ibis.null("string")).collect(distinct=True),
        n_missing_label=_count(j[by].isnull()).sum(),
        # (journeys from build_journeys number their touches from 0: one first touch each,
        # counted without the distinct journeys' hash table)
        touched_conv=(
            _count(j.converted & (j.n_touches > 0) & (j.touch_index == 0)).sum()
            if journeys.op() in _NUMBERED
            else ibis.ifelse(
                j.converted & (j.n_touches > 0), j.journey_id, ibis.null(j.journey_id.type())
            ).nunique()
        ),
        longest=ibis.ifelse(j.n_touches > 0, j.touch_index, ibis.null("int64")).max(),
    )
    with quiet():
        row = expr.to_pyarrow().to_pylist()[0]  # (None for an empty table)
    has = int(row["n_values"] or 0) > 0
    conv = float(row["untouched_conv"] or 0)
    labels = [str(x) for x in (row["labels"] if row["labels"] is not None else [])]
    out = {
        "untouched_conv": conv,
        "untouched_value": float(row["untouched_value"] or 0.0) if has else conv,
        "has_value": has,
        "labels": sorted(labels),
        "n_labels": len(labels),
        "touched_conv": float(row["touched_conv"] or 0),
        # the pandas path lists "(no <by>)" (with no credit) when any row lacks a label, the
        # placeholder rows of conversions without touches included
        "missing_label": int(row["n_missing_label"] or 0) > 0,
        "has_milestones": all(flag in j.columns for flag, _ in MILESTONES),
        "has_days": "days_before_conversion" in j.columns,
        "longest": int(row["longest"] or 0),
    }
    if _STORED and _STORED[0][2] is journeys:
        _STORED[0][4] = out
    return out


def _key_roles(pos, n, roles: list, key_share: float):
    """Weight of a touch at ``pos`` under a model giving ``key_share`` to each role (reference
    1.3): summed shares for several roles, the rest shared by the other touches, or by the key
    touches in proportion when there are none (as :func:`salesmkt.campaigns._rules._key_roles`)."""
    r = len(roles)
    hits = sum(_count(pos == role) for role in roles)
    distinct = ibis.literal(1)
    for j in range(1, r):
        new = roles[j] != roles[0]
        for i in range(1, j):
            new = new & (roles[j] != roles[i])
        distinct = distinct + _count(new)
    others = n - distinct
    rest = 1.0 - r * key_share
    return ibis.ifelse(
        others > 0,
        ibis.ifelse(hits > 0, key_share * hits.cast("float64"), rest / others.cast("float64")),
        hits.cast("float64") / r,
    )


def rule_credits(
    journeys: ir.Table,
    models: list[str],
    *,
    by: str,
    half_life_days: float,
    has_value: bool,
    caller: str = "attribute",
) -> pd.DataFrame:
    """Conversions and value credited to each label under each rule-based model; one query
    over the converting journeys.

    Returns a frame with the label column ``_label`` and ``<model>__conv``/``<model>__value``.
    """
    t = _touched(journeys, by, caller)
    t = t.filter(t.converted)  # the other journeys carry no credit
    w = ibis.window(group_by=t.journey_id)
    conv = _share(t.converted)
    value = t.conversion_value.cast("float64").fill_null(0.0) * conv if has_value else conv
    # A touch is named by its touch_index ("key"): the key roles (first, last, last non-direct,
    # milestones) are the smallest or largest key of a kind in the journey, so every weight is
    # a window over the journey without an order (no sort by position), and all of them share
    # one window. Comparing keys is comparing positions: the keys of a journey are distinct.
    key = t.touch_index
    days = "days_before_conversion" in t.columns
    first = {
        "_c": conv,
        "_v": value,
        "_n": key.count().over(w),
        "_first": key.min().over(w),
        "_last": key.max().over(w),
        "_best": ibis.ifelse(t._label == DIRECT, ibis.null("int64"), key).max().over(w),
    }
    for flag, _ in MILESTONES:
        if flag in t.columns:
            first[f"_{flag}"] = ibis.ifelse(t[flag], key, ibis.null("int64")).max().over(w)
    if days:
        first["_delta"] = t.days_before_conversion.cast("float64")
        first["_dmin"] = t.days_before_conversion.cast("float64").min().over(w)
    else:  # position stands in for time: the last touch is 0 steps before the end
        first["_pos"] = ibis.row_number().over(group_by=t.journey_id, order_by=key)
    t = t.mutate(**first)
    for flag, _ in MILESTONES:
        if flag in t.columns:  # unknown milestone: the last touch
            t = t.mutate(**{f"_{flag}": t[f"_{flag}"].fill_null(t._last)})
    if days:
        h = float(half_life_days)
        t = t.mutate(_raw=ibis.literal(2.0) ** (-(t._delta - t._dmin) / h))
        t = t.mutate(_rawsum=t._raw.sum().over(w))
    else:
        steps = (t._n - 1 - t._pos).cast("float64")
        # the sum of 2^-k for k < n, in closed form
        t = t.mutate(
            _raw=ibis.literal(2.0) ** (-steps),
            _rawsum=2.0 - ibis.literal(2.0) ** (-(t._n - 1).cast("float64")),
        )
    pos, n = key, t._n

    def milestone(flag: str, name: str, model: str):
        if f"_{flag}" not in t.columns:
            raise ValueError(
                f"{model} needs the {name} milestone of each journey, which aggregated paths do "
                "not have: build journeys with salesmkt.build_journeys() from touchpoints and "
                "conversions that carry lead/deal/closed-won times."
            )
        return t[f"_{flag}"]

    weights = {}
    for model in models:
        if model == "first_touch":
            weights[model] = _share(pos == t._first)
        elif model == "last_touch":
            weights[model] = _share(pos == t._last)
        elif model == "last_non_direct":  # a journey of direct touches only: its last touch
            weights[model] = _share(pos == t._best.fill_null(t._last))
        elif model == "linear":
            weights[model] = 1.0 / n.cast("float64")
        elif model == "time_decay":
            weights[model] = t._raw / t._rawsum
        elif model == "position_based":
            weights[model] = _key_roles(pos, n, [t._first, t._last], 0.4)
        elif model == "w_shaped":
            lead = milestone("lead_touch", "lead-creation", model)
            deal = milestone("deal_touch", "deal-creation", model)
            weights[model] = _key_roles(pos, n, [t._first, lead, deal], 0.3)
        elif model == "full_path":
            lead = milestone("lead_touch", "lead-creation", model)
            deal = milestone("deal_touch", "deal-creation", model)
            won = milestone("won_touch", "closed-won", model)
            weights[model] = _key_roles(pos, n, [t._first, lead, deal, won], 0.225)
    aggs = {}
    for model, wt in weights.items():  # doubles everywhere (PostgreSQL: not NUMERIC)
        wt = wt.cast("float64")
        aggs[f"{model}__conv"] = (wt * t._c).sum().cast("float64")
        aggs[f"{model}__value"] = (wt * t._v).sum().cast("float64")
    expr = t.group_by("_label").aggregate(**aggs) if aggs else t.select("_label").distinct()
    with quiet():
        return expr.to_pyarrow().to_pandas()
