"""Hypothesis profiles for the pgbook tests.

The profile loaded by default, ``ci``, makes every property test reproducible: it is derandomized
(the examples are a fixed function of the test's code, so a red run is red again on re-running it),
keeps no example database, prints the ``@reproduce_failure`` blob of a failure, has no deadline
(timings vary on shared machines) and runs a fixed number of examples: the ``max_examples`` of the
test's own ``@settings``, or 100.

To explore with fresh random examples locally, select the ``explore`` profile:

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_exact.py

Each run then draws new examples (and saves failing ones in ``.hypothesis/``, replayed first next
time). Turn a failure it finds into an ``@example(...)`` on the test, so that ``ci`` checks it too.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None, max_examples=100)
settings.register_profile("explore", derandomize=False, print_blob=True, deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
