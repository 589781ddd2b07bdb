"""SpecAugment time and frequency masking (Park et al., 2019), without time warping.

Runs inside the model right after the front-end, so it sees exactly the features the network
sees and needs no separate data pipeline step. It is the identity unless called with
``training=True`` (``model.fit`` does; ``predict``/``evaluate`` and ``model(x)`` do not).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ser_tf.errors import ParameterError


def _band_mask(batch, size, *, count: int, max_width: int, seed_generator):
    """``(batch, size)`` bool, True inside ``count`` random bands of width ``U{0..max_width}``."""
    shape = (batch, count)
    size_f = tf.cast(size, tf.float32)
    # Widths cannot exceed the axis: a 20-frame mask on a 10-frame input covers at most 10.
    limit = tf.minimum(float(max_width), size_f)
    u_width = keras.random.uniform(shape, seed=seed_generator)
    u_start = keras.random.uniform(shape, seed=seed_generator)
    width = tf.floor(u_width * (limit + 1.0))
    width = tf.minimum(width, limit)  # guards the u == 1.0 edge
    start = tf.floor(u_start * (size_f - width + 1.0))
    positions = tf.cast(tf.range(size), tf.float32)[None, None, :]  # (1, 1, size)
    inside = (positions >= start[..., None]) & (positions < (start + width)[..., None])
    return tf.reduce_any(inside, axis=1)


@keras.saving.register_keras_serializable(package="ser_tf")
class SpecAugment(keras.layers.Layer):
    """Random time and frequency masks on ``(batch, frames, bins)`` features, training only.

    Each example gets its own masks: ``time_masks`` bands of ``U{0..time_width}`` consecutive
    frames and ``freq_masks`` bands of ``U{0..freq_width}`` consecutive bins, set to
    ``mask_value``. With min-max normalised log-mels the default 0.0 is the ``top_db`` floor,
    i.e. silence; with mean/variance normalisation it is the utterance mean.

    Args:
        time_masks: number of time masks (>= 0).
        time_width: largest time mask, frames (>= 0).
        freq_masks: number of frequency masks (>= 0).
        freq_width: largest frequency mask, bins (>= 0).
        mask_value: value written into masked cells.
        seed: optional seed of the layer's random stream.

    Call args:
        inputs: ``(batch, frames, bins)``.
        training: masks are drawn only when True.

    Returns:
        Same shape and dtype as ``inputs``.
    """

    def __init__(
        self,
        *,
        time_masks: int = 2,
        time_width: int = 20,
        freq_masks: int = 2,
        freq_width: int = 8,
        mask_value: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("time_masks", time_masks),
            ("time_width", time_width),
            ("freq_masks", freq_masks),
            ("freq_width", freq_width),
        ):
            if int(value) != value or value < 0:
                raise ParameterError(f"SpecAugment: {name} must be an integer >= 0, got {value!r}")
        self.time_masks = int(time_masks)
        self.time_width = int(time_width)
        self.freq_masks = int(freq_masks)
        self.freq_width = int(freq_width)
        self.mask_value = float(mask_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training:
            return inputs
        if inputs.shape.rank != 3:
            raise ParameterError(
                f"{self.name} expects (batch, frames, bins) features, got shape {inputs.shape}"
            )
        shape = tf.shape(inputs)
        batch, frames, bins = shape[0], shape[1], shape[2]
        masked = tf.zeros([batch, frames, bins], dtype=tf.bool)
        if self.time_masks and self.time_width:
            time = _band_mask(
                batch,
                frames,
                count=self.time_masks,
                max_width=self.time_width,
                seed_generator=self.seed_generator,
            )
            masked = masked | time[:, :, None]
        if self.freq_masks and self.freq_width:
            freq = _band_mask(
                batch,
                bins,
                count=self.freq_masks,
                max_width=self.freq_width,
                seed_generator=self.seed_generator,
            )
            masked = masked | freq[:, None, :]
        fill = tf.cast(self.mask_value, inputs.dtype)
        return tf.where(masked, fill, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "time_masks": self.time_masks,
                "time_width": self.time_width,
                "freq_masks": self.freq_masks,
                "freq_width": self.freq_width,
                "mask_value": self.mask_value,
                "seed": self.seed,
            }
        )
        return config
