"""ser_tf.export.calibration: windows spread over a corpus, shaped as the model takes them."""

import numpy as np
import pytest

from ser_tf.errors import DataError, ParameterError
from ser_tf.export.calibration import calibration_windows


def test_windows_are_spread_over_the_corpus_and_fit_the_model():
    windows = calibration_windows("demo", window_samples=8000, limit=5)
    assert len(windows) == 5
    assert all(w.dtype == np.float32 and w.shape == (8000,) for w in windows)
    assert len({w.tobytes() for w in windows}) == 5  # five different clips
    again = calibration_windows("demo", window_samples=8000, limit=5)
    assert all(np.array_equal(a, b) for a, b in zip(windows, again))  # the same clips every run


def test_bad_specs_and_limits_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="calibration clips must be >= 1, got 0"):
        calibration_windows("demo", window_samples=8000, limit=0)
    with pytest.raises(ParameterError, match="bad data spec 'nonsense'"):
        calibration_windows("nonsense", window_samples=8000)
    with pytest.raises(DataError):
        calibration_windows(f"ravdess={tmp_path / 'missing'}", window_samples=8000)
