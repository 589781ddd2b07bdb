"""One training run: data, splits, one model per split, reports, and the run folder.

The order is what keeps the numbers honest: load and probe the data, split by speaker, and only
then oversample or augment the training split. Model selection (early stopping, best weights,
the k-fold run's exported model) looks at validation speakers only, never at test speakers.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

from ser_tf import runs
from ser_tf.config import dump_config
from ser_tf.data import balance, manifest, splits as splits_lib
from ser_tf.data.summary import conflicts_dict, conflicts_line, skipped_line
from ser_tf.errors import ConfigError
from ser_tf.settings import SerConfig
from ser_tf.training import callbacks as callbacks_lib
from ser_tf.training import distribute, optim, resume, runtime as runtime_lib
from ser_tf.training.targets import check_labels, loss_from_config
from ser_tf.training.tracking import tracking_context
from ser_tf.utils.io import atomic_path, copy_file, write_json, write_text
from ser_tf.utils import progress


@dataclasses.dataclass
class SplitResult:
    name: str
    metrics: Optional[dict]  # test metrics; None for a final model (a split without test speakers)
    history: dict
    val_score: float  # the model-selection score on validation speakers
    fold_dir: Path
    seconds: float


@dataclasses.dataclass
class RunResult:
    run_dir: Path
    results: List[SplitResult]
    # The report's metrics.json: the test split's metrics, the k-fold aggregate, or, for a final
    # model (no test speakers), {"test": None, "note": ..., "protocol": ...} with no score at all.
    summary: dict
    # False on a multi-worker run's other workers: their run_dir was a temporary copy, now deleted.
    is_chief: bool = True


def _datasets(split, bundle, config: SerConfig):
    from functools import partial

    from ser_tf.data.pipeline import make_dataset

    make = partial(make_dataset, cache=config.data.cache)
    if bundle.shards is not None:  # --data tfrecord=DIR: the same chain, streamed from the shards (no cache)
        from ser_tf.data.shard_pipeline import make_shard_dataset

        make = partial(make_shard_dataset, bundle.shards)
    seed = config.seed
    train_records = split.train
    if config.data.balance == "oversample":
        train_records = balance.oversample(train_records, seed=seed)  # training split only
    one_hot = config.train.label_smoothing > 0
    n_classes = len(bundle.label_set.classes)
    out = {"test": None}  # stays None for a final model: no test speakers, nothing to predict
    parts = [("train", train_records, True), ("val", split.val, False)]
    if split.has_test:
        parts.append(("test", split.test, False))
    for name, records, training in parts:
        labels = bundle.labels_array(records)
        # Records, not paths: the pipeline reuses the headers load_data probed.
        ds = make(
            records, labels, audio=config.audio, augment=config.augment, training=training,
            batch_size=config.train.batch_size, seed=seed,
        )
        ds = distribute.shard_by_data(ds)  # each worker's slice of every global batch
        if not training:
            _check_complete(ds, labels, name)
        if one_hot and name != "test":
            import tensorflow as tf

            ds = ds.map(lambda x, y: (x, tf.one_hot(y, n_classes)))
        out[name] = (ds, labels, records)
    return out


def one_iterator(train_ds, steps: int):
    """``(train_ds.repeat(), batches per epoch)``: one iterator for the whole ``fit``.

    Given a finite dataset, Keras makes a new iterator every epoch, and each new iterator
    instantiates the map functions again: with pitch shift and time stretch on, that took longer
    than the epoch's own augmentation (seconds; ``benchmarks/bench_input_bound.py``). Repeated,
    the batches are the same bit for bit (each repetition reshuffles and redraws as a new iterator
    does); ``steps`` (``ceil(clips / batch)``) stands in when the cardinality is unknown.
    """
    known = int(train_ds.cardinality())
    return train_ds.repeat(), known if known > 0 else steps


def _check_complete(ds, labels, name: str) -> None:
    """Metrics pair predictions with records by position: a file the pipeline dropped would shift
    every label after it, so an evaluation split must come through whole. (Iterating also fills
    the dataset's cache, so the later passes do not decode again.)"""
    check_labels(np.concatenate([y.numpy() for _, y in ds]) if len(labels) else np.zeros(0), labels, name)


def _save_model(model, fold_dir: Path) -> None:
    from absl import logging as absl_logging

    level = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)  # .h5 is asked for; skip Keras's "legacy" nag
    try:
        for path in runs.RunFolder(fold_dir).model_files:
            with atomic_path(path) as tmp:
                model.save(tmp)
    finally:
        absl_logging.set_verbosity(level)


