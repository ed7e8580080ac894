"""The reports on two real public data sets, through column mappings: ``make real``.

* **Marketing Funnel by Olist** (Olist, via Kaggle; CC BY-NC-SA 4.0): 8,000 marketing
  qualified leads and their 842 closed deals. Reports 01 (data check), 02 (segments of the
  closed deals against the sellers' behaviour profile) and 03 (funnel by origin, time from
  first contact to close). Mapping ``olist.yml``, parameters ``olist-report.yml``, amounts in
  reais (``olist/kpis.yml``: ``currency: BRL``). The lead score from MQL to closed deal
  (``lead_score.ipynb``), on what is known at the MQL, validated on time.
* **Bank Marketing** (UCI Machine Learning Repository, S. Moro, P. Cortez, P. Rita; CC BY 4.0;
  cite Moro, Laureano & Cortez, ESM'2011): 4,521 clients called in a term-deposit campaign.
  Reports 01, 02 (client personas and their subscription rates) and 04 (subscription by
  contact channel, number of calls and previous outcome). Mapping ``bank.yml``, parameters
  ``bank-report.yml``, amounts (the clients' balance) in euros (``bank/kpis.yml``). The lead
  score (``lead_score.ipynb``): subscription as conversion, without the call's duration, which
  is known only after the call.

The lead score report is this package's notebook ``lead_score.ipynb`` (the work is in
:mod:`salesmkt.reports.real.score`); what it scores is in each data set's ``<name>-score.yml``.

The data are not part of this package: they are read where they are (``../shared/data/real``
from the repository by default), and every report shows their source and licence. Each data
set's ``SOURCES.md`` there holds the provenance.

Examples
--------
>>> sorted(REAL_DATASETS)
['bank', 'olist']
>>> REAL_DATASETS["olist"].only
('01', '02', '03')
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from salesmkt._base.atomic import write_text_atomic

__all__ = ["REAL_DATASETS", "RealData", "run_real_reports", "main"]

HERE = Path(__file__).resolve().parent
#: where the repository keeps the real data sets (relative to the repository's root)
DEFAULT_DIR = Path("../shared/data/real")


@dataclass(frozen=True)
class RealData:
    """One real data set: where it is under the real-data folder and how to report on it."""

    name: str
    title: str
    data: str  # file or folder, relative to the real-data folder
    mapping: str  # in this package
    params: str  # notebook parameters, in this package
    only: tuple[str, ...]  # the notebooks that make sense for it
    #: this package's notebooks, run after the guided ones, and their parameters (in this package)
    extra: tuple[str, ...] = ("lead_score.ipynb",)
    extra_params: str | None = None

    @property
    def config_dir(self) -> Path:
        """The folder of its ``kpis.yml`` in this package (the currency of its amounts)."""
        return HERE / self.name

    @property
    def sources(self) -> str:
        """The data set's SOURCES.md, relative to the real-data folder."""
        return f"{self.data.split('/')[0]}/SOURCES.md"


REAL_DATASETS: dict[str, RealData] = {
    d.name: d
    for d in (
        RealData(
            "olist",
            "Olist marketing funnel: MQLs, closed deals and the sellers' profiles",
            "olist-marketing-funnel",
            "olist.yml",
            "olist-report.yml",
            ("01", "02", "03"),
            extra_params="olist-score.yml",
        ),
        RealData(
            "bank",
            "UCI bank marketing: client personas and what the calls achieved",
            "uci-bank-marketing/bank.csv",
            "bank.yml",
            "bank-report.yml",
            ("01", "02", "04"),
            extra_params="bank-score.yml",
        ),
    )
}


