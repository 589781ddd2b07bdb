import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.inference.vad import EnergyVAD, frame_levels_db, is_digital_silence
from tests.inference.support import voice

SR = 16_000


def test_frame_levels_of_a_sine_and_of_zeros():
    t = np.arange(SR) / SR
    levels = frame_levels_db(0.5 * np.sin(2 * np.pi * 400 * t))
    assert levels.shape == (1 + (SR - 400) // 160,)
    np.testing.assert_allclose(levels, 20 * np.log10(0.5 / np.sqrt(2)), atol=0.1)  # -9.03 dBFS
    assert frame_levels_db(np.zeros(1000)).max() == -120.0
    assert frame_levels_db(np.ones(100)).shape == (1,)  # shorter than a frame: one frame
    with pytest.raises(ParameterError, match=r"\(2, 10\)"):
        frame_levels_db(np.zeros((2, 10)))


def test_digital_silence():
    assert is_digital_silence(np.zeros(100))
    assert is_digital_silence(np.full(100, 5e-5))
    assert not is_digital_silence(np.r_[np.zeros(99), 0.01])


def test_speech_like_bursts_are_voiced_and_steady_noise_is_not(rng):
    vad = EnergyVAD()
    assert vad(voice("neutral", 1.0)).voiced
    vad = EnergyVAD()
    noise = (0.05 * rng.standard_normal(SR)).astype(np.float32)  # a fan: loud but steady
    result = vad(noise)
    assert not result.voiced and result.voiced_fraction < 0.1
    assert result.level_db == pytest.approx(20 * np.log10(0.05), abs=0.3)


def test_quiet_speech_counts_relative_to_the_noise_floor():
    # RAVDESS-like: speech around -55 dBFS over near-digital silence is still speech.
    vad = EnergyVAD()
    quiet = 0.01 * voice("neutral", 1.0)  # bursts peak near -50 dBFS, pauses near -100 dBFS
    result = vad(quiet)
    assert result.voiced and result.level_db < -50


def test_noise_floor_is_learnt_and_speech_over_it_is_detected(rng):
    vad = EnergyVAD()
    noise = lambda: (0.02 * rng.standard_normal(SR)).astype(np.float32)  # noqa: E731
    for _ in range(3):
        assert not vad(noise(), advance_s=1.0).voiced
    floor = vad.noise_floor_db
    assert floor == pytest.approx(20 * np.log10(0.02), abs=3.0)
    assert vad(noise() + voice("happy", 1.0, amp=0.5), advance_s=1.0).voiced
    # the floor rises at most rise_db_per_s per second, so one loud window barely moves it
    assert vad.noise_floor_db <= floor + 1.0 + 1e-6


def test_parameters_are_checked():
    with pytest.raises(ParameterError, match="1.5"):
        EnergyVAD(min_voiced_fraction=1.5)
