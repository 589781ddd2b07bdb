"""Build the front-end and SpecAugment layers from a resolved config (``ser_tf.settings``).

Every model family calls these, so a recipe's ``features:`` and ``augment.specaugment:``
sections mean the same thing whatever the architecture.
"""

from __future__ import annotations

from typing import Mapping

from ser_tf.errors import ConfigError
from ser_tf.layers.log_mel import LogMelSpectrogram
from ser_tf.layers.mfcc import MFCC, MFCC_N_MELS
from ser_tf.layers.spec_augment import SpecAugment
from ser_tf.settings.sections import AudioConfig, FeaturesConfig, SpecAugmentConfig

FEATURE_KINDS = ("logmel", "mfcc")


def frontend_from_config(config: Mapping, *, name: str = "frontend"):
    """``LogMelSpectrogram`` or ``MFCC`` named ``name``, from ``config["features"]``/``["audio"]``.

    ``config`` is a ``ser_tf.settings.SerConfig`` or the same nested mapping; a section given as
    a plain mapping takes the defaults of ``ser_tf.settings`` for the keys it lacks, except that
    ``kind: mfcc`` without ``n_mels`` uses 128 bands (librosa's MFCC default).

    Raises:
        ConfigError: unknown ``features.kind`` or an invalid value (the message repeats it).
    """
    raw = config.get("features") or {}
    features = FeaturesConfig.from_mapping(raw)
    audio = AudioConfig.from_mapping(config.get("audio") or {})
    kind = features.kind
    common = {
        "sample_rate": audio.sample_rate,
        "n_fft": features.n_fft,
        "win_length": features.win_length,
        "hop_length": features.hop_length,
        "fmin": features.fmin,
        "fmax": features.fmax,
        "top_db": features.top_db,
        "normalization": features.normalization,
        "name": name,
    }
    try:
        if kind == "logmel":
            return LogMelSpectrogram(n_mels=features.n_mels, **common)
        if kind == "mfcc":
            return MFCC(
                n_mels=features.n_mels if "n_mels" in raw else MFCC_N_MELS,
                n_mfcc=features.n_mfcc,
                deltas=features.deltas,
                delta_width=features.delta_width,
                **common,
            )
    except ValueError as err:  # ParameterError is a ValueError; say which config section
        raise ConfigError(f"features: {err}") from err
    raise ConfigError(f"features.kind must be one of {FEATURE_KINDS}, got {kind!r}")


def spec_augment_from_config(config: Mapping, *, name: str = "spec_augment"):
    """``SpecAugment`` from ``config["augment"]["specaugment"]``, or None when not enabled."""
    section = SpecAugmentConfig.from_mapping((config.get("augment") or {}).get("specaugment") or {})
    if not section.enabled:
        return None
    kwargs = {k: section[k] for k in ("time_masks", "time_width", "freq_masks", "freq_width")}
    try:
        return SpecAugment(name=name, **kwargs)
    except ValueError as err:
        raise ConfigError(f"augment.specaugment: {err}") from err
