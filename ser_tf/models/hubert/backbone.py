"""The HuBERT / wav2vec 2.0 encoder as a functional Keras model.

``waveform (batch, samples)`` [+ ``padding_mask (batch, samples)``] -> conv feature encoder ->
feature projection -> (masking) -> convolutional position embedding -> transformer layers.

Outputs a dict:
    ``sequence_output``: ``(batch, frames, hidden_dim)``, HF's ``last_hidden_state``.
    ``hidden_states``: list of ``num_layers + 1`` tensors ``(batch, frames, hidden_dim)``: the
        transformer input, then each layer's output (HF's ``hidden_states``; for the pre-LN models
        the last one is before the final LayerNorm, as in transformers 5).
    ``padding_mask``: ``(batch, frames)`` bool, True for frames computed from real samples.

Padded frames are not zero in the outputs: pool with ``padding_mask``. Run without a mask (all
ones), the model matches HF run with ``attention_mask=None``, which is how the group-norm models
(HuBERT base, wav2vec2 base) are meant to be used: their first conv's GroupNorm takes statistics
over the whole clip, padding included, so padding shifts their outputs (in HF too). The layer-norm
models (large) give the same valid-frame outputs whatever the padding.
"""

from __future__ import annotations

from typing import Optional, Sequence

import keras

from ser_tf.errors import ParameterError
from ser_tf.models.backbone_config import BackboneConfigMixin
from ser_tf.models.hubert.layers import (
    LAYER_NORM_EPSILON,
    ConvPositionEncoding,
    FeatureEncoder,
    FeatureProjection,
    FrameMask,
    TimeMasking,
    WaveformNormalization,
    frame_count,
)


def _keras_hub():
    # Imported on first use: keras_hub costs up to ~2 s, and importing this module happens in
    # every process that loads a ser_tf model (to register the layers), HuBERT or not.
    import keras_hub

    return keras_hub


def _encode(parts: dict, waveform, padding_mask, span_mask=None):
    """Wire ``parts`` (the backbone's layers) on symbolic inputs; shared with the pretraining graph."""
    x = waveform
    if parts["waveform_normalization"] is not None:
        x = parts["waveform_normalization"](x, padding_mask)
    features = parts["feature_encoder"](x)
    frame_mask = parts["frame_mask"](padding_mask, features)
    hidden = parts["feature_projection"](features)
    hidden = parts["time_masking"](hidden, frame_mask, span_mask)
    hidden = parts["pos_conv_embed"](hidden, frame_mask)
    if not parts["normalize_first"]:
        hidden = parts["encoder_layer_norm"](hidden)
    hidden = parts["encoder_dropout"](hidden)
    hidden_states = [hidden]
    for layer in parts["transformer_layers"]:
        hidden = layer(hidden, padding_mask=frame_mask)
        hidden_states.append(hidden)
    if parts["normalize_first"]:
        hidden = parts["encoder_layer_norm"](hidden)
    return {"sequence_output": hidden, "hidden_states": hidden_states, "padding_mask": frame_mask}