def train_split(split, bundle, config: SerConfig, *, fold_dir: Path, rt, strategy,
                verbose: int, log=print) -> SplitResult:
    """Train, select on validation, save and evaluate one split; write its report.

    A pretrained encoder with ``model.freeze: all | top_k`` trains from cached encoder outputs
    (``ser_tf.training.transfer``); everything else trains end to end on waveforms.
    """
    import keras

    from ser_tf.evaluation import metrics as metrics_lib, report as report_lib
    from ser_tf.training import transfer

    started = time.time()
    train_cfg = config.train
    runtime_lib.set_seed(config.seed)  # each split starts from the same random state
    fold_dir.mkdir(parents=True, exist_ok=True)
    folder = runs.RunFolder(fold_dir)
    if folder.history_csv.exists() and not folder.backup.exists():
        folder.history_csv.unlink()  # a fold that restarts from scratch must not append to an old history
    plan = transfer.transfer_plan(config)
    if plan is not None and bundle.shards is not None:
        raise ConfigError(f"{config.arch} with model.freeze trains from cached encoder outputs of the source "
                          "files, not from shards; train end to end (model.freeze: none) or from the corpus folders")
    protocol = _protocol(split, bundle, config)
    if plan is None:
        model, y_prob, test_labels, test_records = _fit_end_to_end(
            split, bundle, config, fold_dir=fold_dir, rt=rt, strategy=strategy, verbose=verbose)
    else:
        model, y_prob, test_labels, test_records, protocol["transfer"] = transfer.train_transfer(
            split, bundle, config, plan=plan, fold_dir=fold_dir, rt=rt, strategy=strategy, verbose=verbose,
            log=log)
    _save_model(model, fold_dir)
    history = _read_history(fold_dir)  # the whole history, also across a --resume
    metrics = None  # a final model has no test speakers: no test metrics, no stand-in numbers
    if split.has_test:
        metrics = metrics_lib.compute_metrics(
            test_labels, y_prob, class_names=list(bundle.label_set.classes),
            speakers=[r.speaker for r in test_records],
        )
    monitor = train_cfg.early_stopping.monitor
    values = history.get(monitor) or [float("nan")]
    val_score = float(np.nanmin(values) if monitor.endswith("loss") else np.nanmax(values))
    write_json(folder.selection, {"monitor": monitor, "best": val_score, "epochs_run": len(values)})
    report_lib.write_report(
        folder.report.path, metrics=metrics, protocol=protocol,
        class_names=list(bundle.label_set.classes), y_true=test_labels, y_prob=y_prob,
        history=history, title=f"{config.arch} - {split.name}", is_demo=bundle.is_demo,
    )
    keras.backend.clear_session(free_memory=True)
    return SplitResult(split.name, metrics, history, val_score, fold_dir, time.time() - started)


