"""ser_tf.training.transfer: the frozen and partial recipes on cached encoder outputs, with a tiny
random Whisper (``whisper_test_tiny``) on a small generated corpus (0.5 s clips)."""

import json

import keras
import numpy as np
import pytest
import yaml

from ser_tf import runs
from ser_tf.errors import ConfigError
from ser_tf.settings import resolve
from ser_tf.training import runtime as runtime_lib
from ser_tf.training import transfer
from ser_tf.training.runner import load_bundle, run_training

RECIPE = {
    "seed": 3,
    "model": {"arch": "whisper", "preset": "whisper_test_tiny", "checkpoint": None, "dropout": 0.1},
    "features": {"kind": "whisper_logmel"},
    "audio": {"duration": 0.5, "train_crop": "center"},
    "augment": {"noise": {"enabled": False}, "shift": {"enabled": False}},
    "data": {"labels": "ravdess8"},
    "train": {"epochs": 2, "batch_size": 8, "optimizer": "adamw",
              "early_stopping": {"monitor": "val_ua", "patience": 5},
              "encoder_cache": {"dtype": "float32"}},
}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(tmp_path_factory.mktemp("demo"), n_speakers=6, clips_per_emotion=1)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _config(demo_root, *overrides):
    return resolve(RECIPE, flags={"data.corpora": [f"demo={demo_root}"]}, overrides=list(overrides))


def _train_one_split(config, fold_dir):
    from ser_tf.data import splits as splits_lib

    runtime_lib.set_seed(config.seed)
    rt = runtime_lib.resolve_runtime(train=config.train)
    strategy = runtime_lib.apply_runtime(rt)
    bundle = load_bundle(config, require_all=True)
    split = splits_lib.splits_from_config(bundle.records, data=config.data, seed=config.seed)[0]
    plan = transfer.transfer_plan(config)
    fold_dir.mkdir(parents=True)
    out = transfer.train_transfer(split, bundle, config, plan=plan, fold_dir=fold_dir, rt=rt,
                                  strategy=strategy, verbose=0, log=lambda *_: None)
    return (*out, split, bundle)


def _waveforms(records, bundle, config):
    from ser_tf.data.pipeline import make_dataset

    ds = make_dataset(records, bundle.labels_array(records), audio=config.audio, training=False,
                      batch_size=64, seed=0, cache="none")
    return np.concatenate([x.numpy() for x, _ in ds])


def test_plan_follows_model_freeze_and_the_cache_switch(demo_root):
    plan = transfer.transfer_plan(_config(demo_root))
    assert (plan.recipe, plan.top_k, plan.views) == ("frozen", 0, 0)
    plan = transfer.transfer_plan(_config(demo_root, "model.freeze=top_k", "model.finetune_layers=1"))
    assert (plan.recipe, plan.top_k) == ("partial", 1)
    assert transfer.transfer_plan(_config(demo_root, "model.freeze=none")) is None
    assert transfer.transfer_plan(_config(demo_root, "train.encoder_cache.enabled=false")) is None
    assert transfer.transfer_plan(resolve({})) is None  # cnn_lstm: no encoder to cache


@pytest.mark.parametrize("overrides, message", [
    (["augment.noise.enabled=true"], "augment.noise"),
    (["augment.speed.enabled=true"], "augment.speed"),
    (["augment.gain.enabled=true"], "augment.gain"),
    (["audio.train_crop=random"], "audio.train_crop: random"),
    (["augment.specaugment.enabled=true"], "SpecAugment"),
    (["train.encoder_lr_scale=0"], "train.encoder_lr_scale"),
    (["train.encoder_cache.frame_dropout=1.0"], "frame_dropout"),
])
def test_augmentation_the_cache_cannot_honour_is_refused(demo_root, overrides, message):
    with pytest.raises(ConfigError, match=message):
        transfer.transfer_plan(_config(demo_root, *overrides))


def test_augmentation_with_views_is_accepted(demo_root):
    plan = transfer.transfer_plan(_config(demo_root, "augment.noise.enabled=true", "audio.train_crop=random",
                                          "train.encoder_cache.views=2"))
    assert plan.views == 2


def test_frozen_recipe_exports_a_waveform_model_that_predicts_as_the_head_on_the_cache(
        demo_root, private_cache, tmp_path):
    config = _config(demo_root)
    model, y_prob, y_true, records, record, split, bundle = _train_one_split(config, tmp_path / "fold")
    assert record["recipe"] == "frozen" and record["cache"]["misses"] == len(bundle.records)
    assert len(y_prob) == len(records) == len(y_true) == len(split.test)
    waves = _waveforms(records, bundle, config)
    np.testing.assert_allclose(model.predict(waves, verbose=0), y_prob, atol=1e-5)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(waves, verbose=0), y_prob, atol=1e-5)
    assert (tmp_path / "fold" / "training_history.csv").is_file()


