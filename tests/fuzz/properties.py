"""The fuzz properties of issue 14, shared by ``tests/fuzz`` (a few hundred examples in CI) and
``benchmarks/fuzz.py`` (tens of thousands).

``PROPERTIES`` maps a name to ``(strategy, check)``: ``check(case)`` runs one drawn case through a
public entry and either finds a finite output of the documented shape or sees ser_tf's own error
(``SerError``); anything else escaping it is a failure. Files are real files in a temporary folder.
"""

from __future__ import annotations

import collections
import math
import os
import tempfile

import numpy as np
from hypothesis import strategies as st

from ser_tf.errors import SerError
from tests.fuzz.wav_bytes import RATES, wav_file_bytes

# Values a numeric argument may be given by mistake: bad kinds, non-finite, negative, zero.
# (Finite floats stay below 1e6: a length of 1e300 samples is valid and would fill the memory.)
ODD_NUMBERS = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.floats(-1e6, 1e6),
                        st.sampled_from([math.nan, math.inf, -math.inf, 0.5, 16000.0]),
                        st.integers(-3, 3), st.sampled_from([np.int64(16000), np.float32(16000.0)]))
SMALL_RATES = st.one_of(st.sampled_from([8000, 16000, 22050, 44100, 48000]), st.integers(1, 200_000))


# How each entry ended, over the run: {(function, "output" | ErrorClass name): cases}. The
# benchmark reports it, and the tests check that every property reaches real outputs, not only
# refusals (a fuzz that only ever meets errors would prove little).
OUTCOMES = collections.Counter()


