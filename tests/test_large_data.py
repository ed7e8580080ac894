"""Event-level functions on a large Parquet file and a DuckDB database file, never in pandas.

A synthetic event log is written by DuckDB straight from ``range()`` (5 % of the time it takes
numpy), then ``funnel``, ``funnel_trends`` and ``time_to_convert`` run on Ibis tables over the
file in a child process that reports its own peak RSS (``resource.getrusage``). Counts are
checked against plain DuckDB SQL on the same file.

By default the log has 1M events (a few seconds). ``SALESMKT_LARGE=1`` (set by ``.ci/run``)
makes it 100M events: then the child's peak RSS must stay below the size of the same events
as a pandas DataFrame (``PANDAS_BYTES_PER_EVENT``: 4.5 GiB), which is itself half of what
``pd.read_parquet`` peaks at while reading them. Measured on the 2-core CI machine, quiet:
writing the Parquet file 25 s; on it the three functions 39 s, 2.5 GB peak; on the DuckDB
file (copied from it, 25 s) 40 s, 2.7 GB peak; with the SQL checks 2.8 minutes in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

LARGE = os.environ.get("SALESMKT_LARGE", "") not in ("", "0")
N_EVENTS = 100_000_000 if LARGE else 1_000_000
#: pandas 3 holds this log (int64 person, datetime64 time, two Arrow-backed strings) in 48
#: bytes per event (``memory_usage(deep=True)`` on 10M events: 479 MB), 4.8 GB at 100M, and
#: ``pd.read_parquet`` peaks near twice that (930 MB at 10M).
PANDAS_BYTES_PER_EVENT = 48
#: DuckDB's buffer pool in the child. Without a limit DuckDB may keep up to 80 % of the
#: machine's memory as cache (peaks of 3.1 GB on the Parquet file and 3.9 GB on the DuckDB file
#: at 100M); with it, it spills to disk instead. A team sets it the same way on its connection.
DUCKDB_MEMORY_LIMIT = "2GB"
STEPS = ["signup", "activate", "add_to_cart", "purchase"]

pytestmark = pytest.mark.slow


def events_sql(n: int) -> str:
    """``n`` events of ``n // 20`` persons over a year: 20 events each within 60 days, on whole
    hours (so a person has ties), a funnel-like mix of event names and a channel per event."""
    day, hour = 86_400_000_000, 3_600_000_000
    return f"""
        SELECT i // 20 AS person_id,
               make_timestamptz(CAST(1735689600000000 + (hash(i // 20) % 300) * {day}
                                     + (hash(i + 1) % 1440) * {hour} AS BIGINT)) AS ts,
               CASE WHEN h < 16 THEN 'signup' WHEN h < 26 THEN 'activate'
                    WHEN h < 34 THEN 'add_to_cart' WHEN h < 38 THEN 'purchase'
                    WHEN h < 80 THEN 'page_view' ELSE 'search' END AS event,
               CASE (h // 7) % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'paid_search'
                    ELSE 'referral' END AS channel
        FROM (SELECT range AS i, hash(range + 2) % 100 AS h FROM range({n}))
    """


# Runs in the child: the functions on the Ibis table, the peak RSS, then the SQL check.
CHILD = r"""
import json, resource, sys, time
import duckdb, ibis
import salesmkt

path, limit, steps = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
if path.endswith(".parquet"):
    con = ibis.duckdb.connect()
    events = con.read_parquet(path)
else:
    con = ibis.duckdb.connect(path, read_only=True)
    events = con.table("events")
con.raw_sql(f"SET memory_limit = '{limit}'")
con.raw_sql("SET TimeZone = 'UTC'")  # funnel_trends' periods follow the session's zone
out, t0 = {}, time.perf_counter()
f = salesmkt.funnel(events, steps, window="30D")
out["funnel"] = f["persons"].tolist()
out["funnel2"] = salesmkt.funnel(events, steps[:2], window="30D")["persons"].tolist()
tr = salesmkt.funnel_trends(events, steps[:2], window="30D", freq="M")
out["trends_entries"] = int(tr.loc[tr["step"] == 1, "persons"].sum())
out["trends_months"] = int(tr["period"].nunique())
ttc = salesmkt.time_to_convert(events, steps, window="30D", bins=6)
out["ttc_persons"] = int(ttc["persons"].sum())
out["ttc_max_days"] = float(ttc["bin_end"].max() / __import__("pandas").Timedelta(days=1))
out["seconds"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
con.disconnect()

# The independent check, in plain DuckDB SQL on the same file.
db = duckdb.connect(path, read_only=True) if path.endswith(".duckdb") else duckdb.connect()
db.execute("SET TimeZone = 'UTC'")
db.execute("SET enable_progress_bar = false")
src = f"read_parquet('{path}')" if path.endswith(".parquet") else "events"
a, b = steps[:2]
out["sql"] = db.execute(f'''
    WITH s AS (SELECT person_id, ts FROM {src} WHERE event = '{a}'),
         x AS (SELECT person_id, ts FROM {src} WHERE event = '{b}')
    SELECT (SELECT count(DISTINCT person_id) FROM s),
           (SELECT count(DISTINCT s.person_id) FROM s JOIN x USING (person_id)
            WHERE x.ts >= s.ts AND x.ts <= s.ts + INTERVAL 30 DAY),
           (SELECT count(*) FROM (SELECT DISTINCT person_id, date_trunc('month', ts) FROM s)),
           (SELECT count(DISTINCT date_trunc('month', ts)) FROM s)
''').fetchone()
print(json.dumps(out))
"""


def _run_child(path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), DUCKDB_MEMORY_LIMIT, ",".join(STEPS)],
        capture_output=True,
        text=True,
        cwd=path.parent,  # DuckDB spills into .tmp/ here
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def _check(out: dict) -> None:
    entered, reached2, entries, months = out["sql"]
    assert out["funnel2"] == [entered, reached2]
    assert out["funnel"][:1] == [entered] and out["funnel"][1] == reached2
    assert out["funnel"] == sorted(out["funnel"], reverse=True) and out["funnel"][3] > 0
    # one entry per person and month with a signup (the cohorts of funnel_trends)
    assert out["trends_entries"] == entries and out["trends_months"] == months
    assert out["ttc_persons"] == out["funnel"][3] and out["ttc_max_days"] <= 30
    print(
        f"{N_EVENTS:,} events: functions {out['seconds']:.1f} s, child {out['wall_seconds']:.1f} s,"
        f" peak RSS {out['peak_rss_mb']:.0f} MB"
    )
    if LARGE:
        bound_mb = PANDAS_BYTES_PER_EVENT * N_EVENTS / 2**20
        assert out["peak_rss_mb"] < bound_mb, (out["peak_rss_mb"], bound_mb)


# Session scope: with xdist the worker may run other modules between the two tests, which
# would tear a module fixture down and write the file twice.
@pytest.fixture(scope="session")
def events_parquet(tmp_path_factory):
    import duckdb

    path = tmp_path_factory.mktemp("large") / "events.parquet"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"COPY ({events_sql(N_EVENTS)}) TO '{path}' "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
    yield path
    path.unlink()


def test_parquet_file_in_place(events_parquet):
    _check(_run_child(events_parquet))


def test_duckdb_file_in_place(events_parquet, tmp_path):
    import duckdb

    path = tmp_path / "events.duckdb"
    with duckdb.connect(str(path)) as con:  # the same events, copied: 3x faster than anew
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE TABLE events AS FROM read_parquet('{events_parquet}')")
    _check(_run_child(path))
    path.unlink()


@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # inside Ibis 12
def test_small_file_same_as_pandas(tmp_path):
    """On a small file, the Ibis table over it and the same rows in pandas agree."""
    import duckdb
    import ibis
    import pandas as pd

    import salesmkt

    path = tmp_path / "events.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY ({events_sql(40_000)}) TO '{path}' (FORMAT parquet)")
    table = ibis.duckdb.connect().read_parquet(path)
    frame = pd.read_parquet(path)
    for fn, kw in [
        (salesmkt.funnel, {"by": "channel"}),
        (salesmkt.time_to_convert, {"bins": 5}),
    ]:
        pd.testing.assert_frame_equal(
            fn(table, STEPS, window="30D", **kw), fn(frame, STEPS, window="30D", **kw)
        )
