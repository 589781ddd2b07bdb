"""ser_tf/models/frozen_layers.py: a backbone's config records the layers frozen after construction."""

import pytest

from ser_tf.errors import ParameterError
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone
from ser_tf.models.whisper.presets import get_preset


def test_config_records_layers_frozen_since_construction():
    backbone = WhisperEncoderBackbone(**get_preset("whisper_test_tiny"))
    assert "frozen_layers" not in backbone.get_config()  # the fixed position table is not listed
    backbone.get_layer("conv1").trainable = False
    backbone.get_layer("encoder_layer_0").trainable = False
    config = backbone.get_config()
    assert config["frozen_layers"] == ["conv1", "encoder_layer_0"]
    rebuilt = WhisperEncoderBackbone.from_config(config)
    assert [w.path for w in rebuilt.trainable_weights] == [w.path for w in backbone.trainable_weights]
    assert rebuilt.get_config() == config
    backbone.trainable = False  # the whole model: its own trainable flag says it
    assert "frozen_layers" not in backbone.get_config()


def test_unknown_layer_name_is_an_error():
    with pytest.raises(ParameterError, match=r"frozen_layers names 'conv9'.*'conv1'"):
        WhisperEncoderBackbone(**get_preset("whisper_test_tiny"), frozen_layers=["conv9"])
