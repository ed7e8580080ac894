"""Shared look of every chart: palette, number formats and the Axes helper."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

#: One colour per channel, the same in every chart.
CHANNEL_COLORS = {
    "organic_search": "#2f855a",
    "paid_search": "#2b6cb0",
    "organic_social": "#68d391",
    "paid_social": "#805ad5",
    "email": "#d69e2e",
    "referral": "#dd6b20",
    "direct": "#718096",
    "display": "#e53e3e",
    "events": "#319795",
    "other": "#a0aec0",
    "(missing)": "#e2e8f0",
}
PRIMARY = "#2b6cb0"
MUTED = "#a0aec0"
GOOD, WARN, BAD = "#2f855a", "#d69e2e", "#c53030"


def get_ax(ax: Axes | None, figsize: tuple[float, float] = (8, 4)) -> Axes:
    """``ax`` itself, or the Axes of a new figure of ``figsize``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def finish(ax: Axes, title: str | None = None, *, xlabel: str = "", ylabel: str = "") -> Axes:
    """Title, labels and the project's quiet frame."""
    if title:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def no_data(ax: Axes, message: str) -> Axes:
    """Say in the chart's place why there is nothing to draw (e.g. a table the data lacks)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, color=MUTED, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def percent_axis(axis) -> None:
    """Show a 0-1 axis as percentages."""
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))


def thousands_axis(axis) -> None:
    """Show large numbers as 12k / 1.2M."""

    def fmt(x, _pos):
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if abs(x) >= div:
                return f"{x / div:.3g}{suffix}"
        return f"{x:.4g}"

    axis.set_major_formatter(FuncFormatter(fmt))
