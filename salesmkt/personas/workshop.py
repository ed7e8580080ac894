"""The persona workshop app: pick features and k, see profiles and cards, name, save.

Private to :mod:`salesmkt.personas`, which re-exports :func:`persona_workshop`.

The app keeps its state in plain attributes (``model``, ``table``, ``cards``) and renders it
two ways: :meth:`PersonaWorkshop.snapshot_html` is static HTML (choices, k table, profile
heatmap, persona table and cards) that reads the same in JupyterLab and in a rendered report;
:meth:`PersonaWorkshop.show` displays the widgets *and* that snapshot, and refreshes the
snapshot whenever a widget changes. Widgets never hold the only copy of anything: names and
notes typed in are in ``table`` at once, and the save button writes them to ``personas.yml``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from html import escape

import pandas as pd

from salesmkt._base.alt_text import figure_alt_text
from salesmkt._base.tables import format_table
from salesmkt.personas import features as pf
from salesmkt.personas.cards import FIELD_TITLES, persona_cards, render_persona_cards
from salesmkt.personas.file import COLUMNS, WORKSHOP_FIELDS, load_personas, match_personas
from salesmkt.personas.file import save_personas as _save


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    alt = escape(figure_alt_text(fig), quote=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


class PersonaWorkshop:
    """State and views of one persona workshop (create it with :func:`persona_workshop`)."""

    def __init__(self, dataset, *, config_dir=None, features=None, n_personas=5,
                 method="kmeans", selection=None, random_state=0, currency=None):  # fmt: skip
        self.dataset = dataset
        self.leads = dataset.leads
        self.features = list(features or (selection.settings["features"] if selection else
                                          pf.default_features(self.leads)))  # fmt: skip
        # the team's own choice stays selectable even when no default would pick it
        self.candidates = list(dict.fromkeys([*pf.default_features(self.leads), *self.features]))
        self.n_personas = int(n_personas)
        self.method = method
        self.selection = selection
        self.random_state = random_state
        self.currency = currency
        self.config_dir = config_dir
        self.saved = load_personas(config_dir) if config_dir else pd.DataFrame(columns=COLUMNS)
        self.table = self.saved
        self.status = ""
        self._handle = None
        self.refit()

    # --- state -------------------------------------------------------------------------------

    def refit(self) -> PersonaWorkshop:
        """Fit the model for the current choices and carry names and notes over."""
        from salesmkt.personas.model import PersonaModel

        self.model = PersonaModel(self.n_personas, features=self.features, method=self.method,
                                  random_state=self.random_state).fit(self.leads)  # fmt: skip
        previous = self.table if len(self.table) else self.saved
        self.table = match_personas(self.model, self.leads, previous)
        self._cards()
        return self

    def _cards(self) -> None:
        self.cards = persona_cards(self.model, self.leads, dataset=self.dataset,
                                   personas=self.table, stability=self._stability())  # fmt: skip

    def _stability(self):
        if self.selection is None or self.selection.settings["features"] != self.model.features_:
            return None
        return self.selection.stability

    @property
    def names(self) -> dict[int, str]:
        """Persona number -> the workshop's name (or "persona N" until named)."""
        cur = self.table.dropna(subset=["persona"])
        return {
            int(p): (n or f"persona {int(p)}")
            for p, n in zip(cur["persona"], cur["name"], strict=False)
        }

    @property
    def labels(self) -> pd.Series:
        """The persona number of every lead, aligned with ``dataset.leads``."""
        return pd.Series(self.model.labels_, index=self.leads.index, name="persona")

    def set_field(self, persona: int, field: str, value: str) -> None:
        """Write a workshop field (name, goals, ...) of a current persona."""
        if field not in WORKSHOP_FIELDS:
            raise ValueError(
                f"unknown field {field!r}; the fields are {', '.join(WORKSHOP_FIELDS)}"
            )
        row = self.table.index[self.table["persona"] == persona]
        self.table.loc[row, field] = value
        self.cards.loc[self.cards["persona"] == persona, field] = value  # data part unchanged

    def save(self):
        """Write the persona table to ``personas.yml`` in ``config_dir`` (atomically)."""
        if not self.config_dir:
            raise ValueError("No config_dir: pass persona_workshop(..., config_dir=...) to save.")
        path = _save(self.config_dir, self.table)
        self.saved = load_personas(self.config_dir)
        self.status = f"Saved {len(self.table)} personas to {path} at {dt.datetime.now():%H:%M:%S}."
        return path

    # --- static view -------------------------------------------------------------------------

    def snapshot_html(self) -> str:
        """The workshop's current state as static HTML."""
        import matplotlib.pyplot as plt

        from salesmkt.personas.plots import plot_persona_profiles

        left_out = [f for f in self.candidates if f not in self.model.features_]
        parts = [
            "<h3>Current choice</h3>",
            f"<p><b>{self.model.n_personas_} personas</b> by {escape(self.method)} on "
            f"{len(self.model.features_)} features: {escape(', '.join(self.model.features_))}."
            + (f" Not used: {escape(', '.join(left_out))}." if left_out else "")
            + "</p>",
        ]
        if self.status:
            parts.append(f"<p><i>{escape(self.status)}</i></p>")
        if self.selection is not None:
            t = self.selection.table[["k", "silhouette", "davies_bouldin", "gap", "min_share",
                                      "stability_min", "admissible"]]  # fmt: skip
            rows = "".join(
                f"<tr style='{'font-weight:bold;background:#ebf8ff' if r.k == self.n_personas else ''}'>"
                f"<td>{r.k}</td><td>{r.silhouette:.3f}</td><td>{r.davies_bouldin:.2f}</td>"
                f"<td>{r.gap:.3f}</td><td>{r.min_share:.0%}</td><td>{r.stability_min:.2f}</td>"
                f"<td>{'yes' if r.admissible else 'no'}</td></tr>"
                for r in t.itertuples()
            )
            parts.append(
                "<details><summary>Number of personas: the k table (current k in bold)</summary>"
                "<table><tr><th>k</th><th>silhouette</th><th>Davies-Bouldin</th><th>gap</th>"
                "<th>smallest share</th><th>weakest stability</th><th>admissible</th></tr>"
                f"{rows}</table></details>"
            )
        cur = self.table[["persona", "id", "name", "status", "share", "suggested_label"]]
        parts.append("<h3>Personas</h3>")
        parts.append(format_table(cur, labels={"persona": "Persona (number)"}).as_raw_html())
        fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
        plot_persona_profiles(self.model.profiles_, names=self.names, ax=ax)
        parts.append(_png(fig))
        parts.append("<h3>Persona cards</h3>")
        parts.append(render_persona_cards(self.cards, currency=self.currency))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.snapshot_html()

    # --- interactive view --------------------------------------------------------------------

    def widget(self):
        """The controls: features, k, method, text fields per persona and a save button."""
        import ipywidgets as w

        feats = w.SelectMultiple(
            options=self.candidates,
            value=tuple(self.features),
            rows=min(12, len(self.candidates)),
            description="Features",
        )
        k = w.IntSlider(value=self.n_personas, min=2, max=10, description="Personas",
                        continuous_update=False)  # fmt: skip
        method = w.Dropdown(options=["kmeans", "gmm", "hdbscan", "kprototypes"],
                            value=self.method, description="Method")  # fmt: skip
        save = w.Button(description="Save personas.yml", button_style="success", icon="save",
                        disabled=not self.config_dir)  # fmt: skip
        message = w.HTML(value=escape(self.status))
        tabs = w.Tab()

        def build_tabs():
            children = []
            cur = self.table.dropna(subset=["persona"]).sort_values("persona")
            for r in cur.itertuples():
                boxes = []
                for f in WORKSHOP_FIELDS:
                    title = FIELD_TITLES.get(f, "Name")
                    cls = w.Text if f in ("name", "description") else w.Textarea
                    box = cls(value=getattr(r, f) or "", description=title,
                              continuous_update=False, layout=w.Layout(width="95%"),
                              style={"description_width": "140px"})  # fmt: skip
                    box.observe(lambda ch, p=int(r.persona), f=f: on_text(p, f, ch["new"]),
                                names="value")  # fmt: skip
                    boxes.append(box)
                children.append(w.VBox(boxes))
            tabs.children = children
            for i, r in enumerate(cur.itertuples()):
                tabs.set_title(i, r.name or f"persona {int(r.persona)}")

        def on_text(p, f, value):
            self.set_field(p, f, value)
            self.refresh()

        def on_model(_change):
            message.value = "Fitting ..."
            self.features = list(feats.value) or self.features
            self.n_personas, self.method = k.value, method.value
            try:
                self.refit()
                message.value = ""
            except (ValueError, ImportError) as exc:
                message.value = f"<span style='color:#c53030'>{escape(str(exc))}</span>"
            build_tabs()
            self.refresh()

        def on_save(_b):
            self.save()
            message.value = escape(self.status)
            self.refresh()

        for control in (feats, k, method):
            control.observe(on_model, names="value")
        save.on_click(on_save)
        build_tabs()
        return w.VBox([w.HBox([feats, w.VBox([k, method, save])]), message, tabs])

    def refresh(self) -> None:
        """Redraw the snapshot shown by :meth:`show`."""
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self.snapshot_html()))

    def show(self) -> None:
        """Display the controls and the live snapshot below them."""
        from IPython.display import HTML, display

        display(self.widget())
        self._handle = display(HTML(self.snapshot_html()), display_id=True)


