"""Is training input-bound? train.py's own pipeline against the same model fed from memory.

Workload: synthetic speech-like 16 kHz WAVs (3.0-3.5 s, RAVDESS naming, written to a temporary
folder; the real data is not needed), read by the trainer's own code: ``load_bundle`` ->
``run_splits`` -> ``ser_tf.training.runner._datasets`` (``make_dataset``: decode, memory cache,
shuffle, random crop, the recipe's augmentation, batch, prefetch). The model is built and compiled
as ``_fit_end_to_end`` does. The baseline feeds the SAME model the same number of batches of the
same shapes, materialised from one epoch of that pipeline into memory
(``Dataset.from_tensor_slices(...).batch(...).cache()``). Both feeds go through
``runner.one_iterator`` as the trainer's ``fit`` does (one iterator for all epochs); the first
pipeline epoch (tracing, iterator start) is not timed. The headline also times the trainer as it
was before ``one_iterator``: a new iterator, so new instances of the map functions, every epoch.

Figures:
- ``epoch/<arch>/<augmentation>``: pipeline epoch seconds against the in-memory epoch (ratio
  "relative"); targets <= 1.1 without augmentation and <= 1.3 with every waveform augmentation on.
- ``samples_per_s/<arch>``: training samples/s through the pipeline (the recipe's own augmentation)
  against the in-memory feed, for every ``--arch``.
- ``augment_cost/<transform>``: ms per 3 s clip of one transform applied with p = 1 (single
  tf.data thread), against the clip's cost without augmentation.

    python benchmarks/bench_input_bound.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SER_TF_CACHE", "/tmp/sercache")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.common import SR, speechlike  # noqa: E402

NAME = "input_bound"
TITLE = "training epoch: train.py's pipeline against the same model fed from memory, every --arch"

# Every waveform transform of ser_tf.data.augment, on at its defaults (p = 0.5).
FULL_AUGMENT = ("speed", "stretch", "pitch", "bandpass", "shift", "gain", "babble", "noise")
# arch: (batch size, batches per epoch, repeats); None: the recipe's batch, the whole training split.
# Heavier models get smaller, fewer epochs so that the full run stays under 4 minutes on 2 cores.
PLAN = {
    "cnn_lstm": (None, None, 3), "cnn_lstm_small": (None, None, 3), "cnn_lstm_l2": (None, None, 3),
    "cnn_gru": (None, None, 3), "crnn_attention": (None, None, 3), "cnn": (None, None, 3),
    "tdnn_stats": (None, None, 3), "bilstm_mfcc": (4, 2, 1), "hubert_tiny": (None, None, 3),
    "whisper": (8, 2, 3), "whisper_base": (2, 2, 1),
}
# Big encoders, run only with --big (each costs minutes on 2 cores): 2 batches of 2, random init.
BIG = {"hubert": (2, 2, 1), "wav2vec2": (2, 2, 1), "hubert_large": (1, 2, 1)}
# Whisper sizes are presets of the one ``whisper`` arch.
WHISPER_PRESETS = {"whisper": "whisper_tiny_en", "whisper_base": "whisper_base"}
# One arch: run.py --quick must stay under 2 min.
QUICK_PLAN = {"cnn_lstm_small": (None, None, 1)}


def write_corpus(folder: Path, n_clips: int, *, seconds: float = 3.0) -> None:
    """``n_clips`` (<= 512) speech-like clips of ``seconds``-``seconds + 0.5`` s, 16-bit PCM at
    16 kHz, in RAVDESS naming over 8 actors: the default speaker split trains on 5 of them."""
    import numpy as np
    import soundfile as sf

    actors = 8
    for i in range(n_clips):
        actor, k = i % actors + 1, i // actors
        emotion, statement, repetition, intensity = k % 8 + 1, k // 8 % 2 + 1, k // 16 % 2 + 1, k // 32 % 2 + 1
        if k >= 64:
            raise ValueError(f"at most {64 * actors} clips, got n_clips={n_clips}")
        length = seconds + 0.5 * ((i * 37) % 11) / 10.0
        wave = speechlike(length, seed=i) * (0.5 + 0.5 * np.sin(i))  # louder and softer clips
        path = folder / f"Actor_{actor:02d}" / f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave, SR, subtype="PCM_16")


def arch_config(arch: str, corpus: Path, *, augment: str, batch_size=None):
    """The resolved config of ``arch``'s recipe on ``corpus``; ``augment``: ``"recipe"`` (as the
    recipe says), ``"none"`` (every transform off) or ``"full"`` (every transform on)."""
    from ser_tf.config import load_config, recipe_path
    from ser_tf.settings import resolve

    preset = WHISPER_PRESETS.get(arch)
    recipe = load_config(recipe_path("whisper" if preset else arch))
    overrides = [f"data.corpora=[ravdess={corpus}]", "train.epochs=1"]
    if preset:  # end to end, random init: the recipe's frozen encoder trains from cached outputs
        overrides += [f"model.preset={preset}", "model.checkpoint=null", "model.freeze=none"]
    if arch in ("hubert", "wav2vec2", "hubert_large"):
        overrides += ["model.pretrained=null"]
    if augment != "recipe":
        on = "true" if augment == "full" else "false"
        overrides += [f"augment.{name}.enabled={on}" for name in FULL_AUGMENT]
    if batch_size:
        overrides += [f"train.batch_size={batch_size}", "train.gradient_accumulation_steps=1"]
    return resolve(recipe, overrides=overrides)


class EpochTimes:
    """A Keras callback keeping the wall seconds of each epoch (iterator start included)."""

    def __new__(cls):
        import keras

        class _Times(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        return _Times()


def in_memory(ds, batch_size: int):
    """One epoch of ``ds`` materialised: the same batches' shapes, from tensors in memory."""
    import numpy as np
    import tensorflow as tf

    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    mem = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(batch_size).cache()
    return mem.prefetch(tf.data.AUTOTUNE), len(xs)


