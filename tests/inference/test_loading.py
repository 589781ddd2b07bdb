import json
import shutil
import zipfile

import numpy as np
import pytest

from ser_tf.errors import ModelError, ParameterError
from ser_tf.inference import loading


def test_default_model_is_the_latest_run_under_ser_tf_models(models_dir, run_dir, monkeypatch, tmp_path):
    monkeypatch.setenv(loading.MODELS_ENV, str(models_dir))
    monkeypatch.chdir(tmp_path)  # no ./models here: the variable must be what is used
    assert loading.resolve_model_path() == run_dir / "model.keras"


def test_default_models_dir_is_relative_to_the_current_directory(run_dir, monkeypatch, tmp_path):
    monkeypatch.delenv(loading.MODELS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "latest").symlink_to(run_dir)  # a symlinked pointer works too
    assert loading.resolve_model_path().resolve() == (run_dir / "model.keras").resolve()


def test_no_model_says_how_to_train_one(monkeypatch, tmp_path):
    monkeypatch.setenv(loading.MODELS_ENV, str(tmp_path))
    with pytest.raises(loading.NoModelError, match="python train.py --arch cnn_lstm"):
        loading.resolve_model_path()
    (tmp_path / "latest").write_text("cnn_lstm-gone\n")
    with pytest.raises(loading.NoModelError):
        loading.resolve_model_path()


def test_run_folder_file_and_h5_fallback(run_dir, tmp_path):
    assert loading.resolve_model_path(run_dir) == run_dir / "model.keras"
    h5_only = tmp_path / "run"
    h5_only.mkdir()
    shutil.copy(run_dir / "model.h5", h5_only)
    assert loading.resolve_model_path(h5_only) == h5_only / "model.h5"
    assert loading.resolve_model_path(run_dir / "model.h5") == run_dir / "model.h5"


def test_bad_model_paths_are_explained(tmp_path):
    with pytest.raises(ModelError, match="model not found"):
        loading.resolve_model_path(tmp_path / "nope.keras")
    (tmp_path / "weights.pt").write_bytes(b"x")
    with pytest.raises(ModelError, match=".keras or .h5"):
        loading.resolve_model_path(tmp_path / "weights.pt")
    (tmp_path / "kfold" / "fold-1").mkdir(parents=True)
    with pytest.raises(ModelError, match="fold-1"):
        loading.resolve_model_path(tmp_path / "kfold")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no model.keras or model.h5"):
        loading.resolve_model_path(tmp_path / "empty")


def test_labels_come_from_the_run_or_from_the_user(run_dir, tmp_path):
    info = loading.describe_model(run_dir / "model.keras")
    assert info.classes == ["neutral", "happy", "sad"]
    assert (info.duration, info.sample_rate, info.arch) == (1.0, 16000, "cnn_lstm_small")
    assert loading.resolve_classes(info, 3, labels=None) == ["neutral", "happy", "sad"]
    assert loading.resolve_classes(info, 3, labels=["a", "b", "c"]) == ["a", "b", "c"]
    with pytest.raises(ModelError, match=r"names 2 classes .* outputs 3 probabilities"):
        loading.resolve_classes(info, 3, labels=["a", "b"])

    bare = tmp_path / "bare.keras"
    shutil.copy(run_dir / "model.keras", bare)
    info = loading.describe_model(bare)
    assert info.classes is None and info.duration is None
    with pytest.raises(ModelError, match="--labels"):
        loading.resolve_classes(info, 3, labels=None)


def test_duration_falls_back_to_config_yaml(run_dir, tmp_path):
    run = tmp_path / "old-run"
    shutil.copytree(run_dir, run)
    labels = json.loads((run / "labels.json").read_text())
    del labels["duration"]
    (run / "labels.json").write_text(json.dumps(labels))
    assert loading.describe_model(run / "model.keras").duration == 1.0


def test_parse_labels():
    assert loading.parse_labels(" neutral, happy ,sad") == ["neutral", "happy", "sad"]
    for bad in ("happy", "a,,b", "a,b,a"):
        with pytest.raises(ParameterError, match=bad):
            loading.parse_labels(bad)


def test_broken_labels_json_is_a_model_error(tmp_path):
    (tmp_path / "labels.json").write_text('{"classes": "happy"}')
    with pytest.raises(ModelError, match="classes"):
        loading.read_labels_file(tmp_path / "labels.json")


def test_corrupt_model_files_are_refused_before_keras_sees_them(tmp_path, run_dir):
    (tmp_path / "junk.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ModelError, match="not a Keras .keras archive"):
        loading.load_keras_model(tmp_path / "junk.keras")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes((run_dir / "model.h5").read_bytes()[:4])
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
    src, dst = run_dir / "model.keras", tmp_path / "foreign.keras"
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
    model = loading.load_keras_model(run_dir / "model.keras")
    info = loading.describe_model(run_dir / "model.keras")
    assert loading.window_samples(model, info) == 16000
    assert model(np.zeros((1, 16000), np.float32)).shape == (1, 3)
