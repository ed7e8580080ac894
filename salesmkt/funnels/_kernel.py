"""One compiled pass per person for ordered funnels on the in-process DuckDB engine (private).

The general engine (:mod:`salesmkt.funnels._engine`) expresses every funnel as Ibis/SQL so it
runs in place on Spark, PostgreSQL or a warehouse. On the default in-process DuckDB, the data
is already local, and the commonest funnel (ordered steps, no exclusions, no maximum gaps,
per-person results: :func:`~salesmkt.funnel`, :func:`~salesmkt.time_to_convert`) is cheaper
as ClickHouse's ``windowFunnel`` computes it: one scan, then one pass over each person's
events in time order. Here the scan, the step flags and the sort by person and time are one
Ibis query that DuckDB runs; the pass is a numba kernel over the sorted Arrow columns.

The kernel computes exactly what the SQL chains compute (the tests compare both with the
brute-force reference on random logs): every step-1 event (or only the person's first with
``entry="first"``) starts a greedy chain, which takes the earliest step-*k* event at or after
step *k-1* (strictly after with ``strict_increase``; one event may serve consecutive steps
when it matches both), and stops at the first step outside the window from its start. Per
person: the deepest chain, the latest start among equals; ``open`` when some chain short of
the last step has its window still open at ``as_of``. With a breakdown, the value is the
smallest (by sort order) among the step events at the counted chain's first (or last) step
time, as in the SQL engine.
"""

from __future__ import annotations

import functools
import importlib.util

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesmkt._base.quiet import quiet
from salesmkt.funnels._spec import FunnelSpec

#: Inputs with at least this many rows take the kernel under ``method="auto"``: below it the
#: SQL chains are as fast and the kernel's one-time compilation would not pay off.
KERNEL_ROWS = 100_000
_MAX_STEPS = 62  # step flags travel as bits of one int64
_NULL = np.iinfo(np.int64).min
_BATCH_ROWS = 1 << 20  # sorted events held at a time


def available() -> bool:
    """Whether numba is installed (imported only when a funnel takes the kernel)."""
    return importlib.util.find_spec("numba") is not None


def supports(spec: FunnelSpec, backend: str) -> bool:
    """Whether the kernel computes this funnel: ordered, without exclusions or gaps, on DuckDB."""
    return (
        backend == "duckdb"
        and spec.order == "ordered"
        and not spec.exclude
        and all(g is None for g in spec.gaps)
        and spec.n <= _MAX_STEPS
    )


