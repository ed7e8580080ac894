"""Choosing the number of personas: one table of validity indices for a range of k.

Private to :mod:`salesmkt.personas`, which re-exports :func:`choose_n_personas`.

How it stays fast on a million leads, and why the numbers still hold
-------------------------------------------------------------------
* **Fit on a representative sample.** For each k the clusterer is fitted on a uniform random
  sample of ``fit_rows`` leads (10,000 by default; all of them when there are fewer) and
  every lead is then assigned to its nearest centre. k-means centres are means; a persona
  large enough to be admissible (5 % of leads) has 500 members in the sample, so a centre's
  sampling error (σ/√500 ≈ 0.045 σ per feature) is a small fraction of the distance between
  personas (the k-means solution is consistent, Pollard 1981). Inertia, Calinski-Harabasz, Davies-Bouldin and the smallest share are then computed
  **exactly on all leads** from that assignment, in chunks (:mod:`salesmkt.personas.metrics`).
* **Silhouette on a sample** of ``silhouette_rows`` leads (it needs all pairwise distances);
  its standard error at 5,000 leads is about 0.003. The distances are computed once and reused
  for every k.
* **Stability** follows Hennig's bootstrap scheme (fpc::clusterboot) on the fitting sample: B
  bootstrap resamples are re-clustered from scratch (k-means++, one start), and each persona's
  stability is the mean over resamples of its Jaccard similarity with the most similar
  resample cluster, counted on the leads present in both. This measures the stability of the
  procedure as it is actually used (at the fitting-sample size); a larger sample could only be
  more stable.
* **Gap statistic** (Tibshirani, Walther & Hastie 2001) on a ``gap_rows`` sample, against B
  uniform reference sets in the box of the sample's principal components. W_k of the data and
  of each reference set are measured at the same size, as the statistic requires; the same
  reference sets serve every k.
* The full lead matrix is float32 (half the memory); fits run on float64 samples. Bootstrap
  resamples are re-clustered with the same ``n_init`` as the main fit (Hennig re-applies the
  same method); reference sets get one start and at most 50 iterations (W_k of uniform data
  only needs to be near its minimum).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesmkt.personas import features as pf
from salesmkt.personas import metrics as pm

TABLE_COLUMNS = [
    "k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "gap", "gap_se",
    "min_share", "stability", "stability_min", "admissible", "seconds",
]  # fmt: skip


@dataclass
class KSelection:
    """Result of :func:`choose_n_personas`.

    ``table`` has one row per k (columns: ``k, inertia, silhouette, calinski_harabasz,
    davies_bouldin, bic, gap, gap_se, min_share, stability, stability_min, admissible,
    seconds``); ``stability`` one row per k and persona (``k, persona, share, jaccard,
    dissolved``: mean Jaccard and share of resamples where it fell to 0.5 or below);
    ``votes`` which k each index prefers; ``suggested_k`` and ``reason`` the recommendation in
    words; ``elbow_note`` says whether inertia shows a clear elbow.
    """

    table: pd.DataFrame
    stability: pd.DataFrame
    votes: pd.DataFrame
    suggested_k: int
    reason: str
    elbow_note: str
    settings: dict = field(default_factory=dict)

    def _repr_html_(self) -> str:
        from html import escape

        return (
            f"<p><b>Suggested number of personas: {self.suggested_k}.</b> "
            f"{escape(self.reason)}</p><p>{escape(self.elbow_note)}</p>"
            + self.table.to_html(index=False, float_format=lambda v: f"{v:.3g}")
        )


def _fit(method: str, Z: np.ndarray, k: int, seed: int, n_init: int):
    if method == "gmm":
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(
            k, covariance_type="full", reg_covar=1e-3, n_init=n_init, random_state=seed
        ).fit(Z.astype(np.float64))
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=n_init, random_state=seed).fit(Z)


def _centers(est, Z: np.ndarray) -> np.ndarray:
    if hasattr(est, "cluster_centers_"):
        return est.cluster_centers_
    return est.means_


def elbow(ks: np.ndarray, inertia: np.ndarray) -> tuple[int, bool, float]:
    """Knee of the inertia curve (kneedle: furthest below the chord) and whether it is clear.

    Clear means the drop into the knee is at least twice the drop after it and the knee lies
    at least 0.2 (in the unit square) below the chord; a smooth 1/k-like curve fails the first
    test. Returns (k, clear, sharpness ratio); with fewer than three k there is no knee to read
    (the first k, not clear, NaN).
    """
    if len(ks) < 3:
        return int(ks[0]), False, float("nan")
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (inertia - inertia.min()) / max(inertia.max() - inertia.min(), 1e-12)
    diff = (1 - x) - y
    i = int(np.argmax(diff[1:-1])) + 1 if len(ks) > 2 else 0
    before = inertia[i - 1] - inertia[i] if i > 0 else np.nan
    after = inertia[i] - inertia[i + 1] if i + 1 < len(ks) else np.nan
    ratio = before / after if after and after > 0 else np.inf
    return int(ks[i]), bool(ratio >= 2 and diff[i] >= 0.2), float(ratio)


def _gap_k(ks, gap, se) -> int:
    for i in range(len(ks) - 1):
        if gap[i] >= gap[i + 1] - se[i + 1]:
            return int(ks[i])
    return int(ks[np.nanargmax(gap)])


def choose_n_personas(
    leads: pd.DataFrame,
    *,
    k_range=range(2, 11),
    features: list[str] | None = None,
    method: str = "kmeans",
    categorical_weight: float = 1.0,
    n_init: int = 3,
    n_bootstrap: int = 20,
    n_references: int = 10,
    fit_rows: int = 10_000,
    silhouette_rows: int = 5_000,
    gap_rows: int = 5_000,
    min_share: float = 0.05,
    min_stability: float = 0.75,
    random_state: int | None = None,
    n_jobs: int = 2,
    progress: bool = False,
) -> KSelection:
    """Compare numbers of personas k in one table and suggest one, with the reason in words.

    Each index alone can mislead (Calinski-Harabasz tends to rise with k, the elbow is often
    vague), so every k gets: inertia, silhouette (higher is better), Calinski-Harabasz
    (higher), Davies-Bouldin (lower), BIC (lower; ``method="gmm"`` only), gap statistic with
    its standard error, the smallest persona's share of leads and bootstrap stability (mean
    Jaccard per persona, Hennig's scheme; ``stability`` is the mean over personas,
    ``stability_min`` the weakest). See the module notes for how each is computed on large
    data.

    The suggestion: a k is *admissible* when its smallest persona holds at least
    ``min_share`` of the leads and every persona's stability is at least ``min_stability``
    (0.75: Hennig's "valid, stable cluster"). Among admissible k, each index votes for its best
    k (silhouette, Calinski-Harabasz, Davies-Bouldin, the gap rule "smallest k with Gap(k) ≥
    Gap(k+1) − s(k+1)", a clear elbow, BIC); the k with most votes wins, ties going to the
    higher silhouette. With no admissible k, all k are considered and the reason says so.

    Parameters
    ----------
    leads : DataFrame
    k_range : iterable of int
    features, categorical_weight : as in :class:`salesmkt.PersonaModel`
    method : {"kmeans", "gmm"}
    n_init : int
        k-means starts for each k's main fit (resamples and reference sets use one).
    n_bootstrap, n_references : int
        Bootstrap resamples for stability; reference sets for the gap statistic.
    fit_rows, silhouette_rows, gap_rows : int
        Sample sizes, see the module notes.
    min_share, min_stability : float
    random_state : int, optional
        Seeds every sample, fit, resample and reference set (results do not depend on
        ``n_jobs``).
    n_jobs : int
        Threads for the bootstrap and reference fits.
    progress : bool
        Show a progress bar over k.

    Returns
    -------
    KSelection

    Examples
    --------
    >>> import salesmkt
    >>> sel = choose_n_personas(salesmkt.load_sample().leads, k_range=range(3, 7),
    ...                         n_bootstrap=5, n_references=3, random_state=0)
    >>> sel.table["k"].tolist()
    [3, 4, 5, 6]
    >>> sel.suggested_k
    5
    """
    from threadpoolctl import threadpool_limits

    # Many small fits: threads gain little and lose a lot on a busy machine (OpenMP spinning).
    with threadpool_limits(1):
        return _choose(
            leads, k_range=k_range, features=features, method=method,
            categorical_weight=categorical_weight, n_init=n_init, n_bootstrap=n_bootstrap,
            n_references=n_references, fit_rows=fit_rows, silhouette_rows=silhouette_rows,
            gap_rows=gap_rows, min_share=min_share, min_stability=min_stability,
            random_state=random_state, n_jobs=n_jobs, progress=progress,
        )  # fmt: skip


def _choose(leads, *, k_range, features, method, categorical_weight, n_init, n_bootstrap,
            n_references, fit_rows, silhouette_rows, gap_rows, min_share, min_stability,
            random_state, n_jobs, progress) -> KSelection:  # fmt: skip
    from tqdm.auto import tqdm

    if method not in ("kmeans", "gmm"):
        raise ValueError(
            f"method={method!r}: the k-selection table compares 'kmeans' or 'gmm' fits "
            "(HDBSCAN finds its own number of personas)."
        )
    ks = np.array(sorted(set(int(k) for k in k_range)))
    if len(ks) == 0 or ks[0] < 2:
        raise ValueError("k_range must hold numbers of personas of at least 2.")
    feats = features or pf.default_features(leads)
    plan = pf.plan_features(leads, feats, categorical_weight=categorical_weight)
    Z = pf.transform(plan, leads, dtype=np.float32)
    n = len(Z)
    # every persona needs at least 3 leads: compare only the k the data allows, and say so
    allowed = ks[3 * ks <= n]
    if len(allowed) == 0:
        raise ValueError(
            f"leads: {n} rows are too few to form personas (at least {3 * ks[0]} leads are "
            f"needed for k={ks[0]}, 3 per persona)."
        )
    shrunk = len(allowed) < len(ks)
    range_note = (
        f" Only k = {_ks(allowed)} compared: {n:,} leads allow at most {n // 3} personas of "
        f"3 leads each (k = {_ks(ks[~np.isin(ks, allowed)])} left out)."
        if shrunk
        else ""
    )
    ks = allowed
    rng = np.random.default_rng(random_state)
    seed = lambda: int(rng.integers(2**31 - 1))  # noqa: E731
    S = np.sort(rng.choice(n, fit_rows, replace=False)) if n > fit_rows else np.arange(n)
    Zs = Z[S].astype(np.float64)  # small: float64 spares scikit-learn's float32 up-casting
    sil_rows = rng.choice(n, min(silhouette_rows, n), replace=False)
    G = Zs[rng.choice(len(Zs), min(gap_rows, len(Zs)), replace=False)]
    refs = pm.reference_sets(G, n_references, rng)
    boots = [rng.integers(0, len(Zs), len(Zs)) for _ in range(n_bootstrap)]
    rows, stab_rows, sil_labels = [], [], []
    # resamples and reference sets are independent fits: run them on n_jobs threads (the
    # k-means loops release the GIL; each thread's OpenMP is single-threaded)
    from joblib import Parallel, delayed

    pool = Parallel(n_jobs=n_jobs, backend="threading")
    for k in tqdm(ks, desc="k", disable=not progress):
        t0 = time.perf_counter()
        est = _fit(method, Zs, k, seed(), n_init)
        centers = _centers(est, Zs).astype(np.float32)
        if method == "gmm":
            labels = np.concatenate(
                [est.predict(Z[s : s + pm.CHUNK].astype(np.float64)) for s in range(0, n, pm.CHUNK)]
            )
            _, inertia = pm.assign(Z, centers)  # inertia about the mixture means
            bic = float(est.bic(Zs.astype(np.float64)))
        else:
            labels, inertia = pm.assign(Z, centers)
            bic = np.nan
        ch, db = pm.ch_db(Z, labels, k)
        counts = np.bincount(labels, minlength=k)
        sil_labels.append(labels[sil_rows])
        # stability: re-cluster bootstrap resamples of the fitting sample
        orig = labels[S]
        seeds = [seed() for _ in boots]

        def one_boot(idx, sd, k=k, orig=orig):
            fit_b = _fit(method, Zs[idx], k, sd, n_init)
            uniq = np.unique(idx)
            return pm.jaccard_best(orig[uniq], fit_b.predict(Zs[uniq]), k)

        jac = np.array(
            pool(delayed(one_boot)(idx, sd) for idx, sd in zip(boots, seeds, strict=True))
        )
        jac = jac.reshape(n_bootstrap, k)
        per = np.nanmean(jac, axis=0) if n_bootstrap else np.full(k, np.nan)
        for p in range(k):
            dissolved = float(np.mean(jac[:, p] <= 0.5)) if n_bootstrap else np.nan
            stab_rows.append((k, p, counts[p] / n, per[p], dissolved))
        # gap statistic: W_k of the gap sample (started from the main fit) and of references
        from sklearn.cluster import KMeans

        w = KMeans(k, init=centers.astype(G.dtype), n_init=1, max_iter=50, tol=1e-3).fit(G).inertia_
        ref_seeds = [seed() for _ in refs]
        w_ref = pool(
            delayed(lambda r, sd, k=k: KMeans(k, n_init=1, max_iter=50, tol=1e-3,
                                              random_state=sd).fit(r).inertia_)(r, sd)
            for r, sd in zip(refs, ref_seeds, strict=True)
        )  # fmt: skip
        rows.append({
            "k": int(k), "inertia": inertia, "silhouette": np.nan, "calinski_harabasz": ch,
            "davies_bouldin": db, "bic": bic, "log_w": np.log(w), "log_w_ref": np.log(w_ref),
            "min_share": counts.min() / n, "stability": float(np.nanmean(per)),
            "stability_min": float(np.nanmin(per)) if n_bootstrap else np.nan,
            "seconds": time.perf_counter() - t0,
        })  # fmt: skip
    t0 = time.perf_counter()
    sil = pm.silhouettes(Z[sil_rows], sil_labels)
    table = pd.DataFrame(rows)
    table["silhouette"] = sil
    table["seconds"] += (time.perf_counter() - t0) / len(ks)
    if n_references:
        gap, se = pm.gap_from(table["log_w"].to_numpy(), np.vstack(table["log_w_ref"]).T)
    else:
        gap = se = np.full(len(ks), np.nan)
    table["gap"], table["gap_se"] = gap, se
    stab_ok = table["stability_min"].fillna(1.0) >= min_stability
    table["admissible"] = (table["min_share"] >= min_share) & stab_ok
    table = table[TABLE_COLUMNS]
    stability = pd.DataFrame(stab_rows, columns=["k", "persona", "share", "jaccard", "dissolved"])
    votes, k_best, reason, note = _suggest(table, min_share, min_stability, method)
    reason += range_note
    settings = dict(
        method=method, n_leads=n, fit_rows=len(S), silhouette_rows=len(sil_rows),
        gap_rows=len(G), n_bootstrap=n_bootstrap, n_references=n_references,
        features=plan.features,
    )  # fmt: skip
    return KSelection(table, stability, votes, k_best, reason, note, settings)


def _suggest(table: pd.DataFrame, min_share: float, min_stability: float, method: str):
    ks = table["k"].to_numpy()
    knee, clear, ratio = elbow(ks, table["inertia"].to_numpy())
    if len(ks) < 3:
        note = "Fewer than three k compared: inertia cannot show an elbow."
    elif clear:
        note = f"Inertia shows a clear elbow at k = {knee} (the drop into it is {ratio:.1f}x the drop after it)."
    else:
        note = (
            "Inertia falls smoothly, with no clear elbow: the elbow alone does not point to a "
            "number of personas, so the choice rests on the other indices."
        )
    ok = table[table["admissible"]]
    pool = ok if len(ok) else table
    pk = pool["k"].to_numpy()
    votes = {
        "silhouette": int(pool.loc[pool["silhouette"].idxmax(), "k"]),
        "calinski_harabasz": int(pool.loc[pool["calinski_harabasz"].idxmax(), "k"]),
        "davies_bouldin": int(pool.loc[pool["davies_bouldin"].idxmin(), "k"]),
    }
    if pool["gap"].notna().any():
        votes["gap"] = _gap_k(pk, pool["gap"].to_numpy(), pool["gap_se"].to_numpy())
    if clear and knee in pk:
        votes["elbow"] = knee
    if method == "gmm":
        votes["bic"] = int(pool.loc[pool["bic"].idxmin(), "k"])
    vote_frame = pd.DataFrame({"index": list(votes), "k": list(votes.values())})
    tally = vote_frame["k"].value_counts()
    top = tally[tally == tally.max()].index
    sil = pool.set_index("k")["silhouette"]
    k_best = int(max(top, key=lambda k: sil[k]))
    row = table.set_index("k").loc[k_best]
    backers = [name.replace("_", "-") for name, k in votes.items() if k == k_best]
    reason = (
        f"k = {k_best} is preferred by {len(backers)} of {len(votes)} indices "
        f"({', '.join(backers)}); its smallest persona holds {row['min_share']:.0%} of leads"
    )
    if not np.isnan(row["stability_min"]):
        reason += f" and every persona is stable (mean Jaccard ≥ {row['stability_min']:.2f})"
    reason += "."
    excluded = table[~table["admissible"]]
    if len(ok) == 0:
        reason += (
            f" No k meets both rules (smallest persona ≥ {min_share:.0%}, stability ≥ "
            f"{min_stability}); treat this suggestion with care."
        )
    elif len(excluded):
        small = excluded.loc[excluded["min_share"] < min_share, "k"].tolist()
        unstable = excluded.loc[excluded["stability_min"] < min_stability, "k"].tolist()
        if small:
            reason += f" Left out: k = {_ks(small)} (a persona under {min_share:.0%} of leads)"
            reason += ";" if unstable else "."
        if unstable:
            reason += " Left out" if not small else ""
            reason += f" k = {_ks(unstable)} (a persona with stability under {min_stability})."
    return vote_frame, k_best, reason, note


def _ks(ks: list[int]) -> str:
    return ", ".join(str(int(k)) for k in ks)


def too_few_for_personas(leads: pd.DataFrame, *, min_personas: int = 2) -> str:
    """Why ``leads`` cannot form personas yet, in one sentence; ``""`` when they can.

    Personas need at least 3 leads each (the rule :func:`choose_n_personas` applies), so
    ``min_personas`` personas need ``3 * min_personas`` leads.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> too_few_for_personas(leads)
    ''
    >>> too_few_for_personas(leads.head(5))
    'Personas need at least 6 leads (3 per persona, at least 2 personas); these data have 5, so the workshop shows only what the leads look like.'
    """
    need = 3 * min_personas
    n = len(leads)
    if n >= need:
        return ""
    return (
        f"Personas need at least {need} leads (3 per persona, at least {min_personas} "
        f"personas); these data have {n:,}, so the workshop shows only what the leads look like."
    )
