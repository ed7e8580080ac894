"""Known third-party warnings silenced around engine calls (private)."""

from __future__ import annotations

import contextlib
import warnings


@contextlib.contextmanager
def quiet():
    """Silence two known deprecation notices raised inside Ibis 12 (not by our code): pandas 3's
    ``future.infer_string`` option and DuckDB's ``fetch_arrow_table``, so reports stay clean."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*future.infer_string.*")
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*")
        yield
