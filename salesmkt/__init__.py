"""salesmkt: one shared, data-driven picture for sales and marketing.

The library is organised by domain, one package per concept, each importing only from the
layers below it:

========================  ==========================================================
package                   holds
========================  ==========================================================
:mod:`salesmkt.reports`   the report pipeline and the reports on public data sets
:mod:`salesmkt.forecast`  win probability, time to close, revenue forecast, backtest
:mod:`salesmkt.scoring`   the lead score and its reasons, quality, drift, MQL threshold
:mod:`salesmkt.personas`  buyer personas, the persona file and workshop, RFM
:mod:`salesmkt.campaigns` spend and returns, journeys, attribution, lift, holdout
:mod:`salesmkt.kpis`      the KPI catalog, targets, scorecard and SLA
:mod:`salesmkt.funnels`   event funnels and the lifecycle funnel of CRM leads
:mod:`salesmkt.io`        ``load``, ``load_sample``
:mod:`salesmkt.sources`   HubSpot, Salesforce, GA4 and mapped exports
:mod:`salesmkt.data`      the data contract, periods and the business definitions
========================  ==========================================================

Every public name of every package is also available here, imported on first use, so ``import
salesmkt`` stays light and ``salesmkt.funnel is salesmkt.funnels.funnel``.

Examples
--------
>>> import salesmkt
>>> ds = salesmkt.load_sample()
>>> sorted(ds.tables)[:3]
['assignments', 'campaigns', 'deals']
>>> salesmkt.lifecycle_funnel is salesmkt.funnels.lifecycle_funnel
True
"""

from __future__ import annotations

import functools
import importlib

from salesmkt import _compat

__version__ = "0.1.0"

#: the packages (and the ``io`` module) whose public names ``salesmkt`` re-exports
PACKAGES = (
    "io",
    "data",
    "sources",
    "funnels",
    "kpis",
    "campaigns",
    "personas",
    "scoring",
    "forecast",
    "reports",
)
_SUBPACKAGES = (*PACKAGES, "sample", "cli")

_compat.install()


@functools.cache
def _exports() -> dict[str, str]:
    """Public name -> the package that declares it (the first, in the order of PACKAGES)."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        module = importlib.import_module(f"salesmkt.{package}")
        for name in module.__all__:
            found.setdefault(name, module.__name__)
    return found


def __getattr__(name: str):
    if name == "__all__":
        return sorted(_exports())
    if name in _SUBPACKAGES:
        return importlib.import_module(f"salesmkt.{name}")
    if not name.startswith("_") and name in _exports():
        value = getattr(importlib.import_module(_exports()[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'salesmkt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_exports(), *_SUBPACKAGES})
