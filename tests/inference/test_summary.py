"""ser_tf.inference.summary: owned spans, voiced shares, the envelope and the label colours."""

import numpy as np
import pytest
import soundfile as sf

from ser_tf.inference.results import LongPrediction, Prediction, WindowPrediction
from ser_tf.inference.summary import SILENCE_COLOUR, envelope, label_colours, owned_spans, voiced_shares

CLASSES = ["neutral", "happy", "sad"]


def _pred():
    probs = {"neutral": 0.2, "happy": 0.5, "sad": 0.3}
    return Prediction("happy", 0.5, probs, [("happy", 0.5)], duration=3.0)


def _long():
    w = lambda a, b, label: WindowPrediction(a, b, label, None, None, label != "silence", -30.0)  # noqa: E731
    return LongPrediction([w(0, 2, "happy"), w(1, 3, "silence")], _pred(), "", 2.0, 1.0, 3.0)


def test_owned_spans_split_overlaps_between_window_centres():
    assert owned_spans(_long(), _pred(), 3.0) == [(0, 1.5, "happy"), (1.5, 3, "silence")]
    assert owned_spans(None, _pred(), 3.0) == [(0.0, 3.0, "happy")]


def test_envelope_from_a_file_read_in_blocks_matches_the_array(tmp_path, rng):
    x = rng.uniform(-1, 1, 16000 * 3).astype(np.float32)
    sf.write(tmp_path / "x.wav", x, 16000, subtype="FLOAT")
    lo_f, hi_f, dur = envelope(tmp_path / "x.wav", sample_rate=16000)
    lo_a, hi_a, _ = envelope(x, sample_rate=16000)
    assert dur == pytest.approx(3.0)
    np.testing.assert_allclose(lo_f, lo_a)
    np.testing.assert_allclose(hi_f, hi_a)


def test_voiced_shares_weigh_owned_time_and_leave_silence_out():
    spans = [(0.0, 1.5, "happy"), (1.5, 2.0, "silence"), (2.0, 3.0, "sad"), (3.0, 4.0, "happy")]
    shares, silence, voiced = voiced_shares(spans, CLASSES)
    assert shares == pytest.approx({"neutral": 0.0, "happy": 2.5 / 3.5, "sad": 1.0 / 3.5})
    assert sum(shares.values()) == pytest.approx(1.0)
    assert silence == pytest.approx(0.5 / 4.0)
    assert voiced == pytest.approx(3.5)


def test_voiced_shares_of_an_all_silent_timeline_are_zero_not_nan():
    shares, silence, voiced = voiced_shares([(0.0, 2.0, "silence")], CLASSES)
    assert shares == {c: 0.0 for c in CLASSES} and silence == 1.0 and voiced == 0.0


def test_label_colours_follow_the_class_order_and_grey_silence():
    colours = label_colours(CLASSES)
    assert colours == {"neutral": "#1f77b4", "happy": "#ff7f0e", "sad": "#2ca02c", "silence": SILENCE_COLOUR}
    assert label_colours([f"c{i}" for i in range(12)])["c10"] == colours["neutral"]  # cycles after 10
