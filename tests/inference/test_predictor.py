import numpy as np
import pytest
import soundfile as sf

from ser_tf.errors import AudioError, ParameterError
from ser_tf.inference import predictor as predictor_module
from ser_tf.inference.predictor import SILENCE, Predictor
from ser_tf.runs import RunFolder
from tests.inference.support import CLASSES, SR, voice


def _quiet(seconds, seed=0):
    """Room noise at about -60 dBFS: not digital silence, but no speech either."""
    return (1e-3 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """8 s: neutral (0-3 s), room noise (3-5 s), happy (5-8 s)."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    x = np.concatenate([voice("neutral", 3.0, seed=1), _quiet(2.0), voice("happy", 3.0, seed=2)])
    sf.write(path, x, SR)
    return path


@pytest.mark.parametrize("kind", CLASSES)
def test_each_voice_gets_its_label(predictor, kind):
    pred = predictor.predict_waveform(voice(kind, 1.0, seed=7))
    assert pred.label == kind and pred.confidence > 0.5
    assert list(pred.probabilities) == list(CLASSES)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert [k for k, _ in pred.top_k][0] == kind and len(pred.top_k) == 3
    assert [p for _, p in pred.top_k] == sorted((p for _, p in pred.top_k), reverse=True)


def test_short_clips_are_padded_like_the_evaluation_pipeline(predictor):
    from ser_tf.data.cropping import fix_length

    x = voice("sad", 0.7, seed=3)
    expected = predictor.model(np.asarray(fix_length(x, SR))[None, :], training=False)
    pred = predictor.predict_waveform(x)
    np.testing.assert_allclose(list(pred.probabilities.values()), np.asarray(expected)[0], atol=1e-5)
    assert pred.duration == pytest.approx(0.7)


def test_other_rates_and_channels_are_converted(predictor, tmp_path):
    x16 = voice("happy", 1.0, seed=4)
    ref = predictor.predict_waveform(x16)
    t = np.arange(44100) / 44100
    x44 = np.interp(t, np.arange(SR) / SR, x16).astype(np.float32)
    sf.write(tmp_path / "stereo44.flac", np.stack([x44, x44], axis=1), 44100)
    pred = predictor.predict_file(tmp_path / "stereo44.flac")
    assert pred.label == "happy" and pred.path == str(tmp_path / "stereo44.flac")
    np.testing.assert_allclose(list(pred.probabilities.values()), list(ref.probabilities.values()), atol=0.05)


def test_h5_and_keras_files_predict_the_same(predictor, run_dir):
    h5 = Predictor(RunFolder(run_dir).model_h5)
    x = voice("neutral", 1.0, seed=5)
    np.testing.assert_allclose(list(h5.predict_waveform(x).probabilities.values()),
                               list(predictor.predict_waveform(x).probabilities.values()), atol=1e-6)


def test_unclassifiable_files_raise_audio_errors_naming_the_file(predictor, tmp_path):
    sf.write(tmp_path / "short.wav", voice("happy", 0.3), SR)
    sf.write(tmp_path / "zeros.wav", np.zeros(SR, np.float32), SR)
    (tmp_path / "text.wav").write_text("hello")
    cases = {"short.wav": "too short to classify: 0.30 s", "zeros.wav": "digital silence",
             "text.wav": "cannot decode", "missing.wav": "file not found"}
    for name, message in cases.items():
        with pytest.raises(AudioError, match=message) as info:
            predictor.predict_file(tmp_path / name)
        assert info.value.path == str(tmp_path / name)


def test_long_recording_timeline_silence_and_overall(predictor, long_file):
    long = predictor.predict_long(long_file)
    labels = [w.label for w in long.timeline]
    assert labels == ["neutral"] * 3 + [SILENCE] * 2 + ["happy"] * 3
    assert [(w.start, w.end) for w in long.timeline] == [(float(i), float(i + 1)) for i in range(8)]
    assert long.voiced_windows == 6 and "6 voiced windows of 8" in long.basis
    voiced = [[w.probabilities[c] for c in CLASSES] for w in long.timeline if w.voiced]
    np.testing.assert_allclose(list(long.overall.probabilities.values()), np.mean(voiced, axis=0), atol=1e-9)
    assert long.overall.duration == pytest.approx(8.0)
    # each window is classified exactly like the same audio given as a clip
    clip = sf.read(long_file, dtype="float32")[0][5 * SR:6 * SR]
    np.testing.assert_allclose(list(predictor.predict_waveform(clip).probabilities.values()),
                               list(long.timeline[5].probabilities.values()), atol=1e-6)


def test_long_results_do_not_depend_on_block_or_batch_size(predictor, long_file, monkeypatch):
    reference = predictor.predict_long(long_file, hop=0.5)
    assert len(reference.timeline) == 15  # starts 0, 0.5, ..., 7.0
    monkeypatch.setattr(predictor_module, "BLOCK_SECONDS", 0.7)
    monkeypatch.setattr(predictor, "batch_size", 3)
    small = predictor.predict_long(long_file, hop=0.5)
    assert [w.label for w in small.timeline] == [w.label for w in reference.timeline]
    np.testing.assert_allclose(list(small.overall.probabilities.values()),
                               list(reference.overall.probabilities.values()), atol=1e-5)


def test_long_recording_progress_bar_counts_windows_and_changes_nothing(predictor, long_file, monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    reference = predictor.predict_long(long_file, hop=0.5)
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    shown = predictor.predict_long(long_file, hop=0.5, progress=True)
    # The total comes from the file's length before any window is read.
    assert f"windows of long.wav:   0%|          | 0/{len(shown.timeline)} " in tty.getvalue()
    assert [w.probabilities for w in shown.timeline] == [w.probabilities for w in reference.timeline]


def test_predict_path_switches_to_windows_beyond_the_model_window(predictor, long_file, tmp_path):
    pred, long = predictor.predict_path(long_file)
    assert long is not None and pred == long.overall
    sf.write(tmp_path / "one.wav", voice("sad", 1.0), SR)
    pred, long = predictor.predict_path(tmp_path / "one.wav")
    assert long is None and pred.label == "sad"
    in_memory = predictor.predict_long_waveform(sf.read(long_file, dtype="float32")[0])
    assert [w.label for w in in_memory.timeline] == [w.label for w in predictor.predict_long(long_file).timeline]


def test_all_quiet_recording_falls_back_to_every_window_and_says_so(predictor, tmp_path):
    sf.write(tmp_path / "room.wav", _quiet(3.0, seed=9), SR)
    long = predictor.predict_long(tmp_path / "room.wav")
    assert long.voiced_windows == 0 and all(w.label == SILENCE for w in long.timeline)
    assert "no window passed the voice-activity gate" in long.basis


def test_window_and_hop_are_checked(predictor, long_file):
    with pytest.raises(ParameterError, match="fixed at 1 s"):
        predictor.predict_long(long_file, window=2.0)
    with pytest.raises(ParameterError, match="hop must be > 0 and <= the window"):
        predictor.predict_long(long_file, hop=1.5)


def _chunks(x, seconds=0.1):
    step = int(seconds * SR)
    for i in range(0, len(x), step):
        yield x[i:i + step]


def test_stream_updates_every_hop_with_silence_and_ema(predictor):
    x = np.concatenate([voice("neutral", 3.0, seed=1), _quiet(3.0), voice("happy", 3.0, seed=2)])
    updates = list(predictor.stream(_chunks(x), hop=0.5, alpha=0.5))
    assert [u.end for u in updates] == [0.5 * k for k in range(1, 19)]  # first after one hop
    by_end = {u.end: u for u in updates}
    assert all(by_end[t].label == "neutral" for t in (0.5, 1.0, 2.0, 3.0))
    assert all(by_end[t].label == SILENCE and by_end[t].confidence is None for t in (4.5, 5.0, 5.5, 6.0))
    assert all(by_end[t].label == "happy" for t in (7.5, 8.0, 9.0))
    # the smoothed probabilities follow the EMA of the raw ones between two voiced updates
    a, b = by_end[1.5], by_end[2.0]
    expected = [0.5 * b.raw.probabilities[c] + 0.5 * a.probabilities[c] for c in CLASSES]
    np.testing.assert_allclose([b.probabilities[c] for c in CLASSES], expected, atol=1e-9)
    last = updates[-1]
    assert last.audio_s == pytest.approx(9.0) and 0 < last.real_time_factor
    assert last.total_compute_s == pytest.approx(sum(u.compute_s for u in updates), rel=0.5)


def test_stream_drops_stale_windows_when_behind(predictor):
    x = voice("sad", 4.0)
    updates = list(predictor.stream([x], hop=1.0, drop_late=True))  # 4 s arriving at once
    assert len(updates) == 1 and updates[0].dropped == 3 and updates[0].end == 4.0
    assert updates[0].label == "sad"
