"""Cluster-validity computations that scale: exact indices from one pass over the data.

Private to :mod:`salesmkt.personas.select`. Each function gives the same number as
scikit-learn's (``calinski_harabasz_score``, ``davies_bouldin_score``, ``silhouette_score``) -
the tests check that - but works in chunks on float32 data, computes the silhouette for every
k from one pass over the sample's distance matrix, and never holds an n x n matrix.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

CHUNK = 65_536


def assign(Z: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest centre of every row and the sum of squared distances to it (the inertia)."""
    labels = np.empty(len(Z), dtype=np.int64)
    c2 = (centers.astype(np.float64) ** 2).sum(1)
    cen = centers.astype(Z.dtype)
    total = 0.0
    for s in range(0, len(Z), CHUNK):
        z = Z[s : s + CHUNK]
        d2 = c2[None, :] - 2.0 * (z @ cen.T).astype(np.float64)
        lab = np.argmin(d2, axis=1)
        labels[s : s + CHUNK] = lab
        zz = np.einsum("ij,ij->i", z, z, dtype=np.float64)
        total += float(np.maximum(zz + d2[np.arange(len(z)), lab], 0).sum())
    return labels, total


def _onehot(labels: np.ndarray, k: int) -> sparse.csr_matrix:
    n = len(labels)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))


def ch_db(Z: np.ndarray, labels: np.ndarray, k: int) -> tuple[float, float]:
    """Calinski-Harabasz and Davies-Bouldin indices of ``labels`` (0..k-1) on ``Z``.

    Same definitions as scikit-learn: centroids are the members' means; CH = [B/(k-1)] /
    [W/(n-k)]; DB = mean over clusters of max_j (s_i + s_j) / d(c_i, c_j), with s_i the mean
    distance of cluster i's members to its centroid.
    """
    n = len(Z)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    present = counts > 0
    sums = np.column_stack([np.bincount(labels, weights=Z[:, j], minlength=k)
                            for j in range(Z.shape[1])])  # fmt: skip
    cent = sums[present] / counts[present, None]
    lab = np.cumsum(present)[labels] - 1  # re-index to present clusters
    kk = int(present.sum())
    counts = counts[present]
    within = np.zeros(kk)
    dist_sum = np.zeros(kk)
    for s in range(0, n, CHUNK):
        diff = Z[s : s + CHUNK] - cent[lab[s : s + CHUNK]].astype(Z.dtype)
        sq = np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
        within += np.bincount(lab[s : s + CHUNK], weights=sq, minlength=kk)
        dist_sum += np.bincount(lab[s : s + CHUNK], weights=np.sqrt(sq), minlength=kk)
    mean = Z.mean(axis=0, dtype=np.float64)
    between = float((counts * ((cent - mean) ** 2).sum(1)).sum())
    W = float(within.sum())
    ch = 1.0 if W == 0 else between * (n - kk) / (W * (kk - 1)) if kk > 1 else np.nan
    s_i = dist_sum / counts
    cd = np.sqrt(np.maximum(((cent[:, None, :] - cent[None, :, :]) ** 2).sum(-1), 0))
    if np.allclose(s_i, 0) or np.allclose(cd, 0):
        return float(ch), 0.0
    cd[cd == 0] = np.inf
    r = (s_i[:, None] + s_i[None, :]) / cd
    np.fill_diagonal(r, -np.inf)
    return float(ch), float(np.mean(np.max(r, axis=1)))


def silhouettes(X: np.ndarray, label_sets: list[np.ndarray], chunk: int = 1024) -> list[float]:
    """Mean silhouette of each labelling in ``label_sets`` on the rows ``X``.

    The pairwise distances are computed once, in row chunks, and reused for every labelling
    (one matrix product with the stacked one-hot labels). Points alone in their cluster score
    0, as in scikit-learn.
    """
    m = len(X)
    X = X.astype(np.float64)
    ks = [int(lab.max()) + 1 for lab in label_sets]
    offsets = np.concatenate([[0], np.cumsum(ks)])
    H = sparse.hstack([_onehot(lab, k) for lab, k in zip(label_sets, ks, strict=True)]).tocsc()
    sums = np.empty((m, offsets[-1]))
    x2 = (X**2).sum(1)
    for s in range(0, m, chunk):
        d2 = x2[s : s + chunk, None] - 2 * X[s : s + chunk] @ X.T + x2[None, :]
        d = np.sqrt(np.maximum(d2, 0))
        sums[s : s + chunk] = (H.T @ d.T).T
    out = []
    for lab, k, o in zip(label_sets, ks, offsets[:-1], strict=True):
        counts = np.bincount(lab, minlength=k).astype(np.float64)
        block = sums[:, o : o + k]
        own = counts[lab]
        a = block[np.arange(m), lab] / np.maximum(own - 1, 1)
        mean_other = block / np.where(counts > 0, counts, np.nan)[None, :]
        mean_other[np.arange(m), lab] = np.inf
        b = np.nanmin(mean_other, axis=1)
        s_val = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        out.append(float(np.nanmean(np.nan_to_num(s_val))))
    return out


def reference_sets(X: np.ndarray, B: int, rng: np.random.Generator) -> list[np.ndarray]:
    """B uniform reference data sets over the box aligned with X's principal components
    (Tibshirani, Walther & Hastie 2001, method (b))."""
    Xc = X - X.mean(0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    rot = Xc @ vt.T
    lo, hi = rot.min(0), rot.max(0)
    out = []
    for _ in range(B):
        u = rng.uniform(lo, hi, size=rot.shape)
        out.append((u @ vt + X.mean(0)).astype(X.dtype))
    return out


def gap_from(log_w: np.ndarray, log_w_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap(k) = mean_b log W*_kb − log W_k and s_k = sd_b(log W*_kb) √(1 + 1/B).

    ``log_w`` has one value per k, ``log_w_ref`` shape (B, n_k).
    """
    B = log_w_ref.shape[0]
    gap = log_w_ref.mean(0) - log_w
    se = log_w_ref.std(0, ddof=0) * np.sqrt(1 + 1 / B)
    return gap, se


def jaccard_best(orig: np.ndarray, boot: np.ndarray, k: int) -> np.ndarray:
    """For each original cluster 0..k-1, the Jaccard similarity with the most similar cluster
    of ``boot`` (both labellings of the same points). Clusters absent from ``orig`` get NaN."""
    kb = int(boot.max()) + 1
    cont = np.zeros((k, kb))
    np.add.at(cont, (orig, boot), 1)
    a = cont.sum(1)[:, None]
    b = cont.sum(0)[None, :]
    union = a + b - cont
    jac = np.where(union > 0, cont / np.where(union > 0, union, 1), 0)
    best = jac.max(1)
    best[a[:, 0] == 0] = np.nan
    return best
