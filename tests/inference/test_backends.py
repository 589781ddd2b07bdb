"""ser_tf.inference.backends: the Keras and TFLite engines behind Predictor, and their refusals."""

import numpy as np
import pytest

from ser_tf.errors import ModelError, ParameterError
from ser_tf.inference.backends import KerasBackend, TFLiteBackend, is_tflite_path, quiet_tone
from ser_tf.inference.predictor import Predictor


def test_tflite_paths_are_told_by_their_suffix():
    assert is_tflite_path("exports/ser.TFLite") and not is_tflite_path("model.keras")
    assert not is_tflite_path(None) and not is_tflite_path("default")


def test_quiet_tone_is_quiet_but_not_silent():
    tone = quiet_tone(16000)
    assert tone.dtype == np.float32 and tone.shape == (16000,)
    assert 0.005 < np.abs(tone).max() <= 0.01


def test_keras_backend_reads_the_input_length(predictor):
    backend = predictor.backend
    assert isinstance(backend, KerasBackend) and backend.fixed_length == 16000 and backend.num_outputs == 3
    with pytest.raises(ParameterError, match=r"\(batch, samples\)"):
        backend.predict_batch(np.zeros(16000, np.float32))


def test_every_batch_size_shares_one_traced_graph_with_the_same_outputs(run_dir):
    backend = Predictor(run_dir).backend  # fresh: the shared fixture's graph may be traced already
    rng = np.random.default_rng(0)
    batch = (0.1 * rng.standard_normal((3, 16000))).astype(np.float32)
    together = backend.predict_batch(batch)
    alone = np.concatenate([backend.predict_batch(row[None, :]) for row in batch])
    assert together.shape == alone.shape == (3, 3) and alone.dtype == np.float64
    np.testing.assert_allclose(alone, together, atol=1e-6)
    assert list(backend._infer_fns) == [16000]  # traced once, reused whatever the batch size


def test_a_file_that_is_not_tflite_is_refused_by_name(tmp_path):
    fake = tmp_path / "model.tflite"
    fake.write_bytes(b"PK\x03\x04 not a flatbuffer")
    with pytest.raises(ModelError, match=r"model.tflite: not a TFLite flatbuffer"):
        TFLiteBackend(fake)
    with pytest.raises(ModelError, match="model.tflite: not a TFLite flatbuffer"):
        Predictor(fake)
    with pytest.raises(ModelError, match="missing.tflite: TFLite model not found"):
        Predictor(tmp_path / "missing.tflite")


def test_evaluating_needs_the_keras_model_not_the_export(tmp_path):
    from ser_tf.inference import loading

    path = tmp_path / "ser.tflite"
    path.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(32))
    with pytest.raises(ModelError, match=r"ser.tflite: a TFLite export, which this command cannot use"):
        loading.load_keras_model(path)
