"""Suite-wide settings: quiet TensorFlow, a private cache folder, and a fixed-seed RNG fixture."""

import os
import tempfile

# Set before TensorFlow is imported by any test module.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The demo corpus and other caches go to a throw-away folder, never the user's home.
os.environ.setdefault("SER_TF_CACHE", tempfile.mkdtemp(prefix="ser_tf_test_cache_"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, so failures reproduce."""
    return np.random.default_rng(1234)
