"""Journeys as flat arrays: the one internal form every attribution model reads.

Private to :mod:`salesmkt.campaigns.attribution`. A :class:`Paths` holds the touches of many journeys
back to back (``codes``, ``offsets`` in CSR style) with per-journey conversions, non-converting
count and conversion value. Two constructors: from the tidy table of
:func:`salesmkt.build_journeys` and from aggregated path counts in ChannelAttribution's
format (one row per unique path ``"a > b > c"`` with ``total_conversions``, ``total_null`` and
optionally ``total_conversion_value``). Path strings are split and encoded by Arrow compute
kernels, so a million unique paths parse in well under a second.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesmkt.campaigns import _jit
from salesmkt.data.validate import Finding, ValidationError, check_columns

SEPARATOR = " > "
NO_TOUCH = "(no touch)"


@dataclass(frozen=True)
class Paths:
    """Touches of many journeys back to back.

    ``labels[codes[offsets[j]:offsets[j+1]]]`` is journey ``j``'s channel sequence.
    ``days_before`` (per touch) and the milestone positions (per journey, local 0-based index,
    -1 when unknown) exist only for journeys built from touch-level data.
    """

    labels: np.ndarray
    codes: np.ndarray
    offsets: np.ndarray
    conv: np.ndarray
    null: np.ndarray
    value: np.ndarray
    days_before: np.ndarray | None = None
    lead_pos: np.ndarray | None = None
    deal_pos: np.ndarray | None = None
    won_pos: np.ndarray | None = None
    untouched_conv: float = 0.0
    untouched_value: float = 0.0
    has_value: bool = False

    def sorted(self) -> Paths:
        """The same journeys with the labels in alphabetical order (their codes renumbered),
        as :func:`to_paths` gives them."""
        order = np.argsort(self.labels.astype(str), kind="stable")
        if (order == np.arange(len(order))).all():
            return self
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return replace(
            self, labels=self.labels[order], codes=rank[self.codes].astype(self.codes.dtype)
        )

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def journey_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.conv)), self.lengths)

    @cached_property
    def position(self) -> np.ndarray:
        """0-based position of each touch in its journey."""
        return np.arange(len(self.codes)) - np.repeat(self.offsets[:-1], self.lengths)

    @property
    def total_conversions(self) -> float:
        return float(self.conv.sum()) + self.untouched_conv

    @property
    def total_value(self) -> float:
        return float(self.value.sum()) + self.untouched_value


def _arrow(col: pd.Series) -> pa.ChunkedArray | pa.Array:
    arr = col.array
    if hasattr(arr, "_pa_array"):
        return arr._pa_array
    return pa.array(col.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def _number(df: pd.DataFrame, col: str, table: str) -> np.ndarray:
    series = df[col]
    if pd.api.types.is_numeric_dtype(series.dtype):  # no parsing needed (to_numeric: 15 ms/1M)
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise ValidationError(
            [
                Finding(
                    table,
                    col,
                    f"{bad.size} values missing, negative or not numbers",
                    int(bad.size),
                    rows=tuple(int(i) for i in bad[:3]),
                    examples=tuple(str(df[col].iloc[i]) for i in bad[:3]),
                    hint="Counts and values of aggregated paths must be numbers >= 0.",
                )
            ]
        )
    return values


_PARALLEL_ROWS = 200_000
# Threads for splitting path strings: half the cores (at most 4), so a shared 2-core machine
# stays serial; measured there, a second thread only added contention.
_THREADS = max(1, min((os.cpu_count() or 1) // 2, 4))


def _tokenize(piece) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Tokens per path, the dictionary and each token's index in it, for one slice."""
    parts = pc.split_pattern(piece, SEPARATOR)
    if isinstance(parts, pa.Array):
        parts = pa.chunked_array([parts], type=parts.type)
    lengths = pc.list_value_length(parts).to_numpy().astype(np.int64)
    tokens = pa.chunked_array(
        [pc.list_flatten(c) for c in parts.chunks], type=parts.type.value_type
    )
    del parts
    encoded = pc.dictionary_encode(tokens).unify_dictionaries()
    del tokens
    if encoded.num_chunks == 0:
        return lengths, [], np.zeros(0, np.int32)
    dictionary = encoded.chunks[0].dictionary.to_pylist()
    indices = np.concatenate(
        [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
    ).astype(np.int32)
    return lengths, dictionary, indices


@_jit.large_pass()
def from_path_counts(df: pd.DataFrame, *, caller: str = "attribute") -> Paths:
    """Parse ChannelAttribution-format path counts into :class:`Paths`."""
    check_columns(df, "paths", ["path", "total_conversions"], caller=caller)
    conv = _number(df, "total_conversions", "paths")
    null = _number(df, "total_null", "paths") if "total_null" in df.columns else np.zeros(len(df))
    has_value = "total_conversion_value" in df.columns
    value = _number(df, "total_conversion_value", "paths") if has_value else conv.copy()
    if df["path"].isna().any():
        rows = np.flatnonzero(df["path"].isna().to_numpy())
        raise ValidationError(
            [Finding("paths", "path", f"{rows.size} missing paths", rows.size, tuple(rows[:3]))]
        )
    arr = _arrow(df["path"])
    n = len(arr)
    if n >= _jit.JIT_ROWS and _jit.available():
        fast = _jit.tokenize(arr)
        if fast is not None:
            codes, lengths, labels = fast
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            return Paths(labels, codes, offsets, conv, null, value, has_value=has_value)
    k = _THREADS if n >= _PARALLEL_ROWS else 1
    pieces = [arr.slice(i * n // k, (i + 1) * n // k - i * n // k) for i in range(k)]
    if k > 1:  # Arrow kernels release the GIL: split the pieces in threads
        with ThreadPoolExecutor(k) as pool:
            results = list(pool.map(_tokenize, pieces))
    else:
        results = [_tokenize(pieces[0])]
    lengths = np.concatenate([r[0] for r in results])
    labels_list: list[str] = []
    index: dict[str, int] = {}
    remaps = []
    for _, dictionary, _ in results:
        local = []
        for name in dictionary:
            if name not in index:
                index[name] = len(labels_list)
                labels_list.append(name)
            local.append(index[name])
        remaps.append(np.asarray(local, dtype=np.int32))
    if "" in index:
        owner = []
        at = 0
        for (lens, dictionary, indices), _ in zip(results, remaps, strict=True):
            if "" in dictionary:
                empty = np.flatnonzero(indices == dictionary.index(""))
                owner.extend(at + np.searchsorted(np.cumsum(lens), empty, side="right"))
            at += len(lens)
        owner = np.unique(np.asarray(owner, dtype=np.int64))
        raise ValidationError(
            [
                Finding(
                    "paths",
                    "path",
                    f"{owner.size} paths with an empty channel name",
                    int(owner.size),
                    rows=tuple(int(i) for i in owner[:3]),
                    examples=tuple(repr(df["path"].iloc[i]) for i in owner[:3]),
                    hint=f"Paths are channel names joined by {SEPARATOR!r}.",
                )
            ]
        )
    labels = np.asarray(labels_list, dtype=object)
    codes = (
        np.concatenate(
            [remap[indices] for (_, _, indices), remap in zip(results, remaps, strict=True)]
        )
        if results
        else np.zeros(0, np.int32)
    )
    del results
    offsets = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Labels stay in order of first appearance (re-coding 10^7 touches costs more than it
    # is worth); the public functions sort their output.
    return Paths(labels, codes, offsets, conv, null, value, has_value=has_value)


JOURNEY_COLUMNS = ["journey_id", "touch_index", "n_touches", "converted"]


def _encode(col: pd.Series, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and sorted labels of a column (categoricals reuse their codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int32)
        labels = np.asarray(col.cat.categories.astype(str), dtype=object)
    else:
        codes, uniques = pd.factorize(col, sort=True)
        codes = codes.astype(np.int32)
        labels = np.asarray([str(u) for u in uniques], dtype=object)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes).astype(np.int32)
        labels = np.append(labels, missing)
    order = np.argsort(labels.astype(str), kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        remap = np.empty(len(order), dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
        codes, labels = remap[codes], labels[order]
    return codes, labels


def _column(df: pd.DataFrame, col: str, rows: np.ndarray | None, dtype, na) -> np.ndarray:
    values = df[col].to_numpy(dtype=dtype, na_value=na)
    return values if rows is None else values[rows]


@_jit.large_pass()
def from_journeys(df: pd.DataFrame, *, by: str = "channel", caller: str = "attribute") -> Paths:
    """Turn the tidy journeys table (one row per touch) into :class:`Paths`.

    Works column by column on numpy arrays (no row copies of the frame), so a table of
    millions of touches converts in a fraction of a second.
    """
    check_columns(df, "journeys", [*JOURNEY_COLUMNS, by], caller=caller)
    touched = df["n_touches"].to_numpy(dtype=np.int64, na_value=0) > 0
    has_value = "conversion_value" in df.columns and bool(df["conversion_value"].notna().any())
    converted = df["converted"].to_numpy(dtype=bool, na_value=False)
    conv_untouched = converted & ~touched
    if has_value:
        values_all = df["conversion_value"].to_numpy(dtype=float, na_value=0.0)
        untouched_value = float(values_all[conv_untouched].sum())
    else:
        values_all = None
        untouched_value = float(conv_untouched.sum())
    rows = None if touched.all() else np.flatnonzero(touched)
    jid = _column(df, "journey_id", rows, None, None)
    pos = _column(df, "touch_index", rows, np.int64, 0)
    if len(jid) > 1 and not (
        np.all(jid[1:] >= jid[:-1]) and np.all((jid[1:] != jid[:-1]) | (pos[1:] > pos[:-1]))
    ):
        order = np.lexsort((pos, jid))
        rows = order if rows is None else rows[order]
        jid, pos = jid[order], pos[order]
    starts = np.flatnonzero(np.r_[True, jid[1:] != jid[:-1]]) if len(jid) else np.array([], int)
    offsets = np.r_[starts, len(jid)].astype(np.int64)
    first_rows = starts if rows is None else rows[starts]
    conv = converted[first_rows].astype(float)
    value = values_all[first_rows] * conv if has_value else conv.copy()
    codes, labels = _encode(df[by], f"(no {by})")
    if rows is not None:
        codes = codes[rows]
    days = None
    if "days_before_conversion" in df.columns:
        days = _column(df, "days_before_conversion", rows, float, np.nan)
        if np.isnan(days).any():
            days = None
    journey_of = None

    def milestone(col: str) -> np.ndarray | None:
        nonlocal journey_of
        if col not in df.columns:
            return None
        if journey_of is None:
            journey_of = np.repeat(np.arange(len(starts)), np.diff(offsets))
        hit = np.flatnonzero(_column(df, col, rows, bool, False))
        journey = journey_of[hit]
        out = np.full(len(starts), -1, dtype=np.int64)
        out[journey] = hit - offsets[journey]
        return out

    return Paths(
        labels,
        codes,
        offsets,
        conv,
        1.0 - conv,
        value,
        days,
        milestone("lead_touch"),
        milestone("deal_touch"),
        milestone("won_touch"),
        float(conv_untouched.sum()),
        untouched_value,
        has_value,
    )


def to_paths(data: pd.DataFrame, *, by: str, caller: str) -> Paths:
    """Either input form: aggregated path counts (has ``path``) or the journeys table."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{caller}: journeys must be a pandas DataFrame, got {type(data).__name__}")
    if "path" in data.columns and "journey_id" not in data.columns:
        if by != "channel":
            raise ValueError(
                f"{caller}: aggregated paths name channels only; by={by!r} needs the journeys "
                "table from salesmkt.build_journeys()."
            )
        return from_path_counts(data, caller=caller)
    return from_journeys(data, by=by, caller=caller)
