"""Charts of the lifecycle funnel: stage bars, conversion by segment, time in stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from salesmkt.lifecycle import funnel_keys
from salesmkt.plotting._style import BAD, MUTED, PRIMARY, finish, get_ax

__all__ = ["plot_lifecycle_funnel", "plot_lifecycle_breakdown", "plot_time_in_stage"]


def _keys(funnel: pd.DataFrame) -> list[str]:
    return funnel_keys(funnel)


def plot_lifecycle_funnel(funnel: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of leads reaching each stage, with conversion and drop-off labels.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`salesmkt.lifecycle_funnel` without ``by`` or ``cohort`` (one group).

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_lifecycle_funnel(salesmkt.lifecycle_funnel(salesmkt.load_sample().leads))
    >>> len(ax.patches)  # a bar per stage and its drop-off
    10
    """
    keys = [k for k in _keys(funnel) if funnel[k].nunique() > 1]
    if keys:
        raise ValueError(
            f"plot_lifecycle_funnel draws one funnel; this table is broken down by {keys}. "
            "Use plot_lifecycle_breakdown, or compute the funnel without by/cohort."
        )
    f = funnel.sort_values("step")
    ax = get_ax(ax, (8, 0.6 * len(f) + 1.2))
    y = np.arange(len(f))[::-1]
    top = max(float(f["entered"].max()), 1.0)
    ax.barh(y, f["entered"], color=PRIMARY, height=0.65)
    ax.barh(y, f["dropped"], left=f["entered"], color=MUTED, alpha=0.35, height=0.65)
    for yi, (_, r) in zip(y, f.iterrows(), strict=True):
        text = f"{int(r['entered']):,}"
        if r["step"] > 1 and pd.notna(r["conversion_from_previous"]):
            text += f"  ({r['conversion_from_previous']:.0%} of previous"
            text += f", {int(r['dropped']):,} dropped)" if r["dropped"] > 0 else ")"
        ax.text(
            r["entered"] + r["dropped"] + top * 0.01,
            yi,
            text,
            va="center",
            ha="left",
            fontsize=9,
            color="#1a202c",
        )
    ax.set_yticks(y, f["stage"])
    ax.set_xlim(0, top * 1.55)
    excluded = int(f["n_excluded"].iloc[0]) if len(f) else 0
    note = f"{excluded} leads with stages out of order left out" if excluded else ""
    return finish(ax, "Lifecycle funnel: leads reaching each stage", xlabel=note)


def plot_lifecycle_breakdown(
    funnel: pd.DataFrame,
    *,
    by: str | None = None,
    top: int = 10,
    order: str = "size",
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of stage-to-stage conversion per segment (rows) and stage (columns).

    With ``order="size"`` segments are sorted by leads entering the funnel and the ``top``
    largest are shown; with ``order="name"`` they are sorted by value and the last ``top`` are
    shown (for ``by="cohort"``: the most recent cohorts). Row labels carry the number of
    leads, so small segments are read with care.

    Examples
    --------
    >>> import salesmkt
    >>> f = salesmkt.lifecycle_funnel(salesmkt.load_sample().leads, by="channel")
    >>> ax = plot_lifecycle_breakdown(f)
    >>> ax.get_title(loc="left")
    'Stage conversion by channel'
    """
    keys = _keys(funnel)
    by = by or (keys[0] if keys else None)
    if by is None or by not in funnel.columns:
        raise ValueError("plot_lifecycle_breakdown needs a funnel computed with by=<column>")
    size = funnel[funnel["step"] == 1].groupby(by)["entered"].sum()
    if order == "size":
        size = size.sort_values(ascending=False, kind="stable").head(top)
    elif order == "name":
        size = size.sort_index().tail(top)
    else:
        raise ValueError(f"order must be 'size' or 'name', got {order!r}")
    f = funnel[(funnel["step"] > 1) & funnel[by].isin(size.index)]
    wide = f.pivot_table(
        index=by, columns="step", values="conversion_from_previous", aggfunc="first"
    ).reindex(size.index)
    names = f.drop_duplicates("step").set_index("step")["stage"]
    prev = funnel.drop_duplicates("step").set_index("step")["stage"]
    ax = get_ax(ax, (9, 0.45 * len(wide) + 1.6))
    ax.imshow(wide.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            v = wide.iat[i, j]
            ax.text(
                j,
                i,
                "–" if pd.isna(v) else f"{v:.0%}",
                ha="center",
                va="center",
                color="white" if (pd.notna(v) and v > 0.6) else "black",
                fontsize=9,
            )
    ax.set_xticks(
        range(wide.shape[1]), [f"{prev[s - 1]} → {names[s]}" for s in wide.columns], fontsize=9
    )
    names_ = [f"{s:%Y-%m}" if isinstance(s, pd.Timestamp) else str(s) for s in size.index]
    ax.set_yticks(
        range(len(wide)),
        [f"{s} ({int(n):,})" for s, n in zip(names_, size, strict=True)],
        fontsize=9,
    )
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return finish(ax, f"Stage conversion by {by}")


def plot_time_in_stage(durations: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Box plot of days spent in each stage by leads that advanced (outliers hidden).

    Parameters
    ----------
    durations : DataFrame
        Output of :func:`salesmkt.stage_durations`.

    Examples
    --------
    >>> import salesmkt
    >>> ax = plot_time_in_stage(salesmkt.stage_durations(salesmkt.load_sample().leads))
    >>> ax.get_xlabel()
    'days in stage before moving on (box: middle half, line: median)'
    """
    adv = durations[durations["status"] == "advanced"]
    order = list(dict.fromkeys(durations["stage"]))
    data = [adv.loc[adv["stage"] == s, "days"].to_numpy() for s in order]
    ax = get_ax(ax, (8, 0.6 * len(order) + 1.2))
    ax.boxplot(
        data,
        orientation="horizontal",
        showfliers=False,
        tick_labels=order,
        widths=0.5,
        medianprops={"color": BAD},
        patch_artist=True,
        boxprops={"facecolor": "#bee3f8", "edgecolor": PRIMARY},
    )
    ax.invert_yaxis()
    for i, d in enumerate(data, start=1):
        if len(d):
            ax.text(np.median(d), i - 0.33, f"{np.median(d):.1f} d", ha="center", fontsize=8)
    return finish(
        ax,
        "Time in stage",
        xlabel="days in stage before moving on (box: middle half, line: median)",
    )