@functools.cache
def _kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def persons(starts, ts, mask, valid, rank, n, window, as_of, first_only, strict, last_touch):
        """Per person (rows ``starts[g]:starts[g+1]`` of events sorted by time): output row
        index, depth, step times, open flag and breakdown row of the counted chain."""
        n_groups = len(starts) - 1
        out_first = np.empty(n_groups, np.int64)
        depth = np.zeros(n_groups, np.int8)
        times = np.full((n_groups, n), _NULL, np.int64)
        is_open = np.zeros(n_groups, np.bool_)
        bidx = np.full(n_groups, -1, np.int64)
        longest = 0
        for g in range(n_groups):
            longest = max(longest, starts[g + 1] - starts[g])
        nxt = np.empty((longest + 1, n), np.int64)  # next row with step k at or after row i
        tie_lo = np.empty(longest, np.int64)  # first row with the same time as row i
        tie_hi = np.empty(longest, np.int64)  # one past the last row with that time
        tied = np.zeros(1, np.bool_)
        chain = np.empty(n, np.int64)
        best = np.empty(n, np.int64)
        m = 0
        for g in range(n_groups):
            a, e = starts[g], starts[g + 1]
            size = e - a
            for k in range(n):
                nxt[size, k] = -1
            for i in range(size - 1, -1, -1):
                bits = mask[a + i]
                for k in range(n):
                    nxt[i, k] = a + i if (bits >> k) & 1 else nxt[i + 1, k]
            lo = 0
            for i in range(size):
                if i > 0 and ts[a + i] != ts[a + i - 1]:
                    lo = i
                tie_lo[i] = lo
            hi = size
            for i in range(size - 1, -1, -1):
                if i < size - 1 and ts[a + i] != ts[a + i + 1]:
                    hi = i + 1
                tie_hi[i] = hi
            best_depth = 0
            any_open = False
            for i in range(size - 1, -1, -1):
                if not mask[a + i] & 1:
                    continue
                if first_only and nxt[0, 0] != a + i:
                    continue
                start = ts[a + i]
                chain[0] = a + i
                d = 1
                cur = i
                while d < n:
                    j0 = tie_hi[cur] if strict else tie_lo[cur]
                    j = nxt[j0, d]
                    if j < 0 or ts[j] > start + window:
                        break
                    chain[d] = j
                    cur = j - a
                    d += 1
                if d < n and start + window > as_of:
                    any_open = True
                if d > best_depth:
                    best_depth = d
                    for k in range(d):
                        best[k] = chain[k]
            if best_depth == 0:
                continue
            out_first[m] = a
            depth[m] = best_depth
            for k in range(best_depth):
                times[m, k] = ts[best[k]]
            is_open[m] = any_open
            if len(valid) > 0:
                k = best_depth - 1 if last_touch else 0
                r = best[k] - a
                for i in range(tie_lo[r], tie_hi[r]):
                    if (mask[a + i] >> k) & 1 and valid[a + i]:
                        if bidx[m] < 0:
                            bidx[m] = a + i
                        elif len(rank) == 0:
                            tied[0] = True
                        elif rank[a + i] < rank[bidx[m]]:
                            bidx[m] = a + i
            m += 1
        return out_first[:m], depth[:m], times[:m], is_open[:m], bidx[:m], tied[0]

    return persons


def _ranks(values: pa.Array) -> np.ndarray:
    """Codes of ``values`` that sort like the values, -1 for missing."""
    encoded = values.dictionary_encode()
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    position = np.empty(len(order), np.int32)
    position[order] = np.arange(len(order), dtype=np.int32)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return np.where(codes >= 0, position[np.maximum(codes, 0)], -1).astype(np.int32)


def _query(engine):
    """The step events sorted by person and time: ``p, ts, m`` (step bits) and ``b``."""
    spec, t = engine.spec, engine.source
    hits = [engine.match(step.matcher) for step in spec.steps]
    names = [m for step in spec.steps for m in _names(step.matcher)]
    if all(isinstance(step.matcher, str | tuple) for step in spec.steps):
        anymatch = t[spec.event_col].isin(names)  # lets DuckDB filter inside the scan
    else:
        anymatch = ibis.literal(False)
        for hit in hits:
            anymatch = anymatch | hit.fill_null(False)
    bits = "int8" if spec.n < 8 else "int16" if spec.n < 16 else "int32" if spec.n < 32 else "int64"
    mask = ibis.literal(0, type=bits)
    for k, hit in enumerate(hits):  # a missing match is no match (CASE WHEN NULL: else)
        mask = mask + ibis.ifelse(hit, ibis.literal(1 << k, type=bits), ibis.literal(0, type=bits))
    mask = mask.cast(bits)
    cols = {"p": t[spec.person_col], "ts": t[spec.ts_col], "m": mask}
    if spec.by is not None:
        # first touch reads the value on step-1 events only: no need to sort the others'
        cols["b"] = t[spec.by] if spec.attribution == "last" else hits[0].ifelse(t[spec.by], None)
    return t.filter(engine.valid & anymatch).select(**cols).order_by(["p", "ts"])


def _names(matcher) -> tuple[str, ...]:
    return (matcher,) if isinstance(matcher, str) else matcher if isinstance(matcher, tuple) else ()


def _concat(arrays: list, column) -> pa.ChunkedArray:
    if arrays:
        return pa.chunked_array(arrays)
    return pa.chunked_array([], type=column.type().to_pyarrow())