def _fit_end_to_end(split, bundle, config: SerConfig, *, fold_dir: Path, rt, strategy, verbose: int):
    """Train the classifier on waveforms; returns ``(model, test probabilities, test labels,
    test records)``, the middle two ``None`` when the split has no test speakers."""
    from ser_tf.models.registry import build_model, get_arch

    train_cfg = config.train
    data = _datasets(split, bundle, config)
    train_ds, train_labels, _ = data["train"]
    val_ds, val_labels, _ = data["val"]
    steps = int(np.ceil(len(train_labels) / train_cfg.batch_size))
    with strategy.scope():
        model = build_model(config.arch, num_classes=len(bundle.label_set.classes), config=config)
        model.compile(
            optimizer=optim.make_optimizer(train=train_cfg, steps_per_epoch=steps),
            loss=loss_from_config(config),
            metrics=["accuracy"],
            jit_compile=rt.jit_compile,
        )
        # Creating the optimizer's slots now keeps TensorFlow from tracing the first step twice.
        model.optimizer.build(model.trainable_variables)
        distribute.prepare_for_replicas(model, strategy=strategy, train_dataset=train_ds)
    tracking = tracking_context(config, class_names=bundle.label_set.classes, fold_dir=fold_dir,
                                split_name=split.name)
    cbs = callbacks_lib.make_callbacks(
        train=train_cfg, fold_dir=fold_dir, val_dataset=val_ds, val_labels=val_labels, verbose=verbose,
        tracking=tracking,
    )
    spec = get_arch(config.arch)
    if spec.make_callbacks is not None:
        cbs = spec.make_callbacks(model=model, config=config) + cbs
    class_weight = None
    if config.data.balance == "class_weight":
        class_weight = balance.class_weights(train_labels, num_classes=len(bundle.label_set.classes))
    train_ds, steps = one_iterator(train_ds, steps)
    # A resumed fold skips the epochs it trained, and drops history rows the backup lacks.
    start = resume.resume_point(runs.RunFolder(fold_dir))
    train_ds = resume.resume_batches(train_ds, steps=steps, start_epoch=start)
    model.fit(
        train_ds, steps_per_epoch=steps, validation_data=val_ds, epochs=train_cfg.epochs, callbacks=cbs,
        class_weight=class_weight, verbose=verbose, shuffle=False,  # the dataset shuffles itself
    )
    if data["test"] is None:
        return model, None, None, []
    test_ds, test_labels, test_records = data["test"]
    return model, model.predict(test_ds, verbose=0), test_labels, test_records


def _protocol(split, bundle, config: SerConfig) -> dict:
    protocol = dict(split.protocol())
    protocol.update(
        label_set=bundle.label_set.name,
        classes=list(bundle.label_set.classes),
        corpora=dict(bundle.roots),
        demo_data=bool(bundle.is_demo),
        duration_s=config.audio.duration,
        selection=f"best {config.train.early_stopping.monitor} on validation speakers",
    )
    if bundle.shards is not None:
        protocol["shards"] = bundle.shards.root
    if bundle.skipped:  # a batch carries on past bad files, and its report counts them
        protocol["skipped_files"] = skipped_line(bundle)
    if bundle.conflicts:  # listed in the report, beside the split: they change what was trained on
        protocol["label_conflicts"] = conflicts_line(bundle)
    return protocol


def _write_run_config(run_dir: Path, config: SerConfig, bundle, splits, rt) -> None:
    from ser_tf.training import transfer

    resolved = config.to_dict()
    resolved["resolved"] = {
        "data_roots": dict(bundle.roots),
        "label_set": {"name": bundle.label_set.name, "classes": list(bundle.label_set.classes)},
        "skipped_files": len(bundle.skipped),
        "skipped": [{"path": path, "reason": reason} for path, reason in bundle.skipped],
        "dropped": {str(k): int(v) for k, v in bundle.dropped.items()},
        # Beside the counts: which files were copies, and which copies disagreed on the label.
        "duplicates": [list(d) for d in bundle.duplicates],
        "label_conflicts": conflicts_dict(bundle),
        "splits": {
            s.name: {part: sorted({r.speaker for r in getattr(s, part)}) for part in ("train", "val", "test")}
            for s in splits
        },
        "runtime": rt.describe(),
        "python": sys.version.split()[0],
    }
    plan = transfer.transfer_plan(config)
    resolved["resolved"]["training"] = plan.describe() if plan else {"recipe": "end_to_end"}
    write_text(runs.RunFolder(run_dir).config, dump_config(resolved))


