"""Command line: ``salesmkt report`` (also ``python -m salesmkt report``).

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
        help="data folder, workbook or DuckDB file (default: the bundled sample company)",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "report":
        from salesmkt.io import sample_dir
        from salesmkt.report import ReportError, run_reports
        from salesmkt.validate import ValidationError

        try:
            reports = run_reports(
                args.data or sample_dir(),
                args.out,
                start=args.start,
                end=args.end,
                only=args.only,
                config_dir=args.config,
            )
        except (ReportError, ValidationError, FileNotFoundError, ValueError) as exc:
            print(f"salesmkt report: {exc}", file=sys.stderr)
            return 1
        index = reports[0].html_path.parent / "index.html"
        print(f"{len(reports)} reports written; open {index}")
    return 0
