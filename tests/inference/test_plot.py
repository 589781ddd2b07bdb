import numpy as np
import pytest
import soundfile as sf

from ser_tf.inference.plot import _envelope, _segments, plot_result
from ser_tf.inference.results import LongPrediction, Prediction, WindowPrediction

CLASSES = ["neutral", "happy", "sad"]


def _pred():
    probs = {"neutral": 0.2, "happy": 0.5, "sad": 0.3}
    return Prediction("happy", 0.5, probs, [("happy", 0.5)], duration=3.0)


def _long():
    w = lambda a, b, label: WindowPrediction(a, b, label, None, None, label != "silence", -30.0)  # noqa: E731
    return LongPrediction([w(0, 2, "happy"), w(1, 3, "silence")], _pred(), "", 2.0, 1.0, 3.0)


def test_segments_split_overlaps_between_window_centres():
    assert _segments(_long(), _pred(), 3.0) == [(0, 1.5, "happy"), (1.5, 3, "silence")]
    assert _segments(None, _pred(), 3.0) == [(0.0, 3.0, "happy")]


def test_envelope_from_a_file_read_in_blocks_matches_the_array(tmp_path, rng):
    x = rng.uniform(-1, 1, 16000 * 3).astype(np.float32)
    sf.write(tmp_path / "x.wav", x, 16000, subtype="FLOAT")
    lo_f, hi_f, dur = _envelope(tmp_path / "x.wav", sample_rate=16000)
    lo_a, hi_a, _ = _envelope(x, sample_rate=16000)
    assert dur == pytest.approx(3.0)
    np.testing.assert_allclose(lo_f, lo_a)
    np.testing.assert_allclose(hi_f, hi_a)


def test_plot_writes_a_png(tmp_path, rng):
    x = (0.3 * rng.standard_normal(16000 * 3)).astype(np.float32)
    out = plot_result(tmp_path / "fig.png", audio=x, sample_rate=16000, classes=CLASSES,
                      prediction=_pred(), long=_long())
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
