"""The persona workshop app: pick features and k, see profiles and cards, name, save.

Private to :mod:`salesmkt.personas`, which re-exports :func:`persona_workshop`.

The app keeps its state in plain attributes (``model``, ``table``, ``cards``) and renders it
two ways: :meth:`PersonaWorkshop.snapshot_html` is static HTML (choices, k table, profile
heatmap, persona table and cards) that reads the same in JupyterLab, in a rendered report and
in the browser app (``salesmkt workshop``); :meth:`PersonaWorkshop.show` displays the controls
*and* that snapshot, and refreshes the snapshot whenever a control changes.

Personas are numbered P1..Pk everywhere (tabs, table, charts, cards), followed by the name the
room gives them. Widgets never hold the only copy of anything: what is typed goes into
``table`` at once and, in the interactive app, into the autosaved draft
(``personas.draft.yml`` beside the persona file), so a re-run, a refit, a browser refresh or
a restart finds it again; **Save** writes ``personas.yml``, the printable cards
(``personas_cards.html``) and the one-page summary (``personas_summary.html``) beside it.
Merge, split, retire and every refit can be undone (one step per click).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
from html import escape
from pathlib import Path

import pandas as pd

from salesmkt._base.alt_text import figure_alt_text
from salesmkt.personas import features as pf
from salesmkt.personas.cards import persona_cards, render_persona_cards
from salesmkt.personas.file import (
    COLUMNS,
    WORKSHOP_FIELDS,
    _path,
    draft_path,
    load_personas,
    load_settings,
    match_personas,
    merge_personas,
    retire_persona,
)
from salesmkt.personas.file import save_personas as _save
from salesmkt.personas.workshop_ui import available_methods, build_widget, plain_name


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    alt = escape(figure_alt_text(fig), quote=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


_PRINT_CSS = """<style>
body{font-family:system-ui,sans-serif;color:#1f2933;margin:24px}
@page{size:A4;margin:14mm}
@media print{.sm-cards{display:block!important}.sm-card{page-break-after:always;
 break-after:page;break-inside:avoid;border:none!important}
 .sm-card:last-child{page-break-after:auto;break-after:auto}.noprint{display:none}}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #cbd5e0;padding:4px 8px;
 text-align:left;vertical-align:top}
