"""The lead score in sentences and plain tables, for the pipeline report (notebook 06).

Every sentence is written from a result frame (:func:`~salesmkt.scoring.quality.model_quality`,
:func:`~salesmkt.scoring.reasons.score_leads`, :func:`~salesmkt.scoring.drift.population_stability`,
:func:`~salesmkt.scoring.threshold.threshold_tradeoff`), never as fixed text. Tables come back
with plain column labels, ready for :func:`salesmkt.format_table`.

Examples
--------
>>> import pandas as pd
>>> q = pd.DataFrame({"model": ["base_rate", "boosting", "logistic"], "fold": ["(pooled)"] * 3,
...     "n": [900] * 3, "conversions": [90] * 3, "base_rate": [0.1] * 3,
...     "roc_auc": [0.5, 0.81, 0.77], "pr_auc": [0.1, 0.35, 0.3],
...     "brier": [0.09, 0.075, 0.08], "brier_skill": [0.0, 0.17, 0.11], "log_loss": [0.3] * 3})
>>> print(quality_finding(q))
**The score ranks leads well and beats both baselines:** a converting lead scores above a non-converting one 81 % of the time (the plain logistic model 77 %, the base rate 50 %); its probabilities are 17 % closer to the outcomes than the base rate's (Brier score 0.075 against 0.090), on 900 later leads the score had not seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesmkt._base.formats import format_percent
from salesmkt.scoring.quality import POOLED

__all__ = [
    "MODEL_NAMES",
    "quality_finding",
    "quality_summary",
    "tier_summary",
    "tier_finding",
    "top_leads",
    "group_summary",
    "drift_summary",
    "drift_finding",
    "threshold_moves",
]

#: The models of :func:`~salesmkt.scoring.model.time_split_validation` in plain words.
MODEL_NAMES = {
    "boosting": "Lead score (gradient boosting)",
    "logistic": "Plain logistic model",
    "base_rate": "Base rate (no model)",
}
#: Columns a top-leads table may never show (personal data).
PII_COLUMNS = ("name", "first_name", "last_name", "email", "phone", "company", "contact")


def _pct(x: float, decimals: int = 0) -> str:
    return f"{x:.{decimals}%}".replace("%", " %")


def _label(text: str) -> str:
    """``organic search`` as ``Organic search``; names already capitalised stay as they are."""
    return text[:1].upper() + text[1:]


def _num(x: float, decimals: int) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{decimals}f}"


def _pooled(quality: pd.DataFrame) -> pd.DataFrame:
    if "fold" in quality.columns:
        quality = quality[quality["fold"] == POOLED]
    return quality.set_index("model")


def quality_summary(quality: pd.DataFrame) -> pd.DataFrame:
    """The pooled rows of :func:`~salesmkt.scoring.quality.model_quality` with plain labels,
    the lead score first.

    Examples
    --------
    >>> q = pd.DataFrame({"model": ["boosting"], "fold": ["(pooled)"], "n": [10],
    ...     "conversions": [2], "base_rate": [0.2], "roc_auc": [0.8], "pr_auc": [0.5],
    ...     "brier": [0.1], "brier_skill": [0.3], "log_loss": [0.4]})
    >>> quality_summary(q).columns.tolist()[:3]
    ['Model', 'Leads tested', 'Conversions']
    """
    p = _pooled(quality)
    order = [m for m in MODEL_NAMES if m in p.index] + [m for m in p.index if m not in MODEL_NAMES]
    p = p.loc[order]
    return pd.DataFrame(
        {
            "Model": [MODEL_NAMES.get(m, m) for m in p.index],
            "Leads tested": p["n"].astype(int).to_numpy(),
            "Conversions": p["conversions"].astype(int).to_numpy(),
            "Ranking (ROC AUC)": [_num(v, 2) for v in p["roc_auc"]],
            "Precision-recall AUC": [_num(v, 2) for v in p["pr_auc"]],
            "Brier score (lower is better)": [_num(v, 4) for v in p["brier"]],
            "Closer to the outcomes than the base rate": [
                format_percent(round(v, 2) + 0.0, decimals=0) for v in p["brier_skill"]
            ],
        }
    )


def quality_finding(quality: pd.DataFrame) -> str:
    """The score's quality in one sentence: ranking and accuracy against both baselines.

    ``quality`` is :func:`~salesmkt.scoring.quality.model_quality` of the lead score
    (``boosting``), ``logistic`` and ``base_rate`` on the same folds. See the module example.
    """
    p = _pooled(quality)
    if "boosting" not in p.index:
        raise ValueError("model_quality: no 'boosting' row (the lead score) to report")
    s = p.loc["boosting"]
    auc = s["roc_auc"]
    if not np.isfinite(auc):
        return "**The score cannot be judged yet:** the tested leads hold only one outcome."
    others = {m: p.loc[m, "roc_auc"] for m in ("logistic", "base_rate") if m in p.index}
    beats = all(auc > v for v in others.values() if np.isfinite(v))
    skill = s["brier_skill"]
    if auc >= 0.75 and beats and skill > 0:
        verdict = "The score ranks leads well and beats both baselines"
    elif beats and skill > 0:
        verdict = "The score ranks leads better than the baselines, but not by much"
    else:
        verdict = "The score does not beat its baselines: do not route leads by it yet"
    side = []
    if "logistic" in others:
        side.append(f"the plain logistic model {_pct(others['logistic'])}")
    if "base_rate" in others:
        side.append(f"the base rate {_pct(others['base_rate'])}")
    base_brier = s["brier"] / (1 - skill) if np.isfinite(skill) and skill < 1 else np.nan
    accuracy = (
        f"its probabilities are {_pct(skill)} closer to the outcomes than the base rate's "
        f"(Brier score {s['brier']:.3f} against {base_brier:.3f})"
        if skill > 0
        else f"its probabilities are no closer to the outcomes than the base rate's "
        f"(Brier score {s['brier']:.3f})"
    )
    return (
        f"**{verdict}:** a converting lead scores above a non-converting one {_pct(auc)} of the "
        f"time ({', '.join(side)}); {accuracy}, on {int(s['n']):,} later leads the score had "
        "not seen."
    )


def tier_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Leads per tier of :func:`~salesmkt.scoring.reasons.score_leads`, with the tier's
    probabilities and the customers it is expected to bring.

    Examples
    --------
    >>> s = pd.DataFrame({"tier": ["A", "B", "B"], "probability": [0.5, 0.2, 0.1]})
    >>> tier_summary(s)[["Tier", "Open leads", "Expected customers"]].to_dict("list")
    {'Tier': ['A', 'B'], 'Open leads': ['1', '2'], 'Expected customers': ['0.5', '0.3']}
    """
    g = scores.groupby("tier", sort=True, observed=True)["probability"]
    expected = g.sum()
    return pd.DataFrame(
        {
            "Tier": g.size().index.astype(str),
            "Open leads": [f"{n:,}" for n in g.size()],
            "Lowest probability": [format_percent(v, decimals=1) for v in g.min()],
            "Average probability": [format_percent(v, decimals=1) for v in g.mean()],
            "Expected customers": [f"{v:,.1f}" for v in expected],
            "Share of expected customers": [
                format_percent(v, decimals=0) for v in expected / scores["probability"].sum()
            ],
        }
    )


