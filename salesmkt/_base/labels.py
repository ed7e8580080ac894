"""Labels beside the points of a scatter chart that do not overlap one another.

:func:`label_points` is a small deterministic placement: each label in turn tries a fixed list
of spots around its point (beside it, above, below, then stacked further out), measures the
label with the figure's renderer and takes the spot that overlaps least with the labels already
placed, the markers and the axes' other texts and legend, and stays inside the axes; among
equally free spots, the first of the list (the nearest). A label set apart from its point gets a thin leader line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import ConnectionPatch
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox, offset_copy

__all__ = ["label_points"]

#: how many label heights a stack of labels may climb above or below its point
_LEVELS = 12


def _renderer(fig):
    fig.draw_without_rendering()  # settles the layout the labels are measured in
    return fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else fig._get_renderer()


def _overlap(box: np.ndarray, boxes: np.ndarray) -> float:
    """Total area of ``box`` (x0, y0, x1, y1) covered by each of ``boxes``."""
    if not len(boxes):
        return 0.0
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return float((np.clip(w, 0, None) * np.clip(h, 0, None)).sum())


def _outside(box: np.ndarray, frame: Bbox) -> float:
    """Area of ``box`` outside ``frame``."""
    inside = _overlap(box, np.array([[frame.x0, frame.y0, frame.x1, frame.y1]]))
    return (box[2] - box[0]) * (box[3] - box[1]) - inside


def _candidates(w: float, h: float, gap: float) -> list[tuple[float, float]]:
    """Lower-left corners of a ``w`` x ``h`` label relative to its point, in preference order:
    above right (the usual spot), the other three corners, centred above and below, level with
    the point on either side, then stacked a label height further up or down each time, and a
    little further out, so that the leader lines of a stack pass beside its other labels."""
    step, out = h + gap / 2, 0.6 * h
    spots = [
        (gap, gap),
        (gap, -gap - h),
        (-gap - w, gap),
        (-gap - w, -gap - h),
        (-w / 2, gap * 1.5),
        (-w / 2, -gap * 1.5 - h),
        (gap * 1.5, -h / 2),
        (-gap * 1.5 - w, -h / 2),
    ]
    for k in range(1, _LEVELS + 1):
        right, left = gap + k * out, -gap - w - k * out
        spots += [
            (right, gap + k * step),
            (right, -gap - h - k * step),
            (left, gap + k * step),
            (left, -gap - h - k * step),
        ]
    return spots


def label_points(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str],
    *,
    marker_size: float = 60,
    fontsize: float = 7.5,
    color: str | None = None,
    leader_color: str | None = None,
) -> list[Annotation]:
    """Write ``texts`` beside the points ``(x, y)`` (data coordinates) so they do not overlap.

    Call it last, once the axes have their limits, legend, title and labels: it measures the
    labels in the laid-out figure, and keeps them out of the layout so they do not move it.
    Labels are placed in the order given (put the important ones first: they get the nearest
    spots). Overlaps remain only when no spot of the list is free.

    Parameters
    ----------
    ax : Axes
    x, y : sequence of float
        The points, in data coordinates.
    texts : sequence of str
    marker_size : float
        The scatter's ``s`` (points squared): markers are kept clear of labels.
    fontsize, color :
        Of the labels.
    leader_color : str, optional
        Of the line from a label set apart to its point (default: the labels' colour).

    Returns
    -------
    list of Annotation
        One per label, in the order given.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.scatter([1, 1.01, 1.02], [1, 1, 1]); _ = ax.set_xlim(0, 2); _ = ax.set_ylim(0, 2)
    >>> labels = label_points(ax, [1, 1.01, 1.02], [1, 1, 1], ["one", "two", "three"])
    >>> boxes = [t.get_window_extent() for t in labels]
    >>> any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    False
    """
    fig = ax.get_figure(root=True)
    renderer = _renderer(fig)
    pt = fig.dpi / 72  # pixels per point
    gap = 3 * pt + np.sqrt(marker_size) / 2 * pt  # from the point's centre past its marker
    xy = ax.transData.transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    frame = ax.get_window_extent(renderer)
    r = np.sqrt(marker_size) / 2 * pt + pt
    taken = [np.array([px - r, py - r, px + r, py + r]) for px, py in xy]
    others = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
    legend = ax.get_legend()
    for artist in [*others, *([legend] if legend is not None else [])]:
        b = artist.get_window_extent(renderer)
        taken.append(np.array([b.x0, b.y0, b.x1, b.y1]))
    labels: list[Annotation] = []
    for (px, py), (xd, yd), text in zip(xy, np.column_stack([x, y]), texts, strict=True):
        ann = ax.annotate(
            text,
            (xd, yd),
            xytext=(0, 0),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=fontsize,
            color=color,
            annotation_clip=False,
        )
        ann.set_in_layout(False)
        size = ann.get_window_extent(renderer)
        w, h = size.width, size.height
        obstacles = np.array(taken)
        best = None
        for i, (cx, cy) in enumerate(_candidates(w, h, gap)):
            box = np.array([px + cx, py + cy, px + cx + w, py + cy + h])
            clash = _overlap(box, obstacles) + _outside(box, frame)
            key = (round(clash, 3), i)
            if best is None or key < best[0]:
                best = (key, cx, cy, box)
        _, cx, cy, box = best
        ann.xyann = (cx / pt, cy / pt)
        taken.append(box)
        labels.append(ann)
        # a label set apart from its point: a leader from the point to the label's nearest edge
        near = np.clip([px, py], box[:2], box[2:])
        if np.hypot(near[0] - px, near[1] - py) > gap * 1.6:
            end = offset_copy(
                ax.transData, fig=fig, x=(near[0] - px) / pt, y=(near[1] - py) / pt, units="points"
            )
            line = ConnectionPatch(
                (xd, yd),
                (xd, yd),
                coordsA=ax.transData,
                coordsB=end,
                color=leader_color or ann.get_color(),
                lw=0.6,
                zorder=2,
                shrinkA=np.sqrt(marker_size) / 2,
                shrinkB=0,
            )
            line.set_in_layout(False)
            ax.add_artist(line)
    return labels
