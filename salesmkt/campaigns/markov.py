"""Markov-chain removal effects solved exactly as an absorbing chain.

Private to :mod:`salesmkt.campaigns.attribution`. Follows Anderl et al. (2016) and
docs/semantics/attribution.md: states ``(start)``, one per channel (order 1) or per last-k-channel
tuple (order k), and the absorbing ``(conversion)`` and ``(null)``. Transition counts weight
each path by its journeys (conversions + non-conversions); consecutive repeats of a channel are
collapsed first, as ChannelAttribution does. Removing a channel sends every transition into a
state that contains it to ``(null)``.

``P(conversion)`` is the absorption probability from ``(start)``: a linear solve of
``(I - Q) x = r`` per removal, never a matrix inverse or power, and no simulation, so results
are exact and deterministic. With ``max_steps`` the walk is cut after that many channel visits
(walks that have not converted by then count as not converting), which is what
ChannelAttribution's random walks do with its ``max_step``; the truncated probability is the
sum of ``e_start Q^t r`` for t = 1..max_steps, computed for all removals at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from salesmkt.campaigns import _jit
from salesmkt.campaigns._paths import Paths

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DENSE_LIMIT = 400


@dataclass(frozen=True)
class Chain:
    """Transition counts of the chain. States: 0 = start, 1..S-1 channel states, S = conv,
    S + 1 = null."""

    counts: sp.csr_matrix
    state_names: list[str]
    state_channels: list[frozenset[int]]
    value_out: np.ndarray  # conversion value leaving each transient state
    labels: np.ndarray

    @property
    def n_transient(self) -> int:
        return len(self.state_names) - 2


def collapse_repeats(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Codes and offsets with consecutive repeats of a channel removed (``a > a > b`` → ``a > b``)."""
    codes = paths.codes
    if len(codes) == 0:
        return codes, paths.offsets
    keep = np.ones(len(codes), dtype=bool)
    keep[1:] = codes[1:] != codes[:-1]
    has = paths.lengths > 0
    keep[paths.offsets[:-1][has]] = True
    per_journey = np.zeros(len(paths.lengths), dtype=np.int64)
    per_journey[has] = np.add.reduceat(keep, paths.offsets[:-1][has])
    offsets = np.zeros(len(per_journey) + 1, dtype=np.int64)
    np.cumsum(per_journey, out=offsets[1:])
    return codes[keep], offsets


def _state_keys(codes, offsets, order, n_labels):
    """Integer key of each touch's state and a mask of the touches that carry a state."""
    lengths = np.diff(offsets)
    pos = np.arange(len(codes)) - np.repeat(offsets[:-1], lengths)
    n = np.repeat(lengths, lengths)
    if order == 1:
        return codes.astype(np.int64) + 1, np.ones(len(codes), dtype=bool)
    base = n_labels + 1
    if order * np.log2(base) >= 62:
        raise ValueError(f"markov: order {order} with {n_labels} channels is too large")
    width = np.minimum(n, order)
    valid = (pos >= order - 1) | ((pos == n - 1) & (n < order))
    key = np.zeros(len(codes), dtype=np.int64)
    for d in range(order):
        shifted = np.zeros(len(codes), dtype=np.int64)
        shifted[d:] = codes[: len(codes) - d] + 1 if d else codes + 1
        key += np.where(d < width, shifted, 0) * base**d
    return key, valid


