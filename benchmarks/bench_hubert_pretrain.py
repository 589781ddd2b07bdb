"""Does HuBERT-style pretraining help? From scratch vs pretrained-then-fine-tuned, on RAVDESS.

    python benchmarks/bench_hubert_pretrain.py [--data ../shared/data/ravdess-speech-16k]
        [--preset hubert_small] [--pretrain-epochs 20] [--finetune-epochs 30] [--max-clips N]

One speaker-independent split (test and validation actors never heard in training). Condition
"pretrained" first runs ``run_pretraining`` (MFCC k-means targets, then re-clustered middle-layer
targets) on the *training* actors' audio only, then fine-tunes; "scratch" fine-tunes the same
architecture from random weights with the same recipe and seed. Reports test accuracy and
unweighted average recall (UA) as a markdown table, plus the pretraining loss curve.

Skips with a message (exit 0) when the RAVDESS folder is absent. Not a test: the full run trains
for hours on a CPU; ``--max-clips 24 --pretrain-epochs 1 --finetune-epochs 1 --preset hubert_tiny``
is a smoke run on RAVDESS, and ``--quick`` the same on a 48-clip synthetic demo corpus (one
pretraining iteration, 8 clusters; no RAVDESS needed). ``--json`` (the harness's file): the
pretrained model's test UA and accuracy against scratch's, same split and seed (ratio "relative").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from benchmarks.fixtures import compare_scores  # noqa: E402
from benchmarks.harness import Bench, add_common_args  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ravdess-speech-16k"
CLIP_SECONDS = 3.0


def load_clips(records, *, seconds: float = CLIP_SECONDS) -> np.ndarray:
    """Centre-cropped / zero-padded ``(clips, samples)`` float32 waveforms."""
    from ser_tf.data.audio_io import load_audio

    n = int(seconds * 16000)
    out = np.zeros((len(records), n), np.float32)
    for i, record in enumerate(records):
        x = load_audio(record.path)
        start = max((len(x) - n) // 2, 0)
        x = x[start:start + n]
        out[i, :len(x)] = x
    return out


def fine_tune(*, preset, pretrained, data, classes, epochs, batch_size, seed, run_eagerly=False):
    """Train a classifier and return its test accuracy and UA (``run_eagerly``: no graph tracing,
    quicker for the one or two steps of a smoke run)."""
    import keras
    from sklearn.metrics import balanced_accuracy_score

    from ser_tf.models.hubert import build_classifier, load_backbone
    from ser_tf.models.hubert.finetune import FeatureEncoderSchedule

    keras.utils.set_random_seed(seed)
    model = build_classifier(load_backbone(preset=preset, pretrained=pretrained), num_classes=len(classes))
    model.compile(optimizer=keras.optimizers.AdamW(1e-4, weight_decay=0.01, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False,
                  run_eagerly=run_eagerly)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = data
    callbacks = [FeatureEncoderSchedule(min(3, epochs // 3)),
                 keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)]
    start = time.perf_counter()
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=batch_size,
              callbacks=callbacks, verbose=2)
    predictions = model.predict(x_te, batch_size=batch_size, verbose=0).argmax(axis=1)
    return {"accuracy": float(np.mean(predictions == y_te)), "ua": float(balanced_accuracy_score(y_te, predictions)),
            "train_seconds": time.perf_counter() - start}


def data_folder(text: str) -> Path:
    """``--data``: a RAVDESS folder, bare or as ``ravdess=PATH`` (what ``benchmarks/run.py`` passes)."""
    name, sep, path = text.partition("=")
    if sep and name != "ravdess":
        raise argparse.ArgumentTypeError(f"--data takes ravdess=PATH or a bare PATH, got {text!r}")
    return Path(path if sep else text).expanduser()


def record(bench: Bench, results: dict) -> None:
    """Pretrained against scratch: test UA and accuracy of the same architecture, split and seed."""
    for key, metric in (("ua", "UA"), ("accuracy", "WA")):
        compare_scores(bench, f"test {metric}, pretrained then fine-tuned", [results["pretrained"][key]],
                       [results["scratch"][key]], baseline_name="the same architecture from random weights",
                       unit=metric, details={f"fine_tune_s_{k}": r["train_seconds"] for k, r in results.items()})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser, data=False)
    parser.add_argument("--data", type=data_folder, default=DEFAULT_DATA,
                        help="RAVDESS speech folder (Actor_XX/*.wav), bare or as ravdess=PATH")
    parser.add_argument("--preset", default="hubert_small", help="backbone preset (ser_tf.models.hubert.presets)")
    parser.add_argument("--pretrain-epochs", type=int, default=20, help="epochs per pretraining iteration")
    parser.add_argument("--iterations", type=int, default=2, choices=(1, 2), help="pretraining iterations")
    parser.add_argument("--clusters", type=int, default=100, help="k-means clusters per iteration")
    parser.add_argument("--finetune-epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-clips", type=int, default=0, help="use only the first N clips per split (smoke runs)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="folder for the pretrained encoder (default: a temporary one)")
    args = parser.parse_args(argv)
    bench = Bench.from_args("hubert_pretrain", "HuBERT pretraining against scratch", args)
    if args.quick:
        import tempfile

        from benchmarks.fixtures import demo_corpus

        work = tempfile.TemporaryDirectory(prefix="hubert_pretrain_quick_")
        args.data = demo_corpus(Path(work.name) / "corpus")
        args.preset, args.pretrain_epochs, args.finetune_epochs, args.iterations = "hubert_tiny", 1, 1, 1
        args.clusters, args.max_clips = 8, 8
        bench.note("Quick run: hubert_tiny, one pretraining iteration of 1 epoch (8 clusters), 1 fine-tuning "
                   "epoch, at most 8 clips per split (fine-tuning run eagerly) of a 48-clip synthetic demo corpus; the scores say nothing.")
    if not (args.data / "Actor_01").is_dir():
        bench.skip(f"RAVDESS not found at {args.data} (expected Actor_XX folders); pass --data")
        bench.write()
        return 0

    from ser_tf.data.manifest import load_data
    from ser_tf.data.splits import speaker_split
    from ser_tf.models.hubert.presets import get_preset
    from ser_tf.training.hubert_pretrain import run_pretraining

    get_preset(args.preset)  # fail early on a typo
    bundle = load_data([f"ravdess={args.data}"], labels="ravdess8")
    classes = list(bundle.label_set.classes)
    split = speaker_split(bundle.records, seed=args.seed)
    parts = [split.train, split.val, split.test]
    if args.max_clips:
        rng = np.random.default_rng(args.seed)
        parts = [[part[i] for i in sorted(rng.choice(len(part), min(args.max_clips, len(part)), replace=False))]
                 for part in parts]
    data = [(load_clips(part), np.array([classes.index(r.emotion) for r in part])) for part in parts]
    print(f"{args.preset}: {len(parts[0])} train / {len(parts[1])} val / {len(parts[2])} test clips, "
          f"{len(classes)} classes, speaker-independent split")

    out = args.out or Path(tempfile.mkdtemp(prefix="hubert_pretrain_"))
    config = {"seed": args.seed, "model": {"preset": args.preset}, "train": {},
              "pretrain": {"iterations": args.iterations, "epochs": args.pretrain_epochs,
                           "clusters": args.clusters, "clusters_iter2": args.clusters,
                           "batch_size": args.batch_size}}
    start = time.perf_counter()
    encoder = run_pretraining(config=config, paths=[r.path for r in parts[0]], out_dir=out)
    pretrain_seconds = time.perf_counter() - start
    history = json.loads((out / "pretrain_history.json").read_text())

    results = {}
    for name, pretrained in (("scratch", None), ("pretrained", encoder)):
        results[name] = fine_tune(preset=args.preset, pretrained=pretrained, data=data, classes=classes,
                                  epochs=args.finetune_epochs, batch_size=args.batch_size, seed=args.seed,
                                  run_eagerly=args.quick)

    print("\n| condition | test accuracy | test UA | fine-tune time (s) |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['accuracy']:.3f} | {r['ua']:.3f} | {r['train_seconds']:.0f} |")
    for i, it in enumerate(history["iterations"], 1):
        print(f"\npretraining iteration {i} ({it['targets']} targets, {it['clusters']} clusters): "
              f"masked-prediction loss {it['loss'][0]:.3f} -> {it['loss'][-1]:.3f}")
    print(f"pretraining took {pretrain_seconds:.0f} s; encoder: {encoder}")
    record(bench, results)
    bench.note(f"{args.preset}: {len(parts[0])} train / {len(parts[1])} val / {len(parts[2])} test clips, one "
               f"speaker-independent split, seed {args.seed}; pretraining {args.iterations} iteration(s) x "
               f"{args.pretrain_epochs} epochs on the training actors only ({pretrain_seconds:.0f} s), fine-tuning "
               f"at most {args.finetune_epochs} epochs; one run per condition (hours each at full size).")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
