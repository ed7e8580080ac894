"""Public names of a package, declared once and imported on first use (private).

A package lists its public names beside the module that defines each; this keeps ``import
salesmkt.funnels`` light (no plotting or engine machinery until a name is asked for) while
``salesmkt.funnels.funnel`` and ``salesmkt.funnels.events.funnel`` stay the same object.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    ``exports`` maps each public name to the submodule (relative to ``package``) defining it.

    Examples
    --------
    >>> getattr_, dir_, all_ = lazy_exports("salesmkt.funnels", {"funnel": "events"})
    >>> all_, getattr_("funnel").__module__
    (['funnel'], 'salesmkt.funnels.events')
    """
    names = dict(exports)

    def __getattr__(name: str) -> object:
        if name in names:
            module = importlib.import_module(f"{package}.{names[name]}")
            return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, sorted(names)
