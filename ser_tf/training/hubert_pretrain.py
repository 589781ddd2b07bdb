"""HuBERT-style self-supervised pretraining on unlabelled audio (Hsu et al., 2021).

Iteration 1: frame targets are k-means clusters (MiniBatchKMeans, 100 by default) of 39-d MFCCs
(13 + delta + delta-delta) at 50 Hz, aligned one-to-one with the conv encoder's 20 ms frames.
Spans of 10 frames are masked (each valid frame starts one with probability 0.08) by replacing the
projected features with the backbone's learned mask embedding; the transformer output is projected
to 256-d and scored against learned cluster embeddings by cosine similarity / 0.1, and the
cross-entropy is taken over masked frames only. Iteration 2 re-clusters the hidden states of a
middle transformer layer of the iteration-1 model and trains a fresh model on those targets.

``run_pretraining`` (called by ``python train.py --arch hubert --pretrain``) writes
``<out>/encoder.weights.h5`` (+ ``encoder.config.json``), which ``model.pretrained`` loads into
the classifier, and ``<out>/pretrain_history.json``.

The recipe lives here, on the training floor: the targets, the span masks, the batches and the
loop. The pretraining graph itself (``build_pretraining_model``, ``ClusterLogits``,
``MaskedClusterLoss``) is model code and lives in ``ser_tf/models/hubert/masked_prediction.py``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import List, Mapping, Optional, Sequence

import keras
import numpy as np

from ser_tf.constants import DELTA_WIDTH, SAMPLE_RATE
from ser_tf.errors import AudioError, ConfigError, DataError
from ser_tf.models.hubert.masked_prediction import MaskedClusterLoss, build_pretraining_model
from ser_tf.utils.io import write_json

log = logging.getLogger(__name__)

# Defaults of the `pretrain` config section (configs/hubert.yaml).
PRETRAIN_DEFAULTS = {
    "iterations": 2,  # 1: MFCC targets only; 2: then re-cluster a middle layer
    "clusters": 100,  # k-means clusters of iteration 1
    "clusters_iter2": 100,  # the paper uses 500 with 960 h of audio; small corpora want fewer
    "feature_layer": None,  # hidden state re-clustered in iteration 2 (None: num_layers // 2)
    "epochs": 20,  # per iteration
    "batch_size": 8,
    "crop_seconds": 2.0,  # random crops, aligned to 20 ms frames
    "learning_rate": 5.0e-4,
    "weight_decay": 0.01,
    "warmup_ratio": 0.08,
    "mask_prob": 0.08,  # chance that a frame starts a masked span
    "mask_length": 10,  # frames per span (200 ms)
    "projection_dim": 256,
    "temperature": 0.1,
    "kmeans_max_frames": 200_000,  # frames sampled to fit k-means
}

N_MFCC = 13
FRAME_HOP = 320  # samples per encoder frame: 20 ms at 16 kHz
FRAME_WIN = 400  # the encoder's receptive field: 25 ms


def mfcc_features(waveform: np.ndarray, *, num_frames: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """39-d MFCC + delta + delta-delta at 50 Hz, trimmed or edge-padded to ``num_frames``.

    Args:
        waveform: ``(samples,)`` float mono audio at ``sample_rate`` Hz.
        num_frames: the conv encoder's frame count for this waveform (> 0).

    Returns:
        ``(num_frames, 39)`` float32.
    """
    import librosa

    mfcc = librosa.feature.mfcc(
        y=np.asarray(waveform, dtype=np.float32), sr=sample_rate, n_mfcc=N_MFCC, n_fft=FRAME_WIN,
        hop_length=FRAME_HOP, n_mels=40, center=False,
    )
    feats = np.concatenate([mfcc, librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=1, mode="nearest"),
                            librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=2, mode="nearest")]).T
    if len(feats) >= num_frames:
        return feats[:num_frames].astype(np.float32)
    return np.pad(feats, [(0, num_frames - len(feats)), (0, 0)], mode="edge").astype(np.float32)


def fit_cluster_labels(features: Sequence[np.ndarray], *, clusters: int, max_frames: int, seed: int) -> List[np.ndarray]:
    """MiniBatchKMeans over standardised frames; returns each clip's ``(frames,)`` int labels.

    Raises:
        DataError: fewer frames than ``clusters``.
    """
    from sklearn.cluster import MiniBatchKMeans

    frames = np.concatenate(features)
    if len(frames) < clusters:
        raise DataError(f"only {len(frames)} frames of audio for {clusters} k-means clusters; "
                        "give more audio or lower pretrain.clusters")
    rng = np.random.default_rng(seed)
    sample = frames[rng.choice(len(frames), size=min(len(frames), max_frames), replace=False)]
    mean, std = sample.mean(0), sample.std(0) + 1e-6
    kmeans = MiniBatchKMeans(n_clusters=clusters, batch_size=4096, n_init=3, random_state=seed)
    kmeans.fit((sample - mean) / std)
    return [kmeans.predict((f - mean) / std).astype(np.int32) for f in features]


def span_mask(valid_frames: int, total_frames: int, *, prob: float, length: int, rng) -> np.ndarray:
    """``(total_frames,)`` bool: each of the first ``valid_frames`` frames starts a span of ``length``
    with probability ``prob``; at least one span, never past the valid frames."""
    starts = rng.random(valid_frames) < prob
    if valid_frames and not starts.any():
        starts[rng.integers(valid_frames)] = True
    mask = np.zeros(total_frames, dtype=bool)
    for start in np.flatnonzero(starts):
        mask[start:min(start + length, valid_frames)] = True
    return mask


class PretrainBatches(keras.utils.PyDataset):
    """Batches of random frame-aligned crops with span masks and masked-frame targets.

    Yields ``({"waveform", "padding_mask", "span_mask"}, targets)`` where ``targets (batch, frames)``
    holds the cluster label of masked real frames and -1 elsewhere (ignored by the loss).
    """

    def __init__(self, clips, labels, *, frame_count, batch_size: int, crop_samples: int, mask_prob: float,
                 mask_length: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.clips, self.labels, self.frame_count = clips, labels, frame_count
        self.batch_size, self.crop_samples = int(batch_size), int(crop_samples)
        self.mask_prob, self.mask_length = float(mask_prob), int(mask_length)
        self.crop_frames = frame_count(self.crop_samples)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(clips))

    def __len__(self):
        return math.ceil(len(self.clips) / self.batch_size)

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.clips))

    def __getitem__(self, index):
        chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        n = len(chosen)
        waveform = np.zeros((n, self.crop_samples), np.float32)
        padding = np.zeros((n, self.crop_samples), np.int32)
        spans = np.zeros((n, self.crop_frames), np.int32)
        targets = np.full((n, self.crop_frames), -1, np.int32)
        for row, i in enumerate(chosen):
            clip, label = self.clips[i], self.labels[i]
            # Crops start on a frame boundary, so crop frame j is clip frame first + j.
            first = int(self.rng.integers(0, len(label) - self.crop_frames + 1)) if len(label) > self.crop_frames else 0
            piece = clip[first * FRAME_HOP:first * FRAME_HOP + self.crop_samples]
            waveform[row, :len(piece)], padding[row, :len(piece)] = piece, 1
            valid = min(self.frame_count(len(piece)), len(label) - first)
            mask = span_mask(valid, self.crop_frames, prob=self.mask_prob, length=self.mask_length, rng=self.rng)
            spans[row] = mask
            targets[row, :valid] = np.where(mask[:valid], label[first:first + valid], -1)
        return {"waveform": waveform, "padding_mask": padding, "span_mask": spans}, targets



def _layer_features(backbone, clips, layer: int) -> List[np.ndarray]:
    """``hidden_states[layer]`` of each clip, ``(frames, hidden_dim)`` float32."""
    feats = []
    for clip in clips:  # one clip at a time: padding would shift the GroupNorm statistics
        out = backbone({"waveform": clip[None], "padding_mask": np.ones((1, len(clip)), np.int32)}, training=False)
        feats.append(np.asarray(out["hidden_states"][layer][0], dtype=np.float32))
    return feats


def _train_iteration(*, preset_kwargs, clips, labels, clusters, opts, seed, jit_compile, verbose):
    from ser_tf.models.hubert.backbone import HubertBackbone

    backbone = HubertBackbone(**preset_kwargs)
    model = build_pretraining_model(backbone, num_clusters=clusters, projection_dim=opts["projection_dim"],
                                    temperature=opts["temperature"])
    batches = PretrainBatches(clips, labels, frame_count=backbone.frame_count, batch_size=opts["batch_size"],
                              crop_samples=int(opts["crop_seconds"] * SAMPLE_RATE), mask_prob=opts["mask_prob"],
                              mask_length=opts["mask_length"], seed=seed)
    total = max(len(batches) * int(opts["epochs"]), 1)
    warmup = int(round(float(opts["warmup_ratio"]) * total))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else float(opts["learning_rate"]), decay_steps=max(total - warmup, 1),
        warmup_target=float(opts["learning_rate"]) if warmup else None, warmup_steps=warmup,
    )
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=float(opts["weight_decay"]), clipnorm=1.0),
                  loss=MaskedClusterLoss(), jit_compile=jit_compile)
    # Built here rather than lazily inside the first traced step, which would make TensorFlow
    # trace the whole step twice (variables created during a trace force a retrace).
    model.optimizer.build(model.trainable_variables)
    history = model.fit(batches, epochs=int(opts["epochs"]), verbose=verbose)
    return backbone, [float(v) for v in history.history["loss"]]


def _options(config: Mapping) -> dict:
    opts = {**PRETRAIN_DEFAULTS, **dict(config.get("pretrain") or {})}
    unknown = sorted(set(opts) - set(PRETRAIN_DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown pretrain keys {unknown}; expected some of {sorted(PRETRAIN_DEFAULTS)}")
    if int(opts["iterations"]) not in (1, 2):
        raise ConfigError(f"pretrain.iterations must be 1 or 2, got {opts['iterations']!r}")
    if not 0.0 < float(opts["mask_prob"]) < 1.0:
        raise ConfigError(f"pretrain.mask_prob must be in (0, 1), got {opts['mask_prob']!r}")
    return opts


def run_pretraining(*, config: Mapping, paths: Sequence, out_dir, verbose: Optional[int] = 2) -> Path:
    """Pretrain the backbone of ``config['model']`` on the audio ``paths``; returns the encoder path.

    Unreadable or too-short files are skipped with a warning and counted. The backbone preset is
    ``model.preset`` or the arch's default. Runs float32 without XLA on CPU and follows
    ``train.jit_compile`` / ``train.mixed_precision`` on GPU (via the trainer's runtime rules).

    Raises:
        DataError: no usable audio, or too little for the k-means.  ConfigError: bad ``pretrain.*``.
    """
    from ser_tf.data.audio_io import load_audio
    from ser_tf.models.hubert import ARCH_PRESETS
    from ser_tf.models.hubert.convert import save_converted
    from ser_tf.models.hubert.layers import frame_count
    from ser_tf.models.hubert.presets import get_preset
    from ser_tf.settings import TrainConfig
    from ser_tf.training.runtime import resolve_runtime, set_seed

    opts = _options(config)
    model_cfg = dict(config.get("model") or {})
    preset = model_cfg.get("preset") or ARCH_PRESETS.get(model_cfg.get("arch"), "hubert_base")
    preset_kwargs = get_preset(preset)
    seed = int(config.get("seed", 42))
    set_seed(seed)
    # A SerConfig's section as it is; a plain dict (tests, benchmarks) is read as a TrainConfig.
    runtime = resolve_runtime(train=TrainConfig.from_mapping(config.get("train") or {}))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    clips, skipped = [], 0
    for path in paths:
        try:
            clip = load_audio(path, sample_rate=SAMPLE_RATE)
        except AudioError as err:
            log.warning("skipping %s", err)
            skipped += 1
            continue
        if frame_count(len(clip), kernels=preset_kwargs["conv_kernels"], strides=preset_kwargs["conv_strides"]) < 1:
            log.warning("skipping %s: %d samples is shorter than one encoder frame", path, len(clip))
            skipped += 1
            continue
        clips.append(clip)
    if not clips:
        raise DataError(f"no usable audio among {len(paths)} files for pretraining")
    log.info("pretraining %s on %d clips (%d skipped)", preset, len(clips), skipped)

    def frames_of(clip):
        return frame_count(len(clip), kernels=preset_kwargs["conv_kernels"], strides=preset_kwargs["conv_strides"])

    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(runtime.mixed_precision)
    history = {"preset": preset, "clips": len(clips), "skipped": skipped, "iterations": []}
    try:
        features = [mfcc_features(clip, num_frames=frames_of(clip)) for clip in clips]
        clusters = int(opts["clusters"])
        for iteration in range(1, int(opts["iterations"]) + 1):
            labels = fit_cluster_labels(features, clusters=clusters, max_frames=int(opts["kmeans_max_frames"]),
                                        seed=seed + iteration)
            backbone, losses = _train_iteration(preset_kwargs=preset_kwargs, clips=clips, labels=labels,
                                                clusters=clusters, opts=opts, seed=seed + iteration,
                                                jit_compile=runtime.jit_compile, verbose=verbose)
            history["iterations"].append({"targets": "mfcc" if iteration == 1 else "layer", "clusters": clusters,
                                          "loss": losses})
            if iteration < int(opts["iterations"]):
                layer = opts["feature_layer"]
                layer = backbone.num_layers // 2 if layer is None else int(layer)
                features = _layer_features(backbone, clips, layer)
                clusters = int(opts["clusters_iter2"])
                history["iterations"][-1]["next_feature_layer"] = layer
        encoder = save_converted(backbone, out_dir / "encoder.weights.h5")
    finally:
        keras.config.set_dtype_policy(previous_policy)
    write_json(out_dir / "pretrain_history.json", history)
    return encoder
