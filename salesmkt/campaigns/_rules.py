"""Rule-based attribution as vectorised weight vectors over the touches of each journey.

Private to :mod:`salesmkt.campaigns.attribution`. Every function takes a :class:`Paths` and returns one
weight per touch; the weights of each journey are >= 0 and sum to 1 (edge cases in
docs/semantics/attribution.md). Everything is numpy over the flat touch
arrays, with no Python loop over journeys, so a million journeys take a fraction of a second.
"""

from __future__ import annotations

import numpy as np

from salesmkt.campaigns._paths import Paths

DIRECT = "direct"


def _segment_sum(values: np.ndarray, paths: Paths) -> np.ndarray:
    return np.add.reduceat(values, paths.offsets[:-1]) if len(values) else np.zeros(0)


def first_touch(paths: Paths) -> np.ndarray:
    return (paths.position == 0).astype(float)


def last_touch(paths: Paths) -> np.ndarray:
    return (paths.position == np.repeat(paths.lengths - 1, paths.lengths)).astype(float)


def last_non_direct(paths: Paths) -> np.ndarray:
    """Last touch that is not ``direct``; a journey of direct touches only keeps its last one."""
    pos = paths.position
    direct = np.flatnonzero(paths.labels == DIRECT)
    is_direct = np.isin(paths.codes, direct) if direct.size else np.zeros(len(pos), bool)
    candidate = np.where(is_direct, -1, pos)
    best = np.maximum.reduceat(candidate, paths.offsets[:-1]) if len(pos) else candidate
    best = np.where(best < 0, paths.lengths - 1, best)
    return (pos == np.repeat(best, paths.lengths)).astype(float)


def linear(paths: Paths) -> np.ndarray:
    n = paths.lengths
    return np.repeat(1.0 / np.maximum(n, 1), n)


def time_decay(paths: Paths, *, half_life_days: float = 7.0) -> np.ndarray:
    """``w_i ∝ 2^(-Δ_i / h)`` with Δ the days before conversion.

    Without timestamps (aggregated paths) position stands in for time: Δ_i = n − i and h = 1,
    HubSpot's "simple decay" (reference 1.2).
    """
    if half_life_days <= 0:
        raise ValueError(f"time_decay: half_life_days must be > 0, got {half_life_days}")
    n = np.repeat(paths.lengths, paths.lengths)
    if paths.days_before is None:
        delta, h = (n - 1 - paths.position).astype(float), 1.0
    else:
        delta, h = paths.days_before, float(half_life_days)
    # Shift by each journey's smallest Δ so the latest touch has raw weight 1 (no underflow).
    lo = np.minimum.reduceat(delta, paths.offsets[:-1]) if len(delta) else delta
    raw = np.exp2(-(delta - np.repeat(lo, paths.lengths)) / h)
    return raw / np.repeat(_segment_sum(raw, paths), paths.lengths)


def _key_roles(paths: Paths, roles: list[np.ndarray], key_share: float) -> np.ndarray:
    """Weights for models that give ``key_share`` to each role and the rest to other touches.

    ``roles`` holds one local position per journey for each role. A touch holding several
    roles gets the sum of their shares; when no other touch exists the rest is shared by the
    key touches in proportion to their shares; else each other touch gets
    ``rest / (n - distinct key positions)`` (reference 1.3). Work is per journey and per
    role; only one array of the touch count is written.
    """
    n = paths.lengths
    starts = paths.offsets[:-1]
    r = len(roles)
    pos = np.sort(np.column_stack(roles), axis=1)  # (journeys, roles)
    distinct = 1 + (np.diff(pos, axis=1) != 0).sum(axis=1) if r > 1 else np.ones(len(n), int)
    others = n - distinct
    rest = 1.0 - r * key_share
    with np.errstate(divide="ignore", invalid="ignore"):
        w_other = np.where(others > 0, rest / np.maximum(others, 1), 0.0)
    weights = np.repeat(w_other, n)
    global_pos = [starts + role for role in roles]
    count = np.bincount(np.concatenate(global_pos), minlength=len(weights))
    has_others = others > 0
    for g in global_pos:
        c = count[g]
        weights[g] = np.where(has_others, key_share * c, c / r)
    return weights


def position_based(paths: Paths, *, key_share: float = 0.4) -> np.ndarray:
    """40 % first, 40 % last, 20 % shared by the touches between (U-shaped)."""
    if not 0 <= key_share <= 0.5:
        raise ValueError(f"position_based: key_share must be in [0, 0.5], got {key_share}")
    first = np.zeros(len(paths.lengths), dtype=np.int64)
    return _key_roles(paths, [first, paths.lengths - 1], key_share)


def _milestone(paths: Paths, values: np.ndarray | None, name: str, model: str) -> np.ndarray:
    """Milestone positions; an unknown milestone (-1) falls back to the last touch."""
    if values is None:
        raise ValueError(
            f"{model} needs the {name} milestone of each journey, which aggregated paths do "
            "not have: build journeys with salesmkt.build_journeys() from touchpoints and "
            "conversions that carry lead/deal/closed-won times."
        )
    return np.where(values < 0, paths.lengths - 1, values)


def w_shaped(paths: Paths) -> np.ndarray:
    """30 % first interaction, 30 % lead creation, 30 % deal creation, 10 % the others."""
    first = np.zeros(len(paths.lengths), dtype=np.int64)
    lead = _milestone(paths, paths.lead_pos, "lead-creation", "w_shaped")
    deal = _milestone(paths, paths.deal_pos, "deal-creation", "w_shaped")
    return _key_roles(paths, [first, lead, deal], 0.3)


def full_path(paths: Paths) -> np.ndarray:
    """22.5 % each to first interaction, lead creation, deal creation, closed-won; 10 % rest."""
    first = np.zeros(len(paths.lengths), dtype=np.int64)
    lead = _milestone(paths, paths.lead_pos, "lead-creation", "full_path")
    deal = _milestone(paths, paths.deal_pos, "deal-creation", "full_path")
    won = _milestone(paths, paths.won_pos, "closed-won", "full_path")
    return _key_roles(paths, [first, lead, deal, won], 0.225)


RULES = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "last_non_direct": last_non_direct,
    "linear": linear,
    "time_decay": time_decay,
    "position_based": position_based,
    "w_shaped": w_shaped,
    "full_path": full_path,
}


def credit(paths: Paths, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value credited to each label under per-touch ``weights``."""
    j = paths.journey_of_touch
    k = len(paths.labels)
    conv = np.bincount(paths.codes, weights=weights * paths.conv[j], minlength=k)
    value = np.bincount(paths.codes, weights=weights * paths.value[j], minlength=k)
    return conv, value