</style>"""


class PersonaWorkshop:
    """State and views of one persona workshop (create it with :func:`persona_workshop`)."""

    def __init__(self, dataset, *, config_dir=None, features=None, n_personas=5,
                 method="kmeans", selection=None, random_state=0, resume=False,
                 autosave=False, currency=None, amounts=(), percents=None):  # fmt: skip
        self.dataset = dataset
        self.leads = dataset.leads
        self.config_dir = config_dir
        self.path = _path(config_dir) if config_dir else None
        self.autosave = bool(autosave and self.path)
        self.saved = load_personas(self.path) if self.path else pd.DataFrame(columns=COLUMNS)
        previous, settings, self.status = self.saved, {}, ""
        if self.path:
            settings = load_settings(self.path)
            draft = draft_path(self.path)
            if draft.exists() and (
                not self.path.exists() or draft.stat().st_mtime >= self.path.stat().st_mtime
            ):
                previous, settings = load_personas(draft), load_settings(draft)
                self.status = "Restored the unsaved changes of " + _clock(draft.stat().st_mtime)
        if not resume:
            settings = {}
        chosen = settings.get("features") or features
        if chosen is None and selection is not None:
            chosen = selection.settings["features"]
        self.features = [f for f in (chosen or pf.default_features(self.leads)) if f in self.leads]
        # the team's own choice stays selectable even when no default would pick it
        self.candidates = list(dict.fromkeys([*pf.default_features(self.leads), *self.features]))
        self.n_personas = int(settings.get("n_personas") or n_personas)
        method = settings.get("method") or method
        self.method = method
        self.selection = selection
        self.random_state = random_state
        self.currency = currency
        self.amounts = list(amounts or ())
        self.percents = None if percents is None else list(percents)
        self.table = previous
        self._undo: list[dict] = []
        self._charts: tuple | None = None
        self._handle = self._pane = None
        self.refit()

    # --- state -------------------------------------------------------------------------------

    @property
    def settings(self) -> dict:
        """The choices of the current fit (saved with the personas)."""
        return {"n_personas": self.n_personas, "features": list(self.features),
                "method": self.method}  # fmt: skip

    def _remember(self) -> None:
        self._undo.append({"table": self.table.copy(), **self.settings})
        del self._undo[:-20]

    def refit(self, *, split_from: str | None = None) -> PersonaWorkshop:
        """Fit the model for the current choices and carry names and notes over.

        ``split_from``: the id of a persona being split; of the new personas, the one sharing
        most leads with it keeps its id, name and notes, and the others that come mostly from
        it note "Split from ..." (the Jaccard threshold of a plain refit would see two halves).
        """
        from salesmkt.personas.model import PersonaModel

        before = getattr(self, "model", None)
        self.model = PersonaModel(self.n_personas, features=self.features, method=self.method,
                                  random_state=self.random_state).fit(self.leads)  # fmt: skip
        self.table = match_personas(self.model, self.leads, self.table)
        if split_from is not None and before is not None:
            self._inherit_split(split_from, before)
        self._cards()
        self._charts = None
        self._autosave()
        return self

    def _inherit_split(self, pid: str, before) -> None:
        import numpy as np

        t = self.table
        src = t.index[t["id"] == pid]
        old_rows = np.asarray(before.labels_)
        old_p = [int(p) for p in self._old_numbers.get(pid, [])]
        if not len(src) or not old_p:
            return
        was = old_rows == old_p[0]
        new = np.asarray(self.model.labels_)
        cand = t.index[t["persona"].notna() & t["status"].eq("new")]
        if t.loc[src[0], "persona"] is not pd.NA and pd.notna(t.loc[src[0], "persona"]):
            cand = cand.append(src)
        scores = {i: (np.sum(was & (new == int(t.at[i, "persona"])))
                      / max(np.sum(was | (new == int(t.at[i, "persona"]))), 1),
                      np.mean(was[new == int(t.at[i, "persona"])]))
                  for i in cand}  # fmt: skip
        if not scores:
            return
        heir = max(scores, key=lambda i: scores[i][0])
        label = pid + (f" ({t.at[src[0], 'name']})" if t.at[src[0], "name"] else "")
        if heir != src[0]:
            keep = {f: t.at[src[0], f] for f in WORKSHOP_FIELDS}
            t.loc[heir, "id"] = pid
            for f, v in keep.items():
                t.at[heir, f] = v
            t.at[heir, "status"] = "matched"
            t = t.drop(index=src[0])
        for i, (_, purity) in scores.items():
            if i != heir and purity >= 0.5 and i in t.index:
                t.at[i, "notes"] = (str(t.at[i, "notes"]) + f"\nSplit from {label}.").strip()
        self.table = t.reset_index(drop=True)

    def change(self, *, features=None, n_personas=None, method=None) -> PersonaWorkshop:
        """Refit on other choices (one undo step); a bad choice raises and keeps the old fit."""
        features = list(features) if features is not None else self.features
        if not features:
            raise ValueError("Pick at least one feature: the personas need something to differ on.")
        if method is not None and method not in available_methods():
            raise ValueError(
                f"Method {method!r} does not work here; the methods that do: "
                + ", ".join(available_methods().values())
            )
        self._remember()
        old = self.settings
        self.features = features
        self.n_personas = int(n_personas or self.n_personas)
        self.method = method or self.method
        try:
            self.refit()
        except (ValueError, ImportError):
            self._undo.pop()
            self.features, self.n_personas, self.method = (
                old["features"],
                old["n_personas"],
                old["method"],
            )
            self.refit()
            raise
        return self

    def _id(self, persona: int) -> str:
        return str(self.table.loc[self.table["persona"] == persona, "id"].iloc[0])

    def merge(self, a: int, b: int) -> PersonaWorkshop:
        """Merge current persona ``b`` into ``a`` (0-based numbers) and refit with one fewer."""
        if a == b or self.n_personas <= 2:
            raise ValueError("Merge needs two different personas and leaves at least two.")
        self._remember()
        self.table = merge_personas(self.table, [self._id(a), self._id(b)])
        self.n_personas -= 1
        self.refit()
        return self

    def split(self, persona: int) -> PersonaWorkshop:
        """Refit with one more persona; the new one notes where it came from."""
        if self.n_personas >= 10:
            raise ValueError("Ten personas at most: merge or retire one first.")
        self._remember()
        self.n_personas += 1
        pid = self._id(persona)
        self._old_numbers = {pid: [persona]}
        self.refit(split_from=pid)
        return self

    def retire(self, persona: int) -> PersonaWorkshop:
        """Set a persona aside (kept in the file with its notes) and refit with one fewer."""
        if self.n_personas <= 2:
            raise ValueError("Two personas at least: split or add one before retiring another.")
        self._remember()
        self.table = retire_persona(self.table, self._id(persona))
        self.n_personas -= 1
        self.refit()
        return self

    def undo(self) -> bool:
        """Go back one change (refit, merge, split, retire); False when there is none."""
        if not self._undo:
            return False
        state = self._undo.pop()
        self.features, self.n_personas, self.method = (
            state["features"], state["n_personas"], state["method"]
        )  # fmt: skip
        typed = self.table
        self.table = state["table"]
        self.refit()
        # what was typed since is not undone: carry the latest text of every id
        latest = typed.set_index("id")
        for f in WORKSHOP_FIELDS:
            has = self.table["id"].isin(latest.index)
            self.table.loc[has, f] = self.table.loc[has, "id"].map(latest[f]).fillna("")
        self._cards()
        self._autosave()
        return True

    def _cards(self) -> None:
        self.cards = persona_cards(self.model, self.leads, dataset=self.dataset,
                                   personas=self.table, stability=self._stability(),
                                   currency=self.currency, amounts=self.amounts,
                                   percents=self.percents)  # fmt: skip
        self.cards["persona_label"] = self.cards["persona"].map(self.names)

    def _stability(self):
        if self.selection is None or self.selection.settings["features"] != self.model.features_:
            return None
        return self.selection.stability

    @property
    def names(self) -> dict[int, str]:
        """Persona number -> ``P1 <name>`` (``P1`` until named): one numbering everywhere."""
        cur = self.table.dropna(subset=["persona"])
        return {
            int(p): f"P{int(p) + 1}" + (f" {n}" if n else "")
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
        if field == "name":
            self.cards["persona_label"] = self.cards["persona"].map(self.names)
        self._autosave()

    def _autosave(self) -> None:
        if self.autosave:
            _save(draft_path(self.path), self.table, settings=self.settings)

    def save(self):
        """Write ``personas.yml`` (atomically), the printable cards and the one-page summary
        beside it; the autosaved draft is then removed. Returns the path of ``personas.yml``."""
        from salesmkt._base.atomic import write_text_atomic

        if not self.path:
            raise ValueError("No config_dir: pass persona_workshop(..., config_dir=...) to save.")
        path = _save(self.path, self.table, settings=self.settings)
        write_text_atomic(path.with_name("personas_cards.html"), self.cards_page())
        write_text_atomic(path.with_name("personas_summary.html"), self.summary_page())
        draft_path(self.path).unlink(missing_ok=True)
        self.saved = load_personas(self.path)
        self.status = f"Saved at {dt.datetime.now():%H:%M:%S} to {path}"
        return path

    # --- the room's outputs ------------------------------------------------------------------

    def cards_page(self) -> str:
        """Printable persona cards: one page per persona when printed (print CSS)."""
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Persona cards</title>"
            f"{_PRINT_CSS}</head><body><h1 class='noprint'>Persona cards</h1>"
            f"<p class='noprint'>Print this page: each persona comes out on a page of its own."
            f"</p>{render_persona_cards(self._print_cards(), currency=self.currency)}</body></html>"
        )

    def _print_cards(self) -> pd.DataFrame:
        cards = self.cards.copy()
        cards["name"] = cards["persona_label"]
        return cards

    def summary_page(self) -> str:
        """One page for both teams: the agreed personas, their size, outcomes and notes."""
        c = self.cards
        rows = "".join(
            f"<tr><td><b>{escape(r.persona_label)}</b><br><small>{escape(str(r.description))}"
            f"</small></td><td>{r.share:.0%}</td><td>{_pct(r.conversion_rate)}</td>"
            f"<td>{_pct(r.win_rate)}</td><td>{escape(str(r.key_numbers))}<br>"
            f"{escape(str(r.key_categories))}</td><td>{escape(str(r.how_to_sell))}</td></tr>"
            for r in c.itertuples()
        )
        aside = self.table[self.table["status"].isin(["merged", "retired", "unmatched"])]
        more = "".join(
            f"<li>{escape(str(r.id))} {escape(str(r.name))}: {escape(str(r.status))}"
            + (f" into {escape(str(r.merged_into))}" if r.merged_into else "")
            + "</li>"
            for r in aside.itertuples()
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Our buyer personas</title>"
            f"{_PRINT_CSS}</head><body><h1>Our buyer personas</h1>"
            f"<p>{len(c)} personas of {len(self.leads):,} leads, by "
            f"{escape(available_methods().get(self.method, self.method))} on "
            f"{escape(', '.join(plain_name(f) for f in self.features))}. Agreed on "
            f"{dt.date.today():%d %B %Y}.</p><table><tr><th>Persona</th><th>Share of leads</th>"
            "<th>Lead to customer</th><th>Win rate</th><th>What sets them apart</th>"
            f"<th>How to sell to them</th></tr>{rows}</table>"
            + (f"<h3>Set aside</h3><ul>{more}</ul>" if more else "")
            + "</body></html>"
        )

    # --- static view -------------------------------------------------------------------------

    def saved_line(self) -> str:
        """Where the personas are saved and when, or why they are not."""
        if not self.path:
            return "Not saved: no persona file was given (config_dir)."
        if self.status:
            return self.status
        when = load_settings(self.path).get("saved_at")
        return (
            f"Saved at {when} to {self.path}" if when else f"Not saved yet; Save writes {self.path}"
        )

    def _chart(self) -> str:
        if self._pane is not None:  # the live app: an HTML heatmap, drawn in milliseconds
            return profile_table(self.model.profiles_)
        if self._charts is None:
            import matplotlib.pyplot as plt

            from salesmkt.personas.plots import plot_persona_profiles

            fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
            short = {p: f"P{p + 1}" for p in range(self.model.n_personas_)}
            plot_persona_profiles(self.model.profiles_, names=short, ax=ax)
            self._charts = (_png(fig),)
        return self._charts[0]

    def snapshot_html(self) -> str:
        """The workshop's current state as static HTML."""
        left_out = [f for f in self.candidates if f not in self.model.features_]
        methods = available_methods()
        parts = [
            "<h3>Current choice</h3>",
            f"<p><b>{self.model.n_personas_} personas</b> by "
            f"{escape(methods.get(self.method, self.method))} on {len(self.model.features_)} "
            f"features: {escape(', '.join(plain_name(f) for f in self.model.features_))}."
            + (f" Not used: {escape(', '.join(plain_name(f) for f in left_out))}." if left_out
               else "")
            + "</p>",
        ]  # fmt: skip
        if self.status or (self.path and self.path.exists()):  # a report says nothing of saving
            parts.append(f"<p class='sm-saved'><i>{escape(self.saved_line())}</i></p>")
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
        cur = self.table.dropna(subset=["persona"]).sort_values("persona")
        body = "".join(
            f"<tr><td><b>P{int(r.persona) + 1}</b></td><td>{escape(r.name)}</td>"
            f"<td>{r.share:.0%}</td><td>{escape(str(r.suggested_label))}</td>"
            f"<td>{escape(_status_words(r))}</td></tr>"
            for r in cur.itertuples()
        )
        parts.append(
            "<h3>Personas</h3><table class='sm-personas'><tr><th>Persona</th><th>Name</th>"
            "<th>Share of leads</th><th>What the data says</th><th>Since the last fit</th></tr>"
            f"{body}</table>"
        )
        aside = self.table[self.table["persona"].isna()]
        if len(aside):
            parts.append(
                "<p><small>Kept in the file, not on the current personas: "
                + escape(
                    "; ".join(
                        f"{r.id} {r.name or '(no name)'} ({_status_words(r)})"
                        for r in aside.itertuples()
                    )
                )  # fmt: skip
                + "</small></p>"
            )
        parts.append("<h3>What sets each persona apart</h3>")
        parts.append(self._chart())
        parts.append("<h3>Persona cards</h3>")
        parts.append(render_persona_cards(self._print_cards(), currency=self.currency))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.snapshot_html()

    # --- interactive view --------------------------------------------------------------------

    def widget(self):
        """The controls: feature check boxes, persona count, method, text fields per persona,
        merge / split / retire / undo and save; see :func:`persona_workshop`."""
        return build_widget(self)

    def refresh(self) -> None:
        """Redraw the snapshot shown by :meth:`show`."""
        if self._pane is not None:
            self._pane.value = self.snapshot_html()
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self.snapshot_html()))

    def show(self, *, autosave: bool = True, live: bool = False) -> None:
        """Display the controls and the snapshot below them, redrawn on every change; from
        here on every change is autosaved as a draft beside the persona file.

        ``live=True`` (the browser app) puts the snapshot in a widget, which Voila redraws;
        the default puts it in a display output, which a rendered report keeps as static HTML.
        """
        from IPython.display import HTML, display

        self.autosave = bool(autosave and self.path)
        if live:
            import ipywidgets as w

            self._pane = w.HTML()
            self._pane.value = self.snapshot_html()
            display(w.VBox([self.widget(), self._pane]))
            return
        display(self.widget())
        self._handle = display(HTML(self.snapshot_html()), display_id=True)


