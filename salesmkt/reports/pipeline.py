"""The report pipeline: execute the guided notebooks on a data folder and render them to HTML.

Each notebook runs with papermill, which injects the data location and the period into its
``parameters`` cell; nbconvert renders the executed notebook without code cells; an
``index.html`` links the reports. Before a report is written, its HTML is scanned for personal
data (:mod:`salesmkt.data.pii`); a report that shows any is not published.

Examples
--------
>>> [p.name for p in notebook_paths()][:1]
['01_data_check.ipynb']
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from salesmkt._base.alt_text import KERNEL_STARTUP
from salesmkt._base.atomic import write_text_atomic

__all__ = [
    "ReportError",
    "notebook_paths",
    "run_reports",
    "render_html",
    "report_title",
    "period_words",
]


class ReportError(RuntimeError):
    """A notebook failed, or its report would have shown personal data."""


@dataclass(frozen=True)
class Report:
    """One rendered report."""

    notebook: str
    title: str
    html_path: Path
    seconds: float
    #: The page's ``<title>``: the heading's short form, the data and the period shown.
    page_title: str = ""
    #: The period the report shows, in words (``"June 2026"``), if it shows one.
    period: str | None = None


def notebooks_dir() -> Path:
    """The folder of the guided notebooks (the repository's, or the installed copy)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "notebooks", package / "_notebooks"):
        if candidate.is_dir() and any(candidate.glob("[0-9]*.ipynb")):
            return candidate
    raise FileNotFoundError("The guided notebooks are missing from this installation.")


def notebook_paths(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks in order, optionally only those whose name contains one of ``only``.

    Examples
    --------
    >>> len(notebook_paths(["01"]))
    1
    """
    paths = sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(o in p.name for o in only)]
        if not paths:
            raise ValueError(f"No notebook matches {only}; the notebooks are in {notebooks_dir()}.")
    return paths


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "Report"


#: Index page heading (and the first part of its ``<title>``).
INDEX_HEADING = "Sales & marketing reports"

# English month names whatever the locale (calendar.month_name follows the locale)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def report_title(heading: str, data: str, period: str | None = None) -> str:
    """A report page's ``<title>``: the heading up to its colon, the data and the period.

    The heading's part after a colon is the report's question, which the page shows; a browser
    tab or a bookmark needs only what the report is, on what and for when.

    Examples
    --------
    >>> report_title("Funnel and KPI setup: one funnel, shared KPIs", "sample company", "March 2026")
    'Funnel and KPI setup: sample company, March 2026'
    >>> report_title("Sales–marketing check-in", "crm database")
    'Sales–marketing check-in: crm database'
    """
    short = heading.split(":", 1)[0].strip() or "Report"
    return f"{short}: {', '.join(p for p in (data, period) if p)}"


def period_words(start, end) -> str:
    """A period in words, ``end`` exclusive: a year, months, or days.

    Examples
    --------
    >>> period_words("2026-03-01", "2026-04-01")
    'March 2026'
    >>> period_words("2025-01-01", "2026-07-01")
    'January 2025 to June 2026'
    >>> period_words("2026-01-01", "2026-04-01")
    'January to March 2026'
    >>> period_words("2025-01-01", "2026-01-01")
    '2025'
    >>> period_words("2026-03-02", "2026-03-16")
    '2 to 15 March 2026'
    >>> period_words("2026-03-02", "2026-04-16")
    '2 March to 15 April 2026'
    """
    import pandas as pd

    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        raise ValueError(f"period: end ({end:%Y-%m-%d}) must be after start ({start:%Y-%m-%d})")
    midnight = start == start.normalize() and end == end.normalize()
    if midnight and start.day == 1 and end.day == 1:  # whole months
        last = end - pd.DateOffset(months=1)
        if start.month == 1 and end.month == 1:
            years = sorted({start.year, last.year})
            return str(years[0]) if len(years) == 1 else f"{years[0]} to {years[-1]}"
        first_m, last_m = _MONTHS[start.month - 1], _MONTHS[last.month - 1]
        if (start.year, start.month) == (last.year, last.month):
            return f"{first_m} {start.year}"
        if start.year == last.year:
            return f"{first_m} to {last_m} {start.year}"
        return f"{first_m} {start.year} to {last_m} {last.year}"
    last = end - pd.Timedelta(days=1) if midnight else end
    a = f"{start.day} {_MONTHS[start.month - 1]}"
    b = f"{last.day} {_MONTHS[last.month - 1]} {last.year}"
    if start.normalize() == last.normalize():
        return b
    if start.year != last.year:
        return f"{a} {start.year} to {b}"
    if start.month == last.month:
        return f"{start.day} to {b}"
    return f"{a} to {b}"


def _data_name(data, database: bool) -> str:
    """What a title calls the data: the sample company, a folder or file, or a database."""
    from salesmkt.io import sample_dir

    if database and not isinstance(data, str):  # an Ibis connection made by the caller
        return f"{data.name} connection"
    if database:
        from urllib.parse import urlsplit

        name = Path(urlsplit(str(data)).path).name
        return f"{name} database" if name else "database"
    if Path(data).resolve() == Path(sample_dir()).resolve():
        return "sample company"
    return Path(data).stem if Path(data).is_file() else Path(data).name


class _Periods:
    """The period each notebook shows, from its ``metadata.salesmkt.period``.

    ``"latest"``: the period given, else the latest full period of ``kpis.yml``'s frequency
    (:func:`salesmkt.report_period`, as the notebook computes it); ``"all"``: the period given,
    else all the data; ``"data"``: all the data whatever is given (the notebook does not use
    the period). All the data runs from the month of the first date in its tables (their main
    timestamps, as the data check lists them) to the month of the last. A notebook without the
    entry shows the period only when one is given and it declares ``start`` (or the older
    ``period_start``).
    """

    def __init__(self, dataset, start, end, config_dir):
        self.dataset, self.start, self.end, self.config_dir = dataset, start, end, config_dir
        # read now: a table kept in a file (salesmkt.data.engine) is gone with the run folder
        self.summary = dataset.summary()

    def _span(self):
        """All the data: the months from the first to the last date of its tables' main
        timestamps (the data check's table overview), or None without any."""
        import pandas as pd

        summary = self.summary
        first, last = summary["first"].min(), summary["last"].max()
        if pd.isna(first) or pd.isna(last):
            return None
        month = pd.Timestamp(first.year, first.month, 1)
        return month, pd.Timestamp(last.year, last.month, 1) + pd.DateOffset(months=1)

    def _given_or_span(self):
        import pandas as pd

        span = self._span()
        if span is None and not (self.start and self.end):
            return None
        start = pd.Timestamp(self.start).tz_localize(None) if self.start else span[0]
        end = pd.Timestamp(self.end).tz_localize(None) if self.end else span[1]
        return start, end

    def overall(self) -> str | None:
        """The period given, else all the data: what the set of reports covers."""
        span = self._given_or_span()
        return period_words(*span) if span else None

    def label(self, nb, declared: set[str]) -> str | None:
        kind = nb.metadata.get("salesmkt", {}).get("period")
        if kind == "latest":
            from salesmkt.kpis.config import load_kpi_config
            from salesmkt.kpis.setup import report_period

            freq = load_kpi_config(self.config_dir)["freq"]
            p = report_period(self.dataset, self.start, self.end, freq=freq)
            return period_words(p["start"].tz_localize(None), p["end"].tz_localize(None))
        if kind == "data":
            span = self._span()
            return period_words(*span) if span else None
        takes_period = bool({"start", "period_start"} & declared)
        if kind == "all" or ((self.start or self.end) and takes_period):
            return self.overall()
        return None


# JupyterLab's HTML template without the scripts it fetches from a CDN: require.js (no output
# of ours needs it), the widget manager (widgets are for working in Jupyter; a static report
# cannot run them) and MathJax unless the notebook holds TeX math, so that a report reads
# offline and a browser shows no failed loads. An image output whose metadata carry an alt text
# (``{"image/png": {"alt": ...}}``, see :mod:`salesmkt._base.alt_text`) shows it; the lab
# template reads no alt text of its own.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
{%- if resources.salesmkt_math -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{%- block data_png scoped -%}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock data_png -%}
{%- block data_jpg scoped -%}
{%- set alt = output | get_metadata('alt', 'image/jpeg') -%}
{%- if alt -%}{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock data_jpg -%}
"""

#: The tag of a cell that runs but never shows in a report (the notebooks' nbval checks).
REMOVE_CELL_TAG = "remove-cell"

_MATH = re.compile(r"\$\$|\\\(|\\\[|(?<![\w$])\$[^$\s\d][^$\n]*\$")


def render_html(nb, title: str | None = None) -> str:
    """An executed notebook as standalone HTML without code cells or prompts.

    The page loads nothing from the network unless the notebook holds TeX math (MathJax). Its
    ``<title>`` is ``title``, else the notebook's ``metadata.title``, else its first heading
    (never nbconvert's "Notebook"). Images show the alt text of their output's metadata. Cells
    tagged ``remove-cell`` (``REMOVE_CELL_TAG``: the notebooks' checks, which the test suite
    runs with nbval) are left out of the page entirely, outputs included.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Data check")])
    >>> "<title>Data check: sample company</title>" in render_html(nb, "Data check: sample company")
    True
    >>> check = nbformat.v4.new_markdown_cell("internal check", metadata={"tags": ["remove-cell"]})
    >>> nb.cells.append(check)
    >>> "internal check" in render_html(nb)
    False
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    # nbconvert's own preprocessor, off by default: drops the tagged cells before rendering
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {REMOVE_CELL_TAG}
    exporter = HTMLExporter(
        config=config,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        extra_loaders=[DictLoader({"salesmkt_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="salesmkt_offline.html.j2",
    )
    math = any(c.cell_type == "markdown" and _MATH.search(c.source) for c in nb.cells)
    # the template takes the notebook's metadata.title (else "Notebook"); set on a shallow copy,
    # the caller's notebook is left as it was (nbconvert copies it deeply before rendering)
    title = title or nb.metadata.get("title") or _title(nb)
    titled = nbformat.NotebookNode({**nb, "metadata": {**nb.metadata, "title": title}})
    body, _ = exporter.from_notebook_node(titled, resources={"salesmkt_math": math})
    return body


def _failure(nb_path: Path, exc: Exception) -> ReportError:
    cell = getattr(exc, "exec_count", None) or getattr(exc, "cell_index", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f" in cell {cell}" if cell is not None else ""
    return ReportError(
        f"Notebook {nb_path.name} failed{where}: {ename}: {evalue}\n"
        f"Open it with `make lab` (or jupyter lab {nb_path}) and run it on the same data to see "
        "the full traceback."
    )


_ALT_TEXT_STARTUP = f"--IPKernelApp.exec_lines={KERNEL_STARTUP}"


def _kernel_manager_class():
    """A kernel manager talking to the kernel over local sockets (IPC) rather than TCP.

    Over TCP the kernel warns on every start that traffic is unencrypted; a local socket keeps
    the report run's output to what the user needs. The kernel always draws charts inline, and
    gives each chart its alt text (:mod:`salesmkt._base.alt_text`). The kernel is not
    interrupted on its way
    out: the notebook has finished, and an idle kernel that gets the interrupt logs
    "KeyboardInterrupt caught in kernel" on stderr (jupyter_client interrupts on every
    shutdown).
    """
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

        async def start_kernel(self, **kwargs):
            # Charts must render inline whatever backend the calling shell asks for (a CI job
            # or a server often exports MPLBACKEND=Agg, which would leave reports without them).
            env = {**os.environ, **kwargs.pop("env", {})}
            env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
            # every chart the notebook shows carries its title and takeaway as alt text
            extra = [*(kwargs.pop("extra_arguments", None) or []), _ALT_TEXT_STARTUP]
            return await super().start_kernel(env=env, extra_arguments=extra, **kwargs)

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return LocalKernelManager


#: The notebooks' old period parameters, still filled (with a DeprecationWarning) for a team's
#: own notebook that declares them.
_OLD_PERIOD = {"period_start": "start", "period_end": "end"}


def run_reports(
    data: str | Path,
    out: str | Path = "reports",
    *,
    start: str | None = None,
    end: str | None = None,
    only: list[str] | None = None,
    notebooks: list[str | Path] | None = None,
    config_dir: str | Path | None = None,
    progress: bool = True,
    check_pii: bool = True,
    source: str | Path | None = None,
    tz: str | None = None,
    parameters: dict | None = None,
) -> list[Report]:
    """Execute every guided notebook on ``data`` and write HTML reports and an index to ``out``.

    Parameters
    ----------
    data : str, Path or Ibis connection
        Data location, as accepted by :func:`salesmkt.load`. A database URL
        (``postgres://user@host:5432/crm``) or an Ibis connection
        (``ibis.pyspark.connect(spark)``: the notebooks run in their own kernels, which cannot
        share a Spark session) is read once into a snapshot of canonical Parquet files in a
        temporary folder, so every notebook sees the same data and none gets the URL. Tables
        kept in the database (:func:`salesmkt.load`) are written there by the database itself.
    out : str or Path
        Folder for the HTML reports; created if missing.
    start, end : str, optional
        Reporting period (ISO dates, the half-open interval ``[start, end)``), given to the
        notebooks' ``start`` and ``end`` parameters; notebooks default to the latest full
        month in the data. A notebook that still declares the old ``period_start`` and
        ``period_end`` gets them too, with a DeprecationWarning.
    only : list of str, optional
        Run only notebooks whose file name contains one of these strings (e.g. ``["01"]``).
    notebooks : list of path, optional
        Notebooks to run instead of the guided ones (a team's own, with a ``parameters`` cell).
    config_dir : str or Path, optional
        Where the team's ``kpis.yml`` and ``personas.yml`` live; defaults to the data folder.
        Report runs read them and never write them.
    progress : bool
        Show a progress bar with one step per notebook.
    check_pii : bool
        Refuse to publish a report that shows a personal value found in the data.
    source : str or Path, optional
        Vendor export format of ``data`` (``"hubspot"``, ``"salesforce"``, ``"ga4"`` or a YAML
        column mapping). The export is converted once into canonical Parquet files in a
        temporary folder, and the notebooks run on that.
    tz : str, optional
        Time zone of times exported without an offset (see :func:`salesmkt.load`).
    parameters : dict, optional
        Values for the notebooks' other parameters (e.g. ``{"n_personas": 4}``), given to every
        notebook; see each notebook's ``parameters`` cell. The data location, period and
        ``config_dir`` are set by the arguments above, not here.

    Returns
    -------
    list of Report

    Raises
    ------
    ReportError
        Naming the notebook and cell that failed, or the report that would show personal data.

    Examples
    --------
    >>> import tempfile, salesmkt
    >>> out = tempfile.mkdtemp()
    >>> reports = run_reports(salesmkt.sample_dir(), out, only=["01"], progress=False)
    >>> (Path(out) / "index.html").exists(), reports[0].html_path.name
    (True, '01_data_check.html')
    """
    import nbformat
    import papermill as pm
    from tqdm.auto import tqdm

    from salesmkt.data.database import describe, is_database
    from salesmkt.data.pii import find_pii, pii_values
    from salesmkt.io import load
    from salesmkt.sources.convert import convert_export

    database = is_database(data)  # a connection URL: read once into a snapshot (below)
    data, out = (data if database else Path(data).resolve()), Path(out).resolve()
    paths = [Path(p) for p in notebooks] if notebooks else notebook_paths(only)
    reserved = {"data_dir", "start", "end", "config_dir", *_OLD_PERIOD} & set(parameters or {})
    if reserved:
        raise ValueError(
            f"parameters {sorted(reserved)} are set by run_reports' own arguments (data, start, "
            "end, config_dir); pass them there."
        )
    reports: list[Report] = []
    with tempfile.TemporaryDirectory(prefix="salesmkt-run-") as work:
        data_dir = data
        # notebooks read canonical files: convert an export, or snapshot a database, once
        # (every report then shows the same data, and no password reaches a notebook)
        if source or tz or database:
            data_dir = convert_export(data, Path(work) / "data", source=source, tz=tz)
        # fail early, with the validation message, before any notebook runs
        dataset = load(data_dir)
        secrets = pii_values(dataset.tables.values()) if check_pii else set()
        data_name = _data_name(data, database)
        conf = _config_dir(config_dir, data, database)
        periods = _Periods(dataset, start, end, conf)
        fixed = {"data_dir", "start", "end", "config_dir"}
        params = {
            **(parameters or {}),
            "data_dir": str(data_dir),
            "start": start,
            "end": end,
            # a team's own notebook that still declares the old names gets them too
            **{old: {"start": start, "end": end}[new] for old, new in _OLD_PERIOD.items()},
            "config_dir": str(conf),
        }
        # each notebook gets the parameters it declares; one that no notebook declares is a typo
        every = paths if notebooks else notebook_paths()
        declared = {p: set(pm.inspect_notebook(str(p))) for p in {*paths, *every}}
        for p in paths:
            for old_name in sorted(_OLD_PERIOD.keys() & declared[p]):
                warnings.warn(
                    f"notebook {p.name}: the parameter {old_name!r} is deprecated; rename it "
                    f"{_OLD_PERIOD[old_name]!r} in its parameters cell",
                    DeprecationWarning,
                    stacklevel=2,
                )
        unknown = set(parameters or {}) - set().union(*(declared[p] for p in every))
        if unknown:
            raise ValueError(
                f"no notebook has the parameter(s) {', '.join(sorted(unknown))}; see the "
                "notebooks' parameters cells."
            )
        bar = tqdm(paths, desc="reports", unit="notebook", disable=not progress)
        for nb_path in bar:
            bar.set_postfix_str(nb_path.stem)
            executed = Path(work) / nb_path.name
            t0 = dt.datetime.now()
            try:
                pm.execute_notebook(
                    str(nb_path),
                    str(executed),
                    parameters={
                        k: v for k, v in params.items() if k in declared[nb_path] or k in fixed
                    },
                    kernel_name="python3",
                    progress_bar=False,
                    cwd=work,
                    log_output=False,
                    kernel_manager_class=_kernel_manager_class(),
                )
            except Exception as exc:  # papermill wraps the kernel's error
                raise _failure(nb_path, exc) from None
            nb = nbformat.read(executed, as_version=4)
            title = _title(nb)
            period = periods.label(nb, declared[nb_path])
            page_title = report_title(title, data_name, period)
            page = render_html(nb, page_title)
            if check_pii:
                hits = find_pii(page, secrets)
                if not hits.empty:
                    raise ReportError(
                        f"Report {nb_path.stem} would show personal data ({len(hits)} hits, "
                        f"e.g. {', '.join(hits['masked'].head(3))} as {hits['kind'].iloc[0]}). "
                        "Show aggregates instead of rows that carry names, emails or phones."
                    )
            html_path = out / f"{nb_path.stem}.html"
            write_text_atomic(html_path, page)
            seconds = (dt.datetime.now() - t0).total_seconds()
            reports.append(Report(nb_path.name, title, html_path, seconds, page_title, period))
            if progress:
                bar.write(f"{nb_path.stem}: {seconds:.1f} s -> {html_path}")
    shown = describe(data) if database else data_name
    index_title = report_title(INDEX_HEADING, data_name, periods.overall())
    write_text_atomic(out / "index.html", _index(reports, shown, start, end, index_title))
    return reports


def _config_dir(config_dir, data, database: bool) -> Path:
    """Where kpis.yml and personas.yml are read: given, else beside the data (the current folder
    for a database)."""
    if config_dir:
        return Path(config_dir).resolve()
    if database:
        return Path.cwd()
    return data if data.is_dir() else data.parent


def _index(reports: list[Report], data: str, start, end, title: str = INDEX_HEADING) -> str:
    if start is None and end is None:
        period = "each report's default (beside it)"
    else:
        period = f"{start or 'start of data'} to {end or 'end of data'} (end excluded)"
    items = "\n".join(
        f'<li><a href="{html.escape(r.html_path.name)}">{html.escape(r.title)}</a>'
        f' <span class="meta">{html.escape(" · ".join(filter(None, (r.period, r.notebook))))}'
        "</span></li>"
        for r in reports
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = json.dumps({"data": data, "period": period})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 3rem auto; padding: 0 1rem;
       color: #1f2933; }}
h1 {{ font-weight: 600; }} li {{ margin: .6rem 0; font-size: 1.15rem; }}
a {{ color: #1d4ed8; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
.meta {{ color: #6b7280; font-size: .85rem; margin-left: .5rem; }}
footer {{ color: #6b7280; font-size: .85rem; margin-top: 2rem; }}
</style></head>
<body data-run='{html.escape(meta)}'>
<h1>{html.escape(INDEX_HEADING)}</h1>
<p>Data: <b>{html.escape(data)}</b> &middot; period: {html.escape(period)}</p>
<ol>
{items}
</ol>
<footer>Generated {stamp} by salesmkt. Reports show aggregates only, no customer-level personal
data.</footer>
</body></html>
"""
