"""``audio_test.py`` run as a user runs it: a subprocess, checked on stdout, stderr, exit status and
the files it writes. The microphone tests capture from a real PortAudio/ALSA device that plays a
file (see ``tests/inference/support.py``)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser_tf.runs import MODELS_ENV, latest_run
from tests.inference import support

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "audio_test.py"
SR = support.SR
needs_portaudio = pytest.mark.skipif(support.portaudio_missing(), reason=support.PORTAUDIO_SKIP)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("audio")
    sf.write(d / "neutral.wav", support.voice("neutral", 1.0, seed=1), SR)
    x = support.voice("sad", 1.0, seed=2)
    x44 = np.interp(np.arange(44100) / 44100, np.arange(SR) / SR, x).astype(np.float32)
    sf.write(d / "sad44.flac", np.stack([x44, x44], axis=1), 44100)  # other rate, stereo, FLAC
    long = np.concatenate([support.voice("neutral", 2.0, seed=3), support.voice("happy", 2.0, seed=4)])
    sf.write(d / "long.wav", long, SR)
    sf.write(d / "zeros.wav", np.zeros(SR, np.float32), SR)
    sf.write(d / "short.wav", support.voice("happy", 0.2), SR)
    (d / "notes.wav").write_text("not audio")
    (d / "readme.txt").write_text("ignored by --dir")
    (d / "sub").mkdir()
    sf.write(d / "sub" / "happy.wav", support.voice("happy", 1.0, seed=5), SR)
    return d


def run(args, *, cwd, models_dir=None, env=None, timeout=240):
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    if models_dir is not None:
        full_env[MODELS_ENV] = str(models_dir)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def assert_clean_failure(proc, code, message):
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- without TensorFlow


def test_help_is_instant_and_loads_no_tensorflow(tmp_path):
    proc = run(["-X", "importtime", str(SCRIPT), "--help"], cwd=tmp_path)
    assert proc.returncode == 0
    assert "--record-duration" in proc.stdout and "exit status" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & {"tensorflow", "keras", "librosa", "sklearn", "matplotlib"}


def test_a_fresh_clone_predicts_with_the_default_model(tmp_path, audio_dir):
    """No models/ folder, an empty home and cache: the bundled model is assembled, cached and used."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in (MODELS_ENV, "SER_TF_CACHE")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "xdg-cache"))
    args = [sys.executable, str(SCRIPT), "--file", str(audio_dir / "neutral.wav"), "--json"]
    for attempt in ("assembles", "reuses"):
        proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        document = json.loads(proc.stdout)
        (result,) = document["results"]
        assert result["status"] == "ok" and result["label"] in document["classes"], attempt
        assert len(document["classes"]) == 8 and 0.0 < result["confidence"] <= 1.0
        assert "/xdg-cache/ser_tf/pretrained/default-" in document["model"]
    assert not (tmp_path / "models").exists()
    proc = subprocess.run(args[:-1], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "no model trained on real speech" in proc.stderr and "using the default model" in proc.stderr


def test_usage_errors_exit_2(tmp_path, models_dir):
    proc = run([str(SCRIPT)], cwd=tmp_path, models_dir=models_dir)
    assert_clean_failure(proc, 2, "give one of --file, --dir, --record-duration, --stream")
    proc = run([str(SCRIPT), "--dir", ".", "--plot", "a.png"], cwd=tmp_path, models_dir=models_dir)
    assert_clean_failure(proc, 2, "--plot draws one recording")
    proc = run([str(SCRIPT), "--file", "a.wav", "--labels", "happy"], cwd=tmp_path, models_dir=models_dir)
    assert_clean_failure(proc, 2, "--labels must list at least two")


def test_corrupt_model_is_a_clean_error(tmp_path, audio_dir):
    (tmp_path / "broken.keras").write_bytes(b"\x00" * 100)
    proc = run([str(SCRIPT), "--model", "broken.keras", "--file", str(audio_dir / "neutral.wav")], cwd=tmp_path)
    assert_clean_failure(proc, 2, "broken.keras: not a Keras .keras archive")


# ---------------------------------------------------------------- files and folders


def test_files_json_reports_each_file_and_goes_on(tmp_path, models_dir, audio_dir):
    names = ["neutral.wav", "missing.wav", "sad44.flac", "zeros.wav", "long.wav", "short.wav", "notes.wav"]
    proc = run([str(SCRIPT), "--json", "--file", *[str(audio_dir / n) for n in names]],
               cwd=tmp_path, models_dir=models_dir)
    assert proc.returncode == 1, proc.stderr  # some files failed, the others were classified
    doc = json.loads(proc.stdout)  # stdout is exactly one JSON document
    assert doc["classes"] == list(support.CLASSES) and doc["failed"] == 4
    by_name = {Path(r["source"]).name: r for r in doc["results"]}
    assert [Path(r["source"]).name for r in doc["results"]] == names  # order kept, none lost
    assert by_name["neutral.wav"]["label"] == "neutral" and by_name["sad44.flac"]["label"] == "sad"
    assert by_name["missing.wav"]["error"] == "file not found"
    assert "digital silence" in by_name["zeros.wav"]["error"]
    assert "too short to classify: 0.20 s" in by_name["short.wav"]["error"]
    assert "cannot decode" in by_name["notes.wav"]["error"]
    long = by_name["long.wav"]
    assert [w["label"] for w in long["timeline"]] == ["neutral", "neutral", "happy", "happy"]
    assert "voiced windows" in long["overall_basis"]
    assert "4 of 7 files could not be classified" in proc.stderr and "Traceback" not in proc.stderr


def test_dir_writes_the_csv_in_the_current_directory(tmp_path, models_dir, audio_dir):
    proc = run([str(SCRIPT), "--dir", str(audio_dir)], cwd=tmp_path, models_dir=models_dir)
    assert proc.returncode == 1  # zeros.wav, short.wav and notes.wav cannot be classified
    with open(tmp_path / "predictions.csv", newline="") as f:
        rows = {Path(r["path"]).name: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["long.wav", "neutral.wav", "notes.wav", "sad44.flac", "short.wav", "zeros.wav"]
    assert rows["neutral.wav"]["label"] == "neutral" and float(rows["neutral.wav"]["neutral"]) > 0.5
    assert rows["zeros.wav"]["label"] == "" and "digital silence" in rows["zeros.wav"]["error"]
    lines = [line.split("\t") for line in proc.stdout.splitlines()]
    assert [Path(p).name for p, _, _ in lines] == ["long.wav", "neutral.wav", "sad44.flac"]
    assert "sub" not in proc.stdout  # not recursive by default


def test_single_file_text_output_and_plot(tmp_path, models_dir, audio_dir):
    proc = run([str(SCRIPT), "--file", str(audio_dir / "sub" / "happy.wav"), "--top-k", "2",
                "--plot", "fig.png"], cwd=tmp_path, models_dir=models_dir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{audio_dir / 'sub' / 'happy.wav'} (1.00 s): happy (")
    assert len(lines) == 3 and lines[1].split()[0] == "happy" and "█" in lines[1]
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------- microphone


def _mic_env(tmp_path, audio):
    return {"XDG_CONFIG_HOME": str(support.fake_microphone(tmp_path / "xdg", audio))}


@needs_portaudio
def test_list_devices_and_bad_device_id(tmp_path, models_dir):
    env = _mic_env(tmp_path, support.voice("happy", 1.0))
    proc = run([str(SCRIPT), "--list-devices"], cwd=tmp_path, env=env)
    assert proc.returncode == 0
    assert "ser_tf_test_mic" in proc.stdout and "default" in proc.stdout
    proc = run([str(SCRIPT), "--record-duration", "1", "--device", "99"], cwd=tmp_path,
               models_dir=models_dir, env=env)
    assert_clean_failure(proc, 2, "input device 99 does not exist")


@needs_portaudio
def test_no_input_device_is_a_clean_error(tmp_path, models_dir):
    env = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}  # no asoundrc: no fake device
    if "no audio input devices" not in run([str(SCRIPT), "--list-devices"], cwd=tmp_path, env=env).stderr:
        pytest.skip("this machine has a real sound card")
    proc = run([str(SCRIPT), "--stream"], cwd=tmp_path, models_dir=models_dir, env=env)
    assert_clean_failure(proc, 2, "no audio input device found")


@needs_portaudio
def test_record_classifies_the_captured_audio(tmp_path, models_dir):
    from ser_tf.inference.predictor import Predictor

    audio = support.voice("happy", 3.0, seed=21)
    proc = run([str(SCRIPT), "--record-duration", "2", "--json"], cwd=tmp_path, models_dir=models_dir,
               env=_mic_env(tmp_path, audio))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    assert result["source"] == "microphone" and result["label"] == "happy"
    assert result["duration"] == 2.0 and len(result["timeline"]) == 2
    # the probabilities are those of the first 2 s the device played, as 16-bit samples
    expected = Predictor(latest_run(models_dir).path)
    expected = expected.predict_waveform(support.pcm16(audio[: 2 * SR]))
    np.testing.assert_allclose([result["probabilities"][c] for c in support.CLASSES],
                               [expected.probabilities[c] for c in support.CLASSES], atol=1e-4)


@needs_portaudio
def test_stream_prints_live_labels_and_the_real_time_factor(tmp_path, models_dir):
    audio = support.voice("neutral", 4.0, seed=22)
    proc = run([str(SCRIPT), "--stream", "--stream-seconds", "3", "--hop", "0.5"], cwd=tmp_path,
               models_dir=models_dir, env=_mic_env(tmp_path, audio))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and all("s]" in line for line in lines)
    assert "neutral" in lines[-1] and lines[-1].startswith("[    3.0 s]")
    assert "streamed 3.0 s" in proc.stderr and "real-time factor" in proc.stderr
