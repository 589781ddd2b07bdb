"""ser_tf.layers.mel_filters against librosa.filters.mel."""

import librosa
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.layers.mel_filters import hz_to_mel, mel_filterbank, mel_to_hz


@pytest.mark.parametrize(
    "sample_rate, n_fft, n_mels, fmin, fmax, htk",
    [
        (16000, 512, 64, 0.0, 8000.0, False),
        (16000, 512, 128, 0.0, 8000.0, False),
        (16000, 400, 40, 20.0, 7600.0, False),
        (22050, 2048, 128, 0.0, None, False),
        (16000, 512, 64, 0.0, 8000.0, True),
    ],
)
def test_filterbank_matches_librosa(sample_rate, n_fft, n_mels, fmin, fmax, htk):
    ours = mel_filterbank(
        sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk
    )
    ref = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm="slaney"
    )
    assert ours.shape == ref.shape == (n_mels, 1 + n_fft // 2)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-6, rtol=0)


def test_mel_scale_round_trip_and_librosa():
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    for htk in (False, True):
        ours = hz_to_mel(hz, htk=htk)
        np.testing.assert_allclose(ours, librosa.hz_to_mel(hz, htk=htk), rtol=1e-12)
        np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz, htk=htk), htk=htk), hz, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"sample_rate": 16000, "n_fft": 512, "n_mels": 0}, "n_mels"),
        ({"sample_rate": 16000, "n_fft": 512, "n_mels": 64, "fmax": 9000.0}, "fmax=9000.0"),
        ({"sample_rate": 16000, "n_fft": 512, "n_mels": 64, "fmin": 500.0, "fmax": 400.0}, "fmin"),
    ],
)
def test_filterbank_rejects_bad_values(kwargs, fragment):
    with pytest.raises(ParameterError, match=fragment):
        mel_filterbank(**kwargs)


def test_bands_too_narrow_for_floats_are_refused():
    """fmax = 1e-313 Hz (found by benchmarks/fuzz.py) made filter widths round to zero: NaN weights."""
    with pytest.raises(ParameterError, match="fmax=2.2e-313 Hz is too narrow for 64 mel bands"):
        mel_filterbank(sample_rate=16000, n_fft=512, n_mels=64, fmax=2.2e-313)
