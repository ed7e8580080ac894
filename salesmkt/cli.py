"""Command line: ``salesmkt report``, ``salesmkt map`` and ``salesmkt workshop`` (also ``python -m salesmkt ...``).

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
    ws = sub.add_parser(
        "workshop",
        help="open the persona workshop as a web page (no code, mouse only)",
        description="Serve the persona workshop on this machine (Voila over the workshop app "
        "notebook) and print its address. Names and notes are saved to personas.yml next to "
        "the data (or --file); every change is autosaved as a draft beside it.",
    )
    ws.add_argument("--data", default=None, help="data folder or file (default: the sample)")
    ws.add_argument("--file", default=None, help="persona file (default: next to the data)")
    ws.add_argument("--port", type=int, default=8866, help="local port (default: 8866)")
    ws.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


def workshop_command(data=None, file=None, *, port: int = 8866, browser: bool = True) -> list:
    """The Voila command line and environment that serve the workshop app.

    The environment names the data, the persona file, and the currency, amount columns and
    rate columns of the persona cards (:func:`salesmkt.amount_settings` of the ``kpis.yml``
    beside the data, as the reports read it; the template's USD without one; the rate columns
    only when ``settings.percent_columns`` declares them, else the app applies the default
    rule).

    Examples
    --------
    >>> cmd, env = workshop_command("crm", port=9000, browser=False)
    >>> cmd[1:4], env["SALESMKT_WORKSHOP_FILE"].endswith("personas.yml")
    (['-m', 'voila', ...
    >>> _, env = workshop_command(browser=False)  # the sample company
    >>> env["SALESMKT_WORKSHOP_CURRENCY"], env["SALESMKT_WORKSHOP_AMOUNTS"]
    ('USD', 'annual_revenue')
    """
    import os
    from pathlib import Path

    from salesmkt.io import sample_dir
    from salesmkt.kpis.config import amount_settings
    from salesmkt.personas.workshop import APP_ENV, default_persona_file
    from salesmkt.reports.pipeline import notebooks_dir

    app = notebooks_dir() / "workshop_app.ipynb"
    cmd = [sys.executable, "-m", "voila", str(app), f"--port={port}", "--Voila.ip=127.0.0.1",
           "--VoilaConfiguration.show_tracebacks=True", "--theme=light"]  # fmt: skip
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")  # containers often run as root
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    env[APP_ENV["data"]] = (
        str(Path(data).resolve()) if data and "://" not in str(data) else (data or "")
    )
    env[APP_ENV["file"]] = str(Path(file or default_persona_file(data)).resolve())
    # the cards' currency and amount columns: kpis.yml beside the data, as the reports read it
    folder = default_persona_file(data).parent if data else sample_dir()
    money = amount_settings(folder if folder.is_dir() else None)
    env[APP_ENV["currency"]] = money["currency"]
    env[APP_ENV["amounts"]] = ",".join(money["amounts"])
    env.pop(APP_ENV["percents"], None)  # unset: the app's default rule picks the rate columns
    if money["percents"] is not None:
        env[APP_ENV["percents"]] = ",".join(money["percents"])
    return [cmd, env]


def _workshop(args) -> int:
    import subprocess

    cmd, env = workshop_command(args.data, args.file, port=args.port,
                                browser=not args.no_browser)  # fmt: skip
    print(f"Persona workshop on http://127.0.0.1:{args.port}/ (saving to "
          f"{env['SALESMKT_WORKSHOP_FILE']}); stop it with Ctrl+C.", flush=True)  # fmt: skip
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


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
    if args.command == "workshop":
        return _workshop(args)
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