def refused(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or ``None`` when it raises ser_tf's own error (anything else
    escapes and fails the property)."""
    name = getattr(fn, "__name__", type(fn).__name__)
    try:
        out = fn(*args, **kwargs)
    except SerError as err:
        OUTCOMES[name, type(err).__name__] += 1
        return None
    OUTCOMES[name, "output"] += 1
    return out


def assert_finite(array, shape) -> None:
    """``array`` has ``shape`` (``None`` entries: any size) and holds only finite values."""
    array = np.asarray(array)
    assert len(array.shape) == len(shape) and all(
        want is None or got == want for got, want in zip(array.shape, shape)), (array.shape, shape)
    assert np.isfinite(array).all(), "non-finite output"


def _with_file(blob: bytes, fn):
    with tempfile.TemporaryDirectory(prefix="ser_tf_fuzz_") as folder:
        path = os.path.join(folder, "clip.wav")
        with open(path, "wb") as fh:
            fh.write(blob)
        return fn(path)


# -- decoding -------------------------------------------------------------------------------------

def check_probe_audio(blob: bytes) -> None:
    from ser_tf.data.audio_io import probe_audio

    info = _with_file(blob, lambda path: refused(probe_audio, path))
    if info is not None:
        assert info.sample_rate > 0 and info.channels > 0 and info.frames > 0, info


def check_load_audio(case) -> None:
    blob, sample_rate, offset, duration = case
    from ser_tf.data.audio_io import load_audio

    wave = _with_file(blob, lambda path: refused(
        load_audio, path, sample_rate=sample_rate, offset=offset, duration=duration))
    if wave is not None:
        assert wave.dtype == np.float32 and len(wave) > 0
        assert_finite(wave, (None,))


def check_decode_file(blob: bytes) -> None:
    """The pipeline's decoder (in-graph for 16-bit WAV) agrees with ``load_audio`` on every file
    both accept, and refuses with ``AudioError`` the files ``load_audio`` refuses."""
    from ser_tf.data.audio_io import load_audio
    from ser_tf.data.pipeline import decode_file

    def both(path):
        return refused(decode_file, path), refused(load_audio, path)

    graph, numpy = _with_file(blob, both)
    assert (graph is None) == (numpy is None), "decode_file and load_audio disagree on refusing"
    if graph is not None:
        assert_finite(graph, (len(numpy),))
        np.testing.assert_allclose(np.asarray(graph), numpy, atol=1e-4)


def check_decode_pcm16(case) -> None:
    """The raw in-graph decoder: ``(frames, channels)`` in [-1, 1), or its documented run-time
    error (no ``data`` chunk), which the pipeline never meets: libsndfile probes every file first."""
    import tensorflow as tf

    from ser_tf.data.wav_graph import decode_pcm16

    blob, channels = case
    try:
        out = refused(decode_pcm16, tf.constant(blob), channels=channels)
    except tf.errors.InvalidArgumentError as err:
        assert "no data chunk" in str(err), err
        return
    if out is not None:
        assert_finite(out, (None, channels))
        assert np.all(np.abs(out.numpy()) <= 1.0)


# -- resampling and length fixing -----------------------------------------------------------------

def _waves(max_len: int = 300):
    dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int16])
    return st.builds(lambda n, dtype, seed, scale: (np.random.default_rng(seed).uniform(-1, 1, n)
                                                    * scale).astype(dtype),
                     st.integers(0, max_len), dtypes, st.integers(0, 2**32 - 1),
                     st.sampled_from([0.0, 1e-6, 1.0, 1000.0]))


def check_resample(case) -> None:
    """In-graph resampling: ``ceil(n * target / orig)`` finite samples, within 1e-4 of the NumPy
    resampler (scipy's ``resample_poly``) on the same input."""
    from ser_tf.data import audio_io, resample_graph

    x, orig_sr, target_sr = case
    reference = refused(audio_io.resample, x.astype(np.float32), orig_sr=orig_sr,
                        target_sr=target_sr)
    if len(x) == 0:
        return  # documented: samples >= 1 (resample_poly refuses an empty array)
    y = refused(resample_graph.resample, x, orig_sr=orig_sr, target_sr=target_sr)
    if y is None or reference is None:
        return
    n = math.ceil(len(x) * int(target_sr) / int(orig_sr))
    assert_finite(y, (n,))
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(np.asarray(y) / scale, reference / scale, atol=1e-4)


def check_fix_length(case) -> None:
    """Both crop/pad functions give ``(length,)``: the centred window of a longer clip, a shorter
    clip centred in zeros; the random mode's output is a window of the same placement rule."""
    import tensorflow as tf

    from ser_tf.data.cropping import fix_length, fix_length_numpy

    x, length, mode, offset = case
    x = x.astype(np.float32)
    y_np = refused(fix_length_numpy, x, length, offset=offset)
    y_tf = refused(fix_length, x, length, mode=mode, seed=tf.constant([1, 2]))
    if y_np is not None:
        n, length = len(x), int(length)
        assert_finite(y_np, (length,))
        span = abs(n - length)
        at = span // 2 if offset is None else int(offset)
        want = x[at:at + length] if n >= length else np.pad(x, (at, span - at))
        np.testing.assert_array_equal(y_np, want)
    if y_tf is not None:
        assert_finite(y_tf, (int(length),))
        if mode == "center" and y_np is not None and offset is None:
            np.testing.assert_array_equal(y_tf.numpy(), y_np)


# -- front-end layers -----------------------------------------------------------------------------

def _frontend_inputs():
    rank_shapes = st.one_of(st.tuples(st.integers(1, 2), st.integers(0, 2500)),
                            st.tuples(st.integers(0, 2500)),
                            st.tuples(st.integers(1, 2), st.integers(1, 300), st.integers(1, 2)))
    return st.builds(lambda shape, dtype, seed, scale: (np.random.default_rng(seed).uniform(
        -1, 1, shape) * scale).astype(dtype), rank_shapes,
        st.sampled_from([np.float32, np.float64, np.float16, np.int16]),
        st.integers(0, 2**32 - 1), st.sampled_from([0.0, 1e-3, 1.0, 30000.0]))


FRONTEND_CONFIGS = st.fixed_dictionaries({}, optional={
    "sample_rate": st.one_of(SMALL_RATES, SMALL_RATES, ODD_NUMBERS),
    "n_fft": st.one_of(st.integers(256, 1024), st.integers(-2, 1024), ODD_NUMBERS),
    "win_length": st.one_of(st.integers(200, 256), st.integers(-2, 1030)),
    "hop_length": st.one_of(st.integers(80, 600), st.integers(-2, 600), ODD_NUMBERS),
    "n_mels": st.one_of(st.integers(1, 64), st.integers(-1, 160)),
    "fmin": st.one_of(st.floats(0, 100), st.floats(-100, 30000)),
    "fmax": st.one_of(st.none(), st.floats(3000, 4000), st.floats(-100, 30000)),
    "top_db": st.one_of(st.none(), st.floats(-10, 150)),
    "center": st.booleans(),
    "normalization": st.sampled_from(["minmax", "meanvar", "none", "zscore"]),
})


def _check_layer(layer_cls, config, x) -> None:
    layer = refused(layer_cls, **config)
    if layer is None:
        return
    out = refused(layer, x)
    if out is not None:
        assert_finite(out, layer.compute_output_shape(x.shape))


def check_log_mel(case) -> None:
    from ser_tf.layers.log_mel import LogMelSpectrogram

    _check_layer(LogMelSpectrogram, *case)


def check_mfcc(case) -> None:
    from ser_tf.layers.mfcc import MFCC

    config, extra, x = case
    _check_layer(MFCC, {**config, **extra}, x)


def check_whisper_log_mel(case) -> None:
    from ser_tf.layers.whisper_log_mel import WhisperLogMel

    _check_layer(WhisperLogMel, *case)


WHISPER_CONFIGS = st.fixed_dictionaries({}, optional={
    "n_mels": st.one_of(st.sampled_from([80, 128]), st.integers(-1, 200)),
    "sample_rate": st.one_of(SMALL_RATES, SMALL_RATES, ODD_NUMBERS),
    "n_fft": st.one_of(st.integers(64, 800), st.integers(-2, 800), ODD_NUMBERS),
    "hop_length": st.one_of(st.integers(80, 400), st.integers(-2, 400), ODD_NUMBERS),
})


# -- the TFRecord shard manifest ------------------------------------------------------------------

_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                     max_leaves=12)
_CLIP_KEYS = ["path", "emotion", "speaker", "corpus", "fields", "header", "samples", "label"]


