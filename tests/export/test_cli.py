"""``python -m ser_tf.export``, then ``audio_test.py --model x.tflite`` and ``evaluate.py`` on the
export, run as a user runs them: subprocesses, checked on their output and exit status."""

import json
import os
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from tests.inference import support

ROOT = Path(__file__).resolve().parents[2]


def run(args, *, cwd, timeout=240):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_conflicting_flags_are_refused_before_tensorflow(tmp_path):
    proc = run(["-m", "ser_tf.export", "--format", "savedmodel", "--quantize", "int8", "--out", "x"], cwd=tmp_path)
    assert proc.returncode == 2 and "--quantize applies to --format tflite" in proc.stderr
    proc = run(["-m", "ser_tf.export", "--format", "tflite", "--calibration-data", "demo", "--out", "x.tflite"],
               cwd=tmp_path)
    assert proc.returncode == 2 and "--calibration-data applies to --quantize int8" in proc.stderr


def test_export_then_audio_test_and_evaluate_on_the_tflite_file(export_run, tmp_path):
    long = support.voice("neutral", 2.0, seed=3).tolist() + support.voice("happy", 2.0, seed=4).tolist()
    sf.write(tmp_path / "long.wav", long, support.SR)
    sf.write(tmp_path / "sad.wav", support.voice("sad", 1.0, seed=2), support.SR)
    out = tmp_path / "exports" / "ser.tflite"
    proc = run(["-m", "ser_tf.export", "--model", str(export_run), "--format", "tflite", "--out", str(out)],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"tflite (none): {out}" in proc.stdout and "3 classes: neutral, happy, sad" in proc.stdout

    # The same windowing, voice-activity gate and JSON as with the Keras model it came from.
    proc = run([str(ROOT / "audio_test.py"), "--model", str(out), "--file", "sad.wav", "long.wav", "--json"],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "XNNPACK" not in proc.stderr  # LiteRT's start-up notice is filtered like TensorFlow's
    lite = json.loads(proc.stdout)
    assert lite["classes"] == list(support.CLASSES) and lite["window"] == 1.0
    from ser_tf.inference.predictor import Predictor

    keras_predictor = Predictor(export_run)
    for result, name in zip(lite["results"], ["sad.wav", "long.wav"]):
        prediction, timeline = keras_predictor.predict_path(tmp_path / name)
        assert result["label"] == prediction.label
        assert all(abs(result["probabilities"][c] - prediction.probabilities[c]) <= 1e-5 for c in support.CLASSES)
    assert [w["label"] for w in lite["results"][1]["timeline"]] == [w.label for w in timeline.timeline]

    proc = run([str(ROOT / "evaluate.py"), "--model", str(out), "--data", "demo", "--out", "report"], cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{out}: a TFLite export" in proc.stderr and "audio_test.py --model" in proc.stderr
    assert "Traceback" not in proc.stderr
