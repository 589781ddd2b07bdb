"""train.py's config resolution (ser_tf.training.cli): recipe, flags, --set, --resume, and the
folder corpus's --speaker-pattern reaching the scanner, checked down to a speaker split without
training anything."""

import warnings

import numpy as np
import pytest
import soundfile as sf

from ser_tf.data.splits import splits_from_config
from ser_tf.errors import ConfigError
from ser_tf.settings import SerConfig
from ser_tf.training.cli import build_parser, resolve_config
from ser_tf.training.runner import load_bundle
from tests.data.support import write_conflict_corpus


def _resolve(*argv):
    parser = build_parser()
    return resolve_config(parser.parse_args(list(argv)), parser)


@pytest.fixture(scope="module")
def folder_corpus(tmp_path_factory):
    """<root>/<emotion>/SP<k>_<n>.wav: 6 speakers x 3 emotions x 2 clips of 0.1 s."""
    root = tmp_path_factory.mktemp("folder_corpus")
    rng = np.random.default_rng(0)
    for emotion in ("angry", "happy", "sad"):
        (root / emotion).mkdir()
        for speaker in range(6):
            for n in range(2):
                clip = (0.1 * rng.standard_normal(1600)).astype(np.float32)
                sf.write(str(root / emotion / f"SP{speaker}_{n}.wav"), clip, 16000, subtype="PCM_16")
    return root


def test_recipe_then_flags_then_set():
    config = _resolve("--arch", "cnn", "--epochs", "3", "--seed", "5", "--set", "train.epochs=4",
                      "--set", "model.dense_units=16")
    assert isinstance(config, SerConfig) and config.arch == "cnn"
    assert config.train.epochs == 4 and config.seed == 5  # --set wins over the flag
    assert config.features.n_mels == 128 and config.model["dense_units"] == 16  # recipe, then --set


def test_demo_corpus_caps_the_epochs_unless_asked():
    assert _resolve().train.epochs == SerConfig().demo.epochs
    assert _resolve("--epochs", "40").train.epochs == 40
    assert _resolve("--set", "train.epochs=40").train.epochs == 40


def test_set_goes_through_the_config_checks():
    with pytest.raises(ConfigError, match=r"'train.epoch'.*'epochs'"):
        _resolve("--set", "train.epoch=3")
    with pytest.raises(ConfigError, match=r"train.epochs must be an integer, got 'ten'"):
        _resolve("--set", "train.epochs=ten")


def test_resume_reads_the_run_config_back(tmp_path):
    config = _resolve("--arch", "tdnn_stats", "--set", "data.only_folds=[2]")
    (tmp_path / "config.yaml").write_text(config.dump() + "resolved: {python: '3.11'}\n")
    assert _resolve("--resume", str(tmp_path)) == config


def test_help_shows_each_default_once(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: [])" not in text
    assert "(default: cnn_lstm)" in text and "--speaker-pattern REGEX" in text


def test_speaker_pattern_without_a_folder_corpus_is_refused(capsys):
    with pytest.raises(SystemExit):
        _resolve("--speaker-pattern", "(?P<speaker>x)")
    assert "--speaker-pattern applies to a folder=PATH corpus" in capsys.readouterr().err


def test_speaker_pattern_reaches_the_folder_scanner_and_gives_a_speaker_split(folder_corpus):
    config = _resolve("--data", f"folder={folder_corpus}", "--speaker-pattern", r"^(?P<speaker>SP\d)_")
    assert config.data.scan_options == {"folder": {"speaker_pattern": r"^(?P<speaker>SP\d)_"}}
    bundle = load_bundle(config, require_all=True)
    assert {r.speaker for r in bundle.records} == {f"folder:SP{k}" for k in range(6)}
    (split,) = splits_from_config(bundle.records, data=config.data, seed=config.seed)
    assert split.method == "speaker" and split.speaker_independent
    speakers = [{r.speaker for r in getattr(split, part)} for part in ("train", "val", "test")]
    assert all(speakers) and not (speakers[0] & speakers[2]) and not (speakers[1] & speakers[2])


def test_wandb_flag_sets_the_project_and_conflicting_flags_are_refused(tmp_path, capsys):
    assert _resolve("--wandb", "ser-tf").train.tracking.wandb_project == "ser-tf"
    assert _resolve().train.tracking.wandb_project is None and _resolve().train.tracking.tensorboard
    for extra in (["--resume", str(tmp_path)], ["--pretrain"]):
        with pytest.raises(SystemExit):
            _resolve("--wandb", "ser-tf", *extra)
    assert "--wandb cannot be combined with --resume" in capsys.readouterr().err


def test_wandb_without_the_package_fails_before_training(tmp_path, monkeypatch, capsys):
    import sys

    from ser_tf.training.cli import main

    # wandb may be installed here; a None entry in sys.modules is how Python spells "not importable".
    monkeypatch.setitem(sys.modules, "wandb", None)
    out = tmp_path / "run"
    assert main(["--wandb", "ser-tf", "--out", str(out), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install -r requirements-extras.txt" in err and "Traceback" not in err
    assert not out.exists()  # nothing was read, built or trained


def test_label_conflicts_reach_the_config_the_data_and_the_run_report(tmp_path, capsys):
    import yaml

    from ser_tf.evaluation.protocol import _protocol_lines
    from ser_tf.training import runner, runtime
    from ser_tf.training.cli import main

    paths = write_conflict_corpus(tmp_path / "byclass")
    data = ["--data", f"folder={tmp_path / 'byclass'}", "--speaker-pattern", r"^(?P<speaker>SP\d)_"]
    assert _resolve(*data, "--on-label-conflict", "keep-first").data.on_label_conflict == "keep-first"
    assert _resolve(*data, "--set", "data.on_label_conflict=error").data.on_label_conflict == "error"
    config = _resolve(*data)  # the default: drop every copy
    assert config.data.on_label_conflict == "drop"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warnings' own text is tested in tests/data
        bundle = load_bundle(config)
    assert len(bundle.records) == 24 and bundle.dropped["label-conflict"] == 2
    splits = splits_from_config(bundle.records, data=config.data, seed=config.seed)
    # The run's report (report.md's protocol) and its config.yaml, as run_training writes them.
    report = "\n".join(_protocol_lines(runner._protocol(splits[0], bundle, config), bundle.classes))
    assert (f"- **Label conflicts** (identical audio, different labels): 1 set(s) of identical clips "
            f"(2 files), all dropped: `{paths['disgust']}` (disgust) = `{paths['fearful']}` (fearful)") in report
    (tmp_path / "run").mkdir()
    runner._write_run_config(tmp_path / "run", config, bundle, splits, runtime.resolve_runtime(train=config.train))
    resolved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["resolved"]
    assert resolved["duplicates"] == [[paths["copy"], paths["original"], "content"]]
    assert resolved["label_conflicts"]["sets"][0]["clips"] == [
        {"path": paths["disgust"], "emotion": "disgust"}, {"path": paths["fearful"], "emotion": "fearful"}]
    assert resolved["dropped"]["label-conflict"] == 2

    out = tmp_path / "refused"
    assert main([*data, "--on-label-conflict", "error", "--out", str(out), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "error: 1 set(s) of identical clips carry different emotions" in err and "Traceback" not in err
