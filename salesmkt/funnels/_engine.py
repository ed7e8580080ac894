"""The event-funnel engine: Ibis expressions that run on DuckDB, Spark or any SQL backend (private).

The engine builds one row per *chain start* (a step-1 event for ordered and strict funnels, any
step event for any-order funnels) holding the timestamps ``t0 .. t{n-1}`` of the chain's steps
(null from the first step it did not reach), whether the chain is void (an exclusion event fell
inside it) and whether it is still open (its window had not closed at ``as_of``). From that it
picks one chain per person (:meth:`Engine.persons`) or per person and entry period
(:meth:`Engine.cohorts`); the summaries are done in pandas by :mod:`salesmkt.funnels`.

"The next step-k event at or after time t" is the one primitive (:meth:`Engine._next`): on
DuckDB it is an ``ASOF LEFT JOIN`` (DuckDB's native as-of join, one sort-merge pass); on backends
without as-of joins (Spark) it is a running minimum over a window ordered by time. Greedy
"earliest next step" chains are exact for the windowFunnel definition because taking the
earliest next event can only leave more room for later steps.

On the in-process DuckDB, per-person results of ordered funnels without exclusions or gaps
(the default funnel) take :mod:`salesmkt.funnels._kernel` instead: one sorted scan and a
compiled pass per person, the way ClickHouse's ``windowFunnel`` works. The SQL here stays the
definition (the tests hold both to the brute-force reference) and the path for every other
backend, where the data is not local.
"""

from __future__ import annotations

import uuid

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from salesmkt._base.quiet import quiet
from salesmkt.data.periods import IBIS_UNITS
from salesmkt.funnels._frontier import frontier_chains
from salesmkt.funnels._spec import FunnelSpec, Matcher

_ASOF_BACKENDS = {"duckdb"}


# DuckDB built-ins: the UTC epoch of a timestamp in any zone, and the naive timestamp of it.
@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(x: dt.Timestamp(timezone="UTC")) -> dt.int64: ...


@ibis.udf.scalar.builtin(name="make_timestamp")
def _naive(x: dt.int64) -> dt.Timestamp(scale=6): ...


