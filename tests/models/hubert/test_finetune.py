"""Tests of ser_tf/models/hubert/finetune.py: the freeze schedule really changes what trains."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError, ModelError
from ser_tf.models.hubert.finetune import FeatureEncoderSchedule, find_backbone, freeze_layers
from ser_tf.models.registry import build_model, get_arch


class _Snapshots(keras.callbacks.Callback):
    """Copies of chosen weights at the start of training and after every epoch."""

    def __init__(self, variables):
        super().__init__()
        self.variables, self.values = variables, []

    def _take(self):
        self.values.append([keras.ops.convert_to_numpy(v) for v in self.variables])

    def on_train_begin(self, logs=None):
        self._take()

    def on_epoch_end(self, epoch, logs=None):
        self._take()


def _changed(snapshots, epoch, index):
    return not np.array_equal(snapshots.values[epoch][index], snapshots.values[epoch + 1][index])


def _fit(model, callbacks, epochs, rng, run_eagerly=False):
    model.compile(optimizer=keras.optimizers.AdamW(1e-2, clipnorm=1.0), loss="sparse_categorical_crossentropy",
                  jit_compile=False, run_eagerly=run_eagerly)
    x = (0.1 * rng.standard_normal((4, 3000))).astype(np.float32)
    model.fit(x, np.array([0, 1, 0, 1]), batch_size=2, epochs=epochs, callbacks=callbacks, verbose=0)


def test_feature_encoder_frozen_then_unfrozen(rng):
    config = {"model": {"freeze_feature_encoder_epochs": 1}}
    model = build_model("hubert_tiny", num_classes=2, config=config)
    backbone = find_backbone(model)
    watched = [backbone.feature_encoder.conv_layers[0].kernel,
               backbone.transformer_layers[0]._feedforward_output_dense.kernel]
    snapshots = _Snapshots(watched)
    schedule = get_arch("hubert_tiny").make_callbacks(model=model, config=config)
    assert len(schedule) == 1 and isinstance(schedule[0], FeatureEncoderSchedule)
    _fit(model, schedule + [snapshots], epochs=2, rng=rng)
    assert not _changed(snapshots, 0, 0), "feature encoder trained while frozen"
    assert _changed(snapshots, 0, 1)
    assert _changed(snapshots, 1, 0), "feature encoder still frozen after the schedule released it"
    assert backbone.feature_encoder.trainable


def test_freeze_layers_trains_only_the_top_layers_and_head(rng):
    config = {"model": {"freeze_layers": 1}}
    model = build_model("hubert_tiny", num_classes=2, config=config)
    assert get_arch("hubert_tiny").make_callbacks(model=model, config=config) == []
    backbone = find_backbone(model)
    watched = [backbone.feature_encoder.conv_layers[0].kernel, backbone.pos_conv_embed.weight_v,
               backbone.transformer_layers[0]._feedforward_output_dense.kernel,
               backbone.transformer_layers[1]._feedforward_output_dense.kernel,
               model.get_layer("classifier").kernel]
    snapshots = _Snapshots(watched)
    _fit(model, [snapshots], epochs=1, rng=rng, run_eagerly=True)  # static flags: no tracing needed
    assert [_changed(snapshots, 0, i) for i in range(5)] == [False, False, False, True, True]


def test_freeze_layers_rejects_bad_values_and_schedule_checks_optimizer(rng):
    model = build_model("hubert_tiny", num_classes=2, config={"model": {}})
    with pytest.raises(ConfigError, match=r"freeze_layers must be an integer in \[0, 2\], got 3"):
        freeze_layers(model, 3)
    with pytest.raises(ConfigError, match="freeze_feature_encoder_epochs"):
        FeatureEncoderSchedule(-1)
    # An optimizer built while the encoder was frozen could never train it: fail at the start.
    find_backbone(model).feature_encoder.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    with pytest.raises(ModelError, match="optimizer was built without the feature encoder"):
        model.fit(np.zeros((2, 3000), np.float32), np.array([0, 1]), epochs=1, verbose=0,
                  callbacks=[FeatureEncoderSchedule(1)])
