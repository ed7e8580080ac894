"""Benchmark: persona k-selection on 1M leads, salesmkt against a plain scikit-learn loop.

Both compute the same k-selection table for k = 2..10 on the same 1M synthetic leads with 12
mixed features (8 numeric, 4 categorical; 6 planted segments), prepared the same way:

* ``salesmkt`` -- :func:`salesmkt.choose_n_personas` (inertia, silhouette, Calinski-Harabasz,
  Davies-Bouldin, gap statistic, smallest share, bootstrap stability), then the final
  ``PersonaModel`` fit at the suggested k with its profiles.
* ``sklearn``  -- the straightforward loop: for each k, ``KMeans(n_init=3)`` on all rows,
  ``silhouette_score(sample_size=20_000)``, ``calinski_harabasz_score`` and
  ``davies_bouldin_score`` on all rows, the smallest share, ``B`` bootstrap resamples of all
  rows each re-fitted with ``KMeans(n_init=3)`` (Hennig's Jaccard), and the gap statistic with
  ``B_ref`` uniform reference sets of all rows. A full run is about 9 x 31 fits of 1M rows
  (half an hour on 2 cores), so by default it runs every k's main fit and metrics in full and
  ``--baseline-resamples`` (default 1) of the bootstrap and reference fits per k, and
  extrapolates those to ``B`` and ``B_ref`` linearly (each is an independent fit of the same
  size). The printout shows measured and extrapolated times; ``--full-baseline`` runs it all.

Each part runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own. Then the
workshop refit (one k, one feature change) on the sample company, median of 5.

Usage::

    python benchmarks/bench_personas.py                 # 1M leads (about 15 min on 2 busy cores)
    python benchmarks/bench_personas.py --skip-baseline # salesmkt alone, median of 3
    python benchmarks/bench_personas.py --rows 200000 --full-baseline

Inputs are generated once into ``benchmarks/data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
B, B_REF = 20, 10  # bootstrap resamples and gap reference sets, as choose_n_personas' defaults
KS = range(2, 11)


def generate(n: int, seed: int = 42) -> pd.DataFrame:
    """``n`` leads from 6 planted segments: 8 numeric features (two lognormal money columns, a
    lognormal size, three Poisson counts, a rate, a tenure) and 4 categorical ones."""
    rng = np.random.default_rng(seed)
    k = 6
    seg = rng.choice(k, n, p=[0.3, 0.22, 0.18, 0.14, 0.1, 0.06])
    size_med = np.array([20, 300, 3000, 120, 900, 40])[seg]
    out = {
        "company_size": np.maximum(1, np.round(rng.lognormal(np.log(size_med), 0.6))),
        "annual_revenue": np.round(
            rng.lognormal(
                np.log(size_med * np.array([9e4, 1.5e5, 2.2e5, 1.6e5, 1.8e5, 8e4])[seg]), 0.5
            ),
            -3,
        ),  # fmt: skip
        "web_visits_90d": rng.poisson(np.array([12, 9, 5, 18, 3, 7])[seg]),
        "content_downloads": rng.poisson(np.array([0.8, 5, 2.5, 1, 1, 3])[seg]),
        "webinars_attended": rng.poisson(np.array([0.3, 1.4, 2.2, 0.4, 0.5, 1])[seg]),
        "email_open_rate": rng.beta(np.array([3, 9, 6, 2, 4, 7])[seg], 14),
        "tenure_days": rng.gamma(2, np.array([30, 90, 200, 60, 120, 45])[seg]),
        "deal_value_est": rng.lognormal(
            np.log(np.array([4e3, 15e3, 6e4, 8e3, 2e4, 5e3])[seg]), 0.4
        ),  # fmt: skip
    }
    cats = {
        "industry": 7, "job_role": 7, "seniority": 5, "region": 4,
    }  # fmt: skip
    for j, (col, m) in enumerate(cats.items()):
        pref = (np.arange(k) * (j + 2)) % m  # each segment prefers one level
        p_pref = np.array([0.85, 0.8, 0.8, 0.85, 0.8, 0.8])[seg]
        other = rng.integers(0, m, n)
        level = np.where(rng.random(n) < p_pref, pref[seg], other)
        out[col] = np.array([f"{col[:3]}_{i}" for i in range(m)])[level]
    return pd.DataFrame(out)


def _data(rows: int) -> pd.DataFrame:
    path = DATA / f"personas_{rows}.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        generate(rows).to_parquet(path)
    return pd.read_parquet(path)


def run_salesmkt(rows: int) -> dict:
    import salesmkt

    leads = _data(rows)
    t0 = time.perf_counter()
    sel = salesmkt.choose_n_personas(leads, k_range=KS, n_bootstrap=B, n_references=B_REF,
                                     random_state=0)  # fmt: skip
    t1 = time.perf_counter()
    model = salesmkt.PersonaModel(sel.suggested_k, random_state=0).fit(leads)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "table_s": t1 - t0, "fit_profiles_s": t2 - t1,
            "suggested_k": sel.suggested_k, "profile_rows": len(model.profiles_),
            "table": sel.table.round(4).to_dict("list")}  # fmt: skip


def run_sklearn(rows: int, resamples: int, full: bool) -> dict:
    """The straightforward loop (see the module docstring)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    from salesmkt.personas import features as pf
    from salesmkt.personas.metrics import jaccard_best, reference_sets

    leads = _data(rows)
    t0 = time.perf_counter()
    plan = pf.plan_features(leads, list(leads.columns))
    Z = pf.transform(plan, leads)
    rng = np.random.default_rng(0)
    n_boot = B if full else resamples
    n_ref = B_REF if full else resamples
    main_s = boot_s = ref_s = 0.0
    table = []
    for k in KS:
        t = time.perf_counter()
        km = KMeans(k, n_init=3, random_state=0).fit(Z)
        sil = silhouette_score(Z, km.labels_, sample_size=20_000, random_state=0)
        ch = calinski_harabasz_score(Z, km.labels_)
        db = davies_bouldin_score(Z, km.labels_)
        share = np.bincount(km.labels_).min() / len(Z)
        main_s += time.perf_counter() - t
        t = time.perf_counter()
        jac = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(Z), len(Z))
            boot = KMeans(k, n_init=3, random_state=int(rng.integers(1e9))).fit(Z[idx])
            uniq = np.unique(idx)
            jac.append(jaccard_best(km.labels_[uniq], boot.predict(Z[uniq]), k))
        boot_s += time.perf_counter() - t
        t = time.perf_counter()
        log_ref = [np.log(KMeans(k, n_init=1, random_state=0).fit(r).inertia_)
                   for r in reference_sets(Z, n_ref, rng)]  # fmt: skip
        ref_s += time.perf_counter() - t
        table.append({"k": k, "inertia": km.inertia_, "silhouette": sil, "calinski_harabasz": ch,
                      "davies_bouldin": db, "min_share": share,
                      "stability": float(np.mean(jac)) if jac else np.nan,
                      "gap": float(np.mean(log_ref) - np.log(km.inertia_))})  # fmt: skip
    measured = time.perf_counter() - t0
    scale_boot = B / n_boot if n_boot else 0
    scale_ref = B_REF / n_ref if n_ref else 0
    extrapolated = measured - boot_s - ref_s + boot_s * scale_boot + ref_s * scale_ref
    return {"seconds": measured, "extrapolated_s": extrapolated, "main_s": main_s,
            "bootstrap_s": boot_s, "reference_s": ref_s, "resamples": n_boot,
            "table": pd.DataFrame(table).round(4).to_dict("list")}  # fmt: skip


