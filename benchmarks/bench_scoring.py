"""Benchmark: lead score training, calibration and per-lead reasons on 1M leads.

Both peers do the same work on the same synthetic leads (20 features: 12 numeric with missing
values, 8 categorical; a planted logistic conversion rate of about 5 %):

* ``salesmkt`` -- ``LeadScorer()`` (gradient boosting on one thread; from 100,000 rows one
  fit on a stratified 80 % and isotonic calibration on the other 20 %) and
  :func:`salesmkt.score_leads` on the fitted scorer (probabilities, tiers, the trees' path
  contributions per lead and feature, three reasons in words per lead).
* ``sklearn``  -- the same written directly with scikit-learn's public API:
  ``ColumnTransformer(OrdinalEncoder)`` + ``HistGradientBoostingClassifier`` (native
  categories, same settings) in ``CalibratedClassifierCV(method="isotonic", cv=3,
  ensemble=False)`` (four fits, scikit-learn's default threads); per-lead contributions by mean replacement (the log-odds minus the
  log-odds with one feature set to its median or most frequent value: one prediction pass
  per feature, in batches), the top three as "feature: value (+/-)".

Each (peer, repeat) runs in its own subprocess; its peak memory is the largest resident set
size seen by a psutil sampler every 20 ms (and ``ru_maxrss``, whichever is larger). Medians
of the repeats are printed with the ratio salesmkt / sklearn.

Usage::

    python benchmarks/bench_scoring.py                       # 1M leads, 1 repeat per peer
    python benchmarks/bench_scoring.py --leads 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET_S, TARGET_MB = 90.0, 3000.0


def generate(n: int, seed: int = 42) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` leads: 12 numeric features (counts, rates, money, ages; 5 % missing in four of
    them) and 8 categorical ones (3 to 40 levels, some missing); the label from a logistic
    model on six of them."""
    rng = np.random.default_rng(seed)
    X = {"lead_id": pd.array([f"L{i:07d}" for i in range(n)], dtype="string")}
    for j in range(12):
        if j < 4:
            v = rng.poisson(3 + j, n).astype(float)
        elif j < 8:
            v = rng.lognormal(3 + j % 3, 1.0, n)
        else:
            v = rng.normal(0, 1, n)
        if j % 3 == 0:
            v[rng.random(n) < 0.05] = np.nan
        X[f"num_{j:02d}"] = v
    levels = [3, 5, 8, 10, 12, 20, 30, 40]
    for j, k in enumerate(levels):
        codes = rng.integers(0, k, n)
        v = pd.array([f"level {c}" for c in range(k)], dtype="string")[codes]
        v[rng.random(n) < 0.02] = pd.NA
        X[f"cat_{j}"] = v
    frame = pd.DataFrame(X)
    z = (
        -3.6
        + 0.35 * np.nan_to_num(frame["num_00"].to_numpy() - 3)
        + 0.5 * frame["num_08"].to_numpy()
        - 0.4 * np.log(frame["num_04"].to_numpy())
        + 0.8 * (frame["cat_0"] == "level 1").fillna(False).to_numpy()
        - 0.6 * (frame["cat_2"] == "level 3").fillna(False).to_numpy()
        + 0.3 * frame["num_09"].to_numpy()
    )
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    return frame, y


def run_salesmkt(X: pd.DataFrame, y: np.ndarray) -> dict:
    sys.path.insert(0, str(ROOT))
    from salesmkt.scoring.model import LeadScorer
    from salesmkt.scoring.reasons import score_leads

    t0 = time.perf_counter()
    scorer = LeadScorer().fit(X.drop(columns=["lead_id"]), y)
    t1 = time.perf_counter()
    scores = score_leads(X, scorer=scorer)
    t2 = time.perf_counter()
    return {"fit_s": t1 - t0, "reasons_s": t2 - t1, "rows": len(scores),
            "calibration": scorer.calibration_method_, "example": scores["reason_1"].iloc[0]}  # fmt: skip


