"""Shared look of every chart: palette, number formats, the Axes helpers and the annotated
heatmap.

The palette is seaborn's ``"colorblind"`` palette (a variant of Okabe & Ito's), whose colours
stay distinct under red-green colour-vision deficiency. Charts use it through named roles
(:data:`PRIMARY`, :data:`MUTED`, :data:`GOOD`, :data:`BAD`, :data:`WARNING`), the categorical
sequence :data:`CATEGORICAL`, :data:`CHANNEL_COLORS`, the neutrals for text and fills, and the
light tint of any of these (:func:`light`); :func:`palette` lists them all. No chart writes a
colour of its own. Where good and bad are shown, a chart also marks them by shape, hatch or
text, never by colour alone. Amount axes carry the currency (:func:`currency_axis`); the
number formats of :mod:`salesmkt._base.formats` and the point labels of
:mod:`salesmkt._base.labels` (:func:`label_points`) are offered here for the charts.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from salesmkt._base.formats import (  # noqa: F401
    DEFAULT_CURRENCY,
    currency_symbol,
    format_interval,
    format_unit,
    plain_label,
    plain_text,
)
from salesmkt._base.labels import label_points  # noqa: F401  (point labels kept apart)
from salesmkt._base.tables import column_label  # noqa: F401  (axis labels in plain words)

#: seaborn's "colorblind" palette, in its order (``seaborn.color_palette("colorblind")``).
CATEGORICAL = (
    "#0173b2",  # blue
    "#de8f05",  # orange
    "#029e73",  # bluish green
    "#d55e00",  # vermillion
    "#cc78bc",  # reddish purple
    "#ca9161",  # brown
    "#fbafe4",  # pink
    "#949494",  # grey
    "#ece133",  # yellow
    "#56b4e9",  # sky blue
)

#: Roles: the main series, what recedes, and good / bad / warning states.
PRIMARY = CATEGORICAL[0]
SECONDARY = CATEGORICAL[1]
MUTED = CATEGORICAL[7]
GOOD = CATEGORICAL[2]
BAD = CATEGORICAL[3]
WARNING = CATEGORICAL[8]

#: Neutrals: dark text (seaborn's own annotation ink), secondary text, light fills, paper.
INK = "#262626"
SUBTLE = "#5f5f5f"
LIGHT = "#e5e5e5"
PAPER = "#ffffff"
#: matplotlib's default colour of text and tick labels (drawn when a chart sets none).
DEFAULT_INK = "#000000"

#: One colour per channel, the same in every chart.
CHANNEL_COLORS = {
    "organic_search": GOOD,
    "paid_search": PRIMARY,
    "organic_social": CATEGORICAL[9],
    "paid_social": CATEGORICAL[4],
    "email": CATEGORICAL[1],
    "referral": CATEGORICAL[3],
    "direct": CATEGORICAL[5],
    "display": CATEGORICAL[6],
    "events": CATEGORICAL[8],
    "other": MUTED,
    "(missing)": LIGHT,
}

#: Colour maps of the heatmaps: one hue light to dark for shares and counts, blue-white-red
#: for values around a centre (both read under red-green colour-vision deficiency).
SEQUENTIAL_CMAP = "Blues"
DIVERGING_CMAP = "vlag"

#: How a cell without a value is drawn (never as a coloured zero).
MISSING_HATCH = "///"
#: Hatch over a coloured cell whose value is provisional (immature cohorts, open periods).
PROVISIONAL_HATCH = "\\\\\\\\"
MISSING_LABEL = "n/a"

_LIGHT_AMOUNT = 0.6


def light(color: str) -> str:
    """The light tint of a palette colour (60 % white): fills behind text, bands, shading.

    Examples
    --------
    >>> light("#000000")
    '#999999'
    """
    rgb = np.array(to_rgb(color))
    return to_hex(rgb + (1 - rgb) * _LIGHT_AMOUNT)


def palette() -> set[str]:
    """Every colour a chart may draw with, as lower-case ``#rrggbb``.

    Examples
    --------
    >>> {PRIMARY, GOOD, BAD, WARNING, MUTED, light(GOOD)} <= palette()
    True
    """
    base = {*CATEGORICAL, *CHANNEL_COLORS.values(), INK, SUBTLE, LIGHT, PAPER, DEFAULT_INK}
    return {to_hex(c) for c in base} | {light(c) for c in base}


def category_colors(values, *, fixed: dict[str, str] | None = None) -> list[str]:
    """A colour per value: ``fixed[value]`` where given (e.g. :data:`CHANNEL_COLORS`), else the
    next colour of :data:`CATEGORICAL`.

    Examples
    --------
    >>> category_colors(["email", "x", "y"], fixed=CHANNEL_COLORS) == [
    ...     CHANNEL_COLORS["email"], CATEGORICAL[0], CATEGORICAL[1]]
    True
    """
    fixed = fixed or {}
    out, i = [], 0
    for v in values:
        if v in fixed:
            out.append(fixed[v])
        else:
            out.append(CATEGORICAL[i % len(CATEGORICAL)])
            i += 1
    return out


def text_color_on(fill) -> str:
    """:data:`INK` or :data:`PAPER`, whichever contrasts more with ``fill`` (WCAG contrast
    ratio): dark text on light cells, light text on dark ones.

    Examples
    --------
    >>> text_color_on(LIGHT) == INK, text_color_on(PRIMARY) == PAPER
    (True, True)
    """
    from seaborn.utils import relative_luminance

    lum = relative_luminance(fill)
    on_ink = (lum + 0.05) / (relative_luminance(INK) + 0.05)
    on_paper = 1.05 / (lum + 0.05)
    return INK if on_ink >= on_paper else PAPER


def get_ax(ax: Axes | None, figsize: tuple[float, float] = (8, 4)) -> Axes:
    """``ax`` itself, or the Axes of a new figure of ``figsize``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plain_ticks(ax: Axes) -> Axes:
    """Category tick labels and legend entries of ``ax`` in plain words (``Paid search``).

    Only texts that open with a code-like value change; number and date ticks stay as their
    formatters write them.
    """
    for axis in (ax.xaxis, ax.yaxis):
        labels = axis.get_ticklabels()
        texts = [t.get_text() for t in labels]
        plain = [plain_text(t) for t in texts]
        if plain != texts:
            for label, new in zip(labels, plain, strict=True):
                label.set_text(new)
            axis.set_ticks(axis.get_ticklocs(), labels=labels)
    legend = ax.get_legend()
    if legend is not None:
        for t in legend.get_texts():
            t.set_text(plain_text(t.get_text()))
        if legend.get_title().get_text():
            legend.get_title().set_text(plain_text(legend.get_title().get_text()))
    return ax


