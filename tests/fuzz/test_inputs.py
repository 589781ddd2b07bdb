"""Fuzz properties of decoding, resampling, length fixing, the front-end layers, the Whisper
front-end and the shard manifest (``tests/fuzz/properties.py``): each drawn case gives a finite
output of the documented shape or raises ser_tf's own error, nothing else."""

import pytest

from tests.fuzz.properties import PROPERTIES
from tests.fuzz.support import run_property


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_property_holds(name):
    strategy, check = PROPERTIES[name]
    run_property(name, strategy, check)
