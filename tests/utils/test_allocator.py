"""train.py picks TensorFlow's pooling CPU allocator once, before TensorFlow starts; the user's value wins."""

from __future__ import annotations

import sys

import pytest

from ser_tf.utils import allocator

ENV = allocator.ENV


@pytest.fixture
def fresh(monkeypatch):
    """A process where use_pooling_allocator has not run and TensorFlow is not imported."""
    monkeypatch.setattr(allocator, "_in_effect", None)
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.delenv(ENV, raising=False)
    return monkeypatch


def test_sets_the_pool_when_unset(fresh):
    assert allocator.use_pooling_allocator() is True
    assert allocator.os.environ[ENV] == "true"


@pytest.mark.parametrize("value, pooled", [("false", False), ("0", False), ("TRUE", True), ("1", True)])
def test_the_users_value_wins(fresh, value, pooled):
    fresh.setenv(ENV, value)
    assert allocator.use_pooling_allocator() is pooled
    assert allocator.os.environ[ENV] == value


def test_only_the_first_call_decides(fresh):
    assert allocator.use_pooling_allocator() is True
    fresh.setenv(ENV, "false")
    assert allocator.use_pooling_allocator() is True  # decided once; TF has read it by now


def test_leaves_a_running_tensorflow_alone(fresh):
    fresh.setitem(sys.modules, "tensorflow", object())
    assert allocator.use_pooling_allocator() is False
    assert ENV not in allocator.os.environ


def test_train_cli_applies_it_before_tensorflow_starts(monkeypatch):
    from ser_tf.training import cli

    calls = []

    class Stop(Exception):
        pass

    def start_tensorflow(args):
        calls.append("start_tensorflow")
        raise Stop

    monkeypatch.setattr(cli, "use_pooling_allocator", lambda: calls.append("allocator"))
    monkeypatch.setattr(cli, "start_tensorflow", start_tensorflow)
    with pytest.raises(Stop):
        cli.main(["--arch", "cnn_lstm", "--epochs", "1"])
    assert calls == ["allocator", "start_tensorflow"]
