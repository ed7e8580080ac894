"""Command line: ``salesmkt report`` and ``salesmkt map`` (also ``python -m salesmkt ...``).

Examples
--------
>>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesmkt",
        description="Shared sales and marketing reports from your CRM, web and ad-spend data.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "report",
        help="execute the guided notebooks on a data folder and render HTML reports",
        description="Execute every guided notebook on DATA and write HTML reports and an "
        "index.html to OUT.",
    )
    rep.add_argument(
        "--data",
        default=None,
        help="data folder, workbook, DuckDB file, or database URL such as "
        "postgres://user@host:5432/crm (default: the bundled sample company)",
    )
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument(
        "--start", default=None, help="period start, ISO date (default: latest full month)"
    )
    rep.add_argument("--end", default=None, help="period end, ISO date, exclusive")
    rep.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only notebooks whose name contains one of these (e.g. 01 05)",
    )
    rep.add_argument(
        "--config",
        default=None,
        help="folder of kpis.yml and personas.yml (default: the data folder)",
    )
    rep.add_argument(
        "--source",
        default=None,
        help="read vendor exports: hubspot, salesforce, ga4, or a YAML column mapping file "
        "(see docs/exports.md); GA4 events_* files in the same folder are read too",
    )
    rep.add_argument(
        "--tz",
        default=None,
        help="time zone of times exported without an offset, e.g. Europe/Paris (HubSpot: the "
        "portal's zone; Salesforce: the exporting user's)",
    )
    rep.add_argument(
        "--params",
        default=None,
        metavar="FILE.yml",
        help="YAML file of notebook parameters (name: value), e.g. n_personas: 4",
    )
    mp = sub.add_parser(
        "map",
        help="write a YAML column mapping template from a file's header",
        description="Write a column mapping for FILE (canonical column -> column of the file), "
        "with the obvious matches filled in; edit it, then load with --source MAPPING.yml.",
    )
    mp.add_argument("--init", metavar="FILE", required=True, help="the CSV or Excel file")
    mp.add_argument("--table", default=None, help="canonical table (default: best guess)")
    mp.add_argument("--out", default=None, help="mapping file (default: FILE.mapping.yml)")
    mp.add_argument("--force", action="store_true", help="replace an existing mapping file")
    return parser


def _map(args) -> int:
    from salesmkt.sources.mapping_templates import write_mapping_template

    try:
        out = write_mapping_template(args.init, args.out, table=args.table, overwrite=args.force)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"salesmkt map: {exc}", file=sys.stderr)
        return 1
    print(
        f"Mapping template written to {out}; edit it, then run "
        f"salesmkt report --data {args.init} --source {out}"
    )
    return 0


def _read_params(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            params = yaml.safe_load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such parameters file.") from None
    if not isinstance(params, dict):
        raise ValueError(f"{path}: expected notebook parameters as 'name: value' lines.")
    return params


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "map":
        return _map(args)
    if args.command == "report":
        from salesmkt.data.validate import ValidationError
        from salesmkt.io import sample_dir
        from salesmkt.reports.pipeline import ReportError, run_reports

        try:
            parameters = _read_params(args.params) if args.params else None
            reports = run_reports(
                args.data or sample_dir(),
                args.out,
                start=args.start,
                end=args.end,
                only=args.only,
                config_dir=args.config,
                source=args.source,
                tz=args.tz,
                parameters=parameters,
            )
        except (
            ReportError,
            ValidationError,
            FileNotFoundError,
            ValueError,
            ConnectionError,  # a database URL that does not answer
            ImportError,  # a database URL whose Ibis backend is not installed
        ) as exc:
            print(f"salesmkt report: {exc}", file=sys.stderr)
            return 1
        index = reports[0].html_path.parent / "index.html"
        print(f"{len(reports)} reports written; open {index}")
    return 0
