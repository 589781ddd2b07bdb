"""Skipping a test whose real component (PostgreSQL, Chromium...) cannot start, but never in CI.

Where a server or browser is missing, the tests skip with a reason that says how to install it.
``.ci/run`` installs them all and sets ``SER_TF_REQUIRE_REAL=1``, so there a missing component
fails the run instead of being skipped quietly.
"""

import os

import pytest

REQUIRE_ENV = "SER_TF_REQUIRE_REAL"


def unavailable(reason: str) -> None:
    """Skip the test with ``reason``; fail it instead when ``$SER_TF_REQUIRE_REAL`` is set."""
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set: this run must use the real component)", pytrace=False)
    pytest.skip(reason)
