"""The architectures of this package in ser_tf.models.registry, and their recipes."""

import pytest

from ser_tf.config import CONFIG_DIR, load_config
from ser_tf.errors import ParameterError
from ser_tf.models.registry import build_model, get_arch, list_archs

OURS = ("cnn_gru", "cnn_lstm", "cnn_lstm_small", "cnn_lstm_l2", "cnn", "bilstm_mfcc",
        "crnn_attention")


def test_archs_are_registered_with_descriptions():
    archs = list_archs()
    for name in OURS:
        assert name in archs and archs[name]


def test_unknown_arch_lists_the_choices():
    with pytest.raises(ParameterError, match=r"'resnet'.*cnn_lstm") as err:
        get_arch("resnet")
    for name in OURS:
        assert name in str(err.value)
    with pytest.raises(ParameterError, match="num_classes"):
        build_model("cnn_lstm", num_classes=1, config={})


# Full-size recipes, built but not run: (arch, input samples, parameter range).
RECIPES = [
    ("cnn_gru", 48000, (3e5, 1e6)),
    ("cnn_lstm", 48000, (3e5, 1e6)),
    ("cnn_lstm_small", 48000, (3e4, 2e5)),
    ("cnn_lstm_l2", 48000, (3e5, 1e6)),
    ("cnn", 48000, (1e6, 1e7)),
    ("bilstm_mfcc", 160000, (1e6, 5e6)),
    ("crnn_attention", 48000, (1e5, 5e5)),
]


@pytest.mark.parametrize("arch, samples, params", RECIPES)
def test_recipe_builds(arch, samples, params):
    config = load_config(CONFIG_DIR / f"{arch}.yaml")
    assert config["model"]["arch"] == arch
    model = build_model(arch, num_classes=8, config=config)
    assert model.input_shape == (None, samples) and model.output_shape == (None, 8)
    assert params[0] < model.count_params() < params[1], model.count_params()


def test_l2_recipe_sets_l2():
    config = load_config(CONFIG_DIR / "cnn_lstm_l2.yaml")
    model = build_model("cnn_lstm_l2", num_classes=8, config=config)
    assert model.get_layer("conv_1").kernel_regularizer.l2 == pytest.approx(0.001)
