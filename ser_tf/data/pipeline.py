"""The tf.data input pipeline: file paths and labels in, fixed-length waveform batches out.

Chain (after the keras-io audio examples; path and label travel together from the start)::

    from_tensor_slices((path, label, route)) -> map(decode, AUTOTUNE) -> cache (full-length clips,
      int16 when every file is mono 16-bit PCM at the target rate)
      -> shuffle (training) -> fix_length + augment (training) / centre fit (evaluation)
      -> batch -> prefetch

Decoding: every header is read once, in Python: records from ``ser_tf.data.manifest.load_data``
carry the header it probed (``Record.header``); plain paths are probed here. Files that are 16-bit
PCM WAV (all of RAVDESS, at 16 or 48 kHz) are decoded in the graph (:func:`decode_pcm16`: the
``data`` chunk's bytes as int16, 3-5x quicker than ``tf.audio.decode_wav``), their channels
averaged and, at another rate, resampled in the graph by
:func:`ser_tf.data.resample_graph.resample` (``resample_poly``'s filter), one branch per file
rate and channel count; anything else (24-bit, float, WAVE_FORMAT_EXTENSIBLE, FLAC/OGG/MP3)
goes through :func:`ser_tf.data.audio_io.load_audio` in a ``tf.numpy_function``. Both give the
same samples for a 16-bit file: bit for bit at the target rate (``int16 / 32768``; checked on all
1080 RAVDESS-16k files), to float32 round-off (< 1e-6) after resampling. The ``numpy_function``
hop holds the GIL and ran ``scipy.signal.resample_poly`` one file at a time: at 48 kHz it was
most of the first pass (``benchmarks/bench_features.py``; ``docs/perf-notes/features.md``).

The cache holds decoded full-length clips, before cropping and augmentation, so every epoch draws
fresh crops and augmentations. Randomness is stateless and seeded per element from
``Dataset.random(seed, rerandomize_each_iteration=True)``: two datasets built with the same seed
give the same batches, epoch after epoch, whatever the number of parallel calls.

Babble (``augment.babble``) needs other people talking: a training dataset with it enabled first
decodes a bank of ``bank_size`` clips drawn (seeded) from the very files it is given, i.e. the
training split only (:func:`build_babble_bank`), so no validation or test speaker leaks into
training.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from ser_tf.constants import SAMPLE_RATE, samples_for
from ser_tf.data import resample_graph
from ser_tf.data.audio_io import AudioInfo, check_training_clip, load_audio, probe_audio
from ser_tf.data.augment import augment_waveform, validate_augment_config
from ser_tf.data.cropping import CROP_MODES, fix_length, fix_length_numpy
from ser_tf.data.records import Record
from ser_tf.data.wav_graph import decode_pcm16
from ser_tf.errors import AudioError, ConfigError, DataError, ParameterError
from ser_tf.settings.sections import AudioConfig, AugmentConfig

__all__ = ["make_dataset", "decode_file", "is_graph_wav", "build_babble_bank",
           "check_pipeline_options", "finish_dataset"]

logger = logging.getLogger(__name__)


def is_graph_wav(info: AudioInfo, *, sample_rate: int = SAMPLE_RATE) -> bool:
    """Whether the file is decoded in the graph: plain 16-bit PCM WAV, any channels, a rate the
    graph resampler takes to ``sample_rate`` (channels averaged, resampled by
    :func:`ser_tf.data.resample_graph.resample`; an odd rate such as 44,101 Hz goes the NumPy way)."""
    return info.format == "WAV" and info.subtype == "PCM_16" \
        and resample_graph.fits_in_graph(info.sample_rate, sample_rate)


def _decode_wav_graph(path: tf.Tensor, file_rate: int = SAMPLE_RATE, channels: int = 1,
                      sample_rate: int = SAMPLE_RATE) -> tf.Tensor:
    """float32 ``(samples,)`` of a 16-bit WAV at ``file_rate`` with ``channels``: ``int16 / 32768``
    (:func:`decode_pcm16`), channels averaged in float64, resampled to ``sample_rate``, as
    :func:`load_audio` does."""
    audio = decode_pcm16(tf.io.read_file(path), channels=channels, path=path)
    if channels == 1:
        wave = audio[:, 0]
    else:
        wave = tf.cast(tf.reduce_mean(tf.cast(audio, tf.float64), axis=1), tf.float32)
    return resample_graph.resample(wave, orig_sr=file_rate, target_sr=sample_rate)


def _decode_numpy_graph(path: tf.Tensor, sample_rate: int) -> tf.Tensor:
    def load(p: bytes) -> np.ndarray:
        return load_audio(p.decode("utf-8"), sample_rate=sample_rate)

    wave = tf.numpy_function(load, [path], tf.float32, stateful=False, name="load_audio")
    wave.set_shape([None])
    return wave


def decode_file(path, *, sample_rate: int = SAMPLE_RATE) -> tf.Tensor:
    """Decode one file exactly as the pipeline does: float32 ``(samples,)`` mono at ``sample_rate``.

    Raises:
        AudioError: missing, unreadable or empty file.
    """
    path = os.fspath(path)
    info = probe_audio(path)
    if is_graph_wav(info, sample_rate=sample_rate):
        return _decode_wav_graph(tf.constant(path), info.sample_rate, info.channels, sample_rate)
    return tf.constant(load_audio(path, sample_rate=sample_rate))


def build_babble_bank(
    paths: Sequence, *, n_samples: int, bank_size: int, seed: int, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """The clips babble is made of: ``bank_size`` of ``paths``, decoded, cut to ``n_samples``, RMS 1.

    Args:
        paths: the training split's files (path-likes or ``Record``s); nothing else is read.
        n_samples: samples per row, the example length (> 0).
        bank_size: rows wanted (> 0); drawn without replacement, or every file when there are
            fewer (the transform draws rows with replacement anyway).
        seed: seeds which files are drawn and where each is cut (a random window of a longer
            clip; a shorter one is centred in zeros).
        sample_rate: Hz; every clip is resampled to it.

    Returns:
        float32 ``(rows, n_samples)``, each row of RMS 1; ``rows <= bank_size`` (unreadable or
        silent clips are left out, with a warning).

    Raises:
        ParameterError: no paths, or ``n_samples`` / ``bank_size`` <= 0.
        DataError: no drawn clip could be read or all of them are silent.
    """
    paths, _ = _paths_and_headers(paths)
    if not paths:
        raise ParameterError("build_babble_bank needs at least one file, got an empty list")
    if int(n_samples) <= 0 or int(bank_size) <= 0:
        raise ParameterError(f"build_babble_bank: n_samples and bank_size must be > 0, got "
                             f"{n_samples!r} and {bank_size!r}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(paths), size=min(int(bank_size), len(paths)), replace=False)
    rows = []
    for index in sorted(chosen):
        try:
            wave = load_audio(paths[index], sample_rate=sample_rate)
        except AudioError as err:
            logger.warning("babble bank: skipping unreadable audio: %s", err)
            continue
        span = abs(len(wave) - int(n_samples))
        offset = int(rng.integers(0, span + 1)) if len(wave) > n_samples else None
        wave = fix_length_numpy(wave, int(n_samples), offset=offset).astype(np.float64)
        level = np.sqrt(np.mean(np.square(wave)))
        if level > 0.0:
            rows.append((wave / level).astype(np.float32))
    if not rows:
        raise DataError(f"babble bank: none of the {len(chosen)} clips drawn could be read or had "
                        f"any sound (first: {paths[chosen[0]]!r})")
    if len(rows) < len(chosen):
        logger.warning("babble bank: %d of %d clips left out (unreadable or silent)",
                       len(chosen) - len(rows), len(chosen))
    return np.stack(rows)


def _cache_file(prefix: str, paths: Sequence[str], labels: np.ndarray, sample_rate: int,
                dtype: str = "float32") -> str:
    """``<prefix>.<digest>``: a file cache keyed on its content, so a train and a validation
    dataset given the same prefix, or a changed file list or sample type, never read each
    other's cache."""
    key = [list(paths), labels.tolist(), sample_rate] + ([] if dtype == "float32" else [dtype])
    key = json.dumps(key).encode("utf-8")
    digest = hashlib.sha1(key).hexdigest()[:12]
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    return f"{prefix}.{digest}"


