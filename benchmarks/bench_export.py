"""Exports against the Keras model: TFLite and SavedModel size and latency, and their agreement.

    python benchmarks/bench_export.py [--quick] [--json PATH] [--data ravdess=PATH]
        [--archs cnn_lstm_small,tdnn_stats] [--no-default] [--modes none,float16,dynamic,int8]
        [--clips 40] [--calibration-clips 40] [--calls 20] [--out rows.json]

Each model is exported with ``ser_tf.export`` (TFLite builtin ops, float32 unless a quantisation
mode is named; SavedModel with the ``serving_default`` signature) and measured against the same
Keras model in the same run:

- size: the ``.tflite`` file, or the SavedModel folder, against the Keras model's weights as
  float32 bytes (ratio "relative": below 1 is smaller);
- latency: median of ``--calls`` single-window calls of the LiteRT interpreter, or of the loaded
  SavedModel's ``serving_default``, against the same window through the Keras model
  (``KerasBackend``: ``Predictor``'s traced ``tf.function``), one window at a time (ratio
  "speedup": above 1 is faster than Keras);
- agreement (details): the largest |p_export - p_keras| and the share of windows whose label is
  the same.

Models: ``--archs`` built untrained from their recipes (``configs/<arch>.yaml``, pretrained
checkpoints off: random weights, same graph; 8 classes) on speech-like synthetic windows, and,
unless ``--no-default``, the bundled default model (Whisper tiny.en + the RAVDESS head, real
weights) in every ``--modes`` quantisation, int8 calibrated on ``--calibration-clips`` RAVDESS
clips and compared on ``--clips`` others (the demo corpus and synthetic windows without RAVDESS).
``--quick``: cnn_lstm_small alone, untrained, 3 calls. The 95 M-parameter HuBERT recipes are
left out of the default list: their conversion alone takes minutes.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import SR, ravdess_folder, speechlike  # noqa: E402
from benchmarks.harness import Bench, Stats, add_common_args  # noqa: E402

NUM_CLASSES = 8
DEFAULT_ARCHS = "cnn_lstm_small,tdnn_stats"
DEFAULT_MODES = "none,float16,dynamic,int8"


def call_times_ms(fn, window: np.ndarray, calls: int) -> list:
    """Milliseconds of ``calls`` calls of ``fn(window)`` after one untimed warm-up call."""
    fn(window)  # warm: trace / allocate
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(window)
        times.append(1000.0 * (time.perf_counter() - t0))
    return times


def untrained(arch: str):
    """``(model, window_samples, classes)``: ``arch`` built from its recipe with random weights."""
    from ser_tf.config import load_config, recipe_path
    from ser_tf.models.registry import build_model
    from ser_tf.settings import resolve

    path = recipe_path(arch)
    recipe = load_config(path) if path.is_file() else {"model": {"arch": arch}}
    recipe.setdefault("model", {})["arch"] = arch
    for key in ("checkpoint", "pretrained"):  # no downloads, no local checkpoints: random init
        if key in recipe["model"]:
            recipe["model"][key] = None
    config = resolve(recipe, check_paths=False)
    model = build_model(arch, num_classes=NUM_CLASSES, config=config.to_dict())
    window = int(round(config.audio.duration * config.audio.sample_rate))
    return model, window, [f"class_{i}" for i in range(NUM_CLASSES)]


def _agreement(got: np.ndarray, want: np.ndarray) -> dict:
    return {"max_abs_diff": float(np.abs(got - want).max()),
            "label_agreement": float((got.argmax(axis=1) == want.argmax(axis=1)).mean())}


def savedmodel_backend(model, classes, window: int, folder: Path):
    """``(predict_batch, folder MB, write s)``: ``model`` written as a SavedModel and loaded back
    with TensorFlow alone (``tf.saved_model.load``), called through ``serving_default``."""
    import tensorflow as tf

    from ser_tf.export.savedmodel import write_savedmodel
    from ser_tf.inference.backends import PROBABILITIES_OUTPUT, WAVEFORM_INPUT

    t0 = time.perf_counter()
    write_savedmodel(model, classes, folder, samples=window)
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    def predict_batch(batch):
        out = serve(**{WAVEFORM_INPUT: tf.constant(batch, tf.float32)})
        return np.asarray(out[PROBABILITIES_OUTPUT], dtype=np.float64)

    return predict_batch, size / 1e6, seconds


def measure(model, classes, window: int, windows: np.ndarray, *, calls: int, quantize: str = "none",
            representative=None, savedmodel: bool = True) -> dict:
    """One model's exports: TFLite in ``quantize`` (and, with ``savedmodel``, the SavedModel):
    sizes, conversion time, per-call latencies (ms lists) and agreement with Keras."""
    from ser_tf.errors import ExportError
    from ser_tf.export.tflite import convert
    from ser_tf.inference.backends import KerasBackend, TFLiteBackend

    keras_backend = KerasBackend(model)
    one = windows[:1]
    row = {"quantize": quantize, "keras_weights_mb": sum(int(np.prod(w.shape)) for w in model.weights) * 4 / 1e6,
           "keras_ms": call_times_ms(keras_backend.predict_batch, one, calls)}
    want = keras_backend.predict_batch(windows)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        try:
            content = convert(model, classes, window_samples=window, quantize=quantize,
                              representative=representative)
        except ExportError as err:
            row.update(converts=False, error=str(err))
            content = None
        if content is not None:
            row.update(converts=True, convert_s=time.perf_counter() - t0, tflite_mb=len(content) / 1e6)
            path = Path(folder) / "model.tflite"
            path.write_bytes(content)
            lite = TFLiteBackend(path)
            row["tflite_ms"] = call_times_ms(lite.predict_batch, one, calls)
            row["tflite"] = _agreement(lite.predict_batch(windows), want)
        if savedmodel:
            predict, size_mb, seconds = savedmodel_backend(model, classes, window, Path(folder) / "savedmodel")
            row.update(savedmodel_mb=size_mb, savedmodel_write_s=seconds,
                       savedmodel_ms=call_times_ms(predict, one, calls))
            row["savedmodel"] = _agreement(predict(windows), want)
    return row


def bench_archs(archs, *, calls: int) -> list:
    import keras

    rows = []
    for arch in archs:
        keras.backend.clear_session()
        gc.collect()
        t0 = time.perf_counter()
        model, window, classes = untrained(arch)
        windows = np.stack([speechlike(window / SR, seed=i) for i in range(4)])
        row = {"model": f"{arch} (untrained)", "window_s": window / SR, "build_s": time.perf_counter() - t0}
        row.update(measure(model, classes, window, windows, calls=calls))
        rows.append(row)
        print(f"{row['model']}: done", flush=True)
    return rows


def default_windows(spec, window: int, *, clips: int, calibration_clips: int):
    """``(evaluation windows (n, window), calibration windows, source)``: disjoint RAVDESS clips
    (odd and even positions of the sorted list) when ``spec`` is given, else synthetic windows and
    the demo corpus."""
    from ser_tf.data.audio_io import load_audio
    from ser_tf.data.corpora import scan_corpus
    from ser_tf.data.cropping import fix_length_numpy
    from ser_tf.data.manifest import parse_data_spec
    from ser_tf.export.calibration import calibration_windows

    if spec is None:
        windows = np.stack([speechlike(window / SR, seed=i) for i in range(min(clips, 8))])
        return windows, calibration_windows("demo", window_samples=window, limit=calibration_clips), "synthetic"
    records = scan_corpus(*parse_data_spec(spec)).records
    spread = lambda items, n: [items[i] for i in np.linspace(0, len(items) - 1, num=min(n, len(items))).astype(int)]  # noqa: E731
    windows = np.stack([fix_length_numpy(load_audio(r.path), window) for r in spread(records[1::2], clips)])
    cal = [fix_length_numpy(load_audio(r.path), window) for r in spread(records[0::2], calibration_clips)]
    return windows, cal, "RAVDESS"


def bench_default(spec, *, modes, clips: int, calibration_clips: int, calls: int) -> list:
    from ser_tf import pretrained
    from ser_tf.inference import loading

    path = pretrained.default_model_path()
    info = loading.describe_model(path)
    model = loading.load_keras_model(path)
    window = loading.window_samples(tuple(model.inputs[0].shape)[1], info)
    windows, cal, source = default_windows(spec, window, clips=clips, calibration_clips=calibration_clips)
    rows = []
    for quantize in modes:
        row = {"model": "default (Whisper tiny.en + RAVDESS head)", "window_s": window / SR,
               "clips": len(windows), "source": source,
               "calibration_clips": len(cal) if quantize == "int8" else 0}
        row.update(measure(model, info.classes, window, windows, calls=calls, quantize=quantize,
                           representative=(lambda: iter(cal)) if quantize == "int8" else None,
                           savedmodel=quantize == "none"))
        rows.append(row)
        print(f"{row['model']} {quantize}: done", flush=True)
    return rows


def record(bench: Bench, rows) -> None:
    """Each row's sizes and latencies against its Keras model, as ``bench`` figures."""
    for r in rows:
        label = r["model"] if r["quantize"] == "none" else f"{r['model']}, {r['quantize']}"
        keras_mb = Stats([r["keras_weights_mb"]], unit="MB")
        keras_ms = Stats(r["keras_ms"], unit="ms")
        formats = [("TFLite", "tflite")] if r.get("converts") else []
        formats += [("SavedModel", "savedmodel")] if "savedmodel_mb" in r else []
        for title, key in formats:
            details = dict(r[key], window_s=r["window_s"])
            details.update({k: r[k] for k in ("clips", "source", "calibration_clips", "convert_s",
                                             "savedmodel_write_s") if k in r})
            bench.compare(f"{title} size, {label}", Stats([r[f"{key}_mb"]], unit="MB"), keras_mb,
                          baseline_name="Keras weights (float32)", ratio="relative", details=details)
            bench.compare(f"{title} latency per window, {label}", Stats(r[f"{key}_ms"], unit="ms"), keras_ms,
                          baseline_name="Keras model (traced tf.function)", ratio="speedup", details=details)
        if not r.get("converts"):
            bench.note(f"{label}: no TFLite export: {r.get('error', '')[:300]}")


