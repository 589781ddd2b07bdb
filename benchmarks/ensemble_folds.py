"""Average the probabilities of several k-fold runs made on the same folds, fold by fold.

    python benchmarks/ensemble_folds.py --runs models/tdnn_stats-A models/crnn_attention-B \\
        --data ravdess=../shared/data/ravdess-speech-16k [--json PATH]
    python benchmarks/ensemble_folds.py --quick      # two untrained tiny 2-fold runs on a demo corpus

Each fold's ensemble uses only the models trained for that fold, so no model has seen the fold's
test speakers. The runs must record the same speakers in every split (checked), which holds when
they were trained on the same data with the same seed and split settings. Prints per-fold and
mean ± std UA, WA and macro-F1 as a markdown table, and records (``--json``) the ensemble's UA and
WA per fold against the best run alone on the same folds (scored here from the same predictions,
as its own ``report/`` has them). ``--quick`` builds two untrained tiny 2-fold runs on a 48-clip
synthetic demo corpus: a smoke run of the code path, its scores are chance.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.fixtures import compare_scores  # noqa: E402
from benchmarks.harness import Bench, add_common_args  # noqa: E402


def quick_runs(folder: Path):
    """``(runs, data specs)``: two untrained tiny 2-fold runs on a small demo corpus in ``folder``."""
    from benchmarks.fixtures import demo_corpus, tiny_runs

    corpus = demo_corpus(folder / "corpus")
    return tiny_runs(folder / "runs", corpus, names=("a", "b"), n_folds=2), [f"ravdess={corpus}"]


def ensemble(runs, data) -> dict:
    """``{"folds", "ensemble": [metrics per fold], "alone": {run: [metrics per fold]}}``."""
    from ser_tf.config import load_config
    from ser_tf.data.manifest import load_data
    from ser_tf.data.pipeline import make_dataset
    from ser_tf.data.splits import splits_from_config
    from ser_tf.evaluation.metrics import compute_metrics
    from ser_tf.inference.loading import load_keras_model
    from ser_tf.runs import RunFolder
    from ser_tf.settings import from_run_config

    folders = [RunFolder(run) for run in runs]
    raws = [load_config(run.config) for run in folders]
    recorded = [c["resolved"]["splits"] for c in raws]
    if any(r != recorded[0] for r in recorded[1:]):
        raise SystemExit("the runs were not made on the same folds (their recorded speakers differ)")
    configs = [from_run_config(raw) for raw in raws]
    config = configs[0]
    bundle = load_data(data, labels=config.data.labels)
    splits = splits_from_config(bundle.records, data=config.data, seed=config.seed)
    classes = list(bundle.label_set.classes)
    out = {"folds": [], "ensemble": [], "alone": {str(run): [] for run in runs}}
    for split in splits:
        if sorted({r.speaker for r in split.test}) != recorded[0][split.name]["test"]:
            raise SystemExit(f"{split.name}: the rebuilt test speakers differ from the runs' record")
        labels = np.asarray([bundle.label_set.index_of(r.emotion) for r in split.test], np.int32)
        probs = []
        for run, folder, run_config in zip(runs, folders, configs):
            dataset = make_dataset(split.test, labels, audio=run_config.audio,
                                   training=False, batch_size=run_config.train.batch_size,
                                   seed=run_config.seed, cache=run_config.data.cache)
            probs.append(load_keras_model(folder.fold(split.name).model_keras).predict(dataset, verbose=0))
            out["alone"][str(run)].append(compute_metrics(labels, probs[-1], class_names=classes))
        out["folds"].append(split.name)
        out["ensemble"].append(compute_metrics(labels, np.mean(probs, axis=0), class_names=classes))
        print(f"{split.name}: UA {out['ensemble'][-1]['ua']:.3f}", flush=True)
    return out


def record(bench: Bench, result: dict) -> None:
    """The ensemble's UA and WA per fold against the best run alone (by mean UA)."""
    alone = result["alone"]
    best = max(alone, key=lambda run: np.mean([m["ua"] for m in alone[run]]))
    details = {"folds": result["folds"], "runs": list(alone),
               "alone_mean_ua": {run: float(np.mean([m["ua"] for m in rows])) for run, rows in alone.items()},
               "best_run": best}
    for key, metric in (("ua", "UA"), ("accuracy", "WA")):
        compare_scores(bench, f"ensemble of {len(alone)} runs, {metric} per fold",
                       [m[key] for m in result["ensemble"]], [m[key] for m in alone[best]],
                       baseline_name=f"the best run alone ({Path(best).name})", unit=metric, details=details)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser, data=False)
    parser.add_argument("--runs", nargs="+", type=Path, help="k-fold run folders (required unless --quick)")
    parser.add_argument("--data", action="append", default=None, metavar="CORPUS=PATH",
                        help="the runs' corpora (repeatable; required unless --quick)")
    args = parser.parse_args(argv)
    bench = Bench.from_args("ensemble_folds", "k-fold runs averaged fold by fold", args)
    work = None
    if args.quick:
        work = tempfile.TemporaryDirectory(prefix="ensemble_folds_quick_")
        runs, data = quick_runs(Path(work.name))
        bench.note("Quick run: two untrained tiny CNN-LSTM 2-fold runs on a 48-clip synthetic demo corpus "
                   "(6 speakers); the scores are chance, only the code path is exercised.")
    elif not args.runs:
        bench.skip("needs trained k-fold runs made on the same folds: pass --runs RUN RUN ... and --data")
        bench.write()
        return 0
    else:
        runs, data = args.runs, args.data
        if not data:
            parser.error("--data CORPUS=PATH is required with --runs (the runs' corpora)")
    result = ensemble(runs, data)

    from ser_tf.evaluation.metrics import aggregate_folds

    agg = aggregate_folds(result["ensemble"])
    print(f"\n| ensemble of {len(runs)} runs | UA | WA | macro-F1 |\n|---|---:|---:|---:|")
    print(f"| mean ± std over {len(result['folds'])} folds | {agg['ua']:.3f} ± {agg['ua_std']:.3f} | "
          f"{agg['accuracy']:.3f} ± {agg['accuracy_std']:.3f} | {agg['macro_f1']:.3f} ± {agg['macro_f1_std']:.3f} |")
    for run, rows in result["alone"].items():
        alone = aggregate_folds(rows)
        print(f"| {Path(run).name} alone | {alone['ua']:.3f} ± {alone['ua_std']:.3f} | "
              f"{alone['accuracy']:.3f} ± {alone['accuracy_std']:.3f} | "
              f"{alone['macro_f1']:.3f} ± {alone['macro_f1_std']:.3f} |")
    record(bench, result)
    bench.note("Scores per fold on each fold's test speakers; the baseline is the run with the best mean UA "
               "alone, scored from the same predictions.")
    bench.write()
    if work is not None:
        work.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
