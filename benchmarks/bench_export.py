"""Which architectures export to TFLite, with size, latency and agreement with Keras on this machine.

    python benchmarks/bench_export.py [--archs cnn_lstm_small,whisper,...] [--default]
        [--data ravdess=PATH] [--clips 100] [--calibration-clips 100] [--out export.json]

For every architecture of ``ser_tf/models/registry.py`` (or those of ``--archs``), the model is
built untrained from its recipe (``configs/<arch>.yaml``, pretrained checkpoints off: random
weights, same graph) for 8 classes, and exported with TFLite's builtin ops (float32). With
``--default``, the bundled default model (Whisper tiny.en + the RAVDESS head, real weights) is
exported in every quantisation mode, int8 calibrated on ``--calibration-clips`` RAVDESS clips, and
compared with its Keras model on ``--clips`` other RAVDESS clips.

Measured per export, against a baseline taken in the same run:

- size of the ``.tflite`` file against the Keras model's weights (float32 bytes);
- latency: median of 20 single-window calls in the LiteRT interpreter, against the same window
  through the Keras model (``Predictor``'s traced ``tf.function``), one window at a time;
- agreement: the largest |p_tflite - p_keras| per class probability, and the share of windows
  whose label is the same.

Prints a markdown table; not a test. Untrained models are compared on speech-like synthetic
windows (``benchmarks/common.speechlike``), the default model on RAVDESS clips.
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
from benchmarks.common import ravdess_folder, speechlike  # noqa: E402

NUM_CLASSES = 8
CALLS = 20


def median_ms(fn, window: np.ndarray) -> float:
    fn(window)  # warm: trace / allocate
    times = []
    for _ in range(CALLS):
        t0 = time.perf_counter()
        fn(window)
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


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


def measure(model, classes, window: int, windows: np.ndarray, *, quantize: str = "none",
            representative=None) -> dict:
    """One TFLite export of ``model``: size, conversion time, latency and agreement with Keras."""
    from ser_tf.errors import ExportError
    from ser_tf.export.tflite import convert
    from ser_tf.inference.backends import KerasBackend, TFLiteBackend

    keras_backend = KerasBackend(model)
    row = {"quantize": quantize, "keras_weights_mb": sum(int(np.prod(w.shape)) for w in model.weights) * 4 / 1e6}
    t0 = time.perf_counter()
    try:
        content = convert(model, classes, window_samples=window, quantize=quantize, representative=representative)
    except ExportError as err:
        row.update(converts=False, error=str(err))
        return row
    row.update(converts=True, convert_s=time.perf_counter() - t0, tflite_mb=len(content) / 1e6)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(content)
        lite = TFLiteBackend(path)
        one = windows[:1]
        row["tflite_ms"] = median_ms(lite.predict_batch, one)
        row["keras_ms"] = median_ms(keras_backend.predict_batch, one)
        got, want = lite.predict_batch(windows), keras_backend.predict_batch(windows)
    row["max_abs_diff"] = float(np.abs(got - want).max())
    row["label_agreement"] = float((got.argmax(axis=1) == want.argmax(axis=1)).mean())
    return row


def bench_archs(archs) -> list:
    import keras

    rows = []
    for arch in archs:
        keras.backend.clear_session()
        gc.collect()
        t0 = time.perf_counter()
        model, window, classes = untrained(arch)
        windows = np.stack([speechlike(window / 16000, seed=i) for i in range(4)])
        row = {"model": f"{arch} (untrained)", "window_s": window / 16000, "build_s": time.perf_counter() - t0}
        row.update(measure(model, classes, window, windows))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bench_default(spec: str, *, clips: int, calibration_clips: int) -> list:
    from ser_tf import pretrained
    from ser_tf.data.audio_io import load_audio
    from ser_tf.data.corpora import scan_corpus
    from ser_tf.data.cropping import fix_length_numpy
    from ser_tf.data.manifest import parse_data_spec
    from ser_tf.inference import loading

    path = pretrained.default_model_path()
    info = loading.describe_model(path)
    model = loading.load_keras_model(path)
    window = loading.window_samples(tuple(model.inputs[0].shape)[1], info)
    records = scan_corpus(*parse_data_spec(spec)).records
    # Calibration and evaluation clips are disjoint: even and odd positions of the sorted list.
    spread = lambda items, n: [items[i] for i in np.linspace(0, len(items) - 1, num=min(n, len(items))).astype(int)]  # noqa: E731
    evaluation = spread(records[1::2], clips)
    calibration = spread(records[0::2], calibration_clips)
    windows = np.stack([fix_length_numpy(load_audio(r.path), window) for r in evaluation])
    cal = [fix_length_numpy(load_audio(r.path), window) for r in calibration]
    rows = []
    for quantize in ("none", "float16", "dynamic", "int8"):
        row = {"model": "default (Whisper tiny.en + RAVDESS head)", "window_s": window / 16000,
               "clips": len(windows), "calibration_clips": len(cal) if quantize == "int8" else 0}
        row.update(measure(model, info.classes, window, windows, quantize=quantize,
                           representative=(lambda: iter(cal)) if quantize == "int8" else None))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def table(rows) -> str:
    lines = ["| model | mode | converts | .tflite MB | Keras weights MB | LiteRT ms/window | Keras ms/window | max abs diff p | same label |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r.get("converts"):
            lines.append(f"| {r['model']} | {r['quantize']} | no: {r.get('error', '')[:160]} | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['quantize']} | yes | {r['tflite_mb']:.2f} | {r['keras_weights_mb']:.2f} | "
                     f"{r['tflite_ms']:.1f} | {r['keras_ms']:.1f} | {r['max_abs_diff']:.2g} | {100 * r['label_agreement']:.0f}% |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default=None, help="comma-separated; '' for none; default: every registered arch")
    parser.add_argument("--default", action="store_true", help="also the default model, every quantisation")
    parser.add_argument("--data", default="ravdess=/work/shared/data/ravdess-speech-16k")
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--calibration-clips", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    args = parser.parse_args(argv)
    from ser_tf.utils.quiet import quiet_tensorflow

    quiet_tensorflow(False)
    from ser_tf.models.registry import list_archs

    archs = list(list_archs()) if args.archs is None else [a for a in args.archs.split(",") if a]
    rows = bench_archs(archs)
    if args.default:
        spec, folder = ravdess_folder(args.data)
        if folder is not None:
            rows += bench_default(spec, clips=args.clips, calibration_clips=args.calibration_clips)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
