"""Average the probabilities of several k-fold runs made on the same folds, fold by fold.

    python benchmarks/ensemble_folds.py --runs models/tdnn_stats-A models/crnn_attention-B \\
        --data ravdess=../shared/data/ravdess-speech-16k

Each fold's ensemble uses only the models trained for that fold, so no model has seen the fold's
test speakers. The runs must record the same speakers in every split (checked), which holds when
they were trained on the same data with the same seed and split settings. Prints per-fold and
mean ± std UA, WA and macro-F1 as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="k-fold run folders")
    parser.add_argument("--data", action="append", required=True, metavar="CORPUS=PATH")
    args = parser.parse_args(argv)

    from ser_tf.config import load_config
    from ser_tf.data.manifest import load_data
    from ser_tf.data.pipeline import make_dataset
    from ser_tf.data.splits import splits_from_config
    from ser_tf.settings import from_run_config
    from ser_tf.evaluation.metrics import aggregate_folds, compute_metrics
    from ser_tf.inference.loading import load_keras_model
    from ser_tf.runs import RunFolder

    folders = [RunFolder(run) for run in args.runs]
    raws = [load_config(run.config) for run in folders]
    recorded = [c["resolved"]["splits"] for c in raws]
    if any(r != recorded[0] for r in recorded[1:]):
        parser.error("the runs were not made on the same folds (their recorded speakers differ)")
    configs = [from_run_config(raw) for raw in raws]
    config = configs[0]
    bundle = load_data(args.data, labels=config.data.labels)
    splits = splits_from_config(bundle.records, data=config.data, seed=config.seed)
    fold_metrics = []
    for split in splits:
        if sorted({r.speaker for r in split.test}) != recorded[0][split.name]["test"]:
            parser.error(f"{split.name}: the rebuilt test speakers differ from the runs' record")
        labels = np.asarray([bundle.label_set.index_of(r.emotion) for r in split.test], np.int32)
        probs = []
        for run, run_config in zip(folders, configs):
            dataset = make_dataset(split.test, labels, audio=run_config.audio,
                                   training=False, batch_size=run_config.train.batch_size,
                                   seed=run_config.seed, cache=run_config.data.cache)
            probs.append(load_keras_model(run.fold(split.name).model_keras).predict(dataset, verbose=0))
        fold_metrics.append(compute_metrics(labels, np.mean(probs, axis=0),
                                            class_names=list(bundle.label_set.classes)))
        print(f"{split.name}: UA {fold_metrics[-1]['ua']:.3f}", flush=True)
    agg = aggregate_folds(fold_metrics)
    print(f"\n| ensemble of {len(args.runs)} runs | UA | WA | macro-F1 |\n|---|---:|---:|---:|")
    print(f"| mean ± std over {len(splits)} folds | {agg['ua']:.3f} ± {agg['ua_std']:.3f} | "
          f"{agg['accuracy']:.3f} ± {agg['accuracy_std']:.3f} | {agg['macro_f1']:.3f} ± {agg['macro_f1_std']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
