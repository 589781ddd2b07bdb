"""Fixtures for the data tests: tiny audio files written into ``tmp_path``."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture
def write_wav():
    """``write_wav(path, seconds=0.1)``: write a short 16 kHz 16-bit noise WAV, creating folders.

    Scanners parse names only, but the files are real audio so a later loader test could read them.
    """
    rng = np.random.default_rng(0)

    def _write(path, seconds: float = 0.1) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        audio = 0.1 * rng.standard_normal(int(16000 * seconds))
        sf.write(path, audio.astype(np.float32), 16000, subtype="PCM_16", format="WAV")
        return path

    return _write


@pytest.fixture
def touch():
    """``touch(path, data=b"...")``: write a non-audio (or fake audio) file, creating folders."""

    def _touch(path, data: bytes = b"not audio") -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return _touch


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """A demo corpus of 2 speakers x 8 emotions x 1 clip, generated once per session."""
    from ser_tf.data.corpora.demo import ensure_demo_corpus

    return ensure_demo_corpus(
        tmp_path_factory.mktemp("demo") / "corpus", n_speakers=2, clips_per_emotion=1
    )


@pytest.fixture(scope="session")
def shard_export(tmp_path_factory):
    """``(corpus folder, shard folder)``: a demo corpus of 4 speakers x 8 emotions x 1 clip,
    exported once per session as 7 shards of at most 5 clips, with a speaker split (seed 7).
    Tests that damage shards copy the folder first."""
    from ser_tf.data.corpora.demo import ensure_demo_corpus
    from ser_tf.data.manifest import load_data
    from ser_tf.data.shards import export_shards
    from ser_tf.data.splits import make_splits

    root = tmp_path_factory.mktemp("shards")
    corpus = ensure_demo_corpus(root / "corpus", n_speakers=4, clips_per_emotion=1)
    bundle = load_data([f"demo={corpus}"])
    splits = make_splits(bundle.records, method="speaker", seed=7)
    export_shards(bundle.records, classes=bundle.label_set.classes, out=str(root / "shards"), splits=splits,
                  shard_size=5, label_set_name=bundle.label_set.name,
                  extra={"roots": dict(bundle.roots), "is_demo": True})
    return corpus, root / "shards"
