"""``kpis.yml``: reading it with clear errors, the shipped template, and atomic writes.

Private to :mod:`salesmkt.kpis.targets`, which re-exports the public functions.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from salesmkt._base.atomic import write_text_atomic
from salesmkt._base.formats import DEFAULT_CURRENCY
from salesmkt.data import periods as _periods
from salesmkt.kpis.base import DEFAULT_SETTINGS
from salesmkt.kpis.compute import KPI_CATALOG

FILE_NAME = "kpis.yml"
_SLA_KEYS = {
    "mql_per_period": "MQLs marketing delivers per period",
    "response_hours": "hours within which sales responds to an MQL",
    "response_compliance": "share of MQLs answered within the hours",
    "acceptance_rate": "share of MQLs sales accepts",
    "sales_capacity": "MQLs sales can work per period (the lead score's MQL threshold fills it)",
}


class KPIConfigError(ValueError):
    """A problem in ``kpis.yml``, naming the key and what is wrong."""


def _fail(source: str, key: str, problem: str):
    raise KPIConfigError(f"{source}: {key}: {problem}")


def _number(value, source: str, key: str, *, low=None, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(source, key, f"must be a number, got {value!r}")
    value = float(value)
    if (
        not np.isfinite(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        _fail(source, key, f"must be {bounds}, got {value!r}")
    return value


def _normalise(raw, source: str) -> dict:
    """Check a parsed config and return it complete (defaults filled), or raise."""
    if not isinstance(raw, dict):
        _fail(source, "(top level)", "must be a mapping of keys such as kpis, targets, sla")
    known = {
        "version",
        "freq",
        "currency",
        "at_risk_tolerance",
        "kpis",
        "targets",
        "settings",
        "sla",
    }
    for key in raw:
        if key not in known:
            _fail(source, str(key), f"unknown key; the keys are {', '.join(sorted(known))}")
    out: dict = {"version": 1}
    freq = raw.get("freq", "M")
    try:
        out["freq"] = _periods.check_freq(freq, allowed=_periods.SUPPORTED["kpis.yml"])
    except ValueError:
        _fail(source, "freq", f"must be M, Q or W (or month, quarter, week), got {freq!r}")
    currency = raw.get("currency", DEFAULT_CURRENCY)
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        _fail(source, "currency", f"must be a three-letter ISO code such as EUR, got {currency!r}")
    out["currency"] = currency.upper()
    out["at_risk_tolerance"] = _number(
        raw.get("at_risk_tolerance", 0.1), source, "at_risk_tolerance", low=0, high=1
    )
    kpis = raw.get("kpis") or []
    if not isinstance(kpis, list):
        _fail(source, "kpis", "must be a list of KPI ids")
    for k in kpis:
        if k not in KPI_CATALOG:
            _fail(source, f"kpis: {k}", "unknown KPI id (see salesmkt.kpi_catalog())")
    targets = raw.get("targets") or {}
    if not isinstance(targets, dict):
        _fail(source, "targets", "must be a mapping of KPI id to target")
    out["targets"] = {}
    for k, spec in targets.items():
        key = f"targets.{k}"
        if k not in KPI_CATALOG:
            _fail(source, key, "unknown KPI id (see salesmkt.kpi_catalog())")
        if not isinstance(spec, dict):
            spec = {"target": spec}
        extra = set(spec) - {"target", "tolerance", "periods"}
        if extra:
            _fail(
                source,
                key,
                f"unknown field(s) {', '.join(sorted(extra))}; use target, tolerance, periods",
            )
        entry = {
            "target": None
            if spec.get("target") is None
            else _number(spec.get("target"), source, f"{key}.target")
        }
        if spec.get("tolerance") is not None:
            entry["tolerance"] = _number(
                spec["tolerance"], source, f"{key}.tolerance", low=0, high=1
            )
        periods = spec.get("periods") or {}
        if not isinstance(periods, dict):
            _fail(source, f"{key}.periods", "must map period labels (e.g. '2025-02') to targets")
        if periods:
            entry["periods"] = {
                str(p): _number(v, source, f"{key}.periods.{p}") for p, v in periods.items()
            }
        out["targets"][k] = entry
    out["kpis"] = list(dict.fromkeys([*kpis, *out["targets"]]))
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        _fail(source, "settings", "must be a mapping")
    for key in settings:
        if key not in DEFAULT_SETTINGS:
            _fail(
                source,
                f"settings.{key}",
                f"unknown setting; the settings are {', '.join(sorted(DEFAULT_SETTINGS))}",
            )
    if settings.get("gross_margin") is not None:
        _number(settings["gross_margin"], source, "settings.gross_margin", low=0, high=1)
    groups = settings.get("channel_groups")
    if groups is not None and (
        not isinstance(groups, dict) or any(not isinstance(v, list) for v in groups.values())
    ):
        _fail(source, "settings.channel_groups", "must map paid/organic to lists of channels")
    amounts = settings.get("amount_columns")
    if amounts is not None and (
        not isinstance(amounts, list) or not all(isinstance(c, str) and c for c in amounts)
    ):
        _fail(source, "settings.amount_columns", f"must be a list of lead columns, got {amounts!r}")
    percents = settings.get("percent_columns")
    if percents is not None and (
        not isinstance(percents, list) or not all(isinstance(c, str) and c for c in percents)
    ):
        _fail(
            source, "settings.percent_columns", f"must be a list of lead columns, got {percents!r}"
        )
    # the settings the reports read are always there (None: not set, said so where used)
    out["settings"] = {"gross_margin": None, "other_costs": None, **settings}
    sla = raw.get("sla") or {}
    if not isinstance(sla, dict):
        _fail(source, "sla", "must be a mapping")
    for key in sla:
        if key not in _SLA_KEYS:
            _fail(source, f"sla.{key}", f"unknown SLA term; the terms are {', '.join(_SLA_KEYS)}")
    defaults = {
        "mql_per_period": None,
        "response_hours": 4.0,
        "response_compliance": 0.9,
        "acceptance_rate": None,
        "sales_capacity": None,
    }
    out["sla"] = {}
    for key, default in defaults.items():
        v = sla.get(key, default)
        share = key in ("response_compliance", "acceptance_rate")
        out["sla"][key] = (
            None
            if v is None
            else _number(v, source, f"sla.{key}", low=0, high=1 if share else None)
        )
    if out["sla"]["sales_capacity"] is not None and out["sla"]["sales_capacity"] <= 0:
        _fail(source, "sla.sales_capacity", "must be a number of MQLs per period above 0")
    if out["sla"]["response_hours"] is None or out["sla"]["response_hours"] <= 0:
        _fail(source, "sla.response_hours", "must be a number of hours above 0")
    return out


def kpi_config_template() -> dict:
    """The shipped template of ``kpis.yml`` (commented file: ``salesmkt/kpis/template.yml``).

    Examples
    --------
    >>> kpi_config_template()["freq"]
    'M'
    """
    text = resources.files("salesmkt.kpis").joinpath("template.yml").read_text(encoding="utf-8")
    return _normalise(yaml.safe_load(text), "salesmkt/kpis/template.yml")


def _path(path) -> Path:
    p = Path(path)
    return p / FILE_NAME if p.is_dir() or p.suffix == "" else p


def load_kpi_config(path: str | os.PathLike | None = None) -> dict:
    """Read and check ``kpis.yml``.

    Parameters
    ----------
    path : path, optional
        The file, or the folder holding ``kpis.yml``. ``None`` or a folder without the file
        gives the shipped template.

    Returns
    -------
    dict
        Keys ``version, freq, currency, at_risk_tolerance, kpis, targets, settings, sla``,
        complete (``currency``: the ISO code of every amount in the reports, default USD).

    Raises
    ------
    KPIConfigError
        Naming the file, the key and the problem (e.g. ``targets.win_rate.target: must be a
        number, got 'high'``).

    Examples
    --------
    >>> load_kpi_config(None)["sla"]["response_hours"]
    4.0
    """
    if path is None:
        return kpi_config_template()
    p = _path(path)
    if not p.exists():
        if Path(path).is_dir():
            return kpi_config_template()
        raise FileNotFoundError(f"no KPI config at {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KPIConfigError(f"{p.name}: not valid YAML: {exc}") from None
    return _normalise(raw or {}, p.name)


def amount_settings(path: str | os.PathLike | None = None) -> dict:
    """What persona cards need to write amounts with their currency and rates as percentages,
    from ``kpis.yml``.

    The one way notebook 02 and the workshop app (``salesmkt workshop``) read it: pass the
    result as keyword arguments to :func:`salesmkt.persona_workshop` or
    :func:`salesmkt.persona_cards`.

    Parameters
    ----------
    path : path, optional
        As in :func:`load_kpi_config` (``None``: the template's USD and no amount column).

    Returns
    -------
    dict
        ``currency`` (the ISO code of the amounts), ``amounts`` (the lead columns holding
        amounts, ``settings.amount_columns``; empty when none is declared) and ``percents``
        (the lead columns holding rates, ``settings.percent_columns``; ``None`` when not set:
        then the rule of :func:`salesmkt._base.formats.percent_columns` picks them, names
        ending in ``_rate``, ``_share``, ``_ratio``, ``_pct`` or ``_percent`` with fraction
        values).

    Examples
    --------
    >>> import salesmkt
    >>> amount_settings(salesmkt.sample_dir())
    {'currency': 'USD', 'amounts': ['annual_revenue'], 'percents': None}
    """
    config = load_kpi_config(path)
    percents = config["settings"].get("percent_columns")
    return {
        "currency": config["currency"],
        "amounts": list(config["settings"].get("amount_columns") or []),
        "percents": None if percents is None else list(percents),
    }


def save_kpi_config(config: dict, path: str | os.PathLike) -> Path:
    """Check ``config`` and write it to ``path`` atomically (temp file + ``os.replace``).

    ``path`` is the file or its folder (then ``kpis.yml`` in it). The old file stays intact if
    anything fails before the final rename.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> p = save_kpi_config(kpi_config_template(), folder)
    >>> load_kpi_config(p) == kpi_config_template()
    True
    """
    clean = _normalise(copy.deepcopy(config), "config")
    p = _path(path)
    header = (
        "# kpis.yml: shared KPIs, targets per period and the sales-marketing SLA.\n"
        "# Written by salesmkt.save_kpi_config; see salesmkt/kpis/template.yml for comments.\n"
    )
    text = header + yaml.safe_dump(clean, sort_keys=False, allow_unicode=True)
    return write_text_atomic(p, text)