def test_partial_recipe_trains_the_top_layers_at_a_lower_rate(demo_root, private_cache, tmp_path):
    from ser_tf.models import transfer as views_lib

    def moved(scale):
        config = _config(demo_root, "model.freeze=top_k", "model.finetune_layers=1", "train.epochs=1",
                         f"train.encoder_lr_scale={scale}", "train.learning_rate=0.01",
                         "train.early_stopping.monitor=val_loss")
        runtime_lib.set_seed(config.seed)
        from ser_tf.models.registry import build_model

        fresh = build_model("whisper", num_classes=8, config=config)
        before = {v.path: v.numpy() for v in fresh.trainable_variables}
        model, _, _, _, record, _, bundle = _train_one_split(config, tmp_path / f"fold-{scale}")
        records.append(record)
        after = {v.path: v.numpy() for v in model.trainable_variables}
        head = {v.path for v in views_lib.head_view(model).trainable_variables}
        top = {p for p in after if "encoder_layer_1" in p}
        lower = {p for p in after if "encoder_layer_0" in p}
        assert top and not lower  # only the top layer of the encoder trains
        delta = lambda names: sum(float(np.abs(after[p] - before[p]).sum()) for p in names)  # noqa: E731
        return delta(top), delta(head)

    records = []
    slow_encoder, slow_head = moved(0.01)
    full_encoder, full_head = moved(1.0)
    assert records[0]["recipe"] == "partial" and records[0]["top_k"] == 1
    assert records[0]["encoder_learning_rates"] == [pytest.approx(1e-4)]
    # The lower states do not depend on the top layer: the second run reads them all back.
    assert records[0]["cache"]["hits"] == 0 and records[1]["cache"]["misses"] == 0
    assert 0 < slow_encoder < 0.1 * full_encoder
    assert slow_head > 0.3 * full_head  # the head keeps its own rate


def test_views_cache_augmented_copies_and_frame_dropout_runs(demo_root, private_cache, tmp_path):
    config = _config(demo_root, "train.encoder_cache.views=1", "augment.noise.enabled=true",
                     "train.encoder_cache.frame_dropout=0.2", "train.epochs=1")
    *_, record, split, bundle = _train_one_split(config, tmp_path / "fold")
    assert record["cache_views"] == 1
    assert record["cache"]["misses"] == len(bundle.records) + len(split.train)


def test_kfold_reuses_the_cache_across_folds_and_exports_by_validation(demo_root, private_cache, tmp_path):
    config = _config(demo_root, "data.split=kfold", "data.n_folds=3", "data.only_folds=[1, 2]",
                     "train.epochs=1", "train.encoder_cache.dtype=float16")
    lines = []
    result = run_training(config, run_dir=tmp_path / "run", verbose=0, log=lines.append)
    run = runs.RunFolder(result.run_dir)
    caches = [json.loads(run.fold(i).report.metrics.read_text())["protocol"]["transfer"]["cache"]
              for i in (1, 2)]
    n = len(load_bundle(config).records)
    assert caches[0]["misses"] == n and (caches[1]["hits"], caches[1]["misses"]) == (n, 0)
    assert any("encoder cache" in line for line in lines)
    resolved = yaml.safe_load(run.config.read_text())["resolved"]["training"]
    assert resolved["recipe"] == "frozen" and resolved["cache_dtype"] == "float16"
    for path in (*run.model_files, run.export, run.fold(2).model_keras, run.report.metrics):
        assert path.is_file(), path


def test_cache_off_trains_end_to_end_on_waveforms(demo_root, private_cache, tmp_path):
    config = _config(demo_root, "train.encoder_cache.enabled=false", "train.epochs=1")
    result = run_training(config, run_dir=tmp_path / "run", verbose=0, log=lambda *_: None)
    run = runs.RunFolder(result.run_dir)
    assert run.model_keras.is_file() and not private_cache.exists()
    assert "transfer" not in json.loads(run.report.metrics.read_text())["protocol"]
    assert yaml.safe_load(run.config.read_text())["resolved"]["training"] == {"recipe": "end_to_end"}


