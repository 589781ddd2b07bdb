"""ser_tf.training.encoder_cache: keys, hits and misses, precision, corrupt entries, bounds."""

import logging

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.errors import ConfigError
from ser_tf.training.encoder_cache import EncoderCache, cache_root, content_hash, encode_dataset

FRAMES, LAYERS, DIM = 5, 3, 4


def _cache(tmp_path, **kwargs):
    args = dict(fingerprint="enc-a", sample_rate=16000, duration=0.5, crop="center", root=tmp_path)
    return EncoderCache(**{**args, **kwargs})


class _Encoder:
    """A fake encoder view: states from the waveform's mean, mask of 3 valid frames; counts calls."""

    def __init__(self):
        self.rows = 0
        self.shapes = set()

    def __call__(self, waves):
        self.rows += len(waves)
        self.shapes.add(waves.shape)
        hidden = np.broadcast_to(waves.mean(axis=1)[:, None, None, None], (len(waves), LAYERS, FRAMES, DIM))
        mask = np.arange(FRAMES)[None, :] < 3
        return hidden.astype(np.float32) + 1.0, np.repeat(mask, len(waves), axis=0)


def _dataset(rng, n=5, batch=2):
    waves = rng.standard_normal((n, 800)).astype(np.float32) * 0.1
    return tf.data.Dataset.from_tensor_slices((waves, np.arange(n, dtype=np.int32) % 2)).batch(batch), waves


def test_first_pass_misses_second_hits_with_the_same_states(tmp_path, rng):
    ds, waves = _dataset(rng)
    encoder = _Encoder()
    first = encode_dataset(ds, encode=encoder, cache=_cache(tmp_path), batch_size=2)
    assert first.states.shape == (5, LAYERS, FRAMES, DIM) and first.states.dtype == np.float16
    assert first.valid.tolist() == [3] * 5 and first.labels.tolist() == [0, 1, 0, 1, 0]
    assert encoder.shapes == {(2, 800)}  # always full batches: one trace of a compiled encoder
    again = _cache(tmp_path)
    second = encode_dataset(ds, encode=encoder, cache=again, batch_size=2)
    assert (again.stats.hits, again.stats.misses) == (5, 0) and encoder.rows == 6  # 3 calls of 2 rows
    np.testing.assert_array_equal(second.states, first.states)
    np.testing.assert_allclose(first.states[:, 0, 0, 0], waves.mean(axis=1) + 1.0, atol=1e-3)


@pytest.mark.parametrize("change", [{"fingerprint": "enc-b"}, {"crop": "random+augment"},
                                    {"duration": 1.0}, {"sample_rate": 8000}, {"dtype": "float32"}])
def test_key_changes_with_weights_crop_and_front_end(tmp_path, rng, change):
    ds, _ = _dataset(rng)
    encode_dataset(ds, encode=_Encoder(), cache=_cache(tmp_path), batch_size=2)
    other = _cache(tmp_path, **change)
    encode_dataset(ds, encode=_Encoder(), cache=other, batch_size=2)
    assert other.namespace != _cache(tmp_path).namespace
    assert (other.stats.hits, other.stats.misses) == (0, 5)


def test_changed_clip_content_misses(tmp_path, rng):
    ds, waves = _dataset(rng)
    encode_dataset(ds, encode=_Encoder(), cache=_cache(tmp_path), batch_size=2)
    waves[2, 10] += 0.01
    changed = tf.data.Dataset.from_tensor_slices((waves, np.zeros(5, np.int32))).batch(2)
    cache = _cache(tmp_path)
    encode_dataset(changed, encode=_Encoder(), cache=cache, batch_size=2)
    assert (cache.stats.hits, cache.stats.misses) == (4, 1)
    assert content_hash(waves[2]) != content_hash(waves[2][:-1])


