"""Benchmark: the revenue forecast of 10,000 open deals with 10,000 simulations (target: 2 s).

A synthetic company: ``--deals`` open deals at the forecast date, twice as many decided deals
in the year before (won 30 %), 20 owners, leads from eight channels. It times the whole
``salesmkt.revenue_forecast`` call (time-to-close curves, open deals, new pipeline, the
summary of every group; no fan chart) and, apart, the open-deal Monte Carlo alone, and reports
the median of ``--repeats`` runs and the peak memory the call adds (tracemalloc, numpy arrays
included).

    .venv/bin/python benchmarks/bench_forecast.py
    .venv/bin/python benchmarks/bench_forecast.py --deals 1000 --sims 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

import salesmkt
from salesmkt.data.dataset import Dataset
from salesmkt.forecast import revenue

AS_OF = pd.Timestamp("2026-05-15", tz="UTC")


def company(n_open: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    n_hist = 2 * n_open
    n = n_hist + n_open
    created = AS_OF - pd.to_timedelta(
        np.concatenate([rng.uniform(30, 395, n_hist), rng.uniform(0, 120, n_open)]), unit="D"
    )
    cycle = pd.to_timedelta(rng.gamma(2.0, 20.0, n), unit="D")
    closed = pd.Series(created + cycle)
    decided = np.arange(n) < n_hist
    closed = closed.where(decided & (closed <= AS_OF))
    won = rng.random(n) < 0.3
    status = np.where(closed.notna(), np.where(won, "won", "lost"), "open")
    types = rng.choice(["new_business", "expansion", "renewal"], n, p=[0.7, 0.1, 0.2])
    lead_ids = [f"L{i:06d}" for i in range(n)]
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(n)],
            "created_at": created,
            "amount": np.round(rng.lognormal(9.5, 0.8, n), -2),
            "lead_id": lead_ids,
            "account_id": [f"A{i:06d}" for i in rng.integers(0, n // 2, n)],
            "owner_id": [f"O{i:02d}" for i in rng.integers(0, 20, n)],
            "stage": np.where(status == "open", rng.choice(["Demo", "Proposal"], n), "Closed"),
            "closed_at": closed,
            "status": pd.array(status, dtype="string"),
            "deal_type": types,
        }
    )
    channels = ["paid_search", "organic_search", "email", "referral", "events", "direct", "other"]
    leads = pd.DataFrame(
        {"lead_id": lead_ids, "created_at": created, "channel": rng.choice(channels, n)}
    )
    return Dataset(deals=deals, leads=leads)


def timed(fn, repeats: int) -> tuple[float, float, float]:
    """Median wall and CPU seconds of ``repeats`` calls, the peak MB the first call allocates.

    On a machine shared with other work the wall time includes waiting for a core; the CPU
    time (this process's, all its threads) is what the call itself costs.
    """
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deals", type=int, default=10_000, help="open deals (default 10,000)")
    ap.add_argument("--sims", type=int, default=10_000, help="simulations (default 10,000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs (median printed)")
    args = ap.parse_args()
    ds = company(args.deals)
    n_open = int((ds.deals["status"] == "open").sum())
    call = lambda: salesmkt.revenue_forecast(  # noqa: E731
        ds, as_of=AS_OF, n_simulations=args.sims, fan=False
    )
    f = call()
    groups = f.draws.shape[1]
    full, full_cpu, full_mb = timed(call, args.repeats)
    p = f.deals["p_win_in_period"].to_numpy()
    groups_ = list(zip(f.summary["dimension"], f.summary["item"], strict=True))
    w = revenue._weights(f.deals, groups_, f.deals["amount"].to_numpy(float))
    code, cols = revenue._codes(f.deals, groups_)["owner_id"]
    present = np.unique(code[code >= 0])
    runs = (cols[present], np.searchsorted(code[code >= 0], present))
    core, core_cpu, core_mb = timed(
        lambda: revenue._simulate_open(p, w, args.sims, np.random.default_rng(0), runs=runs),
        args.repeats,
    )
    dense = args.sims * n_open * 8 / 2**20
    print(f"open deals {n_open:,}, simulations {args.sims:,}, groups {groups}")
    print(
        f"revenue_forecast      median {full:.2f} s (CPU {full_cpu:.2f} s)   peak {full_mb:.0f} MB"
    )
    print(
        f"open-deal Monte Carlo median {core:.2f} s (CPU {core_cpu:.2f} s)   peak {core_mb:.0f} MB"
    )
    print(f"(a dense simulations x deals float64 matrix would take {dense:.0f} MB)")
    load = os.getloadavg()[0]
    print(f"target: 2 s -> {'met' if full <= 2 else 'missed'} (load average {load:.1f})")


if __name__ == "__main__":
    main()