def profile_table(profiles: pd.DataFrame, *, max_rows: int = 20) -> str:
    """The profile heatmap as an HTML table (rows and colours as
    :func:`salesmkt.plot_persona_profiles`: z-scores, red above the average lead, blue below);
    the live app draws it on every refit because it takes milliseconds, not a second.

    Examples
    --------
    >>> prof = pd.DataFrame({"persona": [0, 1], "feature": ["company_size"] * 2,
    ...     "kind": ["numeric"] * 2, "level": [None, None], "z": [1.5, -0.5]})
    >>> "+1.5" in profile_table(prof) and ">P2</th>" in profile_table(prof)
    True
    """
    import numpy as np

    prof = profiles[profiles["persona"] >= 0].copy()
    prof["row"] = np.where(
        prof["kind"] == "numeric",
        prof["feature"].map(plain_name),
        prof["feature"].map(plain_name) + ": " + prof["level"].astype(str),
    )
    wide = prof.pivot_table(index="row", columns="persona", values="z", sort=False)
    kinds = prof.drop_duplicates("row").set_index("row")["kind"]
    num_rows = [r for r in wide.index if kinds[r] == "numeric"]
    cat = wide.drop(index=num_rows)
    cat = cat[cat.abs().max(axis=1) >= 1.0]
    cat = cat.loc[cat.abs().max(axis=1).sort_values(ascending=False).index]
    wide = pd.concat([wide.loc[num_rows], cat.head(max(0, max_rows - len(num_rows)))])

    def cell(z) -> str:
        if pd.isna(z):
            return "<td></td>"  # fmt: skip
        a = min(abs(z) / 3, 1.0)
        rgb = "197,48,48" if z > 0 else "43,108,176"
        ink = "#fff" if a > 0.6 else "#1f2933"
        return (f"<td style='background:rgba({rgb},{a:.2f});color:{ink};padding:3px 10px;"
                f"text-align:right'>{z:+.1f}</td>")  # fmt: skip

    head = "".join(f"<th style='padding:3px 10px'>P{int(p) + 1}</th>" for p in wide.columns)
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(str(r))}</th>{''.join(cell(z) for z in row)}</tr>"
        for r, row in zip(wide.index, wide.to_numpy(), strict=True)
    )
    return (
        "<table class='sm-profile' style='border-collapse:collapse;font-size:.85rem'>"
        f"<tr><th>feature (category: level)</th>{head}</tr>{body}</table>"
        "<p><small>z-scores against the average lead: red above, blue below.</small></p>"
    )


