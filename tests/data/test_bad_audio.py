"""The bad-input corpus (``tests/fixtures/bad_audio.py``) through the library's audio reader, the
corpus scanner and its CLI (``python -m ser_tf.data``) and the ``tf.data`` pipeline (issue 14)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ser_tf.data.audio_io import check_training_clip, load_audio, probe_audio
from ser_tf.errors import AudioError
from tests.fixtures.bad_audio import OK, REFUSED, by_name, make_bad_audio, voice, _write


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A folder corpus in a non-ASCII folder: every case under ``happy/``, 4 good clips each under
    ``sad/`` and ``neutral/``. Returns ``(root, cases)``."""
    root = tmp_path_factory.mktemp("bad_corpus") / "corpus_é_声"
    cases = make_bad_audio(root / "happy")
    for k, emotion in enumerate(("sad", "neutral")):
        (root / emotion).mkdir()
        for i in range(4):
            _write(root / emotion / f"{emotion}{i}.wav", voice(seed=1000 + 10 * k + i))
    return root, cases


def _files(cases):
    """The cases a scanner sees as files (a directory named like a clip is walked into, not read)."""
    return [c for c in cases if c.name != "directory"]


def test_every_case_is_decoded_or_refused_naming_the_file_and_reason(corpus):
    _, cases = corpus
    for case in cases:
        if case.expected == OK and case.name != "two_hours":
            wave = load_audio(case.path)
            assert wave.dtype == np.float32 and wave.ndim == 1 and np.isfinite(wave).all(), case.name
            continue
        with pytest.raises(AudioError) as caught:
            info = probe_audio(case.path)  # a header problem
            check_training_clip(case.path, info)  # too long for a corpus, or NaN/Inf samples
        message = str(caught.value).lower()
        assert str(case.path).lower() in message, message
        assert any(word in message for word in case.reason), (case.name, message)


@pytest.mark.parametrize("rate, ok", [(3999, False), (4000, True), (384000, True), (384001, False)])
def test_sample_rate_range_edges(tmp_path, rate, ok):
    from tests.fixtures.bad_audio import _pcm16, wav_header

    path = tmp_path / f"r{rate}.wav"
    path.write_bytes(wav_header(frames=rate // 10, sr=rate) + _pcm16(voice(0.1, sr=rate)))
    if ok:
        assert probe_audio(path).sample_rate == rate
        return
    with pytest.raises(AudioError, match=f"{path}: declares a sample rate of {rate} Hz, outside the "
                                         "accepted 4000-384000 Hz"):
        load_audio(path)


def test_load_data_keeps_every_good_file_and_accounts_for_every_bad_one(corpus):
    from ser_tf.data.manifest import load_data

    root, cases = corpus
    with pytest.warns(UserWarning):
        bundle = load_data([f"folder={root}"], labels="auto")
    kept = {r.path for r in bundle.records}
    skipped = dict(bundle.skipped)
    files = _files(cases)
    for case in files:
        if case.expected == OK:
            assert str(case.path) in kept, case.name
        else:
            assert any(w in skipped[str(case.path)].lower() for w in case.reason), case.name
    good = sum(c.expected == OK for c in files)
    # Every file is either used or skipped with a reason: nothing silently lost.
    assert len(kept) == good + 8 and len(skipped) == len(files) - good and not bundle.duplicates


def test_the_scanner_cli_counts_what_it_skipped_with_names_as_written(corpus):
    root, cases = corpus
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONIOENCODING="ascii")  # JSON is UTF-8 anyway
    proc = subprocess.run([sys.executable, "-m", "ser_tf.data", "--data", f"folder={root}", "--split", "random",
                           "--json"], capture_output=True, env=env, timeout=120)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr
    summary = json.loads(proc.stdout.decode("utf-8"))
    refused = [c for c in _files(cases) if c.expected == REFUSED]
    assert sorted(s["path"] for s in summary["skipped"]) == sorted(str(c.path) for c in refused)
    assert f"left out {len(refused)} unreadable or empty audio file(s)" in stderr
    assert summary["n_clips"] == sum(c.expected == OK for c in _files(cases)) + 8
    assert "corpus_é_声/happy/nan.wav" in proc.stdout.decode("utf-8")  # as written, not \u00e9...


def test_pipeline_decodes_the_valid_and_skips_the_invalid_with_a_count(corpus, caplog):
    from ser_tf.data.pipeline import make_dataset

    _, cases = corpus
    files = _files(cases)
    with caplog.at_level("WARNING", logger="ser_tf.data.pipeline"):
        ds = make_dataset([c.path for c in files], np.zeros(len(files), np.int32), audio={"duration": 0.5},
                          training=False, batch_size=64, seed=0, cache="none")
        waves = np.concatenate([w.numpy() for w, _ in ds])
    refused = [c for c in files if c.expected == REFUSED]
    assert waves.shape == (len(files) - len(refused), 8000) and np.isfinite(waves).all()
    assert f"skipped {len(refused)} of {len(files)} files" in caplog.text
    for case in refused:
        assert str(case.path) in caplog.text, case.name
    assert by_name(cases)["two_hours"].expected == REFUSED  # never decoded whole by the pipeline
