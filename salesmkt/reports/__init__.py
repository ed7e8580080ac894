"""Reports: the guided notebooks executed and rendered to HTML (:mod:`~salesmkt.reports.pipeline`)
and the reports on real public data sets (:mod:`salesmkt.reports.real`).
"""

from salesmkt._base.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "ReportError": "pipeline",
        "report_title": "pipeline",
        "run_reports": "pipeline",
        "run_real_reports": "real",
    },
)
