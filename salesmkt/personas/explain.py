"""Explaining personas: profiles (z-scores, lift), descriptive labels, surrogate-tree rules,
outcomes (conversion, win rate, revenue, CAC), and the funnel and channels by persona.

Private to :mod:`salesmkt.personas`, which re-exports the public functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt._base.formats import (
    compact_money,
    format_amount,
    format_percent,
    percent_columns,
    plain_label,
)
from salesmkt.data.definitions import won_deals
from salesmkt.data.stages import leads_reached, stages_in
from salesmkt.data.validate import check_columns
from salesmkt.funnels.lifecycle import lifecycle_funnel
from salesmkt.personas import features as pf

PROFILE_COLUMNS = [
    "persona", "size", "share", "feature", "kind", "level",
    "value", "median", "overall", "z", "lift",
]  # fmt: skip


def _labels(leads: pd.DataFrame, labels, caller: str) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != (len(leads),):
        raise ValueError(
            f"{caller}: labels has {lab.shape[0] if lab.ndim else 0} values for {len(leads)} "
            "leads; pass one persona per lead, in the leads' row order."
        )
    return lab.astype(np.int64)


def persona_profiles(
    leads: pd.DataFrame,
    labels,
    *,
    features: list[str] | None = None,
    plan: pf.FeaturePlan | None = None,
) -> pd.DataFrame:
    """Tidy profile of every persona: one row per persona × numeric feature or category level.

    Numeric rows: ``value`` is the persona's mean and ``median`` its median (original units),
    ``overall`` the mean of all leads, and ``z`` = (persona mean − overall mean) / overall std
    on the scale the model clusters on (after log1p where the feature is skewed).
    Categorical rows: ``value`` is the share of the persona's leads at the level, ``overall``
    the share among all leads, ``lift`` = value / overall, and ``z`` the same difference in
    standard deviations of the level's indicator, (value − overall) / √(overall (1 − overall)),
    so that numeric and categorical rows can be ranked together.

    Returns
    -------
    DataFrame
        Columns ``persona, size, share, feature, kind, level, value, median, overall, z, lift``.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> labels = (leads["company_size"] > 1000).astype(int)
    >>> prof = persona_profiles(leads, labels, features=["company_size", "job_role"])
    >>> prof.query("feature == 'company_size' and persona == 1")["z"].item() > 1
    True
    """
    check_columns(leads, "leads", features or [], caller="persona_profiles")
    lab = _labels(leads, labels, "persona_profiles")
    if plan is None:
        plan = pf.plan_features(leads, features or pf.default_features(leads))
    num = pf.numeric_values(plan, leads)
    codes = pf.category_codes(plan, leads)
    names = [s.name for s in plan.numeric]
    raw = pd.DataFrame(  # index given: with no numeric feature the frame still has n rows
        {n: pd.to_numeric(leads[n], errors="coerce").to_numpy() for n in names},
        index=pd.RangeIndex(len(leads)),
    )
    personas, idx = np.unique(lab, return_inverse=True)
    g = raw.groupby(idx)
    means, medians, overall = g.mean(), g.median(), raw.mean()
    tmeans = pd.DataFrame(num).groupby(idx).mean().to_numpy()
    sizes = np.bincount(idx)
    n = len(leads)
    rows = []
    for i, p in enumerate(personas):
        size = int(sizes[i])
        for j, s in enumerate(plan.numeric):
            rows.append(
                (p, size, size / n, s.name, "numeric", None, float(means.iloc[i, j]),
                 float(medians.iloc[i, j]), float(overall.iloc[j]),
                 (tmeans[i, j] - s.mean) / s.std, np.nan)
            )  # fmt: skip
        for j, s in enumerate(plan.categorical):
            ok = codes[:, j] >= 0
            counts = np.bincount(codes[ok & (idx == i), j], minlength=len(s.levels))
            for li, lvl in enumerate(s.levels):
                q, p0 = counts[li] / size, s.shares[li]
                z = (q - p0) / np.sqrt(p0 * (1 - p0)) if 0 < p0 < 1 else np.nan
                lift = q / p0 if p0 > 0 else np.nan
                rows.append((p, size, size / n, s.name, "categorical", lvl, q, np.nan, p0, z, lift))
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def _pretty(feature: str) -> str:
    return feature.replace("_", " ")


def persona_labels(profiles: pd.DataFrame, *, top: int = 3, min_z: float = 0.5) -> pd.DataFrame:
    """A suggested descriptive label per persona from its strongest features.

    Features are ranked by |z| (numeric: ``high``/``low`` + feature; categorical: only
    over-represented levels, lift ≥ 1.3), one phrase per feature, the ``top`` strongest with
    |z| ≥ ``min_z``.

    Examples
    --------
    >>> prof = pd.DataFrame({"persona": [0, 0], "feature": ["company_size", "job_role"],
    ...     "kind": ["numeric", "categorical"], "level": [None, "IT"], "z": [1.2, 2.0],
    ...     "lift": [float("nan"), 3.0]})
    >>> persona_labels(prof)["label"].item()
    'IT job role, high company size'
    """
    out = []
    for p, part in profiles.groupby("persona", sort=True):
        cand = part[
            ((part["kind"] == "numeric") & (part["z"].abs() >= min_z))
            | ((part["kind"] == "categorical") & (part["z"] >= min_z) & (part["lift"] >= 1.3))
        ]
        cand = cand.assign(strength=cand["z"].abs()).sort_values("strength", ascending=False)
        cand = cand.drop_duplicates("feature").head(top)
        words = []
        for r in cand.itertuples():
            if r.kind == "numeric":
                words.append(f"{'high' if r.z > 0 else 'low'} {_pretty(r.feature)}")
            elif str(r.level).lower() == "true":
                words.append(_pretty(r.feature))
            elif str(r.level).lower() == "false":
                words.append(f"not {_pretty(r.feature)}")
            else:
                words.append(f"{plain_label(r.level)} {_pretty(r.feature)}")
        out.append({"persona": p, "label": ", ".join(words) or "average on every feature"})
    return pd.DataFrame(out, columns=["persona", "label"])


def _readable_matrix(plan: pf.FeaturePlan, leads: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    num = np.empty((len(leads), len(plan.numeric)))
    for j, s in enumerate(plan.numeric):
        num[:, j] = pd.to_numeric(leads[s.name], errors="coerce").fillna(s.median).to_numpy()
    codes = pf.category_codes(plan, leads)
    blocks, names = [num], [s.name for s in plan.numeric]
    for j, s in enumerate(plan.categorical):
        blocks.append((codes[:, [j]] == np.arange(len(s.levels))[None, :]).astype(float))
        names += [f"{s.name}={lvl}" for lvl in s.levels]
    return np.hstack(blocks), names


def _whole(values: np.ndarray) -> bool:
    """Whether a column holds whole numbers only (a count: company size, visits)."""
    return bool(len(values)) and bool(np.all(np.isfinite(values) & (values == np.round(values))))


def _left(values: np.ndarray, thr: float) -> np.ndarray:
    """The values at or below a split, compared as the tree compares them (single precision)."""
    return values.astype(np.float32) <= thr


def _money_cut(values: np.ndarray, left: np.ndarray, thr: float, currency: str | None) -> str:
    """The amount a money threshold reads as: the compact figure of the cards' medians
    (``$4.64M``) when it splits the column's values as the tree does (``left``: the values at
    or below the split), else the amount to the precision that does (``$4,641,500``)."""
    lo = float(values[left].max()) if left.any() else -np.inf
    hi = float(values[~left].min()) if (~left).any() else np.inf
    size = abs(thr)
    c = round(thr, -4 if size >= 1e6 else -3 if size >= 1e3 else 0)
    if lo <= c < hi:
        return compact_money(c, currency)
    for decimals in range(-3, 7):
        c = round(thr, decimals)
        if lo <= c < hi:
            return format_amount(c, currency, decimals=max(decimals, 0))
    return format_amount(thr, currency, decimals=6)  # pragma: no cover - values 1e-6 apart


_YES_NO = {"True": "yes", "False": "no"}


def _level(feature: str, level) -> str:
    """A category of a feature as a reader writes it: ``job role Marketing``; a yes/no
    column's level as ``trial user: yes``."""
    yes_no = _YES_NO.get(str(level))
    if yes_no is not None:
        return f"{_pretty(feature)}: {yes_no}"
    return f"{_pretty(feature)} {plain_label(level)}"