def table(rows) -> str:
    lines = ["| model | mode | format | MB | Keras weights MB | ms/window | Keras ms/window | max abs diff p | same label |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        keras_ms = statistics.median(r["keras_ms"])
        if not r.get("converts"):
            lines.append(f"| {r['model']} | {r['quantize']} | TFLite: no: {r.get('error', '')[:160]} | | | | | | |")
        for title, key in (("TFLite", "tflite"), ("SavedModel", "savedmodel")):
            if f"{key}_ms" not in r:
                continue
            a = r[key]
            lines.append(f"| {r['model']} | {r['quantize']} | {title} | {r[f'{key}_mb']:.2f} | "
                         f"{r['keras_weights_mb']:.2f} | {statistics.median(r[f'{key}_ms']):.1f} | {keras_ms:.1f} | "
                         f"{a['max_abs_diff']:.2g} | {100 * a['label_agreement']:.0f}% |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser)
    parser.add_argument("--archs", default=None,
                        help=f"untrained archs, comma-separated; '' for none (default: {DEFAULT_ARCHS}; "
                             "--quick: cnn_lstm_small)")
    parser.add_argument("--default", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument("--no-default", action="store_true", help="leave out the bundled default model")
    parser.add_argument("--modes", default=DEFAULT_MODES, help="the default model's TFLite quantisations")
    parser.add_argument("--clips", type=int, default=40, help="RAVDESS clips the default model is compared on")
    parser.add_argument("--calibration-clips", type=int, default=40, help="int8 calibration clips")
    parser.add_argument("--calls", type=int, default=20, help="timed single-window calls per format")
    parser.add_argument("--out", type=Path, default=None, help="also write the raw rows as JSON")
    args = parser.parse_args(argv)
    archs = args.archs if args.archs is not None else ("cnn_lstm_small" if args.quick else DEFAULT_ARCHS)
    archs = [a for a in archs.split(",") if a]
    if args.quick:
        args.no_default, args.calls = True, 3
    modes = [m for m in args.modes.split(",") if m]
    from ser_tf.export.tflite import QUANTIZE_MODES
    from ser_tf.utils.quiet import quiet_tensorflow

    bad = [m for m in modes if m not in QUANTIZE_MODES]
    if bad:
        parser.error(f"--modes takes {', '.join(QUANTIZE_MODES)}, got {', '.join(bad)}")
    quiet_tensorflow(False)
    bench = Bench.from_args("export", "TFLite and SavedModel size and latency against the Keras model", args)
    rows = bench_archs(archs, calls=args.calls)
    if not args.no_default:
        spec, folder = ravdess_folder(args.data)
        rows += bench_default(spec if folder is not None else None, modes=modes, clips=args.clips,
                              calibration_clips=args.calibration_clips, calls=args.calls)
        if folder is None:
            bench.note("The default model was compared on synthetic windows and int8 calibrated on the "
                       "demo corpus: RAVDESS was not found, so its agreement figures say little.")
    record(bench, rows)
    bench.note(f"Latency: median of {args.calls} single-window calls after one warm-up call, batch 1, "
               "in this process; untrained archs run on speech-like synthetic windows with random weights "
               "(same graph, so the same speed).")
    bench.note("Size baseline: the Keras model's weights as float32 bytes; a SavedModel also holds the graph, "
               "so it is a little larger than the weights.")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))
    print(table(rows))
    bench.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
