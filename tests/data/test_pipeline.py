"""Tests for ser_tf.data.pipeline: decoding paths, fixed lengths, determinism, caching, no eval
augmentation. Clips are tiny (<= 0.4 s) and the example length is 0.25 s to keep this fast."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ser_tf.data.audio_io import load_audio
from ser_tf.data.pipeline import decode_file, make_dataset
from ser_tf.errors import ConfigError, DataError, ParameterError
from ser_tf.settings import AudioConfig

N = 4000  # samples per example: 0.25 s at 16 kHz
ALL_ON = {name: {"enabled": True, "p": 1.0}
          for name in ("noise", "shift", "pitch", "stretch", "bandpass")}


def config(*, augment=None, train_crop="random", cache="memory", batch_size=3, seed=42):
    """make_dataset's config keywords: the typed audio section and the plain settings."""
    return {
        "audio": AudioConfig(sample_rate=16000, duration=N / 16000, train_crop=train_crop),
        "augment": augment if augment is not None else {},
        "batch_size": batch_size,
        "seed": seed,
        "cache": cache,
    }


@pytest.fixture
def clips(tmp_path, rng):
    """Six clips: the 16-bit 16 kHz fast path and five soundfile-path formats, short and long."""
    specs = [  # (name, rate, seconds, channels, soundfile kwargs)
        ("fast_long.wav", 16000, 0.4, 1, {"subtype": "PCM_16"}),
        ("fast_short.wav", 16000, 0.1, 1, {"subtype": "PCM_16"}),
        ("stereo_44k.wav", 44100, 0.3, 2, {"subtype": "PCM_24"}),
        ("float_48k.wav", 48000, 0.2, 1, {"subtype": "FLOAT"}),
        ("u8_8k.wav", 8000, 0.35, 1, {"subtype": "PCM_U8"}),
        ("clip.flac", 22050, 0.27, 1, {"format": "FLAC"}),
    ]
    paths = []
    for name, sr, seconds, channels, kwargs in specs:
        shape = (int(sr * seconds), channels) if channels > 1 else (int(sr * seconds),)
        audio = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
        sf.write(str(tmp_path / name), audio, sr, **kwargs)
        paths.append(str(tmp_path / name))
    return paths, np.arange(len(paths)) % 3


def center(x: np.ndarray, n: int) -> np.ndarray:
    """Reference centre crop / symmetric padding, written independently of fix_length."""
    if len(x) >= n:
        start = (len(x) - n) // 2
        return x[start:start + n]
    left = (n - len(x)) // 2
    return np.concatenate([np.zeros(left, x.dtype), x, np.zeros(n - len(x) - left, x.dtype)])


def collect(ds):
    waves, labels = zip(*[(w.numpy(), y.numpy()) for w, y in ds])
    return np.concatenate(waves), np.concatenate(labels)


def test_decode_file_fast_path_equals_soundfile(clips):
    for path in clips[0]:
        np.testing.assert_array_equal(decode_file(path).numpy(), load_audio(path))


def test_eval_dataset_is_centre_crop_of_decoded_audio_without_augmentation(clips):
    paths, labels = clips
    # Every augmentation on with p=1: an eval dataset must ignore them all.
    ds = make_dataset(paths, labels, **config(augment=ALL_ON), training=False)
    assert ds.element_spec[0].shape.as_list() == [None, N]
    assert ds.element_spec[0].dtype == tf.float32 and ds.element_spec[1].dtype == tf.int32

    waves, got_labels = collect(ds)
    assert waves.shape == (len(paths), N)  # short clips padded, long ones cropped
    np.testing.assert_array_equal(got_labels, labels)  # order kept: never shuffled
    for wave, path in zip(waves, paths):
        np.testing.assert_array_equal(wave, center(load_audio(path), N))
    again, _ = collect(ds)
    np.testing.assert_array_equal(again, waves)  # deterministic across epochs


def test_eval_dataset_refuses_to_shuffle(clips):
    with pytest.raises(ParameterError, match="never shuffled"):
        make_dataset(*clips, **config(), training=False, shuffle=True)