def _cache(ds: tf.data.Dataset, cache: str, *, paths, labels, sample_rate: int,
           as_int16: bool) -> tf.data.Dataset:
    """Cache decoded ``(wave, label)`` clips as ``data.cache`` says (``memory``, ``none``, or a file
    prefix). With ``as_int16`` (every file is 16-bit PCM WAV at ``sample_rate``, decoded as
    ``int16 / 32768``) the cache holds the int16 samples, half the memory of float32 and exactly
    the same numbers once ``finish_dataset`` scales them back: 10k clips of 1-3 s take 0.64 GB
    instead of 1.28 GB, which keeps training on them under 2 GB. Resampled or float sources are
    cached as float32 (quantising them would change the data)."""
    if cache == "none":
        return ds
    if as_int16:
        @tf.autograph.experimental.do_not_convert
        def to_int16(wave, label):  # exact: wave * 32768 is an integer in [-32768, 32767]
            return tf.cast(tf.round(wave * 32768.0), tf.int16), label

        ds = ds.map(to_int16, num_parallel_calls=tf.data.AUTOTUNE)
    if cache == "memory":
        return ds.cache()
    dtype = "int16" if as_int16 else "float32"
    return ds.cache(_cache_file(cache, paths, labels, sample_rate, dtype))


def _paths_and_headers(items: Sequence) -> tuple:
    """``(paths, headers)`` of ``items``: a ``Record`` gives its path and probed header (``None``
    if not probed), a path-like its path and ``None``."""
    paths, headers = [], []
    for item in items:
        if isinstance(item, Record):
            paths.append(item.path)
            headers.append(item.header)
        else:
            paths.append(os.fspath(item))
            headers.append(None)
    return paths, headers


