"""Tests of ser_tf/training/hubert_pretrain.py: targets, masking, loss, and a whole tiny run."""

import json

import keras
import numpy as np
import pytest
import soundfile as sf

from ser_tf.errors import ConfigError, DataError
from ser_tf.models.hubert import load_backbone
from ser_tf.models.hubert.backbone import HubertBackbone
from ser_tf.models.hubert.masked_prediction import MaskedClusterLoss, build_pretraining_model
from ser_tf.models.hubert.presets import get_preset
from ser_tf.training.hubert_pretrain import (
    PretrainBatches,
    fit_cluster_labels,
    mfcc_features,
    run_pretraining,
    span_mask,
)


def _voiced(rng, seconds, f0):
    """A gliding harmonic tone with pauses and a little noise: audio with structure to cluster."""
    t = np.arange(int(seconds * 16000)) / 16000
    tone = sum(np.sin(2 * np.pi * k * f0 * t * (1 + 0.2 * np.sin(2 * np.pi * 1.5 * t))) / k for k in (1, 2, 3))
    return (0.2 * tone * (np.sin(2 * np.pi * 2 * t) > -0.3) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_mfcc_targets_align_with_encoder_frames(rng):
    backbone_frames = HubertBackbone(**get_preset("hubert_tiny")).frame_count
    for samples in (8000, 8319, 16000):
        feats = mfcc_features(_voiced(rng, samples / 16000, 150), num_frames=backbone_frames(samples))
        assert feats.shape == (backbone_frames(samples), 39)
        assert np.isfinite(feats).all()


def test_cluster_labels_and_span_masks(rng):
    feats = [rng.standard_normal((40, 3)) + [20 * (i % 2), 0, 0] for i in range(4)]
    labels = fit_cluster_labels(feats, clusters=2, max_frames=1000, seed=0)
    assert [lab.shape for lab in labels] == [(40,)] * 4
    assert len(set(labels[0]) & set(labels[1])) == 0  # the two well-separated groups get different clusters
    with pytest.raises(DataError, match="only 160 frames of audio for 500 k-means clusters"):
        fit_cluster_labels(feats, clusters=500, max_frames=1000, seed=0)
    mask = span_mask(30, 40, prob=0.08, length=10, rng=rng)
    assert mask.shape == (40,) and mask.any() and not mask[30:].any()


def test_batches_score_only_masked_real_frames(rng):
    clips = [_voiced(rng, 0.5, 120), _voiced(rng, 1.0, 200)]
    frames = HubertBackbone(**get_preset("hubert_tiny")).frame_count
    labels = [np.arange(frames(len(c))) % 7 for c in clips]
    batches = PretrainBatches(clips, labels, frame_count=frames, batch_size=2, crop_samples=12000,
                              mask_prob=0.2, mask_length=5, seed=0)
    inputs, targets = batches[0]
    assert inputs["waveform"].shape == (2, 12000) and targets.shape == (2, frames(12000))
    short = int(np.argmin(inputs["padding_mask"].sum(axis=1)))  # the 0.5 s clip is padded
    assert inputs["padding_mask"][short].sum() == 8000
    scored = targets >= 0
    assert scored.any() and not scored[short, frames(8000):].any()
    np.testing.assert_array_equal(scored, inputs["span_mask"].astype(bool))


def test_masked_prediction_loss_decreases(rng):
    keras.utils.set_random_seed(0)
    backbone = HubertBackbone(**get_preset("hubert_tiny"))
    model = build_pretraining_model(backbone, num_clusters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=MaskedClusterLoss(), jit_compile=False)
    model.optimizer.build(model.trainable_variables)  # one trace instead of two
    clips = [_voiced(rng, 0.75, f0) for f0 in (110, 160, 230, 300)]
    frames = backbone.frame_count
    labels = fit_cluster_labels([mfcc_features(c, num_frames=frames(len(c))) for c in clips],
                                clusters=8, max_frames=10_000, seed=0)
    inputs, targets = PretrainBatches(clips, labels, frame_count=frames, batch_size=4, crop_samples=12000,
                                      mask_prob=0.08, mask_length=10, seed=0)[0]
    losses = [float(model.train_on_batch(inputs, targets)) for _ in range(12)]
    assert losses[-1] < 0.8 * losses[0], losses
    # The pretraining graph shares the backbone's weights: training moved them.
    assert backbone.get_layer("transformer_layer_0") in model.layers


def test_run_pretraining_writes_a_loadable_encoder(tmp_path, rng):
    paths = []
    for i, f0 in enumerate((110, 140, 180, 220)):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, _voiced(rng, 0.6, f0), 16000)
        paths.append(path)
    (tmp_path / "broken.wav").write_bytes(b"not audio")
    config = {"seed": 3, "model": {"arch": "hubert_tiny"}, "train": {},
              "pretrain": {"iterations": 2, "clusters": 6, "clusters_iter2": 4, "epochs": 1, "batch_size": 2,
                           "crop_seconds": 0.5}}
    out = run_pretraining(config=config, paths=paths + [tmp_path / "broken.wav"], out_dir=tmp_path / "run", verbose=0)
    assert out == tmp_path / "run" / "encoder.weights.h5" and out.is_file()
    history = json.loads((tmp_path / "run" / "pretrain_history.json").read_text())
    assert (history["clips"], history["skipped"]) == (4, 1)
    assert [it["clusters"] for it in history["iterations"]] == [6, 4]
    assert history["iterations"][0]["next_feature_layer"] == 1
    backbone = load_backbone(preset="hubert_tiny", pretrained=out)
    assert backbone.count_params() == HubertBackbone(**get_preset("hubert_tiny")).count_params()
    with pytest.raises(ConfigError, match="unknown pretrain keys"):
        run_pretraining(config={**config, "pretrain": {"epoch": 1}}, paths=paths, out_dir=tmp_path / "x")
