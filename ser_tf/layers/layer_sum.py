"""A learned mix of an encoder's hidden states (SUPERB's weighted layer sum).

Self-supervised speech encoders (HuBERT, wav2vec 2.0, Whisper) carry different information in
different layers: prosody and speaker traits sit lower than phonetic content. Pooling a learned
softmax-weighted sum of every layer's output, rather than the last layer's alone, lets a
downstream head pick its mix (Yang et al., 2021, "SUPERB").
"""

from __future__ import annotations

import keras
from keras import ops

from ser_tf.errors import ParameterError


@keras.saving.register_keras_serializable(package="ser_tf")
class WeightedLayerSum(keras.layers.Layer):
    """``sum_i softmax(w)_i * h_i`` over a list of same-shaped hidden states.

    The logits ``w`` (one per input, weight ``layer_weights``) start equal, as HF initialises them
    (``1 / n``), so the layer starts as a plain average; they are learned with the head. The sum
    is computed in float32 and returned in the layer's compute dtype.

    Call args:
        inputs: a list of ``n >= 1`` tensors of one shape, e.g. ``(batch, time, dim)`` each.

    Returns:
        A tensor of the inputs' shape. A Keras mask on the first input is passed through.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
            input_shape[0], (list, tuple)
        ):
            raise ParameterError(
                f"WeightedLayerSum needs a non-empty list of tensors, got input shape {input_shape!r}"
            )
        shapes = [tuple(shape) for shape in input_shape]
        if any(len(shape) != len(shapes[0]) or shape[1:] != shapes[0][1:] for shape in shapes):
            raise ParameterError(f"WeightedLayerSum needs inputs of one shape, got {shapes!r}")
        count = len(shapes)
        self.layer_weights = self.add_weight(
            name="layer_weights", shape=(count,), initializer=keras.initializers.Constant(1.0 / count)
        )

    def call(self, inputs):
        weights = ops.softmax(ops.cast(self.layer_weights, "float32"))
        stacked = ops.stack([ops.cast(x, "float32") for x in inputs], axis=-1)  # (..., n)
        return ops.cast(ops.sum(stacked * weights, axis=-1), self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0]
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