def _probe_all(paths: Sequence[str], headers: Sequence, labels: np.ndarray, *, sample_rate: int):
    """Pick each file's decoder from its header, probing only the files without one; unreadable
    files (and those ``check_training_clip`` refuses: too long, NaN/Inf) are skipped with a
    warning each and a count. Returns ``(paths, labels, kinds)``: a
    kind is ``(rate, channels)`` of a file decoded in the graph (:func:`is_graph_wav`), ``(0, 0)``
    for ``load_audio``."""
    kept_paths, kept_labels, kinds, skipped = [], [], [], []
    for path, header, label in zip(paths, headers, labels):
        try:
            info = header
            if info is None:  # a header from load_data was checked there
                info = probe_audio(path)
                check_training_clip(path, info)
        except AudioError as err:
            logger.warning("skipping unreadable audio: %s", err)
            skipped.append(path)
            continue
        kept_paths.append(path)
        kept_labels.append(label)
        kinds.append((info.sample_rate, info.channels)
                     if is_graph_wav(info, sample_rate=sample_rate) else (0, 0))
    if skipped:
        logger.warning("skipped %d of %d files that could not be read", len(skipped), len(paths))
    if not kept_paths:
        raise DataError(f"none of the {len(paths)} audio files could be read (first: {paths[0]!r})")
    return kept_paths, np.asarray(kept_labels, np.int32), kinds


