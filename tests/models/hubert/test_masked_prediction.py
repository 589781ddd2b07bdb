"""Tests of ser_tf/models/hubert/masked_prediction.py: the cluster scorer and the masked loss."""

import numpy as np

from ser_tf.models.hubert.masked_prediction import ClusterLogits, MaskedClusterLoss


def test_cluster_logits_are_scaled_cosine_similarities(rng):
    frames = rng.standard_normal((2, 5, 8)).astype(np.float32)
    layer = ClusterLogits(num_clusters=3, temperature=0.1)
    logits = np.asarray(layer(frames))
    assert logits.shape == (2, 5, 3) and len(layer.trainable_weights) == 1
    x = frames / np.linalg.norm(frames, axis=-1, keepdims=True)
    e = np.asarray(layer.cluster_embeddings)
    e = e / np.linalg.norm(e, axis=-1, keepdims=True)
    np.testing.assert_allclose(logits, x @ e.T / 0.1, rtol=1e-4, atol=1e-4)
    assert ClusterLogits.from_config(layer.get_config()).get_config() == layer.get_config()


def test_masked_loss_scores_only_frames_with_a_target(rng):
    logits = rng.standard_normal((1, 4, 3)).astype(np.float32)
    targets = np.array([[2, -1, 0, -1]])
    loss = float(MaskedClusterLoss()(targets, logits))
    log_probs = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
    np.testing.assert_allclose(loss, -(log_probs[0, 2] + log_probs[2, 0]) / 2, rtol=1e-5)
    assert float(MaskedClusterLoss()(np.full((1, 4), -1), logits)) == 0.0  # nothing masked: no loss