def compare_feeds(config, *, repeats: int, max_batches=None, fresh_iterators: bool = False):
    """Epoch seconds of one config's model fed by the trainer's training dataset and by its
    in-memory copy: ``(pipeline, memory, samples per epoch, fresh)``. Both go through
    ``runner.one_iterator`` as ``_fit_end_to_end`` does (one iterator for the whole fit); the first
    pipeline epoch (tracing, iterator start) is left out. ``fresh``: with ``fresh_iterators``, the
    pipeline's epochs when every epoch makes a new iterator (the trainer before ``one_iterator``),
    else ``None``."""
    import keras
    import numpy as np

    from ser_tf.models.registry import build_model
    from ser_tf.training import optim, runner
    from ser_tf.training.targets import loss_from_config

    bundle = runner.load_bundle(config, require_all=True)
    split = runner.run_splits(bundle, config)[0]
    train_ds = runner._datasets(split, bundle, config)["train"][0]
    batch = config.train.batch_size
    if max_batches:
        train_ds = train_ds.take(max_batches)
    memory_ds, n_samples = in_memory(train_ds, batch)  # also fills the pipeline's memory cache
    steps = int(np.ceil(n_samples / batch))
    model = build_model(config.arch, num_classes=len(bundle.label_set.classes), config=config)
    model.compile(optimizer=optim.make_optimizer(train=config.train, steps_per_epoch=steps),
                  loss=loss_from_config(config), metrics=["accuracy"], jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    times = {"pipeline": EpochTimes(), "memory": EpochTimes(), "fresh": EpochTimes()}
    for name, ds, epochs in (("pipeline", train_ds, repeats + 1), ("memory", memory_ds, repeats)):
        ds, steps = runner.one_iterator(ds, steps)
        model.fit(ds, steps_per_epoch=steps, epochs=epochs, verbose=0, shuffle=False, callbacks=[times[name]])
    for _ in range(repeats if fresh_iterators else 0):
        model.fit(train_ds, epochs=1, verbose=0, shuffle=False, callbacks=[times["fresh"]])
    keras.backend.clear_session(free_memory=True)
    return (times["pipeline"].seconds[1:], times["memory"].seconds, n_samples,
            times["fresh"].seconds or None)


def augment_costs(bench, *, n_clips: int, repeats: int) -> None:
    """ms per 3 s clip of each transform alone (p = 1), one tf.data thread, against no augmentation;
    and of every transform at its default p = 0.5 (the full set of the headline)."""
    import numpy as np
    import tensorflow as tf

    from ser_tf.data.augment import augment_waveform

    waves = np.stack([speechlike(3.0, seed=i) for i in range(n_clips)])
    bank = tf.constant(waves / np.sqrt(np.mean(waves ** 2, axis=1, keepdims=True)), tf.float32)

    def per_clip_ms(cfg):
        draws = tf.data.Dataset.random(seed=1, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(waves).cache(), draws))

        def one(wave, draw):
            seed = tf.stack([tf.constant(7, tf.int64), draw])
            return augment_waveform(wave, augment_config=cfg, seed=seed, babble_bank=bank)

        batches = iter(ds.map(one).batch(n_clips).repeat())  # one iterator: no re-instantiation
        return bench.repeat(lambda: next(batches), repeats=repeats, warmup=1, unit="ms",
                            scale=1000.0 / n_clips)

    base = per_clip_ms({})
    for name in FULL_AUGMENT:
        bench.compare(f"augment_cost/{name}", per_clip_ms({name: {"enabled": True, "p": 1.0}}), base,
                      baseline_name="no augmentation", ratio="relative")
    full = {name: {"enabled": True} for name in FULL_AUGMENT}
    bench.compare("augment_cost/all (p=0.5 each)", per_clip_ms(full), base,
                  baseline_name="no augmentation", ratio="relative")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    harness.add_common_args(parser)
    parser.add_argument("--archs", nargs="+", default=None, choices=sorted({**PLAN, **BIG}),
                        help="only these archs' samples/s, nothing else (default: every --arch but the big encoders)")
    parser.add_argument("--big", action="store_true",
                        help="also hubert, wav2vec2 and hubert_large (random init; minutes each on 2 cores)")
    args = parser.parse_args(argv)
    bench = harness.Bench.from_args(NAME, TITLE, args)

    import tensorflow as tf  # noqa: F401  (after the environment above)

    from ser_tf.settings import resolve
    from ser_tf.training import runtime as runtime_lib

    default = resolve({})
    runtime_lib.apply_runtime(runtime_lib.resolve_runtime(train=default.train), train=default.train)
    quick = args.quick
    n_clips, repeats = (32, 1) if quick else (96, 5)
    headline = "cnn_lstm_small" if quick else "cnn_lstm"
    plan = dict(QUICK_PLAN if quick else PLAN, **({} if quick or not args.big else BIG))
    if args.archs:
        plan = {arch: {**PLAN, **BIG}[arch] for arch in args.archs}

    with tempfile.TemporaryDirectory(prefix="ser_tf-input-bound-") as tmp:
        corpus = Path(tmp) / "clips"
        write_corpus(corpus, n_clips)
        for augment, target in () if args.archs else (("none", "<= 1.1"), ("full", "<= 1.3")):
            pipe, mem, n, fresh = compare_feeds(arch_config(headline, corpus, augment=augment), repeats=repeats,
                                                fresh_iterators=True)
            mem = harness.Stats(mem)
            bench.compare(f"epoch/{headline}/{augment} augmentation", harness.Stats(pipe), mem,
                          baseline_name="same model, batches from memory", ratio="relative", target=target,
                          details={"samples_per_epoch": n})
            bench.compare(f"epoch/{headline}/{augment} augmentation, a new iterator each epoch (before)",
                          harness.Stats(fresh), mem, baseline_name="same model, batches from memory",
                          ratio="relative", details={"samples_per_epoch": n})
        if not args.archs:
            augment_costs(bench, n_clips=8 if quick else 32, repeats=repeats)
        for arch, (batch_size, batches, arch_repeats) in plan.items():
            config = arch_config(arch, corpus, augment="recipe", batch_size=batch_size)
            pipe, mem, n, _ = compare_feeds(config, repeats=min(arch_repeats, repeats), max_batches=batches)
            augment = sorted(name for name in FULL_AUGMENT if config.augment[name]["enabled"])
            bench.compare(f"samples_per_s/{arch}", harness.Stats([n / s for s in pipe], unit="samples/s"),
                          harness.Stats([n / s for s in mem], unit="samples/s"),
                          baseline_name="fed from memory", ratio="throughput",
                          details={"samples_per_epoch": n, "batch_size": config.train.batch_size,
                                   "augment": augment})
    bench.note(f"{n_clips} synthetic speech-like clips of 3.0-3.5 s (16 kHz WAV, 8 speakers), read by "
               "train.py's own dataset code (runner._datasets: decode, memory cache, shuffle, random "
               "crop, augmentation, batch, prefetch); the training split is the speaker split's (5 of 8 "
               "speakers). The baseline is the same compiled model fed one materialised epoch of that "
               "pipeline from memory; both through runner.one_iterator (one iterator for the whole fit), "
               "the first pipeline epoch (tracing) not timed.")
    bench.note("Before: Keras made a new iterator each epoch, and each one instantiated the map "
               "functions again (the whole augmentation graph, transforms not drawn included): "
               "seconds per epoch with every transform on. runner.one_iterator (train_ds.repeat() "
               "with steps_per_epoch) keeps one iterator for the whole fit; the batches are the same "
               "bit for bit.")
    bench.note("On CPU the input pipeline and the train step share the same cores: every millisecond "
               "of augmentation per clip is CPU taken from training, so the factor is roughly 1 + "
               "(augmentation ms per clip) / (training ms per sample), high for small models. Pitch "
               "shift and time stretch (an in-graph tf.signal phase vocoder, plus an FFT resampler for "
               "pitch) are most of the full set's cost: see augment_cost/*.")
    bench.note("samples_per_s: each arch's recipe augmentation (the Whisper family has none: its "
               "recipe trains from cached encoder outputs, timed here end to end as model.freeze=none). "
               "Whisper (tiny.en, base), HuBERT, wav2vec2 and HuBERT large start from random weights "
               "(speed does not depend on them); heavy models run a few batches and 1-3 repeats so the "
               "full run fits in 4 minutes; hubert, wav2vec2 and hubert_large only with --big.")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
