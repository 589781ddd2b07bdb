"""Epoch time and peak RSS of training as the corpus grows: 1k, 5k and 10k synthetic clips.

Each size is a folder-per-emotion corpus of 16 kHz 16-bit WAV clips of 1-3 s (40 speakers,
8 emotions, ``--data folder=`` with a speaker pattern), written once into a temporary folder. Each
size then trains in a fresh process through the trainer's own datasets (``runner._datasets``: the
default ``data.cache: memory``, which also passes once over validation and test), a tiny CNN-LSTM,
one epoch at 1 s crops, the way ``train.py`` starts (``ser_tf.utils.allocator`` before TensorFlow).

Figures: time per training clip of that epoch (decode, cache fill, shuffle, crop, train step) at
each size against the 1k figure of the same run (``relative``; linear growth is a ratio near 1),
and the process's peak RSS (``ru_maxrss``). The largest size also runs as before issue 13
(clips cached as float32, TensorFlow's malloc allocator) for the memory baseline.

    python benchmarks/bench_scaling.py [--quick] [--sizes 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import harness  # noqa: E402
from benchmarks.bench_shards import EMOTIONS, N_SPEAKERS, SPEAKER_PATTERN, TINY  # noqa: E402  (the same tiny run)
from benchmarks.common import SR, speechlike  # noqa: E402

NAME, TITLE = "scaling", "epoch time and peak RSS at 1k, 5k and 10k synthetic clips"


def make_corpus(folder: Path, n_clips: int, *, seed: int = 0) -> None:
    """``n_clips`` 16-bit WAVs of 1-3 s, each a random window of one of 8 long speech-like takes
    (one per emotion, pitch raised with the emotion) at a random gain; cheap: no synthesis per clip."""
    import numpy as np

    rng = np.random.default_rng(seed)
    takes = []
    for e in range(len(EMOTIONS)):
        x = speechlike(12.0, seed=e)
        step = 1.0 + 0.06 * e  # a crude pitch change: read the take faster
        x = np.interp(np.arange(0, len(x) - 1, step), np.arange(len(x)), x)
        takes.append(x.astype(np.float32))
    for emotion in EMOTIONS:
        (folder / emotion).mkdir(parents=True, exist_ok=True)
    for k in range(n_clips):
        speaker, e = k % N_SPEAKERS, (k // N_SPEAKERS) % len(EMOTIONS)
        n = int(rng.uniform(1.0, 3.0) * SR)
        start = int(rng.integers(0, len(takes[e]) - n))
        clip = takes[e][start:start + n] * rng.uniform(0.5, 2.0)
        samples = np.clip(np.round(clip * 32767.0), -32768, 32767).astype("<i2")
        with wave.open(str(folder / EMOTIONS[e] / f"s{speaker:02d}_{k:05d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(samples.tobytes())


def link_subset(source: Path, folder: Path, n_clips: int) -> None:
    """The first ``n_clips`` clips of ``source`` (hard links): the corpus ``make_corpus`` would
    write for ``n_clips``, since clip k depends only on the clips before it."""
    for path in source.rglob("*.wav"):
        if int(path.stem.rsplit("_", 1)[1]) < n_clips:
            (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
            os.link(path, folder / path.parent.name / path.name)


def child(corpus: str, *, before: bool) -> dict:
    """One size in this process: the trainer's datasets, a tiny model, one epoch."""
    if before:  # as before issue 13: float32 cache and malloc (set by the parent's environment)
        from ser_tf.data import pipeline

        cache = pipeline._cache
        pipeline._cache = lambda *a, **k: cache(*a, **{**k, "as_int16": False})
    else:
        from ser_tf.utils.allocator import use_pooling_allocator

        use_pooling_allocator()  # what train.py's start-up does
    from ser_tf.config import deep_merge
    from ser_tf.settings import resolve
    from ser_tf.training import runner, runtime

    data = {"corpora": [f"folder={corpus}"], "scan_options": {"folder": {"speaker_pattern": SPEAKER_PATTERN}}}
    config = resolve(deep_merge(TINY, {"data": data}))
    runtime.set_seed(config.seed)
    start = time.perf_counter()
    bundle = runner.load_bundle(config, require_all=True)
    split = runner.run_splits(bundle, config)[0]
    datasets = runner._datasets(split, bundle, config)
    setup = time.perf_counter() - start
    train_ds, labels, _ = datasets["train"]

    from ser_tf.models.registry import build_model

    model = build_model(config.arch, num_classes=len(bundle.classes), config=config)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    import tensorflow as tf

    # Trace the training step first, on one batch of silence with the same element spec, so the
    # timed epoch is only what grows with the corpus (decode, cache fill, shuffle, crop, steps).
    spec = train_ds.element_spec
    warm = tf.data.Dataset.from_tensor_slices(
        (tf.zeros([2] + spec[0].shape[1:].as_list(), spec[0].dtype), tf.zeros([2], spec[1].dtype))).batch(2)
    model.fit(warm, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(train_ds, epochs=1, verbose=0)
    return {"train_clips": int(len(labels)), "setup_s": setup, "epoch_s": time.perf_counter() - start}


def run_size(corpus: Path, *, before: bool = False) -> dict:
    env = dict(os.environ)
    env.pop("TF_CPU_ALLOCATOR_USE_BFC", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if before:
        env["TF_CPU_ALLOCATOR_USE_BFC"] = "false"
    cmd = [sys.executable, __file__, "--child", str(corpus)] + (["--before"] if before else [])
    usage = harness.run_process(cmd, env=env, cwd=ROOT)
    result = json.loads(usage.stdout.strip().splitlines()[-1])
    result.update(peak_rss_mb=usage.peak_rss_mb, wall_s=usage.wall_s)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_common_args(parser)  # --data: accepted from run.py, not used (synthetic audio)
    parser.add_argument("--sizes", default=None, help="corpus sizes, comma-separated "
                        "(default 1000,5000,10000; --quick 50,100)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, before=args.before)))
        return 0
    sizes = [int(s) for s in (args.sizes or ("50,100" if args.quick else "1000,5000,10000")).split(",")]
    if len(sizes) < 2 or min(sizes) < 50:
        parser.error(f"--sizes needs two or more sizes of at least 50 clips, got {args.sizes!r}")
    bench = harness.Bench.from_args(NAME, TITLE, args)
    results, generated = {}, {}
    with tempfile.TemporaryDirectory(prefix="ser_tf-scaling-") as tmp:
        largest = max(sizes)
        written = harness.timed(lambda: make_corpus(Path(tmp) / f"corpus-{largest}", largest))
        for n in sizes:
            corpus = Path(tmp) / f"corpus-{n}"
            generated[n] = written if n == largest else harness.timed(
                lambda: link_subset(Path(tmp) / f"corpus-{largest}", corpus, n))
            results[n] = run_size(corpus)
            print(f"{n} clips (corpus prepared in {generated[n]:.1f} s): {results[n]}")
        # --quick leaves out the before run (one process less: run.py --quick stays under 2 min).
        before = None if args.quick else run_size(Path(tmp) / f"corpus-{largest}", before=True)
        print(f"{largest} clips, as before: {before}")
    first = results[sizes[0]]
    per_clip = {n: 1000.0 * r["epoch_s"] / r["train_clips"] for n, r in results.items()}
    for n in sizes:
        r = results[n]
        details = {"train_clips": r["train_clips"], "epoch_s": round(r["epoch_s"], 2),
                   "setup_s": round(r["setup_s"], 2), "process_wall_s": round(r["wall_s"], 1),
                   "corpus_prepared_s": round(generated[n], 1)}
        bench.compare(f"epoch time per training clip, {n} clips", harness.Stats([per_clip[n]], unit="ms"),
                      harness.Stats([per_clip[sizes[0]]], unit="ms"), baseline_name=f"{sizes[0]} clips",
                      ratio="relative", target=None if n == sizes[0] else "<= 1.2", details=details)
    for n in sizes:
        kwargs = {"target": "< 2000 MB"} if n == largest else {}
        if n == largest and before is not None:
            kwargs.update(baseline=harness.Stats([before["peak_rss_mb"]], unit="MB"),
                          baseline_name="float32 cache + malloc (before)", ratio="relative",
                          details={"before_epoch_s": round(before["epoch_s"], 2)})
        bench.figure(f"peak RSS, {n} clips", [results[n]["peak_rss_mb"]], unit="MB", **kwargs)
    clip_s = "1-3 s clips (2 s on average), 16 kHz 16-bit WAV, 40 speakers, 8 emotions"
    bench.note(f"Workload: {', '.join(map(str, sizes))} synthetic {clip_s}; each size trains in a fresh "
               "process through runner._datasets (default data.cache: memory; validation and test are "
               "passed once to check them) a tiny CNN-LSTM (conv 4/8, LSTM 8, 1 s crops, batch 64) for one "
               "epoch. One run per size (process-level figures). The training step is traced beforehand on one "
               "batch of silence, so the epoch time holds what grows with the corpus: the first pass (decode, "
               "cache fill), shuffle, crop and the steps.")
    bench.note("Memory: decoded 16-bit clips are cached as int16 (exactly the same floats once scaled), half "
               "of float32; the baseline at the largest size caches float32 and uses malloc, as before "
               f"issue 13 (not run with --quick). `import tensorflow` alone peaks at ~730 MB. First epoch of {first['train_clips']} "
               f"training clips at {sizes[0]} clips took {first['epoch_s']:.1f} s.")
    bench.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
