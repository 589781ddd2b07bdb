"""Which model is used (``ser_tf/inference/choice.py``): default, newest real run, never a DEMO run implicitly."""

import json
import os
import time

import pytest

from ser_tf import pretrained, runs
from ser_tf.inference.choice import choose_model, newest_real_run
from tests.inference import support


def _mark_demo(run_dir, demo: bool) -> None:
    labels = runs.RunFolder(run_dir).labels
    data = json.loads(labels.read_text())
    data["demo_data"] = demo
    labels.write_text(json.dumps(data))


def _age(run_dir, seconds_ago: float) -> None:
    for path in runs.RunFolder(run_dir).model_files:
        stamp = time.time() - seconds_ago
        os.utime(path, (stamp, stamp))


def test_default_by_name(default_model_file):
    choice = choose_model("default")
    assert choice.source == "default" and choice.path == default_model_file and not choice.demo
    assert pretrained.is_default_name(" Default ") and not pretrained.is_default_name("models/default")


def test_without_model_the_newest_real_run_wins(tmp_path):
    old = support.make_run_folder(tmp_path, name="cnn-20250101-000000", latest=False)
    new = support.make_run_folder(tmp_path, name="cnn-20250102-000000", latest=False)
    _age(old, 100)
    _age(new, 10)
    assert choose_model(None, models=tmp_path).path == runs.RunFolder(new).model_file()


def test_a_demo_run_is_never_picked_implicitly(tmp_path, default_model_file):
    real = support.make_run_folder(tmp_path, name="cnn-20250101-000000", latest=False)
    demo = support.make_run_folder(tmp_path, name="cnn-20250102-000000", latest=True)  # newest, latest
    _mark_demo(demo, True)
    _age(real, 100)
    choice = choose_model(None, models=tmp_path)
    assert choice.source == "run" and choice.path == runs.RunFolder(real).model_file()
    assert newest_real_run(tmp_path).path == real
    # With only the demo run left, the default model is used, and the note says why.
    runs.RunFolder(real).model_keras.unlink()
    runs.RunFolder(real).model_h5.unlink()
    said = []
    choice = choose_model(None, models=tmp_path, log=said.append)
    assert choice.source == "default" and choice.path == default_model_file
    assert "DEMO run" in choice.note and str(demo) in choice.note and said[0] == choice.note


def test_a_demo_run_named_explicitly_is_used_with_a_warning(tmp_path):
    demo = support.make_run_folder(tmp_path, name="cnn-20250102-000000")
    _mark_demo(demo, True)
    choice = choose_model(demo)
    assert choice.source == "given" and choice.demo and "synthetic DEMO corpus" in choice.warning
    _mark_demo(demo, False)
    assert choose_model(demo).warning is None


def test_an_empty_models_folder_falls_back_to_the_default(tmp_path, default_model_file):
    choice = choose_model(None, models=tmp_path / "nothing-here")
    assert choice.source == "default" and choice.path == default_model_file
    assert "no model trained on real speech" in choice.note


def test_evaluate_takes_the_latest_run_even_a_demo_one(tmp_path):
    demo = support.make_run_folder(tmp_path, name="cnn-20250102-000000", latest=True)
    _mark_demo(demo, True)
    choice = choose_model(None, models=tmp_path, latest_even_if_demo=True)
    assert choice.path == runs.RunFolder(demo).model_file() and choice.demo and choice.warning