def tier_finding(scores: pd.DataFrame) -> str:
    """Which leads deserve a call, in one sentence, from the tiers of ``score_leads``.

    Examples
    --------
    >>> s = pd.DataFrame({"tier": ["A", "B", "C", "D"], "probability": [0.6, 0.2, 0.1, 0.1]})
    >>> tier_finding(s)
    '**Call the 1 tier-A lead first:** they are 25 % of the 4 open leads but 60 % of the 1.0 customers the open leads are expected to bring (average probability 60 %).'
    """
    g = scores.groupby("tier", sort=True, observed=True)["probability"]
    top, n_top = g.size().index[0], int(g.size().iloc[0])
    n, total = len(scores), float(scores["probability"].sum())
    lead = "lead" if n_top == 1 else "leads"
    text = (
        f"**Call the {n_top:,} tier-{top} {lead} first:** they are {_pct(n_top / n)} of the "
        f"{n:,} open leads but {_pct(g.sum().iloc[0] / total)} of the {total:,.1f} customers "
        f"the open leads are expected to bring (average probability {_pct(g.mean().iloc[0])})."
    )
    rule = str(scores.attrs.get("tier_rule", ""))
    if rule:
        text += f" Tiers {rule.replace('%', ' %')}."
    return text


def top_leads(scores: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The ``n`` highest-scored leads: lead id, tier, probability and reasons, no personal data.

    Examples
    --------
    >>> s = pd.DataFrame({"lead_id": ["L1", "L2"], "probability": [0.2, 0.6], "tier": ["B", "A"],
    ...     "reason_1": ["x (+)", "y (+)"], "email": ["a@b.c", "d@e.f"]})
    >>> top_leads(s, 1).to_dict("records")
    [{'Lead': 'L2', 'Tier': 'A', 'Probability': '60.0 %', 'Reason 1': 'y (+)'}]
    """
    reasons = [c for c in scores.columns if c.startswith("reason_")]
    out = scores.sort_values("probability", ascending=False, kind="stable").head(n)
    out = out[["lead_id", "tier", "probability", *reasons]].copy()
    out["probability"] = [format_percent(v, decimals=1) for v in out["probability"]]
    labels = {"lead_id": "Lead", "tier": "Tier", "probability": "Probability"}
    labels.update({r: r.replace("_", " ").capitalize() for r in reasons})
    return out.rename(columns=labels).reset_index(drop=True)


def drift_summary(psi: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The ``n`` inputs that moved most since training (:func:`population_stability`), plain.

    Examples
    --------
    >>> d = pd.DataFrame({"feature": ["web_visits_90d"], "kind": ["numeric"], "psi": [0.3],
    ...                   "verdict": ["major shift"]})
    >>> drift_summary(d).to_dict("records")
    [{'Input': 'Web visits 90d', 'Stability index (PSI)': '0.30', 'Verdict': 'Major shift'}]
    """
    top = psi.head(n)
    return pd.DataFrame(
        {
            "Input": [str(f).replace("_", " ").capitalize() for f in top["feature"]],
            "Stability index (PSI)": [_num(v, 2) for v in top["psi"]],
            "Verdict": [str(v).capitalize() for v in top["verdict"]],
        }
    )


def drift_finding(psi: pd.DataFrame) -> str:
    """Whether today's leads look like the ones the score learned from, in one sentence.

    Examples
    --------
    >>> d = pd.DataFrame({"feature": ["a", "b"], "psi": [0.05, 0.01],
    ...                   "verdict": ["stable", "stable"]})
    >>> drift_finding(d)
    "**Today's leads look like the ones the score learned from:** none of its 2 inputs shifted (largest PSI 0.05, below 0.1)."
    """
    n = len(psi)
    major = psi[psi["verdict"] == "major shift"]
    moderate = psi[psi["verdict"] == "moderate shift"]
    name = lambda f: str(f).replace("_", " ")  # noqa: E731
    if len(major):
        names = ", ".join(name(f) for f in major["feature"].head(3))
        return (
            f"**{len(major)} of the score's {n} inputs shifted a lot since training** ({names}; "
            "PSI above 0.25): the score may have drifted, check these inputs and retrain."
        )
    if len(moderate):
        names = ", ".join(name(f) for f in moderate["feature"].head(3))
        return (
            f"**{len(moderate)} of the score's {n} inputs shifted moderately** ({names}; PSI "
            "0.1 to 0.25): watch them; no retraining needed yet."
        )
    return (
        "**Today's leads look like the ones the score learned from:** none of its "
        f"{n} inputs shifted (largest PSI {psi['psi'].max():.2f}, below 0.1)."
    )


def threshold_moves(tradeoff: pd.DataFrame, threshold: pd.DataFrame) -> pd.DataFrame:
    """What changes if the MQL threshold moves: the agreed one and the grid steps around it.

    ``tradeoff`` is :func:`~salesmkt.scoring.threshold.threshold_tradeoff` on a grid (e.g.
    steps of 0.005); ``threshold`` the row of :func:`~salesmkt.scoring.threshold.mql_threshold`.
    The rows: one step lower, the agreed threshold, one and two steps higher (those that exist).

    Examples
    --------
    >>> t = pd.DataFrame({"threshold": [0.02, 0.04, 0.06], "mqls_per_period": [200, 150, 90],
    ...     "capacity_use": [1.33, 1.0, 0.6], "expected_share_captured": [0.9, 0.8, 0.6],
    ...     "expected_precision": [0.05, 0.06, 0.08]})
    >>> threshold_moves(t, pd.DataFrame({"threshold": [0.04]}))["Threshold"].tolist()
    ['Lower: 2 %', 'Agreed: 4 %', 'Higher: 6 %']
    """
    chosen = float(threshold["threshold"].iloc[0])
    t = tradeoff.sort_values("threshold", kind="stable").reset_index(drop=True)
    grid = t["threshold"].to_numpy(dtype=float)
    on_grid = np.isclose(grid, chosen, rtol=0, atol=1e-12)
    lower, higher = t[(grid < chosen) & ~on_grid], t[(grid > chosen) & ~on_grid]
    # the agreed row is the threshold's own (it need not sit on the grid), between its neighbours
    agreed = threshold.iloc[[0]] if set(t.columns) <= set(threshold.columns) else t[on_grid]
    picked = [("Lower", r) for _, r in lower.tail(1).iterrows()]
    picked += [("Agreed", r) for _, r in agreed.head(1).iterrows()]
    picked += [("Higher", r) for _, r in higher.head(2).iterrows()]
    rows = []
    for label, r in picked:
        v = 100 * float(r["threshold"])
        words = next((f"{v:.{d}f} %" for d in (0, 1) if abs(v - round(v, d)) < 1e-9), f"{v:.2f} %")
        rows.append(
            {
                "Threshold": f"{label}: {words}",
                "MQLs a month": f"{r['mqls_per_period']:,.0f}",
                "Share of sales' capacity": format_percent(r["capacity_use"], decimals=0),
                "Share of expected customers among the MQLs": format_percent(
                    r["expected_share_captured"], decimals=0
                ),
                "MQLs expected to become customers": format_percent(
                    r["expected_precision"], decimals=1
                ),
            }
        )
    return pd.DataFrame(rows)


def group_summary(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`~salesmkt.scoring.quality.score_by_group`'s table in plain words: the group,
    leads, conversions, average score against the share converted (with its 95 % interval),
    and the gap in percentage points.

    Examples
    --------
    >>> t = pd.DataFrame({"channel": ["email"], "leads": [200], "conversions": [4],
    ...     "mean_score": [0.025], "observed_rate": [0.02], "ci_low": [0.008], "ci_high": [0.05],
    ...     "gap": [0.005]})
    >>> group_summary(t).iloc[0].tolist()
    ['Email', '200', '4', '2.5 %', '2.0 %', '0.8 % to 5.0 %', '+0.5 points']
    """
    key = table.columns[0]
    return pd.DataFrame(
        {
            key.replace("_", " ").capitalize(): [
                _label(v) for v in table[key].astype(str).str.replace("_", " ")
            ],
            "Leads scored": [f"{n:,}" for n in table["leads"]],
            "Became customers": [f"{n:,}" for n in table["conversions"]],
            "Average score": [format_percent(v, decimals=1) for v in table["mean_score"]],
            "Share that became customers": [
                format_percent(v, decimals=1) for v in table["observed_rate"]
            ],
            "95 % interval of that share": [
                f"{format_percent(lo, decimals=1)} to {format_percent(hi, decimals=1)}"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "Score minus actual": [f"{round(100 * v, 1) + 0.0:+.1f} points" for v in table["gap"]],
        }
    )
