"""The bundled sample company: a seeded, synthetic B2B SaaS business over 18 months.

:func:`generate` draws every canonical table of :data:`salesmkt.data.schema.TABLES` for a made-up
company (2025-01-01 to 2026-06-30 UTC) together with the ground truth planted in it: five
buyer personas, channel economics, a randomised holdout campaign, two months where the
first-response SLA was breached, seasonality and a few deliberate data-quality problems.
:func:`write` stores the tables as deterministic CSV files; ``python -m salesmkt.sample --out
data/sample`` rebuilds the committed copy byte for byte. ``data/sample/README.md`` is the data
dictionary. All names, emails and phone numbers are fake.

Examples
--------
>>> from salesmkt.sample import generate
>>> company = generate()
>>> sorted(company.tables) == sorted(["leads", "deals", "sessions", "touchpoints", "events",
...     "campaigns", "spend", "orders", "quotas", "assignments"])
True
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesmkt.sample.leads import make_leads, plant_defects
from salesmkt.sample.revenue import make_revenue, quotas
from salesmkt.sample.tables import DECIMALS, build, kind_of
from salesmkt.sample.truth import build_truth
from salesmkt.sample.web import make_events, make_sessions, make_spend, make_touchpoints

__all__ = ["SampleCompany", "generate", "write", "main"]


@dataclass(frozen=True)
class SampleCompany:
    """A generated company: its canonical tables and the ground truth behind them.

    Attributes
    ----------
    tables : dict of str to DataFrame
        One frame per canonical table name (``leads``, ``deals``, ``sessions``,
        ``touchpoints``, ``events``, ``campaigns``, ``spend``, ``orders``, ``quotas``,
        ``assignments``), typed by the schema kinds.
    truth : dict of str to DataFrame
        What was planted and is not in the tables: ``personas`` (lead_id, persona),
        ``persona_profiles``, ``channel_economics``, ``lift`` (one row: the holdout's planted
        control and treatment rates, effect and outcome definition, with observed rates),
        ``sla_breach_months``, ``seasonality``, ``other_costs`` (sales and marketing costs
        beyond the spend rows per month, for the KPI setting of that name) and
        ``data_quality`` (deliberate problems with counts and ids).
    seed : int
        The seed used.
    scale : float
        The volume multiplier used.

    Examples
    --------
    >>> company = generate()
    >>> company.truth["lift"][["control_rate", "treatment_rate"]].iloc[0].tolist()
    [0.05, 0.09]
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    seed: int = 7
    scale: float = 1.0


def generate(*, seed: int = 7, scale: float = 1.0) -> SampleCompany:
    """Generate the sample company.

    Parameters
    ----------
    seed : int, default 7
        Seed of the single ``numpy.random.default_rng`` stream; the same seed and scale give
        identical tables.
    scale : float, default 1.0
        Multiplies volumes (leads and with them deals, customers and orders; sessions,
        touchpoints, events). Campaigns, owners and the calendar stay fixed; ids widen when
        a count needs more digits.

    Returns
    -------
    SampleCompany
        Tables typed by the schema kinds (ids ``string``, timestamps and dates
        ``datetime64[ns, UTC]``, counts ``Int64``, flags ``boolean``, numbers ``float64``)
        and the ground truth.

    Examples
    --------
    >>> company = generate()
    >>> company.tables["leads"].shape[0] > 3000
    True
    >>> company.tables["leads"]["created_at"].dtype
    datetime64[ns, UTC]
    >>> company.truth["personas"]["persona"].nunique()
    5
    >>> generate(scale=0.5).tables["leads"].shape[0]
    2300
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    rng = np.random.default_rng(seed)
    lead = make_leads(rng, scale)
    defects = plant_defects(rng, lead, scale)
    rev = make_revenue(rng, lead, scale)
    sessions = make_sessions(rng, lead, scale)
    touch = make_touchpoints(rng, lead)
    events, noise = make_events(rng, lead)
    spend = make_spend(rng, lead)
    months = np.arange("2025-01", "2026-07", dtype="datetime64[M]").astype("datetime64[s]")
    quota = quotas(rev["deals"], months.astype(np.int64).astype(float))
    tables = build(lead, rev, sessions, touch, events, spend, quota, scale)
    truth = build_truth(tables, lead, defects, noise)
    return SampleCompany(tables=tables, truth=truth, seed=seed, scale=scale)


def _format(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: ISO 8601 UTC ``Z`` timestamps, ``YYYY-MM-DD`` dates, fixed
    decimals for numbers, empty for missing."""
    out = {}
    for col in df.columns:
        s, kind = df[col], kind_of(table, col)
        if kind == "timestamp":
            txt = s.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif kind == "date":
            txt = s.dt.strftime("%Y-%m-%d")
        elif kind == "number":
            fmt = f"%.{DECIMALS.get(col, 4)}f"
            vals = s.to_numpy(float)
            txt = pd.Series(np.where(np.isnan(vals), "", np.char.mod(fmt, vals)), index=s.index)
        else:
            txt = s.astype("string")
        out[col] = txt.astype(object).where(s.notna(), "")
    return pd.DataFrame(out)


def write(company: SampleCompany, out_dir: str | Path) -> list[Path]:
    """Write one ``<table>.csv`` per table into ``out_dir`` (created if needed).

    The files are byte-for-byte deterministic: fixed column order, ``\\n`` line endings,
    timestamps as ``2025-03-04T09:15:00Z`` (UTC, seconds), dates as ``YYYY-MM-DD``, money
    with 2 decimals, rates with 4, durations in whole seconds, missing values empty, no
    index. Ground truth is not written (it lives in ``company.truth`` and the README).

    Parameters
    ----------
    company : SampleCompany
        The output of :func:`generate`.
    out_dir : str or Path
        Target folder.

    Returns
    -------
    list of Path
        The files written, in table order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write(generate(scale=0.2), tmp)
    ...     print(paths[0].name, paths[0].read_text().splitlines()[0][:26])
    leads.csv lead_id,created_at,channel
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in company.tables.items():
        path = out / f"{name}.csv"
        _format(name, df).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m salesmkt.sample --out data/sample [--seed 7] [--scale 1]``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status 0.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     main(["--out", tmp, "--scale", "0.2"])
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m salesmkt.sample", description="Rebuild the bundled sample company."
    )
    parser.add_argument("--out", required=True, help="output folder, e.g. data/sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    write(generate(seed=args.seed, scale=args.scale), args.out)
    return 0