def persona_workshop(
    dataset,
    *,
    config_dir=None,
    features: list[str] | None = None,
    n_personas: int | None = None,
    method: str = "kmeans",
    selection=None,
    random_state: int = 0,
    save: bool = False,
    currency: str | None = None,
) -> PersonaWorkshop:
    """Open a persona workshop on ``dataset``'s leads.

    Parameters
    ----------
    dataset : Dataset
    config_dir : path, optional
        Folder of ``personas.yml``: saved names and notes are matched to the new personas, and
        the save button writes there. Without it nothing is saved.
    features, method : as in :class:`salesmkt.PersonaModel`
    n_personas : int, optional
        Default: ``selection.suggested_k``, else 5.
    selection : KSelection, optional
        Output of :func:`salesmkt.choose_n_personas`, shown beside the current k.
    random_state : int
    save : bool
        Write ``personas.yml`` right away (the notebook's ``save_config`` parameter); report
        runs leave it False and never write.
    currency : str, optional
        ISO code of the cards' amounts (``kpis.yml``'s ``currency``; default USD).

    Returns
    -------
    PersonaWorkshop
        ``.show()`` displays the widgets and a static snapshot; ``.model``, ``.table`` (one row
        per persona with id, name, notes and match status), ``.cards``, ``.names`` and
        ``.labels`` hold the current state.

    Examples
    --------
    >>> import salesmkt
    >>> ws = persona_workshop(salesmkt.load_sample(), n_personas=5)
    >>> ws.table["status"].tolist()
    ['new', 'new', 'new', 'new', 'new']
    >>> "Persona cards" in ws.snapshot_html()
    True
    """
    k = n_personas or (selection.suggested_k if selection is not None else 5)
    ws = PersonaWorkshop(dataset, config_dir=config_dir, features=features, n_personas=k,
                         method=method, selection=selection, random_state=random_state,
                         currency=currency)  # fmt: skip
    if save:
        ws.save()
    return ws
