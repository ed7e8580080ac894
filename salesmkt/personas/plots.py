"""Charts of personas and customer segments: k selection, silhouettes, profiles, the persona map,
outcomes, cards, and the RFM grid."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from salesmkt._base.style import (
    BAD,
    CATEGORICAL,
    DIVERGING_CMAP,
    GOOD,
    INK,
    LIGHT,
    MUTED,
    PAPER,
    PRIMARY,
    SECONDARY,
    SUBTLE,
    WARNING,
    annotated_heatmap,
    category_colors,
    finish,
    get_ax,
    light,
    no_data,
    percent_axis,
    text_color_on,
)
from salesmkt.personas.cards import FIELD_TITLES

__all__ = [
    "PERSONA_COLORS",
    "persona_color",
    "plot_k_selection",
    "plot_silhouette",
    "plot_persona_profiles",
    "plot_persona_map",
    "plot_persona_outcomes",
    "plot_persona_funnel",
    "plot_persona_channels",
    "plot_persona_card",
    "SEGMENT_COLORS",
    "plot_rfm_grid",
]


#: One colour per persona number (0 = largest persona), the same in every persona chart: the
#: palette's categorical colours but its grey (kept for HDBSCAN's unassigned leads).
PERSONA_COLORS = tuple(c for c in CATEGORICAL if c != MUTED)


def persona_color(p: int) -> str:
    """The colour of persona ``p`` (grey for HDBSCAN's unassigned leads, -1)."""
    return MUTED if p < 0 else PERSONA_COLORS[p % len(PERSONA_COLORS)]


def _name(p, names) -> str:
    if names is not None and p in names:
        return str(names[p])
    return "unassigned" if p < 0 else f"persona {p}"


_INDICES = (  # column, label, higher is better
    ("silhouette", "silhouette", True),
    ("calinski_harabasz", "Calinski-Harabasz", True),
    ("davies_bouldin", "Davies-Bouldin (inverted)", False),
    ("gap", "gap statistic", True),
    ("bic", "BIC (inverted)", False),
)


def plot_k_selection(selection, *, ax: Axes | None = None) -> Axes:
    """Validity indices against the number of personas, each scaled so its best k = 1.

    Lines: silhouette, Calinski-Harabasz, Davies-Bouldin, gap statistic and BIC (lower-is-better
    indices inverted), inertia (dashed, scaled 1 at the smallest k: look for the elbow). Bars:
    the weakest persona's bootstrap stability (mean Jaccard). Numbers of personas that fail the
    size or stability rule are shaded; the suggested k is marked.

    Parameters
    ----------
    selection : KSelection or DataFrame
        Output of :func:`salesmkt.choose_n_personas` (or its ``table``).

    Examples
    --------
    >>> import salesmkt
    >>> sel = salesmkt.choose_n_personas(salesmkt.load_sample().leads, k_range=range(3, 6),
    ...                                  n_bootstrap=3, n_references=2, random_state=0)
    >>> plot_k_selection(sel).get_title(loc="left")
    'Choosing the number of personas'
    """
    table = getattr(selection, "table", selection)
    suggested = getattr(selection, "suggested_k", None)
    ax = get_ax(ax, (9, 4.5))
    k = table["k"].to_numpy()
    if table["stability_min"].notna().any():
        ax.bar(k, table["stability_min"], width=0.6, color=LIGHT,
               label="weakest persona's stability", zorder=0)  # fmt: skip
    for (col, label, higher), color in zip(_INDICES, category_colors(_INDICES), strict=True):
        v = table[col].to_numpy(dtype=float)
        if np.all(np.isnan(v)):
            continue
        lo, hi = np.nanmin(v), np.nanmax(v)
        scaled = (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
        ax.plot(k, scaled if higher else 1 - scaled, marker="o", ms=4, label=label, color=color)
    inertia = table["inertia"].to_numpy(dtype=float)
    ax.plot(k, inertia / inertia[0], ls="--", color=SUBTLE, label="inertia (elbow)")
    failing = False
    for kk, ok in zip(k, table["admissible"], strict=True):
        if not ok:
            ax.axvspan(kk - 0.5, kk + 0.5, facecolor=light(BAD), edgecolor=PAPER, hatch="//",
                       alpha=0.5, lw=0, zorder=-1,
                       label=None if failing else "fails the size or stability rule")  # fmt: skip
            failing = True
    if suggested is not None:
        ax.axvline(suggested, color=INK, lw=1.5)
        ax.annotate(f"suggested: {suggested}", (suggested, 0.98), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points", ha="left", va="top", fontsize=9,
                    bbox={"facecolor": PAPER, "edgecolor": "none", "pad": 1})  # fmt: skip
    ax.set_xticks(k)
    ax.set_ylim(0, 1.08)
    ax.legend(ncols=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    return finish(ax, "Choosing the number of personas", xlabel="number of personas (k)",
                  ylabel="score (1 = best k)")  # fmt: skip


def plot_silhouette(silhouette: pd.DataFrame, *, names=None, ax: Axes | None = None) -> Axes:
    """Silhouette plot: every sampled lead as a bar, grouped by persona, with the mean.

    Parameters
    ----------
    silhouette : DataFrame
        Output of :func:`salesmkt.persona_silhouette`.
    names : mapping persona -> name, optional

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(leads)
    >>> plot_silhouette(salesmkt.persona_silhouette(model, leads)).get_xlabel()
    'silhouette value'
    """
    ax = get_ax(ax, (8, 5))
    y0 = 0
    data = silhouette.dropna(subset=["silhouette"])
    for p, part in data.groupby("persona", sort=True):
        vals = np.sort(part["silhouette"].to_numpy())
        ys = np.arange(y0, y0 + len(vals))
        ax.fill_betweenx(ys, 0, vals, color=persona_color(p), lw=0)
        ax.text(-0.02, y0 + len(vals) / 2, _name(p, names), ha="right", va="center", fontsize=8,
                transform=ax.get_yaxis_transform())  # fmt: skip
        y0 += len(vals) + max(10, len(data) // 60)
    mean = data["silhouette"].mean()
    ax.axvline(mean, color=INK, ls="--", lw=1)
    ax.annotate(f"mean {mean:.2f}", (mean, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                xytext=(3, -10), textcoords="offset points")  # fmt: skip
    ax.set_yticks([])
    ax.set_xlim(min(-0.2, data["silhouette"].min() - 0.05), 1)
    return finish(ax, "How clearly each lead belongs to its persona", xlabel="silhouette value")


def plot_persona_profiles(
    profiles: pd.DataFrame, *, names=None, max_rows: int = 20, ax: Axes | None = None
) -> Axes:
    """Heatmap of z-scores: rows are numeric features and the most telling category levels,
    columns are personas; red above the average lead, blue below.

    Parameters
    ----------
    profiles : DataFrame
        ``PersonaModel.profiles_`` or :func:`salesmkt.persona_profiles`.

    Examples
    --------
    >>> import salesmkt
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(salesmkt.load_sample().leads)
    >>> ax = plot_persona_profiles(model.profiles_)
    >>> len(ax.get_xticklabels())
    5
    """
    prof = profiles[profiles["persona"] >= 0].copy()
    prof["row"] = np.where(
        prof["kind"] == "numeric",
        prof["feature"].str.replace("_", " "),
        prof["feature"].str.replace("_", " ") + ": " + prof["level"].astype(str),
    )
    wide = prof.pivot_table(index="row", columns="persona", values="z", sort=False)
    kinds = prof.drop_duplicates("row").set_index("row")["kind"]
    num_rows = [r for r in wide.index if kinds[r] == "numeric"]
    cat = wide.drop(index=num_rows)
    cat = cat[cat.abs().max(axis=1) >= 1.0]
    cat = cat.loc[cat.abs().max(axis=1).sort_values(ascending=False).index]
    cat = cat.head(max(0, max_rows - len(num_rows)))
    wide = pd.concat([wide.loc[num_rows], cat])
    wide = wide.set_axis([textwrap.fill(_name(p, names), 14) for p in wide.columns], axis=1)
    ax = get_ax(ax, (1.3 * wide.shape[1] + 4, 0.32 * len(wide) + 1.5))
    return annotated_heatmap(
        wide,
        fmt="+.1f",
        cmap=DIVERGING_CMAP,
        vmin=-3,
        vmax=3,
        center=0,
        xlabel="persona",
        ylabel="feature (category: level)",
        title="What sets each persona apart",
        colorbar="z-score vs all leads (red above, blue below)",
        fontsize=7,
        ax=ax,
    )


def plot_persona_map(projection: pd.DataFrame, *, names=None, ax: Axes | None = None) -> Axes:
    """Leads on a 2-D map (first two principal components), coloured by persona.

    Parameters
    ----------
    projection : DataFrame
        Output of :func:`salesmkt.persona_projection`.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(leads)
    >>> ax = plot_persona_map(salesmkt.persona_projection(model, leads))
    >>> len(ax.get_legend().get_texts())
    5
    """
    ax = get_ax(ax, (8, 6))
    leads = projection[projection["kind"] == "lead"]
    for p, part in leads.groupby("persona", sort=True):
        ax.scatter(part["x"], part["y"], s=6, alpha=0.45, color=persona_color(p), lw=0,
                   label=_name(p, names))  # fmt: skip
    for r in projection[projection["kind"] == "centre"].itertuples():
        ax.scatter(r.x, r.y, s=160, color=persona_color(r.persona), edgecolor=PAPER, lw=2,
                   marker="X")  # fmt: skip
    share = projection["explained"].iloc[0]
    ax.legend(fontsize=8, markerscale=3, frameon=False, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    return finish(ax, f"Personas on a map of the leads ({share:.0%} of the variation shown)",
                  xlabel="first principal component", ylabel="second principal component")  # fmt: skip


def plot_persona_outcomes(
    summary: pd.DataFrame,
    *,
    metrics=("share", "conversion_rate", "win_rate"),
    names=None,
    ax: Axes | None = None,
) -> Axes:
    """Grouped bars per persona: its share of leads and its outcome rates.

    Parameters
    ----------
    summary : DataFrame
        :func:`salesmkt.persona_summary` or :func:`salesmkt.persona_outcomes` output.
    metrics : columns (rates between 0 and 1) to draw.

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(ds.leads)
    >>> out = salesmkt.persona_outcomes(ds, model.labels_)
    >>> len(plot_persona_outcomes(out).patches)
    15
    """
    data = summary[summary["persona"] >= 0].sort_values("persona")
    metrics = [m for m in metrics if m in data.columns]
    ax = get_ax(ax, (9, 4))
    width = 0.8 / len(metrics)
    x = np.arange(len(data))
    shades = (MUTED, PRIMARY, SECONDARY, CATEGORICAL[4], CATEGORICAL[9])
    pretty = {"share": "share of leads", "conversion_rate": "lead → customer",
              "win_rate": "win rate (closed deals)"}  # fmt: skip
    for i, m in enumerate(metrics):
        vals = data[m].to_numpy(dtype=float)
        bars = ax.bar(
            x + (i - (len(metrics) - 1) / 2) * width,
            vals,
            width,
            color=shades[i % len(shades)],
            label=pretty.get(m, m.replace("_", " ")),
        )
        ax.bar_label(bars, labels=[f"{v:.0%}" if np.isfinite(v) else "" for v in vals],
                     fontsize=7, padding=1)  # fmt: skip
    ax.set_xticks(x, [textwrap.fill(_name(p, names), 16) for p in data["persona"]], fontsize=8)
    percent_axis(ax.yaxis)
    ax.legend(fontsize=8, frameon=False, ncols=len(metrics))
    return finish(ax, "Persona size and outcomes")


def plot_persona_funnel(funnel: pd.DataFrame, *, names=None, ax: Axes | None = None) -> Axes:
    """Share of each persona's leads reaching every lifecycle stage, one line per persona.

    The leads left out because their stage timestamps are out of order are counted under the
    chart.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`salesmkt.persona_funnel`.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(leads)
    >>> ax = plot_persona_funnel(salesmkt.persona_funnel(leads, model.labels_))
    >>> len(ax.get_lines()), ax.get_xlabel()
    (5, '22 leads with stages out of order left out')
    """
    ax = get_ax(ax, (8, 4))
    stages = list(dict.fromkeys(funnel["stage"]))
    for p, part in funnel.groupby("persona", sort=True):
        part = part.set_index("stage").reindex(stages)
        ax.plot(stages, part["rate"], marker="o", color=persona_color(p), label=_name(p, names))
        ax.annotate(f"{part['rate'].iloc[-1]:.1%}", (len(stages) - 1, part["rate"].iloc[-1]),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=8,
                    color=persona_color(p))  # fmt: skip
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.legend(fontsize=8, frameon=False)
    excluded = (
        int(funnel.groupby("persona")["n_excluded"].first().sum())
        if "n_excluded" in funnel.columns
        else 0
    )
    note = f"{excluded} leads with stages out of order left out" if excluded else ""
    return finish(ax, "How far each persona's leads get (share of leads, log scale)", xlabel=note)


def plot_persona_card(cards: pd.DataFrame, persona: int, *, ax: Axes | None = None) -> Axes:
    """One persona card as a figure: name, data-filled facts and the workshop's fields.

    Parameters
    ----------
    cards : DataFrame
        Output of :func:`salesmkt.persona_cards`.
    persona : int

    Examples
    --------
    >>> import salesmkt
    >>> ds = salesmkt.load_sample()
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(ds.leads)
    >>> ax = plot_persona_card(salesmkt.persona_cards(model, ds.leads, dataset=ds), 0)
    >>> ax.texts[0].get_text()
    'Persona 0'
    """
    r = cards.set_index("persona").loc[persona]
    ax = get_ax(ax, (6, 7.5))
    ax.axis("off")
    ax.set_title("Persona card", loc="left", fontsize=8, color=SUBTLE)
    color = persona_color(persona)
    ax.add_patch(Rectangle((0, 0.955), 1, 0.045, color=color, transform=ax.transAxes))
    name = r.get("name") or f"Persona {persona}"
    ax.text(0.02, 0.91, name, fontsize=15, fontweight="bold", transform=ax.transAxes, va="top")
    ax.text(0.02, 0.865, textwrap.fill(str(r.get("suggested_label", "")), 70), fontsize=8.5,
            color=SUBTLE, transform=ax.transAxes, va="top")  # fmt: skip

    def pct(v):
        return "–" if pd.isna(v) else f"{v:.0%}"

    def num(v):
        return "–" if pd.isna(v) else f"{v:,.0f}"

    kpis = [("Leads", f"{int(r['leads']):,}"), ("Share", pct(r["share"])),
            ("Conversion", pct(r.get("conversion_rate"))), ("Win rate", pct(r.get("win_rate"))),
            ("Avg deal", num(r.get("avg_deal_size"))), ("CAC", num(r.get("cac")))]  # fmt: skip
    for i, (k, v) in enumerate(kpis):
        x = 0.02 + i * 0.165
        ax.text(x, 0.80, k, fontsize=7.5, color=SUBTLE, transform=ax.transAxes)
        ax.text(x, 0.765, v, fontsize=11, fontweight="bold", transform=ax.transAxes)
    y = 0.71
    facts = [("Rule", r.get("rule", "")), ("Stands out on", r.get("key_numbers", "")),
             ("Over-represented", r.get("key_categories", "")),
             ("Comes through", r.get("top_channels", ""))]  # fmt: skip
    fields = [(title, r.get(f) or "(to be written in the workshop)")
              for f, title in FIELD_TITLES.items() if f != "notes"]  # fmt: skip
    for title, text in [*facts, *fields]:
        if not text:
            continue
        body = textwrap.fill(str(text), 85)
        ax.text(0.02, y, title, fontsize=8.5, fontweight="bold", transform=ax.transAxes, va="top")
        ax.text(0.02, y - 0.028, body, fontsize=8, transform=ax.transAxes, va="top",
                color=MUTED if text.startswith("(to be") else INK)  # fmt: skip
        y -= 0.045 + 0.026 * body.count("\n") + 0.02
    return ax


def plot_persona_channels(
    channels: pd.DataFrame,
    *,
    names=None,
    column: str = "channel",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of where each persona's leads come from: share of the persona's leads per
    channel, with the lift against all leads written in each cell.

    Parameters
    ----------
    channels : DataFrame
        Output of :func:`salesmkt.persona_channels`, or of :func:`salesmkt.persona_crosstab`
        with its ``column`` given here.
    column : str
        The column set against the personas (``"channel"`` by default).
    title : str, optional
        Default: where each persona comes from (by channel), else personas by ``column``.

    Examples
    --------
    >>> import salesmkt
    >>> leads = salesmkt.load_sample().leads
    >>> model = salesmkt.PersonaModel(5, random_state=0).fit(leads)
    >>> ax = plot_persona_channels(salesmkt.persona_channels(leads, model.labels_))
    >>> len(ax.get_yticklabels())
    5
    """
    share = channels.pivot_table(index="persona", columns=column, values="share", fill_value=0)
    lift = channels.pivot_table(index="persona", columns=column, values="lift", fill_value=0)
    order = share.mean().sort_values(ascending=False).index
    share, lift = share[order], lift[order]
    labels = share.map(lambda v: f"{v:.0%}") + "\n" + lift.map(lambda v: f"{v:.1f}x")
    share = share.set_axis([c.replace("_", " ") for c in share.columns], axis=1)
    share = share.set_axis([_name(p, names) for p in share.index])
    labels = labels.set_axis(share.columns, axis=1).set_axis(share.index)
    if title is None:
        title = (
            "Where each persona comes from (share, and lift vs all leads)"
            if column == "channel"
            else f"Personas by {column.replace('_', ' ')} (share, and lift vs all leads)"
        )
    ax = get_ax(ax, (1.0 * share.shape[1] + 3, 0.6 * share.shape[0] + 1.5))
    annotated_heatmap(
        share,
        labels=labels,
        vmin=0,
        xlabel=column.replace("_", " "),
        ylabel="persona",
        title=title,
        colorbar="share of the persona's leads",
        fontsize=7,
        ax=ax,
    )
    ax.tick_params(axis="x", labelrotation=30)
    return ax


#: Healthy segments in the good colour, new ones in the primary, fading ones in the warning
#: colour, those at risk in the bad colour, lapsed ones grey; each cell also names its segment.
SEGMENT_COLORS = {
    "Champions": GOOD,
    "Loyal Customers": light(GOOD),
    "Potential Loyalists": CATEGORICAL[9],
    "New Customers": PRIMARY,
    "Promising": light(PRIMARY),
    "Need Attention": light(WARNING),
    "About to Sleep": WARNING,
    "At Risk": light(BAD),
    "Can't Lose Them": BAD,
    "Hibernating": light(MUTED),
    "Lost": MUTED,
    "Others": LIGHT,
}


def plot_rfm_grid(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The 5 × 5 R×F grid: each cell shows its customers and is coloured by its segment; each
    segment's name, customers and share are written once, in its largest cell.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`salesmkt.rfm`.

    Examples
    --------
    >>> import salesmkt
    >>> t = salesmkt.rfm(salesmkt.load_sample().orders, bins={"frequency": [2, 3, 4, 6]})
    >>> ax = plot_rfm_grid(t)
    >>> ax.get_xlabel()
    'frequency score (F)'
    """
    if table.empty:
        ax = no_data(get_ax(ax, (8, 2.5)), table.attrs.get("note", "No customers to show."))
        return finish(ax, "Customers by recency and frequency")
    ax = get_ax(ax, (8, 6.5))
    counts = table.groupby(["r_score", "f_score"]).size()
    seg = table.groupby(["r_score", "f_score"])["segment"].agg(lambda s: s.mode().iloc[0])
    n = len(table)
    seg_total = table["segment"].value_counts()
    labelled: set[str] = set()
    order = counts.sort_values(ascending=False).index
    for r, f in order:
        name = seg[(r, f)]
        color = SEGMENT_COLORS.get(name, LIGHT)
        ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, facecolor=color, ec=PAPER, lw=2))
        text = f"{counts[(r, f)]:,}"
        if name not in labelled:
            labelled.add(name)
            label = textwrap.fill(name, 12)
            text = f"{label}\n{seg_total[name]:,} ({seg_total[name] / n:.0%})"
            ax.text(f, r, text, ha="center", va="center", fontsize=7.5, fontweight="bold",
                    color=text_color_on(color))  # fmt: skip
        else:
            ax.text(f, r, text, ha="center", va="center", fontsize=8,
                    color=text_color_on(color))  # fmt: skip
    for r in range(1, 6):
        for f in range(1, 6):
            if (r, f) not in counts.index:
                ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, facecolor=PAPER, ec=LIGHT,
                                       hatch="///", lw=0))  # fmt: skip
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(np.arange(1, 6))
    ax.set_yticks(np.arange(1, 6))
    ax.set_xlabel("frequency score (F)")
    ax.set_ylabel("recency score (R, 5 = most recent)")
    ax.set_title("Customers by recency and frequency", loc="left", fontsize=12, fontweight="bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
