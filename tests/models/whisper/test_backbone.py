"""ser_tf.models.whisper.backbone and presets: shapes, masking, names, config, saving, errors."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.models.whisper import WhisperEncoderBackbone, backbone_inputs, get_preset, list_presets
from ser_tf.models.whisper.layers import sinusoids
from tests.helpers import assert_allclose

EXPECTED_PRESETS = {
    # name: (num_layers, hidden_dim, num_heads, intermediate_dim, n_mels)
    "whisper_tiny": (4, 384, 6, 1536, 80),
    "whisper_tiny_en": (4, 384, 6, 1536, 80),
    "whisper_base": (6, 512, 8, 2048, 80),
    "whisper_small": (12, 768, 12, 3072, 80),
    "whisper_medium": (24, 1024, 16, 4096, 80),
    "whisper_large_v3": (32, 1280, 20, 5120, 128),
    "whisper_test_tiny": (2, 64, 4, 128, 80),
}


@pytest.fixture(scope="module")
def backbone():
    keras.utils.set_random_seed(0)
    return WhisperEncoderBackbone(**get_preset("whisper_test_tiny"))


def test_outputs_and_names(backbone, features):
    out = backbone(backbone_inputs(features[:, :101]))
    assert out["sequence_output"].shape == (2, 51, 64) and backbone.output_frames(101) == 51
    assert len(out["hidden_states"]) == 3
    assert all(h.shape == (2, 51, 64) for h in out["hidden_states"])
    assert_allclose(out["hidden_states"][-1], out["sequence_output"])  # as HF: the last one is normed
    assert out["padding_mask"].dtype == "bool" and bool(np.all(out["padding_mask"]))
    for name in ("conv1", "conv2", "position_embedding", "encoder_layer_0", "encoder_layer_1", "layer_norm"):
        assert backbone.get_layer(name) is not None
    assert not backbone.position_embedding.trainable
    assert_allclose(backbone.position_embedding.position_embeddings, sinusoids(1500, 64), atol=1e-6)


@pytest.mark.parametrize("length", [200, 137, 2])
def test_padding_does_not_change_valid_frames(backbone, features, length):
    """Item 1 padded to 200 frames gives, on its ceil(length / 2) valid frames, the clip alone."""
    batch = features.copy()
    batch[1, length:] = 7.0  # garbage in the padding must not leak
    mask = np.ones((2, 200), "int32")
    mask[1, length:] = 0
    padded = backbone(backbone_inputs(batch, mask))
    alone = backbone(backbone_inputs(features[1:, :length]))
    valid = -(-length // 2)
    assert padded["padding_mask"].numpy()[1].sum() == valid
    for got, want in zip(padded["hidden_states"], alone["hidden_states"]):
        assert_allclose(got[1, :valid], want[0], atol=1e-5, rtol=1e-5)
    # Item 0 has no padding: the same as alone.
    assert_allclose(padded["sequence_output"][0], backbone(backbone_inputs(features[:1]))["sequence_output"][0],
                    atol=1e-5, rtol=1e-5)


def test_config_round_trip_and_saving(backbone, features, tmp_path):
    config = backbone.get_config()
    assert {k: config[k] for k in ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "n_mels",
                                   "max_source_positions")} == get_preset("whisper_test_tiny")
    clone = WhisperEncoderBackbone.from_config(config)
    assert clone.get_config() == config
    assert [w.path for w in clone.weights] == [w.path for w in backbone.weights]
    # .keras round trip (the legacy .h5 format cannot name a registered top-level Model class).
    inputs = backbone_inputs(features[:, :40])
    path = tmp_path / "whisper.keras"
    backbone.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored, WhisperEncoderBackbone)
    assert_allclose(restored(inputs)["hidden_states"], backbone(inputs)["hidden_states"], atol=1e-6)


def test_presets():
    assert set(list_presets()) == set(EXPECTED_PRESETS)
    for name, (layers, hidden, heads, ffn, mels) in EXPECTED_PRESETS.items():
        kwargs = get_preset(name)
        assert (kwargs["num_layers"], kwargs["hidden_dim"], kwargs["num_heads"], kwargs["intermediate_dim"],
                kwargs["n_mels"], kwargs["max_source_positions"]) == (layers, hidden, heads, ffn, mels, 1500)
    with pytest.raises(ParameterError, match=r"'whisper_huge'.*whisper_base.*whisper_tiny_en"):
        get_preset("whisper_huge")


@pytest.mark.parametrize("kwargs, match", [
    ({"num_layers": 0}, "num_layers must be a positive integer, got 0"),
    ({"hidden_dim": 66}, "hidden_dim=66"),
    ({"dropout": 1.5}, "got 1.5"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        WhisperEncoderBackbone(**{**get_preset("whisper_test_tiny"), **kwargs})
