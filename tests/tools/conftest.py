"""Fixtures of the tools' tests: the tiny HF checkpoints of the HuBERT conversion tests."""

import pytest

from tests.models.hubert.tiny_hf import save_tiny_checkpoints


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
    """``{name: folder}`` of tiny randomly initialised HF models (see ``tests/models/hubert/tiny_hf.py``)."""
    return save_tiny_checkpoints(tmp_path_factory.mktemp("hf"))
