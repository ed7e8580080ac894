"""Multi-touch attribution: how credit for conversions is shared across the touches before them.

One entry point, :func:`attribute`, runs any set of models on the same journeys and returns one
tidy table, so models compare side by side. Input is either the journeys table of
:func:`salesmkt.build_journeys` (one row per touch, with timestamps and CRM milestones) or aggregated
path counts in ChannelAttribution's format (one row per unique path, channels joined by
``" > "``, with ``total_conversions``, ``total_null`` and optionally
``total_conversion_value``).

Models (definitions and edge cases: docs/semantics/attribution.md):

``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``
    Rule-based; each repeated touch of a channel gets its own weight.
``time_decay``
    ``w ∝ 2^(-days before conversion / half_life_days)``, 7 days by default. Aggregated paths
    have no timestamps: position stands in for time with a half-life of one touch.
``position_based``
    40 % first, 40 % last, 20 % shared by the touches between (50/50 for two touches).
``w_shaped``, ``full_path``
    30/30/30 + 10 and 22.5 x 4 + 10 over first touch, lead creation, deal creation (and
    closed-won); a milestone is the last touch at or before it. A touch holding several roles
    gets the sum of their shares; with no other touches the rest goes to the key touches in
    proportion. Journey tables only.
``markov`` (``markov_2``, ``markov_3``: higher order)
    Removal effect of an absorbing Markov chain, solved exactly; credit proportional to the
    removal effects (which sum to more than one and are normalised).
``shapley``, ``shapley_rate``
    Count-based Shapley (= linear over distinct channels) and rate-based Shapley (exact over
    all coalitions, up to ``shapley_max_channels`` channels).

Rule-based models credit converting journeys only; Markov and rate-based Shapley also learn
from non-converting ones. Conversions whose person had no touch in the lookback window are
credited to ``"(no touch)"`` under every model, so each model's attributed conversions add up
to the total. Conversions without a person id belong to no journey: they get no credit and are
counted in ``attrs["n_conversions_without_person"]``.

Examples
--------
>>> import pandas as pd
>>> paths = pd.DataFrame({"path": ["email > paid_search", "paid_search", "email"],
...                       "total_conversions": [2, 1, 0], "total_null": [1, 3, 4]})
>>> table = attribute(paths, models=["first_touch", "last_touch", "markov"])
>>> table.pivot(index="channel", columns="model", values="attributed_conversions").round(3)
model        first_touch  last_touch  markov
channel
email                2.0         0.0     0.9
paid_search          1.0         3.0     2.1
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesmkt.campaigns import _engine, _jit
from salesmkt.campaigns import markov as _markov
from salesmkt.campaigns import shapley as _shapley
from salesmkt.campaigns._paths import NO_TOUCH, Paths, from_path_counts, to_paths
from salesmkt.campaigns._rules import RULES, credit, position_based, time_decay

__all__ = ["MODELS", "attribute", "markov_removal_effects", "markov_transition_matrix"]

#: Every model name :func:`attribute` accepts (``markov_<k>`` for order k also works).
MODELS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "markov",
    "shapley",
    "shapley_rate",
)
_MILESTONE_MODELS = {"w_shaped", "full_path"}
_MARKOV = re.compile(r"^markov(?:_(\d+))?$")


def _check_models(models: Sequence[str]) -> list[str]:
    if isinstance(models, str):
        models = [models]
    unknown = [m for m in models if m not in MODELS and not _MARKOV.match(m)]
    if unknown:
        raise ValueError(f"attribute: unknown model(s) {unknown}; choose from {list(MODELS)}")
    return list(dict.fromkeys(models))


@_jit.large_pass()
def _model_credit(paths: Paths, model: str, options: dict) -> tuple[np.ndarray, np.ndarray]:
    if model == "time_decay":
        return credit(paths, time_decay(paths, half_life_days=options["half_life_days"]))
    if model == "position_based":
        return credit(paths, position_based(paths))
    if model in RULES:
        return credit(paths, RULES[model](paths))
    if model == "shapley":
        return _shapley.count_based(paths)
    if model == "shapley_rate":
        return _shapley.rate_based(paths, max_channels=options["shapley_max_channels"])
    match = _MARKOV.match(model)
    order = int(match.group(1)) if match.group(1) else options["markov_order"]
    re_conv, re_value, _, _ = _markov.removal_effects(
        paths, order=order, max_steps=options["max_steps"]
    )
    return _normalise(re_conv, paths.conv.sum()), _normalise(re_value, paths.value.sum())


def _normalise(effects: np.ndarray, total: float) -> np.ndarray:
    s = np.nansum(effects)
    if not np.isfinite(s) or s == 0:
        return np.where(total == 0, 0.0, np.full(len(effects), np.nan))
    return effects / s * total


def attribute(
    journeys: pd.DataFrame,
    *,
    models: Sequence[str] | None = None,
    by: str = "channel",
    half_life_days: float = 7.0,
    markov_order: int = 1,
    max_steps: int | None = None,
    shapley_max_channels: int = 15,
) -> pd.DataFrame:
    """Credit conversions and revenue to channels (or campaigns) under several models.

    Parameters
    ----------
    journeys : DataFrame or ibis.Table
        The journeys table of :func:`salesmkt.build_journeys`, or aggregated path counts with columns
        ``path`` (channels joined by ``" > "``), ``total_conversions``, ``total_null`` and
        optionally ``total_conversion_value`` (ChannelAttribution's input format). An Ibis
        journeys table (from touchpoints in a database or Parquet files) is not read: the
        rule-based credit and the unique paths are computed by its backend and only they come
        back (docs/semantics/attribution.md, "Where the data lives").
    models : list of str, optional
        Names from :data:`MODELS` (``markov_2`` etc. for higher-order Markov). Default: every
        model the input supports (``w_shaped``/``full_path`` need journey milestones).
    by : str
        Column of the journeys table to credit: ``"channel"`` or ``"campaign_id"`` (touches
        without a campaign are credited to ``"(no campaign_id)"``).
    half_life_days : float
        Half-life of ``time_decay``.
    markov_order : int
        Order of the ``markov`` model.
    max_steps : int, optional
        Cut Markov walks after this many channel visits, as ChannelAttribution does with its
        ``max_step`` (its default is the longest path + 1). ``None``: exact, no cut-off.
    shapley_max_channels : int
        Largest number of channels for the exact rate-based Shapley values.

    Returns
    -------
    DataFrame
        One row per (model, channel): ``<by>, model, attributed_conversions,
        attributed_revenue, share``. ``share`` is the share of all conversions;
        ``attributed_revenue`` is missing when the input carries no conversion value.
        ``attrs["n_conversions_without_person"]``, when the input carries it (journeys from
        :func:`salesmkt.build_journeys`), counts the conversions left out of the credit for
        lacking a person id.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b > c"], "total_conversions": [1],
    ...                       "total_null": [0]})
    >>> attribute(paths, models=["position_based"])["share"].round(2).tolist()
    [0.4, 0.2, 0.4]
    """
    options = {
        "half_life_days": half_life_days,
        "markov_order": markov_order,
        "max_steps": max_steps,
        "shapley_max_channels": shapley_max_channels,
    }
    if _engine.is_table(journeys):
        out = _attribute_engine(journeys, models=models, by=by, options=options)
        return _engine.carry_without_person(out, journeys)
    paths = to_paths(journeys, by=by, caller="attribute")
    if models is None:
        models = [m for m in MODELS if paths.lead_pos is not None or m not in _MILESTONE_MODELS]
        if len(paths.labels) > shapley_max_channels:
            models.remove("shapley_rate")
    models = _check_models(models)
    total = paths.total_conversions
    order = np.argsort(paths.labels.astype(str), kind="stable")
    labels = list(paths.labels[order])
    extra = paths.untouched_conv > 0
    if extra:
        labels.append(NO_TOUCH)
    frames = []
    for model in models:
        conv, value = _model_credit(paths, model, options)
        conv, value = conv[order], value[order]
        if extra:
            conv = np.r_[conv, paths.untouched_conv]
            value = np.r_[value, paths.untouched_value]
        frames.append(
            pd.DataFrame(
                {
                    by: labels,
                    "model": model,
                    "attributed_conversions": conv,
                    "attributed_revenue": value if paths.has_value else np.nan,
                    "share": conv / total if total > 0 else np.nan,
                }
            )
        )
    return _engine.carry_without_person(pd.concat(frames, ignore_index=True), journeys)


def _attribute_engine(table, *, models, by: str, options: dict) -> pd.DataFrame:
    """:func:`attribute` on an Ibis journeys table: rule-based credit in one query, Markov and
    Shapley on the unique (repeat-collapsed) paths of a second one; only those come back."""
    # stored once and shared with path_counts on the same journeys (kept for the next call)
    table = _engine.stored(table, by=by, caller="attribute")
    return _attribute_cached(table, models=models, by=by, options=options)


def _attribute_cached(table, *, models, by: str, options: dict) -> pd.DataFrame:
    info = _engine.summary(table, by=by, caller="attribute")
    if models is None:
        models = [m for m in MODELS if info["has_milestones"] or m not in _MILESTONE_MODELS]
        if info["n_labels"] > options["shapley_max_channels"]:
            models.remove("shapley_rate")
    models = _check_models(models)
    rules = [m for m in models if m in RULES]
    credits = _engine.rule_credits(
        table,
        rules,
        by=by,
        half_life_days=options["half_life_days"],
        has_value=info["has_value"],
    )
    # every label of a path, converting or not (a label on paths without a conversion gets
    # no credit, as on the pandas path)
    labels = set(info["labels"]) | set(credits["_label"].astype(str))
    if info["missing_label"]:
        labels.add(f"(no {by})")
    labels = sorted(labels)
    credits = credits.set_index(credits["_label"].astype(str)).drop(columns="_label")
    credits = credits.reindex(labels).fillna(0.0)
    per_model: dict[str, tuple[np.ndarray, np.ndarray]] = {
        m: (credits[f"{m}__conv"].to_numpy(float), credits[f"{m}__value"].to_numpy(float))
        for m in rules
    }
    rest = [m for m in models if m not in RULES]
    if rest:
        # Markov collapses consecutive repeats and Shapley reads sets of channels: the
        # collapsed unique paths carry everything both need.
        counts = _engine.path_counts(table, by=by, collapse=True, caller="attribute")
        if not info["has_value"]:
            counts = counts.drop(columns="total_conversion_value")
        paths = from_path_counts(counts, caller="attribute")
        where = {label: i for i, label in enumerate(paths.labels)}
        take = np.array([where.get(label, -1) for label in labels], dtype=np.int64)
        for m in rest:
            conv, value = _model_credit(paths, m, options)
            # a label no path holds (-1) gets nothing, or NaN with the model's other labels
            conv = np.r_[conv, np.nan if np.isnan(conv).all() else 0.0][take]
            value = np.r_[value, np.nan if np.isnan(value).all() else 0.0][take]
            per_model[m] = (conv, value)
    total = info["touched_conv"] + info["untouched_conv"]
    extra = info["untouched_conv"] > 0
    out_labels = labels + ([NO_TOUCH] if extra else [])
    frames = []
    for model in models:
        conv, value = per_model[model]
        if extra:
            conv = np.r_[conv, info["untouched_conv"]]
            value = np.r_[value, info["untouched_value"]]
        frames.append(
            pd.DataFrame(
                {
                    by: out_labels,
                    "model": model,
                    "attributed_conversions": conv,
                    "attributed_revenue": value if info["has_value"] else np.nan,
                    "share": conv / total if total > 0 else np.nan,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def markov_removal_effects(
    journeys: pd.DataFrame,
    *,
    order: int = 1,
    by: str = "channel",
    max_steps: int | None = None,
    collapse_repeats: bool = True,
) -> pd.DataFrame:
    """Removal effect of each channel in an absorbing Markov chain, solved exactly.

    ``removal_effect`` = 1 − P(conversion without the channel) / P(conversion): the share of
    conversion probability lost when every transition into the channel goes to ``(null)``
    instead. ``removal_effect_value`` is the same for expected conversion value (each channel
    state's conversions carry their average value). Removal effects add up to more than one;
    credit is proportional to them.

    Parameters
    ----------
    journeys : DataFrame
        Journeys table or aggregated path counts (see :func:`attribute`).
    order : int
        Markov order: states are the last ``order`` channels.
    by, max_steps
        As in :func:`attribute`.
    collapse_repeats : bool
        Collapse consecutive repeats of a channel first (ChannelAttribution does).

    Returns
    -------
    DataFrame
        ``<by>, removal_effect, removal_effect_value, attributed_conversions,
        attributed_revenue, share, p_conversion`` (``p_conversion``: baseline P(conversion)
        from ``(start)``, the same on every row).

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 1],
    ...                       "total_null": [1, 1]})
    >>> markov_removal_effects(paths)[["channel", "removal_effect"]].round(3)
      channel  removal_effect
    0       a             0.5
    1       b             1.0
    """
    paths = to_paths(journeys, by=by, caller="markov_removal_effects")
    re_conv, re_value, p0, _ = _markov.removal_effects(
        paths, order=order, max_steps=max_steps, collapse=collapse_repeats
    )
    conv = _normalise(re_conv, paths.conv.sum())
    value = _normalise(re_value, paths.value.sum())
    total = paths.conv.sum()
    out = pd.DataFrame(
        {
            by: paths.labels,
            "removal_effect": re_conv,
            "removal_effect_value": re_value if paths.has_value else np.nan,
            "attributed_conversions": conv,
            "attributed_revenue": value if paths.has_value else np.nan,
            "share": conv / total if total > 0 else np.nan,
            "p_conversion": p0,
        }
    )
    return out.sort_values(by, kind="stable", ignore_index=True)


def markov_transition_matrix(
    journeys: pd.DataFrame,
    *,
    order: int = 1,
    by: str = "channel",
    collapse_repeats: bool = True,
) -> pd.DataFrame:
    """The Markov chain's transitions as a tidy table (the model behind ``markov``).

    Returns
    -------
    DataFrame
        ``from_state, to_state, count, probability``: one row per observed transition, with
        the journeys it carries and its row-normalised probability. States are ``(start)``,
        channels (``"a > b"`` for higher orders), ``(conversion)`` and ``(null)``.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 1],
    ...                       "total_null": [1, 1]})
    >>> markov_transition_matrix(paths).query("from_state == '(start)'")
      from_state to_state  count  probability
    0    (start)        a    2.0          0.5
    1    (start)        b    2.0          0.5
    """
    if _engine.is_table(journeys):  # the unique paths come back; the chain is built from them
        counts = _engine.path_counts(
            journeys, by=by, collapse=collapse_repeats, caller="markov_transition_matrix"
        )
        # (states in the order of the pandas path's labels)
        paths = from_path_counts(counts, caller="markov_transition_matrix").sorted()
    else:
        paths = to_paths(journeys, by=by, caller="markov_transition_matrix")
    chain = _markov.build_chain(paths, order=order, collapse=collapse_repeats)
    return _markov.transition_table(chain)
