"""Tests for ser_tf.data.demo: the synthesized clips (prosody by emotion and speaker, naming)."""

import subprocess
import sys

import numpy as np
import soundfile as sf

from ser_tf.data import demo


def _median_f0(audio: np.ndarray, sr: int) -> float:
    """Median autocorrelation pitch (Hz) of the loud 40 ms frames."""
    frames = np.lib.stride_tricks.sliding_window_view(audio, 640)[::320]
    rms = np.sqrt((frames**2).mean(axis=1))
    f0 = []
    for frame in frames[rms > 0.3 * rms.max()]:
        spec = np.fft.rfft(frame - frame.mean(), 2048)
        ac = np.fft.irfft(np.abs(spec) ** 2)
        lo, hi = sr // 500, sr // 60
        f0.append(sr / (lo + np.argmax(ac[lo:hi])))
    return float(np.median(f0))


def test_emotions_differ_in_prosody(tiny_corpus):
    def clip(code, actor):
        audio, sr = sf.read(tiny_corpus / demo.clip_name(actor=actor, emotion=code, index=0))
        return audio, sr

    for actor in (1, 2):
        angry, sr = clip("05", actor)
        sad, _ = clip("04", actor)
        assert np.sqrt(np.mean(angry**2)) > 2 * np.sqrt(np.mean(sad**2))
        assert _median_f0(angry, sr) > 1.2 * _median_f0(sad, sr)
    # Speakers differ too: the even (female-range) actor speaks higher.
    assert _median_f0(clip("01", 2)[0], 16000) > 1.4 * _median_f0(clip("01", 1)[0], 16000)


def test_clip_names_vary_statement_repetition_intensity():
    names = [demo.clip_name(actor=3, emotion="05", index=i) for i in range(8)]
    assert len(set(names)) == 8
    assert names[0] == "Actor_03/03-01-05-01-01-01-03.wav"
    assert names[7] == "Actor_03/03-01-05-02-02-02-03.wav"


def test_write_clips_writes_what_it_counts(tmp_path):
    n = demo.write_clips(tmp_path, n_speakers=1, clips_per_emotion=1, seed=5)
    assert n == len(demo.EMOTION_CODES) == len(list(tmp_path.rglob("*.wav")))
    audio, sr = sf.read(tmp_path / demo.clip_name(actor=1, emotion="05", index=0), dtype="float32")
    expected = demo.synthesize_clip(actor=1, emotion="05", index=0, seed=5)
    np.testing.assert_array_equal(audio, np.round(expected * 32767.0) / 32768.0)
    assert sr == 16000


def test_synthesis_imports_no_corpus_module_and_scanning_no_scipy():
    """The synthesis sits below the corpora (no import cycle); scipy loads only to generate."""
    code = (
        "import sys, ser_tf.data.demo\n"
        "assert 'ser_tf.data.corpora' not in sys.modules, 'synthesis imported the corpora'\n"
        "import ser_tf.data.corpora\n"
        "assert 'scipy.signal' not in sys.modules, 'importing the corpora loaded scipy'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
