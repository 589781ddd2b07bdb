"""ser_tf.runs: the run-folder layout, new run folders, the latest pointer and ``--model`` resolution.

These tests need no TensorFlow: resolution only looks at which files exist, so empty files stand
in for models. The first test is the layout's specification: the only place the artefact names are
spelled out in the tests.
"""

import datetime as dt
import json

import pytest

from ser_tf import runs
from ser_tf.errors import ModelError, ParameterError

NOW = dt.datetime(2026, 11, 21, 0, 30, 0)


def _fake_run(path, *models):
    """A run folder holding empty stand-ins for ``models`` (default: model.keras and model.h5)."""
    run = runs.RunFolder(path)
    run.path.mkdir(parents=True, exist_ok=True)
    for model in models or run.model_files:
        model.write_bytes(b"")
    return run


def test_the_layout_is_as_documented(tmp_path):
    run = runs.RunFolder(tmp_path / "cnn_lstm-20261121-003000")
    names = {
        "config.yaml": run.config, "labels.json": run.labels, "model.keras": run.model_keras,
        "model.h5": run.model_h5, "training_history.csv": run.history_csv, "logs": run.logs,
        "backup": run.backup, "selection.json": run.selection, "export.json": run.export,
        "report": run.report.path, "report/metrics.json": run.report.metrics,
        "report/report.md": run.report.markdown,
        "fold-2": run.fold(2).path, "fold-2/model.keras": run.fold(2).model_keras,
        "loso-tess-OAF": run.fold("loso-tess-OAF").path,
    }
    for name, path in names.items():
        assert path == run.path / name, name
    assert run.model_files == (run.model_keras, run.model_h5)  # the order inference prefers
    assert runs.fold_name(3) == "fold-3"
    assert runs.ReportFolder(tmp_path / "eval").metrics == tmp_path / "eval" / "metrics.json"


@pytest.mark.parametrize("bad", [0, -1, True, 1.0, "", "..", "a/b"])
def test_bad_fold_names_are_refused_and_repeated(bad, tmp_path):
    with pytest.raises(ParameterError, match="got"):
        runs.RunFolder(tmp_path).fold(bad)


def test_folds_lists_the_existing_fold_folders(tmp_path):
    run = runs.RunFolder(tmp_path)
    for name in ("fold-2", "fold-1", "report"):
        (tmp_path / name).mkdir()
    (tmp_path / "fold-3").write_text("not a folder")
    assert run.folds() == [run.fold(1), run.fold(2)]


def test_models_dir_is_the_variable_else_models_in_the_current_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(runs.MODELS_ENV, raising=False)
    assert runs.models_dir() == runs.DEFAULT_MODELS_DIR
    monkeypatch.setenv(runs.MODELS_ENV, str(tmp_path / "elsewhere"))
    assert runs.models_dir() == tmp_path / "elsewhere"
    monkeypatch.setenv(runs.MODELS_ENV, "")  # set but empty counts as unset
    assert runs.models_dir() == runs.DEFAULT_MODELS_DIR


def test_training_and_inference_agree_on_the_models_dir(monkeypatch, tmp_path):
    # The run train.py starts and the run audio_test.py / evaluate.py find with no --model.
    monkeypatch.setenv(runs.MODELS_ENV, str(tmp_path / "shared-models"))
    monkeypatch.chdir(tmp_path)
    run = runs.new_run_folder("cnn_lstm", now=NOW)
    assert run.path.parent == tmp_path / "shared-models"
    _fake_run(run.path)
    runs.point_latest(run)
    assert runs.resolve_model_path() == run.model_keras
    assert not (tmp_path / "models").exists()

    monkeypatch.delenv(runs.MODELS_ENV)
    run = runs.new_run_folder("cnn_lstm", now=NOW)
    assert run.path == runs.DEFAULT_MODELS_DIR / "cnn_lstm-20261121-003000"
    _fake_run(run.path)
    runs.point_latest(run)
    assert runs.resolve_model_path().resolve() == (tmp_path / run.model_keras).resolve()


def test_new_run_folder_is_named_by_arch_and_time_and_suffixed_if_taken(tmp_path):
    first = runs.new_run_folder("tdnn_stats", models=tmp_path, now=NOW)
    second = runs.new_run_folder("tdnn_stats", models=tmp_path, now=NOW)
    third = runs.new_run_folder("tdnn_stats", models=tmp_path, now=NOW)
    assert [r.path.name for r in (first, second, third)] == [
        "tdnn_stats-20261121-003000", "tdnn_stats-20261121-003000-2", "tdnn_stats-20261121-003000-3"]
    assert all(r.path.is_dir() for r in (first, second, third))
    with pytest.raises(ParameterError, match="'a/b'"):
        runs.new_run_folder("a/b", models=tmp_path)


