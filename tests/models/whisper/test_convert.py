"""ser_tf.models.whisper.convert: parity with transformers' and ctranslate2's Whisper encoders."""

import numpy as np
import pytest

from ser_tf.errors import ConfigError, ModelError, ParameterError
from ser_tf.models.whisper.backbone import backbone_inputs
from ser_tf.models.whisper.convert import (
    backbone_kwargs_from_hf_config,
    checkpoint_kind,
    load_checkpoint,
    read_hf_config,
)
from ser_tf.models.whisper.presets import get_preset
from tests.models.whisper.conftest import TINY_HF, hf_encoder_outputs

# Every hidden state against transformers, float32 both sides (measured 2.1e-6, padded or not).
HF_TOLERANCE = 1e-4
# Against ctranslate2 run with compute_type="float32": both use the same (dequantised) weights,
# so only float32 round-off differs (measured <= 1.9e-6 for every storage type).
CT2_TOLERANCE = 1e-4


def test_hf_config_mapping(hf_whisper):
    kwargs = backbone_kwargs_from_hf_config(read_hf_config(hf_whisper))
    assert kwargs == get_preset("whisper_test_tiny")
    assert checkpoint_kind(hf_whisper) == "hf"


def test_matches_transformers_every_hidden_state(hf_whisper, features):
    backbone = load_checkpoint(hf_whisper, preset="whisper_test_tiny")
    ours = backbone(backbone_inputs(features))
    ref_states, ref_last = hf_encoder_outputs(hf_whisper, features)
    assert len(ours["hidden_states"]) == len(ref_states) == 3
    for i, (got, want) in enumerate(zip(ours["hidden_states"], ref_states)):
        assert np.abs(got.numpy() - want).max() < HF_TOLERANCE, i
    assert np.abs(ours["sequence_output"].numpy() - ref_last).max() < HF_TOLERANCE


def test_matches_transformers_on_padded_batch(hf_whisper, features):
    """A batch of a 200- and a 120-frame clip: each valid part equals HF on the clip alone."""
    backbone = load_checkpoint(hf_whisper)
    mask = np.ones((2, 200), "int32")
    mask[1, 120:] = 0
    ours = backbone(backbone_inputs(features, mask))
    for item, length in ((0, 200), (1, 120)):
        ref_states, _ = hf_encoder_outputs(hf_whisper, features[item:item + 1, :length])
        for got, want in zip(ours["hidden_states"], ref_states):
            assert np.abs(got.numpy()[item, : length // 2] - want[0]).max() < HF_TOLERANCE


@pytest.mark.parametrize("quantization", ["float32", "float16", "bfloat16", "int8", "int8_float16", "int16"])
def test_matches_ctranslate2(ct2_whisper, hf_whisper, features, quantization):
    ctranslate2 = pytest.importorskip("ctranslate2")
    folder = ct2_whisper(quantization)
    assert checkpoint_kind(folder) == "ct2"
    backbone = load_checkpoint(folder, preset="whisper_test_tiny", n_mels=80)
    reference = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
    # The clip's own length, and (once) Whisper's 30 s window.
    for frames in (200, 3000) if quantization == "float32" else (200,):
        batch = np.resize(features, (2, frames, 80)).astype(np.float32)
        channels_first = ctranslate2.StorageView.from_array(np.ascontiguousarray(batch.transpose(0, 2, 1)))
        want = np.array(reference.encode(channels_first))
        got = backbone(backbone_inputs(batch))["sequence_output"].numpy()
        assert got.shape == want.shape == (2, frames // 2, 64)
        assert np.abs(got - want).max() < CT2_TOLERANCE, (quantization, frames, np.abs(got - want).max())
    if quantization == "float32":  # the CT2 route gives the HF weights exactly
        hf = load_checkpoint(hf_whisper)
        for a, b in zip(backbone.weights, hf.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-7, err_msg=a.path)


def test_preset_and_mel_mismatches_are_errors(ct2_whisper):
    folder = ct2_whisper("float32")
    with pytest.raises(ConfigError, match=r"preset 'whisper_tiny'.*hidden_dim: 64 \(preset 384\)"):
        load_checkpoint(folder, preset="whisper_tiny")
    with pytest.raises(ConfigError, match=r"takes 80 mel bands, but n_mels=128"):
        load_checkpoint(folder, n_mels=128)
    with pytest.raises(ParameterError, match=r"unknown Whisper preset 'whisper_xl'.*whisper_small"):
        load_checkpoint(folder, preset="whisper_xl")


def test_bad_hf_folders(tmp_path, hf_whisper):
    (tmp_path / "config.json").write_text('{"model_type": "hubert"}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match=r"model_type 'hubert' is not 'whisper'"):
        load_checkpoint(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"empty.*expected model.bin \+ config.json"):
        load_checkpoint(empty)
    with pytest.raises(ModelError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")
    assert backbone_kwargs_from_hf_config(TINY_HF)["n_mels"] == 80
