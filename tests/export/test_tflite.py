"""TFLite export: each quantisation runs in the LiteRT interpreter, carries its labels, and stays
within its stated bound of the Keras model; a model with an op TFLite lacks is refused by name."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from ser_tf.errors import ExportError, ParameterError
from ser_tf.export.api import export_model
from ser_tf.export.tflite import convert, frontend_tensors, unsupported_ops
from ser_tf.inference.backends import TFLiteBackend, tflite_interpreter
from tests.inference import support

# Largest |p_tflite - p_keras| allowed per class probability, per mode, measured on this tiny
# model: none 1e-8, float16 4e-5, int8 0.03 (its front-end stays float), dynamic 0.33: TFLite's
# dynamic-range kernels quantise the front-end's power spectrum to int8 on the fly, which costs
# the quiet probe (amplitude 0.05) most of its low bands. README "Export" gives the real models'.
BOUNDS = {"none": 1e-5, "float16": 1e-3, "dynamic": 0.4, "int8": 0.1}


@pytest.mark.parametrize("quantize", ["none", "float16", "dynamic", "int8"])
def test_tflite_export_matches_keras_within_its_bound(quantize, export_run, probes, keras_probabilities, tmp_path):
    out = tmp_path / quantize / "ser.tflite"
    calibration = "demo" if quantize == "int8" else None
    result = export_model(export_run, format="tflite", quantize=quantize, out=out,
                          calibration_data=calibration, calibration_clips=16)
    assert result.path == out and out.read_bytes()[4:8] == b"TFL3"
    backend = TFLiteBackend(out)
    assert backend.fixed_length == 16000
    assert backend.embedded_classes == list(support.CLASSES)  # the labels travel inside the file
    got = backend.predict_batch(probes)
    assert np.abs(got - keras_probabilities).max() <= BOUNDS[quantize]
    assert (got.argmax(axis=1) == keras_probabilities.argmax(axis=1)).all()
    sidecar = json.loads(result.labels.read_text())
    assert result.labels == out.parent / "labels.json"
    assert sidecar["classes"] == list(support.CLASSES)
    assert sidecar["export"]["quantize"] == quantize
    assert sidecar["export"]["input"]["shape"] == [1, 16000]
    assert sidecar["export"]["calibration"] == calibration
    if quantize == "int8":  # checked against Keras on the calibration windows
        assert result.agreement["windows"] == 16 and result.agreement["same_label"] >= 0.9
        assert sidecar["export"]["agreement"] == result.agreement
    else:
        assert result.agreement is None


def test_the_signature_returns_the_label_and_class_names(export_run, probes, keras_probabilities, tmp_path):
    out = export_model(export_run, format="tflite", out=tmp_path / "m.tflite").path
    runner = TFLiteBackend(out).interpreter.get_signature_runner("serving_default")
    result = runner(waveform=probes[:1])
    assert result["label"][0].decode() == support.CLASSES[int(keras_probabilities[0].argmax())]
    assert [n.decode() for n in result["class_names"]] == list(support.CLASSES)
    # The Python API takes the export too, with the labels it carries.
    import ser_tf

    model = ser_tf.load_model(out)
    assert model.classes == list(support.CLASSES) and model.window == 1.0 and model.keras_model is None
    assert model.predict(probes[0]).label == support.CLASSES[int(keras_probabilities[0].argmax())]


def test_one_export_answers_threads_at_once_as_it_answers_one(export_run, probes, tmp_path):
    import concurrent.futures

    backend = TFLiteBackend(export_model(export_run, format="tflite", out=tmp_path / "m.tflite").path)
    windows = np.tile(probes, (8, 1))  # enough calls that unguarded threads do collide
    alone = backend.predict_batch(windows)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda i: backend.predict_batch(windows[i:i + 1]), range(len(windows))))
    np.testing.assert_array_equal(np.concatenate(together), alone)


def test_int8_keeps_the_front_end_in_float(export_run):
    from ser_tf.inference import loading

    model = loading.load_keras_model(loading.describe_model(export_run / "model.keras").path)
    content = convert(model, support.CLASSES, window_samples=16000)
    names = frontend_tensors(content, model)
    assert names and all("frontend" in n for n in names)


@keras.saving.register_keras_serializable(package="ser_tf_tests")
class Arctangent(keras.layers.Layer):
    """A layer whose op (``Atan``) has no TFLite builtin kernel, but a TensorFlow (Flex) one."""

    def call(self, x):
        return tf.math.atan(x)


def test_a_layer_tflite_cannot_run_is_named_with_its_op():
    inputs = keras.Input((800,))
    hidden = Arctangent(name="arctangent")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(hidden), name="odd_model")
    with pytest.raises(ExportError) as caught:
        convert(model, ["a", "b"], window_samples=800)
    message = str(caught.value)
    assert "'Atan'" in message and "'arctangent'" in message and "--select-tf-ops" in message
    # The documented fallback converts it, as a file that needs the Flex delegate.
    assert convert(model, ["a", "b"], window_samples=800, select_tf_ops=True)[4:8] == b"TFL3"


def test_unsupported_ops_are_read_from_the_converter_message():
    text = ("x.py:1:1: error: 'tf.Erfinv' op is neither a custom op nor a flex op\n"
            "TF Select ops: Erfinv, Lgamma\n")
    assert unsupported_ops(text) == ["Erfinv", "Lgamma"]


def test_bad_arguments_are_refused(export_run, tmp_path):
    with pytest.raises(ParameterError, match="must end in .tflite"):
        export_model(export_run, format="tflite", out=tmp_path / "m.bin")
    with pytest.raises(ParameterError, match="'fp8'"):
        export_model(export_run, format="tflite", quantize="fp8", out=tmp_path / "m.tflite")
    with pytest.raises(ParameterError, match="applies to TFLite"):
        export_model(export_run, format="savedmodel", quantize="int8", out=tmp_path / "sm")
    with pytest.raises(ParameterError, match="calibration-data applies"):
        export_model(export_run, format="tflite", calibration_data="demo", out=tmp_path / "m.tflite")


@pytest.mark.parametrize("frontend", ["logmel", "mfcc", "whisper"])
def test_every_front_end_converts_with_builtins_and_keeps_its_features(frontend, rng):
    from ser_tf.layers import MFCC, LogMelSpectrogram
    from ser_tf.layers.whisper_log_mel import WhisperLogMel

    layer = {"logmel": LogMelSpectrogram, "mfcc": MFCC, "whisper": WhisperLogMel}[frontend](name="frontend")
    inputs = keras.Input((4000,))  # 0.25 s
    model = keras.Model(inputs, keras.layers.Flatten()(layer(inputs)))
    x = (0.1 * rng.standard_normal((1, 4000))).astype(np.float32)
    features = model(x).numpy()
    names = [f"f{i}" for i in range(features.shape[1])]
    interpreter = tflite_interpreter(model_content=convert(model, names, window_samples=4000))
    got = interpreter.get_signature_runner()(waveform=x)["probabilities"]
    # float32 round-off of another FFT/matmul order, on features spanning ~1 (log-mel, Whisper) or ~100 (MFCC)
    assert np.abs(got - features).max() <= 1e-4 * max(1.0, float(np.ptp(features)))


def test_an_rnn_with_dropout_exports_and_keeps_its_settings(rng):
    # Keras draws dropout masks in inference too (a seed variable is assigned): the export traces
    # the RNN without them, then puts the rates back.
    inputs = keras.Input((800,))
    sequence = keras.layers.Reshape((20, 40))(inputs)
    lstm = keras.layers.LSTM(4, dropout=0.3, recurrent_dropout=0.2, name="lstm")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(lstm(sequence)))
    x = rng.standard_normal((1, 800)).astype(np.float32)
    for quantize in ("none", "int8"):
        content = convert(model, ["a", "b"], window_samples=800, quantize=quantize,
                          representative=lambda: iter(rng.standard_normal((8, 800)).astype(np.float32)))
        got = tflite_interpreter(model_content=content).get_signature_runner()(waveform=x)["probabilities"]
        assert np.abs(got - model(x).numpy()).max() <= BOUNDS[quantize]
    assert (lstm.cell.dropout, lstm.cell.recurrent_dropout, lstm.unroll) == (0.3, 0.2, False)