def run_training(config: SerConfig, *, run_dir: Optional[Path] = None, resume: bool = False,
                 verbose: Optional[int] = None, log=print) -> RunResult:
    """Run a whole recipe and return where it went and what it measured.

    Args:
        config: the resolved config (``ser_tf.settings.resolve``).
        run_dir: the run folder; default a new ``<arch>-<timestamp>`` folder in the models folder
            (``$SER_TF_MODELS``, else ``models``; see :mod:`ser_tf.runs`).
        resume: continue an interrupted run in ``run_dir``: finished folds are kept, and the
            interrupted one continues from its last epoch backup.
        verbose: Keras verbosity; default a progress bar on a terminal, one line per epoch else.
        log: where progress lines go.
    """
    import tensorflow as tf

    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    rt = runtime_lib.resolve_runtime(train=config.train)
    strategy = runtime_lib.apply_runtime(rt, train=config.train)  # first: before any other TF op
    runtime_lib.set_seed(config.seed)
    cluster = distribute.cluster_of(strategy)
    is_chief = cluster is None or cluster.is_chief
    if run_dir is None:  # a worker's own name inside its temporary folder; the chief's is timestamped
        run_dir = runs.new_run_folder(config.arch).path if is_chief else Path(config.arch)
    with distribute.worker_run_dir(Path(run_dir), cluster=cluster, resume=resume) as own_dir:
        if not is_chief:
            log(f"{cluster.name()}: the chief writes the run folder; this worker writes to {own_dir} (deleted at the end)")
        try:
            result = _run_splits(config, run=runs.RunFolder(own_dir), rt=rt, strategy=strategy, resume=resume,
                                 verbose=verbose, log=log)
        except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                tf.errors.AbortedError) as err:
            if cluster is None:
                raise
            raise distribute.peer_failure(err, cluster) from None
    if is_chief:
        runs.point_latest(runs.RunFolder(result.run_dir))
    return dataclasses.replace(result, is_chief=is_chief)


def _run_splits(config: SerConfig, *, run: runs.RunFolder, rt, strategy, resume: bool, verbose: int,
                log) -> RunResult:
    user_config = config  # as written to the run folder: --resume must not scale the batch twice
    config = distribute.scale_for_replicas(config, n_replicas=strategy.num_replicas_in_sync)
    bundle = load_bundle(config, require_all=True)
    splits = run_splits(bundle, config)
    run_dir = run.path
    run_dir.mkdir(parents=True, exist_ok=True)
    log(f"run folder: {run_dir}  ({rt.describe()}, {strategy.num_replicas_in_sync} replica(s), "
        f"global batch {config.train.batch_size})")
    if bundle.is_demo:
        log("data: the built-in DEMO corpus (synthetic voices, not real emotional speech)")
    if not resume:
        _write_run_config(run_dir, user_config, bundle, splits, rt)
        runs.write_labels(
            run, classes=bundle.label_set.classes, label_set=bundle.label_set.name,
            sample_rate=config.audio.sample_rate, duration=config.audio.duration, arch=config.arch,
            demo_data=bool(bundle.is_demo), corpora=list(bundle.roots),
        )
    results = []
    multi = config.data.split in ("kfold", "loso")
    for i, split in enumerate(splits, 1):
        fold = run.fold(split.name) if multi else run
        fold_dir = fold.path
        if resume and fold.report.metrics.is_file():
            results.append(_load_finished(split.name, fold_dir))
            log(f"[{split.name}] finished earlier; kept")
            continue
        if multi and not progress.is_quiet():  # "fold 3 of 6, about 12 min left": the folds timed so far
            log(progress.step_line("fold", i, len(splits), [r.seconds for r in results if r.seconds > 0]))
        log(f"[{split.name}] {len(split.train)} train / {len(split.val)} val / {len(split.test)} test clips")
        result = train_split(split, bundle, config, fold_dir=fold_dir, rt=rt, strategy=strategy, verbose=verbose,
                             log=log)
        if multi:  # each fold's model is usable on its own: `audio_test.py --model RUN/fold-2`
            copy_file(run.labels, fold.labels)
        results.append(result)
        if result.metrics is None:
            log(f"[{split.name}] no test speakers (a final model); best "
                f"{config.train.early_stopping.monitor} on validation {result.val_score:.3f}  "
                f"({result.seconds:.0f} s)")
        else:
            log(f"[{split.name}] UA {result.metrics['ua']:.3f}  WA {result.metrics['accuracy']:.3f}  "
                f"macro-F1 {result.metrics['macro_f1']:.3f}  ({result.seconds:.0f} s)")
        if multi:  # rewrite the aggregate after every fold, so an interrupted run keeps its folds
            summary = _write_cv(run_dir, results, splits, bundle, config)
    if multi:
        best = _select_export(results, monitor=config.train.early_stopping.monitor)
        for src, dst in zip(runs.RunFolder(best.fold_dir).model_files, run.model_files):
            copy_file(src, dst)
        write_json(run.export, {"fold": best.name, "reason": "best validation score; "
                   f"{config.train.early_stopping.monitor}={best.val_score:.4f}"})
    else:
        summary = json.loads(runs.RunFolder(results[0].fold_dir).report.metrics.read_text())
    return RunResult(run_dir, results, summary)


