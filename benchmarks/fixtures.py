"""Tiny inputs for the benchmarks' ``--quick`` runs (an untrained model run, untrained k-fold runs,
a small demo corpus) and ``compare_scores``, the studies' way to record an accuracy figure.

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


def _save_untrained(run, config: dict, *, seed: int) -> None:
    """An untrained tiny model of ``config`` saved in ``run`` (a ``RunFolder``) with its labels."""
    import keras

    from ser_tf.models.registry import build_model
    from ser_tf.runs import write_labels

    keras.utils.set_random_seed(seed)
    model = build_model(TINY_MODEL["arch"], num_classes=len(CLASSES), config=config)
    run.path.mkdir(parents=True, exist_ok=True)
    model.save(run.model_keras)
    write_labels(run, classes=CLASSES, label_set="ravdess8", sample_rate=SR, duration=TINY_SECONDS,
                 arch=TINY_MODEL["arch"])


def tiny_model_run(folder: Path, *, seed: int = 0) -> Path:
    """An untrained tiny CNN-LSTM saved as a run folder ``folder/tiny-untrained`` (``model.keras``,
    ``labels.json`` for 8 RAVDESS classes, 1 s windows at 16 kHz); returns the run folder."""
    from ser_tf.config import dump_config
    from ser_tf.runs import RunFolder

    config = {"model": dict(TINY_MODEL), "audio": {"duration": TINY_SECONDS, "sample_rate": SR}}
    run = RunFolder(Path(folder) / "tiny-untrained")
    _save_untrained(run, config, seed=seed)
    run.config.write_text(dump_config(config), encoding="utf-8")
    return run.path


def tiny_runs(folder: Path, corpus: Path, *, names=("a",), split: str = "kfold", n_folds: int = 2):
    """Untrained tiny runs laid out as ``train.py`` lays out a finished run on ``ravdess=corpus``:
    ``config.yaml`` (the resolved recipe and, under ``resolved.splits``, the speakers of every
    split, drawn as the trainer draws them) and one untrained model per split (``fold-K/`` for
    k-fold), each run with its own weights. No training: the models output near-chance guesses.
    Returns the run folders, one per name."""
    from ser_tf.config import dump_config
    from ser_tf.runs import RunFolder
    from ser_tf.settings import resolve
    from ser_tf.training.runner import load_bundle, run_splits

    data = {"corpora": [f"ravdess={corpus}"], "labels": "ravdess8", "split": split}
    if split == "kfold":
        data["n_folds"] = n_folds
    config = resolve({"model": dict(TINY_MODEL), "audio": {"duration": TINY_SECONDS}, "data": data, "seed": 1})
    bundle = load_bundle(config)
    splits = run_splits(bundle, config)
    raw = config.to_dict()
    raw["resolved"] = {"splits": {s.name: {part: sorted({r.speaker for r in getattr(s, part)})
                                           for part in ("train", "val", "test")} for s in splits}}
    out = []
    for k, name in enumerate(names):
        run = RunFolder(Path(folder) / f"tiny-{name}")
        run.path.mkdir(parents=True, exist_ok=True)
        run.config.write_text(dump_config(raw), encoding="utf-8")
        for i, s in enumerate(splits):
            _save_untrained(run.fold(s.name) if split == "kfold" else run, raw, seed=100 * k + i)
        out.append(run.path)
    return out


def demo_corpus(folder: Path, *, n_speakers: int = 6, clips_per_emotion: int = 1) -> Path:
    """A small synthetic demo corpus in RAVDESS naming (``n_speakers * 8 * clips_per_emotion``
    clips), readable as ``ravdess=PATH``; generated once, kept if already there."""
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(Path(folder), n_speakers=n_speakers, clips_per_emotion=clips_per_emotion, seed=0)


def compare_scores(bench, name: str, values, baseline, *, baseline_name: str, unit: str = "UA",
                   target=None, details=None) -> None:
    """Record scores ``values`` (e.g. UA per fold) against ``baseline`` scores with ratio
    "relative" (figure / baseline); a zero median, which makes no ratio (an untrained quick-run
    model can score 0), is recorded without its baseline and said in a note."""
    from benchmarks.harness import Stats

    figure, base = Stats(list(values), unit=unit), Stats(list(baseline), unit=unit)
    if figure.median == 0 or base.median == 0:
        bench.figure(name, figure.values, unit=unit, details=dict(details or {}, baseline=base.as_json(baseline_name)))
        bench.note(f"{name}: a median of 0 makes no ratio; recorded without its baseline ({baseline_name}).")
        return
    bench.compare(name, figure, base, baseline_name=baseline_name, ratio="relative", target=target,
                  details=details)
