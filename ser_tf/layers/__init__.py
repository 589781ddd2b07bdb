"""Reusable Keras layers: the waveform front-ends, SpecAugment, sequence pooling and the
weighted layer sum.

Every layer is registered with ``keras.saving`` under the ``ser_tf`` package, so a saved model
reloads after ``import ser_tf.layers`` without ``custom_objects``.
"""

from ser_tf.layers.frontend import frontend_from_config, spec_augment_from_config
from ser_tf.layers.layer_sum import WeightedLayerSum
from ser_tf.layers.log_mel import LogMelSpectrogram
from ser_tf.layers.masks import AllValidMask
from ser_tf.layers.mel_filters import hz_to_mel, mel_filterbank, mel_to_hz
from ser_tf.layers.mfcc import MFCC
from ser_tf.layers.pooling import (
    AttentionPooling,
    AttentiveStatisticsPooling,
    MaskedMeanPooling,
    StatisticsPooling,
)
from ser_tf.layers.spec_augment import SpecAugment
from ser_tf.layers.whisper_log_mel import WhisperLogMel

__all__ = [
    "AllValidMask",
    "AttentionPooling",
    "AttentiveStatisticsPooling",
    "LogMelSpectrogram",
    "MFCC",
    "MaskedMeanPooling",
    "StatisticsPooling",
    "SpecAugment",
    "WeightedLayerSum",
    "WhisperLogMel",
    "frontend_from_config",
    "hz_to_mel",
    "mel_filterbank",
    "mel_to_hz",
    "spec_augment_from_config",
]