def persons(engine, as_of) -> pd.DataFrame:
    """The counted chain per person, as :meth:`Engine.persons` returns it: ``p, s, t0..t{n-1},
    depth, void, open`` (+ ``b``), for funnels :func:`supports` accepts.

    The sorted events stream from DuckDB in batches; a person whose events straddle two
    batches is carried into the next one, so only one batch is held at a time.
    """
    spec, n = engine.spec, engine.spec.n
    expr = _query(engine)
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    kernel = _kernel()
    parts: dict[str, list] = {"p": [], "times": [], "depth": [], "open": [], "b": []}

    def run(batch: pa.RecordBatch, final: bool) -> pa.RecordBatch | None:
        p = batch.column("p")
        change = pc.not_equal(p.slice(1), p.slice(0, len(p) - 1)).to_numpy(zero_copy_only=False)
        starts = np.concatenate([[0], np.flatnonzero(change) + 1, [len(p)]]).astype(np.int64)
        carry = None
        if not final:  # the last person may go on in the next batch
            carry, batch = batch.slice(starts[-2]), batch.slice(0, starts[-2])
            starts = starts[:-1]
        if len(starts) < 2:
            return carry
        ts = batch.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False)
        mask = batch.column("m").to_numpy(zero_copy_only=False)
        rank, valid = np.empty(0, np.int32), np.empty(0, np.bool_)
        if spec.by is not None:
            valid = pc.is_valid(batch.column("b")).to_numpy(zero_copy_only=False)
        args = (n, window, end, spec.entry == "first", spec.strict_increase,
                spec.attribution == "last")  # fmt: skip
        first, depth, times, is_open, bidx, tied = kernel(starts, ts, mask, valid, rank, *args)
        if tied:  # several values at the same time: the smallest counts, as in the SQL engine
            rank = _ranks(batch.column("b"))
            first, depth, times, is_open, bidx, _ = kernel(starts, ts, mask, valid, rank, *args)
        parts["p"].append(batch.column("p").take(pa.array(first)))
        parts["times"].append(times)
        parts["depth"].append(depth)
        parts["open"].append(is_open)
        if spec.by is not None:
            parts["b"].append(batch.column("b").take(pa.array(bidx, mask=bidx < 0)))
        return carry

    with quiet():
        # DuckDB's own streaming reader: Ibis's ``to_pyarrow_batches`` runs the query to
        # completion first (a materialised copy of the sorted events, 0.3 s more at 10M).
        sql = engine.con.compile(expr)
        reader = engine.con.con.sql(sql).to_arrow_reader(_BATCH_ROWS)
        # times in the unit the backend delivers (us for TIMESTAMP, ns for TIMESTAMP_NS, ...)
        unit = reader.schema.field("ts").type.unit
        one = pd.Timedelta(1, unit=unit)
        window = int(spec.window / one)
        end = int((as_of - pd.Timestamp(0, tz="UTC")) / one)
        carry = None
        for batch in reader:
            if not len(batch):
                continue
            if carry is not None and len(carry):
                batch = pa.Table.from_batches([carry, batch]).combine_chunks().to_batches()[0]
            carry = run(batch, final=False)
        if carry is not None and len(carry):
            run(carry, final=True)
    out = pd.DataFrame({"p": _concat(parts["p"], expr.p).to_pandas()})
    times = np.concatenate(parts["times"]) if parts["times"] else np.empty((0, n), np.int64)
    for k in range(n):
        col = times[:, k].astype(f"datetime64[{unit}]").astype("datetime64[ns]")  # min: NaT
        out[f"t{k}"] = pd.DatetimeIndex(col).tz_localize("UTC")
    out.insert(1, "s", out["t0"])
    out["depth"] = np.concatenate(parts["depth"] or [np.empty(0, np.int8)]).astype(np.int32)
    out["void"] = False
    out["open"] = np.concatenate(parts["open"] or [np.empty(0, bool)])
    if spec.by is not None:
        out["b"] = _concat(parts["b"], expr.b).to_pandas()
    return out