def _condition(
    name: str,
    le: bool,
    thr: float,
    scales: dict[str, float],
    *,
    values: np.ndarray | None = None,
    amounts=(),
    currency: str | None = None,
) -> str:
    """One condition of a rule, as a reader writes it. ``values`` is the column the tree split:
    a threshold on money or on whole numbers is written so that it selects the same leads."""
    if "=" in name:
        feat, lvl = name.split("=", 1)
        if lvl in _YES_NO:  # a yes/no column: "trial user: no" rather than "is not True"
            return _level(feat, str(lvl != "True") if le else lvl)
        return f"{_pretty(feat)} is {'not ' if le else ''}{plain_label(lvl)}"
    op = "≤" if le else ">"
    if values is not None and name in amounts:  # money: 4,642,000 -> $4.64M
        return f"{_pretty(name)} {op} {_money_cut(values, _left(values, thr), thr, currency)}"
    if name in scales:  # a rate: 0.453 -> 45.3 %
        return f"{_pretty(name)} {op} {format_percent(thr * scales[name])}"
    if values is not None and _whole(values):  # a count: > 51.5 is ≥ 52, ≤ 51.5 is ≤ 51
        left, whole = _left(values, thr), int(np.floor(thr))
        if not np.array_equal(values <= whole, left):  # pragma: no cover - beyond 2**24
            whole = int(values[left].max())
        return f"{_pretty(name)} ≤ {whole:,}" if le else f"{_pretty(name)} ≥ {whole + 1:,}"
    shown = f"{thr:,.0f}" if abs(thr) >= 100 else f"{thr:.3g}"
    return f"{_pretty(name)} {op} {shown}"


