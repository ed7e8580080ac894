"""Old module paths of salesmkt 0.1 (flat modules) kept working for one release (private).

``import salesmkt.lifecycle`` warns (``DeprecationWarning`` naming the new home) and gives a
stand-in module that offers the names of :mod:`salesmkt.funnels.lifecycle`, and the public
names of ``salesmkt`` that the old module used to re-export (``from salesmkt.lifecycle import
stalled_leads`` still works). Top-level names (``salesmkt.lifecycle_funnel``) are unchanged and
never warn.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

#: old module -> its home since the reorganisation into domain packages
MOVED = {
    "salesmkt.schema": "salesmkt.data.schema",
    "salesmkt.channels": "salesmkt.data.channels",
    "salesmkt.validate": "salesmkt.data.validate",
    "salesmkt.pii": "salesmkt.data.pii",
    "salesmkt.datacheck": "salesmkt.data.check",
    "salesmkt.lifecycle": "salesmkt.funnels.lifecycle",
    "salesmkt.targets": "salesmkt.kpis.targets",
    "salesmkt.journeys": "salesmkt.campaigns.journeys",
    "salesmkt.attribution": "salesmkt.campaigns.attribution",
    "salesmkt.lift": "salesmkt.campaigns.lift",
    "salesmkt.holdout": "salesmkt.campaigns.holdout",
    "salesmkt.rfm_segments": "salesmkt.personas.rfm_segments",
    "salesmkt.report": "salesmkt.reports.pipeline",
    "salesmkt.real": "salesmkt.reports.real",
    "salesmkt.plotting.funnel": "salesmkt.funnels.plots",
    "salesmkt.plotting.lifecycle": "salesmkt.funnels.plots",
    "salesmkt.plotting.kpis": "salesmkt.kpis.plots",
    "salesmkt.plotting.campaigns": "salesmkt.campaigns.plots",
    "salesmkt.plotting.personas": "salesmkt.personas.plots",
    "salesmkt.plotting.rfm": "salesmkt.personas.plots",
    "salesmkt.plotting.datacheck": "salesmkt.data.plots",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED or fullname == "salesmkt.plotting":
            return importlib.util.spec_from_loader(
                fullname, self, is_package=fullname == "salesmkt.plotting"
            )
        return None

    def create_module(self, spec):
        if spec.name == "salesmkt.plotting":
            module = types.ModuleType(spec.name, "Old home of the charts; now beside each domain.")
            module.__path__ = []
            module.__getattr__ = lambda name: getattr(importlib.import_module("salesmkt"), name)
            return module
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} is now {new}; the old path works until the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        home = importlib.import_module(new)
        module = types.ModuleType(spec.name, home.__doc__)
        if hasattr(home, "__path__"):
            module.__path__ = home.__path__

        def __getattr__(name: str):
            if hasattr(home, name):
                return getattr(home, name)
            top = importlib.import_module("salesmkt")
            if not name.startswith("_") and name in top.__all__:
                return getattr(top, name)
            raise AttributeError(f"module {spec.name!r} (now {new}) has no attribute {name!r}")

        module.__getattr__ = __getattr__
        module.__dir__ = lambda: dir(home)
        return module

    def exec_module(self, module):
        pass


def install() -> None:
    """Add the finder of old module paths once per process."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules())
