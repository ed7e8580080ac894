"""Shapley-value attribution: count-based (closed form) and rate-based (exact subset sums).

Private to :mod:`salesmkt.campaigns.attribution`; docs/semantics/attribution.md (Zhao, Mahboobi &
Bagheri 2018).

*Count-based*: the characteristic function ``v(S)`` is the conversions of journeys whose set
of distinct channels lies within ``S``. It is a sum of unanimity games, so the Shapley value is
``φ_j = Σ_{T ∋ j} r(T) / |T|``: each converting journey's credit split equally over its
*distinct* channels (repeats count once). Exact, one pass.

*Rate-based*: ``v(S)`` is the conversion rate of the journeys (converting or not) whose channel
set lies within ``S``; ``v = 0`` for coalitions without journeys. No closed form: the exact
sum over all ``2^n`` coalitions, done with bitmask arrays (subset sums by the zeta transform),
feasible up to about 15-20 channels. Because ``Σ φ = v(all) - v(∅)`` is the overall conversion
rate, the values are rescaled to the total conversions. A channel whose journeys convert worse
than the others lowers ``v`` when it joins, so rate-based credit can be negative.
"""

from __future__ import annotations

from math import factorial

import numpy as np

from salesmkt.campaigns._paths import Paths

MAX_EXACT = 20


def _masks(paths: Paths) -> np.ndarray:
    """Bitmask of the distinct labels of each journey (labels must number <= 63)."""
    bits = np.left_shift(np.uint64(1), paths.codes.astype(np.uint64))
    if len(bits) == 0:
        return np.zeros(len(paths.conv), dtype=np.uint64)
    return np.bitwise_or.reduceat(bits, paths.offsets[:-1])


def _popcount(masks: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(masks).astype(np.int64)
    masks = masks.astype(np.uint64)
    return sum(((masks >> np.uint64(b)) & np.uint64(1)).astype(np.int64) for b in range(64))


def count_based(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value per label: each journey's credit split over its distinct labels."""
    k = len(paths.labels)
    if k <= 63:
        masks = _masks(paths)
        size = np.maximum(_popcount(masks), 1)
        share_c, share_v = paths.conv / size, paths.value / size
        conv, value = np.zeros(k), np.zeros(k)
        for c in range(k):
            hit = (masks >> np.uint64(c)) & np.uint64(1) == 1
            conv[c], value[c] = share_c[hit].sum(), share_v[hit].sum()
        return conv, value
    pairs = np.unique(paths.journey_of_touch.astype(np.int64) * k + paths.codes)
    journey, code = pairs // k, pairs % k
    size = np.bincount(journey, minlength=len(paths.conv))
    conv = np.bincount(code, weights=paths.conv[journey] / size[journey], minlength=k)
    value = np.bincount(code, weights=paths.value[journey] / size[journey], minlength=k)
    return conv, value


def _subset_sums(values_by_mask: np.ndarray, n: int) -> np.ndarray:
    """Zeta transform: out[S] = Σ_{T ⊆ S} values[T]."""
    out = values_by_mask.copy()
    idx = np.arange(1 << n)
    for i in range(n):
        has = (idx >> i) & 1 == 1
        out[has] += out[idx[has] ^ (1 << i)]
    return out


def shapley_values(v: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values of a game given as ``v[mask]`` over all ``2^n`` coalitions."""
    idx = np.arange(1 << n)
    size = _popcount(idx.astype(np.uint64))
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for j in range(n):
        without = idx[(idx >> j) & 1 == 0]
        phi[j] = np.sum(weight[size[without]] * (v[without | (1 << j)] - v[without]))
    return phi


def rate_based(paths: Paths, *, max_channels: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value per label from the exact rate-based Shapley values."""
    n = len(paths.labels)
    if n > min(max_channels, MAX_EXACT):
        raise ValueError(
            f"shapley_rate: exact Shapley values over {n} channels need 2^{n} coalitions; the "
            f"limit is max_channels={max_channels} (at most {MAX_EXACT}). Group rare channels, "
            "attribute by='channel' instead of campaigns, or use the count-based 'shapley'."
        )
    masks = _masks(paths).astype(np.int64)
    total = paths.conv + paths.null
    by_mask = np.zeros((3, 1 << n))
    np.add.at(by_mask[0], masks, paths.conv)
    np.add.at(by_mask[1], masks, paths.value)
    np.add.at(by_mask[2], masks, total)
    conv_s = _subset_sums(by_mask[0], n)
    value_s = _subset_sums(by_mask[1], n)
    total_s = _subset_sums(by_mask[2], n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(total_s > 0, conv_s / total_s, 0.0)
        value_rate = np.where(total_s > 0, value_s / total_s, 0.0)
    out = []
    for v, grand in ((rate, paths.conv.sum()), (value_rate, paths.value.sum())):
        phi = shapley_values(v, n)
        scale = phi.sum()
        out.append(phi / scale * grand if scale != 0 else np.full(n, np.nan))
    return out[0], out[1]
