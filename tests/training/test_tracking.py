"""ser_tf.training.tracking: the hparams flattening, the W&B mode decision, the settings checks, and
the confusion-matrix cadence of a real (tiny) Keras fit read back from its TensorBoard event files.

The whole train.py path (hparams, per-class recall, images, the W&B offline run) is checked on the
suite's one tiny training run, in ``test_train_workflow.py``.
"""

import io
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from ser_tf.errors import ConfigError, MissingDependencyError
from ser_tf.settings import TrackingConfig
from ser_tf.training import tracking
from ser_tf.training.callbacks import ValidationMetrics


def test_flat_hparams_gives_scalars_under_dotted_keys():
    flat = tracking.flat_hparams({"seed": 1, "train": {"learning_rate": 1e-3, "reduce_lr": None,
                                                       "early_stopping": {"monitor": "val_ua"}},
                                  "data": {"corpora": ["demo=/x"], "scan_options": {}}})
    assert flat == {"seed": 1, "train.learning_rate": 1e-3, "train.reduce_lr": "null",
                    "train.early_stopping.monitor": "val_ua", "data.corpora": '["demo=/x"]',
                    "data.scan_options": "{}"}


def test_wandb_mode_online_only_with_a_key_or_login(tmp_path):
    absent = str(tmp_path / "no-netrc")
    mode, why = tracking.wandb_mode({"NETRC": absent})
    assert mode == "offline" and "wandb sync" in why and "WANDB_API_KEY" in why
    assert tracking.wandb_mode({"NETRC": absent, "WANDB_API_KEY": "k" * 40}) == ("online", None)
    assert tracking.wandb_mode({"WANDB_MODE": "disabled", "WANDB_API_KEY": "k"}) == ("disabled", None)
    netrc = tmp_path / "netrc"  # what `wandb login` writes
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    netrc.chmod(0o600)
    assert tracking.wandb_mode({"NETRC": str(netrc)}) == ("online", None)
    env = {"NETRC": str(netrc), "WANDB_BASE_URL": "https://wandb.example.org"}  # a login for another host
    assert tracking.wandb_mode(env)[0] == "offline"


@pytest.mark.parametrize("settings, message", [
    (TrackingConfig(confusion_matrix_every=0), r"confusion_matrix_every must be an integer >= 1.*got 0"),
    (TrackingConfig(wandb_project="team/proj"), r"wandb_project.*'team/proj'"),
])
def test_bad_settings_name_key_and_value(settings, message):
    with pytest.raises(ConfigError, match=message):
        tracking.check_settings(settings)


def test_missing_wandb_says_what_to_install(monkeypatch):
    # wandb may be installed here; a None entry in sys.modules is how Python spells "not importable".
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(MissingDependencyError, match=r"pip install -r requirements-extras\.txt"):
        tracking.require_wandb()


class _StopAfter(keras.callbacks.Callback):
    """Stops training the way EarlyStopping does: ``stop_training`` set in ``on_epoch_end``."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


def _images(log_dir):
    """``{step: decoded RGBA image}`` of the ``confusion_matrix`` tag in ``log_dir``."""
    images = {}
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "confusion_matrix":
                    png = value.tensor.string_val[2]  # [width, height, png bytes]
                    images[event.step] = np.asarray(Image.open(io.BytesIO(png)))
    return images


def test_confusion_matrix_every_n_epochs_and_at_the_stopping_epoch(tmp_path):
    """every=2, stopped after the 5th of 9 epochs: images at epochs 2, 4 and 5 (steps 1, 3, 4)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((24, 4)).astype("float32"), np.arange(24) % 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    val = tf.data.Dataset.from_tensor_slices((x[:9], y[:9])).batch(4)
    context = tracking.TrackingContext(TrackingConfig(confusion_matrix_every=2), ("a", "b", "c"),
                                       {"seed": 0}, "run", "holdout")
    validation = ValidationMetrics(val, y[:9], class_names=context.class_names)
    tracker = tracking.make_trackers(validation, context=context, log_dir=tmp_path / "logs", fold_dir=tmp_path)
    model.fit(x, y, epochs=9, batch_size=8, verbose=0, callbacks=[validation, _StopAfter(4), tracker])
    images = _images(tmp_path / "logs" / "validation")
    assert sorted(images) == [1, 3, 4]
    assert all(image.ndim == 3 and image.shape[2] == 4 and image.shape[0] > 100 for image in images.values())
    assert not (tmp_path / "wandb").exists()  # no project, no W&B