def _pct(v) -> str:
    return "–" if pd.isna(v) else f"{v:.0%}"


def _clock(ts: float) -> str:
    return f"{dt.datetime.fromtimestamp(ts):%H:%M:%S}."


def _status_words(r) -> str:
    words = {
        "matched": "the same persona as before",
        "new": "new",
        "unmatched": "not found in this fit",
        "retired": "retired",
        "merged": f"merged into {getattr(r, 'merged_into', '')}",
    }
    return words.get(r.status, str(r.status))


def default_persona_file(data=None) -> Path:
    """Where the workshop saves by default: ``personas.yml`` next to the data (in the data
    folder; beside a workbook, DuckDB file or CSV); for the bundled sample (``data=None``, or
    a database URL) in the working folder.

    Examples
    --------
    >>> default_persona_file("crm/export.xlsx").as_posix()
    'crm/personas.yml'
    >>> default_persona_file().name
    'personas.yml'
    """
    if data is None or "://" in str(data):
        return Path.cwd() / "personas.yml"
    p = Path(os.fspath(data))
    return (p if p.is_dir() or not p.suffix else p.parent) / "personas.yml"


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
    resume: bool = False,
    currency: str | None = None,
    amounts: list[str] | None = None,
    percents: list[str] | None = None,
) -> PersonaWorkshop:
    """Open a persona workshop on ``dataset``'s leads.

    Parameters
    ----------
    dataset : Dataset
    config_dir : path, optional
        Folder of ``personas.yml`` (or the file itself): saved names and notes are matched to
        the new personas, the save button writes there, and the interactive view autosaves a
        draft beside it. Without it nothing is saved.
    features, method : as in :class:`salesmkt.PersonaModel`
    n_personas : int, optional
        Default: ``selection.suggested_k``, else 5.
    selection : KSelection, optional
        Output of :func:`salesmkt.choose_n_personas`, shown beside the current k.
    random_state : int
    save : bool
        Write ``personas.yml`` right away (the notebook's ``save_config`` parameter); report
        runs leave it False and never write.
    resume : bool
        Start from the persona count, features and method saved with the personas (or in the
        autosaved draft) instead of the arguments: the browser app does, so a refresh or a
        restart comes back to where the room was.
    currency : str, optional
        ISO code of the cards' amounts (``kpis.yml``'s ``currency``; default USD).
    amounts : list of str, optional
        Lead columns holding amounts in ``currency`` (``kpis.yml``'s
        ``settings.amount_columns``): the cards write their medians with its sign.
    percents : list of str, optional
        Lead columns holding rates (``kpis.yml``'s ``settings.percent_columns``): the cards
        write their medians and rule thresholds as percentages (0.478 -> 47.8 %). Default: the
        rule of :func:`salesmkt._base.formats.percent_columns` (names ending in ``_rate``,
        ``_share``, ``_ratio``, ``_pct``, ``_percent`` with fraction values).

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
    >>> ws.names[0], "Persona cards" in ws.snapshot_html()
    ('P1', True)
    """
    k = n_personas or (selection.suggested_k if selection is not None else 5)
    ws = PersonaWorkshop(dataset, config_dir=config_dir, features=features, n_personas=k,
                         method=method, selection=selection, random_state=random_state,
                         resume=resume, currency=currency, amounts=amounts,
                         percents=percents)  # fmt: skip
    if save:
        ws.save()
    return ws


