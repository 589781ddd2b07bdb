"""Reports: files written, required JSON keys, the protocol stated first, honest flags."""

import json

import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.evaluation.metrics import compute_metrics
from ser_tf.evaluation.report import (
    REQUIRED_KEYS,
    format_summary,
    write_cv_report,
    write_report,
)

CLASSES = ["neutral", "happy", "sad", "angry"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def speaker_protocol(**changes):
    protocol = {
        "method": "speaker",
        "speaker_independent": True,
        "splits": {
            "train": {"n_clips": 120, "n_speakers": 12,
                      "speakers": [f"demo:{i:02d}" for i in range(12)]},
            "val": {"n_clips": 20, "n_speakers": 2, "speakers": ["demo:12", "demo:13"]},
            "test": {"n_clips": 40, "n_speakers": 4,
                     "speakers": ["demo:14", "demo:15", "demo:16", "demo:17"]},
        },
        "label_set": "common4",
        "classes": CLASSES,
        "corpora": ["demo"],
        "seed": 42,
        "balance": "none",
    }
    protocol.update(changes)
    return protocol


@pytest.fixture
def evaluation(rng):
    y_true = np.repeat(np.arange(4), 10)
    logits = rng.normal(size=(40, 4)) + 2.0 * np.eye(4)[y_true]
    y_prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    speakers = np.tile(["demo:14", "demo:15", "demo:16", "demo:17"], 10)
    metrics = compute_metrics(y_true, y_prob, class_names=CLASSES, speakers=speakers)
    return y_true, y_prob, metrics


def test_write_report_files_keys_and_protocol_first(tmp_path, evaluation):
    y_true, y_prob, metrics = evaluation
    history = {"loss": [1.4, 1.1], "val_loss": [1.5, 1.3],
               "accuracy": [0.3, 0.5], "val_accuracy": [0.25, 0.4]}
    paths = write_report(tmp_path / "report", metrics=metrics, protocol=speaker_protocol(),
                         class_names=CLASSES, y_true=y_true, y_prob=y_prob, history=history)
    for key in ("metrics", "report", "confusion_matrix", "confusion_matrix_normalized",
                "roc_curves", "training_curves"):
        assert paths[key].is_file(), key
    for key in ("confusion_matrix", "confusion_matrix_normalized", "roc_curves", "training_curves"):
        data = paths[key].read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 5000

    saved = json.loads(paths["metrics"].read_text())
    assert set(REQUIRED_KEYS) <= set(saved)
    assert saved["ua"] == pytest.approx(metrics["ua"])
    assert saved["protocol"]["method"] == "speaker" and saved["protocol"]["is_demo"] is False

    md = paths["report"].read_text()
    assert md.index("## Protocol") < md.index("## Results")
    assert "speaker-independent hold-out" in md and "| test | 40 | 4 |" in md
    assert "`common4`" in md and "neutral, happy, sad, angry" in md
    assert "**balance:** none" in md  # unknown protocol keys are still shown
    assert f"| UA (unweighted average recall) | {metrics['ua']:.3f} |" in md
    assert "| demo:14 |" in md  # per-speaker table
    assert "](confusion_matrix_normalized.png)" in md and "](training_curves.png)" in md
    assert "Optimistic" not in md and "DEMO DATA" not in md
    assert not list((tmp_path / "report").glob(".*"))  # atomic writes leave no temp files


def test_random_split_and_demo_data_are_flagged(tmp_path, evaluation):
    _, _, metrics = evaluation
    protocol = speaker_protocol(method="random", speaker_independent=False)
    paths = write_report(tmp_path, metrics=metrics, protocol=protocol, class_names=CLASSES,
                         is_demo=True)
    md = paths["report"].read_text()
    assert "**DEMO DATA.**" in md.split("## Protocol")[0]  # banner before everything else
    assert "Optimistic: speakers overlap" in md
    assert "roc_curves" not in paths and "training_curves" not in paths
    assert json.loads(paths["metrics"].read_text())["is_demo"] is True


def test_listed_speaker_overlap_is_flagged_even_when_claimed_independent(tmp_path, evaluation):
    _, _, metrics = evaluation
    protocol = speaker_protocol()
    protocol["splits"]["test"]["speakers"] = ["demo:03", "demo:15"]
    md = write_report(tmp_path, metrics=metrics, protocol=protocol,
                      class_names=CLASSES)["report"].read_text()
    assert "Optimistic: speakers overlap" in md and "demo:03 (1)" in md
    assert "contradict" in md


def test_cross_corpus_protocol_is_reported(tmp_path, evaluation):
    _, _, metrics = evaluation
    protocol = speaker_protocol(method="cross_corpus", cross_corpus={
        "shared_classes": CLASSES, "model_only_classes": ["calm"],
        "data_only_classes": ["disgust", "surprised"], "n_clips_dropped": 9})
    md = write_report(tmp_path, metrics=metrics, protocol=protocol,
                      class_names=CLASSES)["report"].read_text()
    assert "model only" in md and "calm" in md
    assert "clips dropped: 9" in md and "disgust, surprised" in md


def test_protocol_must_state_method(tmp_path, evaluation):
    with pytest.raises(ParameterError, match="speaker_independent"):
        write_report(tmp_path, metrics=evaluation[2], protocol={"method": "speaker"},
                     class_names=CLASSES)


def test_write_cv_report(tmp_path, rng):
    folds = []
    for fold in range(3):
        y_true = np.repeat(np.arange(4), 5)
        y_prob = rng.dirichlet(np.ones(4), size=20) + 0.6 * np.eye(4)[y_true] * (fold + 1) / 3
        folds.append(compute_metrics(y_true, y_prob, class_names=CLASSES,
                                     speakers=[f"ravdess:{fold:02d}"] * 20))
    protocol = {"method": "kfold", "speaker_independent": True, "n_folds": 3,
                "label_set": "common4", "corpora": ["ravdess"]}
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    paths = write_cv_report(tmp_path, fold_metrics=folds, protocol=protocol, class_names=CLASSES,
                            fold_histories=[None, history, None])
    for key in ("confusion_matrix", "confusion_matrix_normalized", "fold_metrics",
                "training_curves_fold2"):
        assert paths[key].read_bytes()[:8] == PNG_SIGNATURE
    # Folds count from 1 everywhere: the second fold's curves are fold 2, as fold-2/ and per_fold.
    assert [k for k in paths if k.startswith("training_curves")] == ["training_curves_fold2"]
    assert paths["training_curves_fold2"].name == "training_curves_fold2.png"

    saved = json.loads(paths["metrics"].read_text())
    assert set(REQUIRED_KEYS) <= set(saved)
    uas = [f["ua"] for f in folds]
    assert saved["ua"] == pytest.approx(np.mean(uas))
    assert saved["ua_std"] == pytest.approx(np.std(uas, ddof=1))
    assert [row["ua"] for row in saved["per_fold"]] == pytest.approx(uas)
    assert np.sum(saved["confusion_matrix"]) == 60
    assert list(saved["per_speaker"]) == ["ravdess:00", "ravdess:01", "ravdess:02"]

    md = paths["report"].read_text()
    assert f"UA {np.mean(uas):.3f} ± {np.std(uas, ddof=1):.3f}" in md
    assert md.index("## Protocol") < md.index("## Results")
    assert "k-fold cross-validation" in md and "| 2 | 20 |" in md  # per-fold row
    assert [row["fold"] for row in saved["per_fold"]] == [1, 2, 3]
    assert "Training curves, fold 2" in md and "fold 0" not in md


def test_format_summary_single_and_cv(evaluation, rng):
    _, _, metrics = evaluation
    text = format_summary(metrics, speaker_protocol(is_demo=True))
    assert f"UA {metrics['ua']:.3f}" in text and f"WA {metrics['accuracy']:.3f}" in text
    assert "DEMO DATA" in text and "WARNING" not in text
    assert "test" in text and "Chance UA: 0.250" in text
    assert len(text.splitlines()) < 25

    random_text = format_summary(metrics, speaker_protocol(method="random",
                                                           speaker_independent=False))
    assert "optimistic" in random_text

    from ser_tf.evaluation.metrics import aggregate_folds
    agg = aggregate_folds([metrics, metrics])
    cv_text = format_summary(agg, {"method": "kfold", "speaker_independent": True})
    assert f"Over 2 folds (mean ± std): UA {agg['ua']:.3f} ± 0.000" in cv_text


def split_part(speakers, classes):
    return {"n_clips": sum(classes.values()), "n_speakers": len(speakers), "speakers": speakers,
            "classes": classes}


def test_reads_the_split_protocol_shape_and_exempts_by_design_validation(tmp_path, evaluation):
    # The shape of ser_tf.data.splits.Split.protocol(): parts at the top level, plus a warning.
    protocol = {
        "name": "loso-tess-OAF", "method": "loso", "seed": 42, "speaker_independent": True,
        "val_from_train_speakers": True, "warning": "only 2 speakers: validation clips ...",
        "train": split_part(["tess:YAF"], {"neutral": 80, "happy": 80, "sad": 80, "angry": 80}),
        "val": split_part(["tess:YAF"], {"neutral": 20, "happy": 20, "sad": 20, "angry": 20}),
        "test": split_part(["tess:OAF"], {"neutral": 10, "happy": 10, "sad": 10, "angry": 10}),
        "label_set": "common4", "corpora": ["tess"],
    }
    md = write_report(tmp_path, metrics=evaluation[2], protocol=protocol,
                      class_names=CLASSES)["report"].read_text()
    assert "| train | 320 | 1 |" in md and "| test | 40 | 1 |" in md
    assert "| happy | 80 | 20 | 10 |" in md  # clips per class and split
    assert "Split name: `loso-tess-OAF`" in md and "**Split warning:** only 2 speakers" in md
    assert "Optimistic" not in md  # val shares the training speaker by design; test is unseen
    assert "['tess:YAF']" not in md  # known keys are tabulated, not dumped as raw lists


def test_overlap_inside_a_fold_is_flagged(evaluation):
    fold_ok = {"train": split_part(["a:1", "a:2"], {"happy": 4}),
               "test": split_part(["a:3"], {"happy": 2})}
    fold_leak = {"train": split_part(["a:1", "a:3"], {"happy": 4}),
                 "test": split_part(["a:3"], {"happy": 2})}
    protocol = {"method": "kfold", "speaker_independent": True, "folds": [fold_ok, fold_leak]}
    assert "WARNING, optimistic" in format_summary(evaluation[2], protocol)
    protocol["folds"] = [fold_ok]
    assert "WARNING" not in format_summary(evaluation[2], protocol)


def test_a_run_without_test_speakers_gets_a_report_without_numbers(tmp_path):
    from ser_tf.data.splits import FINAL_MODEL_NOTE

    protocol = speaker_protocol(final_model=True, description=FINAL_MODEL_NOTE)
    protocol["splits"]["test"] = {"n_clips": 0, "n_speakers": 0, "speakers": []}
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    paths = write_report(tmp_path, metrics=None, protocol=protocol, class_names=CLASSES, history=history)
    saved = json.loads(paths["metrics"].read_text())
    assert saved["test"] is None and not {"accuracy", "ua", "macro_f1"} & set(saved)
    assert saved["note"] == FINAL_MODEL_NOTE and saved["protocol"]["final_model"] is True
    text = paths["report"].read_text()
    assert "No test speakers: a final model" in text and "UA (unweighted" not in text
    assert set(paths) == {"metrics", "report", "training_curves"}
    summary = format_summary(saved, saved["protocol"])
    assert "No test speakers: a final model" in summary and "UA" not in summary
