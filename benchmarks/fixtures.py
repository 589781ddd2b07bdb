"""Tiny inputs for the benchmarks' ``--quick`` runs: an untrained model run and a small demo corpus.

Quick runs exercise a benchmark's code on a fresh checkout, with no data download and in seconds;
their figures say nothing about speed or accuracy.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import SR

CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
# The smallest CNN-LSTM worth running: 1 s windows, a few filters and units.
TINY_MODEL = {"arch": "cnn_lstm_small", "conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8}
TINY_SECONDS = 1.0


def tiny_model_run(folder: Path, *, seed: int = 0) -> Path:
    """An untrained tiny CNN-LSTM saved as a run folder ``folder/tiny-untrained`` (``model.keras``,
    ``labels.json`` for 8 RAVDESS classes, 1 s windows at 16 kHz); returns the run folder."""
    import keras

    from ser_tf.config import dump_config
    from ser_tf.models.registry import build_model
    from ser_tf.runs import RunFolder, write_labels

    keras.utils.set_random_seed(seed)
    config = {"model": dict(TINY_MODEL), "audio": {"duration": TINY_SECONDS, "sample_rate": SR}}
    model = build_model(TINY_MODEL["arch"], num_classes=len(CLASSES), config=config)
    run = RunFolder(Path(folder) / "tiny-untrained")
    run.path.mkdir(parents=True, exist_ok=True)
    model.save(run.model_keras)
    write_labels(run, classes=CLASSES, label_set="ravdess8", sample_rate=SR, duration=TINY_SECONDS,
                 arch=TINY_MODEL["arch"])
    run.config.write_text(dump_config(config), encoding="utf-8")
    return run.path


def demo_corpus(folder: Path, *, n_speakers: int = 6, clips_per_emotion: int = 1) -> Path:
    """A small synthetic demo corpus in RAVDESS naming (``n_speakers * 8 * clips_per_emotion``
    clips), readable as ``ravdess=PATH``; generated once, kept if already there."""
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(Path(folder), n_speakers=n_speakers, clips_per_emotion=clips_per_emotion, seed=0)
