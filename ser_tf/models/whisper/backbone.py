"""The Whisper audio encoder as a functional Keras model, on each clip's own length.

``features (batch, frames, n_mels)`` [+ ``padding_mask (batch, frames)``] ->
``conv1`` (kernel 3, stride 1, GELU) -> ``conv2`` (kernel 3, stride 2, GELU) -> + sinusoidal
positions ``[:frames/2]`` -> pre-LN transformer layers (keras-hub's ``WhisperEncoder``) ->
final LayerNorm.

Whisper itself always encodes 30 s (3000 frames, 1500 positions). This backbone encodes only the
frames it is given (at most ``2 * max_source_positions``) and slices the position table to the
sequence length, so a 3 s clip costs 150 positions instead of 1500. In a batch of clips of
different lengths, ``padding_mask`` marks the real frames: padded frames are zeroed before each
conv and masked out of self-attention, so the valid outputs of a padded clip equal those of the
clip run alone (tested against ``transformers``).

Outputs a dict:
    ``sequence_output``: ``(batch, frames', hidden_dim)`` after the final LayerNorm, with
        ``frames' = ceil(frames / 2)`` (one per 20 ms); HF's ``last_hidden_state``.
    ``hidden_states``: ``num_layers + 1`` tensors ``(batch, frames', hidden_dim)`` as HF's
        ``output_hidden_states``: the embeddings (conv + positions), the outputs of layers
        ``0 .. num_layers - 2``, and last the final output after the LayerNorm (HF 5 appends the
        normed output, not the last layer's raw output) -- the inputs of a SUPERB weighted sum.
    ``padding_mask``: ``(batch, frames')`` bool, True for frames computed from real input frames.

Padded output frames are not zero: pool with ``padding_mask``.
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np

from ser_tf.errors import ParameterError
from ser_tf.models.backbone_config import BackboneConfigMixin
from ser_tf.models.whisper.layers import FrameMasking, StridedMask, sinusoids

LAYER_NORM_EPSILON = 1e-5


def _keras_hub():
    # Imported on first use: keras_hub takes seconds to import, and every process that loads a
    # ser_tf model imports the model packages to register their layers.
    import keras_hub

    return keras_hub


def _whisper_encoder_block():
    from keras_hub.src.models.whisper.whisper_encoder import WhisperEncoder

    return WhisperEncoder


@keras.saving.register_keras_serializable(package="ser_tf")
class WhisperEncoderBackbone(BackboneConfigMixin, keras.Model):
    """Whisper's audio encoder (presets in ``presets.py``, checkpoints via ``convert.py``).

    Args:
        num_layers: transformer layers (4 tiny, 6 base, 12 small, 24 medium, 32 large).
        hidden_dim: model width ``d_model``; even, divisible by ``num_heads``.
        num_heads: attention heads (head size ``hidden_dim / num_heads``, 64 in OpenAI's models).
        intermediate_dim: feed-forward width (``4 * hidden_dim`` in OpenAI's models).
        n_mels: log-mel bands of the input (80, or 128 for large-v3).
        max_source_positions: rows of the position table, i.e. the longest output sequence;
            inputs may have up to ``2 * max_source_positions`` frames (1500 -> 30 s).
        dropout: dropout on the embeddings and inside the transformer layers, in [0, 1).
        dtype: a dtype policy for every layer; ``None`` follows the global policy.
        frozen_layers: names of layers to freeze (``trainable = False``) after construction;
            ``get_config`` records the ones frozen since, so a saved model reloads with the same
            flags (``ser_tf.models.frozen_layers``; legacy ``.h5`` needs them).

    Call args (a dict):
        features: ``(batch, frames, n_mels)`` float32 Whisper log-mel (``WhisperLogMel``),
            ``1 <= frames <= 2 * max_source_positions``.
        padding_mask: ``(batch, frames)`` int/bool, 1 for real frames (a prefix of each row).
    """

    def __init__(
        self,
        *,
        num_layers: int,
        hidden_dim: int,
        num_heads: int,
        intermediate_dim: int,
        n_mels: int = 80,
        max_source_positions: int = 1500,
        dropout: float = 0.0,
        dtype=None,
        frozen_layers=(),
        **kwargs,
    ):
        for name, value in (("num_layers", num_layers), ("hidden_dim", hidden_dim), ("num_heads", num_heads),
                            ("intermediate_dim", intermediate_dim), ("n_mels", n_mels),
                            ("max_source_positions", max_source_positions)):
            if int(value) != value or value < 1:
                raise ParameterError(f"WhisperEncoderBackbone: {name} must be a positive integer, got {value!r}")
        if hidden_dim % num_heads or hidden_dim % 2 or hidden_dim < 4:
            raise ParameterError(
                f"WhisperEncoderBackbone: hidden_dim={hidden_dim!r} must be even, >= 4 and divisible by "
                f"num_heads={num_heads!r}"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ParameterError(f"WhisperEncoderBackbone: dropout must be in [0, 1), got {dropout!r}")

        # === Layers ===
        self.feature_masking = FrameMasking(dtype=dtype, name="feature_masking")
        self.conv1 = keras.layers.Conv1D(
            hidden_dim, 3, strides=1, padding="same", activation="gelu", dtype=dtype, name="conv1"
        )
        self.conv1_masking = FrameMasking(dtype=dtype, name="conv1_masking")
        self.conv2_padding = keras.layers.ZeroPadding1D(1, dtype=dtype, name="conv2_padding")
        self.conv2 = keras.layers.Conv1D(
            hidden_dim, 3, strides=2, padding="valid", activation="gelu", dtype=dtype, name="conv2"
        )
        self.frame_mask = StridedMask(stride=2, name="frame_mask")
        self.position_embedding = _keras_hub().layers.PositionEmbedding(
            sequence_length=max_source_positions, trainable=False, dtype=dtype, name="position_embedding"
        )
        self.embeddings_add = keras.layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")
        block = _whisper_encoder_block()
        self.encoder_layers = [
            block(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                activation="gelu",  # keras' gelu is the exact (erf) one, as Whisper's
                layer_norm_epsilon=LAYER_NORM_EPSILON,
                dropout=dropout,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                normalize_first=True,
                dtype=dtype,
                name=f"encoder_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.layer_norm = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, dtype=dtype, name="layer_norm")

        # === Functional model ===
        features = keras.Input(shape=(None, n_mels), dtype="float32", name="features")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        x = self.feature_masking(features, padding_mask)
        x = self.conv1_masking(self.conv1(x), padding_mask)
        x = self.conv2(self.conv2_padding(x))
        frame_mask = self.frame_mask(padding_mask)
        x = self.embeddings_add([x, self.position_embedding(x)])
        x = self.embeddings_dropout(x)
        hidden_states = [x]
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=frame_mask)
            hidden_states.append(x)
        x = self.layer_norm(x)
        hidden_states[-1] = x  # as HF: the last hidden state is the normed output
        kwargs.setdefault("name", "whisper_encoder_backbone")  # fixed: found by get_layer()
        super().__init__(
            inputs={"features": features, "padding_mask": padding_mask},
            outputs={"sequence_output": x, "hidden_states": hidden_states, "padding_mask": frame_mask},
            **kwargs,
        )
        # Whisper's positions are fixed sinusoids; a checkpoint overwrites them with the same.
        self.position_embedding.position_embeddings.assign(sinusoids(max_source_positions, hidden_dim))

        # === Config ===
        self.num_layers = int(num_layers)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.n_mels = int(n_mels)
        self.max_source_positions = int(max_source_positions)
        self.dropout = float(dropout)
        self._record_dtype_and_frozen(dtype, frozen_layers)

    def call(self, inputs, training=None, mask=None, **kwargs):
        # Where the frame count is known (eager calls, predict), say what is wrong instead of
        # failing inside the position table's slice.
        features = inputs.get("features") if isinstance(inputs, dict) else None
        frames = None if features is None or len(features.shape) != 3 else features.shape[1]
        if frames is not None and frames > 2 * self.max_source_positions:
            raise ParameterError(
                f"{self.name}: got {frames} log-mel frames; at most {2 * self.max_source_positions} "
                f"(max_source_positions={self.max_source_positions}, i.e. "
                f"{2 * self.max_source_positions / 100:g} s) fit the position table: split longer clips"
            )
        return super().call(inputs, training=training, mask=mask, **kwargs)

    def transfer_parts(self) -> dict:
        """What ``ser_tf.models.transfer`` needs to run the top layers from a cached hidden state:
        the transformer layers, the final LayerNorm (whose output is also ``hidden_states[-1]``)
        and the layers that never train (the sinusoidal positions)."""
        return {"layers": list(self.encoder_layers), "final_norm": self.layer_norm, "normed_last_state": True,
                "fixed": [self.position_embedding]}

    def output_frames(self, num_frames: int) -> int:
        """Output frames for ``num_frames`` log-mel frames: ``ceil(num_frames / 2)`` (20 ms each)."""
        return -(-int(num_frames) // 2)

    # Constructor arguments kept in get_config() (BackboneConfigMixin), in order; name, trainable,
    # dtype and frozen_layers are added to them.
    _CONFIG_KEYS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "n_mels",
                    "max_source_positions", "dropout")


def architecture_kwargs(config: dict) -> dict:
    """The shape-defining subset of backbone kwargs (what must agree for weights to fit)."""
    keys = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "n_mels", "max_source_positions")
    return {k: config[k] for k in keys if k in config}


def backbone_inputs(features, padding_mask: Optional = None) -> dict:
    """The backbone's input dict for a numpy feature batch ``(batch, frames, n_mels)``.

    ``padding_mask`` defaults to all ones (every frame real).
    """
    features = np.asarray(features, dtype="float32")
    if padding_mask is None:
        padding_mask = np.ones(features.shape[:2], dtype="int32")
    return {"features": features, "padding_mask": np.asarray(padding_mask).astype("int32")}