def persona_rules(
    leads: pd.DataFrame,
    labels,
    *,
    features: list[str] | None = None,
    max_depth: int = 3,
    random_state: int = 0,
    percents: list[str] | None = None,
    currency: str | None = None,
    amounts: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Plain rules describing each persona, from a surrogate decision tree.

    Each persona gets its own rule from a one-vs-rest ``DecisionTreeClassifier(max_depth=
    max_depth)`` on the features in their original units (categories as "is / is not" tests):
    the path to the leaf that best singles the persona out (highest F1). ``precision`` is the
    share of the leads matching the rule that belong to the persona, ``recall`` the share of
    the persona's leads the rule catches. ``fidelity`` (same on every row) is the accuracy of
    one multi-class tree of the same depth against the personas: how far short rules as a set
    reproduce the segmentation.

    Thresholds on rate columns read as percentages (``email open rate > 45.3 %``): the columns
    of ``percents`` (``kpis.yml``'s ``settings.percent_columns``), by default those
    :func:`salesmkt._base.formats.percent_columns` finds (names ending in ``_rate``,
    ``_share``, ``_ratio``, ``_pct``, ``_percent`` with fraction values).
    Thresholds on the money columns of ``amounts`` (``kpis.yml``'s ``settings.amount_columns``)
    carry ``currency`` (an ISO code, ``kpis.yml``'s ``currency``; default USD) and read as
    the medians of the cards do (``annual revenue ≤ $4.64M``), to a finer precision when a
    value of the column lies between that figure and the split. Thresholds on columns of
    whole numbers (counts) are whole: ``company size > 51.5`` reads ``company size ≥ 52``,
    ``≤ 51.5`` reads ``≤ 51``. Each condition selects the same leads as the tree's split.

    Returns
    -------
    DataFrame
        Columns ``persona, rule, leads_matching, precision, recall, fidelity``.

    Examples
    --------
    >>> leads = pd.DataFrame({"size": [5, 8, 900, 1200, 7, 1500]})
    >>> persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["size"])[["rule", "fidelity"]]
            rule  fidelity
    0  size ≤ 454       1.0
    1  size ≥ 455       1.0
    >>> leads = pd.DataFrame({"revenue": [1.2e6, 2.5e6, 8.1e6, 9.9e6, 3.1e6, 7.4e6]})
    >>> persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["revenue"], currency="EUR",
    ...               amounts=["revenue"])["rule"].tolist()
    ['revenue ≤ €5.25M', 'revenue > €5.25M']
    >>> leads = pd.DataFrame({"open_rate": [0.1, 0.2, 0.7, 0.8, 0.15, 0.9]})
    >>> persona_rules(leads, [0, 0, 1, 1, 0, 1], features=["open_rate"])["rule"].tolist()
    ['open rate ≤ 45.0 %', 'open rate > 45.0 %']
    """
    from sklearn.tree import DecisionTreeClassifier

    lab = _labels(leads, labels, "persona_rules")
    plan = pf.plan_features(leads, features or pf.default_features(leads))
    X, names = _readable_matrix(plan, leads)
    scales = percent_columns(leads[[s.name for s in plan.numeric]], percents)
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state).fit(X, lab)
    fidelity = float((tree.predict(X) == lab).mean())
    rows = []
    for p in np.unique(lab):
        target = lab == p
        one = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state)
        one.fit(X, target)
        t, leaf_of = one.tree_, one.apply(X)
        paths: dict[int, list[str]] = {}

        def walk(node: int, conds: list[str], t=t, paths=paths) -> None:
            if t.children_left[node] == -1:
                paths[node] = conds
                return
            name, thr = names[t.feature[node]], t.threshold[node]
            kw = {"values": X[:, t.feature[node]], "amounts": amounts, "currency": currency}
            walk(t.children_left[node], [*conds, _condition(name, True, thr, scales, **kw)])
            walk(t.children_right[node], [*conds, _condition(name, False, thr, scales, **kw)])

        walk(0, [])
        n_p = int(target.sum())
        best, best_f1, best_tp, best_n = None, 0.0, 0, 0
        for leaf in paths:
            in_leaf = leaf_of == leaf
            tp, n_leaf = int(target[in_leaf].sum()), int(in_leaf.sum())
            f1 = 2 * tp / (n_leaf + n_p)
            if tp * 2 > n_leaf and f1 > best_f1:
                best, best_f1, best_tp, best_n = leaf, f1, tp, n_leaf
        if best is None:
            rows.append((p, "(no short rule singles this persona out)", 0, np.nan, 0.0, fidelity))
            continue
        rule = " and ".join(paths[best]) or "(all leads)"
        rows.append((p, rule, best_n, best_tp / best_n, best_tp / n_p, fidelity))
    cols = ["persona", "rule", "leads_matching", "precision", "recall", "fidelity"]
    return pd.DataFrame(rows, columns=cols)


def persona_outcomes(dataset, labels) -> pd.DataFrame:
    """Business outcomes per persona: conversion, win rate, revenue, deal size and CAC.

    ``labels`` gives the persona of each row of ``dataset.leads``. Deals join the leads on
    ``lead_id``; deals without a known lead are left out and counted in
    ``n_deals_excluded``. ``win_rate`` = won / (won + lost) among closed deals. CAC: each
    campaign's spend is shared equally among the leads it sourced (leads.campaign_id), a
    persona's ``spend`` adds up its leads' shares, and ``cac`` = spend / new customers. Spend
    of campaigns that sourced no lead (nurture, onboarding) cannot be given to a persona and is
    reported in ``spend_unallocated``. Missing tables give missing values, never errors.

    Returns
    -------
    DataFrame
        Columns ``persona, leads, share, customers, conversion_rate, deals_won, deals_lost,
        win_rate, revenue, avg_deal_size, spend, cac, n_deals_excluded, spend_unallocated``.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> out = persona_outcomes(ds, (ds.leads["company_size"] > 1000).astype(int))
    >>> int(out["leads"].sum()) == len(ds.leads)
    True
    """
    leads = dataset.leads
    check_columns(leads, "leads", ["lead_id"], caller="persona_outcomes")
    lab = pd.Series(_labels(leads, labels, "persona_outcomes"), index=leads.index)
    per_lead = pd.Series(lab.to_numpy(), index=leads["lead_id"].to_numpy())
    out = lab.value_counts().sort_index().rename("leads").rename_axis("persona").to_frame()
    out["share"] = out["leads"] / len(leads)
    if "customer_at" in leads.columns:  # reached the customer stage, as the funnel counts it
        out["customers"] = leads_reached(leads, "customer").groupby(lab).sum()
        out["conversion_rate"] = out["customers"] / out["leads"]
    else:
        out["customers"] = out["conversion_rate"] = np.nan
    deals = dataset.deals
    n_excluded = 0
    for col in ("deals_won", "deals_lost", "win_rate", "revenue", "avg_deal_size"):
        out[col] = np.nan
    if deals is not None and {"lead_id", "status"} <= set(deals.columns):
        persona = deals["lead_id"].map(per_lead)
        n_excluded = int(persona.isna().sum())
        d = deals.assign(persona=persona).dropna(subset=["persona"])
        d["persona"] = d["persona"].astype(np.int64)
        won = won_deals(d) if "closed_at" in d.columns else d[d["status"] == "won"]
        out["deals_won"] = won.groupby("persona").size().reindex(out.index, fill_value=0)
        lost = (d["status"] == "lost").groupby(d["persona"]).sum()
        out["deals_lost"] = lost.reindex(out.index, fill_value=0)
        closed = out["deals_won"] + out["deals_lost"]
        out["win_rate"] = out["deals_won"] / closed.where(closed > 0)
        out["revenue"] = won.groupby("persona")["amount"].sum().reindex(out.index, fill_value=0)
        out["avg_deal_size"] = won.groupby("persona")["amount"].mean()
    out["spend"] = out["cac"] = np.nan
    unallocated = np.nan
    spend = dataset.spend
    if spend is not None and "campaign_id" in leads.columns:
        by_campaign = spend.groupby("campaign_id")["amount"].sum()
        sourced = leads["campaign_id"].value_counts()
        cpl = (by_campaign / sourced).dropna()
        lead_cost = leads["campaign_id"].map(cpl).astype("float64").fillna(0.0)
        out["spend"] = lead_cost.groupby(lab).sum()
        out["cac"] = out["spend"] / out["customers"].where(out["customers"] > 0)
        unallocated = float(by_campaign[~by_campaign.index.isin(sourced.index)].sum())
    out["n_deals_excluded"] = n_excluded
    out["spend_unallocated"] = unallocated
    return out.reset_index()


def persona_funnel(leads: pd.DataFrame, labels, *, as_of=None) -> pd.DataFrame:
    """The lifecycle funnel of each persona: how many leads reached each stage.

    The lifecycle funnel broken down by persona (:func:`salesmkt.lifecycle_funnel` with ``by``
    the personas), over the stages whose columns ``leads`` has. "Reached" follows
    :mod:`salesmkt.data.stages`: a stage counts as reached when its timestamp or any later
    stage's is set by ``as_of`` (leads that skipped MQL still passed it); leads whose stage
    timestamps are out of order are left out and counted in ``n_excluded``. ``rate`` is the
    share of the persona's counted leads that reached the stage, ``step_rate`` the share of
    those at the previous stage.

    Parameters
    ----------
    leads : DataFrame
        The canonical ``leads`` table.
    labels : array-like
        The persona of each lead, in the leads' row order.
    as_of : timestamp, optional
        Count stages reached up to this time. Default: the latest stage timestamp in ``leads``.

    Returns
    -------
    DataFrame
        Columns ``persona, stage, leads, rate, step_rate, n_excluded, as_of``.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> f = persona_funnel(leads, (leads["company_size"] > 1000).astype(int))
    >>> f.query("stage == 'lead'")["rate"].tolist()
    [1.0, 1.0]
    """
    lab = _labels(leads, labels, "persona_funnel")
    col = "persona"
    while col in leads.columns:  # a column of the leads must not shadow the labels
        col = f"_{col}"
    f = lifecycle_funnel(leads.assign(**{col: lab}), stages=stages_in(leads), by=col, as_of=as_of)
    back = {str(p): p for p in np.unique(lab)}
    out = pd.DataFrame(
        {
            "persona": f[col].map(back).astype(np.int64),
            "stage": f["stage"],
            "leads": f["entered"].astype(int),
            "rate": f["conversion_from_first"],
            "step_rate": f["conversion_from_previous"],
            "n_excluded": f["n_excluded"],
            "as_of": f["as_of"],
            "_step": f["step"],
        }
    )
    out = out.sort_values(["persona", "_step"], kind="stable").drop(columns="_step")
    return out.reset_index(drop=True)


def persona_channels(leads: pd.DataFrame, labels) -> pd.DataFrame:
    """Where each persona's leads come from: leads per channel, share within the persona and
    lift against all leads (missing channels show as ``"(missing)"``).

    Returns
    -------
    DataFrame
        Columns ``persona, channel, leads, share, lift``.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> ch = persona_channels(leads, (leads["company_size"] > 1000).astype(int))
    >>> ch.groupby("persona")["share"].sum().round(6).tolist()
    [1.0, 1.0]
    """
    check_columns(leads, "leads", ["channel"], caller="persona_channels")
    lab = _labels(leads, labels, "persona_channels")
    channel = leads["channel"].astype("string").fillna("(missing)").to_numpy()
    counts = pd.crosstab(lab, channel)
    share = counts.div(counts.sum(axis=1), axis=0)
    overall = counts.sum() / counts.to_numpy().sum()
    lift = share / overall
    out = pd.DataFrame(
        {
            "persona": np.repeat(counts.index.to_numpy(), counts.shape[1]),
            "channel": np.tile(counts.columns.astype(str), counts.shape[0]),
            "leads": counts.to_numpy().ravel(),
            "share": share.to_numpy().ravel(),
            "lift": lift.to_numpy().ravel(),
        }
    )
    return out


def persona_summary(
    model,
    leads: pd.DataFrame,
    *,
    dataset=None,
    labels=None,
    names: dict | None = None,
    percents: list[str] | None = None,
    currency: str | None = None,
    amounts: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per persona: size, share, suggested label, rule with its fidelity, and (with a
    ``dataset``) the outcomes of :func:`persona_outcomes`.

    ``labels`` defaults to ``model.predict(leads)``. ``names`` (persona number -> the name the
    workshop gave it, e.g. ``PersonaWorkshop.names``) adds a ``name`` column after ``persona``.
    ``percents`` names the rate columns whose thresholds the rules write as percentages
    (``kpis.yml``'s ``settings.percent_columns``, as :func:`persona_rules`; default: the rule
    of :func:`salesmkt._base.formats.percent_columns`); ``currency`` and ``amounts`` (the money
    columns, ``kpis.yml``'s ``currency`` and ``settings.amount_columns``) give the money
    thresholds their currency, as :func:`persona_rules`.

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> ds = salesmkt.load_sample()
    >>> model = PersonaModel(5, random_state=0).fit(ds.leads)
    >>> s = persona_summary(model, ds.leads, dataset=ds)
    >>> bool(s["leads"].sum() == len(ds.leads)), "win_rate" in s
    (True, True)
    >>> persona_summary(model, ds.leads, names={0: "Growth Marketer"})["name"].tolist()[:2]
    ['Growth Marketer', 'persona 1']
    """
    lab = model.predict(leads) if labels is None else _labels(leads, labels, "persona_summary")
    prof = persona_profiles(leads, lab, plan=model.feature_plan_)
    base = prof.groupby("persona", as_index=False)[["size", "share"]].first()
    base = base.rename(columns={"size": "leads"})
    out = base.merge(persona_labels(prof), on="persona", how="left")
    rules = persona_rules(
        leads,
        lab,
        features=model.features_,
        percents=percents,
        currency=currency,
        amounts=amounts,
    )
    out = out.merge(rules[["persona", "rule", "precision", "recall", "fidelity"]], on="persona")
    if dataset is not None:
        outcomes = persona_outcomes(dataset.__class__(**{**dataset.tables, "leads": leads}), lab)
        out = out.merge(outcomes.drop(columns=["leads", "share"]), on="persona", how="left")
    if names is not None:
        named = out["persona"].map(lambda p: names.get(int(p), f"persona {int(p)}"))
        out.insert(1, "name", named)
    return out
