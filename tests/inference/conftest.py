"""Fixtures for the inference tests: one tiny trained run folder and one loaded Predictor."""

import pytest

from tests.inference import support


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """A models folder holding one run and the ``latest`` pointer to it."""
    root = tmp_path_factory.mktemp("models")
    support.make_run_folder(root)
    return root


@pytest.fixture(scope="session")
def run_dir(models_dir):
    from ser_tf.runs import latest_run

    return latest_run(models_dir).path


@pytest.fixture(scope="session")
def predictor(run_dir):
    from ser_tf.inference.predictor import Predictor

    return Predictor(run_dir)
