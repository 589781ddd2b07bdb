"""Tests of ser_tf/models/saving.py: a saved model loads in a fresh Python as the README says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

from ser_tf.layers import LogMelSpectrogram, StatisticsPooling
from ser_tf.settings import TrainConfig
from ser_tf.training.optim import make_optimizer
from tests.helpers import waveform_batch

ROOT = Path(__file__).resolve().parents[2]
# The README's `ser_tf.load_keras_model` recipe ("Use it from Python"), apart from the paths and the input.
LOAD_SCRIPT = """
import json, sys
import numpy as np
import ser_tf

x = np.load(sys.argv[1])
out = {}
for path in sys.argv[2:]:
    model = ser_tf.load_keras_model(path)
    assert model.optimizer is not None  # compiled, as keras.saving.load_model does by default
    out[path] = model.predict(x, verbose=0).tolist()
print(json.dumps(out))
"""


def assert_reloads_in_a_fresh_process(model, x, tmp_path, *, atol: float = 1e-5) -> None:
    """Save compiled ``model`` as ``.keras`` and ``.h5``; a fresh Python loading each with the
    README's recipe (``ser_tf.load_keras_model``) predicts on ``x`` what ``model`` does."""
    expected = model.predict(x, verbose=0)
    paths = [tmp_path / "model.keras", tmp_path / "model.h5"]
    for path in paths:
        model.save(path)
    np.save(tmp_path / "x.npy", x)
    done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(tmp_path / "x.npy"), *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = json.loads(done.stdout.strip().splitlines()[-1])
    for path in paths:
        np.testing.assert_allclose(predictions[str(path)], expected, atol=atol, err_msg=path.suffix)


def _tiny_model():
    waveform = keras.Input(shape=(8000,), name="waveform")
    x = LogMelSpectrogram(n_mels=16, name="log_mel")(waveform)
    x = StatisticsPooling(name="stats")(x)
    return keras.Model(waveform, keras.layers.Dense(3, activation="softmax", name="probs")(x), name="tiny")


def test_saved_models_load_in_a_fresh_process_after_import_ser_tf(tmp_path, rng):
    keras.utils.set_random_seed(0)
    model = _tiny_model()
    x = waveform_batch(rng, batch=2, seconds=0.5)
    # Compiled as a run compiles it (warm-up then linear decay: ser_tf's WarmupThen schedule),
    # so reloading with Keras's default compile=True needs that class registered too.
    train = TrainConfig(optimizer="adamw", learning_rate=1e-3, lr_schedule="linear", warmup_ratio=0.5, epochs=2)
    optimizer = make_optimizer(train=train, steps_per_epoch=2)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, np.array([0, 2]), epochs=1, verbose=0)
    assert_reloads_in_a_fresh_process(model, x, tmp_path)
