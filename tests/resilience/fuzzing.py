"""Hypothesis settings shared by the fuzz tests, and a tally of what they ran.

One profile, ``videoedit-fuzz``: a modest number of examples per test (60; set
``VIDEOEDIT_FUZZ_EXAMPLES`` for a deeper run), no deadline (a request to a server has no
fixed cost), and derandomized when ``CI`` is set, so a CI run is repeatable while local runs
keep exploring. It is applied per test (``@FUZZ``), never loaded globally.
"""

from __future__ import annotations

import collections
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "videoedit-fuzz",
    max_examples=int(os.environ.get("VIDEOEDIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("videoedit-fuzz")

#: Examples run and answers seen, per fuzz target (for the figures in docs/reliability.md).
TALLY: collections.Counter[str] = collections.Counter()
