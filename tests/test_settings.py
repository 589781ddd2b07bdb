"""The typed config (ser_tf.settings): built once, refusing unknown keys, wrong types and missing
corpus folders with a message that names the key and the value."""

import dataclasses

import pytest
import yaml

from ser_tf.config import CONFIG_DIR, load_config
from ser_tf.errors import ConfigError
from ser_tf.settings import AudioConfig, SerConfig, TrainConfig, from_run_config, resolve


@pytest.mark.parametrize("recipe", sorted(p.name for p in CONFIG_DIR.glob("*.yaml")))
def test_every_recipe_resolves(recipe):
    config = resolve(load_config(CONFIG_DIR / recipe))
    assert config.arch == config["model"]["arch"]
    assert isinstance(config.train, TrainConfig)


def test_defaults_are_the_dataclass_fields():
    config = resolve({})
    assert config == SerConfig()
    assert config.audio.sample_rate == 16000 and config.train.epochs == 100
    assert config.augment.noise.enabled and not config.augment.pitch.enabled


def test_sections_read_as_mappings_and_are_frozen():
    config = resolve({"audio": {"duration": 1}})
    assert config["audio"]["duration"] == 1.0 and isinstance(config.audio.duration, float)
    assert dict(config.get("audio")) == dataclasses.asdict(config.audio)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.audio.duration = 2.0
    with pytest.raises(TypeError):
        config.model["arch"] = "x"


def test_dump_round_trips_through_a_run_folder():
    config = resolve({"model": {"arch": "cnn", "dense_units": 8}}, overrides=["data.only_folds=[1, 2]"])
    raw = yaml.safe_load(config.dump())
    raw["resolved"] = {"splits": {}}  # what a run records beside its config
    assert from_run_config(raw) == config
    assert config.data.only_folds == (1, 2)


@pytest.mark.parametrize("recipe, key", [
    ({"trian": {"epochs": 1}}, "'trian'"),
    ({"train": {"epoch": 1}}, "'train.epoch'"),
    ({"augment": {"noise": {"std": 0.1}}}, "'augment.noise.std'"),
    ({"train": {"early_stopping": {"paitence": 3}}}, "'train.early_stopping.paitence'"),
])
def test_unknown_yaml_key_names_key_value_and_valid_keys(recipe, key):
    with pytest.raises(ConfigError, match=f"unknown config key {key}.*value.*valid keys"):
        resolve(recipe)


def test_unknown_set_key_names_key_value_and_valid_keys():
    with pytest.raises(ConfigError, match=r"'train.epoch'.*train.epoch=3.*'epochs'"):
        resolve({}, overrides=["train.epoch=3"])


@pytest.mark.parametrize("recipe, overrides, message", [
    ({"train": {"epochs": "ten"}}, [], r"train.epochs must be an integer, got 'ten'"),
    ({}, ["train.learning_rate=fast"], r"train.learning_rate must be a number, got 'fast'"),
    ({}, ["audio.sample_rate=true"], r"audio.sample_rate must be an integer, got True"),
    ({"augment": {"bandpass": {"low_hz": [50.0]}}}, [], r"augment.bandpass.low_hz.*\[50.0\]"),
    ({"data": {"corpora": "ravdess=x"}}, [], r"data.corpora must be a list, got 'ravdess=x'"),
    ({"train": {"jit_compile": 1}}, [], r"train.jit_compile must be bool or str, got 1"),
])
def test_wrong_type_names_key_and_value(recipe, overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve(recipe, overrides=overrides)


def test_missing_corpus_path_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"data.corpora.*'folder='"):
        resolve({}, flags={"data.corpora": ["folder="]})
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=rf"data.corpora.*'folder={missing}'.*does not exist"):
        resolve({"data": {"corpora": [f"folder={missing}"]}})
    # A finished run's corpora may have moved: reading its config does not check them.
    assert from_run_config({"data": {"corpora": [f"folder={missing}"]}}).data.corpora


def test_sections_check_types_when_built_directly():
    with pytest.raises(ConfigError, match="audio.duration must be a number, got '3s'"):
        AudioConfig(duration="3s")
    with pytest.raises(ConfigError, match="model.arch"):
        SerConfig(model={"dropout": 0.1})


def test_transfer_keys_default_in_the_train_section_and_are_checked():
    config = resolve({}, overrides=["train.encoder_cache.views=2", "train.encoder_lr_scale=0.05"])
    cache = config.train.encoder_cache
    assert (cache.enabled, cache.views, cache.dtype, cache.frame_dropout) == (True, 2, "float16", 0.0)
    assert config.train.encoder_lr_scale == 0.05 and config.train.layer_lr_decay == 1.0
    with pytest.raises(ConfigError, match="train.encoder_cache.views"):
        resolve({"train": {"encoder_cache": {"views": "two"}}})
    with pytest.raises(ConfigError, match="'train.encoder_cache.size'"):
        resolve({"train": {"encoder_cache": {"size": 3}}})
