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


def test_too_many_frames_is_an_error():
    small = WhisperEncoderBackbone(num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16, max_source_positions=10)
    assert small(backbone_inputs(np.zeros((1, 20, 80))))["sequence_output"].shape == (1, 10, 8)
    with pytest.raises(ParameterError, match=r"got 21 log-mel frames; at most 20 \(max_source_positions=10"):
        small(backbone_inputs(np.zeros((1, 21, 80))))


def test_composes_with_the_log_mel_front_end(backbone, tmp_path):
    """waveform + sample mask -> WhisperLogMel + WaveformFrameMask -> backbone, in one saved model.

    The 0.5 s clip zero-padded to 0.8 s gives, on its 25 valid encoder frames, the clip alone up
    to the log-mel's reflect padding at its end, which the batch replaces by zeros: the last
    log-mel frame differs (measured 0.014), so the last encoder frame does (0.003); the others
    agree to float round-off (the per-clip clamp at max - 8 is untouched here).
    """
    from ser_tf.layers.whisper_log_mel import WhisperLogMel
    from ser_tf.models.whisper.layers import WaveformFrameMask

    waveform = keras.Input(shape=(None,), name="waveform")
    sample_mask = keras.Input(shape=(None,), dtype="int32", name="sample_mask")
    features = WhisperLogMel(name="log_mel")(waveform)
    frame_mask = WaveformFrameMask(name="frame_mask")(sample_mask)
    outputs = backbone({"features": features, "padding_mask": frame_mask})
    model = keras.Model([waveform, sample_mask], [outputs["sequence_output"], outputs["padding_mask"]])
    audio = (0.1 * np.random.default_rng(0).standard_normal((2, 12800))).astype(np.float32)
    mask = np.ones((2, 12800), "int32")
    audio[1, 8000:], mask[1, 8000:] = 0.0, 0
    sequence, valid = model([audio, mask])
    assert sequence.shape == (2, 40, 64) and valid.numpy().sum(axis=1).tolist() == [40, 25]
    alone, _ = model([audio[1:, :8000], mask[1:, :8000]])
    assert alone.shape == (1, 25, 64)
    assert np.abs(sequence[1, :24] - alone[0, :24]).max() < 1e-4
    assert np.abs(sequence[1, 24] - alone[0, 24]).max() < 0.05
    path = tmp_path / "composed.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert_allclose(restored([audio, mask])[0], sequence, atol=1e-5)


@pytest.mark.parametrize("valid", [12800, 8000, 8100, 159, 0])
def test_waveform_frame_mask_counts_log_mel_frames(valid):
    from ser_tf.layers.whisper_log_mel import whisper_frame_count
    from ser_tf.models.whisper.layers import WaveformFrameMask

    mask = np.zeros((1, 12800), "int32")
    mask[0, :valid] = 1
    frames = WaveformFrameMask()(mask).numpy()
    assert frames.shape == (1, whisper_frame_count(12800)) and frames.sum() == whisper_frame_count(valid)
