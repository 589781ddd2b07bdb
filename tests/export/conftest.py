"""Fixtures for the export tests: the suite's one tiny trained run (``tests/inference/support``,
trained once per process) and probe clips of its three synthetic voices."""

import numpy as np
import pytest

from tests.inference import support


@pytest.fixture(scope="session")
def export_run(tmp_path_factory):
    """A run folder holding the tiny trained ``cnn_lstm_small`` (1 s window, 3 classes)."""
    return support.make_run_folder(tmp_path_factory.mktemp("export_models"), latest=False)


@pytest.fixture(scope="session")
def probes():
    """``(6, 16000)`` float32: each voice loud and quiet, held out from the training clips."""
    return np.stack([support.voice(kind, support.WINDOW_S, amp=amp, seed=500 + i)
                     for i, kind in enumerate(support.CLASSES) for amp in (0.05, 0.3)])


@pytest.fixture(scope="session")
def keras_probabilities(export_run, probes):
    """The Keras model's probabilities on ``probes``: what every export is compared with."""
    from ser_tf.inference.predictor import Predictor

    return Predictor(export_run).predict_batch(probes)
