"""``python -m salesmkt``: the same command line as ``salesmkt``."""

from salesmkt.cli import main

raise SystemExit(main())
