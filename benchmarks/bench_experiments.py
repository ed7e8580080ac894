"""CUPED on 10M assigned people: salesmkt (pandas in memory, DuckDB on Parquet) beside
tea-tasting (the same two ways) and a plain statsmodels OLS with the centred covariate.

Synthetic holdout: 10M people split 50/50, a pre-period covariate (web visits, Poisson with a
gamma-distributed rate) and a 0/1 conversion whose odds rise with the covariate and, by a fixed
amount, with treatment. Each timing is the median of ``--repeats`` calls in one process, the
data already loaded (pandas) or registered (Parquet); the estimates of every tool are checked
against each other.

    .venv/bin/python benchmarks/bench_experiments.py                 # about 2 minutes
    .venv/bin/python benchmarks/bench_experiments.py --n 1000000     # quick look
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from salesmkt.campaigns.experiments import cuped_lift

DATA = Path(__file__).parent / "data"


def make(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(2.0, 5.0, n)).astype(np.int64)
    t = rng.integers(0, 2, n).astype(np.int64)
    logit = -3.2 + 0.08 * x + 0.4 * t
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "group": pd.Series(np.where(t == 1, "treatment", "control"), dtype="string"),
            "variant": t,
            "converted": y,
            "pre_period_visits": x,
        }
    )


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ols", action="store_true", help="skip the statsmodels OLS peer")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"experiment_{args.n}.parquet"
    df = make(args.n)
    if not path.exists():
        df.to_parquet(path)
    con = ibis.duckdb.connect()
    table = con.read_parquet(str(path))
    kw = {"metric": "converted", "covariate": "pre_period_visits"}
    rows = []

    t, r = timed(lambda: cuped_lift(df, **kw), args.repeats)
    ours = r.iloc[0]
    rows.append(("salesmkt, pandas in memory", t, ours["adjusted_difference"], ours["adjusted_se"]))
    t, r = timed(lambda: cuped_lift(table, **kw), args.repeats)
    rows.append(
        ("salesmkt, DuckDB on Parquet", t, *r[["adjusted_difference", "adjusted_se"]].iloc[0])
    )
    try:
        import tea_tasting as tt

        exp = tt.Experiment(m=tt.Mean("converted", "pre_period_visits"), variant="variant")
        peer_df = df.drop(columns="group")
        z = 1.959963984540054
        for label, data in (
            ("pandas in memory", peer_df),
            ("DuckDB on Parquet", table.drop("group")),
        ):
            t, r = timed(lambda data=data: exp.analyze(data).to_pandas().iloc[0], args.repeats)
            se = (r["effect_size_ci_upper"] - r["effect_size_ci_lower"]) / (2 * z)
            rows.append((f"tea-tasting {tt.__version__}, {label}", t, r["effect_size"], se))
    except ImportError:
        print("tea-tasting is not installed: pip install -e '.[test]'")
    if not args.no_ols:
        import statsmodels.api as sm

        def ols():
            x = df["pre_period_visits"].to_numpy(float)
            design = np.column_stack(
                [np.ones(len(df)), df["variant"].to_numpy(float), x - x.mean()]
            )
            fit = sm.OLS(df["converted"].to_numpy(float), design).fit(cov_type="HC1")
            return fit.params[1], fit.bse[1]

        t, (b, se) = timed(ols, 1)
        rows.append(("statsmodels OLS y ~ treatment + (x - mean), HC1 (1 run)", t, b, se))

    base = rows[0][1]
    print(f"CUPED on {args.n:,} assigned people ({args.repeats} runs each, median)")
    print(f"{'tool':62s} {'seconds':>8s} {'x salesmkt':>10s} {'lift':>10s} {'se':>10s}")
    for label, t, est, se in rows:
        print(f"{label:62s} {t:8.2f} {t / base:10.1f} {est:10.6f} {se:10.6f}")
    print(f"variance reduction {ours['variance_reduction']:.1%}, plain se {ours['se']:.6f}")


if __name__ == "__main__":
    main()
