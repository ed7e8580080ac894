"""Per-lead feature contributions of a fitted HistGradientBoostingClassifier (private).

Path attribution (Saabas): each split on a lead's path through a tree moves the prediction
from the parent's value to the child's; the move is credited to the split's feature. Summed
over the trees, the contributions plus the bias (baseline and root values) equal the model's
raw log-odds exactly. One pass over the trees: compiled with numba when installed, else a
level-by-level numpy walk (same numbers).

Relies on the fitted model's tree arrays (``_predictors``, ``_bin_mapper``,
``_baseline_prediction``), stable across scikit-learn 1.3-1.9.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

JIT_ROWS = 20_000


def _trees(model):
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    lr = float(model.learning_rate)
    out = []
    for (pred,) in model._predictors:
        nodes = pred.nodes
        scaled = nodes["value"] * np.where(nodes["is_leaf"] == 1, 1.0, lr)
        out.append((nodes, scaled, pred.raw_left_cat_bitsets))
    return out, known, f_idx_map


def path_contributions(model, Z: np.ndarray) -> tuple[np.ndarray, float]:
    """``(contributions (n, n_features), bias)`` of the raw log-odds of a binary ``model``."""
    # the model re-encodes its categorical features and puts them first
    order = np.arange(Z.shape[1])
    if getattr(model, "_preprocessor", None) is not None:
        Z = model._preprocessor.transform(Z)
        cat = np.asarray(model.is_categorical_, dtype=bool)
        order = np.r_[np.flatnonzero(cat), np.flatnonzero(~cat)]
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    trees, known, f_idx_map = _trees(model)
    bias = float(np.ravel(model._baseline_prediction)[0]) + sum(s[0] for _, s, _ in trees)
    out = np.zeros(Z.shape, dtype=np.float64)
    use_jit = len(Z) >= JIT_ROWS and importlib.util.find_spec("numba") is not None
    for nodes, scaled, raw_bits in trees:
        args = (
            Z,
            nodes["feature_idx"].astype(np.int64),
            nodes["num_threshold"].astype(np.float64),
            nodes["missing_go_to_left"].astype(np.bool_),
            nodes["left"].astype(np.int64),
            nodes["right"].astype(np.int64),
            nodes["is_leaf"].astype(np.bool_),
            nodes["is_categorical"].astype(np.bool_),
            nodes["bitset_idx"].astype(np.int64),
            scaled,
            np.ascontiguousarray(raw_bits, dtype=np.uint32).reshape(-1, 8),
            np.ascontiguousarray(known, dtype=np.uint32).reshape(-1, 8),
            np.asarray(f_idx_map, dtype=np.int64),
            out,
        )
        (_kernel() if use_jit else _walk_numpy)(*args)
    back = np.empty_like(out)
    back[:, order] = out
    return back, bias


def _in_bits(bits: np.ndarray, row, value) -> np.ndarray:
    v = value.astype(np.int64)
    return ((bits[row, v // 32] >> (v % 32).astype(np.uint32)) & 1).astype(bool)


def _walk_numpy(Z, feat, thr, miss_left, left, right, leaf, cat, bidx, val, raw, known, fmap, out):
    idx = np.zeros(len(Z), dtype=np.int64)
    active = np.arange(len(Z))
    while active.size:
        node = idx[active]
        inner = ~leaf[node]
        active, node = active[inner], node[inner]
        if not active.size:
            break
        f = feat[node]
        x = Z[active, f]
        nan = np.isnan(x)
        go = np.where(nan, miss_left[node], x <= thr[node])
        c = cat[node] & ~nan
        if c.any():
            xc, nc = x[c], node[c]
            neg = xc < 0
            xs = np.where(neg, 0, xc)
            in_left = _in_bits(raw, bidx[nc], xs)
            is_known = _in_bits(known, fmap[f[c]], xs)
            go[c] = np.where(neg | ~(in_left | is_known), miss_left[nc], in_left)
        child = np.where(go, left[node], right[node])
        out[active, f] += val[child] - val[node]
        idx[active] = child


@functools.cache
def _kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def walk(Z, feat, thr, miss_left, left, right, leaf, cat, bidx, val, raw, known, fmap, out):
        for i in range(Z.shape[0]):
            node = 0
            while not leaf[node]:
                f = feat[node]
                x = Z[i, f]
                if np.isnan(x):
                    go = miss_left[node]
                elif cat[node]:
                    if x < 0:
                        go = miss_left[node]
                    else:
                        v = np.int64(x)
                        if (raw[bidx[node], v // 32] >> np.uint32(v % 32)) & 1:
                            go = True
                        elif (known[fmap[f], v // 32] >> np.uint32(v % 32)) & 1:
                            go = False
                        else:
                            go = miss_left[node]
                else:
                    go = x <= thr[node]
                child = left[node] if go else right[node]
                out[i, f] += val[child] - val[node]
                node = child

    return walk