def test_latest_pointer_round_trip(tmp_path):
    assert runs.latest_run(tmp_path) is None
    run = runs.new_run_folder("cnn_gru", models=tmp_path, now=NOW)
    pointer = runs.point_latest(run)
    assert pointer == tmp_path / runs.LATEST
    assert pointer.read_text() == run.path.name + "\n"
    assert runs.latest_run(tmp_path) == run
    pointer.write_text("cnn_gru-gone\n")  # a pointer to a deleted run names nothing
    assert runs.latest_run(tmp_path) is None
    pointer.unlink()
    pointer.symlink_to(run.path)  # a symlinked pointer works too
    assert runs.latest_run(tmp_path).path == run.path.resolve()


def test_resolve_every_model_form(tmp_path):
    run = _fake_run(tmp_path / "run")
    assert runs.resolve_model_path(run.path) == run.model_keras
    assert runs.resolve_model_path(str(run.path)) == run.model_keras
    assert runs.resolve_model_path(run.model_h5) == run.model_h5
    h5_only = _fake_run(tmp_path / "h5-only", runs.RunFolder(tmp_path / "h5-only").model_h5)
    assert runs.resolve_model_path(h5_only.path) == h5_only.model_h5
    fold = _fake_run(tmp_path / "kfold").fold(2)
    _fake_run(fold.path)
    assert runs.resolve_model_path(fold.path) == fold.model_keras
    runs.point_latest(run)
    assert runs.resolve_model_path(models=tmp_path) == run.model_keras


def test_model_resolution_errors_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.MODELS_ENV, str(tmp_path))
    with pytest.raises(runs.NoModelError, match="(?s)latest does not name a run folder.*python train.py --arch cnn_lstm"):
        runs.resolve_model_path()
    (tmp_path / runs.LATEST).write_text("cnn_lstm-gone\n")  # the run it named was deleted
    with pytest.raises(runs.NoModelError, match="cnn_lstm"):
        runs.resolve_model_path()
    with pytest.raises(ModelError, match="nope.keras: model not found"):
        runs.resolve_model_path(tmp_path / "nope.keras")
    (tmp_path / "weights.pt").write_bytes(b"x")
    with pytest.raises(ModelError, match="weights.pt: expected a .keras or .h5"):
        runs.resolve_model_path(tmp_path / "weights.pt")
    kfold = runs.RunFolder(tmp_path / "kfold")
    kfold.fold(1).path.mkdir(parents=True)
    kfold.fold(2).path.mkdir()
    with pytest.raises(ModelError, match=r"k-fold run with one model per fold \(fold-1, fold-2\); "
                                         r"pass one of them, e.g. --model .*kfold/fold-1"):
        runs.resolve_model_path(kfold.path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="empty: no model.keras or model.h5 here; is this a ser_tf run"):
        runs.resolve_model_path(tmp_path / "empty")


def test_write_labels(tmp_path):
    run = runs.RunFolder(tmp_path)
    path = runs.write_labels(run, classes=("happy", "sad"), label_set="custom", sample_rate=16000,
                             duration=3, arch="cnn_lstm")
    assert path == run.labels
    assert json.loads(path.read_text()) == {"classes": ["happy", "sad"], "label_set": "custom",
                                            "sample_rate": 16000, "duration": 3.0, "arch": "cnn_lstm"}


def test_write_labels_records_demo_data_and_corpora(tmp_path):
    run = runs.RunFolder(tmp_path)
    runs.write_labels(run, classes=("happy", "sad"), label_set="custom", sample_rate=16000,
                      duration=3, arch="cnn_lstm", demo_data=False, corpora=["ravdess", "tess"])
    labels = json.loads(run.labels.read_text())
    assert labels["demo_data"] is False and labels["corpora"] == ["ravdess", "tess"]
    assert runs.is_demo_run(tmp_path) is False


@pytest.mark.parametrize("corpora, demo", [
    ("[]", True), ("['demo=/tmp/demo']", True), ("['ravdess=/data/ravdess']", False),
])
def test_is_demo_run_falls_back_to_config_yaml_for_older_runs(tmp_path, corpora, demo):
    run = runs.RunFolder(tmp_path)
    runs.write_labels(run, classes=("happy", "sad"), label_set="custom", sample_rate=16000,
                      duration=3, arch="cnn_lstm")  # as written before "demo_data" existed
    assert runs.is_demo_run(tmp_path) is False  # neither file says: not flagged
    run.config.write_text(f"seed: 1\ndata:\n  corpora: {corpora}\n")
    assert runs.is_demo_run(tmp_path) is demo
    labels = json.loads(run.labels.read_text())
    run.labels.write_text(json.dumps({**labels, "demo_data": not demo}))
    assert runs.is_demo_run(tmp_path) is (not demo)  # labels.json wins when it says
