"""ser_tf.layers.frontend: layers built from the config sections."""

import pytest

from ser_tf.errors import ConfigError
from ser_tf.layers import LogMelSpectrogram, MFCC, SpecAugment
from ser_tf.layers.frontend import frontend_from_config, spec_augment_from_config


def test_logmel_from_config():
    layer = frontend_from_config(
        {"audio": {"sample_rate": 16000}, "features": {"kind": "logmel", "n_mels": 40,
                                                         "normalization": "meanvar"}}
    )
    assert isinstance(layer, LogMelSpectrogram) and layer.name == "frontend"
    assert layer.n_mels == 40 and layer.normalization == "meanvar" and layer.hop_length == 160


def test_mfcc_from_config_defaults_to_128_bands():
    layer = frontend_from_config({"features": {"kind": "mfcc", "normalization": "none"}})
    assert isinstance(layer, MFCC)
    assert layer.n_mels == 128 and layer.num_features == 120


def test_unknown_kind_and_bad_value_name_the_section():
    with pytest.raises(ConfigError, match="features.kind.*'wav2vec'"):
        frontend_from_config({"features": {"kind": "wav2vec"}})
    with pytest.raises(ConfigError, match="features: .*normalization"):
        frontend_from_config({"features": {"normalization": "bogus"}})


def test_spec_augment_only_when_enabled():
    assert spec_augment_from_config({}) is None
    assert spec_augment_from_config({"augment": {"specaugment": {"enabled": False}}}) is None
    layer = spec_augment_from_config(
        {"augment": {"specaugment": {"enabled": True, "time_masks": 1, "freq_width": 3}}}
    )
    assert isinstance(layer, SpecAugment) and layer.name == "spec_augment"
    assert layer.time_masks == 1 and layer.freq_width == 3 and layer.freq_masks == 2
    with pytest.raises(ConfigError, match="augment.specaugment"):
        spec_augment_from_config({"augment": {"specaugment": {"enabled": True, "time_width": -2}}})