def _decoder(kinds: Sequence[tuple], sample_rate: int):
    """``(routes, decode)``: each file's branch index, and ``decode(path, route) -> wave`` with
    one branch per distinct ``(rate, channels)`` (``(0, 0)``: :func:`load_audio` in a
    ``numpy_function``)."""
    branches = sorted(set(kinds))
    routes = np.asarray([branches.index(kind) for kind in kinds], np.int32)

    def branch(kind, path):
        if kind == (0, 0):
            return lambda: _decode_numpy_graph(path, sample_rate)
        return lambda: _decode_wav_graph(path, kind[0], kind[1], sample_rate)

    def decode(path, route):
        if len(branches) == 1:
            return branch(branches[0], path)()
        return tf.switch_case(route, [branch(kind, path) for kind in branches])

    return routes, decode


def make_dataset(
    paths: Sequence,
    labels: Sequence[int],
    *,
    audio: AudioConfig,
    training: bool,
    batch_size: int,
    seed: int,
    cache: str,
    augment: Optional[AugmentConfig] = None,
    shuffle: Optional[bool] = None,
) -> tf.data.Dataset:
    """Build the ``(waveform, label)`` dataset of a split.

    Args:
        paths: audio files, any format :func:`ser_tf.data.audio_io.load_audio` reads, as
            path-likes or ``Record``s; a record's ``header`` (set by ``load_data``) is used
            instead of reading the file's header again.
        labels: class index of each file (integers >= 0), same length as ``paths``.
        audio: the config's ``audio`` section: ``sample_rate`` (Hz), ``duration`` (s) and
            ``train_crop``. A plain mapping is read as an ``AudioConfig`` (missing keys: defaults).
        training: training split: shuffled, random crop (``audio.train_crop``), augmented.
            Otherwise never shuffled nor augmented, centre crop / symmetric padding.
        batch_size: examples per batch (> 0), usually ``train.batch_size``.
        seed: seeds the shuffle, the crops and the augmentation (the config's ``seed``).
        cache: ``data.cache``: ``"memory"``, ``"none"``, or a file path prefix for tf.data's file
            cache (the file is ``<prefix>.<digest of the file list>``; it is complete once a first
            epoch has run to the end).
        augment: the ``augment`` section, applied to the training split only; None: none. With
            ``babble`` enabled, its bank is drawn from ``paths`` themselves (seeded by ``seed``).
        shuffle: default ``training``; ``True`` with ``training=False`` is an error.

    Returns:
        A dataset of ``(waveform, label)``: float32 ``(batch, n_samples)`` with
        ``n_samples = round(duration * sample_rate)``, and int32 ``(batch,)``. The last batch may
        be smaller. Files whose header cannot be read are skipped with a logged warning.

    Raises:
        ParameterError: mismatched lengths, empty input, bad labels, shuffling an eval split.
        ConfigError: bad ``audio`` / ``augment`` values.
        DataError: no file could be read.
    """
    paths, headers = _paths_and_headers(paths)
    labels = np.asarray(labels)
    if len(paths) != len(labels):
        raise ParameterError(f"got {len(paths)} paths but {len(labels)} labels; they must match")
    if not paths:
        raise ParameterError("make_dataset needs at least one file, got an empty list")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ParameterError(f"labels must be class indices >= 0, got {labels[:5].tolist()}...")
    shuffle, audio, n_samples, enabled, batch_size = check_pipeline_options(
        audio=audio, augment=augment, training=training, shuffle=shuffle, batch_size=batch_size)
    sample_rate, cache = audio.sample_rate, str(cache)

    paths, labels, kinds = _probe_all(paths, headers, labels, sample_rate=sample_rate)
    babble_bank = None
    if "babble" in enabled:  # training only: the bank is this split's own clips, nothing else
        babble_bank = tf.constant(build_babble_bank(
            paths, n_samples=n_samples, bank_size=enabled["babble"]["bank_size"], seed=seed,
            sample_rate=sample_rate))
    routes, decode_route = _decoder(kinds, sample_rate)
    # int16 / 32768 round-trips exactly only when nothing was averaged or resampled.
    all_int16 = all(kind == (sample_rate, 1) for kind in kinds)

    # The map functions are plain TF (explicit tf.switch_case): no AutoGraph conversion needed.
    @tf.autograph.experimental.do_not_convert
    def decode(path, label, route):
        return decode_route(path, route), label

    ds = tf.data.Dataset.from_tensor_slices((paths, labels, routes))
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    ds = _cache(ds, cache, paths=paths, labels=labels, sample_rate=sample_rate, as_int16=all_int16)

    return finish_dataset(
        ds, training=training, shuffle_buffer=len(paths) if shuffle else 0, seed=seed,
        audio=audio, augment_config=enabled, babble_bank=babble_bank, batch_size=batch_size)


