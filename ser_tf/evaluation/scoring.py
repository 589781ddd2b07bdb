"""Score a saved model on a corpus: ``python evaluate.py --model RUN --data corpus=PATH``.

Without a split every clip of the data is scored (the usual cross-corpus test). With a split, the
run's own protocol is rebuilt with the run's seed and only its test speakers are scored. Classes
the model and the data do not share are left out, and the report says which.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from ser_tf.errors import DataError, ParameterError
from ser_tf.evaluation import cross_corpus, metrics as metrics_lib, report as report_lib

log = logging.getLogger(__name__)


def evaluate_model(
    model=None,
    *,
    data_specs: Sequence[str],
    out_dir,
    labels: Optional[Sequence[str]] = None,
    split: Optional[str] = None,
    batch_size: int = 32,
    scan_options: Optional[Mapping[str, Mapping]] = None,
    on_label_conflict: Optional[str] = None,
) -> dict:
    """Score ``model`` (``"default"``, a run folder or ``.keras``/``.h5`` file, or ``None``: the
    ``latest`` run, even a DEMO one, else the newest real run, else the default model; see
    ``ser_tf.inference.choice``).

    Args:
        data_specs: ``"corpus=PATH"`` strings, as for ``train.py --data``.
        out_dir: where ``metrics.json``, ``report.md`` and the figures go.
        labels: class names in the model's output order, if the model has no ``labels.json``.
        split: ``None`` to score every clip; or the hold-out split the run was trained with
            (``speaker`` or ``random``), whose test part is rebuilt with the run's seed, fractions
            and label set, checked against the speakers the run recorded, and scored.
        scan_options: per-corpus scanner options, e.g. ``{"folder": {"speaker_pattern": RE}}``;
            default: the run's own ``data.scan_options`` for the corpora in ``data_specs``.
        on_label_conflict: identical clips with different labels: ``drop``, ``keep-first`` or
            ``error`` (``ser_tf.data.manifest.load_data``); default: the run's own
            ``data.on_label_conflict``.

    Returns:
        The metrics dict written to ``out_dir/metrics.json``.
    """
    from ser_tf import runs
    from ser_tf.config import load_config
    from ser_tf.data import manifest
    from ser_tf.data.pipeline import make_dataset
    from ser_tf.inference import loading
    from ser_tf.inference.choice import choose_model
    from ser_tf.settings import SerConfig, from_run_config

    choice = choose_model(model, latest_even_if_demo=True)
    if choice.warning:
        log.warning("%s", choice.warning)
    path = choice.path
    info = loading.describe_model(path)
    net = loading.load_keras_model(path)
    classes = loading.resolve_classes(info, int(net.outputs[0].shape[-1]), labels=labels)
    run_config = runs.RunFolder(info.run_dir).config if info.run_dir else None
    raw = load_config(run_config) if run_config and run_config.is_file() else {}
    config = from_run_config(raw) if raw else SerConfig()
    audio = config.audio
    if info.duration:
        audio = dataclasses.replace(audio, duration=info.duration)
    # Rebuilding the run's split needs the run's label set: the split is stratified on emotion.
    if scan_options is None:  # the run's own, for the corpora scored here
        named = {manifest.parse_data_spec(s)[0] for s in data_specs}
        scan_options = {k: v for k, v in config.data.scan_options.items() if k in named}
    bundle = manifest.load_data(list(data_specs), labels=config.data.labels if split else "auto",
                                scan_options=scan_options,
                                on_label_conflict=on_label_conflict or config.data.on_label_conflict)
    records, method = bundle.records, "all clips (no split)"
    if split:
        recorded = (raw.get("resolved") or {}).get("splits") or {}
        records = _run_test_records(records, config, split=split, recorded=recorded, shards=bundle.shards)
        method = f"test speakers of the run's {split} split (seed {config.seed})"
    shared, _, _ = cross_corpus.shared_classes(classes, bundle.classes)
    keep = cross_corpus.shared_mask([r.emotion for r in records], shared)
    records = [r for r, k in zip(records, keep) if k]
    if bundle.shards is None:
        dataset = make_dataset(
            records, np.zeros(len(records), np.int32), audio=audio, training=False,
            batch_size=batch_size, seed=config.seed, cache=config.data.cache,
        )
    else:  # --data tfrecord=DIR: the same clips, read from the shards
        from ser_tf.data.shard_pipeline import make_shard_dataset

        dataset = make_shard_dataset(bundle.shards, records, np.zeros(len(records), np.int32), audio=audio,
                                     training=False, batch_size=batch_size, seed=config.seed)
    y_prob = net.predict(dataset, verbose=0)
    y_true, y_prob = cross_corpus.restrict_to_shared([r.emotion for r in records], y_prob, classes, shared)
    result = metrics_lib.compute_metrics(y_true, y_prob, class_names=shared, speakers=[r.speaker for r in records])
    speakers = sorted({r.speaker for r in records})
    protocol = {
        "method": method,
        "speaker_independent": {None: None, "speaker": True, "random": False}[split],
        "test": {"n_clips": len(records), "n_speakers": len(speakers), "speakers": speakers},
        "label_set": "shared classes of model and data",
        "corpora": dict(bundle.roots),
        "model": str(path),
        "cross_corpus": cross_corpus.cross_corpus_protocol(classes, bundle.classes, n_clips_dropped=int((~keep).sum())),
    }
    from ser_tf.data.summary import conflicts_line, skipped_line

    if bundle.skipped:
        protocol["skipped_files"] = skipped_line(bundle)
    if bundle.conflicts:
        protocol["label_conflicts"] = conflicts_line(bundle)
    report_lib.write_report(
        Path(out_dir), metrics=result, protocol=protocol, class_names=shared, y_true=y_true,
        y_prob=y_prob, title=f"evaluation of {path}", is_demo=bundle.is_demo,
    )
    result["protocol"] = protocol
    return result


def _run_test_records(records, config, *, split: str, recorded: Mapping, shards=None):
    """The records of the run's own test speakers, rebuilt with its seed and fractions.

    ``recorded`` is the run's record of its splits (``resolved.splits`` of its ``config.yaml``).

    Only a hold-out split can be rebuilt this way: a k-fold run has one model per fold, and its
    exported model has trained on every other fold's test speakers. The rebuilt test speakers
    must equal those the run recorded, or the model may have trained on what it would be scored on.
    """
    from ser_tf.data import splits as splits_lib

    trained = config.data.split
    if split not in ("speaker", "random") or split != trained:
        raise ParameterError(
            f"--split {split!r}: only the split the run was trained with ({trained!r}) can be "
            "rebuilt, and only for a hold-out run (speaker or random); a k-fold run's report/ "
            "already scores each fold's model on that fold's test speakers"
        )
    if shards is None:
        (part,) = splits_lib.splits_from_config(records, data=config.data, seed=config.seed)
    else:  # shards carry their split: the stored one, checked against the run's speakers below
        from ser_tf.data.shards import stored_splits

        (part,) = stored_splits(shards, records, method=split)
    if not part.has_test:
        raise ParameterError(
            f"--split {split!r}: the run is a final model (data.test_fraction: 0) and has no test "
            "speakers to rebuild; score it on other data, or see its cross-validation run"
        )
    recorded = (recorded.get(part.name) or {}).get("test")
    rebuilt = sorted({r.speaker for r in part.test})
    if recorded is not None and split == "speaker" and sorted(recorded) != rebuilt:
        raise DataError(
            f"the rebuilt test speakers {rebuilt} differ from the run's {sorted(recorded)} (other "
            "data or label set than in training?); refusing to score speakers the model may have "
            "trained on"
        )
    return part.test
