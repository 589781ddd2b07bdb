"""``python -m ser_tf.tools.package_model``: a run's head becomes a bundle that rebuilds the run's model."""

import json

import numpy as np
import pytest
import yaml

from ser_tf import runs
from ser_tf.models.registry import build_model
from ser_tf.pretrained import bundle
from ser_tf.tools import package_model

MODEL = {"arch": "whisper", "preset": "whisper_tiny_en", "checkpoint": "auto", "freeze": "all",
         "concat_layers": True, "weighted_layer_sum": False, "normalize_pooled": True, "pooling": "stats",
         "classifier_proj_size": 0, "dropout": 0.3}


def _run_folder(root, *, splits, checkpoint="auto", model=None):
    folder = runs.RunFolder(root)
    folder.path.mkdir(parents=True)
    config = {"model": {**MODEL, "checkpoint": checkpoint}, "features": {"kind": "whisper_logmel"},
              "audio": {"sample_rate": 16000, "duration": 1.0}, "augment": {"noise": {"enabled": True}},
              "train": {"encoder_cache": {"views": 2}},
              "resolved": {"data_roots": {"ravdess": "/data"}, "splits": splits}}
    folder.config.write_text(yaml.safe_dump(config))
    runs.write_labels(folder, classes=["neutral", "happy", "sad"], label_set="custom", sample_rate=16000,
                      duration=1.0, arch="whisper", demo_data=False, corpora=["ravdess"])
    if model is not None:
        model.save(folder.model_keras)
    return folder.path


def test_a_run_on_the_pinned_encoder_packages_and_rebuilds_exactly(tmp_path, capsys):
    config = {"model": {k: v for k, v in MODEL.items() if k != "arch"}}
    model = build_model("whisper", num_classes=3, config=config)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.name != "encoder":
            for v in layer.weights:
                v.assign(rng.uniform(0.5, 1.5, v.shape).astype(v.dtype))
    run = _run_folder(tmp_path / "run", splits={"final": {"train": ["ravdess:01"], "val": ["ravdess:02"], "test": []}},
                      model=model)
    out = tmp_path / "bundle"
    code = package_model.main(["--run", str(run), "--out", str(out), "--recipe", "train.py --config x.yaml",
                               "--licence", "CC BY-NC-SA 4.0"])
    printed = capsys.readouterr().out
    assert code == 0 and "max_abs_difference: 0.0" in printed
    meta = json.loads((out / bundle.META_FILE).read_text())
    assert meta["licence"] == "CC BY-NC-SA 4.0" and meta["provenance"]["recipe"] == "train.py --config x.yaml"
    assert meta["provenance"]["speakers"]["val"] == ["ravdess:02"] and meta["provenance"]["encoder_cache_views"] == 2
    assert (out / bundle.WEIGHTS_FILE).stat().st_size < 1_000_000  # the head only, not the 8 M encoder


def test_runs_that_cannot_ship_are_refused(tmp_path):
    two = {"fold-1": {}, "fold-2": {}}
    with pytest.raises(Exception, match="holds 2 splits; package a single model"):
        package_model.run_metadata(_run_folder(tmp_path / "kfold", splits=two))
    with pytest.raises(Exception, match="local file; a bundle needs one of"):
        package_model.run_metadata(_run_folder(tmp_path / "local", splits={"final": {}}, checkpoint="/my/ckpt"))
    assert package_model.main(["--run", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