def test_final_model_split_encodes_no_test_part_and_reports_no_test_metrics(demo_root, private_cache, tmp_path):
    config = _config(demo_root, "data.test_fraction=0", "train.epochs=1")
    lines = []
    result = run_training(config, run_dir=tmp_path / "run", verbose=0, log=lines.append)
    run = runs.RunFolder(result.run_dir)
    assert [r.metrics for r in result.results] == [None] and result.summary["test"] is None
    metrics = json.loads(run.report.metrics.read_text())
    assert metrics["test"] is None and "ua" not in metrics
    n = len(load_bundle(config).records)
    assert metrics["protocol"]["transfer"]["cache"]["misses"] == n  # train + val: every clip, once
    assert metrics["protocol"]["test"]["n_clips"] == 0
    for path in (*run.model_files, run.labels, run.selection, run.history_csv):
        assert path.is_file(), path
    assert any("no test speakers" in line for line in lines)


def test_rate_groups_give_each_layer_below_the_top_a_decayed_rate():
    class V:
        def __init__(self, path):
            self.path = path

    variables = [V("encoder/encoder_layer_2/kernel"), V("encoder/layer_norm/gamma"),
                 V("encoder/encoder_layer_3/kernel"), V("encoder/encoder_layer_3/bias")]
    groups = transfer.rate_groups(variables, base_rate=1e-3, scale=0.1, decay=0.5)
    assert [(pytest.approx(rate), [v.path for v in vs]) for rate, vs in groups] == [
        (pytest.approx(1e-4), ["encoder/layer_norm/gamma", "encoder/encoder_layer_3/kernel",
                               "encoder/encoder_layer_3/bias"]),
        (pytest.approx(5e-5), ["encoder/encoder_layer_2/kernel"]),
    ]
    assert len(transfer.rate_groups(variables, base_rate=1e-3, scale=0.1, decay=1.0)) == 1


def test_resume_continues_an_interrupted_transfer_fold(demo_root, private_cache, tmp_path):
    class Interrupted(Exception):
        pass

    original = keras.callbacks.CSVLogger.on_epoch_end

    def interrupt_after_second_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 1:
            raise Interrupted

    config = _config(demo_root, "train.epochs=3", "train.early_stopping.patience=10")
    keras.callbacks.CSVLogger.on_epoch_end = interrupt_after_second_epoch
    try:
        with pytest.raises(Interrupted):
            run_training(config, run_dir=tmp_path / "run", verbose=0, log=lambda *_: None)
    finally:
        keras.callbacks.CSVLogger.on_epoch_end = original
    run = runs.RunFolder(tmp_path / "run")
    assert run.backup.exists() and not run.model_keras.exists()
    run_training(config, run_dir=tmp_path / "run", resume=True, verbose=0, log=lambda *_: None)
    epochs = [row.split(",")[0] for row in run.history_csv.read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"] and run.model_keras.is_file() and not run.backup.exists()


@pytest.mark.parametrize("freeze, recipe", [("all", "frozen"), ("top_k", "partial")])
def test_the_hubert_family_runs_the_same_cached_recipes(demo_root, private_cache, tmp_path, freeze, recipe):
    hubert = {"model": {"arch": "hubert_tiny", "freeze": freeze, "finetune_layers": 1, "dropout": 0.1},
              "features": {"kind": "raw"}}
    config = resolve({**RECIPE, **hubert}, flags={"data.corpora": [f"demo={demo_root}"]})
    model, y_prob, _, records, record, _, bundle = _train_one_split(config, tmp_path / "fold")
    assert record["recipe"] == recipe and record["cache"]["misses"] == len(bundle.records)
    np.testing.assert_allclose(model.predict(_waveforms(records, bundle, config), verbose=0), y_prob, atol=1e-5)


def test_hubert_freeze_and_freeze_layers_exclude_each_other(demo_root):
    from ser_tf.models.registry import build_model

    config = resolve({**RECIPE, "model": {"arch": "hubert_tiny", "freeze": "all", "freeze_layers": 1},
                      "features": {"kind": "raw"}}, flags={"data.corpora": [f"demo={demo_root}"]})
    with pytest.raises(ConfigError, match="freeze='all' and model.freeze_layers=1"):
        build_model("hubert_tiny", num_classes=3, config=config)


@pytest.mark.parametrize("recipe", ["whisper", "whisper_tiny", "whisper_tiny_en", "whisper_base", "whisper_small",
                                    "whisper_medium", "whisper_large_v3", "ravdess_whisper"])
def test_every_whisper_recipe_resolves_to_the_cached_frozen_recipe(recipe):
    from ser_tf.config import load_config, recipe_path

    plan = transfer.transfer_plan(resolve(load_config(recipe_path(recipe))))
    assert plan.recipe == "frozen" and plan.views == (3 if recipe == "ravdess_whisper" else 0)
