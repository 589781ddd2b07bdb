"""Padding masks for a waveform batch."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ser_tf")
class AllValidMask(keras.layers.Layer):
    """A ``(batch, samples)`` int32 all-ones padding mask for a waveform batch without padding information."""

    def call(self, waveform):
        return ops.ones(ops.shape(waveform), dtype="int32")

    def compute_output_shape(self, input_shape):
        return input_shape
