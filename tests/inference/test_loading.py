import json
import shutil
import zipfile

import numpy as np
import pytest

from ser_tf.errors import ModelError, ParameterError
from ser_tf.inference import loading
from ser_tf.inference.backends import KerasBackend
from ser_tf.runs import RunFolder


# Resolving --model to a file (run folder, latest, fold, .keras/.h5) is tested in tests/test_runs.py.


def test_labels_come_from_the_run_or_from_the_user(run_dir, tmp_path):
    info = loading.describe_model(RunFolder(run_dir).model_keras)
    assert info.classes == ["neutral", "happy", "sad"]
    assert (info.duration, info.sample_rate, info.arch) == (1.0, 16000, "cnn_lstm_small")
    assert loading.resolve_classes(info, 3, labels=None) == ["neutral", "happy", "sad"]
    assert loading.resolve_classes(info, 3, labels=["a", "b", "c"]) == ["a", "b", "c"]
    with pytest.raises(ModelError, match=r"names 2 classes .* outputs 3 probabilities"):
        loading.resolve_classes(info, 3, labels=["a", "b"])

    bare = tmp_path / "bare.keras"
    shutil.copy(RunFolder(run_dir).model_keras, bare)
    info = loading.describe_model(bare)
    assert info.classes is None and info.duration is None
    with pytest.raises(ModelError, match="--labels"):
        loading.resolve_classes(info, 3, labels=None)


def test_duration_falls_back_to_config_yaml(run_dir, tmp_path):
    run = tmp_path / "old-run"
    shutil.copytree(run_dir, run)
    labels = json.loads(RunFolder(run).labels.read_text())
    del labels["duration"]
    RunFolder(run).labels.write_text(json.dumps(labels))
    assert loading.describe_model(RunFolder(run).model_keras).duration == 1.0


def test_parse_labels():
    assert loading.parse_labels(" neutral, happy ,sad") == ["neutral", "happy", "sad"]
    for bad in ("happy", "a,,b", "a,b,a"):
        with pytest.raises(ParameterError, match=bad):
            loading.parse_labels(bad)


def test_broken_labels_json_is_a_model_error(tmp_path):
    RunFolder(tmp_path).labels.write_text('{"classes": "happy"}')
    with pytest.raises(ModelError, match="classes"):
        loading.read_labels_file(RunFolder(tmp_path).labels)


def test_corrupt_model_files_are_refused_before_keras_sees_them(tmp_path, run_dir):
    (tmp_path / "junk.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ModelError, match="not a Keras .keras archive"):
        loading.load_keras_model(tmp_path / "junk.keras")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(RunFolder(run_dir).model_h5.read_bytes()[:4])
    with pytest.raises(ModelError, match="not an HDF5 file"):
        loading.load_keras_model(truncated)


def test_a_keras_model_that_is_not_a_ser_tf_model_is_refused(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 1))
    image = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)))
    image.save(tmp_path / "image.keras")
    with pytest.raises(ModelError, match=r"expected input \(batch, samples\)"):
        loading.load_keras_model(tmp_path / "image.keras")


def test_unknown_layer_classes_are_reported(tmp_path, run_dir):
    src, dst = RunFolder(run_dir).model_keras, tmp_path / "foreign.keras"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                for a, b in ((b"ser_tf>LogMelSpectrogram", b"other>Spectrogram"),
                             (b"ser_tf.layers.log_mel", b"other.layers"),
                             (b'"LogMelSpectrogram"', b'"Spectrogram"')):
                    data = data.replace(a, b)
            zout.writestr(item, data)
    with pytest.raises(ModelError, match="uses .Spectrogram., which is neither"):
        loading.load_keras_model(dst)


def test_lambda_layers_are_never_deserialised(tmp_path):
    import keras

    inputs = keras.Input((16,))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelError, match="unsafe deserialization"):
        loading.load_keras_model(tmp_path / "lambda.keras")


def test_window_samples_follow_the_model_input(run_dir):
    model = loading.load_keras_model(RunFolder(run_dir).model_keras)
    info = loading.describe_model(RunFolder(run_dir).model_keras)
    assert loading.window_samples(KerasBackend(model).fixed_length, info) == 16000
    assert loading.window_samples(None, info) == 16000  # the run's clip duration, 1 s
    assert model(np.zeros((1, 16000), np.float32)).shape == (1, 3)


def test_demo_data_comes_from_labels_json_else_config_yaml(tmp_path):
    from ser_tf.runs import write_labels

    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    model = folder.model_keras
    write_labels(folder, classes=["a", "b"], label_set="custom", sample_rate=16000, duration=1.0,
                 arch="cnn", demo_data=True, corpora=["demo"])
    assert loading.describe_model(model).demo_data is True
    write_labels(folder, classes=["a", "b"], label_set="custom", sample_rate=16000, duration=1.0,
                 arch="cnn")  # an older run: no demo_data key, no config.yaml
    assert loading.describe_model(model).demo_data is None
    folder.config.write_text("data:\n  corpora: ['ravdess=/x']\n")
    assert loading.describe_model(model).demo_data is False
    folder.config.write_text("data:\n  corpora: []\n")
    assert loading.describe_model(model).demo_data is True
    assert loading.describe_model(tmp_path / "bare.keras").demo_data is None
