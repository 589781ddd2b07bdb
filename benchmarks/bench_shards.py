"""Peak memory and throughput of training from TFRecord shards, against the file pipeline.

A synthetic corpus of ``--clips`` short clips (1-3 s, 16 kHz 16-bit WAV, 40 speakers, 8 emotions
as folder-per-class with a speaker pattern) is generated once into ``--work``, exported as shards
(``--shard-size`` clips each, a speaker split), and then each data path runs in a fresh process:

- ``files``: ``--data folder=...`` through ``make_dataset`` with the default ``data.cache: memory``
  (every decoded clip kept as float32);
- ``shards``: ``--data tfrecord=DIR`` through ``make_shard_dataset`` (int16, streamed, a bounded
  shuffle buffer, no cache).

Each process builds the run's datasets with the trainer's own code (``runner._datasets``, which
also passes once over validation and test to check them), reads the training split for two epochs
(pipeline alone: decode, shuffle, random crop), then fits a tiny CNN-LSTM for one epoch, and
reports its peak RSS (``ru_maxrss``). Throughput is clips per second; the ratio is shards over
files, measured in the same run. The issue's bound: the shard process stays under 2 GB whatever
the corpus size.

    nice python benchmarks/bench_shards.py [--quick] [--json PATH] [--clips 3000] [--repeats 1]
        [--work /tmp/ser_tf-bench-shards]

The full run takes 3000 clips (about 4 minutes on 2 cores with the corpus already generated;
``--clips 10000`` is the issue's corpus size, about 15 minutes); ``--quick`` 100. Each data path
runs ``--repeats`` times in a fresh process (process-level figures: one repeat by default).
The corpus and shards are kept in ``--work`` for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.harness import Bench, Stats, add_common_args  # noqa: E402

SR = 16_000
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
N_SPEAKERS = 40
SPEAKER_PATTERN = r"^(?P<speaker>s\d+)_"
RSS_LIMIT_MB = 2048
TINY = {
    "model": {"arch": "cnn_lstm_small", "conv_filters": [4, 8], "rnn_units": 8, "dense_units": 8},
    "audio": {"duration": 1.0},
    "train": {"batch_size": 64, "epochs": 1},
    "seed": 1,
}


def make_corpus(folder: Path, n_clips: int, *, seed: int = 0) -> float:
    """Write ``n_clips`` voiced, syllable-modulated clips of 1-3 s (pitch and rate depend on the
    emotion and the speaker); returns the seconds it took. Kept if already there."""
    import numpy as np
    import soundfile as sf

    marker = folder / "CORPUS.json"
    if marker.is_file() and json.loads(marker.read_text()).get("clips") == n_clips:
        return 0.0
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    for e, emotion in enumerate(EMOTIONS):
        (folder / emotion).mkdir(parents=True)
    for k in range(n_clips):
        speaker, e = k % N_SPEAKERS, (k // N_SPEAKERS) % len(EMOTIONS)
        seconds = rng.uniform(1.0, 3.0)
        t = np.arange(int(seconds * SR)) / SR
        f0 = (110.0 if speaker % 2 else 200.0) * (1.0 + 0.06 * e) * rng.uniform(0.95, 1.05)
        phase = 2 * np.pi * np.cumsum(f0 * (1.0 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / SR
        voice = sum(np.sin(h * phase) / h for h in (1, 2, 3, 4))
        envelope = np.clip(np.sin(2 * np.pi * (2.5 + 0.3 * e) * t), 0.0, None)
        wave = 0.2 * envelope * voice + 0.003 * rng.standard_normal(len(t))
        sf.write(folder / EMOTIONS[e] / f"s{speaker:02d}_{k:05d}.wav", wave.astype(np.float32), SR,
                 subtype="PCM_16")
    marker.write_text(json.dumps({"clips": n_clips}))
    return time.perf_counter() - start


def export(corpus: Path, shards: Path, shard_size: int) -> float:
    if (shards / "manifest.json").is_file():
        return 0.0
    shutil.rmtree(shards, ignore_errors=True)
    start = time.perf_counter()
    code = subprocess.call([
        sys.executable, "-m", "ser_tf.data", "--data", f"folder={corpus}", "--speaker-pattern",
        SPEAKER_PATTERN, "--export-tfrecord", str(shards), "--shard-size", str(shard_size),
        "--seed", str(TINY["seed"]), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL)
    if code:
        sys.exit(f"export failed (exit {code})")
    return time.perf_counter() - start


def child(mode: str, corpus: str, shards: str) -> dict:
    """One data path, in its own process: datasets, two pipeline epochs, one training epoch."""
    from ser_tf.config import deep_merge
    from ser_tf.settings import resolve
    from ser_tf.training import runner, runtime

    data = ({"corpora": [f"folder={corpus}"], "scan_options": {"folder": {"speaker_pattern": SPEAKER_PATTERN}}}
            if mode == "files" else {"corpora": [f"tfrecord={shards}"]})
    config = resolve(deep_merge(TINY, {"data": data}))
    runtime.set_seed(config.seed)
    start = time.perf_counter()
    bundle = runner.load_bundle(config, require_all=True)
    split = runner.run_splits(bundle, config)[0]
    datasets = runner._datasets(split, bundle, config)  # the trainer's own datasets
    setup = time.perf_counter() - start
    train_ds, labels, _ = datasets["train"]
    epochs = []
    for _ in range(2):
        start = time.perf_counter()
        n = sum(int(y.shape[0]) for _, y in train_ds)
        epochs.append(time.perf_counter() - start)
    assert n == len(labels), (n, len(labels))

    import keras

    from ser_tf.models.registry import build_model

    model = build_model(config.arch, num_classes=len(bundle.classes), config=config)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(train_ds, epochs=1, verbose=0)
    fit = time.perf_counter() - start
    keras.backend.clear_session()
    return {"mode": mode, "train_clips": n, "setup_s": setup, "epoch1_s": epochs[0], "epoch2_s": epochs[1],
            "fit_s": fit, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(mode: str, corpus: Path, shards: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--corpus", str(corpus), "--shards", str(shards)],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def record(bench: Bench, runs: dict) -> None:
    """Shards against files: peak RSS (the 2 GB bound) and the three throughputs, clips/s."""
    shards, files = runs.get("shards"), runs.get("files")
    if shards is None:
        return
    rss = Stats([r["peak_rss_mb"] for r in shards], unit="MB")
    base = Stats([r["peak_rss_mb"] for r in files], unit="MB") if files else None
    bench.compare("peak RSS, shards", rss, base, baseline_name="files (make_dataset, memory cache)",
                  ratio="relative", target=f"< {RSS_LIMIT_MB} MB",
                  details={"train_clips": shards[0]["train_clips"]})
    if files is None:
        return
    for key, what in (("epoch1_s", "pipeline epoch 1 (decode)"), ("epoch2_s", "pipeline epoch 2"),
                      ("fit_s", "one training epoch, tiny CNN-LSTM")):
        rate = lambda rows: Stats([r["train_clips"] / r[key] for r in rows], unit="clips/s")  # noqa: E731
        bench.compare(f"{what}, shards", rate(shards), rate(files), baseline_name="files",
                      ratio="throughput", details={"train_clips": shards[0]["train_clips"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser)  # --data: accepted, unused (synthetic audio)
    parser.add_argument("--clips", type=int, default=None,
                        help="clips in the synthetic corpus (default 3000; --quick 100)")
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per data path")
    parser.add_argument("--shard-size", type=int, default=1000, help="clips per shard")
    parser.add_argument("--work", default="/tmp/ser_tf-bench-shards", help="where corpus and shards go (reused)")
    parser.add_argument("--paths", default="files,shards",
                        help="data paths to run, comma-separated (shards alone: the RSS of a larger corpus)")
    parser.add_argument("--child", choices=("files", "shards"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--shards", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.shards)))
        return 0
    if args.clips is None:
        args.clips = 100 if args.quick else 3000
    if args.clips < 2 * N_SPEAKERS or args.repeats < 1:
        parser.error(f"--clips must be >= {2 * N_SPEAKERS} and --repeats >= 1, got {args.clips} and {args.repeats}")
    bench = Bench.from_args("shards", "TFRecord shards against files: peak RSS and throughput", args)
    work = Path(args.work)
    corpus, shards = work / f"corpus-{args.clips}", work / f"shards-{args.clips}-{args.shard_size}"
    generated = make_corpus(corpus, args.clips)
    exported = export(corpus, shards, args.shard_size)
    wav_mb = sum(p.stat().st_size for p in corpus.rglob("*.wav")) / 2**20
    shard_mb = sum(p.stat().st_size for p in shards.glob("*.tfrecord")) / 2**20
    print(f"corpus: {args.clips} clips, {wav_mb:.0f} MB of WAV (generated in {generated:.0f} s; 0 = reused); "
          f"shards: {shard_mb:.0f} MB (exported in {exported:.0f} s; 0 = reused)\n")
    modes = [m.strip() for m in args.paths.split(",")]
    if not set(modes) <= {"files", "shards"}:
        parser.error(f"--paths takes files and/or shards, got {args.paths!r}")
    runs = {mode: [run_child(mode, corpus, shards) for _ in range(args.repeats)] for mode in modes}
    results = [rows[0] for rows in runs.values()]
    print("| data path | train clips | setup s | pipeline epoch 1 clips/s | epoch 2 clips/s | "
          "fit epoch clips/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        n = r["train_clips"]
        print(f"| {r['mode']} | {n} | {r['setup_s']:.1f} | {n / r['epoch1_s']:.0f} | {n / r['epoch2_s']:.0f} | "
              f"{n / r['fit_s']:.0f} | {r['peak_rss_mb']:.0f} |")
    by_mode = {r["mode"]: r for r in results}
    s, files = by_mode.get("shards"), by_mode.get("files")
    if s is not None and files is not None:
        print(f"\nshards / files throughput: pipeline epoch 1 {files['epoch1_s'] / s['epoch1_s']:.2f}x, "
              f"epoch 2 {files['epoch2_s'] / s['epoch2_s']:.2f}x, fit {files['fit_s'] / s['fit_s']:.2f}x; "
              f"peak RSS {s['peak_rss_mb']:.0f} MB vs {files['peak_rss_mb']:.0f} MB "
              f"({'under' if s['peak_rss_mb'] < RSS_LIMIT_MB else 'OVER'} the {RSS_LIMIT_MB} MB bound)")
    record(bench, runs)
    bench.note(f"Synthetic corpus of {args.clips} clips of 1-3 s ({wav_mb:.0f} MB of WAV), {N_SPEAKERS} speakers, "
               f"shards of {args.shard_size} clips ({shard_mb:.0f} MB); each data path in a fresh process, "
               f"{args.repeats} repeat(s) each (process-level figures, a minute or more each); the issue's "
               "10k-clip scaling of the file pipeline is the `scaling` benchmark's.")
    bench.note("Each process builds the trainer's datasets (runner._datasets), reads the training split twice "
               "(decode, shuffle, crop), then fits a tiny CNN-LSTM for one epoch; peak RSS is its ru_maxrss.")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
