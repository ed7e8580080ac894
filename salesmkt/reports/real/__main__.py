"""``python -m salesmkt.reports.real``: the reports on the real public data sets (see the package)."""

from salesmkt.reports.real import main

raise SystemExit(main())