@keras.saving.register_keras_serializable(package="ser_tf")
class HubertBackbone(BackboneConfigMixin, keras.Model):
    """HuBERT / wav2vec 2.0 encoder (presets in ``presets.py``, checkpoints via ``convert.py``).

    Args:
        num_layers: transformer layers (12 base, 24 large).
        hidden_dim: transformer width (768 / 1024); divisible by ``num_heads`` and ``pos_conv_groups``.
        num_heads: attention heads.
        intermediate_dim: feed-forward width (3072 / 4096).
        conv_dims, conv_kernels, conv_strides: the conv feature encoder, one entry per conv layer.
        feature_norm: ``"group"`` (GroupNorm on the first conv) or ``"layer"`` (LayerNorm on all).
        normalize_first: pre-LN transformer ("stable layer norm", large) instead of post-LN.
        conv_bias: whether the feature-encoder convs have biases.
        pos_conv_kernel, pos_conv_groups: the convolutional position embedding.
        feature_projection_layer_norm: LayerNorm before the feature projection (HF
            ``feat_proj_layer_norm``).
        dropout: transformer dropout (attention, residual and the encoder input), in [0, 1).
        feature_dropout: dropout after the feature projection, in [0, 1).
        mask_time_prob, mask_time_length: random span masking of frames in training (HF's
            fine-tuning SpecAugment); 0 turns it off.
        normalize_waveform: zero-mean unit-variance per clip inside the model (the HF feature
            extractor's ``do_normalize``), so the model takes raw [-1, 1] audio either way.
        dtype: a dtype policy for every layer; ``None`` follows the global policy.
        frozen_layers: names of layers to freeze (``trainable = False``) after construction;
            ``get_config`` records the ones frozen since, so a saved model reloads with the same
            flags (``ser_tf.models.frozen_layers``; legacy ``.h5`` needs them).
    """

    def __init__(
        self,
        *,
        num_layers: int,
        hidden_dim: int,
        num_heads: int,
        intermediate_dim: int,
        conv_dims: Sequence[int] = (512,) * 7,
        conv_kernels: Sequence[int] = (10, 3, 3, 3, 3, 2, 2),
        conv_strides: Sequence[int] = (5, 2, 2, 2, 2, 2, 2),
        feature_norm: str = "group",
        normalize_first: bool = False,
        conv_bias: bool = False,
        pos_conv_kernel: int = 128,
        pos_conv_groups: int = 16,
        feature_projection_layer_norm: bool = True,
        dropout: float = 0.1,
        feature_dropout: float = 0.0,
        mask_time_prob: float = 0.0,
        mask_time_length: int = 10,
        normalize_waveform: bool = False,
        dtype=None,
        frozen_layers=(),
        **kwargs,
    ):
        for name, value in (("num_layers", num_layers), ("hidden_dim", hidden_dim),
                            ("num_heads", num_heads), ("intermediate_dim", intermediate_dim)):
            if int(value) != value or value < 1:
                raise ParameterError(f"HubertBackbone: {name} must be a positive integer, got {value!r}")
        if hidden_dim % num_heads:
            raise ParameterError(f"hidden_dim={hidden_dim} is not divisible by num_heads={num_heads}")
        for name, value in (("dropout", dropout), ("feature_dropout", feature_dropout)):
            if not 0.0 <= float(value) < 1.0:
                raise ParameterError(f"HubertBackbone: {name} must be in [0, 1), got {value!r}")

        # === Layers ===
        parts = {
            "normalize_first": bool(normalize_first),
            "waveform_normalization": (
                WaveformNormalization(dtype=dtype, name="waveform_normalization") if normalize_waveform else None
            ),
            "feature_encoder": FeatureEncoder(
                conv_dims=conv_dims, conv_kernels=conv_kernels, conv_strides=conv_strides,
                feature_norm=feature_norm, conv_bias=conv_bias, dtype=dtype, name="feature_encoder",
            ),
            "frame_mask": FrameMask(conv_kernels=conv_kernels, conv_strides=conv_strides, name="frame_mask"),
            "feature_projection": FeatureProjection(
                hidden_dim=hidden_dim, use_layer_norm=feature_projection_layer_norm,
                dropout=feature_dropout, dtype=dtype, name="feature_projection",
            ),
            "time_masking": TimeMasking(
                hidden_dim=hidden_dim, mask_time_prob=mask_time_prob, mask_time_length=mask_time_length,
                dtype=dtype, name="time_masking",
            ),
            "pos_conv_embed": ConvPositionEncoding(
                kernel_size=pos_conv_kernel, groups=pos_conv_groups, dtype=dtype, name="pos_conv_embed"
            ),
            "encoder_layer_norm": keras.layers.LayerNormalization(
                epsilon=LAYER_NORM_EPSILON, dtype=dtype, name="encoder_layer_norm"
            ),
            "encoder_dropout": keras.layers.Dropout(dropout, dtype=dtype, name="encoder_dropout"),
            "transformer_layers": [
                _keras_hub().layers.TransformerEncoder(
                    intermediate_dim=intermediate_dim,
                    num_heads=num_heads,
                    dropout=dropout,
                    activation="gelu",  # keras' gelu is the exact (erf) one by default
                    layer_norm_epsilon=LAYER_NORM_EPSILON,
                    kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                    normalize_first=normalize_first,
                    dtype=dtype,
                    name=f"transformer_layer_{i}",
                )
                for i in range(num_layers)
            ],
        }

        # === Functional model ===
        waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        outputs = _encode(parts, waveform, padding_mask)
        kwargs.setdefault("name", "hubert_backbone")  # fixed, not uniquified: found by get_layer()
        super().__init__(
            inputs={"waveform": waveform, "padding_mask": padding_mask}, outputs=outputs, **kwargs
        )

        # === Config ===
        self._parts = parts
        self.num_layers = int(num_layers)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.conv_dims = [int(d) for d in conv_dims]
        self.conv_kernels = [int(k) for k in conv_kernels]
        self.conv_strides = [int(s) for s in conv_strides]
        self.feature_norm = feature_norm
        self.normalize_first = bool(normalize_first)
        self.conv_bias = bool(conv_bias)
        self.pos_conv_kernel = int(pos_conv_kernel)
        self.pos_conv_groups = int(pos_conv_groups)
        self.feature_projection_layer_norm = bool(feature_projection_layer_norm)
        self.dropout = float(dropout)
        self.feature_dropout = float(feature_dropout)
        self.mask_time_prob = float(mask_time_prob)
        self.mask_time_length = int(mask_time_length)
        self.normalize_waveform = bool(normalize_waveform)
        self._record_dtype_and_frozen(dtype, frozen_layers)

    # Named handles, so that converters, freezing and pretraining need no string look-ups.
    @property
    def feature_encoder(self) -> FeatureEncoder:
        return self._parts["feature_encoder"]

    @property
    def feature_projection(self) -> FeatureProjection:
        return self._parts["feature_projection"]

    @property
    def time_masking(self) -> TimeMasking:
        return self._parts["time_masking"]

    @property
    def pos_conv_embed(self) -> ConvPositionEncoding:
        return self._parts["pos_conv_embed"]

    @property
    def encoder_layer_norm(self) -> keras.layers.LayerNormalization:
        return self._parts["encoder_layer_norm"]

    @property
    def transformer_layers(self) -> list:
        return list(self._parts["transformer_layers"])

    def transfer_parts(self) -> dict:
        """What ``ser_tf.models.transfer`` needs to run the top layers from a cached hidden state:
        the transformer layers and, for the pre-LN models, the final LayerNorm that turns the last
        (raw) hidden state into ``sequence_output``."""
        return {"layers": self.transformer_layers,
                "final_norm": self.encoder_layer_norm if self.normalize_first else None,
                "normed_last_state": False}

    def encode(self, waveform, padding_mask, span_mask=None) -> dict:
        """Apply this backbone's layers (shared weights) to new inputs, optionally with a span mask.

        ``span_mask (batch, frames)`` bool replaces those frames with the mask embedding after the
        feature projection (HuBERT pretraining). Returns the same dict as calling the model.
        """
        return _encode(self._parts, waveform, padding_mask, span_mask)

    def frame_count(self, num_samples: int) -> int:
        """Output frames for ``num_samples`` input samples (49 for 1 s at 16 kHz)."""
        return frame_count(num_samples, kernels=self.conv_kernels, strides=self.conv_strides)

    # Constructor arguments kept in get_config() (BackboneConfigMixin), in order; name, trainable,
    # dtype and frozen_layers are added to them.
    _CONFIG_KEYS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "conv_dims",
                    "conv_kernels", "conv_strides", "feature_norm", "normalize_first", "conv_bias",
                    "pos_conv_kernel", "pos_conv_groups", "feature_projection_layer_norm", "dropout",
                    "feature_dropout", "mask_time_prob", "mask_time_length", "normalize_waveform")


def architecture_kwargs(config: dict) -> dict:
    """The shape-defining subset of backbone kwargs (what must agree for weights to fit)."""
    keys = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "conv_dims", "conv_kernels",
            "conv_strides", "feature_norm", "normalize_first", "conv_bias", "pos_conv_kernel",
            "pos_conv_groups", "feature_projection_layer_norm")
    return {k: config[k] for k in keys if k in config}


def backbone_inputs(waveform, padding_mask: Optional = None) -> dict:
    """The backbone's input dict for a numpy/tensor waveform batch; no mask means all samples real."""
    import numpy as np

    waveform = np.asarray(waveform, dtype="float32")
    if padding_mask is None:
        padding_mask = np.ones(waveform.shape, dtype="int32")
    return {"waveform": waveform, "padding_mask": np.asarray(padding_mask).astype("int32")}
