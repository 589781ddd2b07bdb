"""The Python API (``ser_tf.load_model`` -> ``EmotionModel``, ``ser_tf/inference/model.py``).

Each call of the README's example is exercised on the tiny trained run, whose three synthetic
voices it must tell apart, and on the bundled default model.
"""

import json
import warnings

import numpy as np
import pytest
import soundfile as sf

import ser_tf
from ser_tf.errors import AudioError, ParameterError
from tests.inference import support

SR = support.SR


@pytest.fixture(scope="module")
def model(run_dir):
    return ser_tf.load_model(run_dir, top_k=2)


def test_public_names_are_importable_from_the_package():
    for name in ser_tf.__all__:
        assert getattr(ser_tf, name) is not None, name
    assert ser_tf.EmotionModel.__module__ == "ser_tf.inference.model"
    assert issubclass(ser_tf.AudioError, ser_tf.SerError) and issubclass(ser_tf.ModelError, ser_tf.SerError)
    assert issubclass(ser_tf.ParameterError, ValueError)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ser_tf.nope  # noqa: B018


def test_what_the_model_is(model, run_dir):
    assert model.classes == list(support.CLASSES) and model.sample_rate == SR and model.window == 1.0
    assert model.path.parent == run_dir and model.choice.source == "given" and not model.denoise
    assert tuple(model.keras_model.outputs[0].shape) == (None, 3)
    assert "EmotionModel(" in repr(model)


def test_predict_file_and_to_dict_match_the_cli_json(model, tmp_path):
    path = tmp_path / "happy.wav"
    sf.write(path, support.voice("happy", 1.0, seed=11), SR)
    result = model.predict_file(path)
    assert isinstance(result, ser_tf.Prediction)
    assert result.label == "happy" and 0.5 < result.confidence <= 1.0 and len(result.top_k) == 2
    d = result.to_dict()
    assert d["source"] == str(path) and d["status"] == "ok" and d["label"] == "happy"
    assert set(d) == {"source", "status", "label", "confidence", "probabilities", "top_k", "duration"}
    assert json.loads(json.dumps(d)) == d


def test_predict_any_rate_and_channel_count(model):
    x = support.voice("sad", 1.0, seed=12)
    x44 = np.interp(np.arange(44100) / 44100, np.arange(SR) / SR, x).astype(np.float32)
    stereo = np.stack([x44, x44], axis=1)
    assert model.predict(stereo, sample_rate=44100).label == "sad"
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)  # integer PCM is scaled to [-1, 1]
    assert model.predict(pcm, sample_rate=SR).label == "sad"
    with pytest.raises(ParameterError, match="sample_rate must be a positive integer.*-5"):
        model.predict(x, sample_rate=-5)
    with pytest.raises(ParameterError, match=r"shape \(2, 2, 2\)"):
        model.predict(np.zeros((2, 2, 2)))
    with pytest.raises(AudioError, match="too short"):
        model.predict(x[:1000])


def test_predict_long_gives_a_timeline_from_a_file_or_an_array(model, tmp_path):
    x = np.concatenate([support.voice("neutral", 3.0, seed=13), support.voice("happy", 3.0, seed=14)])
    path = tmp_path / "long.wav"
    sf.write(path, x, SR)
    for timeline in (model.predict_long(path, window=1, hop=0.5), model.predict_long(x, window=1, hop=0.5)):
        assert isinstance(timeline, ser_tf.LongPrediction)
        labels = [w.label for w in timeline.timeline if w.voiced]
        assert labels[0] == "neutral" and labels[-1] == "happy"
        assert timeline.to_dict()["timeline"][0]["start"] == 0.0
    with pytest.raises(ParameterError, match="a file carries its own rate"):
        model.predict_long(path, sample_rate=8000)


def test_stream_yields_smoothed_updates(model):
    x = np.concatenate([support.voice("sad", 3.0, seed=15), support.voice("neutral", 3.0, seed=16)])
    chunks = (x[i:i + 1600] for i in range(0, len(x), 1600))  # 0.1 s chunks, as a microphone gives
    updates = list(model.stream(chunks, sample_rate=SR, hop=0.5, alpha=0.6))
    assert all(isinstance(u, ser_tf.StreamUpdate) for u in updates)
    voiced = [u for u in updates if u.label != "silence"]
    assert voiced[0].label == "sad" and voiced[-1].label == "neutral"
    assert set(updates[-1].to_dict()) >= {"start", "end", "label", "confidence", "raw_label"}
    with pytest.raises(ParameterError, match="alpha must be in"):
        model.stream(chunks, alpha=0)


def test_a_demo_model_warns(tmp_path):
    from tests.inference.test_choice import _mark_demo

    demo = support.make_run_folder(tmp_path, name="demo-20250101-000000")
    _mark_demo(demo, True)
    with pytest.warns(ser_tf.DemoModelWarning, match="synthetic DEMO corpus"):
        ser_tf.load_model(demo)


def test_the_default_model_predicts_eight_emotions(default_model_file, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ser_tf.DemoModelWarning)
        model = ser_tf.load_model("default")
    assert model.path == default_model_file and model.choice.source == "default"
    assert model.classes == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert model.window == 3.0
    result = model.predict(support.voice("neutral", 2.0, seed=17), sample_rate=SR)
    assert result.label in model.classes and abs(sum(result.probabilities.values()) - 1) < 1e-4


def test_denoise_runs_before_the_model(run_dir, model):
    noisy = support.voice("happy", 1.0, seed=18) + 0.05 * np.random.default_rng(3).standard_normal(SR).astype(np.float32)
    cleaned = ser_tf.load_model(run_dir, denoise=True)
    assert cleaned.denoise and "denoise" in repr(cleaned)
    plain, denoised = model.predict(noisy, sample_rate=SR), cleaned.predict(noisy, sample_rate=SR)
    assert plain.probabilities != denoised.probabilities  # the model saw other audio
    assert cleaned.predict(support.voice("sad", 1.0, seed=19), sample_rate=SR).label == "sad"


def test_the_runnable_example_runs(run_dir, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "python_api.py"
    clip = tmp_path / "clip.wav"
    sf.write(clip, support.voice("happy", 2.5, seed=20), SR)
    proc = subprocess.run([sys.executable, str(script), str(clip), "--model", str(run_dir)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{clip}: happy" in proc.stdout and "from memory: happy" in proc.stdout and "live" in proc.stdout