def check_pipeline_options(*, audio, augment, training: bool, shuffle, batch_size):
    """Check what ``make_dataset`` (and the shard reader) are given; returns
    ``(shuffle, AudioConfig, n_samples, enabled augmentations, batch_size)``.

    Raises:
        ParameterError: shuffling an evaluation split, ``batch_size`` <= 0.
        ConfigError: bad ``audio`` / ``augment`` values.
    """
    shuffle = training if shuffle is None else bool(shuffle)
    if shuffle and not training:
        raise ParameterError(
            "evaluation datasets are never shuffled: shuffle=True needs training=True"
        )
    audio = AudioConfig.from_mapping(audio)
    n_samples = samples_for(audio.duration, sample_rate=audio.sample_rate)
    if n_samples <= 0:
        raise ConfigError(f"audio.duration must be > 0 seconds, got {audio.duration!r}")
    if audio.train_crop not in CROP_MODES:
        raise ConfigError(f"audio.train_crop must be one of {CROP_MODES}, got {audio.train_crop!r}")
    if int(batch_size) <= 0:
        raise ParameterError(f"batch_size must be > 0, got {batch_size!r}")
    enabled = {}  # evaluation is never augmented, whatever the augment section says
    if training and augment:
        enabled = validate_augment_config(augment, sample_rate=audio.sample_rate)
    return shuffle, audio, n_samples, enabled, int(batch_size)


def finish_dataset(ds: tf.data.Dataset, *, training: bool, shuffle_buffer: int, seed: int,
                   audio: AudioConfig, augment_config: dict, babble_bank, batch_size: int) -> tf.data.Dataset:
    """Shuffle, cut to length, augment, batch and prefetch ``(wave, label)`` elements.

    Args:
        ds: ``(wave, label)``: float32 ``(samples,)`` in [-1, 1], or int16 (scaled by 1/32768
            after the shuffle, so a shuffle buffer holds 2 bytes a sample).
        training: random crop and augmentation; else the centre crop, nothing random.
        shuffle_buffer: elements in the shuffle buffer (training only); 0: no shuffle.
        seed: seeds the shuffle and the per-element draws.
        audio: a checked ``AudioConfig``; augment_config: ``validate_augment_config``'s result.
    """
    n_samples = samples_for(audio.duration, sample_rate=audio.sample_rate)

    def as_float(wave):
        return tf.cast(wave, tf.float32) / 32768.0 if wave.dtype == tf.int16 else wave

    if training:
        if shuffle_buffer > 0:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        # One fresh random int64 per element and epoch; the stateless ops below derive all their
        # draws from it, so the result does not depend on thread scheduling.
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, draws))
        base = tf.constant(seed, tf.int64)

        @tf.autograph.experimental.do_not_convert
        def prepare(example, draw):
            wave, label = example
            crop_seed, augment_seed = tf.unstack(
                tf.random.experimental.stateless_split(tf.stack([base, draw]), num=2))
            wave = fix_length(as_float(wave), n_samples, mode=audio.train_crop, seed=crop_seed)
            if augment_config:
                wave = augment_waveform(wave, augment_config=augment_config, seed=augment_seed,
                                        sample_rate=audio.sample_rate, babble_bank=babble_bank)
            return wave, label
    else:
        @tf.autograph.experimental.do_not_convert
        def prepare(wave, label):
            return fix_length(as_float(wave), n_samples, mode="center"), label

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
