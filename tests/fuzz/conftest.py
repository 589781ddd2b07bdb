"""Hypothesis profiles of the fuzz tests: ``ci`` (the default: a fixed few hundred examples, the
same each run, no example database written into the checkout) and ``dev`` (random draws, for a
longer local look: ``HYPOTHESIS_PROFILE=dev pytest tests/fuzz``). ``benchmarks/fuzz.py`` runs the
same properties by the ten thousand."""

import os

from hypothesis import HealthCheck, settings

# deadline=None: a first TensorFlow call traces a graph and would trip the 200 ms default.
# function_scoped_fixture: the properties make their own temporary folders, no fixtures.
settings.register_profile("ci", deadline=None, database=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, database=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