def test_training_dataset_is_deterministic_for_a_seed(clips):
    paths, labels = clips
    cfg = config(augment={"noise": {"enabled": True}, "shift": {"enabled": True}})
    a = make_dataset(paths, labels, **{**cfg, "seed": 7}, training=True)
    b = make_dataset(paths, labels, **{**cfg, "seed": 7}, training=True)
    c = make_dataset(paths, labels, **{**cfg, "seed": 8}, training=True)
    first_a, first_b, first_c = (next(iter(d)) for d in (a, b, c))
    assert first_a[0].shape == (3, N) and first_a[1].dtype == tf.int32
    np.testing.assert_array_equal(first_a[0].numpy(), first_b[0].numpy())
    np.testing.assert_array_equal(first_a[1].numpy(), first_b[1].numpy())
    assert not np.array_equal(first_a[0].numpy(), first_c[0].numpy())

    # Whole epochs: same seed -> same epochs; the second epoch differs from the first (fresh
    # shuffle, crops and augmentation drawn from the cached full-length clips).
    epoch1_a, epoch2_a = collect(a), collect(a)
    epoch1_b, epoch2_b = collect(b), collect(b)
    np.testing.assert_array_equal(epoch1_a[0], epoch1_b[0])
    np.testing.assert_array_equal(epoch2_a[0], epoch2_b[0])
    assert not np.array_equal(epoch1_a[0], epoch2_a[0])
    assert sorted(epoch1_a[1]) == sorted(labels)  # shuffled, nothing lost


def test_training_with_every_augmentation_keeps_shape_and_range(clips):
    paths, labels = clips
    ds = make_dataset(paths, labels, **config(augment=ALL_ON, batch_size=4), training=True)
    waves, got = collect(ds)
    assert waves.shape == (len(paths), N) and waves.dtype == np.float32
    assert np.isfinite(waves).all() and np.abs(waves).max() <= 1.0
    assert sorted(got) == sorted(labels)


def test_random_training_crops_are_windows_of_the_clip(clips):
    paths, labels = clips
    # A distinct label per clip so each output can be matched to its source.
    ds = make_dataset(paths, np.arange(len(paths)), **config(seed=3), training=True)
    waves, got = collect(ds)
    for wave, label in zip(waves, got):
        source = load_audio(paths[label])
        if len(source) >= N:
            starts = [s for s in range(len(source) - N + 1) if source[s] == wave[0]]
            assert any(np.array_equal(source[s:s + N], wave) for s in starts), paths[label]
        else:  # placed at a random offset inside zeros
            nz = np.flatnonzero(wave)
            np.testing.assert_array_equal(wave[nz[0]:nz[0] + len(source)][: len(source)],
                                          source[: len(wave) - nz[0]])
            assert np.count_nonzero(wave) <= len(source)


def test_training_centre_crop_without_augmentation_matches_eval(clips):
    paths, labels = clips
    train = make_dataset(paths, np.arange(len(paths)), **config(train_crop="center", seed=1),
                         training=True)
    waves, got = collect(train)
    for wave, label in zip(waves, got):
        np.testing.assert_array_equal(wave, center(load_audio(paths[label]), N))


def test_file_cache_is_used_after_the_first_epoch(clips, tmp_path):
    paths, labels = clips
    prefix = str(tmp_path / "cache" / "eval")
    ds = make_dataset(paths, labels, **config(cache=prefix), training=False)
    first, _ = collect(ds)
    assert list((tmp_path / "cache").glob("eval.*.index")), "no cache file written"
    for path in paths:  # the second epoch must come from the cache, not from the files
        Path(path).unlink()
    again, _ = collect(ds)
    np.testing.assert_array_equal(again, first)


def test_memory_cache_and_no_cache(clips):
    paths, labels = clips
    cached = make_dataset(paths, labels, **config(cache="memory"), training=False)
    uncached = make_dataset(paths, labels, **config(cache="none"), training=False)
    first, _ = collect(cached)
    np.testing.assert_array_equal(collect(uncached)[0], first)
    for path in paths:
        Path(path).unlink()
    np.testing.assert_array_equal(collect(cached)[0], first)
    with pytest.raises(tf.errors.OpError):
        collect(uncached)  # no cache: the deleted files are read again and fail


def test_unreadable_files_are_skipped_with_a_warning(clips, tmp_path, caplog):
    paths, labels = clips
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with caplog.at_level(logging.WARNING, logger="ser_tf.data.pipeline"):
        ds = make_dataset(paths + [str(bad)], list(labels) + [0], **config(), training=False)
    assert str(bad) in caplog.text and "skipped 1 of 7" in caplog.text
    assert collect(ds)[0].shape == (len(paths), N)
    with pytest.raises(DataError, match="none of the 1"):
        make_dataset([str(bad)], [0], **config(), training=False)


def test_bad_arguments(clips):
    paths, labels = clips
    with pytest.raises(ParameterError, match="6 paths but 2 labels"):
        make_dataset(paths, [0, 1], **config(), training=False)
    with pytest.raises(ParameterError, match="empty"):
        make_dataset([], [], **config(), training=False)
    with pytest.raises(ParameterError, match="class indices"):
        make_dataset(paths, [-1] * 6, **config(), training=False)
    with pytest.raises(ConfigError, match="train_crop.*'middle'"):
        make_dataset(paths, labels, **config(train_crop="middle"), training=True)
    with pytest.raises(ConfigError, match="augment.stretch.min_rate"):
        bad = config(augment={"stretch": {"enabled": True, "min_rate": 0}})
        make_dataset(paths, labels, **bad, training=True)


