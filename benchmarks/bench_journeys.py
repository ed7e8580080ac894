"""Journeys and attribution where the data lives: DuckDB on Parquet, beside pandas and PySpark.

Synthetic touchpoints (8 channels, ten touches per person on average, one person in ten
converting within the year) are written straight to Parquet by DuckDB SQL (never through
pandas) and cached under the temp dir. Each peer runs in its own subprocess; the parent
samples its resident memory with psutil (process and children, every 50 ms) and reports the
peak. Every peer runs the same recipe:

    journeys = build_journeys(touchpoints, conversions)       # lazy on an engine
    path_counts(journeys)                                      # unique paths
    attribute(journeys)                                        # every model

* ``duckdb``: Ibis tables over the Parquet files; journeys, unique paths and rule-based credit
  are computed by DuckDB (2 threads, memory limit 1.5 GB, spilling to disk beyond; BENCH_DUCKDB_MEMORY sets it); Markov and Shapley run
  on the unique paths in numpy.
* ``pandas``: the Parquet files read into pandas, the in-memory path.
* ``spark``: PySpark in local mode (2 cores) through Ibis, the same engine path as DuckDB.

The results (unique paths, credit per channel and model) of each peer are compared with the
DuckDB ones. Run from the repository root::

    .venv/bin/python benchmarks/bench_journeys.py                    # 1M touchpoints
    .venv/bin/python benchmarks/bench_journeys.py --rows 10000000 --peers duckdb pandas spark
    .venv/bin/python benchmarks/bench_journeys.py --rows 100000000 --peers duckdb --ids int
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHANNELS = ["paid_search", "organic_search", "email", "display", "paid_social", "referral",
            "direct", "events"]  # fmt: skip
CACHE = Path(tempfile.gettempdir()) / "salesmkt-bench-journeys"


def generate(rows: int, ids: str = "string") -> tuple[Path, Path]:
    """Touchpoints and conversions Parquet files for ``rows`` touches (cached); persons keyed
    by strings (``p000000042``) or by 64-bit integers (``ids="int"``)."""
    import duckdb

    # (each column from the hash of its own number: DuckDB's ``hash(i, k)`` of two values
    # differs from ``hash(i, 1)`` in a few bits only, which made every person's touches one
    # channel in an earlier version of this file)
    folder = CACHE / f"v2-{rows}-{ids}"
    tp, conv = folder / "touchpoints.parquet", folder / "conversions.parquet"
    if tp.exists() and conv.exists():
        return tp, conv
    folder.mkdir(parents=True, exist_ok=True)
    persons = max(rows // 10, 1)
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    person = "CAST({n} AS BIGINT)" if ids == "int" else "'p' || lpad(CAST({n} AS VARCHAR), 9, '0')"
    con = duckdb.connect()
    con.execute(
        "SET TimeZone = 'UTC'; SET memory_limit = '1500MB'; SET preserve_insertion_order = false"
    )
    con.execute(f"""
        COPY (
            SELECT {person.format(n=f"hash(i * 8 + 1) % {persons}")} AS person_id,
                   TIMESTAMPTZ '2025-01-01 00:00:00+00'
                       + to_seconds(CAST(hash(i * 8 + 2) % (365 * 86400) AS BIGINT)) AS ts,
                   {channels}[CAST(hash(i * 8 + 3) % 8 AS INTEGER) + 1] AS channel,
                   CASE WHEN hash(i * 8 + 4) % 4 = 0 THEN NULL
                        ELSE 'c' || CAST(hash(i * 8 + 4) % 40 AS VARCHAR) END AS campaign_id
            FROM range({rows}) t(i)
        ) TO '{tp}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """)  # fmt: skip
    con.execute(f"""
        COPY (
            SELECT {person.format(n="j")} AS person_id,
                   TIMESTAMPTZ '2025-02-01 00:00:00+00'
                       + to_seconds(CAST(hash(j * 8 + 5) % (330 * 86400) AS BIGINT)) AS converted_at,
                   CAST(100 * (1 + hash(j * 8 + 6) % 50) AS DOUBLE) AS value
            FROM range({persons}) t(j)
            WHERE hash(j * 8 + 7) % 10 = 0
        ) TO '{conv}' (FORMAT parquet)
    """)  # fmt: skip
    con.close()
    return tp, conv


# --- one peer, in its own process ----------------------------------------------------------


