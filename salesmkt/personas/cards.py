"""Persona cards: the data-filled facts of each persona beside the fields a workshop writes.

Private to :mod:`salesmkt.personas`, which re-exports :func:`persona_cards`,
:func:`render_persona_cards` and :data:`FIELD_TITLES`; :func:`salesmkt.plot_persona_card` draws
one card as a figure.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from salesmkt._base.formats import (
    compact_money,
    format_amount,
    format_percent,
    percent_columns,
    plain_label,
)
from salesmkt.personas.explain import _level, _pretty, persona_channels, persona_summary
from salesmkt.personas.file import WORKSHOP_FIELDS

#: The workshop fields of a persona card and their titles, in the order cards show them
#: (public: the HTML cards, the card figure and the workshop app all use these titles).
FIELD_TITLES = {
    "description": "In one line",
    "goals": "Goals",
    "challenges": "Challenges",
    "preferred_channels": "Preferred channels",
    "objections": "Objections",
    "how_to_sell": "How to sell to them",
    "notes": "Notes",
}


def _short(v: float) -> str:
    """12 / 4,050 / 36k / 1.3M: numbers as people write them on a card."""
    if not np.isfinite(v):
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.3g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _facts(
    profiles: pd.DataFrame,
    p: int,
    top: int,
    *,
    currency: str | None = None,
    amounts=(),
    scales: dict[str, float] | None = None,
) -> tuple[str, str]:
    part = profiles[profiles["persona"] == p]
    num = part[part["kind"] == "numeric"].assign(a=lambda d: d["z"].abs())
    num = num.sort_values("a", ascending=False).head(top)

    scales = scales or {}

    def median(feature: str, value: float) -> str:  # amounts with their currency, rates in %
        if feature in amounts:
            return compact_money(value, currency)
        if feature in scales:
            return format_percent(value * scales[feature])
        return _short(value)

    numeric = "; ".join(
        f"{_pretty(r.feature)}: median {median(r.feature, r.median)} (z {r.z:+.1f})"
        for r in num.itertuples()
    )
    cat = part[(part["kind"] == "categorical") & (part["lift"] >= 1.2) & (part["value"] >= 0.15)]
    cat = cat.sort_values("z", ascending=False).drop_duplicates("feature").head(top)
    cats = "; ".join(
        f"{_level(r.feature, r.level)} ({r.value:.0%}, {r.lift:.1f}x)" for r in cat.itertuples()
    )
    return numeric, cats


def persona_cards(
    model,
    leads: pd.DataFrame,
    *,
    dataset=None,
    personas: pd.DataFrame | None = None,
    stability: pd.DataFrame | None = None,
    top: int = 3,
    currency: str | None = None,
    amounts: list[str] | tuple[str, ...] = (),
    percents: list[str] | None = None,
) -> pd.DataFrame:
    """One card per persona: data-filled facts and the workshop's fields.

    Data-filled: ``leads``, ``share``, outcomes (``conversion_rate``, ``win_rate``,
    ``avg_deal_size``, ``revenue_share``, ``cac``, with a ``dataset``), ``suggested_label``,
    the ``rule`` and its ``precision``, the strongest numeric features (``key_numbers``: median
    and z) and over-represented categories (``key_categories``: share and lift), the channels
    the persona over-indexes on (``top_channels``: lift ≥ 1.2 and at least 8 % of its leads,
    largest first, when leads have a channel) and ``stability``
    (mean bootstrap Jaccard, from ``KSelection.stability`` for this k, when given).
    Workshop fields (``name``, ``description``, ``goals``, ``challenges``,
    ``preferred_channels``, ``objections``, ``how_to_sell``, ``notes``) and the ``id`` come
    from ``personas`` (:func:`match_personas` output) and are empty without it.

    The medians of the lead columns named in ``amounts`` (``kpis.yml``'s
    ``settings.amount_columns``, e.g. a balance) carry ``currency`` (an ISO code, ``kpis.yml``'s
    ``currency``; default USD), in the medians and in the rule: ``balance: median €440``,
    ``balance > €2k``. Rate columns read as percentages, in
    the medians and in the rule (``email open rate: median 47.8 %``): the lead columns named in
    ``percents`` (``kpis.yml``'s ``settings.percent_columns``), by default those
    :func:`salesmkt._base.formats.percent_columns` finds (names ending in ``_rate``, ``_share``,
    ``_ratio``, ``_pct``, ``_percent`` whose values are fractions; ``_pct`` and ``_percent``
    values up to 100 are taken as points and not multiplied).

    Examples
    --------
    >>> import salesmkt
    >>> from salesmkt.personas import PersonaModel
    >>> ds = salesmkt.load_sample()
    >>> model = PersonaModel(5, random_state=0).fit(ds.leads)
    >>> cards = persona_cards(model, ds.leads, dataset=ds)
    >>> len(cards), bool(cards["name"].eq("").all())
    (5, True)
    >>> bool(cards["key_numbers"].str.contains("email open rate: median 0.").any())
    False
    """
    labels = model.predict(leads)
    summary = persona_summary(
        model,
        leads,
        dataset=dataset,
        labels=labels,
        percents=percents,
        currency=currency,
        amounts=amounts,
    )
    scales = percent_columns(leads, percents)
    prof = model.profiles_ if len(leads) == len(model.labels_) else None
    if prof is None or not np.array_equal(labels, model.labels_):
        from salesmkt.personas.explain import persona_profiles

        prof = persona_profiles(leads, labels, plan=model.feature_plan_)
    rows = []
    total_rev = summary["revenue"].sum() if "revenue" in summary else np.nan
    channels = persona_channels(leads, labels) if "channel" in leads.columns else None
    for r in summary.to_dict("records"):
        p = r["persona"]
        numeric, cats = _facts(
            prof, p, top, currency=currency, amounts=set(amounts or ()), scales=scales
        )
        card = {
            "persona": p,
            "id": "",
            "leads": r["leads"],
            "share": r["share"],
            "suggested_label": r["label"],
            "rule": r["rule"],
            "rule_precision": r["precision"],
            "fidelity": r["fidelity"],
            "key_numbers": numeric,
            "key_categories": cats,
        }
        for col in ("conversion_rate", "win_rate", "avg_deal_size", "cac"):
            card[col] = r.get(col, np.nan)
        card["revenue_share"] = r.get("revenue", np.nan) / total_rev if total_rev else np.nan
        if channels is not None:
            ch = channels[
                (channels["persona"] == p) & (channels["lift"] >= 1.2) & (channels["share"] >= 0.08)
            ]
            ch = ch.sort_values("share", ascending=False).head(top)
            card["top_channels"] = ", ".join(
                f"{plain_label(c)} ({s:.0%})" for c, s in zip(ch.channel, ch.share, strict=False)
            )
        else:
            card["top_channels"] = ""
        card["stability"] = np.nan
        if stability is not None:
            s = stability[(stability["k"] == model.n_personas_) & (stability["persona"] == p)]
            card["stability"] = float(s["jaccard"].iloc[0]) if len(s) else np.nan
        card.update({f: "" for f in WORKSHOP_FIELDS})
        rows.append(card)
    cards = pd.DataFrame(rows)
    if personas is not None and len(personas):
        current = personas.dropna(subset=["persona"]).set_index("persona")
        for f in ("id", *WORKSHOP_FIELDS):
            cards[f] = cards["persona"].map(current[f]).fillna("").astype(str)
        cards["status"] = cards["persona"].map(current["status"]).fillna("new")
        cards["match_jaccard"] = cards["persona"].map(current["match_jaccard"]).astype(float)
    else:
        cards["status"], cards["match_jaccard"] = "new", np.nan
    return cards


def _fmt(v, kind: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if kind == "pct":
        return f"{v:.0%}"
    return f"{v:,.0f}"


_CSS = """
<style>
.sm-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px;
 font-family:system-ui,sans-serif;color:#1f2933}
.sm-card{border:1px solid #cbd5e0;border-radius:8px;padding:12px 14px;background:#fff}
.sm-card h3{margin:0 0 2px;font-size:1.05rem}.sm-card .sub{color:#52606d;font-size:.85rem}
.sm-card .flag{background:#fefcbf;color:#744210;border-radius:4px;padding:1px 5px;
 font-size:.75rem}
.sm-kpis{display:flex;flex-wrap:wrap;gap:6px 14px;margin:8px 0;font-size:.85rem}
.sm-kpis b{display:block;font-size:1rem}.sm-fields{margin:6px 0;font-size:.85rem}
.sm-fields .t{font-weight:600;margin-top:6px}.sm-fields .v{margin:0}
.sm-card .todo{color:#9aa5b1;font-style:italic}
</style>
"""


def render_persona_cards(cards: pd.DataFrame, *, currency: str | None = None) -> str:
    """The cards of :func:`persona_cards` as one self-contained HTML block (a grid of cards).

    Empty workshop fields show as "to be written in the workshop"; personas not matched to a
    saved one carry a flag. Amounts carry ``currency`` (an ISO code, ``kpis.yml``'s
    ``currency``; default USD).

    Examples
    --------
    >>> cards = pd.DataFrame({"persona": [0], "leads": [120], "share": [0.3],
    ...     "suggested_label": ["high company size"], "name": ["Enterprise Erin"]})
    >>> "Enterprise Erin" in render_persona_cards(cards)
    True
    """
    parts = [_CSS, '<div class="sm-cards">']
    for r in cards.to_dict("records"):
        name = r.get("name") or f"P{int(r['persona']) + 1}"
        flag = ""
        if r.get("status") == "new" and pd.notna(r.get("match_jaccard", np.nan)):
            flag = ' <span class="flag">new: not matched to a saved persona</span>'
        kpis = [
            ("Leads", f"{r['leads']:,} ({r['share']:.0%})"),
            ("Conversion", _fmt(r.get("conversion_rate"), "pct")),
            ("Win rate", _fmt(r.get("win_rate"), "pct")),
            ("Avg deal", format_amount(r.get("avg_deal_size"), currency)),
            ("Revenue share", _fmt(r.get("revenue_share"), "pct")),
            ("CAC", format_amount(r.get("cac"), currency)),
            ("Stability", "–" if pd.isna(r.get("stability", np.nan)) else f"{r['stability']:.2f}"),
        ]
        facts = [
            ("Rule", f"{r.get('rule', '')}"
             + (f" (precision {r['rule_precision']:.0%})" if pd.notna(r.get("rule_precision"))
                else "")),
            ("Stands out on", r.get("key_numbers", "")),
            ("Over-represented", r.get("key_categories", "")),
            ("Comes through", r.get("top_channels", "")),
        ]  # fmt: skip
        parts.append('<div class="sm-card">')
        parts.append(f"<h3>{escape(str(name))}{flag}</h3>")
        parts.append(f'<div class="sub">{escape(str(r.get("suggested_label", "")))}</div>')
        parts.append('<div class="sm-kpis">')
        parts += [f"<span>{escape(k)}<b>{escape(v)}</b></span>" for k, v in kpis]
        parts.append('</div><div class="sm-fields">')
        for k, v in facts:
            if v:
                parts.append(
                    f'<div class="t">{escape(k)}</div><div class="v">{escape(str(v))}</div>'
                )
        for f, title in FIELD_TITLES.items():
            v = str(r.get(f) or "")
            body = escape(v) if v else '<span class="todo">to be written in the workshop</span>'
            parts.append(f'<div class="t">{escape(title)}</div><div class="v">{body}</div>')
        parts.append("</div></div>")
    parts.append("</div>")
    return "\n".join(parts)
