import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.inference.smoothing import ProbabilitySmoother


def test_ema_follows_the_recurrence():
    s = ProbabilitySmoother(alpha=0.25)
    p1, p2, p3 = np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.5, 0.5])
    np.testing.assert_allclose(s.update(p1), p1)  # the first vector is taken as is
    expected = 0.25 * p2 + 0.75 * p1
    np.testing.assert_allclose(s.update(p2), expected)
    expected = 0.25 * p3 + 0.75 * expected
    np.testing.assert_allclose(s.update(p3), expected)
    assert s.state.sum() == pytest.approx(1.0)


def test_alpha_one_disables_smoothing():
    s = ProbabilitySmoother(alpha=1.0)
    s.update([0.9, 0.1])
    np.testing.assert_allclose(s.update([0.2, 0.8]), [0.2, 0.8])


def test_short_silence_keeps_the_average_long_silence_resets_it():
    s = ProbabilitySmoother(alpha=0.5, reset_after_s=2.0)
    s.update([1.0, 0.0])
    s.silence(1.0)
    np.testing.assert_allclose(s.update([0.0, 1.0]), [0.5, 0.5])  # silence left the state alone
    s.silence(1.0)
    s.silence(1.0)
    assert s.state is None  # 2 s of uninterrupted silence: a new utterance starts fresh
    np.testing.assert_allclose(s.update([0.0, 1.0]), [0.0, 1.0])


def test_speech_interrupts_the_silence_count():
    s = ProbabilitySmoother(alpha=0.5, reset_after_s=2.0)
    s.update([1.0, 0.0])
    s.silence(1.5)
    s.update([1.0, 0.0])
    s.silence(1.5)
    assert s.state is not None


@pytest.mark.parametrize("kwargs", [{"alpha": 0.0}, {"alpha": 1.5}, {"reset_after_s": 0}])
def test_bad_parameters_are_rejected_with_their_value(kwargs):
    with pytest.raises(ParameterError, match=str(list(kwargs.values())[0])):
        ProbabilitySmoother(**kwargs)


def test_class_count_change_is_an_error():
    s = ProbabilitySmoother()
    s.update([0.5, 0.5])
    with pytest.raises(ParameterError, match="3 probabilities"):
        s.update([0.2, 0.3, 0.5])
