"""The classifier on top of a ``HubertBackbone``: waveform in, emotion probabilities out.

``waveform (batch, samples)`` -> backbone -> [learned weighted sum of all hidden states, as in
SUPERB] -> [Dense projection, as HF's ``…ForSequenceClassification``] -> masked mean or attention
pooling over frames -> dropout -> softmax. The model takes raw audio only (the registry contract),
so the backbone runs with every sample marked real: the HF convention for the base checkpoints,
whose feature extractors return no attention mask.
"""

from __future__ import annotations

import keras
from keras import ops

from ser_tf.errors import ParameterError
from ser_tf.layers.pooling import AttentionPooling, MaskedMeanPooling
from ser_tf.models.hubert.layers import AllValidMask

POOLINGS = ("mean", "attention")


@keras.saving.register_keras_serializable(package="ser_tf")
class WeightedLayerSum(keras.layers.Layer):
    """``sum_i softmax(w)_i * h_i`` over a list of same-shaped hidden states.

    The logits ``w`` start equal (HF initialises them to ``1 / n``), i.e. a plain average, and are
    learned with the head. Returns the sum in the layer's compute dtype.
    """

    def build(self, input_shape):
        count = len(input_shape)
        if count < 1:
            raise ParameterError("WeightedLayerSum needs at least one input tensor")
        self.layer_weights = self.add_weight(
            name="layer_weights", shape=(count,), initializer=keras.initializers.Constant(1.0 / count)
        )
        self.built = True

    def call(self, inputs):
        weights = ops.softmax(ops.cast(self.layer_weights, "float32"))
        stacked = ops.stack([ops.cast(x, "float32") for x in inputs], axis=0)
        total = ops.sum(stacked * ops.reshape(weights, (-1, 1, 1, 1)), axis=0)
        return ops.cast(total, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def build_classifier(
    backbone,
    *,
    num_classes: int,
    pooling: str = "mean",
    weighted_layer_sum: bool = False,
    projection_dim: int = 256,
    dropout: float = 0.1,
    attention_units: int = 64,
    name: str = "hubert_classifier",
) -> keras.Model:
    """A functional classifier around ``backbone``.

    Args:
        backbone: a ``HubertBackbone``.
        num_classes: output classes (>= 2).
        pooling: ``"mean"`` (masked mean over frames) or ``"attention"`` (additive attention).
        weighted_layer_sum: pool a learned softmax-weighted sum of all hidden states instead of
            the last one.
        projection_dim: width of a Dense projection before pooling (HF ``classifier_proj_size``);
            0 pools the hidden states directly.
        dropout: dropout before the output layer, in [0, 1).
        attention_units: hidden size of the attention-pooling scorer.

    Returns:
        ``keras.Model`` mapping ``(batch, samples)`` float32 to ``(batch, num_classes)``
        probabilities (float32 even under a mixed-precision policy).
    """
    if pooling not in POOLINGS:
        raise ParameterError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if int(num_classes) < 2:
        raise ParameterError(f"num_classes must be >= 2, got {num_classes!r}")
    if int(projection_dim) < 0:
        raise ParameterError(f"projection_dim must be >= 0, got {projection_dim!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ParameterError(f"dropout must be in [0, 1), got {dropout!r}")

    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    padding_mask = AllValidMask(name="all_valid_mask")(waveform)
    outputs = backbone({"waveform": waveform, "padding_mask": padding_mask})
    if weighted_layer_sum:
        x = WeightedLayerSum(name="weighted_layer_sum")(outputs["hidden_states"])
    else:
        x = outputs["sequence_output"]
    if projection_dim:
        x = keras.layers.Dense(int(projection_dim), name="projector")(x)
    if pooling == "mean":
        x = MaskedMeanPooling(name="pooling")(x, mask=outputs["padding_mask"])
    else:
        x = AttentionPooling(units=attention_units, name="pooling")(x, mask=outputs["padding_mask"])
    x = keras.layers.Dropout(float(dropout), name="head_dropout")(x)
    probabilities = keras.layers.Dense(
        int(num_classes), activation="softmax", dtype="float32", name="predictions"
    )(x)
    return keras.Model(waveform, probabilities, name=name)