def _count_matrix(frm, to, weights, size) -> sp.csr_matrix:
    """Summed weights of (from, to) pairs as a ``size`` x ``size`` sparse matrix."""
    key = frm.astype(np.int64) * size + to
    if size * size <= 4_000_000:
        dense = np.bincount(key, weights=weights, minlength=size * size)
        return sp.csr_matrix(dense.reshape(size, size))
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=weights)
    return sp.csr_matrix((sums, (uniq // size, uniq % size)), shape=(size, size))


@_jit.large_pass()
def build_chain(paths: Paths, *, order: int = 1, collapse: bool = True) -> Chain:
    """Transition counts from the paths (each path weighted by conversions + nulls).

    Built with weighted ``bincount`` over the flat state array: transitions that would cross
    from one journey into the next get weight 0 instead of being filtered out, which keeps
    memory to a few arrays of the touch count.
    """
    if order < 1:
        raise ValueError(f"markov: order must be >= 1, got {order}")
    n_labels = len(paths.labels)
    if order == 1 and collapse and len(paths.conv) >= _jit.JIT_ROWS and _jit.available():
        dense, value_out = _jit.markov1_counts(
            paths.codes, paths.offsets, paths.conv, paths.null, paths.value, n_labels
        )
        counts = sp.csr_matrix(dense)
        names = [START, *(str(x) for x in paths.labels), CONVERSION, NULL]
        chans = [frozenset(), *(frozenset([c]) for c in range(n_labels))]
        chans += [frozenset(), frozenset()]
        return Chain(counts, names, chans, value_out, paths.labels)
    codes, offsets = collapse_repeats(paths) if collapse else (paths.codes, paths.offsets)
    if order == 1:
        state = codes.astype(np.int64) + 1
        uniq = np.arange(1, n_labels + 1, dtype=np.int64)
    else:
        key, valid = _state_keys(codes, offsets, order, n_labels)
        kept = np.concatenate(([0], np.cumsum(valid)))
        offsets = kept[offsets]
        uniq, inverse = np.unique(key[valid], return_inverse=True)
        state = inverse.astype(np.int64) + 1
    lengths = np.diff(offsets)
    n_tr = len(uniq) + 1
    size = n_tr + 2
    has = lengths > 0
    first = offsets[:-1][has]
    last = offsets[1:][has] - 1
    weight = paths.conv + paths.null
    w_touch = np.repeat(weight, lengths)
    w_touch[last] = 0.0  # the last touch of a journey has no successor in the journey
    counts = _count_matrix(state[:-1], state[1:], w_touch[:-1], size)
    del w_touch
    conv, null = paths.conv[has], paths.null[has]
    counts = counts + _count_matrix(np.zeros(len(first), np.int64), state[first], weight[has], size)
    ends = state[last]
    counts = counts + _count_matrix(ends, np.full(len(ends), n_tr), conv, size)
    counts = counts + _count_matrix(ends, np.full(len(ends), n_tr + 1), null, size)
    counts.eliminate_zeros()
    value_out = np.bincount(ends, weights=paths.value[has], minlength=n_tr)
    names, chans = [START], [frozenset()]
    for k in uniq:
        digits, rest = [], int(k)
        while rest:
            digits.append(rest % (n_labels + 1) - 1)
            rest //= n_labels + 1
        seq = digits[::-1] if order > 1 else [int(k) - 1]
        names.append(" > ".join(str(paths.labels[c]) for c in seq))
        chans.append(frozenset(seq))
    names += [CONVERSION, NULL]
    chans += [frozenset(), frozenset()]
    return Chain(counts.tocsr(), names, chans, value_out, paths.labels)


def _system(chain: Chain):
    n = chain.n_transient
    out = np.asarray(chain.counts.sum(axis=1)).ravel()[:n]
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    probs = sp.diags(inv) @ chain.counts[:n]
    q = probs[:, :n].tocsr()
    r = np.asarray(probs[:, n].todense()).ravel()
    rv = chain.value_out * inv
    return q, r, rv


def _keep_masks(chain: Chain) -> np.ndarray:
    """(n_transient, 1 + n_labels): column 0 keeps all; column c+1 drops states with c."""
    n = chain.n_transient
    masks = np.ones((n, len(chain.labels) + 1))
    for s, chans in enumerate(chain.state_channels[:n]):
        for c in chans:
            masks[s, c + 1] = 0.0
    return masks


def absorption(chain: Chain, *, max_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """P(conversion) and expected conversion value from ``(start)``: baseline, then per removal.

    Returns two arrays of length ``1 + n_labels``.
    """
    q, r, rv = _system(chain)
    masks = _keep_masks(chain)
    n = chain.n_transient
    if max_steps is not None:
        if max_steps < 1:
            raise ValueError(f"markov: max_steps must be >= 1, got {max_steps}")
        qt = q.T.tocsr()
        dist = np.zeros((n, masks.shape[1]))
        dist[0] = 1.0
        p = np.zeros(masks.shape[1])
        v = np.zeros(masks.shape[1])
        for _ in range(max_steps):
            dist = (qt @ dist) * masks
            p += r @ dist
            v += rv @ dist
        return p, v
    rhs = np.column_stack([r, rv])
    if n <= _DENSE_LIMIT:
        qd = q.toarray()
        systems = np.eye(n)[None] - qd[None] * masks.T[:, None, :]
        sol = np.linalg.solve(systems, np.broadcast_to(rhs, (masks.shape[1], n, 2)))
        return sol[:, 0, 0], sol[:, 0, 1]
    p, v = np.empty(masks.shape[1]), np.empty(masks.shape[1])
    eye = sp.identity(n, format="csc")
    for j in range(masks.shape[1]):
        lu = splu((eye - q @ sp.diags(masks[:, j])).tocsc())
        x = lu.solve(rhs)
        p[j], v[j] = x[0, 0], x[0, 1]
    return p, v


def removal_effects(
    paths: Paths, *, order: int = 1, max_steps: int | None = None, collapse: bool = True
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Removal effect per label (conversions and value), with P(conversion) and E(value)."""
    chain = build_chain(paths, order=order, collapse=collapse)
    p, v = absorption(chain, max_steps=max_steps)
    with np.errstate(divide="ignore", invalid="ignore"):
        re_conv = np.where(p[0] > 0, 1.0 - p[1:] / p[0], np.nan)
        re_value = np.where(v[0] > 0, 1.0 - v[1:] / v[0], np.nan)
    # Round-off can leave -1e-16 for channels that change nothing.
    re_conv = np.where(np.abs(re_conv) < 1e-12, 0.0, re_conv)
    re_value = np.where(np.abs(re_value) < 1e-12, 0.0, re_value)
    return re_conv, re_value, float(p[0]), float(v[0])


def transition_table(chain: Chain):
    """Tidy transitions: from_state, to_state, count, probability."""
    import pandas as pd

    coo = chain.counts.tocoo()
    out = np.asarray(chain.counts.sum(axis=1)).ravel()
    names = np.asarray(chain.state_names, dtype=object)
    table = pd.DataFrame(
        {
            "from_state": names[coo.row],
            "to_state": names[coo.col],
            "count": coo.data,
            "probability": coo.data / out[coo.row],
        }
    )
    table = table[table["count"] > 0]
    order = {name: i for i, name in enumerate(chain.state_names)}
    key = table["from_state"].map(order) * len(order) + table["to_state"].map(order)
    return table.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
