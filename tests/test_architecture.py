"""The shape of the library: one import direction, no import cycles, a stable public API.

The layers are declared once, in ``[tool.importlinter]`` of ``pyproject.toml``; import-linter
checks them here. Cycles are found on the import graph (grimp, the graph import-linter builds),
imports inside functions included; imports only made for type checkers are left out.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

import salesmkt
from salesmkt import _compat

ROOT = Path(__file__).resolve().parents[1]

#: every name ``salesmkt.<name>`` offered before the library was organised into domain packages
NAMES_BEFORE_PACKAGES = [
    "CHANNELS",
    "Dataset",
    "KPI_CATALOG",
    "KSelection",
    "PersonaModel",
    "PersonaWorkshop",
    "RFM_SEGMENTS",
    "TABLES",
    "ValidationError",
    "apply_targets",
    "attribute",
    "biggest_drop_offs",
    "build_journeys",
    "channel_mix",
    "choose_n_personas",
    "cohort_retention",
    "conversion_lift",
    "conversion_rates",
    "convert_export",
    "customer_conversions",
    "describe_findings",
    "find_pii",
    "funnel",
    "funnel_trends",
    "ga4_tables",
    "holdout_summary",
    "holdout_test",
    "kpi_catalog",
    "kpi_config_template",
    "kpi_settings",
    "kpi_table",
    "lead_segments",
    "lifecycle_funnel",
    "load",
    "load_kpi_config",
    "load_mapping",
    "load_personas",
    "load_sample",
    "mapping_template",
    "markov_removal_effects",
    "markov_transition_matrix",
    "match_personas",
    "missing_data",
    "missing_kpi_inputs",
    "missing_values",
    "monthly_volume",
    "normalize_channels",
    "path_counts",
    "persona_cards",
    "persona_channels",
    "persona_crosstab",
    "persona_features",
    "persona_funnel",
    "persona_outcomes",
    "persona_profiles",
    "persona_projection",
    "persona_rules",
    "persona_silhouette",
    "persona_summary",
    "persona_workshop",
    "pii_columns",
    "plot_attribution",
    "plot_cac_cpl",
    "plot_channel_mix",
    "plot_cohort_retention",
    "plot_conversion_rates",
    "plot_funnel",
    "plot_funnel_breakdown",
    "plot_funnel_trends",
    "plot_k_selection",
    "plot_kpi_trend",
    "plot_kpi_trends",
    "plot_lifecycle_breakdown",
    "plot_lifecycle_funnel",
    "plot_lift",
    "plot_missing_values",
    "plot_monthly_volume",
    "plot_persona_card",
    "plot_persona_channels",
    "plot_persona_funnel",
    "plot_persona_map",
    "plot_persona_outcomes",
    "plot_persona_profiles",
    "plot_rfm_grid",
    "plot_silhouette",
    "plot_sla_compliance",
    "plot_spend_vs_return",
    "plot_time_in_stage",
    "plot_time_to_convert",
    "plot_transitions",
    "prob_treatment_better",
    "pseudonymize",
    "reached_stage",
    "read_source",
    "referral_summary",
    "render_persona_cards",
    "report_period",
    "revenue_lift",
    "rfm",
    "rfm_coverage",
    "rfm_summary",
    "run_reports",
    "sample_dir",
    "sample_size",
    "save_kpi_config",
    "save_personas",
    "scorecard",
    "scorecard_summary",
    "scorecard_table",
    "sla_breaches",
    "sla_report",
    "spend_metrics",
    "stage_durations",
    "stalled_leads",
    "suggest_targets",
    "table_overview",
    "time_in_stage",
    "time_to_convert",
    "too_few_for_personas",
    "validate_table",
    "validate_tables",
    "write_mapping_template",
]


def _modules() -> list[str]:
    found = ["salesmkt"]
    for info in pkgutil.walk_packages(salesmkt.__path__, "salesmkt."):
        if not info.name.endswith("__main__"):
            found.append(info.name)
    return found


def test_import_contract_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the test extra"
    run = subprocess.run(
        [lint, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in adj:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(adj[node]):
                work.append((node, i + 1))
                nxt = adj[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_planted_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclic import c\n")
    (pkg / "c.py").write_text("import cyclic.a\n")
    (pkg / "d.py").write_text("import cyclic.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic", exclude_type_checking_imports=True)
    assert _cycles(graph) == [["cyclic.a", "cyclic.b", "cyclic.c"]]


def test_no_import_cycles():
    graph = grimp.build_graph("salesmkt", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_every_name_from_before_still_resolves():
    for name in NAMES_BEFORE_PACKAGES:
        assert getattr(salesmkt, name) is not None, name
    assert set(NAMES_BEFORE_PACKAGES) <= set(salesmkt.__all__)


def test_package_names_are_the_top_level_objects():
    seen: dict[str, object] = {}
    for package in salesmkt.PACKAGES:
        module = importlib.import_module(f"salesmkt.{package}")
        assert module.__all__ == sorted(set(module.__all__)), package
        for name in module.__all__:
            value = getattr(module, name)
            if name in seen:  # two packages offering one name must offer one object
                assert seen[name] is value, name
            seen[name] = value
            assert getattr(salesmkt, name) is value, name
    assert sorted(seen) == salesmkt.__all__


def _defined_at_top(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@pytest.mark.parametrize("name", _modules())
def test_no_strays_in_all(name):
    """A module's ``__all__`` holds what it defines; a package's, what its modules define."""
    if name == "salesmkt":  # its names are the packages' (test above)
        return
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None)
    if public is None:
        return
    path = Path(module.__file__)
    if path.name == "__init__.py" and "lazy_exports" in path.read_text():
        for item in public:
            value = getattr(module, item)
            assert not isinstance(value, type(sys)), f"{name}.{item} is a module"
            if inspect.isfunction(value) or inspect.isclass(value):
                home = value.__module__
                assert home.startswith(f"{name}."), f"{name}.{item} comes from {home}"
        return
    defined = _defined_at_top(ast.parse(path.read_text()))
    strays = [item for item in public if item not in defined]
    assert not strays, f"{name}.__all__ lists names it does not define: {strays}"


@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_old_module_paths_still_import(old):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=_compat.MOVED[old].replace(".", r"\.")):
        module = importlib.import_module(old)
    home = importlib.import_module(_compat.MOVED[old])
    for name in [n for n in getattr(home, "__all__", dir(home)) if not n.startswith("_")]:
        assert getattr(module, name) is getattr(home, name)


def test_old_module_paths_offer_what_they_re_exported():
    sys.modules.pop("salesmkt.lifecycle", None)
    sys.modules.pop("salesmkt.targets", None)
    with pytest.warns(DeprecationWarning):
        from salesmkt.lifecycle import stalled_leads  # re-exported from time in stage
        from salesmkt.targets import load_kpi_config  # re-exported from kpis.yml handling
    assert stalled_leads is salesmkt.funnels.stage_time.stalled_leads
    assert load_kpi_config is salesmkt.kpis.config.load_kpi_config


def test_old_module_paths_are_quiet_for_top_level_names():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert salesmkt.lifecycle_funnel is salesmkt.funnels.lifecycle.lifecycle_funnel
