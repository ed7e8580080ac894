"""Alt text for the charts of a report: each chart's title and, where it has one, its takeaway.

A report's charts are matplotlib figures drawn by the library's ``plot_*`` functions. The report
kernel computes a description of each figure when it is displayed (:func:`figure_alt_text`) and
stores it in the output's metadata as ``{"image/png": {"alt": ...}}``
(:func:`register_alt_text`, run at kernel start-up by :data:`KERNEL_STARTUP`); the report
template writes it into the ``<img alt>`` attribute. The notebooks themselves hold nothing for
this.

A chart's *title* is the title of its Axes (all of them, in order, for a chart of several
panels). Its *takeaway* is the text a chart marks with ``gid="takeaway"`` (e.g.
``fig.suptitle("Paid search pays back", gid="takeaway")``), else the figure's suptitle when the
Axes have titles of their own. A chart without any title is described by its axis labels, else
by the text it shows (e.g. "No missing values"), so no alt text is ever empty.

This module imports neither matplotlib nor IPython at import time: the kernel loads it before
the notebook chooses anything.
"""

from __future__ import annotations

import re

__all__ = ["figure_alt_text", "register_alt_text", "KERNEL_STARTUP"]

#: The line the report kernel runs at start-up (``--IPKernelApp.exec_lines``); it leaves no
#: name in the notebook's namespace.
KERNEL_STARTUP = "__import__('salesmkt._base.alt_text', fromlist=['_']).register_alt_text()"

#: Image types whose output metadata carry the alt text (the ones nbconvert shows as ``<img>``).
IMAGE_TYPES = ("image/png", "image/jpeg")

_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    """One line: no line breaks or runs of spaces."""
    return _SPACE.sub(" ", text).strip()


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _unique(texts) -> list[str]:
    out: list[str] = []
    for t in map(_clean, texts):
        if t and t not in out:
            out.append(t)
    return out


def figure_alt_text(fig) -> str:
    """A description of a matplotlib figure for a screen reader: title, then takeaway.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
        Never empty: ``"<title>. <takeaway>."``, the Axes' titles joined by ``"; "`` for a
        chart of several panels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Leads by month")
    >>> figure_alt_text(fig)
    'Leads by month.'
    >>> _ = fig.suptitle("Leads doubled since March", gid="takeaway")
    >>> figure_alt_text(fig)
    'Leads by month. Leads doubled since March.'
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    axes = [ax for ax in fig.get_axes() if ax.get_visible()]
    titles = _unique(ax.get_title(loc) for ax in axes for loc in ("left", "center", "right"))
    suptitle = fig.get_suptitle()
    marked = _unique(
        t.get_text() for t in fig.findobj(Text) if t.get_gid() == "takeaway" and t.get_visible()
    )
    if not titles and suptitle and _clean(suptitle) not in marked:
        titles, suptitle = [_clean(suptitle)], ""
    takeaway = marked or _unique([suptitle])
    if not titles:
        titles = _described_by_labels(axes) or _described_by_texts(fig, marked)
    parts = ["; ".join(titles)] if titles else ["Chart without a title"]
    parts += [_sentence(t) for t in takeaway if t not in titles]
    parts[0] = _sentence(parts[0])
    return " ".join(parts)


def _described_by_labels(axes) -> list[str]:
    """ "y by x" for each Axes with axis labels (a chart drawn without a title)."""
    out = []
    for ax in axes:
        x, y = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
        if x and y:
            out.append(f"{y} by {x}")
        elif x or y:
            out.append(x or y)
    return _unique(out)


def _described_by_texts(fig, skip) -> list[str]:
    """The texts drawn in the chart's place (e.g. a "no data" message)."""
    texts = [t.get_text() for ax in fig.get_axes() for t in ax.texts if t.get_visible()]
    texts += [t.get_text() for t in fig.texts if t.get_visible()]
    return [t for t in _unique(texts) if t not in skip][:3]


def _alt_metadata(fig) -> tuple[dict, dict]:
    """A mime-bundle formatter's answer: no data of its own, the alt text as metadata."""
    alt = figure_alt_text(fig)
    return {}, {mime: {"alt": alt} for mime in IMAGE_TYPES}


def register_alt_text(shell=None) -> None:
    """Attach :func:`figure_alt_text` to every figure an IPython shell displays.

    It is registered as the mime-bundle formatter of matplotlib's ``Figure``: that formatter
    returns only metadata, so the PNG still comes from the inline backend's own formatter,
    whatever it is configured to draw (and however often ``%matplotlib inline`` re-registers
    it). Outside IPython this does nothing.

    Examples
    --------
    >>> register_alt_text()  # no IPython shell here: nothing to do
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency of the reports
            return
        shell = get_ipython()
    if shell is None:
        return
    shell.display_formatter.mimebundle_formatter.for_type_by_name(
        "matplotlib.figure", "Figure", _alt_metadata
    )
