"""Small layers of the Whisper encoder backbone: frame masking and the sinusoidal positions.

The transformer blocks themselves are keras-hub's ``WhisperEncoder``; these only let the encoder
run on a batch of clips of different lengths (see ``backbone.py``).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def sinusoids(length: int, channels: int, *, max_timescale: float = 10_000.0) -> np.ndarray:
    """Whisper's fixed encoder positions (``whisper/model.py``): ``(length, channels)`` float32.

    ``[sin(t * w_0) ... sin(t * w_{c/2-1}), cos(t * w_0) ... cos(t * w_{c/2-1})]`` with
    ``w_i = max_timescale ** (-i / (c/2 - 1))``; ``channels`` must be even and >= 4.
    """
    half = channels // 2
    increment = np.log(max_timescale) / (half - 1)
    inv_timescales = np.exp(-increment * np.arange(half))
    scaled = np.arange(length)[:, None] * inv_timescales[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


@keras.saving.register_keras_serializable(package="ser_tf")
class FrameMasking(keras.layers.Layer):
    """Zero the padded frames: ``(batch, frames, channels) * mask[..., None]``.

    Applied to the log-mel input and to the first conv's output, so that the two convs see zeros
    past a clip's end, exactly as they see their own zero padding when the clip runs alone.

    Call args:
        inputs: ``(batch, frames, channels)``.
        frame_mask: ``(batch, frames)``, nonzero / True for real frames.
    """

    def call(self, inputs, frame_mask):
        return inputs * ops.cast(ops.expand_dims(frame_mask, -1), inputs.dtype)


@keras.saving.register_keras_serializable(package="ser_tf")
class StridedMask(keras.layers.Layer):
    """Frame mask after a stride-2 conv with padding 1: ``mask[:, ::2]`` as bool.

    With a clip of ``n`` real input frames, ``conv2`` (kernel 3, stride 2, one zero on each side)
    gives ``ceil(n / 2)`` frames that depend on real frames only, the ones ``mask[:, ::2]`` keeps.

    Call args:
        inputs: ``(batch, frames)`` mask, nonzero / True for real frames.

    Returns:
        ``(batch, ceil(frames / 2))`` bool.
    """

    def __init__(self, *, stride: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.stride = int(stride)

    def call(self, inputs):
        return ops.cast(inputs[:, :: self.stride], "bool")

    def get_config(self):
        config = super().get_config()
        config["stride"] = self.stride
        return config


@keras.saving.register_keras_serializable(package="ser_tf")
class WaveformFrameMask(keras.layers.Layer):
    """Sample mask -> mask of the ``WhisperLogMel`` frames: ``mask[:, hop - 1 :: hop]``.

    A clip of ``n`` real samples has ``n // hop_length`` log-mel frames, frame ``t`` being real
    when sample ``(t + 1) * hop_length - 1`` is; the result has ``samples // hop_length`` frames,
    as many as ``WhisperLogMel`` gives for the padded batch.

    Call args:
        inputs: ``(batch, samples)`` sample mask, nonzero / True for real samples (a prefix).

    Returns:
        ``(batch, samples // hop_length)`` int32.
    """

    def __init__(self, *, hop_length: int = 160, **kwargs):
        super().__init__(**kwargs)
        self.hop_length = int(hop_length)

    def call(self, inputs):
        return ops.cast(ops.cast(inputs[:, self.hop_length - 1 :: self.hop_length], "bool"), "int32")

    def get_config(self):
        config = super().get_config()
        config["hop_length"] = self.hop_length
        return config
