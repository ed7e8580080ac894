"""Benchmark: a 4-step, 30-day funnel over synthetic event logs, salesmkt against its peers.

Peers, all computing windowFunnel semantics (any step-1 event may start a chain, each next step
at or after the previous one, window inclusive from step 1):

* ``salesmkt``      -- ``salesmkt.funnel`` on an Ibis table over the Parquet file (DuckDB; the
  compiled per-person pass over DuckDB's sorted step events);
* ``chdb``          -- ClickHouse's own ``windowFunnel`` through chdb (in-process ClickHouse);
* ``duckdb_asof``   -- a hand-written DuckDB query of chained ASOF joins;
* ``pandas``        -- pandas ``merge_asof``, one forward as-of merge per step.

Each peer runs in its own long-lived subprocess (so its peak memory is its own), with its
libraries imported before the clock starts; the peers take turns, one run each per round, so
a drifting load on a shared machine hits them alike; the median time is reported (the first
round includes each library's first-use costs). Persons per step must be identical across
peers. Then the cost of a breakdown (``by=``) and of ``time_to_convert`` relative to the plain
funnel, and (``salesmkt_sql``, not a peer) the same funnel through the SQL chains that other
backends run (``method="asof"``).

Usage::

    python benchmarks/bench_funnel.py                  # 1M and 10M events, 3 rounds
    python benchmarks/bench_funnel.py --sizes 100000000 --runs 1 --peers salesmkt

Inputs are generated once into ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
STEPS = ["signup", "activate", "add_to_cart", "purchase"]
OTHER = ["page_view", "search", "logout"]
WINDOW_DAYS = 30
PEERS = ["salesmkt", "chdb", "duckdb_asof", "pandas"]
CHANNELS = np.array(["organic_search", "paid_search", "email", "referral", "direct", "display"])


# --- synthetic event logs ------------------------------------------------------------------


def generate(n_events: int, path: Path, *, seed: int = 42, chunk: int = 5_000_000) -> None:
    """Write ``n_events`` events to Parquet: ~20 events per person, strictly increasing
    timestamps per person (no ties), a funnel-like mix of event types, an event channel."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    kinds = np.array(STEPS + OTHER)
    weights = np.array([0.16, 0.10, 0.08, 0.04, 0.40, 0.17, 0.05])
    start = np.datetime64("2025-01-01T00:00:00", "ms").astype(np.int64)
    schema = pa.schema(
        [
            ("person_id", pa.int64()),
            ("ts", pa.timestamp("ms", tz="UTC")),
            ("event", pa.string()),
            ("channel", pa.string()),
        ]
    )
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        done, next_person = 0, 0
        while done < n_events:
            m = min(chunk, n_events - done)
            sizes = rng.poisson(20, size=m // 10 + 10) + 1
            sizes = sizes[np.cumsum(sizes) <= m]
            sizes = np.append(sizes, m - sizes.sum()) if sizes.sum() < m else sizes
            sizes = sizes[sizes > 0]
            person = np.repeat(np.arange(next_person, next_person + len(sizes)), sizes)
            next_person += len(sizes)
            # gaps of ~1.5 days on average, at least 1 ms: no two events of a person share a time
            gaps = rng.exponential(1.5 * 86_400_000, size=m).astype(np.int64) + 1
            first = np.r_[0, np.cumsum(sizes)[:-1]]
            offset = rng.integers(0, 365 * 86_400_000, size=len(sizes))
            gaps[first] = offset
            ts = start + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first] - offset, sizes)
            table = pa.table(
                {
                    "person_id": person.astype(np.int64),
                    "ts": pa.array(ts, type=pa.timestamp("ms", tz="UTC")),
                    "event": kinds[rng.choice(len(kinds), size=m, p=weights)],
                    "channel": CHANNELS[rng.integers(0, len(CHANNELS), size=m)],
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)
            done += m
    os.replace(tmp, path)


def dataset(n_events: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"events_{n_events}.parquet"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {n_events:,} events -> {path}", flush=True)
        generate(n_events, path)
        print(f"  done in {time.perf_counter() - t:.1f} s", flush=True)
    return path


# --- the peers (each returns persons reaching steps 1..4) ------------------------------------


def run_salesmkt(path: Path, variant: str = "plain") -> list[int]:
    import ibis

    import salesmkt

    con = ibis.duckdb.connect()
    table = con.read_parquet(str(path))
    if variant == "sql":  # the SQL chains every other backend runs (ASOF joins on DuckDB)
        return salesmkt.funnel(table, STEPS, window=f"{WINDOW_DAYS}D", method="asof")[
            "persons"
        ].tolist()
    if variant == "by":
        out = salesmkt.funnel(table, STEPS, window=f"{WINDOW_DAYS}D", by="channel")
        return out.groupby("step")["persons"].sum().tolist()
    if variant == "ttc":
        ttc = salesmkt.time_to_convert(table, STEPS, window=f"{WINDOW_DAYS}D", to_step=4)
        return [-1, -1, -1, len(ttc)]
    return salesmkt.funnel(table, STEPS, window=f"{WINDOW_DAYS}D")["persons"].tolist()


def run_chdb(path: Path) -> list[int]:
    import chdb

    window_ms = WINDOW_DAYS * 86_400_000
    conds = ", ".join(f"event = '{s}'" for s in STEPS)
    query = f"""
        SELECT level, count() AS n FROM (
            SELECT person_id,
                   windowFunnel({window_ms})(toUInt64(toUnixTimestamp64Milli(ts)), {conds}) AS level
            FROM file('{path}', Parquet)
            GROUP BY person_id
        ) GROUP BY level ORDER BY level
    """
    rows = [line.split(",") for line in str(chdb.query(query, "CSV")).strip().splitlines()]
    by_level = {int(a): int(b) for a, b in rows}
    return [sum(n for lv, n in by_level.items() if lv >= k) for k in range(1, len(STEPS) + 1)]


def duckdb_asof_sql(path: Path) -> str:
    steps = "".join(
        f", s{k} AS (SELECT person_id, ts FROM e WHERE event = '{s}')" for k, s in enumerate(STEPS)
    )
    chain = "c1 AS (SELECT person_id, ts AS t1 FROM s0)"
    for k in range(2, len(STEPS) + 1):
        prev = ", ".join(f"c{k - 1}.t{j}" for j in range(1, k))
        chain += (
            f", c{k} AS (SELECT c{k - 1}.person_id, {prev}, s{k - 1}.ts AS t{k} FROM c{k - 1} "
            f"ASOF LEFT JOIN s{k - 1} ON c{k - 1}.person_id = s{k - 1}.person_id "
            f"AND c{k - 1}.t{k - 1} <= s{k - 1}.ts)"
        )
    # A step counts only if every earlier one did: DuckDB 1.5's chained ASOF LEFT JOINs were
    # seen to match rows whose inequality key was NULL, so no later column is trusted alone.
    ok = [
        f"(t{k} IS NOT NULL AND t{k} <= t1 + INTERVAL {WINDOW_DAYS} DAY)"
        for k in range(2, len(STEPS) + 1)
    ]
    depth = " + ".join(f"({' AND '.join(ok[:j])})::INT" for j in range(1, len(ok) + 1))
    return f"""
        WITH e AS (SELECT person_id, ts, event FROM read_parquet('{path}')){steps}, {chain},
        per AS (SELECT person_id, max(1 + {depth}) AS level FROM c{len(STEPS)} GROUP BY person_id)
        SELECT level, count(*) AS n FROM per GROUP BY level ORDER BY level
    """


def run_duckdb_asof(path: Path) -> list[int]:
    import duckdb

    con = duckdb.connect()
    by_level = dict(con.execute(duckdb_asof_sql(path)).fetchall())
    return [sum(n for lv, n in by_level.items() if lv >= k) for k in range(1, len(STEPS) + 1)]


def run_pandas(path: Path) -> list[int]:
    import pandas as pd

    ev = pd.read_parquet(path, columns=["person_id", "ts", "event"])
    window = pd.Timedelta(days=WINDOW_DAYS)
    step = {s: ev.loc[ev["event"] == s, ["person_id", "ts"]].sort_values("ts") for s in STEPS}
    del ev
    alive = step[STEPS[0]].rename(columns={"ts": "t1"})
    level = pd.Series(1, index=alive["person_id"].unique())
    prev = "t1"
    for k, s in enumerate(STEPS[1:], start=2):
        right = step[s].rename(columns={"ts": f"t{k}"})
        alive = pd.merge_asof(
            alive.sort_values(prev),
            right,
            left_on=prev,
            right_on=f"t{k}",
            by="person_id",
            direction="forward",
            allow_exact_matches=True,
        )
        alive = alive[alive[f"t{k}"].notna() & (alive[f"t{k}"] <= alive["t1"] + window)]
        level[alive["person_id"].unique()] = k
        prev = f"t{k}"
    return [int((level >= k).sum()) for k in range(1, len(STEPS) + 1)]


RUNNERS = {
    "salesmkt": run_salesmkt,
    "salesmkt_by": lambda p: run_salesmkt(p, "by"),
    "salesmkt_ttc": lambda p: run_salesmkt(p, "ttc"),
    "salesmkt_sql": lambda p: run_salesmkt(p, "sql"),
    "chdb": run_chdb,
    "duckdb_asof": run_duckdb_asof,
    "pandas": run_pandas,
}


def peak_rss_mb() -> float:
    """This process's peak resident memory. Read from /proc (VmHWM), which starts afresh at
    exec; ``ru_maxrss`` would carry over the parent's peak into a forked child."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


IMPORTS = {"chdb": ["chdb"], "duckdb_asof": ["duckdb"], "pandas": ["pandas", "pyarrow"]}


def child(peer: str, path: Path) -> None:
    """Serve one peer: import its libraries, then run it once per line read from stdin and
    print the time, counts and this process's peak RSS so far."""
    import importlib

    for module in IMPORTS.get(peer, ["ibis", "salesmkt.funnels"]):
        importlib.import_module(module)
    for _ in sys.stdin:
        t = time.perf_counter()
        counts = RUNNERS[peer](path)
        elapsed = time.perf_counter() - t
        print(json.dumps({"time": elapsed, "counts": counts, "peak_mb": peak_rss_mb()}))
        sys.stdout.flush()


def measure(peers: list[str], path: Path, runs: int) -> dict:
    """One long-lived process per peer (so its peak memory is its own, and later runs are
    warm, as in a notebook); the peers take turns, round after round, so a drifting load on
    a shared machine hits them alike. Returns per peer the median time and peak memory."""
    cmd = [sys.executable, __file__, "--path", str(path), "--child"]
    procs = {
        p: subprocess.Popen(
            [*cmd, p],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for p in peers
    }
    runs_of: dict[str, list[dict]] = {p: [] for p in peers}
    for r in range(runs):
        print(f"  round {r + 1}/{runs}", flush=True)
        for peer, proc in procs.items():
            if proc.poll() is not None:
                continue
            proc.stdin.write("run\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if line:
                runs_of[peer].append(json.loads(line))
    results = {}
    for peer, proc in procs.items():
        proc.stdin.close()
        err = proc.stderr.read().strip()
        proc.wait()
        got = runs_of[peer]
        if len(got) < runs:
            results[peer] = {"error": err.splitlines()[-1] if err else "failed"}
            continue
        counts = {tuple(g["counts"]) for g in got}
        if len(counts) != 1:
            results[peer] = {"error": f"counts differ between runs: {sorted(counts)}"}
            continue
        times = [g["time"] for g in got]
        results[peer] = {"times": times, "median_s": statistics.median(times),
                         "counts": got[0]["counts"], "peak_mb": got[-1]["peak_mb"]}  # fmt: skip
    return results


def baseline_mb() -> float:
    """Peak RSS of a child that only imports the libraries (subtract it to compare engines)."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r});" + (
        "import ibis, pandas, duckdb, salesmkt.funnels, bench_funnel as b; print(b.peak_rss_mb())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def report(n: int, results: dict) -> None:
    ok = {p: r for p, r in results.items() if "error" not in r}
    print(f"\n## {n:,} events -- persons per step, median time, peak memory")
    counts = {tuple(r["counts"]) for p, r in ok.items() if p in PEERS}
    same = len(counts) == 1
    print(f"counts identical across peers: {'yes' if same else 'NO'}  {sorted(counts)}")
    others = [r["median_s"] for p, r in ok.items() if p in PEERS and p != "salesmkt"]
    fastest = min(others) if others else float("nan")
    mine = ok.get("salesmkt", {}).get("median_s", float("nan"))
    print(f"{'peer':<14}{'median s':>10}{'peak MB':>10}{'time / fastest other':>22}  counts")
    for p, r in results.items():
        if "error" in r:
            print(f"{p:<14}  error: {r['error']}")
            continue
        ratio = r["median_s"] / fastest
        print(f"{p:<14}{r['median_s']:>10.2f}{r['peak_mb']:>10.0f}{ratio:>22.2f}  {r['counts']}")
    if "salesmkt" in ok:
        print(f"salesmkt / fastest other peer: {mine / fastest:.2f} (target <= 1.2)")
        print(f"salesmkt peak memory: {ok['salesmkt']['peak_mb'] / 1024:.2f} GB (target <= 0.6)")
        for extra in ("salesmkt_by", "salesmkt_ttc"):
            if extra in ok:
                print(f"{extra} / salesmkt: {ok[extra]['median_s'] / mine:.2f} (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--peers", nargs="+", default=[*PEERS, "salesmkt_by", "salesmkt_ttc", "salesmkt_sql"]
    )
    parser.add_argument("--child")
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path)
        return
    print(f"import baseline (python + ibis + pandas + duckdb): {baseline_mb():.0f} MB peak RSS")
    for n in args.sizes:
        path = dataset(n)
        print(f"{n:,} events: {args.runs} rounds of {', '.join(args.peers)}", flush=True)
        report(n, measure(args.peers, path, args.runs))


if __name__ == "__main__":
    main()
