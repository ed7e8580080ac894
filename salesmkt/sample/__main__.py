"""``python -m salesmkt.sample --out data/sample``: rebuild the sample company byte for byte."""

from salesmkt.sample.company import main

raise SystemExit(main())
