import pytest

from ser_tf.config import apply_overrides, deep_merge, dump_config, load_config, parse_override, recipe_path
from ser_tf.errors import ConfigError


def test_recipes_name_only_what_they_change():
    # The defaults live in ser_tf.settings; a recipe inherits no base file for them.
    assert load_config(recipe_path("cnn_lstm")) == {
        "model": {"arch": "cnn_lstm", "conv_filters": [32, 64], "pool_size": 2, "rnn_units": 128,
                  "dense_units": 128}
    }


def test_base_chain_and_deep_merge(tmp_path):
    (tmp_path / "a.yaml").write_text("x: {y: 1, z: 2}\nkeep: 3\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nx: {y: 10}\n")
    assert load_config(tmp_path / "b.yaml") == {"x": {"y": 10, "z": 2}, "keep": 3}
    assert deep_merge({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


def test_base_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="inherits from itself"):
        load_config(tmp_path / "a.yaml")


def test_override_values_are_parsed_as_yaml():
    config = {"train": {"learning_rate": 0.1, "epochs": 1, "flag": False}, "model": {"arch": "x"}}
    out = apply_overrides(config, ["train.learning_rate=3e-4", "train.epochs=5", "train.flag=true", "model.units=8"])
    assert out["train"] == {"learning_rate": 3e-4, "epochs": 5, "flag": True}
    assert out["model"]["units"] == 8  # the model section accepts new hyper-parameters
    assert config["train"]["epochs"] == 1  # the input is not modified


@pytest.mark.parametrize("text, message", [
    ("train.lerning_rate=1", "unknown config key 'train.lerning_rate'.*learning_rate"),
    ("nope.x=1", "unknown config key 'nope'"),
    ("train.epochs", "expected key.sub=value"),
    ("=3", "expected key.sub=value"),
])
def test_bad_override_names_the_key_and_what_exists(text, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides({"train": {"learning_rate": 1, "epochs": 1}}, [text])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_dump_round_trips():
    config = load_config(recipe_path("hubert"))
    import yaml

    assert yaml.safe_load(dump_config(config)) == config
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
