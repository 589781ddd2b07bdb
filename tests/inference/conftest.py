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


@pytest.fixture(scope="session")
def default_model_file():
    """The bundled default model, assembled once into the suite's private cache ($SER_TF_CACHE)."""
    from ser_tf import pretrained

    return pretrained.default_model_path()
