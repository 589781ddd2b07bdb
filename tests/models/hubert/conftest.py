"""Tiny random Hugging Face checkpoints (torch + transformers, test-only deps) saved once per session."""

import numpy as np
import pytest

from tests.models.hubert.tiny_hf import save_tiny_checkpoints


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
    """``{name: folder}`` of tiny randomly initialised HF models (see ``tiny_hf.py``)."""
    return save_tiny_checkpoints(tmp_path_factory.mktemp("hf"))


@pytest.fixture
def audio(rng):
    """Two 1 s clips of random audio at 16 kHz (no exact zeros: see test_convert's note)."""
    return (0.1 * rng.standard_normal((2, 16000))).astype(np.float32)
