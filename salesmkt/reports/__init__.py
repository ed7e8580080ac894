"""Reports: the guided notebooks executed and rendered to HTML (:mod:`~salesmkt.reports.pipeline`)
the reports on real public data sets (:mod:`salesmkt.reports.real`) and the one formatting of
their tables (:mod:`~salesmkt.reports.tables`).
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "ReportError": "pipeline",
        "format_table": "tables",
        "report_title": "pipeline",
        "run_reports": "pipeline",
        "run_real_reports": "real",
    },
)