def _manifest_texts():
    import json

    from ser_tf.data.shard_files import FORMAT, FORMAT_VERSION

    entry = st.dictionaries(st.sampled_from(_CLIP_KEYS + ["file", "clips", "first", "bytes"]), _JSON,
                            max_size=5)
    shaped = st.fixed_dictionaries(
        {"format": st.one_of(st.just(FORMAT), _JSON), "version": st.one_of(st.just(FORMAT_VERSION), _JSON)},
        optional={"clips": st.one_of(st.lists(entry, max_size=3), _JSON),
                  "shards": st.one_of(st.lists(entry, max_size=3), _JSON),
                  "sample_rate": st.one_of(SMALL_RATES, _JSON), "splits": _JSON})
    return st.one_of(_true_manifests(FORMAT, FORMAT_VERSION).map(json.dumps), shaped.map(json.dumps),
                     _JSON.map(json.dumps), st.binary(max_size=64))


@st.composite
def _true_manifests(draw, fmt, version):
    """A manifest as export_shards writes it (clips split into shards in order), one field of
    which may then be replaced by any JSON value."""
    text = st.text(max_size=6)
    clips = draw(st.lists(st.fixed_dictionaries({
        "path": text, "emotion": text, "corpus_label": text, "speaker": text, "corpus": text,
        "gender": st.one_of(st.none(), text), "fields": st.dictionaries(text, text, max_size=2),
        "samples": st.integers(0, 10**6)}), max_size=6))
    sizes, left = [], len(clips)
    while left:
        sizes.append(draw(st.integers(1, left)))
        left -= sizes[-1]
    starts = [sum(sizes[:j]) for j in range(len(sizes))]
    manifest = {"format": fmt, "version": version, "sample_rate": draw(SMALL_RATES), "clips": clips,
                "shards": [{"file": f"s{j}.tfrecord", "first": first, "clips": n, "bytes": draw(st.integers(0, 999))}
                           for j, (first, n) in enumerate(zip(starts, sizes))], "splits": []}
    if draw(st.booleans()):
        where = manifest
        for key in draw(st.lists(st.sampled_from(["clips", "shards", 0, "first", "path", "sample_rate"]),
                                 min_size=1, max_size=3)):
            inner = where.get(key) if isinstance(where, dict) else (where[key] if where and isinstance(key, int) else None)
            if not isinstance(inner, (dict, list)) or not inner:
                if isinstance(where, dict):
                    where[key] = draw(_JSON)
                break
            where = inner
    return manifest


def check_open_shards(text) -> None:
    from ser_tf.data.shard_files import MANIFEST_FILE, open_shards

    with tempfile.TemporaryDirectory(prefix="ser_tf_fuzz_") as folder:
        with open(os.path.join(folder, MANIFEST_FILE), "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        shard_set = refused(open_shards, folder)
        if shard_set is not None:
            assert len(shard_set.records) == sum(s["clips"] for s in shard_set.manifest["shards"])
            assert shard_set.sample_rate > 0


PROPERTIES = {
    "probe_audio": (wav_file_bytes(), check_probe_audio),
    "load_audio": (st.tuples(wav_file_bytes(), st.one_of(SMALL_RATES, SMALL_RATES, ODD_NUMBERS),
                             st.one_of(st.just(0.0), st.just(0.0), ODD_NUMBERS),
                             st.one_of(st.none(), st.none(), st.floats(-1, 10), ODD_NUMBERS)), check_load_audio),
    "decode_file": (wav_file_bytes(), check_decode_file),
    "decode_pcm16": (st.tuples(wav_file_bytes(), st.integers(-1, 8)), check_decode_pcm16),
    "resample": (st.tuples(_waves(), st.one_of(SMALL_RATES, SMALL_RATES, ODD_NUMBERS), SMALL_RATES),
                 check_resample),
    "fix_length": (st.tuples(_waves(60).map(lambda x: x.astype(np.float32)),
                             st.one_of(st.integers(1, 80), st.integers(-2, 80), ODD_NUMBERS),
                             st.sampled_from(["center", "random", "middle"]),
                             st.one_of(st.none(), st.integers(0, 3), st.integers(-2, 90))), check_fix_length),
    "log_mel": (st.tuples(FRONTEND_CONFIGS, _frontend_inputs()), check_log_mel),
    "mfcc": (st.tuples(FRONTEND_CONFIGS, st.fixed_dictionaries({}, optional={
        "n_mfcc": st.integers(-1, 60), "deltas": st.booleans(), "delta_width": st.integers(-1, 12)}),
        _frontend_inputs()), check_mfcc),
    "whisper_log_mel": (st.tuples(WHISPER_CONFIGS, _frontend_inputs()), check_whisper_log_mel),
    "open_shards": (_manifest_texts(), check_open_shards),
}