#: Environment variables through which ``salesmkt workshop`` tells the app what to open: the
#: data, the persona file, and the currency, amount columns and rate columns of the cards
#: (``kpis.yml``'s, read by :func:`salesmkt.amount_settings`; columns comma-separated). Rate
#: columns unset: the default rule of :func:`salesmkt._base.formats.percent_columns`; set but
#: empty: no column reads as a percentage.
APP_ENV = {
    "data": "SALESMKT_WORKSHOP_DATA",
    "file": "SALESMKT_WORKSHOP_FILE",
    "currency": "SALESMKT_WORKSHOP_CURRENCY",
    "amounts": "SALESMKT_WORKSHOP_AMOUNTS",
    "percents": "SALESMKT_WORKSHOP_PERCENTS",
}


def workshop_app(*, show: bool = True) -> PersonaWorkshop:
    """The browser app's one cell (``notebooks/workshop_app.ipynb``, served by Voilà through
    ``salesmkt workshop``): open the data named in ``SALESMKT_WORKSHOP_DATA`` (default: the
    sample company), resume from the persona file in ``SALESMKT_WORKSHOP_FILE`` (default:
    :func:`default_persona_file`) or its autosaved draft, write the cards' amounts in
    ``SALESMKT_WORKSHOP_CURRENCY`` (default USD) for the lead columns in
    ``SALESMKT_WORKSHOP_AMOUNTS`` and as percentages the rate columns in
    ``SALESMKT_WORKSHOP_PERCENTS`` (unset: the default rule), and show the workshop (unless
    ``show=False``)."""
    import warnings

    from salesmkt.io import load, sample_dir

    data = os.environ.get(APP_ENV["data"]) or None
    file = os.environ.get(APP_ENV["file"]) or default_persona_file(data)
    currency = os.environ.get(APP_ENV["currency"]) or None
    amounts = [c for c in os.environ.get(APP_ENV["amounts"], "").split(",") if c]
    declared = os.environ.get(APP_ENV["percents"])
    percents = None if declared is None else [c for c in declared.split(",") if c]
    warnings.filterwarnings("ignore", module="sklearn")  # convergence notes on tiny features
    dataset = load(data or sample_dir())
    ws = persona_workshop(dataset, config_dir=file, resume=True, currency=currency,
                          amounts=amounts, percents=percents)  # fmt: skip
    if show:
        ws.show(live=True)
    return ws
