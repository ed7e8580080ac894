"""The workshop's controls (ipywidgets), for people who have never seen Jupyter.

Private to :mod:`salesmkt.personas`: :meth:`PersonaWorkshop.widget` builds them. Every control
says what it does: features are check boxes with plain names, grouped into numbers and
categories; the method list holds only methods that honour the persona count and work on this
installation; personas are P1..Pk then their name, in the tabs as on the cards. Slow steps
(a refit) show what is happening and lock the controls until done; a choice that cannot work
(no feature left, a method that fails) says why and keeps the previous one.
"""

from __future__ import annotations

import time
from html import escape

from salesmkt.personas import features as pf
from salesmkt.personas.cards import FIELD_TITLES
from salesmkt.personas.file import WORKSHOP_FIELDS

#: Methods the workshop offers: each honours the persona count. HDBSCAN finds its own number
#: of personas, so it is left out of a control whose main knob is that number.
METHODS = {"kmeans": "k-means (default)", "gmm": "Gaussian mixture"}


def available_methods() -> dict[str, str]:
    """The methods that work on this installation (k-prototypes needs the ``kmodes`` package).

    Examples
    --------
    >>> "kmeans" in available_methods()
    True
    """
    out = dict(METHODS)
    try:
        import kmodes  # noqa: F401

        out["kprototypes"] = "k-prototypes (mixed data)"
    except ImportError:
        pass
    return out


def plain_name(feature: str) -> str:
    """A column name as people say it: ``company_size`` -> ``Company size``.

    Examples
    --------
    >>> plain_name("annual_revenue")
    'Annual revenue'
    """
    text = feature.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


_TITLES = {"name": "Name", **FIELD_TITLES}
_HINTS = {
    "name": "a name the room will remember, e.g. The cautious IT buyer",
    "description": "who they are, in one line",
}