def run_refit() -> dict:
    """Workshop refit on the sample company: one k, one feature change, median of 5."""
    import salesmkt
    from salesmkt.personas.features import default_features

    leads = salesmkt.load_sample().leads
    feats = [f for f in default_features(leads) if f != "region"]
    salesmkt.PersonaModel(5, random_state=0).fit(leads)  # warm up imports
    times = []
    for i in range(5):
        t = time.perf_counter()
        salesmkt.PersonaModel(5, features=feats, random_state=i).fit(leads)
        times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times)}


def _child(part: str, args) -> dict:
    cmd = [sys.executable, __file__, "--part", part, "--rows", str(args.rows),
           "--baseline-resamples", str(args.baseline_resamples)]  # fmt: skip
    if args.full_baseline:
        cmd.append("--full-baseline")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of salesmkt (median shown)")
    ap.add_argument("--baseline-resamples", type=int, default=1)
    ap.add_argument("--full-baseline", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--part", choices=["salesmkt", "sklearn", "refit"])
    args = ap.parse_args()
    if args.part:
        if args.part == "salesmkt":
            res = run_salesmkt(args.rows)
        elif args.part == "sklearn":
            res = run_sklearn(args.rows, args.baseline_resamples, args.full_baseline)
        else:
            res = run_refit()
        res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res, default=float))
        return
    _data(args.rows)  # generate outside the timed parts
    runs = [_child("salesmkt", args) for _ in range(args.runs)]
    ours = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run
    print("salesmkt runs: " + ", ".join(f"{r['seconds']:.1f} s" for r in runs))
    print(f"{args.rows:,} leads, 12 features, k = 2..10, stability B = {B}, gap B_ref = {B_REF}")
    print(f"salesmkt  k-table + final fit + profiles: {ours['seconds']:6.1f} s "
          f"(table {ours['table_s']:.1f} s, fit+profiles {ours['fit_profiles_s']:.1f} s), "
          f"peak {ours['peak_mb']:,.0f} MB, suggested k = {ours['suggested_k']}")  # fmt: skip
    print(
        pd.DataFrame(ours["table"])[
            ["k", "silhouette", "davies_bouldin", "gap", "min_share", "stability_min", "admissible"]
        ].to_string(index=False)
    )
    if not args.skip_baseline:
        base = _child("sklearn", args)
        label = "full" if args.full_baseline else f"{base['resamples']} resample(s)/k measured"
        print(f"sklearn   plain loop ({label}): {base['seconds']:6.1f} s measured "
              f"(main fits+metrics {base['main_s']:.1f} s, bootstrap {base['bootstrap_s']:.1f} s, "
              f"references {base['reference_s']:.1f} s), peak {base['peak_mb']:,.0f} MB")  # fmt: skip
        print(f"          same table with B = {B}, B_ref = {B_REF}: {base['extrapolated_s']:,.0f} s"
              + ("" if args.full_baseline else " (extrapolated)"))  # fmt: skip
        print(pd.DataFrame(base["table"]).to_string(index=False))
        print(f"ratio     {base['extrapolated_s'] / ours['seconds']:.1f}x faster than the same "
              f"table; {base['seconds'] / ours['seconds']:.1f}x faster than the measured part "
              "alone")  # fmt: skip
    refit = _child("refit", args)
    print(
        f"workshop  refit on the sample (one k, one feature change): {refit['seconds']:.2f} s "
        "median of 5"
    )


if __name__ == "__main__":
    main()
