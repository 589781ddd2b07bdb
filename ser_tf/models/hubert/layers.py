"""Building blocks of the HuBERT / wav2vec 2.0 encoder, as serialisable Keras layers.

Shapes follow Keras (channels last): a waveform is ``(batch, samples)``, frame features are
``(batch, frames, channels)``. Masks are ``(batch, samples)`` or ``(batch, frames)`` with
True (or 1) for real samples / frames, the keras-hub ``padding_mask`` convention. Every layer
reproduces the matching module of Hugging Face's ``modeling_wav2vec2.py`` to float32 round-off,
so that converted checkpoints give the reference outputs.
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import ops

from ser_tf.errors import ParameterError

# HF / fairseq LayerNorm and GroupNorm epsilon.
LAYER_NORM_EPSILON = 1e-5
FEATURE_NORMS = ("group", "layer")


def frame_count(num_samples: int, *, kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Frames the conv feature encoder makes from ``num_samples`` samples (0 if too short).

    ``L -> floor((L - kernel) / stride) + 1`` per layer, as torch's ``Conv1d`` without padding. With
    the standard kernels/strides that is one frame per 320 samples (20 ms at 16 kHz) after a
    400-sample receptive field: 16000 samples give 49 frames.
    """
    length = int(num_samples)
    for kernel, stride in zip(kernels, strides):
        length = (length - int(kernel)) // int(stride) + 1
        if length <= 0:
            return 0
    return length


def _check_conv_spec(conv_dims, conv_kernels, conv_strides):
    if not (len(conv_dims) == len(conv_kernels) == len(conv_strides)) or not conv_dims:
        raise ParameterError(
            "conv_dims, conv_kernels and conv_strides must be non-empty and of equal length, got "
            f"{list(conv_dims)!r}, {list(conv_kernels)!r}, {list(conv_strides)!r}"
        )


@keras.saving.register_keras_serializable(package="ser_tf")
class WaveformNormalization(keras.layers.Layer):
    """Zero-mean, unit-variance normalisation of each waveform over its real samples.

    Reproduces ``Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm`` (``do_normalize=True``):
    ``(x - mean) / sqrt(var + epsilon)`` over the unpadded part, padded samples set to 0.

    Call args:
        waveform: ``(batch, samples)`` float.
        padding_mask: ``(batch, samples)``, True/1 for real samples.
    """

    def __init__(self, *, epsilon: float = 1e-7, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, waveform, padding_mask):
        x = ops.cast(waveform, "float32")
        valid = ops.cast(ops.cast(padding_mask, "bool"), "float32")
        count = ops.maximum(ops.sum(valid, axis=-1, keepdims=True), 1.0)
        mean = ops.sum(x * valid, axis=-1, keepdims=True) / count
        var = ops.sum(ops.square(x - mean) * valid, axis=-1, keepdims=True) / count
        out = (x - mean) / ops.sqrt(var + self.epsilon) * valid
        return ops.cast(out, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="ser_tf")