def build_widget(ws):
    """The workshop's controls over ``ws`` (a :class:`PersonaWorkshop`)."""
    import ipywidgets as w

    quiet = {"on": False}  # set while the code (not a person) moves a control
    boxes = {}
    groups = {"Numbers": [], "Categories": []}
    for f in ws.candidates:
        cb = w.Checkbox(value=f in ws.features, description=plain_name(f), indent=False,
                        layout=w.Layout(width="auto"))  # fmt: skip
        cb.add_class("sm-feature")
        boxes[f] = cb
        groups["Numbers" if pf.is_numeric(ws.leads[f]) else "Categories"].append(cb)
    feature_box = w.VBox(
        [w.HTML("<b>1. What the personas differ on</b> (tick the features)")]
        + [w.VBox([w.HTML(f"<i>{g}</i>"), *cbs]) for g, cbs in groups.items() if cbs],
        layout=w.Layout(width="300px"),
    )
    k = w.IntSlider(value=ws.n_personas, min=2, max=10, description="Personas",
                    continuous_update=False)  # fmt: skip
    methods = available_methods()
    method = w.Dropdown(options=[(v, key) for key, v in methods.items()],
                        value=ws.method if ws.method in methods else "kmeans",
                        description="Method")  # fmt: skip
    undo = w.Button(description="Undo last change", icon="undo")
    save = w.Button(description="Save personas", button_style="success", icon="save",
                    disabled=ws.path is None,
                    tooltip="Writes personas.yml, the printable cards and the summary")  # fmt: skip
    saved = w.HTML()
    message = w.HTML()
    tabs = w.Tab()
    merge_with = w.Dropdown(description="with", layout=w.Layout(width="260px"))
    merge = w.Button(description="Merge", icon="compress")
    split = w.Button(description="Split in two", icon="expand")
    retire = w.Button(description="Retire", icon="archive")
    for b in (undo, save, merge, split, retire):
        b.add_class("sm-" + b.description.split()[0].lower())
    controls = [*boxes.values(), k, method, undo, save, merge, split, retire, merge_with]

    def sync():
        quiet["on"] = True
        try:
            for f, cb in boxes.items():
                cb.value = f in ws.features
            k.value, method.value = ws.n_personas, ws.method
        finally:
            quiet["on"] = False
        saved.value = f"<span class='sm-saved-line'>{escape(ws.saved_line())}</span>"
        undo.disabled = not ws._undo

    def build_tabs():
        cur = ws.table.dropna(subset=["persona"]).sort_values("persona")
        children = []
        for r in cur.itertuples():
            p = int(r.persona)
            fields = []
            for f in WORKSHOP_FIELDS:
                cls = w.Text if f in ("name", "description") else w.Textarea
                box = cls(value=getattr(r, f) or "", description=_TITLES[f],
                          placeholder=_HINTS.get(f, ""), continuous_update=True,
                          layout=w.Layout(width="95%"),
                          style={"description_width": "150px"})  # fmt: skip
                box.add_class(f"sm-field-{f}")
                box.observe(lambda ch, p=p, f=f: on_text(p, f, ch["new"]), names="value")
                fields.append(box)
            children.append(w.VBox(fields))
        tabs.children = children
        for i, label in enumerate(ws.names[int(p)] for p in cur["persona"]):
            tabs.set_title(i, label)
        merge_options()

    def merge_options():
        others = [(label, q) for q, label in ws.names.items() if q != current()]
        merge_with.options = others
        merge_with.value = others[0][1] if others else None

    def current() -> int:
        cur = ws.table.dropna(subset=["persona"]).sort_values("persona")["persona"]
        return int(cur.iloc[min(tabs.selected_index or 0, len(cur) - 1)])

    def on_text(p, f, value):
        ws.set_field(p, f, value)
        if f == "name":
            tabs.set_title(p, ws.names[p])
            merge_options()
        ws.status = ""
        sync()
        ws.refresh()

    step = {"n": 0}

    def run(what: str, fn):
        step["n"] += 1
        t0 = time.perf_counter()
        message.value = f"<span class='sm-busy'>⏳ {escape(what)} ...</span>"
        for c in controls:
            c.disabled = True
        try:
            fn()
            outcome = (f"<span class='sm-done' data-step='{step['n']}'>{escape(what)}: done in "
                       f"{time.perf_counter() - t0:.1f} s.</span>")  # fmt: skip
        except (ValueError, ImportError) as exc:
            outcome = (f"<span class='sm-error' data-step='{step['n']}' style='color:#c53030'>"
                       f"{escape(str(exc))}</span>")  # fmt: skip
        finally:
            for c in controls:
                c.disabled = False
            save.disabled = ws.path is None
            sync()
            build_tabs()
            ws.refresh()
        message.value = outcome  # last, so that "done" means everything is on screen

    def on_features(_change):
        if quiet["on"]:
            return
        chosen = [f for f, cb in boxes.items() if cb.value]
        run(f"Fitting {ws.n_personas} personas on {len(chosen)} features",
            lambda: ws.change(features=chosen))  # fmt: skip

    def on_k(_change):
        if not quiet["on"]:
            run(f"Fitting {k.value} personas", lambda: ws.change(n_personas=k.value))

    def on_method(_change):
        if not quiet["on"]:
            run(f"Fitting with {methods[method.value]}", lambda: ws.change(method=method.value))

    def on_save(_b):
        run("Saving", ws.save)

    def on_undo(_b):
        run("Undoing the last change", ws.undo)

    def on_merge(_b):
        a, b = current(), merge_with.value
        if b is None:
            return
        run(f"Merging {ws.names[b]} into {ws.names[a]}", lambda: ws.merge(a, b))

    def on_split(_b):
        p = current()
        run(f"Splitting {ws.names[p]}", lambda: ws.split(p))

    def on_retire(_b):
        p = current()
        run(f"Retiring {ws.names[p]}", lambda: ws.retire(p))

    for cb in boxes.values():
        cb.observe(on_features, names="value")
    tabs.observe(lambda _ch: merge_options(), names="selected_index")
    k.observe(on_k, names="value")
    method.observe(on_method, names="value")
    save.on_click(on_save)
    undo.on_click(on_undo)
    merge.on_click(on_merge)
    split.on_click(on_split)
    retire.on_click(on_retire)
    sync()
    build_tabs()
    if ws.status:
        message.value = escape(ws.status)
    right = w.VBox([
        w.HTML("<b>2. How many personas</b>"), k, method,
        w.HTML("<b>3. Name them and fill in their cards</b> (tabs below; saved as you type)"),
        w.HBox([undo, save]), saved, message,
    ])  # fmt: skip
    persona_actions = w.HBox([split, retire, merge, merge_with])
    return w.VBox([w.HBox([feature_box, right]), tabs, persona_actions])