def test_corrupt_or_truncated_entry_is_recomputed_with_a_warning(tmp_path, rng, caplog):
    ds, waves = _dataset(rng)
    cache = _cache(tmp_path)
    first = encode_dataset(ds, encode=_Encoder(), cache=cache, batch_size=2)
    truncated = cache.entry_path(content_hash(waves[0]))
    truncated.write_bytes(truncated.read_bytes()[:40])
    cache.entry_path(content_hash(waves[1])).write_bytes(b"not a zip file")
    again = _cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        second = encode_dataset(ds, encode=_Encoder(), cache=again, batch_size=2)
    assert (again.stats.hits, again.stats.misses, again.stats.recovered) == (3, 2, 2)
    assert "unreadable entry" in caplog.text
    np.testing.assert_array_equal(second.states, first.states)
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.rglob(".*.npz"))  # no leftovers


def test_an_entry_whose_content_fails_its_hash_is_recomputed_never_loaded(tmp_path, rng, caplog):
    ds, waves = _dataset(rng)
    cache = _cache(tmp_path)
    first = encode_dataset(ds, encode=_Encoder(), cache=cache, batch_size=2)
    # One byte flipped in the file (the zip container may notice first: either way it is recomputed).
    flipped = cache.entry_path(content_hash(waves[0]))
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    # A well-formed entry whose states changed after its hash was taken: only the hash can tell.
    edited = cache.entry_path(content_hash(waves[3]))
    with np.load(edited, allow_pickle=False) as entry:
        states, valid, recorded = entry["states"].copy(), entry["valid"], entry["sha256"]
    states[0, 0, 0] += 1
    with open(edited, "wb") as fh:
        np.savez(fh, states=states, valid=valid, sha256=recorded)
    again = _cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        second = encode_dataset(ds, encode=_Encoder(), cache=again, batch_size=2)
    assert (again.stats.hits, again.stats.misses, again.stats.recovered) == (3, 2, 2)
    assert f"{edited} (its content does not match its sha256" in caplog.text and str(flipped) in caplog.text
    np.testing.assert_array_equal(second.states, first.states)  # the rebuilt entries equal the originals
    with np.load(edited, allow_pickle=False) as entry:  # and were written back whole
        np.testing.assert_array_equal(entry["states"], first.states[3])


def test_an_entry_from_before_the_hash_is_recomputed_quietly(tmp_path, rng, caplog):
    ds, waves = _dataset(rng)
    cache = _cache(tmp_path)
    first = encode_dataset(ds, encode=_Encoder(), cache=cache, batch_size=2)
    old = cache.entry_path(content_hash(waves[0]))
    with open(old, "wb") as fh:  # the entry format of the cache's first release
        np.savez(fh, states=first.states[0], valid=np.int64(3))
    again = _cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        encode_dataset(ds, encode=_Encoder(), cache=again, batch_size=2)
    assert (again.stats.hits, again.stats.misses, again.stats.recovered) == (4, 1, 0) and not caplog.text
    with np.load(old, allow_pickle=False) as entry:
        assert "sha256" in entry.files


def test_float16_overflow_is_stored_as_float32(tmp_path, caplog):
    cache = _cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        stored = cache.store("ab" * 32, np.full((1, 2, 2), 1e5, np.float32), 2)
    assert stored.dtype == np.float32 and "overflows float16" in caplog.text
    states, valid = cache.load("ab" * 32)
    assert states.dtype == np.float32 and valid == 2


def test_prune_keeps_the_folder_under_its_bound_removing_the_oldest(tmp_path):
    import os

    cache = _cache(tmp_path, dtype="float32", max_gb=2.5e-6)  # 2,500 bytes
    for i in range(6):
        digest = f"{i:02d}" * 32
        cache.store(digest, np.zeros((1, 10, 10), np.float32), 10)  # ~700 bytes each
        os.utime(cache.entry_path(digest), (1000 + i, 1000 + i))
    removed = cache.prune()
    kept = sorted(p.name[:2] for p in tmp_path.rglob("*.npz"))
    assert removed >= 2 and kept == [f"{i:02d}" for i in range(6 - len(kept), 6)]


def test_bad_settings_and_cache_root(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="dtype"):
        _cache(tmp_path, dtype="int8")
    with pytest.raises(ConfigError, match="max_gb"):
        _cache(tmp_path, max_gb=0)
    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c" / "encoder-states-v1"