def run_sklearn(X: pd.DataFrame, y: np.ndarray) -> dict:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    t0 = time.perf_counter()
    feats = X.drop(columns=["lead_id"])
    num = [c for c in feats.columns if c.startswith("num_")]
    cat = [c for c in feats.columns if c.startswith("cat_")]
    data = feats.copy()
    for c in cat:
        data[c] = data[c].astype(object).where(data[c].notna(), "(missing)")
    prep = ColumnTransformer(
        [("num", "passthrough", num),
         ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                max_categories=250), cat)],
        verbose_feature_names_out=False,
    )  # fmt: skip
    hgb = HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0,
        categorical_features=[False] * len(num) + [True] * len(cat), early_stopping=False,
        random_state=0,
    )  # fmt: skip
    cal = CalibratedClassifierCV(
        Pipeline([("prep", prep), ("model", hgb)]), method="isotonic",
        cv=StratifiedKFold(3, shuffle=True, random_state=0), ensemble=False,
    ).fit(data, y)  # fmt: skip
    t1 = time.perf_counter()
    p = cal.predict_proba(data)[:, 1]
    pipe = cal.calibrated_classifiers_[0].estimator
    Z = np.asarray(pipe.named_steps["prep"].transform(data), dtype=float)
    model = pipe.named_steps["model"]
    order = num + cat
    ref = [np.nanmedian(data[c]) for c in num] + [data[c].value_counts().index[0] for c in cat]
    zref = np.asarray(
        pipe.named_steps["prep"].transform(pd.DataFrame([ref], columns=order)[feats.columns]),
        dtype=float,
    )[0]
    contrib = np.zeros(Z.shape)
    for lo in range(0, len(Z), 200_000):
        zb = Z[lo : lo + 200_000].copy()
        base = model.decision_function(zb)
        for k in range(Z.shape[1]):
            keep = zb[:, k].copy()
            zb[:, k] = zref[k]
            contrib[lo : lo + 200_000, k] = base - model.decision_function(zb)
            zb[:, k] = keep
    top = np.argsort(-np.abs(contrib), axis=1)[:, :3]
    names = np.array(order, dtype=object)
    reasons = []
    rows = np.arange(len(Z))
    for k in range(3):
        j = top[:, k]
        vals = data[order].to_numpy(dtype=object)[rows, j].astype(str)
        sign = np.where(contrib[rows, j] >= 0, " (+)", " (-)")
        reasons.append(names[j] + ": " + vals + sign)
    t2 = time.perf_counter()
    return {"fit_s": t1 - t0, "reasons_s": t2 - t1, "rows": int(len(p)),
            "calibration": "isotonic", "example": str(reasons[0][0])}  # fmt: skip


def child(peer: str, n: int) -> None:
    import psutil

    warnings.simplefilter("ignore")
    proc, peak = psutil.Process(), [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    X, y = generate(n)
    out = (run_salesmkt if peer == "salesmkt" else run_sklearn)(X, y)
    stop.set()
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["peak_mb"] = max(peak[0], ru) / 2**20
    out["data_mb"] = X.memory_usage(deep=True).sum() / 2**20
    print(json.dumps(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--peers", default="salesmkt,sklearn")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.leads)
        return 0
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for peer in args.peers.split(","):
            run = subprocess.run(
                [sys.executable, __file__, "--child", peer, "--leads", str(args.leads)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results.setdefault(peer, []).append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(f"{args.leads:,} leads, 20 features, median of {args.repeats} run(s) per peer")
    print(f"{'peer':<10}{'fit+calibrate s':>16}{'reasons s':>11}{'total s':>9}{'peak MB':>9}")
    med = {}
    for peer, runs in results.items():
        fit = statistics.median(r["fit_s"] for r in runs)
        rea = statistics.median(r["reasons_s"] for r in runs)
        tot = statistics.median(r["fit_s"] + r["reasons_s"] for r in runs)
        mb = statistics.median(r["peak_mb"] for r in runs)
        med[peer] = (tot, mb)
        print(f"{peer:<10}{fit:>16.1f}{rea:>11.1f}{tot:>9.1f}{mb:>9.0f}")
        print(f"{'':<10}example reason: {runs[0]['example']}  (data {runs[0]['data_mb']:.0f} MB)")
    if {"salesmkt", "sklearn"} <= set(med):
        ratio = med["salesmkt"][0] / med["sklearn"][0]
        print(f"time ratio salesmkt / sklearn: {ratio:.2f}")
    if "salesmkt" in med:
        tot, mb = med["salesmkt"]
        ok = tot <= TARGET_S and mb <= TARGET_MB
        print(f"targets ({TARGET_S:.0f} s, {TARGET_MB:.0f} MB): {'met' if ok else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