def finish(ax: Axes, title: str | None = None, *, xlabel: str = "", ylabel: str = "") -> Axes:
    """Title, labels, category ticks in plain words (:func:`plain_ticks`) and the project's
    quiet frame."""
    plain_ticks(ax)
    if title:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def no_data(ax: Axes, message: str) -> Axes:
    """Say in the chart's place why there is nothing to draw (e.g. a table the data lacks)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, color=SUBTLE, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def percent_axis(axis) -> None:
    """Show a 0-1 axis as percentages."""
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))


def thousands_axis(axis, *, currency: str | None = None) -> None:
    """Show large numbers as 12k / 1.2M; with ``currency`` (an ISO code) as $12k / €1.2M."""
    prefix = "" if currency is None else currency_symbol(currency)

    def fmt(x, _pos):
        sign = "-" if x < 0 else ""
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if abs(x) >= div:
                return f"{sign}{prefix}{abs(x) / div:.3g}{suffix}"
        return f"{sign}{prefix}{abs(x):.4g}"

    axis.set_major_formatter(FuncFormatter(fmt))


def currency_axis(axis, currency: str | None) -> None:
    """Show amounts with their currency: $12k, €1.2M (:func:`thousands_axis` with a prefix).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> currency_axis(ax.yaxis, "EUR")
    >>> ax.yaxis.get_major_formatter()(25000, 0), ax.yaxis.get_major_formatter()(-50, 0)
    ('€25k', '-€50')
    >>> plt.close(fig)
    """
    thousands_axis(axis, currency=currency or DEFAULT_CURRENCY)


def annotated_heatmap(
    values: pd.DataFrame,
    *,
    fmt: str | Callable[[float], str] = ".0%",
    labels: pd.DataFrame | None = None,
    cmap: str = SEQUENTIAL_CMAP,
    vmin: float | None = None,
    vmax: float | None = None,
    center: float | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    colorbar: str | None = None,
    missing_label: str = MISSING_LABEL,
    fontsize: float = 8,
    hatch: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A heatmap with every cell's value written in it (``seaborn.heatmap``).

    Rows of ``values`` are drawn top to bottom, columns left to right, with the index and
    columns as tick labels. The text of a cell is :data:`INK` on light cells and :data:`PAPER`
    on dark ones. A missing cell (NaN) gets no colour: it is hatched grey and says
    ``missing_label``, never painted as a zero.

    Parameters
    ----------
    values : DataFrame
        The numbers, one cell each (a wide table: ``pivot_table`` of a tidy frame).
    fmt : str or callable
        Number format of the annotations (``".0%"``, ``"+.1f"``...) or a function of the value.
    labels : DataFrame, optional
        The text of each cell instead of the formatted value (same shape; ``""`` writes
        nothing). Missing cells still say ``missing_label``.
    cmap, vmin, vmax, center
        Colour map and its range (``center`` for a diverging map, e.g. 0).
    xlabel, ylabel, title : str
        Axis labels and the title.
    colorbar : str, optional
        Draw a colour bar with this label (default: none; the numbers are written).
    missing_label : str
        Text of a missing cell (default ``"n/a"``; ``""``: the hatch alone, e.g. for periods
        not over yet, which the axis label explains).
    hatch : DataFrame of bool, optional
        Cells to hatch over their colour (same shape; e.g. provisional values), so the mark
        reads without colour. The axis label or a note should say what the hatch means.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [0.1, None], "b": [0.5, 0.9]}, index=["x", "y"])
    >>> ax = annotated_heatmap(t, xlabel="column", ylabel="row")
    >>> [tx.get_text() for tx in ax.texts]
    ['10%', '50%', '90%', 'n/a']
    """
    import seaborn as sns

    ax = get_ax(ax, (0.9 * values.shape[1] + 3, 0.42 * values.shape[0] + 1.5))
    data = values.astype(float)
    missing = data.isna().to_numpy()
    if labels is None:
        text = data.map(
            lambda v: "" if pd.isna(v) else (fmt(v) if callable(fmt) else format(v, fmt))
        )
    else:
        text = labels.reindex(index=data.index, columns=data.columns).fillna("").astype(str)
    finite = data.to_numpy()[np.isfinite(data.to_numpy())]
    if not finite.size:  # nothing to colour: a fixed range keeps seaborn from failing
        vmin, vmax, center = 0.0, 1.0, None
    sns.heatmap(
        data,
        mask=missing,
        annot=text.to_numpy() if finite.size else False,
        fmt="",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        center=center,
        linewidths=1,
        linecolor=PAPER,
        cbar=colorbar is not None,
        cbar_kws={"label": colorbar, "shrink": 0.7} if colorbar else None,
        annot_kws={"fontsize": fontsize},
        xticklabels=list(data.columns),
        yticklabels=list(data.index),
        ax=ax,
    )
    if finite.size:  # seaborn's ink switches to white too early on mid tones: by contrast
        mesh = ax.collections[0]
        fills = mesh.get_facecolors()[~missing.ravel()] if len(mesh.get_facecolors()) else []
        for t, fill in zip(ax.texts, fills, strict=False):
            t.set_color(text_color_on(fill))
    for i, j in zip(*np.nonzero(missing), strict=True):
        ax.add_patch(
            Rectangle((j, i), 1, 1, facecolor=PAPER, edgecolor=LIGHT, hatch=MISSING_HATCH, lw=0)
        )
        if missing_label:
            ax.text(j + 0.5, i + 0.5, missing_label, ha="center", va="center",
                    fontsize=fontsize, color=SUBTLE)  # fmt: skip
    if hatch is not None:
        marks = hatch.reindex(index=data.index, columns=data.columns).fillna(False)
        for i, j in zip(*np.nonzero(marks.to_numpy(dtype=bool) & ~missing), strict=True):
            ax.add_patch(
                Rectangle((j, i), 1, 1, fill=False, edgecolor=SUBTLE, hatch=PROVISIONAL_HATCH, lw=0)
            )
    ax.tick_params(length=0)
    ax.tick_params(axis="y", labelrotation=0)  # seaborn turns long row labels on their side
    plain_ticks(ax)
    if title:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
