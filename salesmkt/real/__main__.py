"""``python -m salesmkt.real``: the reports on the real public data sets (see the package)."""

from salesmkt.real import main

raise SystemExit(main())
