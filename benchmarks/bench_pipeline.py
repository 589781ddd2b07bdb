"""Throughput of ``ser_tf.data.pipeline.make_dataset`` against the usual librosa loop.

Baseline (what most SER repositories do): for each file, ``librosa.load(path, sr=16000)`` then
``librosa.feature.melspectrogram`` in a Python loop. Pipeline: ``make_dataset`` over the same
files, first epoch (cold: decode + fill the memory cache) and second epoch (warm: from the cache),
as an evaluation dataset (centre crop), as a training dataset (random crop + the augmentations of
the config), and as an evaluation dataset followed by a batched ``tf.signal`` log-mel, which does
the same work as the baseline. Every figure is a ratio against the baseline measured in the same
run, so the numbers compare across machines. The files are read once before timing so that the
OS page cache is equally warm for every contender.

    python benchmarks/bench_pipeline.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ravdess-speech-16k"


def librosa_loop(paths) -> float:
    """Seconds for the librosa baseline over ``paths``."""
    import librosa

    def one(path):
        y, sr = librosa.load(path, sr=16000)
        librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=160, win_length=400,
                                       n_mels=64, fmin=0.0, fmax=8000.0)

    one(paths[0])  # lazy imports and caches out of the timing
    start = time.perf_counter()
    for path in paths:
        one(path)
    return time.perf_counter() - start


def log_mel(waves):
    """Batched log-mel with tf.signal, the same framing as the baseline."""
    import tensorflow as tf

    spec = tf.abs(tf.signal.stft(waves, frame_length=400, frame_step=160, fft_length=512))
    matrix = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 0.0, 8000.0)
    return tf.math.log(tf.tensordot(spec ** 2, matrix, 1) + 1e-10)


def epoch_seconds(ds) -> float:
    start = time.perf_counter()
    for _ in ds:
        pass
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="RAVDESS folder (Actor_XX/*.wav)")
    parser.add_argument("--config", default=None, help="recipe YAML (default: the default config)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N files (0: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    if args.limit < 0:
        parser.error(f"--limit must be >= 0, got {args.limit}")

    data = Path(args.data)
    paths = sorted(str(p) for p in data.glob("Actor_*/*.wav")) if data.is_dir() else []
    if not paths:
        print(f"skipped: no RAVDESS files (Actor_XX/*.wav) under {data}; pass --data DIR")
        return 0
    paths = paths[: args.limit or None]
    labels = [int(Path(p).name.split("-")[2]) - 1 for p in paths]

    import tensorflow as tf

    from ser_tf.config import load_config
    from ser_tf.data.pipeline import make_dataset
    from ser_tf.settings import SerConfig, resolve

    config = resolve(load_config(args.config)) if args.config else SerConfig()
    for path in paths:  # equal footing: every contender finds the files in the page cache
        Path(path).read_bytes()

    baseline = librosa_loop(paths)
    rows = [("librosa loop (load + melspectrogram)", baseline, None)]
    variants = [
        ("make_dataset, eval (centre crop)", False, False),
        ("make_dataset, train (random crop + config augmentation)", True, False),
        ("make_dataset, eval + tf.signal log-mel", False, True),
    ]
    for name, training, mel in variants:
        ds = make_dataset(paths, labels, audio=config.audio, augment=config.augment,
                          training=training, batch_size=args.batch_size, seed=config.seed,
                          cache="memory")
        if mel:
            ds = ds.map(lambda w, y: (log_mel(w), y), num_parallel_calls=tf.data.AUTOTUNE)
        cold = epoch_seconds(ds)
        warm = epoch_seconds(ds)
        rows.append((name, cold, warm))

    enabled = [k for k, v in config.augment.items() if v.enabled and k != "specaugment"]
    print(f"\n{len(paths)} files from {data}, batch {args.batch_size}, {os.cpu_count()} CPUs, "
          f"augmentation on: {', '.join(enabled) or 'none'}\n")
    print("| pipeline | cold epoch (s) | files/s | x librosa "
          "| warm epoch (s) | files/s | x librosa |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, cold, warm in rows:
        cells = [f"{cold:.2f}", f"{len(paths) / cold:.0f}", f"{baseline / cold:.1f}"]
        cells += ["-"] * 3 if warm is None else [f"{warm:.2f}", f"{len(paths) / warm:.0f}",
                                                 f"{baseline / warm:.1f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
