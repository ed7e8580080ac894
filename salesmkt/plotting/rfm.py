"""The RFM grid: customers per recency × frequency score cell, coloured by segment."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from salesmkt.plotting._style import finish, get_ax, no_data

__all__ = ["SEGMENT_COLORS", "plot_rfm_grid"]

#: Colours of the standard R×F segments (others get grey).
SEGMENT_COLORS = {
    "Champions": "#2f855a",
    "Loyal Customers": "#68d391",
    "Potential Loyalists": "#9ae6b4",
    "New Customers": "#90cdf4",
    "Promising": "#bee3f8",
    "Need Attention": "#faf089",
    "About to Sleep": "#fbd38d",
    "At Risk": "#f6ad55",
    "Can't Lose Them": "#fc8181",
    "Hibernating": "#cbd5e0",
    "Lost": "#a0aec0",
    "Others": "#e2e8f0",
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
        color = SEGMENT_COLORS.get(name, "#e2e8f0")
        ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, color=color, ec="white", lw=2))
        text = f"{counts[(r, f)]:,}"
        if name not in labelled:
            labelled.add(name)
            label = textwrap.fill(name, 12)
            text = f"{label}\n{seg_total[name]:,} ({seg_total[name] / n:.0%})"
            ax.text(f, r, text, ha="center", va="center", fontsize=7.5, fontweight="bold",
                    color="white" if name == "Champions" else "#1a202c")  # fmt: skip
        else:
            ax.text(f, r, text, ha="center", va="center", fontsize=8,
                    color="white" if name == "Champions" else "#4a5568")  # fmt: skip
    for r in range(1, 6):
        for f in range(1, 6):
            if (r, f) not in counts.index:
                ax.add_patch(Rectangle((f - 0.5, r - 0.5), 1, 1, color="#f7fafc", ec="white"))
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
