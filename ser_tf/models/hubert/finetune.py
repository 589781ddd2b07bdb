"""Fine-tuning controls: which parts of a HuBERT classifier train, and when.

Two knobs (``model.*`` config keys):
    ``freeze_feature_encoder_epochs: N`` - the conv feature encoder is frozen for the first N
        epochs, then trained with the rest (the usual recipe: the randomly initialised head first
        settles on top of stable features).
    ``freeze_layers: K`` - only the top K transformer layers (plus, for pre-LN models, the final
        encoder LayerNorm) and the head train, for the whole run; the feature encoder stays frozen.

Keras 3 traces ``model.trainable_weights`` into the compiled train function once, so flipping
``trainable`` mid-``fit`` does nothing by itself: ``FeatureEncoderSchedule`` rebuilds the train
function (``make_train_function(force=True)``) whenever it changes the flags. The optimizer must
also know the weights it will later update: Keras builds it from the weights trainable at the
first step and then refuses new ones, so the schedule builds the optimizer at ``on_train_begin``
while everything is trainable, and only then freezes the encoder.
"""

from __future__ import annotations

import logging
from typing import List, Mapping, Optional

import keras

from ser_tf.errors import ConfigError, ModelError

log = logging.getLogger(__name__)


def find_backbone(model: keras.Model):
    """The ``HubertBackbone`` inside ``model`` (or ``model`` itself)."""
    from ser_tf.models.hubert.backbone import HubertBackbone

    if isinstance(model, HubertBackbone):
        return model
    for layer in model.layers:
        if isinstance(layer, HubertBackbone):
            return layer
    raise ModelError(f"model {model.name!r} has no HubertBackbone layer")


def set_feature_encoder_trainable(model: keras.Model, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze the conv feature encoder of ``model``'s backbone."""
    find_backbone(model).feature_encoder.trainable = bool(trainable)


def freeze_layers(model: keras.Model, top_k: int) -> None:
    """Train only the top ``top_k`` transformer layers of the backbone (and everything above it).

    Everything below them - feature encoder, feature projection, mask embedding, position conv,
    the post-LN input LayerNorm and the lower layers - is frozen. ``top_k`` equal to the number of
    layers leaves only the feature encoder frozen; 0 freezes the whole backbone.

    Raises:
        ConfigError: ``top_k`` outside ``[0, num_layers]``.
    """
    backbone = find_backbone(model)
    if int(top_k) != top_k or not 0 <= top_k <= backbone.num_layers:
        raise ConfigError(f"model.freeze_layers must be an integer in [0, {backbone.num_layers}], got {top_k!r}")
    for layer in (backbone.feature_encoder, backbone.feature_projection, backbone.time_masking,
                  backbone.pos_conv_embed):
        layer.trainable = False
    # Post-LN models normalise the transformer input; pre-LN models normalise its output (top).
    backbone.encoder_layer_norm.trainable = backbone.normalize_first and top_k > 0
    first_trained = backbone.num_layers - int(top_k)
    for i, layer in enumerate(backbone.transformer_layers):
        layer.trainable = i >= first_trained


def _unknown_to_optimizer(optimizer, variables) -> List[str]:
    """Paths of ``variables`` a built Keras optimizer was not built with ([] if it cannot tell)."""
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    known = getattr(optimizer, "_trainable_variables_indices", None)
    if not getattr(optimizer, "built", False) or known is None:
        return []
    return [v.path for v in variables if optimizer._var_key(v) not in known]


class FeatureEncoderSchedule(keras.callbacks.Callback):
    """Freeze the feature encoder for the first ``frozen_epochs`` epochs, then unfreeze it.

    The state is set from the epoch number at each epoch start, so a resumed run
    (``initial_epoch > 0``) gets the right one.
    """

    def __init__(self, frozen_epochs: int):
        super().__init__()
        if int(frozen_epochs) != frozen_epochs or frozen_epochs < 0:
            raise ConfigError(f"model.freeze_feature_encoder_epochs must be an integer >= 0, got {frozen_epochs!r}")
        self.frozen_epochs = int(frozen_epochs)
        self._frozen: Optional[bool] = None

    def on_train_begin(self, logs=None):
        self._frozen = None
        encoder = find_backbone(self.model).feature_encoder
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            # Without a distribution strategy Keras builds the optimizer lazily, from whatever is
            # trainable at the first step; build it now, while the encoder is still trainable.
            with self.model.distribute_strategy.scope():
                optimizer.build(self.model.trainable_variables)
        unknown = _unknown_to_optimizer(self.model.optimizer, encoder.weights)
        if unknown and self.frozen_epochs > 0:
            raise ModelError(
                "the optimizer was built without the feature encoder's weights (e.g. "
                f"{unknown[0]}), so they could not be unfrozen after epoch {self.frozen_epochs}; "
                "leave the feature encoder trainable when calling fit - this callback freezes it"
            )

    def on_epoch_begin(self, epoch, logs=None):
        frozen = epoch < self.frozen_epochs
        if frozen == self._frozen:
            return
        set_feature_encoder_trainable(self.model, not frozen)
        self._frozen = frozen
        # The compiled step captured the old trainable set; trace a new one.
        self.model.make_train_function(force=True)
        log.info("epoch %d: feature encoder %s", epoch + 1, "frozen" if frozen else "trainable")


def make_callbacks(*, model: keras.Model, config: Mapping) -> list:
    """The registry hook: the feature-encoder schedule for ``model`` from ``config['model']``.

    No schedule when ``freeze_layers`` is set (the encoder is frozen throughout) or when
    ``freeze_feature_encoder_epochs`` is 0.
    """
    model_cfg = dict(config.get("model") or {})
    if model_cfg.get("freeze_layers") is not None:
        return []
    epochs = model_cfg.get("freeze_feature_encoder_epochs", 3)
    if not epochs:
        return []
    return [FeatureEncoderSchedule(epochs)]
