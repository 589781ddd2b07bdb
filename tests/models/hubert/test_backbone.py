"""Tests of ser_tf/models/hubert/backbone.py, presets.py and the registered builders."""

import numpy as np
import pytest

from ser_tf.errors import ConfigError, ModelError, ParameterError
from ser_tf.models.hubert import load_backbone
from ser_tf.models.hubert.backbone import HubertBackbone, backbone_inputs
from ser_tf.models.hubert.convert import save_converted
from ser_tf.models.hubert.presets import get_preset, list_presets
from ser_tf.models.registry import build_model, list_archs


def test_outputs_shapes_and_frame_mask(audio):
    backbone = HubertBackbone(**get_preset("hubert_tiny"))
    out = backbone(backbone_inputs(audio[:, :8000]))
    assert out["sequence_output"].shape == (2, backbone.frame_count(8000), 32) == (2, 24, 32)
    assert len(out["hidden_states"]) == 3
    assert np.asarray(out["padding_mask"]).all()
    # Post-LN: the last hidden state is the sequence output.
    np.testing.assert_array_equal(out["hidden_states"][-1], out["sequence_output"])


def test_padding_does_not_change_valid_frames_of_layer_norm_models(audio):
    """Layer-norm front-end + masked attention: padding is invisible to the real frames."""
    backbone = HubertBackbone(**{**get_preset("hubert_tiny"), "feature_norm": "layer", "normalize_first": True,
                                 "normalize_waveform": True})
    clip = audio[:1, :9000]
    alone = backbone(backbone_inputs(clip))
    padded = np.zeros((2, 16000), np.float32)
    padded[0, :9000], padded[1] = clip[0], audio[1]
    mask = np.zeros((2, 16000), np.int32)
    mask[0, :9000], mask[1] = 1, 1
    batch = backbone(backbone_inputs(padded, mask))
    frames = backbone.frame_count(9000)
    assert np.asarray(batch["padding_mask"])[0].sum() == frames
    np.testing.assert_allclose(np.asarray(batch["sequence_output"])[0, :frames], alone["sequence_output"][0], atol=2e-5)
    for a, b in zip(batch["hidden_states"], alone["hidden_states"]):
        np.testing.assert_allclose(np.asarray(a)[0, :frames], b[0], atol=2e-5)


def test_group_norm_models_see_padding_like_hf(audio):
    """The first conv's GroupNorm takes time statistics over the padding too (as in HF)."""
    backbone = HubertBackbone(**get_preset("hubert_tiny"))
    clip = audio[:1, :9000]
    padded = np.pad(clip, [(0, 0), (0, 7000)])
    mask = np.pad(np.ones_like(clip, np.int32), [(0, 0), (0, 7000)])
    frames = backbone.frame_count(9000)
    a = backbone(backbone_inputs(clip))["sequence_output"][0]
    b = np.asarray(backbone(backbone_inputs(padded, mask))["sequence_output"])[0, :frames]
    assert np.max(np.abs(a - b)) > 1e-3


def test_registry_and_presets():
    archs = list_archs()
    for arch in ("hubert", "hubert_large", "wav2vec2", "hubert_tiny"):
        assert arch in archs
    assert set(list_presets()) == {"hubert_base", "hubert_large", "wav2vec2_base", "hubert_small", "hubert_tiny"}
    base, large = get_preset("hubert_base"), get_preset("hubert_large")
    assert (base["num_layers"], base["hidden_dim"], base["num_heads"], base["intermediate_dim"]) == (12, 768, 12, 3072)
    assert (large["num_layers"], large["hidden_dim"], large["num_heads"], large["intermediate_dim"]) == (24, 1024, 16, 4096)
    assert (large["feature_norm"], large["normalize_first"]) == ("layer", True)
    with pytest.raises(ParameterError, match=r"unknown HuBERT preset 'hubert_huge'.*hubert_base"):
        get_preset("hubert_huge")
    with pytest.raises(ParameterError, match="unknown HuBERT preset"):
        build_model("hubert", num_classes=2, config={"model": {"preset": "nope"}})


def test_pretrained_weights_load_and_architecture_is_checked(tmp_path, audio):
    source = HubertBackbone(**get_preset("hubert_tiny"))
    path = save_converted(source, tmp_path / "enc.weights.h5")
    model = build_model("hubert_tiny", num_classes=2, config={"model": {"pretrained": str(path)}})
    np.testing.assert_array_equal(model.get_layer("encoder").pos_conv_embed.weight_v, source.pos_conv_embed.weight_v)
    # The same file without its config.json loads into the matching preset.
    (tmp_path / "enc.config.json").unlink()
    assert load_backbone(preset="hubert_tiny", pretrained=path).count_params() == source.count_params()
    other = save_converted(HubertBackbone(**{**get_preset("hubert_tiny"), "num_layers": 3}), tmp_path / "b.weights.h5")
    with pytest.raises(ConfigError, match=r"num_layers: 3 \(preset 2\)"):
        load_backbone(preset="hubert_tiny", pretrained=other)
    (tmp_path / "b.config.json").unlink()  # without its config, the extra layer must still be noticed
    with pytest.raises(ModelError, match="cannot load .* holds 67 variables, preset 'hubert_tiny' has 51"):
        load_backbone(preset="hubert_tiny", pretrained=other)
    with pytest.raises(ModelError, match="does not exist"):
        load_backbone(preset="hubert_tiny", pretrained=tmp_path / "missing.weights.h5")


def test_bad_backbone_arguments():
    with pytest.raises(ParameterError, match="not divisible by num_heads"):
        HubertBackbone(**{**get_preset("hubert_tiny"), "num_heads": 3})
    with pytest.raises(ParameterError, match="dropout"):
        HubertBackbone(**{**get_preset("hubert_tiny"), "dropout": 1.5})


@pytest.mark.parametrize("arch, preset", [("hubert", "hubert_base"), ("hubert_large", "hubert_large"),
                                          ("wav2vec2", "wav2vec2_base"), ("hubert_tiny", "hubert_tiny")])
def test_recipes_resolve(arch, preset):
    from ser_tf.config import CONFIG_DIR, load_config
    from ser_tf.models.hubert import ARCH_PRESETS

    config = load_config(CONFIG_DIR / f"{arch}.yaml")
    assert config["model"]["arch"] == arch and config["model"]["preset"] == preset == ARCH_PRESETS[arch]
    assert config["features"]["kind"] == "raw" and config["train"]["optimizer"] == "adamw"
    if arch == "hubert_tiny":  # the big ones are too slow to build here; same code path
        model = build_model(arch, num_classes=4, config=config)
        assert model.output_shape == (None, 4)
