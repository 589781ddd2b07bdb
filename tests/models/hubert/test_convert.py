"""Tests of ser_tf/models/hubert/convert.py: config mapping, weight porting, parity with transformers.

The conversion command line and its ``--compare`` report are tested in tests/tools/test_convert_hubert.py.
"""

import json
import shutil

import numpy as np
import pytest

from ser_tf.errors import ModelError
from ser_tf.models.hubert import convert
from ser_tf.models.hubert.backbone import HubertBackbone, backbone_inputs
from ser_tf.models.hubert.presets import get_preset

HF_TINY_CONFIG = {
    "model_type": "hubert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 64, "conv_dim": [32] * 7, "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
    "conv_stride": [5, 2, 2, 2, 2, 2, 2], "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
    "feat_extract_norm": "group", "do_stable_layer_norm": False, "conv_bias": False,
    "hidden_dropout": 0.1, "feat_proj_dropout": 0.0, "mask_time_prob": 0.05,
}
MAX_ABS_DIFF = 1e-4


# ---------------------------------------------------------------- pure mapping functions


def test_config_mapping_base_and_large():
    kwargs = convert.backbone_kwargs_from_hf_config(HF_TINY_CONFIG)
    assert kwargs == {**get_preset("hubert_tiny"), "feature_dropout": 0.0}
    large = convert.backbone_kwargs_from_hf_config(
        {**HF_TINY_CONFIG, "feat_extract_norm": "layer", "do_stable_layer_norm": True, "conv_bias": True},
        preprocessor={"do_normalize": True},
    )
    assert (large["feature_norm"], large["normalize_first"], large["conv_bias"], large["normalize_waveform"]) == (
        "layer", True, True, True)
    # Keys an old config.json leaves out take HF's defaults: the base architecture.
    minimal = convert.backbone_kwargs_from_hf_config({"model_type": "wav2vec2"})
    assert {k: minimal[k] for k in ("num_layers", "hidden_dim", "conv_kernels", "pos_conv_kernel")} == {
        "num_layers": 12, "hidden_dim": 768, "conv_kernels": [10, 3, 3, 3, 3, 2, 2], "pos_conv_kernel": 128}
    assert convert.backbone_kwargs_from_hf_config({**HF_TINY_CONFIG, "apply_spec_augment": False})["mask_time_prob"] == 0


@pytest.mark.parametrize("change, message", [
    ({"model_type": "data2vec-audio"}, "model_type 'data2vec-audio' is not supported"),
    ({"hidden_act": "relu"}, "hidden_act='relu'"),
    ({"conv_pos_batch_norm": True}, "conv_pos_batch_norm"),
    ({"layer_norm_eps": 1e-12}, "layer_norm_eps"),
])
def test_unsupported_configs_are_named(change, message):
    with pytest.raises(ModelError, match=message):
        convert.backbone_kwargs_from_hf_config({**HF_TINY_CONFIG, **change})


def _hf_state_for(backbone, rng, prefix=""):
    """A random state dict with HF names and torch layouts for ``backbone`` (inverse of weight_map)."""
    hidden = backbone.hidden_dim
    state = {}
    for variable, key, _ in convert.weight_map(backbone):
        shape = tuple(variable.shape)
        if key.endswith("conv.weight"):
            shape = shape[::-1]  # (k, in, out) -> (out, in, k)
        elif len(shape) == 3 and "attention" in key:
            shape = (hidden, hidden)  # q/k/v (in, heads, head_dim) and out (heads, head_dim, out)
        elif len(shape) == 2 and "attention" in key:
            shape = (hidden,)
        elif len(shape) == 2:
            shape = shape[::-1]  # dense (in, out) -> (out, in)
        state[prefix + key] = rng.standard_normal(shape).astype(np.float32)
    k, in_dim, out_dim = backbone.pos_conv_embed.weight_v.shape
    state[prefix + "encoder.pos_conv_embed.conv.parametrizations.weight.original0"] = rng.random((1, 1, k)).astype(np.float32)
    state[prefix + "encoder.pos_conv_embed.conv.parametrizations.weight.original1"] = rng.standard_normal(
        (out_dim, in_dim, k)).astype(np.float32)
    state[prefix + "masked_spec_embed"] = rng.random(hidden).astype(np.float32)
    return state


@pytest.fixture
def tiny_backbone():
    return HubertBackbone(**get_preset("hubert_tiny"))


def test_port_weights_places_every_tensor(tiny_backbone, rng):
    state = _hf_state_for(tiny_backbone, rng, prefix="hubert.")
    state["lm_head.weight"] = np.zeros((5, 32), np.float32)  # a task head: reported, not an error
    unused = convert.port_weights(tiny_backbone, state)
    assert unused == ["lm_head.weight"]
    q = state["hubert.encoder.layers.1.attention.q_proj.weight"]
    np.testing.assert_array_equal(tiny_backbone.transformer_layers[1]._self_attention_layer._query_dense.kernel,
                                  q.T.reshape(32, 2, 16))
    out = state["hubert.encoder.layers.0.attention.out_proj.weight"]
    np.testing.assert_array_equal(tiny_backbone.transformer_layers[0]._self_attention_layer._output_dense.kernel,
                                  out.T.reshape(2, 16, 32))
    conv = state["hubert.feature_extractor.conv_layers.3.conv.weight"]
    np.testing.assert_array_equal(tiny_backbone.feature_encoder.conv_layers[3].kernel, conv.transpose(2, 1, 0))
    np.testing.assert_array_equal(tiny_backbone.time_masking.mask_embedding, state["hubert.masked_spec_embed"])