def run_splits(bundle, config: SerConfig):
    """The run's splits: drawn from the config, or, for shards, the ones their manifest stores
    (leak-checked; the config's split method must be theirs)."""
    if bundle.shards is None:
        return splits_lib.splits_from_config(bundle.records, data=config.data, seed=config.seed)
    from ser_tf.data.shards import stored_splits

    if config.data.balance == "oversample":
        raise ConfigError("data.balance=oversample repeats clips, which shards cannot; use class_weight")
    return stored_splits(bundle.shards, bundle.records, method=config.data.split,
                         only_folds=config.data.only_folds)


def load_bundle(config: SerConfig, *, require_all: bool = False, labels=None):
    """The recipe's data: ``data.corpora`` scanned with ``data.scan_options``, or the demo corpus
    sized by the ``demo`` section."""
    corpora = list(config.data.corpora) or None
    scan_options = dict(config.data.scan_options)
    if corpora is None:
        # Only the default demo corpus is sized here; `--data demo=PATH` reads what PATH holds.
        demo = {"n_speakers": config.demo.n_speakers, "clips_per_emotion": config.demo.clips_per_emotion}
        scan_options["demo"] = {**demo, **scan_options.get("demo", {})}
    return manifest.load_data(
        corpora, labels=labels or config.data.labels, require_all=require_all,
        scan_options=scan_options or None, on_label_conflict=config.data.on_label_conflict,
    )


def _select_export(results, *, monitor: str) -> SplitResult:
    """The fold whose model is exported: the best validation score on ``monitor`` (a loss is
    minimised, anything else maximised). Test speakers play no part in the choice."""
    minimise = monitor.endswith("loss")
    return sorted(results, key=lambda r: r.val_score if minimise else -r.val_score)[0]


def _write_cv(run_dir, results, splits, bundle, config: SerConfig) -> dict:
    from ser_tf.evaluation import report as report_lib

    protocol = _protocol(splits[0], bundle, config)
    protocol.update(method=config.data.split, n_folds=len(splits), folds_finished=len(results))
    for part in ("train", "val", "test", "splits", "name"):
        protocol.pop(part, None)  # fold 1's counts; each fold's own are under "folds"
    protocol["folds"] = [s.protocol() for s in splits]
    paths = report_lib.write_cv_report(
        runs.RunFolder(run_dir).report.path, fold_metrics=[r.metrics for r in results], protocol=protocol,
        class_names=list(bundle.label_set.classes), is_demo=bundle.is_demo,
        fold_histories=[r.history for r in results],
    )
    return json.loads(Path(paths["metrics"]).read_text())


def _read_history(fold_dir: Path) -> dict:
    """``{metric: [value per epoch]}`` from the fold's ``training_history.csv``."""
    history = {}
    with open(runs.RunFolder(fold_dir).history_csv, newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                if key != "epoch":
                    history.setdefault(key, []).append(float(value))
    return history


def _load_finished(name: str, fold_dir: Path) -> SplitResult:
    from ser_tf.evaluation.report import has_test_metrics

    folder = runs.RunFolder(fold_dir)
    metrics = json.loads(folder.report.metrics.read_text())
    if not has_test_metrics(metrics):
        metrics = None
    score = json.loads(folder.selection.read_text())["best"]
    return SplitResult(name, metrics, _read_history(fold_dir), score, fold_dir, 0.0)