def test_each_header_is_read_once_from_load_data_to_dataset(tmp_path, monkeypatch, rng):
    """load_data probes each file; make_dataset reuses that header instead of reading it again,
    and decodes the same samples as from plain paths (one fast-path file, one soundfile file)."""
    from ser_tf.data.manifest import load_data

    root = tmp_path / "ravdess" / "Actor_01"
    root.mkdir(parents=True)
    fast, stereo = rng.uniform(-0.5, 0.5, 3000), rng.uniform(-0.5, 0.5, (9000, 2))
    sf.write(str(root / "03-01-05-01-01-01-01.wav"), fast, 16000, subtype="PCM_16")
    sf.write(str(root / "03-01-04-01-01-01-01.wav"), stereo, 44100, subtype="PCM_24")
    reads, real_info = [], sf.info

    def counting_info(path, *args, **kwargs):  # the one header read of ser_tf.data.audio_io
        reads.append(str(path))
        return real_info(path, *args, **kwargs)

    monkeypatch.setattr(sf, "info", counting_info)

    bundle = load_data([f"ravdess={tmp_path / 'ravdess'}"])
    ds = make_dataset(bundle.records, bundle.labels_array(), **config(), training=False)
    assert sorted(reads) == sorted(r.path for r in bundle.records)  # once per file, no more

    reads.clear()
    paths = [r.path for r in bundle.records]
    from_paths = make_dataset(paths, bundle.labels_array(), **config(), training=False)
    assert sorted(reads) == sorted(paths)  # plain paths: probed when the dataset is built
    waves, _ = collect(ds)
    np.testing.assert_array_equal(waves, collect(from_paths)[0])
    np.testing.assert_array_equal(waves, np.stack([center(load_audio(p), N) for p in paths]))


# --- babble: a bank of the training split's own clips ----------------------------------------------

BABBLE = {"babble": {"enabled": True, "p": 1.0, "talkers": [1, 2], "bank_size": 4}}


def test_babble_bank_reads_only_the_files_it_is_given(clips, monkeypatch):
    import ser_tf.data.pipeline as pipeline

    paths, _ = clips
    train, held_out = paths[:4], paths[4:]
    reads = []

    def counting_load(path, **kwargs):
        reads.append(str(path))
        return load_audio(path, **kwargs)

    monkeypatch.setattr(pipeline, "load_audio", counting_load)
    bank = pipeline.build_babble_bank(train, n_samples=N, bank_size=3, seed=5)
    assert bank.shape == (3, N) and bank.dtype == np.float32
    np.testing.assert_allclose(np.sqrt(np.mean(bank.astype(np.float64) ** 2, axis=1)), 1.0, rtol=1e-5)
    assert len(reads) == 3 and set(reads) <= set(train) and not set(reads) & set(held_out)
    np.testing.assert_array_equal(
        bank, pipeline.build_babble_bank(train, n_samples=N, bank_size=3, seed=5))  # seeded
    # Fewer files than bank_size: all of them, once each.
    reads.clear()
    assert pipeline.build_babble_bank(train, n_samples=N, bank_size=64, seed=5).shape == (4, N)
    assert sorted(reads) == sorted(train)

    # make_dataset reads its bank from the paths it is given (training), and none for evaluation.
    reads.clear()
    make_dataset(train, [0, 1, 2, 0], **config(augment=BABBLE), training=True)
    assert reads and set(reads) <= set(train)
    reads.clear()
    make_dataset(held_out, [0, 1], **config(augment=BABBLE), training=False)
    assert reads == []


def test_training_with_babble_keeps_shape_and_eval_gets_none(clips):
    paths, labels = clips
    ds = make_dataset(paths, labels, **config(augment=BABBLE, batch_size=4), training=True)
    waves, got = collect(ds)
    assert waves.shape == (len(paths), N) and waves.dtype == np.float32
    assert np.isfinite(waves).all() and np.abs(waves).max() <= 1.0
    assert sorted(got) == sorted(labels)
    plain, _ = collect(make_dataset(paths, labels, **config(), training=True))
    assert not np.allclose(waves, plain)  # same seed, same crops: only babble differs
    evaluated, _ = collect(make_dataset(paths, labels, **config(augment=BABBLE), training=False))
    np.testing.assert_array_equal(evaluated, np.stack([center(load_audio(p), N) for p in paths]))
