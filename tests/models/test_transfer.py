"""ser_tf/models/transfer.py: encoder / head / split views of pretrained-encoder classifiers."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ConfigError, ModelError, ParameterError
from ser_tf.models import hubert, transfer, whisper
from ser_tf.models.hubert.backbone import HubertBackbone
from ser_tf.models.hubert.presets import get_preset as hubert_preset
from ser_tf.models.registry import build_model
from ser_tf.models.whisper.backbone import WhisperEncoderBackbone
from ser_tf.models.whisper.presets import get_preset as whisper_preset

# Every encoder kind the views handle: Whisper (pre-LN, last state normed), HuBERT base-like
# (post-LN) and HuBERT large-like (pre-LN, last state raw, sequence_output normed).
ENCODERS = ("whisper", "hubert_post_ln", "hubert_pre_ln")


def _encoder(kind: str):
    keras.utils.set_random_seed(0)
    if kind == "whisper":
        return WhisperEncoderBackbone(**whisper_preset("whisper_test_tiny"))
    kwargs = hubert_preset("hubert_tiny")
    if kind == "hubert_pre_ln":
        kwargs.update(normalize_first=True, feature_norm="layer")
    return HubertBackbone(**kwargs)


def _classifier(kind: str, *, weighted: bool = True, pooling: str = "attentive_stats", encoder=None,
                concat: bool = False):
    encoder = encoder if encoder is not None else _encoder(kind)
    family = whisper if kind == "whisper" else hubert
    keras.utils.set_random_seed(1)
    hparams = {"weighted_layer_sum": weighted and not concat, "pooling": pooling}
    if concat:
        hparams.update(concat_layers=True, normalize_pooled=True, classifier_proj_size=0)
    return family.build_classifier(encoder, num_classes=3, hparams=hparams)


@pytest.fixture
def audio(rng):
    """Two 0.5 s clips at 16 kHz."""
    return (0.1 * rng.standard_normal((2, 8000))).astype(np.float32)


@pytest.mark.parametrize("kind", ENCODERS)
@pytest.mark.parametrize("weighted", [True, False])
def test_views_compose_to_the_classifier(kind, weighted, audio):
    model = _classifier(kind, weighted=weighted, pooling="attentive_stats" if weighted else "masked_mean")
    expected = np.asarray(model(audio))
    encoder = model.get_layer("encoder")
    num_layers = encoder.num_layers
    cached = transfer.encoder_view(model)(audio)
    frames = cached["padding_mask"].shape[1]
    assert cached["hidden_states"].shape == (2, num_layers + 1, frames, encoder.hidden_dim)
    np.testing.assert_allclose(transfer.head_view(model)(cached), expected, atol=1e-5)
    for top_k in range(num_layers + 1):
        lower, upper = transfer.split_encoder(model, top_k=top_k)
        states = lower(audio)
        assert states["hidden_states"].shape == (2, num_layers + 1 - top_k, frames, encoder.hidden_dim)
        # The lower states are the first ones of the full stack (the top one only when top_k = 0).
        np.testing.assert_allclose(states["hidden_states"], cached["hidden_states"][:, : num_layers + 1 - top_k],
                                   atol=1e-5)
        np.testing.assert_allclose(upper(states), expected, atol=1e-5, err_msg=f"top_k={top_k}")


@pytest.mark.parametrize("kind", ["whisper", "hubert_pre_ln"])
def test_views_compose_with_a_per_layer_concatenating_head(kind, audio):
    model = _classifier(kind, pooling="stats", concat=True)
    expected = np.asarray(model(audio))
    np.testing.assert_allclose(transfer.head_view(model)(transfer.encoder_view(model)(audio)), expected, atol=1e-5)
    lower, upper = transfer.split_encoder(model, top_k=1)
    np.testing.assert_allclose(upper(lower(audio)), expected, atol=1e-5)


@pytest.mark.parametrize("kind", ENCODERS)
def test_upper_view_reuses_the_encoder_layers(kind):
    model = _classifier(kind)
    encoder = model.get_layer("encoder")
    _, upper = transfer.split_encoder(model, top_k=1)
    parts = transfer.encoder_parts(encoder)
    top = parts.layers[-1]
    assert top.name.endswith(f"_layer_{encoder.num_layers - 1}")
    ids = {id(w) for w in upper.weights}
    assert all(id(w) in ids for w in top.weights)
    assert not any(id(w) in ids for w in parts.layers[0].weights)  # the lower layers are not run
    assert all(id(w) in ids for w in model.get_layer("classifier").weights)


def test_views_share_the_classifier_weights(audio):
    model = _classifier("whisper")
    view = transfer.head_view(model)
    cached = transfer.encoder_view(model)(audio)
    before = np.asarray(model(audio))
    kernel = model.get_layer("classifier").kernel
    view.get_layer(f"{model.name}_head").get_layer("classifier").kernel.assign(np.asarray(kernel) * 2.0)
    after = np.asarray(model(audio))
    assert np.abs(after - before).max() > 1e-4
    np.testing.assert_allclose(view(cached), after, atol=1e-5)
    # Training the head view trains the classifier's head.
    view.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    view.fit(cached, np.array([0, 1]), epochs=1, verbose=0)
    np.testing.assert_allclose(view(cached), model(audio), atol=1e-5)
    assert np.abs(np.asarray(model(audio)) - after).max() > 1e-4


@pytest.mark.parametrize("kind", ENCODERS)
def test_fingerprint(kind):
    model = _classifier(kind)
    first = transfer.encoder_fingerprint(model)
    assert len(first) == 64 and first == transfer.encoder_fingerprint(model)
    # A rebuild with the same weights has the same fingerprint, whatever the head.
    rebuilt = _classifier(kind, weighted=False, pooling="masked_mean")
    rebuilt.get_layer("encoder").set_weights(model.get_layer("encoder").get_weights())
    assert transfer.encoder_fingerprint(rebuilt) == first
    head_kernel = model.get_layer("classifier").kernel
    head_kernel.assign(np.asarray(head_kernel) + 1.0)
    assert transfer.encoder_fingerprint(model) == first
    lower_top1 = transfer.encoder_fingerprint(model, top_k=1)
    assert lower_top1 != first
    # A change in the top layer: new full fingerprint, same lower (top_k=1) fingerprint.
    parts = transfer.encoder_parts(model.get_layer("encoder"))
    top = parts.layers[-1].weights[0]
    top.assign(np.asarray(top) + 0.01)
    assert transfer.encoder_fingerprint(model) != first
    assert transfer.encoder_fingerprint(model, top_k=1) == lower_top1
    bottom = parts.layers[0].weights[0]
    bottom.assign(np.asarray(bottom) + 0.01)
    assert transfer.encoder_fingerprint(model, top_k=1) != lower_top1


def test_freeze_encoder():
    model = _classifier("whisper")
    encoder = model.get_layer("encoder")
    head = len(model.trainable_weights) - len(encoder.trainable_weights)
    transfer.freeze_encoder(model, freeze="all")
    assert len(model.trainable_weights) == head and not encoder.trainable_weights
    transfer.freeze_encoder(model, freeze="top_k", finetune_layers=1)
    trained = {id(w) for w in encoder.trainable_weights}
    expected = encoder.encoder_layers[-1].trainable_weights + encoder.layer_norm.trainable_weights
    assert trained == {id(w) for w in expected}
    transfer.freeze_encoder(model, freeze="none")
    assert not encoder.position_embedding.trainable_weights  # Whisper's fixed sinusoids stay fixed
    assert len(encoder.trainable_weights) == len(encoder.weights) - 1
    with pytest.raises(ConfigError, match=r"finetune_layers must be an integer in \[1, 2\].*got 3"):
        transfer.freeze_encoder(model, freeze="top_k", finetune_layers=3)
    with pytest.raises(ConfigError, match=r"freeze must be one of.*'some'"):
        transfer.freeze_encoder(model, freeze="some")


def test_errors():
    plain = build_model("cnn", num_classes=3, config={"audio": {"duration": 0.5}})
    with pytest.raises(ModelError, match=r"no layer named 'encoder'"):
        transfer.encoder_view(plain)
    model = _classifier("whisper")
    with pytest.raises(ParameterError, match=r"top_k must be an integer in \[0, 2\].*got 3"):
        transfer.split_encoder(model, top_k=3)
    with pytest.raises(ParameterError, match="top_k"):
        transfer.split_encoder(model, top_k=-1)


def test_a_misnamed_backbone_is_copied_under_the_name_encoder(audio):
    backbone = _encoder("whisper")
    assert backbone.name == "whisper_encoder_backbone"
    model = _classifier("whisper", encoder=backbone)
    encoder = model.get_layer("encoder")
    assert encoder is not backbone
    for a, b in zip(encoder.weights, backbone.weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_views_of_a_reloaded_classifier(tmp_path, audio, suffix):
    import ser_tf

    model = _classifier("whisper")
    transfer.freeze_encoder(model, freeze="top_k", finetune_layers=1)
    model.save(tmp_path / f"m.{suffix}")
    restored = ser_tf.load_keras_model(tmp_path / f"m.{suffix}", compile=False)
    expected = np.asarray(restored(audio))
    np.testing.assert_allclose(transfer.head_view(restored)(transfer.encoder_view(restored)(audio)), expected, atol=1e-5)
    lower, upper = transfer.split_encoder(restored, top_k=1)
    np.testing.assert_allclose(upper(lower(audio)), expected, atol=1e-5)
    assert transfer.encoder_fingerprint(restored) == transfer.encoder_fingerprint(model)
    assert transfer.encoder_fingerprint(restored, top_k=1) == transfer.encoder_fingerprint(model, top_k=1)