def run_real_reports(
    real_dir: str | Path = DEFAULT_DIR,
    out: str | Path = "reports",
    *,
    datasets: list[str] | None = None,
    progress: bool = True,
) -> dict[str, list]:
    """Run the reports on each real data set into ``out/<name>`` and write ``out/real.html``.

    Parameters
    ----------
    real_dir : str or Path
        The folder holding ``olist-marketing-funnel/`` and ``uci-bank-marketing/``.
    out : str or Path
        Reports go to ``out/olist`` and ``out/bank``; ``out/real.html`` links them with each
        data set's source and licence.
    datasets : list of str, optional
        Names from :data:`REAL_DATASETS` (default: all).

    Returns
    -------
    dict
        Name -> the :class:`salesmkt.reports.pipeline.Report` list of its run.
    """
    from salesmkt.reports.pipeline import notebook_paths, run_reports
    from salesmkt.sources.mapping import mapping_about

    real_dir, out = Path(real_dir), Path(out)
    chosen = [REAL_DATASETS[n] for n in (datasets or REAL_DATASETS)]
    missing = [d for d in chosen if not (real_dir / d.data).exists()]
    if missing:
        raise FileNotFoundError(
            f"{real_dir}: no {', '.join(d.data for d in missing)}. Point --data (make real "
            "REAL_DATA=...) at the folder that holds the real data sets."
        )
    done: dict[str, list] = {}
    for d in chosen:
        params = yaml.safe_load((HERE / d.params).read_text(encoding="utf-8")) or {}
        if d.extra_params:
            params |= yaml.safe_load((HERE / d.extra_params).read_text(encoding="utf-8")) or {}
        paths = [*notebook_paths(list(d.only)), *(HERE / n for n in d.extra)]
        done[d.name] = run_reports(
            real_dir / d.data,
            out / d.name,
            source=HERE / d.mapping,
            # each parameter to the notebooks run that declare it (the report parameters also
            # serve the guided notebooks left out here, which salesmkt report can run)
            parameters=_declared(params, paths, [*notebook_paths(), *paths]),
            notebooks=paths,
            config_dir=d.config_dir,
            progress=progress,
        )
    items = []
    for d in chosen:
        links = "".join(
            f'<li><a href="{d.name}/{html.escape(r.html_path.name)}">{html.escape(r.title)}</a>'
            "</li>"
            for r in done[d.name]
        )
        about = html.escape(mapping_about(HERE / d.mapping))
        items.append(
            f"<section><h2>{html.escape(d.title)}</h2>"
            f'<p class="about">{about}</p><ol>{links}</ol></section>'
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>salesmkt reports on real data</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 3rem auto; padding: 0 1rem;
       color: #1f2933; }}
h1, h2 {{ font-weight: 600; }} li {{ margin: .5rem 0; }}
a {{ color: #1d4ed8; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
.about {{ color: #4b5563; font-size: .9rem; }}
footer {{ color: #6b7280; font-size: .85rem; margin-top: 2rem; }}
</style></head>
<body>
<h1>Sales &amp; marketing reports on real public data</h1>
{"".join(items)}
<footer>Generated {stamp} by salesmkt (make real). The data are not part of salesmkt; each
data set's SOURCES.md beside it holds its provenance and licence.</footer>
</body></html>
"""
    write_text_atomic(out / "real.html", page)
    return done


def _declared(params: dict, run: list[Path], every: list[Path]) -> dict:
    """The ``params`` that the notebooks ``run`` declare; one that no notebook of ``every``
    declares is a typo, and an error."""
    import papermill as pm

    declared = {p: set(pm.inspect_notebook(str(p))) for p in {*run, *every}}
    unknown = sorted(set(params) - set().union(*declared.values()))
    if unknown:
        raise ValueError(
            f"no notebook has the parameter(s) {', '.join(unknown)}; see the notebooks' "
            "parameters cells."
        )
    used = set().union(*(declared[p] for p in run))
    return {k: v for k, v in params.items() if k in used}


def main(argv: list[str] | None = None) -> int:
    """``python -m salesmkt.reports.real [--data DIR] [--out DIR] [--only olist bank]``."""
    parser = argparse.ArgumentParser(
        prog="python -m salesmkt.reports.real",
        description="Reports on the Olist marketing funnel and the UCI bank marketing data.",
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("SALESMKT_REAL_DATA", str(DEFAULT_DIR)),
        help="the real-data folder (default: $SALESMKT_REAL_DATA, else ../shared/data/real)",
    )
    parser.add_argument("--out", default="reports", help="output folder (default: reports)")
    parser.add_argument("--only", nargs="*", choices=sorted(REAL_DATASETS), default=None)
    args = parser.parse_args(argv)
    from salesmkt.data.validate import ValidationError
    from salesmkt.reports.pipeline import ReportError

    try:
        run_real_reports(args.data, args.out, datasets=args.only)
    except (ReportError, ValidationError, FileNotFoundError, ValueError) as exc:
        print(f"salesmkt.reports.real: {exc}", file=sys.stderr)
        return 1
    print(f"Reports written; open {Path(args.out) / 'real.html'}")
    return 0
