"""Pooling a sequence of frame features into one utterance vector, honouring padding masks.

Every layer takes ``(batch, time, dim)`` features and a boolean mask ``(batch, time)`` (True = a real
frame), either as the Keras mask propagated from an upstream layer or as the ``mask`` call
argument. A row whose mask is all False pools to zeros instead of NaN. Masked arithmetic runs in
float32 even under a mixed-precision policy, because a softmax over fp16 logits with -1e9 fill
values overflows.
"""

from __future__ import annotations

import keras
from keras import ops

from ser_tf.errors import ParameterError

# Added to the denominator of masked means and attention weights: keeps an all-padding row at 0.
_EPSILON = 1e-9


def _float_mask(inputs, mask):
    """``(batch, time, 1)`` float32 mask, all ones when ``mask`` is None."""
    if mask is None:
        return ops.ones_like(inputs[..., :1], dtype="float32")
    return ops.expand_dims(ops.cast(mask, "float32"), -1)


def _weighted_mean_std(values, weights):
    """``(mean, std)``, each ``(batch, dim)``, of float32 ``values`` under ``weights``.

    ``weights`` is ``(batch, time, 1)`` and sums to 1 over time (or to 0 for an all-padding row,
    which gives a zero mean). The std has a floor of ``sqrt(1e-5)``, which keeps its gradient
    finite for constant features.
    """
    mean = ops.sum(values * weights, axis=1)
    var = ops.sum(weights * ops.square(values - ops.expand_dims(mean, 1)), axis=1)
    return mean, ops.sqrt(var + 1e-5)


def _stats_output_shape(input_shape):
    """``(batch, 2 * dim)`` for ``[mean, std]`` of ``(batch, time, dim)`` features."""
    dim = input_shape[-1]
    return (input_shape[0], None if dim is None else 2 * dim)


@keras.saving.register_keras_serializable(package="ser_tf")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean over the unmasked time steps.

    Call args:
        inputs: ``(batch, time, dim)`` features.
        mask: optional ``(batch, time)`` bool, True for frames to keep.

    Returns:
        ``(batch, dim)``, in the layer's compute dtype.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        weights = _float_mask(inputs, mask)
        values = ops.cast(inputs, "float32")
        total = ops.sum(values * weights, axis=1)
        count = ops.sum(weights, axis=1)
        return ops.cast(total / ops.maximum(count, _EPSILON), self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is gone

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="ser_tf")
class StatisticsPooling(MaskedMeanPooling):
    """Mean and standard deviation over the unmasked time steps, concatenated (x-vector style).

    The spread of a feature over an utterance (how much pitch or energy varies) carries emotion as
    much as its average does, which a plain mean throws away.

    Call args:
        inputs: ``(batch, time, dim)`` features.
        mask: optional ``(batch, time)`` bool, True for frames to keep.

    Returns:
        ``(batch, 2 * dim)``: ``[mean, std]``, in the layer's compute dtype.
    """

    def call(self, inputs, mask=None):
        weights = _float_mask(inputs, mask)
        weights = weights / ops.maximum(ops.sum(weights, axis=1, keepdims=True), _EPSILON)
        mean, std = _weighted_mean_std(ops.cast(inputs, "float32"), weights)
        return ops.cast(ops.concatenate([mean, std], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return _stats_output_shape(input_shape)


@keras.saving.register_keras_serializable(package="ser_tf")
class AttentionPooling(keras.layers.Layer):
    """Additive (Bahdanau-style) attention pooling over time.

    ``score_t = v . tanh(W h_t + b)``; ``alpha = softmax(score)`` over the unmasked steps;
    output ``sum_t alpha_t h_t``. The weights ``alpha`` of the last call are not kept; call
    ``attention_weights(inputs, mask)`` to inspect them.

    Args:
        units: size of the hidden layer of the scoring MLP (> 0).

    Call args:
        inputs: ``(batch, time, dim)`` features.
        mask: optional ``(batch, time)`` bool, True for frames to keep.

    Returns:
        ``(batch, dim)``, in the layer's compute dtype.
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        if int(units) != units or units <= 0:
            raise ParameterError(
                f"AttentionPooling: units must be a positive integer, got {units!r}"
            )
        self.units = int(units)
        self.supports_masking = True

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ParameterError(f"AttentionPooling needs a known feature size, got {input_shape}")
        self.kernel = self.add_weight(
            name="kernel", shape=(dim, self.units), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units, 1), initializer="glorot_uniform"
        )

    def attention_weights(self, inputs, mask=None):
        """``(batch, time)`` float32 weights that sum to 1 over unmasked steps (0 when none)."""
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.cast(ops.matmul(hidden, self.score_vector), "float32")  # (batch, time, 1)
        weights = _float_mask(inputs, mask)
        scores = ops.where(weights > 0, scores, ops.full_like(scores, -1e9))
        alpha = ops.softmax(scores, axis=1) * weights
        alpha = alpha / ops.maximum(ops.sum(alpha, axis=1, keepdims=True), _EPSILON)
        return ops.squeeze(alpha, -1)

    def call(self, inputs, mask=None):
        alpha = self.attention_weights(inputs, mask)
        pooled = ops.sum(ops.cast(inputs, "float32") * ops.expand_dims(alpha, -1), axis=1)
        return ops.cast(pooled, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


@keras.saving.register_keras_serializable(package="ser_tf")
class AttentiveStatisticsPooling(AttentionPooling):
    """Attention-weighted mean and standard deviation over time, concatenated.

    The frame weights ``alpha`` are those of ``AttentionPooling`` (one scalar per frame, 0 on
    masked frames); the output is ``[sum_t alpha_t h_t, sqrt(sum_t alpha_t (h_t - mean)^2)]``
    (Okabe et al., 2018, "Attentive statistics pooling"; the pooling of ECAPA-TDNN, which adds
    per-channel weights). It sees both which frames carry the emotion and how much the features
    vary across them.

    Args and call args: as ``AttentionPooling`` (``units`` > 0; ``(batch, time, dim)`` inputs and
    an optional ``(batch, time)`` bool mask, True for frames to keep).

    Returns:
        ``(batch, 2 * dim)``: ``[mean, std]``, in the layer's compute dtype. An all-padding row
        gives a zero mean and the std floor ``sqrt(1e-5)``.
    """

    def call(self, inputs, mask=None):
        alpha = ops.expand_dims(self.attention_weights(inputs, mask), -1)
        mean, std = _weighted_mean_std(ops.cast(inputs, "float32"), alpha)
        return ops.cast(ops.concatenate([mean, std], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return _stats_output_shape(input_shape)