def _recipe(touchpoints, conversions) -> dict:
    from salesmkt.campaigns.attribution import attribute
    from salesmkt.campaigns.journeys import build_journeys, path_counts

    times = {}
    t0 = time.perf_counter()
    journeys = build_journeys(touchpoints, conversions)
    times["build_journeys"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    paths = path_counts(journeys)
    times["path_counts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    credit = attribute(journeys)
    times["attribute"] = time.perf_counter() - t0
    return {"times": times, "paths": paths, "credit": credit}


def child(peer: str, tp: Path, conv: Path, out: Path) -> None:
    import warnings

    warnings.simplefilter("ignore")
    t_start = time.perf_counter()
    if peer == "duckdb":
        import ibis

        con = ibis.duckdb.connect()
        # the benchmark machine: 2 cores, 2 GB for the whole process (DuckDB spills beyond)
        limit = os.environ.get("BENCH_DUCKDB_MEMORY", "1500MB")
        con.raw_sql(
            f"SET threads = 2; SET memory_limit = '{limit}'; SET preserve_insertion_order = false"
        )
        con.raw_sql(f"SET temp_directory = '{CACHE / 'spill'}'")
        result = _recipe(con.read_parquet(tp), con.read_parquet(conv))
    elif peer == "pandas":
        touchpoints, conversions = pd.read_parquet(tp), pd.read_parquet(conv)
        result = _recipe(touchpoints, conversions)
        result["times"]["read_parquet"] = (
            time.perf_counter() - t_start - sum(result["times"].values())
        )
    elif peer == "spark":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        import ibis
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.master("local[2]")
            .appName("salesmkt-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        con = ibis.pyspark.connect(session)
        t_start = time.perf_counter()  # Spark's start-up is reported apart
        result = _recipe(con.read_parquet(str(tp)), con.read_parquet(str(conv)))
    else:
        raise ValueError(peer)
    result["times"]["total"] = time.perf_counter() - t_start
    result["paths"].to_parquet(out / f"{peer}-paths.parquet")
    result["credit"].to_parquet(out / f"{peer}-credit.parquet")
    (out / f"{peer}-times.json").write_text(json.dumps(result["times"]))


def run_peer(peer: str, tp: Path, conv: Path, out: Path) -> dict:
    import psutil

    cmd = [sys.executable, __file__, "--child", peer, str(tp), str(conv), str(out)]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    ps = psutil.Process(proc.pid)
    peak = 0
    t0 = time.perf_counter()
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"peer": peer, "error": proc.returncode, "wall_s": wall}
    times = json.loads((out / f"{peer}-times.json").read_text())
    return {"peer": peer, "wall_s": wall, "peak_mb": peak / 2**20, **times}


def compare(out: Path, peer: str) -> str:
    a = pd.read_parquet(out / "duckdb-paths.parquet")
    b = pd.read_parquet(out / f"{peer}-paths.parquet")
    same_paths = a["path"].tolist() == b["path"].tolist() and np.array_equal(
        a["total_conversions"], b["total_conversions"]
    )
    ca = pd.read_parquet(out / "duckdb-credit.parquet")
    cb = pd.read_parquet(out / f"{peer}-credit.parquet")
    same_rows = ca.iloc[:, :2].values.tolist() == cb.iloc[:, :2].values.tolist()
    diff = np.nanmax(np.abs(ca["attributed_conversions"] - cb["attributed_conversions"]))
    return f"paths identical: {same_paths}; credit rows identical: {same_rows}; max diff {diff:.2e}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="touchpoints (default 1M)")
    parser.add_argument("--peers", nargs="+", default=["duckdb", "pandas"],
                        choices=["duckdb", "pandas", "spark"])  # fmt: skip
    parser.add_argument("--ids", default="string", choices=["string", "int"],
                        help="person ids: strings (default) or 64-bit integers")  # fmt: skip
    args = parser.parse_args()
    t0 = time.perf_counter()
    tp, conv = generate(args.rows, args.ids)
    print(f"data: {args.rows:,} touchpoints, {pq_rows(conv):,} conversions, {args.ids} ids "
          f"({tp.stat().st_size / 2**20:.0f} MB Parquet; {time.perf_counter() - t0:.1f} s)")  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="bench-journeys-"))
    peers = ["duckdb", *[p for p in args.peers if p != "duckdb"]]
    rows = []
    for peer in peers:
        r = run_peer(peer, tp, conv, out)
        rows.append(r)
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}))
        if peer != "duckdb" and "error" not in r:
            print(f"  {peer} vs duckdb: {compare(out, peer)}")
    table = pd.DataFrame(rows).set_index("peer")
    if "total" in table.columns:
        table["ratio_to_duckdb"] = table["total"] / table.loc["duckdb", "total"]
    print(table.round(2).to_string())


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


if __name__ == "__main__":
    main()