def _interval(td: pd.Timedelta):
    ms = int(td / pd.Timedelta(milliseconds=1))
    if ms % 1000 == 0:
        return ibis.interval(seconds=ms // 1000)
    return ibis.interval(milliseconds=ms)


class Engine:
    """One funnel computation over one Ibis table; temporary tables are dropped by ``close``."""

    def __init__(
        self, table: ir.Table, spec: FunnelSpec, *, method: str = "auto", naive: bool = False
    ):
        self.spec = spec
        self.source = table
        self.con = table.get_backend()
        name = self.con.name
        if method == "auto":
            method = "asof" if name in _ASOF_BACKENDS else "window"
        if method not in ("asof", "window"):
            raise ValueError(f"method must be 'auto', 'asof' or 'window', got {method!r}")
        if method == "asof" and name not in _ASOF_BACKENDS:
            raise ValueError(f"method='asof' needs DuckDB; this table lives on {name}")
        self.method = method
        self._temp: list[str] = []
        self._cached: list[ir.Table] = []
        p, ts = spec.person_col, spec.ts_col
        self.valid = table[p].notnull() & table[ts].notnull()
        self.ts_type = table[ts].type()
        # On DuckDB, arithmetic on TIMESTAMPTZ goes through ICU's calendar functions (5x slower
        # than on plain timestamps at 10M events), so per-person runs work on naive UTC times;
        # the caller reads them back as UTC. Not for periods, which follow the session's zone.
        self.naive = naive and self.con.name == "duckdb" and self.ts_type.timezone is not None
        if self.naive:
            self.ts_type = dt.Timestamp(scale=6)
        self.W = _interval(spec.window)
        self._steps: dict[int, ir.Table] = {}
        self._step_events: ir.Table | None = None
        self._levels: set[str] = set()
        #: Materialise intermediate tables (set by the caller from the input's size: on small
        #: inputs the round trips cost more than they save).
        self.materialize = True

    # --- plumbing ------------------------------------------------------------------------

    def cache(self, expr: ir.Table) -> ir.Table:
        """Materialise ``expr`` (a temp table on DuckDB, ``.cache()`` elsewhere) when the input
        is large enough for it to pay off (``self.materialize``)."""
        if not self.materialize:
            return expr
        if self.con.name == "duckdb":
            name = f"_salesmkt_funnel_{uuid.uuid4().hex[:12]}"
            self._temp.append(name)
            with quiet():
                return self.con.create_table(name, expr, temp=True)
        with quiet():
            cached = expr.cache()
        self._cached.append(cached)
        return cached

    def release_previous(self) -> None:
        """Drop the temp table made before the last one (a chain level no longer needed)."""
        if self.con.name == "duckdb" and len(self._temp) >= 2 and self._temp[-2] in self._levels:
            self.con.drop_table(self._temp.pop(-2), force=True)
        if self._temp:
            self._levels.add(self._temp[-1])

    def close(self) -> None:
        for name in self._temp:
            self.con.drop_table(name, force=True)
        for cached in self._cached:
            cached.release()
        self._temp, self._cached = [], []

    def scalar(self, expr):
        """Run ``expr`` and return a pandas DataFrame (through Arrow: Ibis 12's own pandas
        conversion took 5x longer than the query on half a million rows)."""
        with quiet():
            return self.con.to_pyarrow(expr).to_pandas()

    def literal_ts(self, value: pd.Timestamp):
        tz = getattr(self.ts_type, "timezone", None)
        value = pd.Timestamp(value)
        if value.tzinfo is None:
            value = value.tz_localize("UTC")
        value = value.tz_convert("UTC")
        if tz is None:
            value = value.tz_localize(None)
        return ibis.literal(value, type=self.ts_type)

    def match(self, matcher: Matcher) -> ir.BooleanValue:
        t, col = self.source, self.spec.event_col
        if isinstance(matcher, str):
            return t[col] == matcher
        if isinstance(matcher, tuple):
            return t[col].isin(list(matcher))
        expr = matcher(t)
        if not isinstance(expr, ir.BooleanValue):
            raise TypeError(f"a step function must return a boolean Ibis column, got {type(expr)}")
        return expr

    def _columns(self) -> dict:
        t, s = self.source, self.spec
        ts = _naive(_epoch_us(t[s.ts_col])) if self.naive else t[s.ts_col]
        cols = {"p": t[s.person_col], "ts": ts}
        if s.by is not None:
            cols["b"] = t[s.by]
        return cols

    def events_of(self, matcher: Matcher) -> ir.Table:
        """Valid rows matching ``matcher``: columns ``p, ts`` (and ``b`` with a breakdown)."""
        return self.source.filter(self.valid & self.match(matcher)).select(**self._columns())

    def step_events(self) -> ir.Table:
        """All rows matching some step, with one boolean column ``m{k}`` per step: one scan of
        the source instead of one per step."""
        if self._step_events is None:
            flags = {f"m{k}": self.match(st.matcher) for k, st in enumerate(self.spec.steps)}
            anymatch = ibis.literal(False)
            for flag in flags.values():
                anymatch = anymatch | flag.fill_null(False)
            t = self.source.filter(self.valid & anymatch)
            cols = {**self._columns(), **{k: v.fill_null(False) for k, v in flags.items()}}
            self._step_events = self.cache(t.select(**cols))
        return self._step_events

    def step(self, k: int) -> ir.Table:
        if k not in self._steps:
            t = self.step_events()
            keep = ["p", "ts", "b"] if self.spec.by is not None else ["p", "ts"]
            self._steps[k] = t.filter(t[f"m{k}"]).select(*keep)
        return self._steps[k]

    def _first_per_person(self, t: ir.Table) -> ir.Table:
        order = ["ts", "b"] if "b" in t.columns else ["ts"]
        w = ibis.window(group_by="p", order_by=order)
        return t.mutate(_rn=ibis.row_number().over(w)).filter(ibis._._rn == 0).drop("_rn")

    # --- the primitive: next right-hand time at or after a left-hand key ---------------------

    def _next(self, left: ir.Table, key: str, right: ir.Table, *, strict: bool) -> ir.Table:
        """``left`` plus column ``nx``: per row, the earliest ``right.ts`` of the same person
        with ``right.ts >= left[key]`` (``>`` when ``strict``); null when there is none or the
        key is null."""
        r = right.select(_rp="p", _rt="ts")
        if self.method == "asof":
            cond = left[key] < r._rt if strict else left[key] <= r._rt
            j = left.asof_join(r, on=cond, predicates=[left.p == r._rp])
            out = j.select(*left.columns, nx=j._rt)
        else:
            # Left rows sort before right rows at the same time for ">=" and after them for ">",
            # so a running minimum over the rows that follow finds exactly the wanted time.
            lside, rside = (1, 0) if strict else (0, 1)
            lrows = left.mutate(
                _k=left[key], _side=ibis.literal(lside), _rt=ibis.null(r._rt.type())
            )
            nulls = {c: ibis.null(left[c].type()) for c in left.columns if c != "p"}
            rrows = r.select(p=r._rp, **nulls, _k=r._rt, _side=ibis.literal(rside), _rt=r._rt)
            u = lrows.union(rrows.select(*lrows.columns))
            w = ibis.window(group_by="p", order_by=["_k", "_side"], preceding=0, following=None)
            u = u.mutate(nx=u._rt.min().over(w))
            out = u.filter(u._side == lside).select(*left.columns, "nx")
        return out.mutate(nx=ibis.ifelse(out[key].isnull(), ibis.null(out.nx.type()), out.nx))

    # --- chains per start --------------------------------------------------------------------

    def starts(self, as_of, *, prune: bool = False) -> ir.Table:
        """One row per chain start: ``p, s, t0..t{n-1}, depth, void, open`` (+ ``b``).

        With ``prune`` (ordered funnels without exclusions), starts that lead to the same
        step-2 event are reduced to the latest one: they follow the same chain, and the latest
        start leaves the most room in the window, so it is at least as deep and is the one
        :meth:`persons` would pick. Only per-person results may use it (not :meth:`cohorts`).
        Without exclusions and gaps, pruned chains advance as a shrinking frontier
        (:func:`~salesmkt.funnels._frontier.frontier_chains`).
        """
        order, s = self.spec.order, self.spec
        if order == "ordered" and prune and not s.exclude and all(g is None for g in s.gaps):
            chains = frontier_chains(self)
        elif order == "ordered":
            chains = self._ordered(prune=prune and not self.spec.exclude)
        else:
            chains = {"strict": self._strict, "any": self._any}[order]()
        return self._finish(chains, as_of)

    def _gap_ok(self, k: int, prev, cur):
        gap = self.spec.gaps[k]
        return ibis.literal(True) if gap is None else cur <= prev + _interval(gap)

    def _ordered(self, *, prune: bool = False) -> ir.Table:
        s, n = self.spec, self.spec.n
        first = self.step(0)
        if s.entry == "first":
            first = self._first_per_person(first)
        keep = ["p", "b"] if s.by is not None else ["p"]
        chain = first.select(*keep, s=first.ts, t0=first.ts)
        for k in range(1, n):
            prev = f"t{k - 1}"
            j = self._next(chain, prev, self.step(k), strict=s.strict_increase)
            if prune and k == 1 and s.entry == "any":
                j = j.group_by(*keep, "nx").agg(s=j.s.max()).mutate(t0=ibis._.s)
            ok = j.nx.notnull() & (j.nx <= j.s + self.W) & self._gap_ok(k, j[prev], j.nx)
            chain = j.mutate(**{f"t{k}": ibis.ifelse(ok, j.nx, ibis.null(j.nx.type()))})
            chain = self.cache(chain.select(*keep, "s", *[f"t{i}" for i in range(k + 1)]))
            self.release_previous()
        for r, rule in enumerate(s.exclude):
            x = self.cache(self.events_of(rule.matcher).select("p", "ts"))
            a, b = f"t{rule.start}", f"t{rule.end}"
            j = self._next(chain, a, x, strict=True)
            inside = ibis.ifelse(j[b].notnull(), j.nx < j[b], j.nx <= j.s + self.W)
            chain = self.cache(j.mutate(**{f"_v{r}": j.nx.notnull() & inside}).drop("nx"))
        void = ibis.literal(False)
        for r in range(len(s.exclude)):
            void = void | chain[f"_v{r}"].fill_null(False)
        chain = chain.mutate(void=void)
        vcols = [f"_v{r}" for r in range(len(s.exclude))]
        return chain.drop(*vcols) if vcols else chain

    def _strict(self) -> ir.Table:
        s, n, t = self.spec, self.spec.n, self.source
        parts = [self.step(k).mutate(i=ibis.literal(k)) for k in range(n)]
        matched = ibis.literal(False)
        for step in s.steps:
            matched = matched | self.match(step.matcher)
        other = t.filter(self.valid & ~matched.fill_null(False)).select(**self._columns())
        parts.append(other.mutate(i=ibis.literal(-1)))
        items = parts[0]
        for part in parts[1:]:
            items = items.union(part.select(*items.columns))
        order = ["ts", "i", "b"] if s.by is not None else ["ts", "i"]
        w = ibis.window(group_by="p", order_by=order)
        leads = {}
        for j in range(1, n):
            leads[f"_i{j}"] = items.i.lead(j).over(w)
            leads[f"_t{j}"] = items.ts.lead(j).over(w)
        starts = items.mutate(**leads).filter(ibis._.i == 0)
        if s.entry == "first":
            starts = self._first_per_person(starts)
        starts = self.cache(starts)
        out = {"s": starts.ts, "t0": starts.ts}
        ok = ibis.literal(True)
        prev = starts.ts
        for j in range(1, n):
            cur = starts[f"_t{j}"]
            ok = ok & (starts[f"_i{j}"] == j) & (cur <= starts.ts + self.W)
            ok = ok & self._gap_ok(j, prev, cur)
            if s.strict_increase:
                ok = ok & (cur > prev)
            out[f"t{j}"] = ibis.ifelse(ok.fill_null(False), cur, ibis.null(cur.type()))
            prev = cur
        keep = ["p", "b"] if s.by is not None else ["p"]
        return self.cache(starts.select(*keep, **out).mutate(void=ibis.literal(False)))

    def _any(self) -> ir.Table:
        s, n = self.spec, self.spec.n
        anchors = self.step(0)
        for k in range(1, n):
            anchors = anchors.union(self.step(k).select(*anchors.columns))
        if s.entry == "first":
            anchors = self._first_per_person(anchors)
        keep = ["p", "b"] if s.by is not None else ["p"]
        chain = self.cache(anchors.select(*keep, s=anchors.ts))
        for k in range(n):
            j = self._next(chain, "s", self.step(k), strict=False)
            chain = self.cache(j.rename({f"_n{k}": "nx"}))
        ok = ibis.literal(True)
        done = None
        out = {}
        for k in range(n):
            nk = chain[f"_n{k}"]
            ok = ok & nk.notnull() & (nk <= chain.s + self.W)
            done = nk if done is None else ibis.greatest(done, nk)
            out[f"t{k}"] = ibis.ifelse(ok.fill_null(False), done, ibis.null(nk.type()))
        return chain.select(*keep, "s", **out).mutate(void=ibis.literal(False))

    def _finish(self, chain: ir.Table, as_of) -> ir.Table:
        s, n = self.spec, self.spec.n
        depth = ibis.literal(0)
        for k in range(n):
            depth = depth + chain[f"t{k}"].notnull().cast("int32")
        chain = chain.mutate(depth=depth)
        last = chain[f"t{n - 1}"]
        for k in range(n - 2, -1, -1):
            last = last.fill_null(chain[f"t{k}"])
        end = self.literal_ts(as_of)
        open_ = (chain.depth < n) & (chain.s + self.W > end)
        if any(g is not None for g in s.gaps):
            cases = [
                (chain.depth == k, last + _interval(g) > end)
                for k, g in enumerate(s.gaps)
                if g is not None
            ]
            open_ = open_ & ibis.cases(*cases, else_=True)
        return chain.mutate(open=open_)

    # --- one chain per person, or per person and period --------------------------------------

    def persons(self, starts: ir.Table) -> ir.Table:
        """The counted chain per person: deepest non-void chain, latest start among equals.

        ``open`` is true when any of the person's non-void chains is still open; ``void`` when
        every chain of the person is void (the person is excluded).
        """
        order = [starts.void, starts.depth.desc(), starts.s.desc()]
        if "b" in starts.columns:
            order.append(starts.b)
        w = ibis.window(group_by="p", order_by=order)
        per = ibis.window(group_by="p")
        live = (starts.open & ~starts.void).cast("int32")
        ranked = starts.mutate(_rn=ibis.row_number().over(w), any_open=live.max().over(per))
        best = ranked.filter(ranked._rn == 0).drop("_rn", "open").rename(open="any_open")
        if self.spec.by is not None and "b" not in best.columns:  # chains left it out
            first = self.step(0)
            j = best.join(first.select("p", "ts", "b"), [best.p == first.p, best.s == first.ts])
            best = j.group_by(*best.columns).agg(b=j.b.min())  # ties: the smallest, as above
        if self.spec.by is not None and self.spec.attribution == "last":
            best = self._last_touch(self.cache(best))
        return best

    def _last_touch(self, best: ir.Table) -> ir.Table:
        parts = [
            self.step(k).select("p", "ts", "b", i=ibis.literal(k + 1)) for k in range(self.spec.n)
        ]
        items = parts[0]
        for part in parts[1:]:
            items = items.union(part)
        last = best[f"t{self.spec.n - 1}"]
        for k in range(self.spec.n - 2, -1, -1):
            last = last.fill_null(best[f"t{k}"])
        keyed = best.mutate(_last=last)
        j = keyed.join(
            items,
            [keyed.p == items.p, keyed.depth == items.i, keyed._last == items.ts],
            how="left",
        )
        lastb = j.group_by(_p=j.p).agg(_lb=j.b_right.min())
        out = keyed.join(lastb, keyed.p == lastb._p, how="left")
        return out.mutate(b=out._lb).drop("_p", "_lb", "_last")

    def cohorts(self, starts: ir.Table, freq: str) -> ir.Table:
        """Per entry period, persons by depth reached: ``period, depth, open, void, persons``."""
        st = starts.mutate(period=starts.s.truncate(IBIS_UNITS[freq]))
        live = ~st.void
        g = st.group_by("p", "period").agg(
            depth=ibis.ifelse(live, st.depth, 0).max(),
            open=(st.open & live).cast("int32").max(),
            void=live.cast("int32").max() == 0,
        )
        return g.group_by("period", "depth", "open", "void").agg(persons=g.p.count())
