"""Scores sales can act on: probability, tier and the three strongest reasons per lead.

:func:`lead_contributions` says how much each feature moves each lead's score, on the log-odds
scale of the model: for the logistic model exactly ``coefficient x (value - training mean)``
summed over a feature's columns; for gradient boosting the path contributions of the trees
(each split on a lead's path moves its score from the parent node's value to the child's, and
the move is credited to the split's feature; Saabas' method), which add up exactly to the
lead's log-odds. :func:`score_leads`
turns them into plain-word reasons such as "Visited the website 14 times in the last 30 days
(+)" and puts every open lead into a tier.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from salesmkt._base.tables import column_label
from salesmkt.data import periods as _periods
from salesmkt.scoring._paths import path_contributions
from salesmkt.scoring.minimums import TooFewConversionsWarning
from salesmkt.scoring.model import LeadScorer
from salesmkt.scoring.snapshot import data_end, lead_snapshot, training_snapshots

__all__ = [
    "lead_contributions",
    "reason_text",
    "score_leads",
    "train_lead_scorer",
    "TIER_SHARES",
]

#: Default tiers by quantile: the top 10 % of open leads are A, the next 20 % B, the next 30 %
#: C and the last 40 % D.
TIER_SHARES = {"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4}

_EVENTS = {
    "start_trial": ("Started a trial", "Has not started a trial"),
    "activate": ("Activated the product", "Has not activated the product"),
    "request_demo": ("Requested a demo", "Has not requested a demo"),
    "visit_pricing": ("Looked at pricing in the product", "Has not looked at pricing"),
    "invite_teammate": ("Invited a teammate", "Has not invited a teammate"),
    "purchase": ("Made a purchase", "Has made no purchase"),
}
_STAGES = {
    "lead": "Still a lead, not yet marketing-qualified",
    "mql": "Marketing-qualified (MQL)",
    "sql": "Accepted by sales (SQL)",
    "opportunity": "An open opportunity",
    "customer": "Already a customer",
}
_BEHAVIOUR = {
    "web_sessions": ("Visited the website {n} in the last {d} days", "No website visits"),
    "pricing_page_sessions": ("Came to the pricing page {n} in the last {d} days", None),
    "marketing_touches": ("Reached by marketing {n} in the last {d} days", None),
    "email_touches": ("Reached by email {n} in the last {d} days", None),
}


def _times(n: float) -> str:
    n = int(round(n))
    return "once" if n == 1 else "twice" if n == 2 else f"{n:,} times"


def _num(v: float) -> str:
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"


def _words(value) -> str:
    return str(value).replace("_", " ")


def reason_text(feature: str, value, contribution: float) -> str:
    """One reason in plain words: what the lead shows and which way it moves the score.

    Examples
    --------
    >>> reason_text("web_sessions_30d", 14, 0.8)
    'Visited the website 14 times in the last 30 days (+)'
    >>> reason_text("channel", "paid_social", -0.3)
    'Sourced by paid social (−)'
    >>> reason_text("company_size", float("nan"), 0.1)
    'Company size not known (+)'
    """
    sign = " (+)" if contribution >= 0 else " (−)"
    missing = value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
    return _phrase(feature, value, missing) + sign


def _phrase(feature: str, value, missing: bool) -> str:
    label = column_label(feature)
    if missing or (isinstance(value, str) and value == "(missing)"):
        return f"{label} not known"
    for key, (text, zero) in _BEHAVIOUR.items():
        for d in (30, 90):
            if feature == f"{key}_{d}d":
                if value == 0:
                    return f"{zero or text.split(' {n}')[0] + ' never'} in the last {d} days"
                return text.format(n=_times(value), d=d)
    if feature.startswith("event_") and feature.endswith("_ever"):
        name = feature[len("event_") : -len("_ever")]
        yes, no = _EVENTS.get(name, (f"{_words(name).capitalize()}", f"No {_words(name)} yet"))
        if not value:
            return no
        return yes if value == 1 else f"{yes} ({_times(value)})"
    if feature == "channel":
        return f"Sourced by {_words(value)}"
    if feature == "campaign_id":
        return f"Came from campaign {value}"
    if feature == "stage":
        return _STAGES.get(str(value), f"In stage {value}")
    if feature == "persona":
        return f"Persona: {value}"
    if feature == "days_since_created":
        d = round(float(value))
        return f"Created {_num(d)} day{'s' if d != 1 else ''} ago"
    if feature == "days_in_stage":
        d = round(float(value))
        return f"{_num(d)} day{'s' if d != 1 else ''} in the current stage"
    if feature == "responded":
        return "Sales has responded" if value else "No sales response yet"
    if feature == "trial_user":
        return "A trial user" if value else "Not a trial user"
    if feature == "webinars_attended":
        return f"Attended {_num(value)} webinar{'s' if value != 1 else ''}"
    if feature == "content_downloads":
        return f"Downloaded {_num(value)} piece{'s' if value != 1 else ''} of content"
    if feature == "web_visits_90d":
        return f"{_num(value)} website visits in 90 days (CRM count)"
    if feature == "email_open_rate":
        return f"Opens {float(value):.0%} of marketing emails"
    if feature == "company_size":
        return f"Company of {_num(value)} employees"
    if feature == "annual_revenue":
        return f"Company revenue of {float(value) / 1e6:,.1f} million"
    if isinstance(value, bool | np.bool_):
        return f"{label}: {'yes' if value else 'no'}"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{label}: {_num(value)}"
    return f"{label}: {_words(value)}"


def lead_contributions(scorer: LeadScorer, X: pd.DataFrame) -> pd.DataFrame:
    """How much each feature moves each lead's score (log-odds of converting).

    Logistic model: ``coefficient x (value - training mean)`` summed over the columns a
    feature becomes (one-hot, missing indicator): exact, and the contributions add up to the
    log-odds minus the average. Gradient boosting: path contributions (Saabas): every split
    on the lead's path through a tree moves its log-odds from the parent node's value to the
    child's, credited to the split's feature; they add up exactly to the log-odds minus the
    trees' common starting value. One compiled pass over the trees (numba; a numpy walk
    without it). Both are on the model's uncalibrated log-odds; calibration keeps their
    order.

    Returns
    -------
    DataFrame
        One row per row of ``X`` (same index), one column per feature (``scorer.features_``).

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> scorer = train_lead_scorer(ds, as_of="2026-04-01", model="logistic")
    >>> snap = lead_snapshot(ds, as_of="2026-04-01")
    >>> c = lead_contributions(scorer, snap)
    >>> c.shape == (len(snap), len(scorer.features_))
    True
    """
    return _explain(scorer, X)[0]


def _explain(scorer: LeadScorer, X: pd.DataFrame) -> tuple[pd.DataFrame, list | None]:
    """The contributions and, for gradient boosting, each model's raw log-odds (the
    contributions plus the trees' starting value), so the probability needs no second pass
    over the trees."""
    data = scorer._data(X[list(scorer.feature_names_in_)])
    with threadpool_limits(scorer._threads()):
        parts = _contributions(scorer, data)
    out = np.mean([c for c, _ in parts], axis=0)
    raw = None if scorer.model == "logistic" else [r for _, r in parts]
    return pd.DataFrame(out, index=X.index, columns=scorer.features_), raw


def _contributions(scorer: LeadScorer, data: pd.DataFrame) -> list[tuple[np.ndarray, object]]:
    parts = []
    for i, est in enumerate(scorer.estimators_):
        prep, model = est.named_steps["prep"], est.named_steps["model"]
        Z = prep.transform(data)
        if scorer.model == "logistic":
            parts.append((_linear(scorer, prep, model, Z, scorer.train_means_[i]), None))
        else:
            parts.append(_paths_of(scorer, model, np.asarray(Z, dtype=float)))
    return parts


def _source_of_columns(scorer: LeadScorer, prep) -> list[str]:
    """The feature each output column of the preprocessing comes from."""
    src: list[str] = []
    num = prep.named_transformers_.get("num")
    if scorer.numeric_:
        src += list(scorer.numeric_)
        ind = num.named_steps["impute"].indicator_ if num is not None else None
        if ind is not None:
            src += [scorer.numeric_[i] for i in ind.features_]
    ohe = prep.named_transformers_.get("cat")
    if scorer.categorical_:
        infreq = ohe.infrequent_categories_
        for c, cats, inf in zip(scorer.categorical_, ohe.categories_, infreq, strict=True):
            k = len(cats) - (0 if inf is None else len(inf) - 1)
            src += [c] * k
    return src


def _linear(scorer, prep, model, Z, mean: np.ndarray) -> np.ndarray:
    coef = model.coef_[0]
    src = np.array(_source_of_columns(scorer, prep))
    if hasattr(Z, "toarray"):
        Z = Z.tocsc()
    out = np.zeros((Z.shape[0], len(scorer.features_)))
    pos = {f: i for i, f in enumerate(scorer.features_)}
    for k in range(Z.shape[1]):
        col = Z[:, [k]].toarray().ravel() if hasattr(Z, "toarray") else Z[:, k]
        out[:, pos[src[k]]] += coef[k] * (col - mean[k])
    return out


def _paths_of(scorer, model, Z: np.ndarray, batch: int = 250_000):
    """Path contributions of the boosting's features, in the order of ``scorer.features_``,
    and the raw log-odds they add up to."""
    src = scorer.numeric_ + scorer.categorical_  # column order of the boosting's prep
    pos = [scorer.features_.index(f) for f in src]
    out = np.zeros((Z.shape[0], len(scorer.features_)))
    raw = np.zeros(Z.shape[0])
    for lo in range(0, Z.shape[0], batch):
        c, bias = path_contributions(model, Z[lo : lo + batch])
        out[lo : lo + batch, pos] = c
        raw[lo : lo + batch] = bias + c.sum(axis=1)
    return out, raw


def _tiers(p: np.ndarray, tiers) -> tuple[np.ndarray, str]:
    if tiers is None or tiers == "quantile":
        tiers = TIER_SHARES
        shares = np.cumsum(list(tiers.values()))
        rank = (pd.Series(p).rank(ascending=False, method="first").to_numpy() - 1) / max(len(p), 1)
        idx = np.searchsorted(shares, rank, side="right")
        names = np.array(list(tiers))[np.minimum(idx, len(tiers) - 1)]
        rule = "by rank among the open leads: " + ", ".join(
            f"{k} the {'top' if i == 0 else 'last' if i == len(tiers) - 1 else 'next'} {v:.0%}"
            for i, (k, v) in enumerate(tiers.items())
        )
        return names, rule
    if isinstance(tiers, dict):
        cuts = sorted(((float(v), k) for k, v in tiers.items() if v is not None), reverse=True)
        rest = [k for k, v in tiers.items() if v is None]
        low = rest[0] if rest else "Low"
        out = np.full(len(p), low, dtype=object)
        for v, k in reversed(cuts):
            out[p >= v] = k
        rule = "by probability: " + ", ".join(f"{k} from {v:.0%}" for v, k in cuts)
        return out, rule + f", {low} below"
    raise ValueError(
        "score_leads: tiers must be 'quantile' or a dict of tier -> lowest probability "
        '(e.g. {"Very high": 0.3, "High": 0.1, "Medium": 0.03, "Low": None})'
    )


def train_lead_scorer(
    dataset,
    *,
    as_of=None,
    horizon="90D",
    target: str = "customer",
    model: str = "boosting",
    dates="MS",
    personas=None,
    **params,
) -> LeadScorer:
    """A :class:`LeadScorer` trained on monthly snapshots whose outcome was known by ``as_of``.

    The training rows are :func:`training_snapshots` up to ``as_of`` (default: the end of the
    data), labelled with what happened within ``horizon``; rows whose horizon runs past
    ``as_of`` are left out. ``scorer.training_`` records the rows, conversions and dates.

    Examples
    --------
    >>> import salesmkt
    >>> s = train_lead_scorer(salesmkt.load_sample(), model="logistic")
    >>> s.training_["n_conversions"] > 100
    True
    """
    end = _periods.to_utc(as_of) or data_end(dataset)
    snaps = training_snapshots(
        dataset, dates=dates, horizon=horizon, target=target, personas=personas, end=end
    )
    snaps = snaps[(snaps["as_of"] < end) & snaps["label"].notna()]
    if snaps.empty:
        raise ValueError(
            f"train_lead_scorer: no snapshot before {end:%Y-%m-%d} whose {horizon} horizon is over"
        )
    X = snaps.drop(columns=["lead_id", "label"])
    y = snaps["label"].astype(bool).to_numpy()
    scorer = LeadScorer(model, time_column="as_of", **params)
    scorer.fit(X, y)
    scorer.training_ = {
        "n_rows": len(y),
        "n_leads": int(snaps["lead_id"].nunique()),
        "n_conversions": int(y.sum()),
        "dates": sorted(snaps["as_of"].unique()),
        "as_of": end,
        "horizon": pd.Timedelta(horizon),
        "target": target,
    }
    return scorer


def score_leads(
    data,
    *,
    scorer: LeadScorer | None = None,
    as_of=None,
    horizon="90D",
    target: str = "customer",
    tiers="quantile",
    personas=None,
    model: str = "boosting",
    n_reasons: int = 3,
) -> pd.DataFrame:
    """Every open lead with its probability of converting, its tier and its strongest reasons.

    Parameters
    ----------
    data : Dataset or DataFrame
        A dataset (its open leads on ``as_of`` are scored, :func:`lead_snapshot`) or a snapshot
        already built (then ``scorer`` is required).
    scorer : LeadScorer, optional
        Default: :func:`train_lead_scorer` on the dataset's history up to ``as_of``.
    as_of : timestamp, optional
        The scoring date (default: the end of the data).
    horizon, target : as :func:`lead_snapshot`
        The probability is of reaching ``target`` within ``horizon`` after ``as_of``.
    tiers : "quantile" or dict
        ``"quantile"`` (default): by rank among the open leads, A the top 10 %, B the next 20 %,
        C the next 30 %, D the last 40 % (:data:`TIER_SHARES`). A dict of tier name -> lowest
        probability (``None`` for the rest), e.g. ``{"Very high": 0.3, "High": 0.1, "Medium":
        0.03, "Low": None}``: fixed probability cut-offs.
    personas : as :func:`lead_snapshot`
    model : {"boosting", "logistic"}
        The model trained when no ``scorer`` is given.
    n_reasons : int
        How many reasons per lead (default 3).

    Returns
    -------
    DataFrame
        One row per open lead, highest probability first: ``lead_id``, ``probability``,
        ``tier``, ``reason_1`` ... ``reason_<n>`` (plain words, ``(+)`` raises the score,
        ``(−)`` lowers it). ``attrs``: ``as_of``, ``horizon``, ``target``, ``tier_rule`` (the
        tier rule in words), ``model``, ``calibration``.

    Examples
    --------
    >>> import salesmkt
    >>> scores = salesmkt.score_leads(salesmkt.load_sample(), as_of="2026-04-01")
    >>> list(scores.columns)
    ['lead_id', 'probability', 'tier', 'reason_1', 'reason_2', 'reason_3']
    >>> sorted(scores["tier"].unique())
    ['A', 'B', 'C', 'D']
    >>> bool(scores["reason_1"].str.endswith(("(+)", "(−)")).all())
    True
    """
    if isinstance(data, pd.DataFrame):
        if scorer is None:
            raise ValueError("score_leads: give a fitted scorer to score a snapshot frame")
        snap = data
        as_of = snap["as_of"].max() if "as_of" in snap.columns else _periods.to_utc(as_of)
    else:
        as_of = _periods.to_utc(as_of) or data_end(data)
        if scorer is None:
            with warnings.catch_warnings():
                warnings.simplefilter("default", TooFewConversionsWarning)
                scorer = train_lead_scorer(
                    data,
                    as_of=as_of,
                    horizon=horizon,
                    target=target,
                    model=model,
                    personas=personas,
                )
        snap = lead_snapshot(
            data, as_of=as_of, horizon=horizon, target=target, personas=personas, end=as_of
        )
    contrib, raw = _explain(scorer, snap)
    if raw is not None and len(scorer.classes_) == 2:
        p = scorer._proba_from_log_odds(raw)  # the trees walked once, for both
    else:
        p = scorer.predict_proba(snap[list(scorer.feature_names_in_)])[:, 1]
    names, rule = _tiers(p, tiers)
    out = pd.DataFrame({"lead_id": snap["lead_id"].to_numpy(), "probability": p, "tier": names})
    reasons = _reasons(contrib.to_numpy(), snap, scorer.features_, n_reasons)
    for k in range(n_reasons):
        out[f"reason_{k + 1}"] = reasons[k]
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update(
        as_of=as_of,
        horizon=pd.Timedelta(horizon),
        target=target,
        tier_rule=rule,
        model=scorer.model,
        calibration=scorer.calibration_method_,
    )
    return out


def _reasons(c: np.ndarray, snap: pd.DataFrame, features: list[str], n: int) -> list[np.ndarray]:
    """The ``n`` strongest reasons per row, phrased once per feature, distinct value and
    direction (a feature's values are factorised once, whichever rank it takes)."""
    n = min(n, len(features))
    if len(features) > n:
        top = np.argpartition(-np.abs(c), n - 1, axis=1)[:, :n]
        strength = np.take_along_axis(-np.abs(c), top, axis=1)
        order = np.take_along_axis(top, np.argsort(strength, axis=1, kind="stable"), axis=1)
    else:
        order = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :n]
    out = [np.full(len(snap), "", dtype=object) for _ in range(n)]
    for j, f in enumerate(features):
        rows, ranks = np.nonzero(order == j)
        if not len(rows):
            continue
        codes, uniq = pd.factorize(snap[f], use_na_sentinel=False)
        uniq = np.asarray(uniq, dtype=object)
        up = c[rows, j] >= 0
        keys, inverse = np.unique(codes[rows] * 2 + up, return_inverse=True)
        texts = np.array(_texts(f, uniq[keys // 2], keys % 2 == 1), dtype=object)[inverse]
        for k in range(n):
            at = ranks == k
            out[k][rows[at]] = texts[at]
    return out


def _texts(feature: str, values: np.ndarray, up: np.ndarray) -> list[str]:
    """:func:`reason_text` for many values of one feature; numbers that take the plain
    "<label>: <number>" wording are formatted directly (the same text, without the per-value
    look-ups)."""
    signs = np.where(up, " (+)", " (−)")
    label = column_label(feature)
    probes = (1234.5678, 0.25, 3.0)
    plain = all(_phrase(feature, v, False) == f"{label}: {_num(v)}" for v in probes)
    out = []
    for v, sign in zip(values.tolist(), signs.tolist(), strict=True):
        if plain and type(v) is float and v == v:
            out.append(f"{label}: {_num(v)}{sign}")
        else:
            out.append(reason_text(feature, v, 1.0 if sign == " (+)" else -1.0))
    return out
