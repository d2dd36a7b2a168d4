"""``python -m bench [NAME ...]``: run the benchmarks (all of them by default); see bench/README."""

from bench.run import main

raise SystemExit(main())
