"""Inference speed: cold start, warm latency, streaming and long-file real-time factors.

    python benchmarks/bench_inference.py [--model PATH | --model default] [--arch cnn_lstm] [--repeats 3]

Uses ``--model``, else the run in ``models/latest``, else an untrained ``--arch`` built from its
recipe (weights do not matter for speed) and saved to a temporary run folder. Every figure has a
baseline measured in the same run on the same machine:

- cold start: ``audio_test.py --file`` on a 3 s clip (a fresh process: imports, model load, graph
  tracing, prediction), against ``python -c "import tensorflow"``; with ``--model default`` also
  its first use, which assembles the default model into an empty cache folder;
- warm latency: ``Predictor.predict_waveform`` / ``predict_file`` on a 3 s clip, against the clip's
  duration (the real-time factor, RTF: below 1 is faster than real time);
- streaming: ``Predictor.stream`` over synthetic speech-like audio (every window voiced, so the
  model runs on each: the worst case), compute time against audio time;
- long file: ``Predictor.predict_long`` on a generated recording, and the process's peak memory
  against a run on a recording a fifth as long (bounded memory means about the same peak).

Prints a markdown table. Not a test: it takes a minute or two.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import SR, speechlike  # noqa: E402


def wall(cmd, *, env=None, cwd=None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return elapsed


def median_wall(cmd, repeats: int, **kwargs) -> float:
    return statistics.median(wall(cmd, **kwargs) for _ in range(repeats))


def make_model(arch: str, folder: Path) -> Path:
    """An untrained ``arch`` from its recipe, saved as a run folder."""
    import keras

    from ser_tf.config import dump_config, load_config, recipe_path
    from ser_tf.models.registry import build_model
    from ser_tf.runs import RunFolder, write_labels

    keras.utils.set_random_seed(0)
    config = load_config(recipe_path(arch))
    classes = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    model = build_model(arch, num_classes=len(classes), config=config)
    run = RunFolder(folder / f"{arch}-untrained")
    run.path.mkdir(parents=True)
    model.save(run.model_keras)
    write_labels(run, classes=classes, label_set="ravdess8", sample_rate=SR,
                 duration=config["audio"]["duration"], arch=arch)
    run.config.write_text(dump_config(config), encoding="utf-8")
    return run.path


def peak_rss_mb(model: Path, audio: Path) -> float:
    """Peak resident memory of a fresh process running ``predict_long`` on ``audio`` (MB)."""
    code = (
        "import resource, sys; from ser_tf.inference.predictor import Predictor; "
        f"Predictor({str(model)!r}).predict_long({str(audio)!r}); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", help="model file or run folder (default: models/latest, else untrained --arch)")
    p.add_argument("--arch", default="cnn_lstm", help="architecture to build when there is no model")
    p.add_argument("--repeats", type=int, default=3, help="cold-start runs (median)")
    p.add_argument("--stream-seconds", type=float, default=60.0, help="audio streamed per hop setting")
    p.add_argument("--long-minutes", type=float, default=10.0, help="length of the long-file test")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tmp = Path(tempfile.mkdtemp(prefix="bench_inference_"))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, tmp: Path) -> int:
    from ser_tf.inference.predictor import Predictor
    from ser_tf.runs import latest_run, models_dir

    latest = latest_run(ROOT / models_dir())
    if args.model == "default":
        model = "default"
    else:
        model = Path(args.model) if args.model else latest.path if latest else make_model(args.arch, tmp)
    clip = tmp / "clip3s.wav"
    sf.write(clip, speechlike(3.0), SR)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    py = sys.executable
    rows = []

    # -- cold start
    help_s = median_wall([py, ROOT / "audio_test.py", "--help"], args.repeats, env=env)
    import_tf = median_wall([py, "-c", "import tensorflow"], args.repeats, env=env)
    cold = median_wall([py, ROOT / "audio_test.py", "--model", model, "--file", clip], args.repeats, env=env, cwd=tmp)
    rows += [
        ("`audio_test.py --help`", f"{help_s:.2f} s", ""),
        ("`python -c 'import tensorflow'` (baseline)", f"{import_tf:.2f} s", "1.00x"),
        ("`audio_test.py --file` 3 s clip, cold", f"{cold:.2f} s", f"{cold / import_tf:.2f}x import tensorflow"),
    ]
    if model == "default":  # first use: every run starts from an empty cache, so it assembles
        first = statistics.median(
            wall([py, ROOT / "audio_test.py", "--model", model, "--file", clip], cwd=tmp,
                 env=dict(env, SER_TF_CACHE=str(tmp / f"empty-cache-{i}")))
            for i in range(args.repeats))
        rows.append(("`audio_test.py --file` 3 s clip, first use (assembles the default model)",
                     f"{first:.2f} s", f"{first / import_tf:.2f}x import tensorflow"))

    # -- warm latency
    t0 = time.perf_counter()
    predictor = Predictor(model)
    load_s = time.perf_counter() - t0
    x = speechlike(3.0)
    t0 = time.perf_counter()
    predictor.predict_waveform(x)
    first_s = time.perf_counter() - t0
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        predictor.predict_waveform(x)
        lat.append(time.perf_counter() - t0)
    lat_file = []
    for _ in range(10):
        t0 = time.perf_counter()
        predictor.predict_file(clip)
        lat_file.append(time.perf_counter() - t0)
    warm, warm_file = statistics.median(lat), statistics.median(lat_file)
    rows += [
        ("Predictor load (in process, imports done)", f"{load_s:.2f} s", ""),
        ("first prediction (graph tracing)", f"{1000 * first_s:.0f} ms", ""),
        ("warm `predict_waveform`, 3 s clip", f"{1000 * warm:.1f} ms", f"RTF {warm / 3.0:.4f}"),
        ("warm `predict_file`, 3 s WAV", f"{1000 * warm_file:.1f} ms", f"RTF {warm_file / 3.0:.4f}"),
    ]

    # -- streaming (no windows dropped: every hop is classified)
    audio = speechlike(args.stream_seconds, seed=1)
    chunk = SR // 10
    for hop in (1.0, 0.5):
        source = (audio[i:i + chunk] for i in range(0, len(audio), chunk))
        t0 = time.perf_counter()
        updates = list(predictor.stream(source, hop=hop))
        elapsed = time.perf_counter() - t0
        last = updates[-1]
        voiced = sum(u.raw is not None for u in updates)
        rows.append((f"stream, hop {hop:g} s, {args.stream_seconds:g} s audio ({voiced}/{len(updates)} windows voiced)",
                     f"{1000 * last.total_compute_s / len(updates):.1f} ms/window",
                     f"RTF {last.real_time_factor:.4f} (wall {elapsed / args.stream_seconds:.4f})"))

    # -- long file, bounded memory
    long_s = args.long_minutes * 60
    long_path, short_path = tmp / "long.wav", tmp / "shorter.wav"
    with sf.SoundFile(long_path, "w", SR, 1, subtype="PCM_16") as f:
        for k in range(int(long_s // 60)):
            f.write(speechlike(60.0, seed=k))
    sf.write(short_path, speechlike(long_s / 5), SR, subtype="PCM_16")
    t0 = time.perf_counter()
    result = predictor.predict_long(long_path)
    long_elapsed = time.perf_counter() - t0
    rss_long, rss_short = peak_rss_mb(model, long_path), peak_rss_mb(model, short_path)
    rows += [
        (f"`predict_long`, {args.long_minutes:g} min file, hop 1 s ({len(result.timeline)} windows)",
         f"{long_elapsed:.1f} s", f"RTF {long_elapsed / long_s:.4f}"),
        (f"peak RSS, {args.long_minutes:g} min vs {args.long_minutes / 5:g} min file",
         f"{rss_long:.0f} MB vs {rss_short:.0f} MB", f"{rss_long / rss_short:.2f}x"),
    ]

    import tensorflow as tf

    print(f"\nmodel: {model} ({predictor.info.arch or '?'}, {predictor.window:g} s window, "
          f"{predictor.model.count_params():,} parameters); {os.cpu_count()} CPU cores; "
          f"TF {tf.__version__}; GPUs: {len(tf.config.list_physical_devices('GPU'))}\n")
    print("| measurement | value | ratio |")
    print("|---|---|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