class FeatureEncoder(keras.layers.Layer):
    """The conv front-end: waveform ``(batch, samples)`` -> features ``(batch, frames, conv_dims[-1])``.

    Layer ``i`` is ``Conv1D(conv_dims[i], conv_kernels[i], conv_strides[i], 'valid')`` then a norm
    then exact GELU. ``feature_norm='group'`` (HuBERT/wav2vec2 base) normalises only the first layer,
    with a GroupNorm of one group per channel (statistics over time, so padding affects them);
    ``'layer'`` (large) puts a LayerNorm over channels after every conv.

    Args:
        conv_dims: output channels per layer (512 x 7 for the public checkpoints).
        conv_kernels: kernel sizes in samples/frames, e.g. ``(10, 3, 3, 3, 3, 2, 2)``.
        conv_strides: strides, e.g. ``(5, 2, 2, 2, 2, 2, 2)`` (total 320 = 20 ms at 16 kHz).
        feature_norm: ``"group"`` or ``"layer"``.
        conv_bias: whether the convs have a bias (False in the public checkpoints).
    """

    def __init__(
        self,
        *,
        conv_dims: Sequence[int],
        conv_kernels: Sequence[int],
        conv_strides: Sequence[int],
        feature_norm: str = "group",
        conv_bias: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_conv_spec(conv_dims, conv_kernels, conv_strides)
        if feature_norm not in FEATURE_NORMS:
            raise ParameterError(f"feature_norm must be one of {FEATURE_NORMS}, got {feature_norm!r}")
        self.conv_dims = [int(d) for d in conv_dims]
        self.conv_kernels = [int(k) for k in conv_kernels]
        self.conv_strides = [int(s) for s in conv_strides]
        self.feature_norm = feature_norm
        self.conv_bias = bool(conv_bias)
        self.conv_layers, self.norm_layers = [], []
        for i, (dim, kernel, stride) in enumerate(zip(self.conv_dims, self.conv_kernels, self.conv_strides)):
            self.conv_layers.append(
                keras.layers.Conv1D(
                    dim, kernel, strides=stride, padding="valid", use_bias=self.conv_bias,
                    kernel_initializer="he_normal", dtype=self.dtype_policy, name=f"conv_{i}",
                )
            )
            if feature_norm == "layer":
                norm = keras.layers.LayerNormalization(
                    epsilon=LAYER_NORM_EPSILON, dtype=self.dtype_policy, name=f"layer_norm_{i}"
                )
            elif i == 0:
                # One group per channel: each channel is normalised over time (torch GroupNorm).
                norm = keras.layers.GroupNormalization(
                    groups=dim, epsilon=LAYER_NORM_EPSILON, dtype=self.dtype_policy, name="group_norm_0"
                )
            else:
                norm = None
            self.norm_layers.append(norm)

    def build(self, input_shape):
        shape = (input_shape[0], input_shape[1], 1)
        for conv, norm in zip(self.conv_layers, self.norm_layers):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if norm is not None:
                norm.build(shape)
        self.built = True

    def call(self, waveform):
        x = ops.expand_dims(waveform, -1)
        for conv, norm in zip(self.conv_layers, self.norm_layers):
            x = conv(x)
            if norm is not None:
                x = norm(x)
            x = ops.gelu(x, approximate=False)
        return x

    def compute_output_shape(self, input_shape):
        frames = None
        if input_shape[1] is not None:
            frames = frame_count(input_shape[1], kernels=self.conv_kernels, strides=self.conv_strides)
        return (input_shape[0], frames, self.conv_dims[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "conv_dims": self.conv_dims,
            "conv_kernels": self.conv_kernels,
            "conv_strides": self.conv_strides,
            "feature_norm": self.feature_norm,
            "conv_bias": self.conv_bias,
        }


@keras.saving.register_keras_serializable(package="ser_tf")
class FrameMask(keras.layers.Layer):
    """Frame-level padding mask from a sample-level one, as HF's ``_get_feature_vector_attention_mask``.

    The number of valid frames is the conv output length of the number of valid samples; frames
    ``0 .. n-1`` are True. HF writes a 1 at index ``n - 1`` and back-fills, so a clip too short for
    one frame (``n <= 0``) wraps around like a negative Python index; that is reproduced too.

    Call args:
        padding_mask: ``(batch, samples)``, True/1 for real samples.
        features: ``(batch, frames, channels)``, only its frame count is used.

    Returns:
        ``(batch, frames)`` bool.
    """

    def __init__(self, *, conv_kernels: Sequence[int], conv_strides: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.conv_kernels = [int(k) for k in conv_kernels]
        self.conv_strides = [int(s) for s in conv_strides]

    def call(self, padding_mask, features):
        lengths = ops.sum(ops.cast(ops.cast(padding_mask, "bool"), "int32"), axis=-1)
        for kernel, stride in zip(self.conv_kernels, self.conv_strides):
            lengths = ops.floor_divide(lengths - kernel, stride) + 1
        frames = ops.shape(features)[1]
        last = lengths - 1
        last = ops.where(last < 0, last + frames, last)
        positions = ops.arange(frames, dtype="int32")
        return ops.expand_dims(positions, 0) <= ops.expand_dims(last, -1)

    def compute_output_shape(self, padding_mask_shape, features_shape):
        return (features_shape[0], features_shape[1])

    def get_config(self):
        return {**super().get_config(), "conv_kernels": self.conv_kernels, "conv_strides": self.conv_strides}


@keras.saving.register_keras_serializable(package="ser_tf")
class FeatureProjection(keras.layers.Layer):
    """``LayerNorm -> Dense(hidden_dim) -> Dropout`` from conv features to the transformer width.

    Args:
        hidden_dim: transformer width.
        use_layer_norm: HF's ``feat_proj_layer_norm`` (True in every public checkpoint).
        dropout: HF's ``feat_proj_dropout``, in [0, 1).
    """

    def __init__(self, *, hidden_dim: int, use_layer_norm: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.use_layer_norm = bool(use_layer_norm)
        self.dropout = float(dropout)
        self.layer_norm = (
            keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, dtype=self.dtype_policy, name="layer_norm")
            if self.use_layer_norm else None
        )
        self.projection = keras.layers.Dense(self.hidden_dim, dtype=self.dtype_policy, name="projection")
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, input_shape):
        if self.layer_norm is not None:
            self.layer_norm.build(input_shape)
        self.projection.build(input_shape)
        self.built = True

    def call(self, features, training=None):
        x = self.layer_norm(features) if self.layer_norm is not None else features
        return self.dropout_layer(self.projection(x), training=training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "use_layer_norm": self.use_layer_norm,
            "dropout": self.dropout,
        }


def random_span_mask(frame_mask, *, start_prob: float, span: int, seed_generator=None):
    """In-graph random span mask: each valid frame starts a span of ``span`` frames w.p. ``start_prob``.

    A frame is masked when a span started in the ``span`` frames up to and including it; padded
    frames are never masked. Returns ``(batch, frames)`` bool.
    """
    starts = keras.random.uniform(ops.shape(frame_mask), seed=seed_generator) < start_prob
    starts = ops.logical_and(starts, ops.cast(frame_mask, "bool"))
    # Causal max-pool of width `span` spreads each start over the following span-1 frames.
    padded = ops.pad(ops.expand_dims(ops.cast(starts, "float32"), -1), [[0, 0], [span - 1, 0], [0, 0]])
    covered = ops.max_pool(padded, pool_size=span, strides=1, padding="valid")[..., 0] > 0
    return ops.logical_and(covered, ops.cast(frame_mask, "bool"))


@keras.saving.register_keras_serializable(package="ser_tf")
class TimeMasking(keras.layers.Layer):
    """Replaces masked frames with a learned embedding (HF ``masked_spec_embed``).

    With an explicit ``span_mask`` (HuBERT pretraining) those frames are replaced in any mode. Without
    one, in training and when ``mask_time_prob > 0``, random spans of ``mask_time_length`` frames
    are masked, each valid frame starting one with probability ``mask_time_prob / mask_time_length``
    (the span count HF's fine-tuning SpecAugment draws; HF's floor of ``mask_time_min_masks`` spans
    per clip is not reproduced); at inference nothing is masked.

    Args:
        hidden_dim: width of the embedding.
        mask_time_prob: expected share of frames covered by spans in training, in [0, 1).
        mask_time_length: span length in frames (>= 1).
    """

    def __init__(self, *, hidden_dim: int, mask_time_prob: float = 0.0, mask_time_length: int = 10,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(mask_time_prob) < 1.0:
            raise ParameterError(f"mask_time_prob must be in [0, 1), got {mask_time_prob!r}")
        if int(mask_time_length) < 1:
            raise ParameterError(f"mask_time_length must be >= 1, got {mask_time_length!r}")
        self.hidden_dim = int(hidden_dim)
        self.mask_time_prob = float(mask_time_prob)
        self.mask_time_length = int(mask_time_length)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.mask_embedding = self.add_weight(
            name="mask_embedding", shape=(self.hidden_dim,), initializer="random_uniform"
        )
        self.built = True

    def call(self, inputs, frame_mask, span_mask=None, training=None):
        if span_mask is None:
            if not training or self.mask_time_prob <= 0.0:
                return inputs
            span_mask = random_span_mask(
                frame_mask, start_prob=self.mask_time_prob / self.mask_time_length,
                span=self.mask_time_length, seed_generator=self.seed_generator,
            )
        embedding = ops.cast(self.mask_embedding, inputs.dtype)
        return ops.where(ops.expand_dims(ops.cast(span_mask, "bool"), -1), embedding, inputs)

    def compute_output_shape(self, input_shape, *args, **kwargs):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "mask_time_prob": self.mask_time_prob,
            "mask_time_length": self.mask_time_length,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="ser_tf")
class ConvPositionEncoding(keras.layers.Layer):
    """Zeroes padded frames, then adds the weight-normalised convolutional position embedding.

    ``out = x0 + GELU(trim(conv(x0)))`` where ``x0`` is ``x`` with padded frames set to 0 (HF does
    this before the position conv so padding contributes zeros, exactly like the conv's own zero
    padding), ``conv`` is a grouped ``Conv1D(hidden, kernel, groups)`` with ``kernel // 2`` zeros
    each side and ``trim`` drops the last frame when ``kernel`` is even (HF ``SamePad``).

    The kernel is ``weight_g * weight_v / ||weight_v||`` with the norm taken per kernel tap (torch
    ``weight_norm(dim=2)``): ``weight_v`` is ``(kernel, hidden // groups, hidden)`` and ``weight_g``
    is ``(kernel,)``.

    Args:
        kernel_size: conv width in frames (128 in the public checkpoints).
        groups: conv groups (16); must divide the hidden size.
    """

    def __init__(self, *, kernel_size: int = 128, groups: int = 16, **kwargs):
        super().__init__(**kwargs)
        if int(kernel_size) < 1 or int(groups) < 1:
            raise ParameterError(f"kernel_size and groups must be >= 1, got {kernel_size!r}, {groups!r}")
        self.kernel_size = int(kernel_size)
        self.groups = int(groups)

    def build(self, input_shape, *args):
        hidden = int(input_shape[-1])
        if hidden % self.groups:
            raise ParameterError(f"hidden size {hidden} is not divisible by groups={self.groups}")
        fan_in = self.kernel_size * hidden // self.groups
        self.weight_v = self.add_weight(
            name="weight_v", shape=(self.kernel_size, hidden // self.groups, hidden),
            initializer=keras.initializers.RandomNormal(stddev=2.0 * (1.0 / fan_in) ** 0.5),
        )
        self.weight_g = self.add_weight(name="weight_g", shape=(self.kernel_size,), initializer="ones")
        self.bias = self.add_weight(name="bias", shape=(hidden,), initializer="zeros")
        self.built = True

    def kernel(self):
        """The effective ``(kernel, hidden // groups, hidden)`` conv kernel, float32."""
        v = ops.cast(self.weight_v, "float32")
        norm = ops.sqrt(ops.sum(ops.square(v), axis=(1, 2), keepdims=True))
        return ops.reshape(ops.cast(self.weight_g, "float32"), (-1, 1, 1)) * v / norm

    def call(self, inputs, frame_mask):
        x = ops.where(ops.expand_dims(ops.cast(frame_mask, "bool"), -1), inputs, ops.zeros_like(inputs))
        pad = self.kernel_size // 2
        padded = ops.pad(x, [[0, 0], [pad, pad], [0, 0]])
        kernel = ops.cast(self.kernel(), x.dtype)
        # Grouped conv as one conv per group: TF's CPU kernels lack grouped conv and Keras would
        # fall back to an XLA compile that takes tens of seconds for this kernel size.
        pieces = zip(ops.split(padded, self.groups, axis=-1), ops.split(kernel, self.groups, axis=-1))
        y = ops.concatenate([ops.conv(a, k, padding="valid") for a, k in pieces], axis=-1)
        y = y + ops.cast(self.bias, y.dtype)
        if self.kernel_size % 2 == 0:
            y = y[:, :-1, :]
        return x + ops.gelu(y, approximate=False)

    def compute_output_shape(self, input_shape, *args):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "groups": self.groups}