def test_missing_and_mismatched_tensors_are_named(tiny_backbone, rng):
    state = _hf_state_for(tiny_backbone, rng)
    del state["encoder.layers.1.final_layer_norm.bias"]
    with pytest.raises(ModelError, match=r"lacks tensor 'encoder.layers.1.final_layer_norm.bias'"):
        convert.port_weights(tiny_backbone, state)
    state = _hf_state_for(tiny_backbone, rng)
    state["feature_projection.projection.weight"] = np.zeros((32, 31), np.float32)
    with pytest.raises(ModelError, match=r"projection.weight.*\(31, 32\).*expects \(32, 32\)"):
        convert.port_weights(tiny_backbone, state)


def test_position_conv_conventions_give_one_kernel(rng):
    g = rng.random((1, 1, 6)).astype(np.float32) + 0.5
    v = rng.standard_normal((8, 4, 6)).astype(np.float32)
    base = "encoder.pos_conv_embed.conv."
    new = convert._pos_conv_weights({base + "parametrizations.weight.original0": g,
                                     base + "parametrizations.weight.original1": v})
    old = convert._pos_conv_weights({base + "weight_g": g, base + "weight_v": v})
    weight = g * v / np.linalg.norm(v, axis=(0, 1), keepdims=True)  # torch weight_norm(dim=2)
    fused = convert._pos_conv_weights({base + "weight": weight})
    for gg, vv, _ in (new, old, fused):
        kernel = gg[:, None, None] * vv / np.linalg.norm(vv, axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(kernel, weight.transpose(2, 1, 0), rtol=1e-5, atol=1e-6)


def test_bad_folders_give_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        convert.read_hf_config(tmp_path / "nope")
    with pytest.raises(ModelError, match="config.json"):
        convert.read_hf_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelError, match="model_type 'bert' is not supported"):
        convert.load_hf_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(HF_TINY_CONFIG))
    with pytest.raises(ModelError, match="has no weights: expected model.safetensors or pytorch_model.bin"):
        convert.load_hf_checkpoint(tmp_path)


def test_converted_weights_round_trip(tiny_backbone, rng, tmp_path, audio):
    convert.port_weights(tiny_backbone, _hf_state_for(tiny_backbone, rng))
    path = convert.save_converted(tiny_backbone, tmp_path / "enc.weights.h5")
    assert (tmp_path / "enc.config.json").is_file()
    restored = convert.load_converted(path)
    expected = tiny_backbone(backbone_inputs(audio))["sequence_output"]
    np.testing.assert_allclose(restored(backbone_inputs(audio))["sequence_output"], expected, atol=1e-6)
    with pytest.raises(ModelError, match="must end in '.weights.h5'"):
        convert.save_converted(tiny_backbone, tmp_path / "enc.h5")


# ---------------------------------------------------------------- parity with transformers


def _reference(folder, audio, mask=None):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(torch.from_numpy(audio), output_hidden_states=True,
                    attention_mask=None if mask is None else torch.from_numpy(mask))
    return out.last_hidden_state.numpy(), [h.numpy() for h in out.hidden_states]


@pytest.mark.parametrize("name", ["hubert_base_style", "hubert_large_style", "wav2vec2_base_style"])
def test_parity_with_transformers(hf_checkpoints, name, audio):
    backbone = convert.load_hf_checkpoint(hf_checkpoints[name])
    # Unpadded batch, no attention mask (how HF runs the group-norm base models).
    last, hidden = _reference(hf_checkpoints[name], audio)
    ours = backbone(backbone_inputs(audio))
    assert len(ours["hidden_states"]) == len(hidden) == 3
    assert np.max(np.abs(ours["sequence_output"] - last)) < MAX_ABS_DIFF
    for i, (a, b) in enumerate(zip(ours["hidden_states"], hidden)):
        assert np.max(np.abs(a - b)) < MAX_ABS_DIFF, f"hidden state {i}"
    # Padded batch with an attention mask: compare the valid frames only.
    padded, mask = audio.copy(), np.ones(audio.shape, np.int32)
    padded[1, 9000:], mask[1, 9000:] = 0.0, 0
    last, hidden = _reference(hf_checkpoints[name], padded, mask)
    ours = backbone(backbone_inputs(padded, mask))
    valid = np.asarray(ours["padding_mask"])
    assert valid.sum(axis=1).tolist() == [49, 27]
    assert np.max(np.abs(np.asarray(ours["sequence_output"])[valid] - last[valid])) < MAX_ABS_DIFF
    for i, (a, b) in enumerate(zip(ours["hidden_states"], hidden)):
        assert np.max(np.abs(np.asarray(a)[valid] - b[valid])) < MAX_ABS_DIFF, f"padded hidden state {i}"


def test_pytorch_bin_reads_like_safetensors(hf_checkpoints, tmp_path):
    torch = pytest.importorskip("torch")
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(hf_checkpoints["hubert_base_style"] / "config.json", folder)
    state = convert.read_safetensors(hf_checkpoints["hubert_base_style"] / "model.safetensors")
    torch.save({k: torch.from_numpy(v) for k, v in state.items()}, folder / "pytorch_model.bin")
    from_bin = convert.read_hf_state_dict(folder)
    assert sorted(from_bin) == sorted(state)
    for key in state:
        np.testing.assert_array_equal(from_bin[key], state[key])
